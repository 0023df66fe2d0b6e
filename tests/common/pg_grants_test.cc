// Issue 8, least privilege: each service connects as its own role (0005) with the grants of
// 0009-0011, over TCP with a scram-sha-256 password (deploy/scripts/pg.sh). Checked on a
// throw-away database of the private test cluster, by trying, not only by reading the catalogue.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>

#include "tests/support/test_database.h"

namespace forecast::testing {
namespace {

constexpr char kDenied[] = "42501";  // insufficient_privilege

class PgGrantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    pqxx::connection conn(db_->conninfo());
    pqxx::work tx(conn);
    tx.exec0(
        "INSERT INTO job_centre (code, name) VALUES ('JC1', 'Jobcenter Et');"
        "INSERT INTO org_unit (job_centre_id, code, name, kind) "
        "  SELECT id, 'T1', 'Team 1', 'TEAM' FROM job_centre WHERE code = 'JC1';"
        "INSERT INTO staff (job_centre_id, code, display_name, role, team_id) "
        "  SELECT j.id, 'cw1', 'Caseworker', 'CASEWORKER', u.id FROM job_centre j "
        "  JOIN org_unit u ON u.job_centre_id = j.id;");
    tx.commit();
  }

  // The SQLSTATE of running `sql` as `role` ("" when it succeeds; rolled back either way).
  std::string Try(const std::string& role, const std::string& sql) {
    pqxx::connection conn(db_->conninfo_as(role));
    pqxx::work tx(conn);
    try {
      tx.exec(sql);
    } catch (const pqxx::insufficient_privilege&) {
      return kDenied;  // libpqxx 6.4 maps SQLSTATE 42501 to this type (sqlstate() may be empty)
    } catch (const pqxx::sql_error& e) {
      return e.what();
    }
    tx.abort();
    return "";
  }

  bool Has(const std::string& role, const std::string& table, const std::string& privilege) {
    pqxx::connection conn(db_->conninfo());
    pqxx::nontransaction tx(conn);
    return tx.exec_params1("SELECT has_table_privilege($1, $2, $3)", role, table, privilege)[0]
        .as<bool>();
  }

  std::unique_ptr<TestDatabase> db_;
};

const char* const kCaseTables[] = {
    "cases",         "expectation",  "action",     "action_follow_up", "assignment",
    "status_change", "field_change", "case_event", "idempotency_key",  "catalogue_entry",
    "case_field",    "staff",        "org_unit",   "job_centre",       "case_open_actions"};
const char* const kForecastTables[] = {"milestone_target", "dialogue", "dialogue_case",
                                       "forecast_adjustment"};

TEST_F(PgGrantsTest, ForecastServiceCannotWriteACaseTable) {
  for (const char* table : kCaseTables) {
    for (const char* privilege : {"INSERT", "UPDATE", "DELETE", "TRUNCATE"}) {
      EXPECT_FALSE(Has(kForecastServiceRole, table, privilege)) << table << " " << privilege;
    }
  }
  // And by trying: it reads cases through the case service's read model (0080), but cannot
  // change or add one, or write their history.
  EXPECT_EQ(Try(kForecastServiceRole, "SELECT count(*) FROM case_read_model.cases"), "");
  EXPECT_EQ(Try(kForecastServiceRole, "UPDATE cases SET version = version + 1"), kDenied);
  EXPECT_EQ(Try(kForecastServiceRole, "DELETE FROM expectation"), kDenied);
  EXPECT_EQ(Try(kForecastServiceRole,
                "INSERT INTO staff (job_centre_id, code, display_name, role) "
                "SELECT id, 'x', 'x', 'ADMIN' FROM job_centre"),
            kDenied);
  EXPECT_EQ(Try(kForecastServiceRole, "UPDATE staff SET role = 'ADMIN'"), kDenied);
  // Its own tables it writes (insert only: dialogues and targets are history).
  for (const char* table : kForecastTables) {
    EXPECT_TRUE(Has(kForecastServiceRole, table, "INSERT")) << table;
    EXPECT_FALSE(Has(kForecastServiceRole, table, "DELETE")) << table;
  }
}

// Forecast adjustments (migration 0075) are the forecast service's append-only audit: it adds
// rows and reads them, and changes or deletes none; the case service has no access at all.
TEST_F(PgGrantsTest, ForecastAdjustmentsAreAppendOnlyAndTheForecastServicesAlone) {
  EXPECT_TRUE(Has(kForecastServiceRole, "forecast_adjustment", "SELECT"));
  EXPECT_TRUE(Has(kForecastServiceRole, "forecast_adjustment", "INSERT"));
  for (const char* privilege : {"UPDATE", "DELETE", "TRUNCATE"}) {
    EXPECT_FALSE(Has(kForecastServiceRole, "forecast_adjustment", privilege)) << privilege;
  }
  for (const char* privilege : {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"}) {
    EXPECT_FALSE(Has(kCaseServiceRole, "forecast_adjustment", privilege)) << privilege;
  }
  const std::string insert =
      "INSERT INTO forecast_adjustment (job_centre_id, team_id, month, outcome, version, figure, "
      "reason, idempotency_key, set_by) SELECT j.id, u.id, DATE '2027-01-01', 'ALL', 1, 10, "
      "'Kendt udsving', 'k1', s.id FROM case_read_model.job_centre j JOIN case_read_model.org_unit u "
      "ON u.job_centre_id = j.id JOIN case_read_model.staff s ON s.job_centre_id = j.id";
  EXPECT_EQ(Try(kForecastServiceRole, insert), "");
  EXPECT_EQ(Try(kCaseServiceRole, insert), kDenied);
  EXPECT_EQ(Try(kForecastServiceRole, "UPDATE forecast_adjustment SET figure = 1"), kDenied);
  EXPECT_EQ(Try(kForecastServiceRole, "DELETE FROM forecast_adjustment"), kDenied);
}

// Issue 10, one owner per table: the forecast service reads the case service's tables only through
// the views of case_read_model, which name their columns (no notes, no action descriptions), and
// cannot write through them.
TEST_F(PgGrantsTest, ForecastServiceReadsCaseTablesOnlyThroughTheReadModel) {
  for (const char* table : kCaseTables) {
    // The case service's alone: stored answers, and the open actions its answers list (0115).
    if (std::string(table) == "idempotency_key" || std::string(table) == "case_open_actions") {
      continue;
    }
    EXPECT_FALSE(Has(kForecastServiceRole, table, "SELECT")) << table;
    EXPECT_EQ(Try(kForecastServiceRole, std::string("SELECT 1 FROM ") + table), kDenied) << table;
    const std::string view = std::string("case_read_model.") + table;
    EXPECT_EQ(Try(kForecastServiceRole, "SELECT * FROM " + view), "") << view;
    EXPECT_EQ(Try(kCaseServiceRole, "SELECT * FROM " + view), "") << view;
    EXPECT_EQ(Try(kForecastServiceRole, "DELETE FROM " + view), kDenied) << view;
  }
  EXPECT_EQ(Try(kForecastServiceRole, "SELECT 1 FROM case_read_model.milestone_metric"), "");
  EXPECT_EQ(Try(kForecastServiceRole, "SELECT 1 FROM milestone_metric"), kDenied);
  EXPECT_EQ(Try(kForecastServiceRole, "SELECT 1 FROM idempotency_key"), kDenied);
  EXPECT_EQ(Try(kForecastServiceRole, "SELECT 1 FROM case_open_actions"), kDenied);
  EXPECT_EQ(Try(kForecastServiceRole, "UPDATE case_read_model.staff SET role = 'ADMIN'"), kDenied);
  EXPECT_NE(Try(kForecastServiceRole, "SELECT note FROM case_read_model.expectation"), "");
  EXPECT_NE(Try(kForecastServiceRole, "SELECT description FROM case_read_model.action"), "");
  EXPECT_EQ(Try(kForecastServiceRole, "SELECT written_xid FROM case_read_model.case_event"), "");
}

TEST_F(PgGrantsTest, CaseServiceWritesCaseTablesOnlyAndDeletesNothing) {
  for (const char* table : {"cases", "expectation", "action", "action_follow_up", "assignment",
                            "status_change", "field_change", "case_event", "idempotency_key"}) {
    EXPECT_TRUE(Has(kCaseServiceRole, table, "INSERT")) << table;
  }
  for (const char* table : kCaseTables) {
    EXPECT_FALSE(Has(kCaseServiceRole, table, "DELETE")) << table;
    EXPECT_FALSE(Has(kCaseServiceRole, table, "TRUNCATE")) << table;
  }
  for (const char* table : kForecastTables) {
    EXPECT_FALSE(Has(kCaseServiceRole, table, "INSERT")) << table;
  }
  EXPECT_EQ(Try(kCaseServiceRole, "DELETE FROM case_event"), kDenied);
  EXPECT_EQ(Try(kCaseServiceRole, "UPDATE job_centre SET name = 'x'"), kDenied);
  EXPECT_EQ(Try(kCaseServiceRole, "DELETE FROM milestone_target"), kDenied);
}

// The set-up (migration 0050): the case service appends to the audit trail and never changes or
// deletes a row of it; it renames and moves units and changes staff, but never their codes or
// job centre; it writes milestone metrics. The forecast service writes none of these.
TEST_F(PgGrantsTest, SetUpAuditIsAppendOnlyAndSetUpIsTheCaseServicesAlone) {
  EXPECT_TRUE(Has(kCaseServiceRole, "admin_change", "INSERT"));
  for (const char* privilege : {"UPDATE", "DELETE", "TRUNCATE"})
    EXPECT_FALSE(Has(kCaseServiceRole, "admin_change", privilege)) << privilege;
  for (const char* table : {"admin_change", "milestone_metric"}) {
    for (const char* privilege : {"INSERT", "UPDATE", "DELETE", "TRUNCATE"})
      EXPECT_FALSE(Has(kForecastServiceRole, table, privilege)) << table << " " << privilege;
  }
  EXPECT_EQ(Try(kCaseServiceRole, "UPDATE admin_change SET call = 'x'"), kDenied);
  EXPECT_EQ(Try(kCaseServiceRole, "DELETE FROM admin_change"), kDenied);
  EXPECT_EQ(Try(kCaseServiceRole, "UPDATE staff SET display_name = 'x', role = 'MANAGER'"), "");
  EXPECT_EQ(Try(kCaseServiceRole, "UPDATE staff SET code = 'x'"), kDenied);
  EXPECT_EQ(Try(kCaseServiceRole, "UPDATE org_unit SET kind = 'TEAM'"), kDenied);
  EXPECT_EQ(Try(kCaseServiceRole, "UPDATE milestone_metric SET active = false"), "");
  EXPECT_EQ(Try(kCaseServiceRole, "DELETE FROM milestone_metric"), kDenied);
  EXPECT_EQ(Try(kForecastServiceRole, "UPDATE milestone_metric SET active = false"), kDenied);
}

TEST_F(PgGrantsTest, NeitherServiceChangesTheSchema) {
  for (const char* role : {kCaseServiceRole, kForecastServiceRole}) {
    EXPECT_EQ(Try(role, "CREATE TABLE sneaky (x int)"), kDenied) << role;
    EXPECT_EQ(Try(role, "DROP TABLE cases"), kDenied) << role;  // not the owner
    EXPECT_EQ(Try(role, "ALTER TABLE cases ADD COLUMN x int"), kDenied) << role;
  }
}

TEST_F(PgGrantsTest, TcpNeedsAPasswordAndNothingIsTrusted) {
  // Without the password file, the roles (and the superuser) are refused over TCP.
  for (const std::string role : {kCaseServiceRole, kForecastServiceRole, "postgres"}) {
    EXPECT_THROW(pqxx::connection(db_->conninfo_as(role) + " passfile=/dev/null"),
                 pqxx::broken_connection)
        << role;
  }
  pqxx::connection conn(db_->conninfo());
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM pg_hba_file_rules "
                     "WHERE type LIKE 'host%' AND auth_method <> 'scram-sha-256'")[0]
                .as<int>(),
            0);
  EXPECT_GT(tx.exec1("SELECT count(*) FROM pg_hba_file_rules WHERE type LIKE 'host%'")[0].as<int>(),
            0);
  for (const std::string role : {kCaseServiceRole, kForecastServiceRole}) {
    EXPECT_EQ(
        tx.exec_params1("SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = $1", role)[0]
            .as<std::string>(""),
        "SCRAM-SHA-256$")
        << role;
    EXPECT_FALSE(tx.exec_params1("SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls "
                                 "FROM pg_roles WHERE rolname = $1",
                                 role)[0]
                     .as<bool>())
        << role;
  }
}

}  // namespace
}  // namespace forecast::testing
