// How a backend's answer (a canonical status code) becomes an HTTP status and a JSON error body.
#ifndef SERVICES_GATEWAY_HTTP_STATUS_H_
#define SERVICES_GATEWAY_HTTP_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace forecast::gateway {

// INVALID_ARGUMENT/OUT_OF_RANGE 400, UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
// ABORTED/FAILED_PRECONDITION/ALREADY_EXISTS 409, RESOURCE_EXHAUSTED 429, UNIMPLEMENTED 501,
// UNAVAILABLE 502, DEADLINE_EXCEEDED 504, anything else 500. OK is 200. Thread-safe (pure).
int HttpStatusFor(absl::StatusCode code);

// The canonical code that best describes an HTTP error status the gateway answers itself
// (408 DEADLINE_EXCEEDED, 413/431 OUT_OF_RANGE, 405 UNIMPLEMENTED, ...). Thread-safe (pure).
absl::StatusCode CodeForHttpStatus(int http_status);

// {"code":"INVALID_ARGUMENT","message":"...","field":"staff_code","reason":"...","params":{...},
// "request_id":"..."}: the canonical code's name, the message as the service wrote it, the field
// (from the status's details, else the one the message names, "field: problem"; omitted when
// none), the reason code and its parameters when the service sent them
// (services/common/status.h), and the request id. Invalid UTF-8 in the message is
// replaced, never an error. Thread-safe (pure).
std::string ErrorJson(const absl::Status& status, absl::string_view request_id = "");

// The field a message names: "expected_month: must be YYYY-MM" -> "expected_month"; "" if none.
std::string FieldOfMessage(absl::string_view message);

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_HTTP_STATUS_H_
