#include "tests/bench/forecast_service_benchmark_loader.h"

#include <algorithm>
#include <map>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/case/case_store.h"
#include "services/case/org_admin.h"
#include "services/case/pg_case_store.h"
#include "services/common/calendar.h"
#include "services/common/pg_pool.h"

namespace forecast::bench {
namespace {

absl::CivilDay ToDay(const forecasting::Date& d) { return absl::CivilDay(d.year, d.month, d.day); }

int KindRank(const std::string& kind) {
  return kind == "REASSIGNED" ? 0 : kind == "EXPECTATION" ? 1 : 2;
}

}  // namespace

absl::Status LoadSyntheticCentre(const std::string& conninfo, const std::string& code,
                                 const forecasting::SyntheticJobCentre& centre) {
  PgPool pool(conninfo, 2);
  OrgAdmin admin(pool);
  absl::StatusOr<bool> created =
      admin.CreateJobCentre(code, "Synthetic job centre", "admin", "Admin");
  if (!created.ok()) return created.status();
  for (const auto& d : centre.departments) {
    absl::Status s = admin.AddUnit(code, d.code, d.name, "DEPARTMENT", "");
    if (!s.ok()) return s;
  }
  std::map<std::string, std::string> team_of;
  for (const auto& t : centre.teams) {
    absl::Status s = admin.AddUnit(code, t.code, t.name, "TEAM", t.department);
    if (!s.ok()) return s;
    s = admin.AddStaff(code, "TL" + t.code, "Team leader " + t.code, "TEAM_LEADER", t.code, true);
    if (!s.ok()) return s;
  }
  for (const auto& cw : centre.caseworkers) {
    absl::Status s = admin.AddStaff(code, cw.code, cw.name, "CASEWORKER", cw.team, true);
    if (!s.ok()) return s;
    team_of[cw.code] = cw.team;
  }
  absl::Status s = admin.AddStaff(code, "manager", "Manager", "MANAGER", "", true);
  if (!s.ok()) return s;

  PgCaseStore store(pool);
  absl::StatusOr<std::optional<StaffRecord>> importer =
      [&]() -> absl::StatusOr<std::optional<StaffRecord>> {
    pqxx::connection conn(conninfo);
    pqxx::work tx(conn);
    pqxx::result r = tx.exec_params("SELECT id FROM job_centre WHERE code = $1", code);
    return store.FindStaff(r[0][0].as<int64_t>(), "admin");
  }();
  if (!importer.ok()) return importer.status();
  ImportPlan plan;
  {
    pqxx::connection conn(conninfo);
    pqxx::work tx(conn);
    plan.job_centre_id =
        tx.exec_params("SELECT id FROM job_centre WHERE code = $1", code)[0][0].as<int64_t>();
  }
  plan.actor_id = (*importer)->id;
  std::map<std::string, size_t> case_pos;
  for (const auto& c : centre.cases) {
    ImportPlan::Case pc;
    pc.case_ref = c.case_ref;
    pc.case_type = c.case_type;
    pc.opened_on = ToDay(c.opened_on);
    pc.caseworker_code = c.caseworker;
    pc.team_code = c.team;
    case_pos[c.case_ref] = plan.cases.size();
    plan.cases.push_back(std::move(pc));
  }
  for (const auto& e : centre.expectations) {
    ImportPlan::Change ch;
    ch.kind = "EXPECTATION";
    ch.on = ToDay(e.recorded_on);
    ch.actor_code = e.recorded_by;
    ch.outcome = e.expected_outcome;
    ch.risk = e.risk;
    ch.month = absl::CivilMonth(e.expected_year, e.expected_month);
    plan.cases[case_pos.at(e.case_ref)].changes.push_back(ch);
  }
  for (const auto& r : centre.reassignments) {
    ImportPlan::Change ch;
    ch.kind = "REASSIGNED";
    ch.on = ToDay(r.on);
    ch.actor_code = "admin";
    ch.caseworker_code = r.to;
    ch.team_code = team_of.at(r.to);
    plan.cases[case_pos.at(r.case_ref)].changes.push_back(ch);
  }
  for (const auto& c : centre.closures) {
    ImportPlan::Change ch;
    ch.kind = "CLOSED";
    ch.on = ToDay(c.closed_on);
    ch.actor_code = "admin";
    ch.outcome = c.outcome;
    plan.cases[case_pos.at(c.case_ref)].changes.push_back(ch);
  }
  for (auto& c : plan.cases) {
    std::stable_sort(c.changes.begin(), c.changes.end(),
                     [](const ImportPlan::Change& a, const ImportPlan::Change& b) {
                       if (a.on != b.on) return a.on < b.on;
                       return KindRank(a.kind) < KindRank(b.kind);
                     });
  }
  // Written as an import writes (one transaction, batches of cases, the events in one statement).
  absl::Status imported =
      store.RunImport(plan.job_centre_id, [&](ImportSession& session) -> absl::StatusOr<bool> {
        ImportPlan batch;
        batch.job_centre_id = plan.job_centre_id;
        batch.actor_id = plan.actor_id;
        for (ImportPlan::Case& c : plan.cases) {
          batch.cases.push_back(std::move(c));
          if (batch.cases.size() == 2000) {
            session.Write(batch);
            batch.cases.clear();
          }
        }
        session.Write(batch);
        session.Finish();
        return true;
      });
  if (!imported.ok()) return imported;

  // Each open case's next step: created three weeks before it is due; done ones followed up.
  std::vector<std::string> refs, descriptions, owners, dues, done;
  for (const auto& a : centre.actions) {
    refs.push_back(a.case_ref);
    descriptions.push_back(a.description);
    owners.push_back(a.owner);
    dues.push_back(FormatDay(ToDay(a.due_on)));
    done.push_back(a.done ? "t" : "f");
  }
  auto array = [](const std::vector<std::string>& v) {
    std::vector<std::string> quoted;
    quoted.reserve(v.size());
    for (const std::string& item : v) {
      std::string q = "\"";
      for (char ch : item) {
        if (ch == '"' || ch == '\\') q += '\\';
        q += ch;
      }
      quoted.push_back(q + "\"");
    }
    return absl::StrCat("{", absl::StrJoin(quoted, ","), "}");
  };
  try {
    pqxx::connection conn(conninfo);
    pqxx::work tx(conn);
    tx.exec_params(
        "WITH a AS ("
        "  INSERT INTO action (job_centre_id, case_id, description, owner_id, due_on, status, created_by, created_at) "
        "  SELECT $1, c.id, t.descr, s.id, t.due::date, CASE WHEN t.done THEN 'DONE' ELSE 'OPEN' END, s.id, "
        "         (t.due::date - 21)::timestamp AT TIME ZONE 'UTC' "
        "  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[]) AS t(ref, descr, owner, due, done) "
        "  JOIN cases c ON c.job_centre_id = $1 AND c.case_ref = t.ref "
        "  JOIN staff s ON s.job_centre_id = $1 AND s.code = t.owner "
        "  RETURNING id, case_id, owner_id, due_on, status) "
        "INSERT INTO action_follow_up (job_centre_id, action_id, case_id, result, previous_due_on, recorded_by, recorded_at) "
        "SELECT $1, a.id, a.case_id, 'DONE', a.due_on, a.owner_id, (a.due_on - 1)::timestamp AT TIME ZONE 'UTC' "
        "FROM a WHERE a.status = 'DONE'",
        plan.job_centre_id, array(refs), array(descriptions), array(owners), array(dues),
        array(done));
    tx.commit();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("loading actions: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace forecast::bench
