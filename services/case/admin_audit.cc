#include "services/case/admin_audit.h"

namespace forecast {
namespace {

const char* TargetName(SetUpTarget target) {
  switch (target) {
    case SetUpTarget::kOrgUnit: return "ORG_UNIT";
    case SetUpTarget::kStaff: return "STAFF";
    case SetUpTarget::kCatalogueEntry: return "CATALOGUE_ENTRY";
    case SetUpTarget::kCaseField: return "CASE_FIELD";
    case SetUpTarget::kMilestoneMetric: return "MILESTONE_METRIC";
  }
  return "";
}

}  // namespace

std::optional<std::string> SetUpSnapshot(pqxx::transaction_base& tx, int64_t job_centre_id,
                                         SetUpTarget target, const std::string& code,
                                         const std::string& catalogue_kind) {
  pqxx::result rows;
  switch (target) {
    case SetUpTarget::kOrgUnit:
      rows = tx.exec_params(
          "SELECT jsonb_build_object('name', u.name, 'kind', u.kind, 'parent', coalesce(p.code, ''))::text "
          "FROM org_unit u LEFT JOIN org_unit p ON p.id = u.parent_id "
          "WHERE u.job_centre_id = $1 AND u.code = $2",
          job_centre_id, code);
      break;
    case SetUpTarget::kStaff:
      rows = tx.exec_params(
          "SELECT jsonb_build_object('name', s.display_name, 'role', s.role, 'team', coalesce(u.code, ''), "
          "'active', s.active)::text FROM staff s LEFT JOIN org_unit u ON u.id = s.team_id "
          "WHERE s.job_centre_id = $1 AND s.code = $2",
          job_centre_id, code);
      break;
    case SetUpTarget::kCatalogueEntry:
      rows = tx.exec_params(
          "SELECT (to_jsonb(c) - 'job_centre_id')::text FROM catalogue_entry c "
          "WHERE c.job_centre_id = $1 AND c.kind = $2 AND c.code = $3",
          job_centre_id, catalogue_kind, code);
      break;
    case SetUpTarget::kCaseField:
      rows = tx.exec_params(
          "SELECT (to_jsonb(f) - 'job_centre_id')::text FROM case_field f "
          "WHERE f.job_centre_id = $1 AND f.code = $2",
          job_centre_id, code);
      break;
    case SetUpTarget::kMilestoneMetric:
      rows = tx.exec_params(
          "SELECT (to_jsonb(m) - 'job_centre_id')::text FROM milestone_metric m "
          "WHERE m.job_centre_id = $1 AND m.code = $2",
          job_centre_id, code);
      break;
  }
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

void RecordSetUpChange(pqxx::transaction_base& tx, int64_t job_centre_id, int64_t staff_id,
                       absl::string_view call, SetUpTarget target, const std::string& code,
                       const std::optional<std::string>& before,
                       const std::string& catalogue_kind) {
  const std::optional<std::string> after =
      SetUpSnapshot(tx, job_centre_id, target, code, catalogue_kind);
  if (!after.has_value() || after == before) return;
  const std::string target_code = catalogue_kind.empty() ? code : catalogue_kind + "/" + code;
  tx.exec_params(
      "INSERT INTO admin_change (job_centre_id, staff_id, call, target_kind, target_code, before, after) "
      "VALUES ($1, nullif($2, 0), $3, $4, $5, CASE WHEN $6 THEN $7::jsonb END, $8::jsonb)",
      job_centre_id, staff_id, std::string(call), TargetName(target), target_code,
      before.has_value(), before.value_or("{}"), *after);
}

}  // namespace forecast
