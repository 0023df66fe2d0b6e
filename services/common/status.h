// Conversion of domain errors (absl::Status) to gRPC answers. Only the gRPC layer calls this.
//
// Nothing internal reaches a client: a storage failure (a status built by StatusFromPqxx or the
// pool, or any INTERNAL / UNKNOWN / DATA_LOSS / UNAVAILABLE status, or any message that names
// the database) is answered with the same code and a short message carrying a fresh request id;
// the full status is written to stderr as one JSON line under that id, for the operator.
#ifndef SERVICES_COMMON_STATUS_H_
#define SERVICES_COMMON_STATUS_H_

#include <string>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace forecast {

// Payload type URL that marks a status as a storage failure (set by MarkStorageFailure).
inline constexpr char kStorageFailurePayload[] = "type.forecast/storage-failure";

// Returns `status` marked as a storage failure, so ToGrpcStatus scrubs it. Thread-safe (pure).
absl::Status MarkStorageFailure(absl::Status status);

// True when ToGrpcStatus would replace the message of `status`. Thread-safe (pure).
bool IsInternalFailure(const absl::Status& status);

// Maps the code 1:1 (absl and gRPC share the canonical codes). Keeps the message of domain
// answers (INVALID_ARGUMENT naming the field, NOT_FOUND, PERMISSION_DENIED, ABORTED, ...);
// replaces the message of internal failures as described above. Thread-safe.
// `call` (the RPC's name) goes into the log line only.
grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view call = "");

// A new random request id (16 hex digits). Thread-safe.
std::string NewRequestId();

// The inverse, for clients that call other services and report in absl terms. Thread-safe.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace forecast

#endif  // SERVICES_COMMON_STATUS_H_
