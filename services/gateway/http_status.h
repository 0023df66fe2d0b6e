// How a backend's answer (a canonical status code) becomes an HTTP status and a JSON error body.
#ifndef SERVICES_GATEWAY_HTTP_STATUS_H_
#define SERVICES_GATEWAY_HTTP_STATUS_H_

#include <string>

#include "absl/status/status.h"

namespace forecast::gateway {

// INVALID_ARGUMENT/OUT_OF_RANGE 400, UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
// ABORTED/FAILED_PRECONDITION/ALREADY_EXISTS 409, RESOURCE_EXHAUSTED 429, UNIMPLEMENTED 501,
// UNAVAILABLE 502, DEADLINE_EXCEEDED 504, anything else 500. OK is 200. Thread-safe (pure).
int HttpStatusFor(absl::StatusCode code);

// {"code":"INVALID_ARGUMENT","message":"..."}: the canonical code's name and the message as the
// service wrote it (services name the offending field there). Thread-safe (pure).
std::string ErrorJson(const absl::Status& status);

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_HTTP_STATUS_H_
