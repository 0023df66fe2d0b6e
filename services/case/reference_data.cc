#include "services/case/reference_data.h"

#include <nlohmann/json.hpp>

#include "services/common/case_change_notice.h"

namespace forecast {

ReferenceData::ReferenceData(PgPool& pool, const Clock& clock, absl::Duration caller_ttl)
    : pool_(pool), directory_(pool), cached_directory_(directory_, clock, caller_ttl) {}

absl::Status ReferenceData::StartListening() {
  listener_ = std::make_unique<NoticeListener>(
      pool_.conninfo(), kReferenceChangedChannel,
      [this](const std::string& payload) { OnNotice(payload); }, [this] { DropAll(); });
  return listener_->Start();
}

void ReferenceData::OnNotice(const std::string& payload) {
  const nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("kind", "") != "REFERENCE_DATA") return;
  const std::string table = j.value("table", "");
  const int64_t centre = j.value("job_centre_id", int64_t{0});
  if (table == "catalogue_entry" || table == "case_field") {
    catalogues_.Drop(centre);
  } else if (table == "staff" || table == "org_unit") {
    cached_directory_.Drop();
  } else {
    DropAll();
  }
}

void ReferenceData::DropAll() {
  catalogues_.Drop(0);
  cached_directory_.Drop();
}

}  // namespace forecast
