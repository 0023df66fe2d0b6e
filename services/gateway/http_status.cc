#include "services/gateway/http_status.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "services/common/status.h"

namespace forecast::gateway {

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 502;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

absl::StatusCode CodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 400: return absl::StatusCode::kInvalidArgument;
    case 401: return absl::StatusCode::kUnauthenticated;
    case 403: return absl::StatusCode::kPermissionDenied;
    case 404: return absl::StatusCode::kNotFound;
    case 405:
    case 501: return absl::StatusCode::kUnimplemented;
    case 408:
    case 504: return absl::StatusCode::kDeadlineExceeded;
    case 409: return absl::StatusCode::kAborted;
    case 413:
    case 414:
    case 431: return absl::StatusCode::kOutOfRange;
    case 429: return absl::StatusCode::kResourceExhausted;
    case 502:
    case 503: return absl::StatusCode::kUnavailable;
    default: return absl::StatusCode::kInternal;
  }
}

std::string FieldOfMessage(absl::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos || colon == 0 || colon > 64) return "";
  const absl::string_view field = message.substr(0, colon);
  if (!absl::ascii_islower(static_cast<unsigned char>(field[0])) && field[0] != '_') return "";
  for (char ch : field) {
    const auto c = static_cast<unsigned char>(ch);
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && ch != '_' && ch != '.') return "";
  }
  return std::string(field);
}

std::string ErrorJson(const absl::Status& status, absl::string_view request_id) {
  // absl's names are "INVALID_ARGUMENT" etc., the same spelling gRPC uses.
  nlohmann::json body = {{"code", absl::StatusCodeToString(status.code())},
                         {"message", std::string(status.message())}};
  // The machine-readable details the service sent (services/common/status.h): the field, a
  // reason code and its parameters, for clients to phrase in the user's language.
  const ErrorDetail detail = DetailOf(status);
  const std::string field = detail.field.empty() ? FieldOfMessage(status.message()) : detail.field;
  if (!field.empty()) body["field"] = field;
  if (!detail.reason.empty()) body["reason"] = detail.reason;
  if (!detail.params.empty()) body["params"] = detail.params;
  body["request_id"] = std::string(request_id);
  // A message may quote client input; bytes that are not UTF-8 are replaced, not thrown on.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace forecast::gateway
