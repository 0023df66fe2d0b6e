#include "services/case/org_admin.h"

#include "absl/strings/str_cat.h"
#include "services/common/caller.h"
#include "services/common/text_checks.h"

namespace forecast {
namespace {

absl::StatusOr<int64_t> CentreId(pqxx::transaction_base& tx, const std::string& code) {
  pqxx::result rows = tx.exec_params("SELECT id FROM job_centre WHERE code = $1", code);
  if (rows.empty())
    return absl::NotFoundError(absl::StrCat("job centre \"", code, "\" does not exist"));
  return rows[0][0].as<int64_t>();
}

}  // namespace

absl::StatusOr<bool> OrgAdmin::CreateJobCentre(const std::string& code, const std::string& name,
                                               const std::string& admin_code,
                                               const std::string& admin_name) {
  if (absl::Status s = CheckCode(code, "code"); !s.ok()) return s;
  if (absl::Status s = CheckText(name, "name", 1, 200); !s.ok()) return s;
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
    tx.exec_params(
        "INSERT INTO staff (job_centre_id, code, display_name, role) VALUES ($1, $2, $3, 'ADMIN') "
        "ON CONFLICT (job_centre_id, code) DO UPDATE SET role = 'ADMIN', active = true",
        id, admin_code, admin_name.empty() ? admin_code : admin_name);
    return is_new;
  });
}

absl::Status OrgAdmin::AddUnit(const std::string& job_centre, const std::string& code,
                               const std::string& name, const std::string& kind,
                               const std::string& parent) {
  if (absl::Status s = CheckCode(code, "code"); !s.ok()) return s;
  if (absl::Status s = CheckText(name, "name", 1, 200); !s.ok()) return s;
  if (kind != "DEPARTMENT" && kind != "TEAM")
    return absl::InvalidArgumentError("kind: must be DEPARTMENT or TEAM");
  return RunTransaction(pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::Status {
    absl::StatusOr<int64_t> centre = CentreId(tx, job_centre);
    if (!centre.ok()) return centre.status();
    int64_t parent_id = 0;
    if (!parent.empty()) {
      pqxx::result rows = tx.exec_params(
          "SELECT id FROM org_unit WHERE job_centre_id = $1 AND code = $2 AND kind = 'DEPARTMENT'",
          *centre, parent);
      if (rows.empty())
        return absl::InvalidArgumentError(absl::StrCat("parent: no department \"", parent, "\""));
      parent_id = rows[0][0].as<int64_t>();
    }
    pqxx::result existing = tx.exec_params(
        "SELECT kind FROM org_unit WHERE job_centre_id = $1 AND code = $2", *centre, code);
    if (!existing.empty() && existing[0][0].as<std::string>() != kind) {
      return absl::FailedPreconditionError(
          absl::StrCat("code: unit \"", code, "\" exists as a ", existing[0][0].as<std::string>()));
    }
    tx.exec_params(
        "INSERT INTO org_unit (job_centre_id, code, name, kind, parent_id) VALUES ($1, $2, $3, $4, nullif($5, 0)) "
        "ON CONFLICT (job_centre_id, code) DO UPDATE SET name = EXCLUDED.name, parent_id = EXCLUDED.parent_id",
        *centre, code, name, kind, parent_id);
    return absl::OkStatus();
  });
}

absl::Status OrgAdmin::AddStaff(const std::string& job_centre, const std::string& code,
                                const std::string& name, const std::string& role,
                                const std::string& team, bool active) {
  if (absl::Status s = CheckCode(code, "code"); !s.ok()) return s;
  if (absl::Status s = CheckText(name, "name", 0, 200); !s.ok()) return s;
  if (!ParseRole(role))
    return absl::InvalidArgumentError("role: must be CASEWORKER, TEAM_LEADER, MANAGER or ADMIN");
  if ((role == "CASEWORKER" || role == "TEAM_LEADER") && team.empty()) {
    return absl::InvalidArgumentError("team: caseworkers and team leaders belong to a team");
  }
  return RunTransaction(
      pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::Status {
        absl::StatusOr<int64_t> centre = CentreId(tx, job_centre);
        if (!centre.ok()) return centre.status();
        int64_t team_id = 0;
        if (!team.empty()) {
          pqxx::result rows = tx.exec_params(
              "SELECT id FROM org_unit WHERE job_centre_id = $1 AND code = $2 AND kind = 'TEAM'",
              *centre, team);
          if (rows.empty())
            return absl::InvalidArgumentError(absl::StrCat("team: no team \"", team, "\""));
          team_id = rows[0][0].as<int64_t>();
        }
        tx.exec_params(
            "INSERT INTO staff (job_centre_id, code, display_name, role, team_id, active) "
            "VALUES ($1, $2, $3, $4, nullif($5, 0), $6) ON CONFLICT (job_centre_id, code) DO UPDATE SET "
            "display_name = EXCLUDED.display_name, role = EXCLUDED.role, team_id = EXCLUDED.team_id, "
            "active = EXCLUDED.active",
            *centre, code, name.empty() ? code : name, role, team_id, active);
        return absl::OkStatus();
      });
}

}  // namespace forecast
