// Conversion of domain errors (absl::Status) to gRPC answers. Only the gRPC layer calls this.
#ifndef SERVICES_COMMON_STATUS_H_
#define SERVICES_COMMON_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace forecast {

// Maps the code 1:1 (absl and gRPC share the canonical codes) and keeps the message.
// Thread-safe (pure).
grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse, for clients that call other services and report in absl terms. Thread-safe.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace forecast

#endif  // SERVICES_COMMON_STATUS_H_
