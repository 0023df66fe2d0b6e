#include "services/case/org_admin.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/case/admin_audit.h"
#include "services/common/authorization.h"
#include "services/common/codes.h"
#include "services/common/status.h"
#include "services/common/text_checks.h"

namespace forecast {
namespace {

constexpr int kMaxNameChars = 200;
constexpr int kDefaultChangesPage = 100;
constexpr int kMaxChangesPage = 500;

absl::StatusOr<int64_t> CentreId(pqxx::transaction_base& tx, const std::string& code) {
  pqxx::result rows = tx.exec_params("SELECT id FROM job_centre WHERE code = $1", code);
  if (rows.empty())
    return absl::NotFoundError(absl::StrCat("job centre \"", code, "\" does not exist"));
  return rows[0][0].as<int64_t>();
}

// A unit as either form gives it. kind: DEPARTMENT or TEAM.
struct UnitInput {
  std::string code, name, kind, parent;
};

// The checks that need no database. Units' codes are the schema's [A-Za-z0-9_-]{1,32}.
absl::Status CheckUnit(const UnitInput& in) {
  if (absl::Status s = CheckCode(in.code, "unit.code"); !s.ok()) return s;
  if (in.code.find('.') != std::string::npos) {
    return FieldError("unit.code", "NOT_A_CODE",
                      absl::StrCat("\"", in.code, "\" may not contain '.'"), {{"value", in.code}});
  }
  if (absl::Status s = CheckText(in.name, "unit.name", 1, kMaxNameChars); !s.ok()) return s;
  if (in.kind != "DEPARTMENT" && in.kind != "TEAM")
    return FieldError("unit.kind", "REQUIRED", "must be DEPARTMENT or TEAM");
  if (in.kind == "DEPARTMENT" && !in.parent.empty()) {
    return FieldError("unit.parent", "DEPARTMENT_PARENT",
                      "a department belongs to no other unit; only teams have a department");
  }
  return absl::OkStatus();
}

absl::Status ApplyUnit(pqxx::transaction_base& tx, int64_t centre, int64_t actor,
                       absl::string_view call, const UnitInput& in) {
  int64_t parent_id = 0;
  if (!in.parent.empty()) {
    pqxx::result rows = tx.exec_params(
        "SELECT id FROM org_unit WHERE job_centre_id = $1 AND code = $2 AND kind = 'DEPARTMENT'",
        centre, in.parent);
    if (rows.empty()) {
      return FieldError("unit.parent", "DEPARTMENT_NOT_FOUND",
                        absl::StrCat("no department \"", in.parent, "\""), {{"value", in.parent}});
    }
    parent_id = rows[0][0].as<int64_t>();
  }
  pqxx::result existing =
      tx.exec_params("SELECT kind FROM org_unit WHERE job_centre_id = $1 AND code = $2 FOR UPDATE",
                     centre, in.code);
  if (!existing.empty() && existing[0][0].as<std::string>() != in.kind) {
    const std::string kind = existing[0][0].as<std::string>();
    return ReasonedError(
        absl::StatusCode::kFailedPrecondition, "UNIT_KIND_FIXED",
        absl::StrCat("unit \"", in.code, "\" exists as a ", kind, "; a unit's kind cannot change"),
        {{"value", in.code}, {"kind", kind}}, "unit.kind");
  }
  const std::optional<std::string> before =
      SetUpSnapshot(tx, centre, SetUpTarget::kOrgUnit, in.code);
  tx.exec_params(
      "INSERT INTO org_unit (job_centre_id, code, name, kind, parent_id) "
      "VALUES ($1, $2, $3, $4, nullif($5, 0)) ON CONFLICT (job_centre_id, code) DO UPDATE SET "
      "name = EXCLUDED.name, parent_id = EXCLUDED.parent_id",
      centre, in.code, in.name, in.kind, parent_id);
  RecordSetUpChange(tx, centre, actor, call, SetUpTarget::kOrgUnit, in.code, before);
  return absl::OkStatus();
}

struct StaffInput {
  std::string code, name, role, team;
  bool active = true;
};

absl::Status CheckStaff(const StaffInput& in) {
  if (absl::Status s = CheckCode(in.code, "staff.code"); !s.ok()) return s;
  if (absl::Status s = CheckText(in.name, "staff.display_name", 0, kMaxNameChars); !s.ok())
    return s;
  if (!ParseRole(in.role)) {
    return FieldError("staff.role", "REQUIRED",
                      "must be CASEWORKER, TEAM_LEADER, MANAGER or ADMIN");
  }
  if ((in.role == "CASEWORKER" || in.role == "TEAM_LEADER") && in.team.empty()) {
    return FieldError("staff.team", "TEAM_REQUIRED",
                      "caseworkers and team leaders belong to a team");
  }
  return absl::OkStatus();
}

absl::Status ApplyStaff(pqxx::transaction_base& tx, int64_t centre, int64_t actor,
                        absl::string_view call, const StaffInput& in) {
  int64_t team_id = 0;
  if (!in.team.empty()) {
    pqxx::result rows = tx.exec_params(
        "SELECT id FROM org_unit WHERE job_centre_id = $1 AND code = $2 AND kind = 'TEAM'", centre,
        in.team);
    if (rows.empty()) {
      return FieldError("staff.team", "TEAM_NOT_FOUND", absl::StrCat("no team \"", in.team, "\""),
                        {{"value", in.team}});
    }
    team_id = rows[0][0].as<int64_t>();
  }
  // Locks the active admins, so two admins demoting each other at once cannot both succeed.
  const size_t admins_before =
      tx.exec_params(
            "SELECT id FROM staff WHERE job_centre_id = $1 AND role = 'ADMIN' AND active FOR UPDATE",
            centre)
          .size();
  const std::optional<std::string> before = SetUpSnapshot(tx, centre, SetUpTarget::kStaff, in.code);
  tx.exec_params(
      "INSERT INTO staff (job_centre_id, code, display_name, role, team_id, active) "
      "VALUES ($1, $2, $3, $4, nullif($5, 0), $6) ON CONFLICT (job_centre_id, code) DO UPDATE SET "
      "display_name = EXCLUDED.display_name, role = EXCLUDED.role, team_id = EXCLUDED.team_id, "
      "active = EXCLUDED.active",
      centre, in.code, in.name.empty() ? in.code : in.name, in.role, team_id, in.active);
  const int64_t admins =
      tx.exec_params1(
            "SELECT count(*) FROM staff WHERE job_centre_id = $1 AND role = 'ADMIN' AND active",
            centre)[0]
          .as<int64_t>();
  if (admins == 0 && admins_before > 0) {
    return ReasonedError(absl::StatusCode::kFailedPrecondition, "LAST_ADMIN",
                         absl::StrCat("\"", in.code,
                                      "\" is the job centre's last active admin; make another "
                                      "staff member admin first"),
                         {{"value", in.code}}, "staff.role");
  }
  RecordSetUpChange(tx, centre, actor, call, SetUpTarget::kStaff, in.code, before);
  return absl::OkStatus();
}

std::string RoleText(v1::Role role) {
  std::optional<Role> parsed = FromProto(role);
  return parsed ? std::string(RoleName(*parsed)) : "";
}

bool IsMetricCode(const std::string& code) {
  if (code.empty() || code.size() > 48) return false;
  return std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// The metric's checks against the job centre's fields and outcome groups (see 0002 for what each
// kind counts). Clears the parts a kind does not use, so that what is stored means what it says.
absl::Status CheckMetric(pqxx::transaction_base& tx, int64_t centre,
                         v1::MilestoneMetricSetting& m) {
  if (!IsMetricCode(m.code())) {
    return FieldError("metric.code", "METRIC_CODE", "must be 1 to 48 of a-z, 0-9 and _",
                      {{"value", m.code()}});
  }
  if (absl::Status s = CheckText(m.label_da(), "metric.label_da", 1, kMaxNameChars); !s.ok())
    return s;
  if (absl::Status s = CheckText(m.label_en(), "metric.label_en", 0, kMaxNameChars); !s.ok())
    return s;
  if (m.label_en().empty()) m.set_label_en(m.label_da());
  const std::string& kind = m.kind();
  if (kind != "CLOSURES" && kind != "FIELD_TURNED_TRUE" && kind != "FIELD_SET" &&
      kind != "CASELOAD") {
    return FieldError("metric.kind", "NOT_A_CHOICE",
                      "must be CLOSURES, FIELD_TURNED_TRUE, FIELD_SET or CASELOAD",
                      {{"value", kind}});
  }
  if (kind == "CLOSURES") {
    if (!m.outcome_group().empty() &&
        tx.exec_params(
              "SELECT 1 FROM catalogue_entry WHERE job_centre_id = $1 AND kind = 'OUTCOME' "
              "AND outcome_group = $2",
              centre, m.outcome_group())
            .empty()) {
      return FieldError("metric.outcome_group", "UNKNOWN_CODE",
                        absl::StrCat("no outcome is in the group \"", m.outcome_group(), "\""),
                        {{"value", m.outcome_group()}});
    }
    m.clear_field_code();
    m.clear_choice();
    return absl::OkStatus();
  }
  m.clear_outcome_group();
  if (kind == "CASELOAD") {
    m.clear_field_code();
    m.clear_choice();
    return absl::OkStatus();
  }
  if (m.field_code().empty()) return FieldError("metric.field_code", "REQUIRED", "is required");
  pqxx::result field = tx.exec_params(
      "SELECT field_type, choices::text[] FROM case_field WHERE job_centre_id = $1 AND code = $2",
      centre, m.field_code());
  if (field.empty()) {
    return FieldError(
        "metric.field_code", "UNKNOWN_FIELD",
        absl::StrCat("\"", m.field_code(), "\" is not one of the job centre's fields"),
        {{"value", m.field_code()}});
  }
  const std::string type = field[0][0].as<std::string>();
  if (kind == "FIELD_TURNED_TRUE" && type != "BOOL") {
    return FieldError("metric.field_code", "FIELD_NOT_BOOL",
                      absl::StrCat("\"", m.field_code(), "\" is a ", type,
                                   " field; turning true needs a yes/no field"),
                      {{"value", m.field_code()}});
  }
  if (kind == "FIELD_SET" && type == "CHOICE") {
    bool known = false;
    auto choices = field[0][1].as_array();
    for (auto item = choices.get_next(); item.first != pqxx::array_parser::juncture::done;
         item = choices.get_next()) {
      if (item.first == pqxx::array_parser::juncture::string_value && item.second == m.choice())
        known = true;
    }
    if (!known) {
      return FieldError("metric.choice", "NOT_A_CHOICE",
                        absl::StrCat("\"", m.choice(), "\" is not a choice of ", m.field_code()),
                        {{"value", m.choice()}});
    }
  } else {
    m.clear_choice();
  }
  return absl::OkStatus();
}

v1::MilestoneMetricSettings LoadMetrics(pqxx::transaction_base& tx, int64_t centre) {
  v1::MilestoneMetricSettings out;
  for (const pqxx::row& row : tx.exec_params(
           "SELECT code, label_da, label_en, kind, outcome_group, field_code, choice, "
           "higher_is_better, sort_order, active FROM milestone_metric WHERE job_centre_id = $1 "
           "ORDER BY sort_order, code",
           centre)) {
    v1::MilestoneMetricSetting* m = out.add_metrics();
    m->set_code(row[0].as<std::string>());
    m->set_label_da(row[1].as<std::string>());
    m->set_label_en(row[2].as<std::string>());
    m->set_kind(row[3].as<std::string>());
    m->set_outcome_group(row[4].as<std::string>());
    m->set_field_code(row[5].as<std::string>());
    m->set_choice(row[6].as<std::string>());
    m->set_higher_is_better(row[7].as<bool>());
    m->set_sort_order(row[8].as<int>());
    m->set_active(row[9].as<bool>());
  }
  return out;
}

}  // namespace

absl::StatusOr<bool> OrgAdmin::CreateJobCentre(const std::string& code, const std::string& name,
                                               const std::string& admin_code,
                                               const std::string& admin_name) {
  if (absl::Status s = CheckCode(code, "code"); !s.ok()) return s;
  if (absl::Status s = CheckText(name, "name", 1, kMaxNameChars); !s.ok()) return s;
  if (absl::Status s = CheckCode(admin_code, "admin-code"); !s.ok()) return s;
  return RunTransaction<
      bool>(pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::StatusOr<bool> {
    pqxx::result created = tx.exec_params(
        "INSERT INTO job_centre (code, name) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING RETURNING id",
        code, name);
    const bool is_new = !created.empty();
    const int64_t id =
        is_new
            ? created[0][0].as<int64_t>()
            : tx.exec_params1("SELECT id FROM job_centre WHERE code = $1", code)[0].as<int64_t>();
    if (is_new) tx.exec_params("SELECT seed_default_catalogue($1)", id);
    const std::optional<std::string> before =
        SetUpSnapshot(tx, id, SetUpTarget::kStaff, admin_code);
    tx.exec_params(
        "INSERT INTO staff (job_centre_id, code, display_name, role) VALUES ($1, $2, $3, 'ADMIN') "
        "ON CONFLICT (job_centre_id, code) DO UPDATE SET role = 'ADMIN', active = true",
        id, admin_code, admin_name.empty() ? admin_code : admin_name);
    RecordSetUpChange(tx, id, 0, "forecast-admin create-job-centre", SetUpTarget::kStaff,
                      admin_code, before);
    return is_new;
  });
}

absl::Status OrgAdmin::AddUnit(const std::string& job_centre, const std::string& code,
                               const std::string& name, const std::string& kind,
                               const std::string& parent) {
  const UnitInput in{code, name, kind, parent};
  if (absl::Status s = CheckUnit(in); !s.ok()) return s;
  return RunTransaction(pool_, Isolation::kReadCommitted,
                        [&](pqxx::transaction_base& tx) -> absl::Status {
                          absl::StatusOr<int64_t> centre = CentreId(tx, job_centre);
                          if (!centre.ok()) return centre.status();
                          return ApplyUnit(tx, *centre, 0, "forecast-admin add-unit", in);
                        });
}

absl::Status OrgAdmin::AddStaff(const std::string& job_centre, const std::string& code,
                                const std::string& name, const std::string& role,
                                const std::string& team, bool active) {
  const StaffInput in{code, name, role, team, active};
  if (absl::Status s = CheckStaff(in); !s.ok()) return s;
  return RunTransaction(pool_, Isolation::kReadCommitted,
                        [&](pqxx::transaction_base& tx) -> absl::Status {
                          absl::StatusOr<int64_t> centre = CentreId(tx, job_centre);
                          if (!centre.ok()) return centre.status();
                          return ApplyStaff(tx, *centre, 0, "forecast-admin add-staff", in);
                        });
}

absl::Status OrgAdmin::UpsertUnit(const Caller& caller, const v1::OrgUnit& unit) {
  if (absl::Status s = AuthorizeJobCentreSetUp(caller); !s.ok()) return s;
  const UnitInput in{unit.code(), unit.name(), std::string(OrgUnitKindName(unit.kind())),
                     unit.parent()};
  if (absl::Status s = CheckUnit(in); !s.ok()) return s;
  return RunTransaction(pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) {
    return ApplyUnit(tx, caller.job_centre_id, caller.staff_id, "UpsertOrgUnit", in);
  });
}

absl::Status OrgAdmin::UpsertStaff(const Caller& caller, const v1::StaffMember& staff) {
  if (absl::Status s = AuthorizeJobCentreSetUp(caller); !s.ok()) return s;
  const StaffInput in{staff.code(), staff.display_name(), RoleText(staff.role()), staff.team(),
                      staff.active()};
  if (absl::Status s = CheckStaff(in); !s.ok()) return s;
  return RunTransaction(pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) {
    return ApplyStaff(tx, caller.job_centre_id, caller.staff_id, "UpsertStaff", in);
  });
}

absl::StatusOr<v1::MilestoneMetricSettings> OrgAdmin::ListMilestoneMetrics(const Caller& caller) {
  if (absl::Status s = AuthorizeJobCentreSetUp(caller); !s.ok()) return s;
  return RunReadTransaction<v1::MilestoneMetricSettings>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::MilestoneMetricSettings> {
        return LoadMetrics(tx, caller.job_centre_id);
      });
}

absl::StatusOr<v1::MilestoneMetricSettings> OrgAdmin::UpsertMilestoneMetric(
    const Caller& caller, const v1::MilestoneMetricSetting& metric) {
  if (absl::Status s = AuthorizeJobCentreSetUp(caller); !s.ok()) return s;
  return RunTransaction<v1::MilestoneMetricSettings>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::MilestoneMetricSettings> {
        v1::MilestoneMetricSetting m = metric;
        if (absl::Status s = CheckMetric(tx, caller.job_centre_id, m); !s.ok()) return s;
        const std::optional<std::string> before =
            SetUpSnapshot(tx, caller.job_centre_id, SetUpTarget::kMilestoneMetric, m.code());
        tx.exec_params(
            "INSERT INTO milestone_metric (job_centre_id, code, label_da, label_en, kind, "
            "outcome_group, field_code, choice, higher_is_better, sort_order, active) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
            "ON CONFLICT (job_centre_id, code) DO UPDATE SET label_da = EXCLUDED.label_da, "
            "label_en = EXCLUDED.label_en, kind = EXCLUDED.kind, "
            "outcome_group = EXCLUDED.outcome_group, field_code = EXCLUDED.field_code, "
            "choice = EXCLUDED.choice, higher_is_better = EXCLUDED.higher_is_better, "
            "sort_order = EXCLUDED.sort_order, active = EXCLUDED.active",
            caller.job_centre_id, m.code(), m.label_da(), m.label_en(), m.kind(), m.outcome_group(),
            m.field_code(), m.choice(), m.higher_is_better(), m.sort_order(), m.active());
        RecordSetUpChange(tx, caller.job_centre_id, caller.staff_id, "UpsertMilestoneMetric",
                          SetUpTarget::kMilestoneMetric, m.code(), before);
        return LoadMetrics(tx, caller.job_centre_id);
      });
}

absl::StatusOr<v1::ListAdminChangesResponse> OrgAdmin::ListChanges(
    const Caller& caller, const v1::ListAdminChangesRequest& request) {
  if (absl::Status s = AuthorizeJobCentreSetUp(caller); !s.ok()) return s;
  const int page_size = request.page_size() == 0 ? kDefaultChangesPage : request.page_size();
  if (page_size < 1 || page_size > kMaxChangesPage) {
    return FieldError("page_size", "OUT_OF_RANGE", "must be a number from 1 to 500",
                      {{"min", "1"}, {"max", "500"}});
  }
  int64_t before_id = 0;
  if (!request.page_token().empty() &&
      (!absl::SimpleAtoi(request.page_token(), &before_id) || before_id <= 0)) {
    return FieldError("page_token", "NOT_A_TOKEN", "is not a token this call returned");
  }
  if (absl::Status s = CheckText(request.target_code(), "target_code", 0, 80); !s.ok()) return s;
  return RunReadTransaction<v1::ListAdminChangesResponse>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::ListAdminChangesResponse> {
        v1::ListAdminChangesResponse out;
        pqxx::result rows = tx.exec_params(
            "SELECT a.id, to_char(a.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
            "coalesce(s.code, ''), a.call, a.target_kind, a.target_code, coalesce(a.before::text, ''), "
            "a.after::text FROM admin_change a LEFT JOIN staff s ON s.id = a.staff_id "
            "WHERE a.job_centre_id = $1 AND ($2 = '' OR a.target_kind = $2) "
            "AND ($3 = '' OR a.target_code = $3) AND ($4 = 0 OR a.id < $4) "
            "ORDER BY a.id DESC LIMIT $5",
            caller.job_centre_id, request.target_kind(), request.target_code(), before_id,
            page_size + 1);
        for (int i = 0; i < static_cast<int>(rows.size()) && i < page_size; ++i) {
          const pqxx::row& row = rows[i];
          v1::AdminChange* change = out.add_changes();
          change->set_id(row[0].as<int64_t>());
          change->set_changed_at(row[1].as<std::string>());
          change->set_changed_by(row[2].as<std::string>());
          change->set_call(row[3].as<std::string>());
          change->set_target_kind(row[4].as<std::string>());
          change->set_target_code(row[5].as<std::string>());
          change->set_before_json(row[6].as<std::string>());
          change->set_after_json(row[7].as<std::string>());
        }
        if (static_cast<int>(rows.size()) > page_size)
          out.set_next_page_token(absl::StrCat(out.changes(page_size - 1).id()));
        return out;
      });
}

}  // namespace forecast
