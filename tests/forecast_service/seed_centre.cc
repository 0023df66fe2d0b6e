#include "tests/forecast_service/seed_centre.h"

#include "absl/time/clock.h"
#include "services/common/case_change_notice.h"

namespace forecast::testing {
namespace {

std::string Noon(const std::string& day) { return day + " 12:00:00+00"; }

}  // namespace

CentreWriter::CentreWriter(const std::string& conninfo, int64_t centre_id)
    : conn_(conninfo), centre_(centre_id) {}

std::string CentreWriter::Stamp(const std::string& day) const {
  return Noon(recorded_on_.empty() ? day : recorded_on_);
}

int64_t CentreWriter::Staff(const std::string& code) {
  pqxx::work tx(conn_);
  return tx
      .exec_params1("SELECT id FROM staff WHERE job_centre_id = $1 AND code = $2", centre_, code)[0]
      .as<int64_t>();
}

int64_t CentreWriter::Unit(const std::string& code) {
  pqxx::work tx(conn_);
  return tx
      .exec_params1("SELECT id FROM org_unit WHERE job_centre_id = $1 AND code = $2", centre_,
                    code)[0]
      .as<int64_t>();
}

int64_t CentreWriter::Case(const std::string& ref) {
  pqxx::work tx(conn_);
  return tx
      .exec_params1("SELECT id FROM cases WHERE job_centre_id = $1 AND case_ref = $2", centre_,
                    ref)[0]
      .as<int64_t>();
}

void CentreWriter::Event(pqxx::work& tx, int64_t case_id, const std::string& kind,
                         const std::string& day) {
  const int64_t version =
      tx.exec_params1(
            "UPDATE cases SET version = version + 1, updated_at = $2::timestamptz WHERE id = $1 "
            "RETURNING version",
            case_id, Stamp(day))[0]
          .as<int64_t>();
  tx.exec_params(
      "INSERT INTO case_event (job_centre_id, case_id, case_version, kind, actor_id, effective_on, "
      "recorded_at) SELECT $1, $2, $3, $4, c.caseworker_id, $5::date, $6::timestamptz "
      "FROM cases c WHERE c.id = $2",
      centre_, case_id, version, kind, day, Stamp(day));
  Announce(tx, case_id, version, kind);
}

void CentreWriter::Announce(pqxx::work& tx, int64_t case_id, int64_t version,
                            const std::string& kind) {
  tx.exec_params("SELECT pg_notify($1, $2)", kCaseChangedChannel,
                 CaseChangeNotice::ForCase(centre_, case_id, version, kind).ToPayload());
}

void CentreWriter::AddCase(const std::string& ref, const std::string& type,
                           const std::string& opened, const std::string& caseworker,
                           const std::string& fields_json) {
  pqxx::work tx(conn_);
  const int64_t id =
      tx.exec_params1(
            "INSERT INTO cases (job_centre_id, case_ref, case_type, opened_on, caseworker_id, team_id, "
            "fields, version, created_at, updated_at) "
            "SELECT $1, $2, $3, $4::date, s.id, s.team_id, $6::jsonb, 1, $5::timestamptz, $5::timestamptz "
            "FROM staff s WHERE s.job_centre_id = $1 AND s.code = $7 RETURNING id",
            centre_, ref, type, opened, Stamp(opened), fields_json, caseworker)[0]
          .as<int64_t>();
  tx.exec_params(
      "INSERT INTO assignment (job_centre_id, case_id, caseworker_id, team_id, from_on, recorded_by, "
      "recorded_at) SELECT $1, c.id, c.caseworker_id, c.team_id, c.opened_on, "
      "coalesce((SELECT id FROM staff WHERE job_centre_id = $1 AND code = $4), c.caseworker_id), "
      "$3::timestamptz FROM cases c WHERE c.id = $2",
      centre_, id, Stamp(opened), by_);
  tx.exec_params(
      "INSERT INTO field_change (job_centre_id, case_id, field_code, value, effective_on, "
      "recorded_by, recorded_at) SELECT c.job_centre_id, c.id, f.key, f.value, c.opened_on, "
      "c.caseworker_id, $2::timestamptz FROM cases c, jsonb_each(c.fields) f WHERE c.id = $1",
      id, Stamp(opened));
  tx.exec_params(
      "INSERT INTO case_event (job_centre_id, case_id, case_version, kind, actor_id, effective_on, "
      "recorded_at) SELECT $1, c.id, 1, 'OPENED', c.caseworker_id, c.opened_on, $3::timestamptz "
      "FROM cases c WHERE c.id = $2",
      centre_, id, Stamp(opened));
  Announce(tx, id, 1, "OPENED");
  tx.commit();
}

void CentreWriter::Expect(const std::string& ref, const std::string& day,
                          const std::string& outcome, const std::string& month,
                          const std::string& risk, int64_t dialogue_id) {
  const int64_t id = Case(ref);
  pqxx::work tx(conn_);
  const int64_t e =
      tx.exec_params1(
            "INSERT INTO expectation (job_centre_id, case_id, expected_outcome, expected_month, risk, "
            "agreed_in_dialogue, dialogue_id, recorded_by, recorded_at) "
            "SELECT $1, c.id, $3, ($4 || '-01')::date, $5, $6 <> 0, nullif($6, 0::bigint), "
            "coalesce((SELECT id FROM staff WHERE job_centre_id = $1 AND code = $8), c.caseworker_id), "
            "$7::timestamptz FROM cases c WHERE c.id = $2 RETURNING id",
            centre_, id, outcome, month, risk, dialogue_id, Stamp(day), by_)[0]
          .as<int64_t>();
  tx.exec_params("UPDATE cases SET current_expectation_id = $2 WHERE id = $1", id, e);
  Event(tx, id, "EXPECTATION", day);
  tx.commit();
}

void CentreWriter::Close(const std::string& ref, const std::string& day,
                         const std::string& outcome) {
  const int64_t id = Case(ref);
  pqxx::work tx(conn_);
  tx.exec_params(
      "INSERT INTO status_change (job_centre_id, case_id, status, on_date, outcome, recorded_by, "
      "recorded_at) SELECT $1, c.id, 'CLOSED', $3::date, $4, "
      "coalesce((SELECT id FROM staff WHERE job_centre_id = $1 AND code = $6), c.caseworker_id), "
      "$5::timestamptz FROM cases c WHERE c.id = $2",
      centre_, id, day, outcome, Stamp(day), by_);
  tx.exec_params(
      "UPDATE cases SET status = 'CLOSED', closed_on = $2::date, closure_outcome = $3 WHERE id = $1",
      id, day, outcome);
  Event(tx, id, "CLOSED", day);
  tx.commit();
}

void CentreWriter::Reassign(const std::string& ref, const std::string& day,
                            const std::string& caseworker) {
  const int64_t id = Case(ref);
  pqxx::work tx(conn_);
  tx.exec_params(
      "INSERT INTO assignment (job_centre_id, case_id, caseworker_id, team_id, from_on, recorded_by, "
      "recorded_at) SELECT $1, $2, s.id, s.team_id, $3::date, "
      "coalesce((SELECT id FROM staff WHERE job_centre_id = $1 AND code = $6), s.id), "
      "$4::timestamptz FROM staff s WHERE s.job_centre_id = $1 AND s.code = $5",
      centre_, id, day, Stamp(day), caseworker, by_);
  tx.exec_params(
      "UPDATE cases c SET caseworker_id = s.id, team_id = s.team_id FROM staff s "
      "WHERE c.id = $1 AND s.job_centre_id = $2 AND s.code = $3",
      id, centre_, caseworker);
  Event(tx, id, "REASSIGNED", day);
  tx.commit();
}

void CentreWriter::SetField(const std::string& ref, const std::string& day, const std::string& code,
                            const std::string& json) {
  const int64_t id = Case(ref);
  pqxx::work tx(conn_);
  tx.exec_params(
      "INSERT INTO field_change (job_centre_id, case_id, field_code, value, effective_on, "
      "recorded_by, recorded_at) SELECT $1, c.id, $3, $4::jsonb, $5::date, c.caseworker_id, "
      "$6::timestamptz FROM cases c WHERE c.id = $2",
      centre_, id, code, json, day, Stamp(day));
  tx.exec_params(
      "UPDATE cases SET fields = fields || jsonb_build_object($2::text, $3::jsonb) WHERE id = $1",
      id, code, json);
  Event(tx, id, "FIELDS_SET", day);
  tx.commit();
}

void CentreWriter::AddAction(const std::string& ref, const std::string& created,
                             const std::string& due) {
  const int64_t id = Case(ref);
  pqxx::work tx(conn_);
  tx.exec_params(
      "INSERT INTO action (job_centre_id, case_id, description, owner_id, due_on, created_by, "
      "created_at) SELECT $1, c.id, 'Follow up', c.caseworker_id, $3::date, c.caseworker_id, "
      "$4::timestamptz FROM cases c WHERE c.id = $2",
      centre_, id, due, Stamp(created));
  Event(tx, id, "ACTION_ADDED", created);
  tx.commit();
}

namespace {

int64_t CreateCentre(pqxx::connection& conn, const std::string& code) {
  pqxx::work tx(conn);
  const int64_t id =
      tx.exec_params1("INSERT INTO job_centre (code, name) VALUES ($1, $1) RETURNING id", code)[0]
          .as<int64_t>();
  tx.exec_params("SELECT seed_default_catalogue($1)", id);
  tx.exec_params(
      "INSERT INTO case_field (job_centre_id, code, label_da, label_en, field_type, choices, sort_order) VALUES "
      "($1, 'has_cv', 'Har CV', 'Has a CV', 'BOOL', '{}', 1), "
      "($1, 'in_internship', 'I praktik', 'In an internship', 'BOOL', '{}', 2), "
      "($1, 'segment', 'Segment', 'Segment', 'CHOICE', '{ready,close,further}', 3)",
      id);
  tx.commit();
  return id;
}

void AddUnit(pqxx::connection& conn, int64_t centre, const std::string& code,
             const std::string& kind, const std::string& parent) {
  pqxx::work tx(conn);
  tx.exec_params(
      "INSERT INTO org_unit (job_centre_id, code, name, kind, parent_id) "
      "VALUES ($1, $2, 'Unit ' || $2, $3, (SELECT id FROM org_unit WHERE job_centre_id = $1 AND code = $4))",
      centre, code, kind, parent);
  tx.commit();
}

void AddStaff(pqxx::connection& conn, int64_t centre, const std::string& code,
              const std::string& role, const std::string& team) {
  pqxx::work tx(conn);
  tx.exec_params(
      "INSERT INTO staff (job_centre_id, code, display_name, role, team_id) "
      "VALUES ($1, $2, 'Staff ' || $2, $3, (SELECT id FROM org_unit WHERE job_centre_id = $1 AND code = $4))",
      centre, code, role, team);
  tx.commit();
}

}  // namespace

SeededCentres SeedCentres(const std::string& conninfo) {
  SeededCentres out;
  pqxx::connection conn(conninfo);
  out.jc1 = CreateCentre(conn, "JC1");
  AddUnit(conn, out.jc1, "D1", "DEPARTMENT", "");
  AddUnit(conn, out.jc1, "TA", "TEAM", "D1");
  AddUnit(conn, out.jc1, "TB", "TEAM", "D1");
  AddStaff(conn, out.jc1, "cw_a1", "CASEWORKER", "TA");
  AddStaff(conn, out.jc1, "cw_a2", "CASEWORKER", "TA");
  AddStaff(conn, out.jc1, "tl_a", "TEAM_LEADER", "TA");
  AddStaff(conn, out.jc1, "cw_b1", "CASEWORKER", "TB");
  AddStaff(conn, out.jc1, "tl_b", "TEAM_LEADER", "TB");
  AddStaff(conn, out.jc1, "mgr", "MANAGER", "");
  out.jc2 = CreateCentre(conn, "JC2");
  AddUnit(conn, out.jc2, "TX", "TEAM", "");
  AddStaff(conn, out.jc2, "cw_x1", "CASEWORKER", "TX");
  AddStaff(conn, out.jc2, "tl_x", "TEAM_LEADER", "TX");

  CentreWriter w(conninfo, out.jc1);
  // In the order the events happened.
  w.AddCase("B1", "RF", "2098-05-01", "cw_b1");
  w.AddCase("A3", "SDP", "2098-06-01", "cw_a1");
  w.AddCase("A7", "SDP", "2098-08-01", "cw_a1");
  w.AddCase("A5", "SDP", "2098-09-01", "cw_a2");
  w.AddCase("A1", "SDP", "2098-10-01", "cw_a1", R"({"has_cv": true})");
  w.Expect("A1", "2098-10-05", "ORDINARY_JOB", "2099-01", "LOW");
  w.Expect("A3", "2098-11-10", "FLEX_JOB", "2099-06", "HIGH");
  w.AddCase("A2", "JAF", "2098-11-15", "cw_a1");
  w.AddCase("A6", "DP", "2098-12-01", "cw_a1");
  w.AddCase("A4", "KHJ", "2099-01-10", "cw_a2", R"({"has_cv": true})");
  w.AddCase("A8", "KHA", "2099-02-01", "cw_a1");
  w.Expect("A7", "2099-02-01", "SMALL_JOB", "2099-04", "LOW");
  w.SetField("A4", "2099-02-10", "in_internship", "true");
  w.Expect("A8", "2099-02-15", "OTHER_BENEFIT", "2099-08", "HIGH");
  w.Close("A5", "2099-02-20", "DECLARED_FIT");
  w.Expect("A4", "2099-03-01", "EDUCATION", "2099-05", "MEDIUM");
  w.AddAction("A1", "2099-02-15", "2099-03-01");
  w.Reassign("A7", "2099-03-02", "cw_b1");
  w.AddCase("B2", "SDP", "2099-03-03", "cw_b1");
  w.SetField("A2", "2099-03-05", "in_internship", "true");
  w.Expect("A4", "2099-03-10", "EDUCATION", "2099-07", "HIGH");
  w.Close("A6", "2099-03-10", "ORDINARY_JOB");
  w.AddCase("A9", "SDP", "2099-03-11", "cw_a2");
  w.Expect("A3", "2099-03-12", "ORDINARY_JOB", "2099-05", "MEDIUM");
  w.Expect("B1", "2099-03-12", "DISABILITY_PENSION", "2099-09", "MEDIUM");
  w.Close("B2", "2099-03-14", "FLEX_JOB");

  CentreWriter x(conninfo, out.jc2);
  x.AddCase("X1", "SDP", "2099-01-05", "cw_x1");
  return out;
}

}  // namespace forecast::testing
