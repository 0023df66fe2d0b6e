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

grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view call) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  if (!IsInternalFailure(status)) return grpc::Status(code, std::string(status.message()));
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
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace forecast
