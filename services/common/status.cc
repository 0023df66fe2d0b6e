#include "services/common/status.h"

#include <cstdio>
#include <random>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace forecast {
namespace {

// JSON string escaping for the log line (control characters, quotes, backslashes).
std::string JsonEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<int>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

constexpr char kTypePrefix[] = "type.googleapis.com/";

std::string TypeUrl(const google::protobuf::Message& message) {
  return absl::StrCat(kTypePrefix, message.GetDescriptor()->full_name());
}

void Attach(absl::Status& status, const google::protobuf::Message& detail) {
  status.SetPayload(TypeUrl(detail), absl::Cord(detail.SerializeAsString()));
}

google::rpc::ErrorInfo Info(absl::string_view reason, const ErrorParams& params) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(kErrorDomain);
  for (const auto& [name, value] : params) (*info.mutable_metadata())[name] = value;
  return info;
}

google::rpc::BadRequest Violation(absl::string_view field, absl::string_view english) {
  google::rpc::BadRequest bad;
  auto* violation = bad.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_description(std::string(english));
  return bad;
}

// The leading "field: " of a validation message, if it has that shape.
std::string FieldOfMessage(absl::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos || colon == 0 || colon > 64) return "";
  for (char c : message.substr(0, colon)) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) return "";
  }
  return std::string(message.substr(0, colon));
}

// A domain answer as gRPC: the code, the message and the details (payloads with a type URL).
grpc::Status WithDetails(const absl::Status& status) {
  const auto code = static_cast<grpc::StatusCode>(status.code());
  google::rpc::Status details;
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& value) {
    if (!absl::StartsWith(type_url, kTypePrefix)) return;
    auto* any = details.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(value));
  });
  // A validation message that names its field says so machine-readably too.
  const std::string bad_request_url = TypeUrl(google::rpc::BadRequest());
  if (status.code() == absl::StatusCode::kInvalidArgument && !status.GetPayload(bad_request_url)) {
    const std::string field = FieldOfMessage(status.message());
    if (!field.empty()) {
      auto* any = details.add_details();
      any->set_type_url(bad_request_url);
      any->set_value(
          Violation(field, status.message().substr(field.size() + 2)).SerializeAsString());
    }
  }
  if (details.details_size() == 0) return grpc::Status(code, std::string(status.message()));
  details.set_code(static_cast<int>(code));
  details.set_message(std::string(status.message()));
  return grpc::Status(code, std::string(status.message()), details.SerializeAsString());
}

}  // namespace

absl::Status MarkStorageFailure(absl::Status status) {
  if (!status.ok()) status.SetPayload(kStorageFailurePayload, absl::Cord("1"));
  return status;
}

bool IsInternalFailure(const absl::Status& status) {
  if (status.ok()) return false;
  if (status.GetPayload(kStorageFailurePayload).has_value()) return true;
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnavailable: return true;
    default: break;
  }
  const std::string message = absl::AsciiStrToLower(status.message());
  return absl::StrContains(message, "database") || absl::StrContains(message, "postgres") ||
         absl::StrContains(message, "pqxx") || absl::StrContains(message, "sql");
}

std::string NewRequestId() {
  thread_local std::mt19937_64 random(std::random_device{}() ^
                                      static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  return absl::StrFormat("%016x", random());
}

absl::Status FieldError(absl::string_view field, absl::string_view reason,
                        absl::string_view english, const ErrorParams& params) {
  return ReasonedError(absl::StatusCode::kInvalidArgument, reason, english, params, field);
}

absl::Status ReasonedError(absl::StatusCode code, absl::string_view reason,
                           absl::string_view english, const ErrorParams& params,
                           absl::string_view field) {
  absl::Status status(code,
                      field.empty() ? std::string(english) : absl::StrCat(field, ": ", english));
  if (!field.empty()) Attach(status, Violation(field, english));
  Attach(status, Info(reason, params));
  return status;
}

absl::Status CaseNotFound(absl::string_view case_ref) {
  return ReasonedError(absl::StatusCode::kNotFound, "CASE_NOT_FOUND",
                       absl::StrCat("case \"", case_ref, "\" not found"),
                       {{"case_ref", std::string(case_ref)}}, "case_ref");
}

absl::Status StaleVersion(absl::string_view case_ref, int64_t version, int64_t base_version) {
  return ReasonedError(absl::StatusCode::kAborted, "STALE_VERSION",
                       absl::StrCat("case ", case_ref, " is at version ", version,
                                    ", the write was based on ", base_version),
                       {{"case_ref", std::string(case_ref)},
                        {"version", absl::StrCat(version)},
                        {"base_version", absl::StrCat(base_version)}});
}

ErrorDetail DetailOf(const absl::Status& status) {
  ErrorDetail detail;
  if (auto bytes = status.GetPayload(TypeUrl(google::rpc::BadRequest()))) {
    google::rpc::BadRequest bad;
    if (bad.ParseFromString(std::string(*bytes)) && bad.field_violations_size() > 0) {
      detail.field = bad.field_violations(0).field();
    }
  }
  if (auto bytes = status.GetPayload(TypeUrl(google::rpc::ErrorInfo()))) {
    google::rpc::ErrorInfo info;
    if (info.ParseFromString(std::string(*bytes))) {
      detail.reason = info.reason();
      detail.params.insert(info.metadata().begin(), info.metadata().end());
    }
  }
  if (detail.field.empty() && status.code() == absl::StatusCode::kInvalidArgument) {
    detail.field = FieldOfMessage(status.message());
  }
  return detail;
}

grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view call) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  if (!IsInternalFailure(status)) return WithDetails(status);
  const std::string id = NewRequestId();
  std::fprintf(stderr,
               "{\"time\":\"%s\",\"level\":\"error\",\"request_id\":\"%s\",\"call\":\"%s\","
               "\"code\":\"%s\",\"detail\":\"%s\"}\n",
               absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()).c_str(),
               id.c_str(), JsonEscape(call).c_str(),
               absl::StatusCodeToString(status.code()).c_str(),
               JsonEscape(status.message()).c_str());
  std::string message;
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      message = "the service is temporarily unavailable; try again";
      break;
    case absl::StatusCode::kAborted:
      message = "the change collided with another one; try again";
      break;
    case absl::StatusCode::kAlreadyExists: message = "that already exists"; break;
    default: message = "internal error"; break;
  }
  return grpc::Status(code, absl::StrCat(message, " (request id ", id, ")"));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details())
      result.SetPayload(any.type_url(), absl::Cord(any.value()));
  }
  return result;
}

}  // namespace forecast
