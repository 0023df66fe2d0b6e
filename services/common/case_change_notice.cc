#include "services/common/case_change_notice.h"

#include <nlohmann/json.hpp>

#include "absl/time/clock.h"

namespace forecast {

CaseChangeNotice CaseChangeNotice::ForCase(int64_t centre_id, int64_t case_id, int64_t version,
                                           std::string kind) {
  CaseChangeNotice notice;
  notice.centre_id = centre_id;
  notice.case_id = case_id;
  notice.version = version;
  notice.kind = std::move(kind);
  notice.written_at = absl::Now();
  return notice;
}

std::string CaseChangeNotice::ToPayload() const {
  nlohmann::json j;
  j["job_centre_id"] = centre_id;
  switch (scope) {
    case Scope::kCase:
      j["case_id"] = case_id;
      j["version"] = version;
      j["kind"] = kind;
      break;
    case Scope::kBulk: j["kind"] = "BULK"; break;
    case Scope::kResync: j["kind"] = "RESYNC"; break;
  }
  if (written_at != absl::InfinitePast())
    j["at"] = absl::ToDoubleSeconds(written_at - absl::UnixEpoch());
  return j.dump();
}

std::optional<CaseChangeNotice> CaseChangeNotice::Parse(const std::string& payload) {
  const nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("job_centre_id") || !j["job_centre_id"].is_number_integer()) {
    return std::nullopt;
  }
  CaseChangeNotice notice;
  notice.centre_id = j["job_centre_id"].get<int64_t>();
  const auto kind = j.find("kind");
  if (kind != j.end() && kind->is_string()) notice.kind = kind->get<std::string>();
  if (j.contains("case_id") && j["case_id"].is_number_integer()) {
    notice.scope = Scope::kCase;
    notice.case_id = j["case_id"].get<int64_t>();
    if (j.contains("version") && j["version"].is_number_integer()) {
      notice.version = j["version"].get<int64_t>();
    }
  } else if (notice.kind == "RESYNC") {
    notice.scope = Scope::kResync;
  } else {
    notice.scope = Scope::kBulk;  // BULK, or anything else without a case: read the centre whole
  }
  if (j.contains("at") && j["at"].is_number()) {
    notice.written_at = absl::UnixEpoch() + absl::Seconds(j["at"].get<double>());
  }
  return notice;
}

}  // namespace forecast
