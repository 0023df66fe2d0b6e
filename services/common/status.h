// Errors as the services report them, in ONE place: the canonical code, an English message for
// logs and developers, and machine-readable details that clients phrase in the user's language
// (google.rpc.BadRequest naming the field, google.rpc.ErrorInfo with a reason code and its
// parameters). Domain code builds errors with FieldError/ReasonedError; the gRPC layer turns them
// into gRPC answers with ToGrpcStatus, and clients turn answers back with FromGrpcStatus.
//
// Nothing internal reaches a client: a storage failure (a status built by StatusFromPqxx or the
// pool, or any INTERNAL / UNKNOWN / DATA_LOSS / UNAVAILABLE status, or any message that names
// the database) is answered with the same code and a short message carrying a fresh request id;
// the full status is written to stderr as one JSON line under that id, for the operator.
#ifndef SERVICES_COMMON_STATUS_H_
#define SERVICES_COMMON_STATUS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

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

inline constexpr char kErrorDomain[] = "jobcentre-forecast";

// Parameters of a reason, in order ("max" -> "2000").
using ErrorParams = std::vector<std::pair<std::string, std::string>>;

// INVALID_ARGUMENT about one request field. The message is "<field>: <english>"; the details say
// the field (BadRequest) and the reason with its parameters (ErrorInfo). Thread-safe (pure).
absl::Status FieldError(absl::string_view field, absl::string_view reason,
                        absl::string_view english, const ErrorParams& params = {});

// Any refusal with a reason code (PERMISSION_DENIED "NOT_ALLOWED", ABORTED "STALE_VERSION", ...).
// `field`, when not empty, is named in a BadRequest detail and prefixes the message.
// Thread-safe (pure).
absl::Status ReasonedError(absl::StatusCode code, absl::string_view reason,
                           absl::string_view english, const ErrorParams& params = {},
                           absl::string_view field = "");

// The refusals several places share, worded once. NOT_FOUND "CASE_NOT_FOUND" naming case_ref (also
// for another centre's case); ABORTED "STALE_VERSION" when a write's base version is not the
// stored one. Thread-safe (pure).
absl::Status CaseNotFound(absl::string_view case_ref);
absl::Status StaleVersion(absl::string_view case_ref, int64_t version, int64_t base_version);

// What a status's details say; empty strings and map when it has none. An INVALID_ARGUMENT
// without details whose message starts "<field>: " names that field. Thread-safe (pure).
struct ErrorDetail {
  std::string field;
  std::string reason;
  std::map<std::string, std::string> params;
};
ErrorDetail DetailOf(const absl::Status& status);

// Maps the code 1:1 (absl and gRPC share the canonical codes). Keeps the message of domain
// answers (INVALID_ARGUMENT naming the field, NOT_FOUND, PERMISSION_DENIED, ABORTED, ...) and
// their details (google.rpc.BadRequest / ErrorInfo, serialized as a google.rpc.Status);
// replaces the message of internal failures as described above. Thread-safe.
// `call` (the RPC's name) goes into the log line only.
grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view call = "");

// A new random request id (16 hex digits). Thread-safe.
std::string NewRequestId();

// The inverse, for clients and the gateway: the details come back as the status's payloads.
// Thread-safe.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace forecast

#endif  // SERVICES_COMMON_STATUS_H_
