// forecastctl against the real case service (its binary on port 0) and a real PostgreSQL
// database: a CSV with bad rows imports nothing and the report names every bad row and field;
// a good CSV imports and comes back identical through `export cases`.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "clients/cli/commands.h"
#include "clients/cli/csv.h"
#include "clients/cli/import_runner.h"
#include "tests/cli/service_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast::cli {
namespace {

namespace fs = std::filesystem;
using forecast::testing::ServiceProcess;
using forecast::testing::TestDatabase;
using forecast::testing::MintToken;
using forecast::testing::Pki;
using forecast::testing::ServiceSecurityFlags;

// The organisation every test starts from: job centre T1 with the default catalogue, two teams,
// three caseworkers, an admin and two own fields.
void SeedOrganisation(const std::string& conninfo) {
  pqxx::connection conn(conninfo);
  pqxx::work tx(conn);
  tx.exec0("INSERT INTO job_centre (code, name) VALUES ('T1', 'Test centre')");
  tx.exec("SELECT seed_default_catalogue((SELECT id FROM job_centre WHERE code = 'T1'))");
  tx.exec0(R"(
    WITH c AS (SELECT id FROM job_centre WHERE code = 'T1'),
    d AS (INSERT INTO org_unit (job_centre_id, code, name, kind) SELECT id, 'D1', 'Dept', 'DEPARTMENT' FROM c RETURNING id, job_centre_id)
    INSERT INTO org_unit (job_centre_id, code, name, kind, parent_id)
      SELECT d.job_centre_id, t.code, t.code, 'TEAM', d.id FROM d, (VALUES ('T01'), ('T02')) AS t(code))");
  tx.exec0(R"(
    INSERT INTO staff (job_centre_id, code, display_name, role, team_id)
    SELECT j.id, s.code, s.code, s.role, u.id
    FROM job_centre j
    CROSS JOIN (VALUES ('ADM1', 'ADMIN', NULL), ('MGR1', 'MANAGER', NULL), ('CW0101', 'CASEWORKER', 'T01'),
                       ('CW0102', 'CASEWORKER', 'T01'), ('CW0201', 'CASEWORKER', 'T02')) AS s(code, role, team)
    LEFT JOIN org_unit u ON u.job_centre_id = j.id AND u.code = s.team
    WHERE j.code = 'T1')");
  tx.exec0(R"(
    INSERT INTO case_field (job_centre_id, code, label_da, label_en, field_type, choices, sort_order)
    SELECT id, 'has_cv', 'Har CV', 'Has a CV', 'BOOL', '{}'::text[], 1 FROM job_centre WHERE code = 'T1'
    UNION ALL
    SELECT id, 'segment', 'Segment', 'Segment', 'CHOICE', '{ready,close,far}'::text[], 2 FROM job_centre WHERE code = 'T1')");
  tx.commit();
}

int64_t Count(const std::string& conninfo, const std::string& table) {
  pqxx::connection conn(conninfo);
  pqxx::work tx(conn);
  return tx.exec1("SELECT count(*) FROM " + table)[0].as<int64_t>();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// The data rows of a CSV file, sorted: "identical modulo order".
std::vector<std::vector<std::string>> SortedRows(const std::string& text) {
  CsvReader reader(text);
  CsvRecord record;
  std::vector<std::vector<std::string>> rows;
  bool header = true;
  while (reader.Next(&record)) {
    EXPECT_EQ(record.problem, "");
    if (!header) rows.push_back(record.fields);
    header = false;
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ImportIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    SeedOrganisation(db_->conninfo());
    std::vector<std::string> argv = {CASE_SERVICE_BIN, "--db",
                                     db_->conninfo_as(forecast::testing::kCaseServiceRole),
                                     "--port", "0"};
    for (const std::string& flag : ServiceSecurityFlags(true)) argv.push_back(flag);
    auto service = ServiceProcess::Start(argv, absl::Seconds(30));
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = std::move(*service);
    env_.identity = Identity();
    env_.identity.server = service_->address();
    env_.identity.job_centre = "T1";
    env_.identity.ca_file = Pki().ca;
    As("ADM1");
    env_.out = &out_;
    env_.err = &err_;
    dir_ = fs::temp_directory_path() /
           ("forecastctl-it-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Acts as `staff` of T1, with an access token from the test key.
  void As(const std::string& staff) {
    env_.identity.staff = staff;
    env_.identity.access_token = MintToken("T1", staff, absl::Minutes(30));
    env_.identity.access_expires_at =
        absl::FormatTime(absl::RFC3339_full, absl::Now() + absl::Minutes(29), absl::UTCTimeZone());
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<ServiceProcess> service_;
  CommandEnv env_;
  std::ostringstream out_, err_;
  fs::path dir_;
};

const char kGoodCases[] =
    "case_ref,case_type,opened_on,team,caseworker,has_cv,segment\n"
    "S-000001,SDP,2024-01-08,T01,CW0101,true,ready\n"
    "S-000002,JAF,2024-02-12,T01,CW0102,false,\n"
    "S-000003,KHA,2024-03-04,T02,CW0201,,far\n"
    "\"S-000004\",RF,2024-03-05,T01,CW0101,,\n";
const char kGoodExpectations[] =
    "case_ref,recorded_on,recorded_by,expected_outcome,expected_month,risk\n"
    "S-000001,2024-01-15,CW0101,ORDINARY_JOB,2024-06,MEDIUM\n"
    "S-000001,2024-04-02,CW0101,ORDINARY_JOB,2024-08,HIGH\n"
    "S-000002,2024-02-20,CW0102,FLEX_JOB,2025-01,LOW\n"
    "S-000003,2024-03-10,CW0201,EDUCATION,2024-09,MEDIUM\n";
const char kGoodClosures[] =
    "case_ref,closed_on,outcome\n"
    "S-000001,2024-08-20,ORDINARY_JOB\n";
const char kGoodReassignments[] =
    "case_ref,on,from,to\n"
    "S-000002,2024-05-01,CW0102,CW0101\n";

TEST_F(ImportIntegrationTest, GoodFilesImportAndRoundTripThroughExport) {
  WriteFile(dir_ / "in" / "cases.csv", kGoodCases);
  WriteFile(dir_ / "in" / "expectations.csv", kGoodExpectations);
  WriteFile(dir_ / "in" / "closures.csv", kGoodClosures);
  WriteFile(dir_ / "in" / "reassignments.csv", kGoodReassignments);

  // A dry run checks everything and commits nothing.
  ImportOptions dry;
  dry.dry_run = true;
  ASSERT_EQ(Import(env_, (dir_ / "in").string(), dry, false), 0) << out_.str() << err_.str();
  EXPECT_NE(
      out_.str().find(
          "dry run: every row is good (4 case(s), 4 expectation(s), 1 closure(s), 1 reassignment(s))"),
      std::string::npos)
      << out_.str();
  EXPECT_EQ(Count(db_->conninfo(), "cases"), 0);

  ImportOptions options;
  options.rows_per_chunk = 3;  // several chunks on the stream
  out_.str("");
  ASSERT_EQ(Import(env_, (dir_ / "in").string(), options, false), 0) << out_.str() << err_.str();
  EXPECT_NE(out_.str().find("imported 4 case(s)"), std::string::npos) << out_.str();
  EXPECT_EQ(Count(db_->conninfo(), "cases"), 4);
  EXPECT_EQ(Count(db_->conninfo(), "expectation"), 4);

  // Admins configure; they read no cases (issue 8), so a manager exports.
  EXPECT_EQ(ExportCases(env_, (dir_ / "admin-out").string()), 1);
  As("MGR1");
  ASSERT_EQ(ExportCases(env_, (dir_ / "out").string()), 0) << err_.str();
  for (const char* file : {"cases.csv", "expectations.csv", "closures.csv", "reassignments.csv"}) {
    const std::string in = ReadFile(dir_ / "in" / file), out = ReadFile(dir_ / "out" / file);
    EXPECT_EQ(SortedRows(in), SortedRows(out)) << file << " exported as:\n" << out;
    EXPECT_EQ(in.substr(0, in.find('\n')), out.substr(0, out.find('\n'))) << file;  // same header
  }

  // The export read every case, and the access log says so: forecastctl audit reads, as the admin.
  CaseReadFilter reads;
  reads.staff = "MGR1";
  EXPECT_EQ(ListCaseReads(env_, reads, Format::kTable, ""), 1);  // a manager may not ask
  As("ADM1");
  const std::string csv = (dir_ / "reads.csv").string();
  ASSERT_EQ(ListCaseReads(env_, reads, Format::kTable, csv), 0) << err_.str();
  const std::string exported = ReadFile(csv);
  EXPECT_EQ(exported.substr(0, exported.find('\n')), "at,staff,case_ref,call");
  for (const char* ref : {"S-000001", "S-000002", "S-000003", "S-000004"}) {
    EXPECT_NE(exported.find(std::string(",MGR1,") + ref + ",/forecast.v1.CaseService/"),
              std::string::npos)
        << ref << " missing in:\n"
        << exported;
  }
  reads.staff.clear();
  reads.case_ref = "S-000003";
  out_.str("");
  ASSERT_EQ(ListCaseReads(env_, reads, Format::kCsv, ""), 0) << err_.str();
  EXPECT_NE(out_.str().find(",MGR1,S-000003,/forecast.v1.CaseService/GetCaseHistory"),
            std::string::npos)
      << out_.str();
  EXPECT_EQ(out_.str().find("S-000001"), std::string::npos) << out_.str();
}

TEST_F(ImportIntegrationTest, BadRowsImportNothingAndEveryBadRowIsNamed) {
  WriteFile(dir_ / "in" / "cases.csv",
            "case_ref,case_type,opened_on,team,caseworker\n"
            "S-000001,SDP,2024-01-08,T01,CW0101\n"  // 2 good
            "S-000002,XYZ,2024-02-12,T01,CW0102\n"  // 3 case_type unknown
            "S-000003,KHA,2024-13-04,T02,CW0201\n"  // 4 opened_on not a date
            "S-000004,RF,2024-03-05,T01,NOBODY\n"   // 5 caseworker unknown
            "S-000005,RF,2024-03-05,T01\n");        // 6 one field short (found locally)
  WriteFile(dir_ / "in" / "expectations.csv",
            "case_ref,recorded_on,recorded_by,expected_outcome,expected_month,risk\n"
            "S-000001,2024-01-15,CW0101,ORDINARY_JOB,2024-06,MEDIUM\n"   // 2 good
            "S-000001,2024-01-16,CW0101,ORDINARY_JOB,June,MEDIUM\n"      // 3 expected_month
            "S-000001,2024-01-17,CW0101,ORDINARY_JOB,2024-07,EXTREME\n"  // 4 risk
            "S-999999,2024-01-17,CW0101,ORDINARY_JOB,2024-07,LOW\n");    // 5 case_ref unknown
  WriteFile(dir_ / "in" / "closures.csv",
            "case_ref,closed_on,outcome\nS-000001,2024-08-20,LOTTERY\n");
  const int64_t staff_before = Count(db_->conninfo(), "staff");

  ASSERT_EQ(
      Import(env_, (dir_ / "in").string(), ImportOptions{}, false, (dir_ / "report.csv").string()),
      1)
      << err_.str();
  const std::string report = out_.str();
  const std::string report_csv = ReadFile(dir_ / "report.csv");
  EXPECT_EQ(report_csv.substr(0, report_csv.find('\n')), "file,line,field,message");
  EXPECT_NE(report_csv.find("\nexpectations.csv,4,risk,"), std::string::npos) << report_csv;
  for (const char* expected :
       {"cases.csv:3: case_type: ", "cases.csv:4: opened_on: ", "cases.csv:5: caseworker: ",
        "cases.csv:6: the row has 4 field(s)",
        "expectations.csv:3: expected_month: ", "expectations.csv:4: risk: ",
        "expectations.csv:5: case_ref: ", "closures.csv:2: outcome: ", "nothing was committed"}) {
    EXPECT_NE(report.find(expected), std::string::npos) << "missing \"" << expected << "\" in:\n"
                                                        << report;
  }
  EXPECT_EQ(report.find("cases.csv:2:"), std::string::npos)
      << report;  // the good rows are not named
  EXPECT_EQ(report.find("expectations.csv:2:"), std::string::npos) << report;
  EXPECT_EQ(Count(db_->conninfo(), "cases"), 0);
  EXPECT_EQ(Count(db_->conninfo(), "expectation"), 0);
  EXPECT_EQ(Count(db_->conninfo(), "case_event"), 0);
  EXPECT_EQ(Count(db_->conninfo(), "staff"), staff_before);

  // The binary says the same and exits non-zero (with a stored session for the admin).
  ASSERT_TRUE(SaveIdentity(dir_ / "login.json", env_.identity).ok());
  setenv("FORECASTCTL_CONFIG", (dir_ / "login.json").c_str(), 1);
  std::string output;
  const int code = forecast::testing::RunCommand(
      {FORECASTCTL_BIN, "--server", service_->address(), "--job-centre", "T1", "--staff", "ADM1",
       "import", "--dir", (dir_ / "in").string()},
      &output);
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("cases.csv:3: case_type: "), std::string::npos) << output;
  EXPECT_EQ(Count(db_->conninfo(), "cases"), 0);
}

TEST_F(ImportIntegrationTest, UnknownStaffAreCreatedOnlyWhenTheAdminAsks) {
  WriteFile(dir_ / "in" / "cases.csv",
            "case_ref,case_type,opened_on,team,caseworker\nS-000010,SDP,2024-01-08,T09,CW0901\n");
  ASSERT_EQ(Import(env_, (dir_ / "in").string(), ImportOptions{}, false), 1);
  EXPECT_EQ(Count(db_->conninfo(), "cases"), 0);
  ImportOptions create;
  create.create_missing_staff = true;
  // Only an admin may create staff: a caseworker is refused before anything is looked at.
  As("CW0101");
  ASSERT_EQ(Import(env_, (dir_ / "in").string(), create, false), 1);
  EXPECT_NE(err_.str().find("PERMISSION_DENIED"), std::string::npos) << err_.str();
  EXPECT_EQ(Count(db_->conninfo(), "cases"), 0);
  As("ADM1");
  out_.str("");
  ASSERT_EQ(Import(env_, (dir_ / "in").string(), create, false), 0) << out_.str();
  EXPECT_NE(out_.str().find("created 1 staff member(s)"), std::string::npos) << out_.str();
  EXPECT_EQ(Count(db_->conninfo(), "cases"), 1);
}

#ifdef FORECAST_SERVICE_BIN
// The projection export from the real forecast service reading what the import committed.
TEST_F(ImportIntegrationTest, ProjectionExportHasTheDocumentedHeaderAndRows) {
  WriteFile(dir_ / "in" / "cases.csv", kGoodCases);
  WriteFile(dir_ / "in" / "expectations.csv", kGoodExpectations);
  ASSERT_EQ(Import(env_, (dir_ / "in").string(), ImportOptions{}, false), 0) << out_.str();
  std::vector<std::string> argv = {FORECAST_SERVICE_BIN, "--db",
                                   db_->conninfo_as(forecast::testing::kForecastServiceRole),
                                   "--port", "0"};
  for (const std::string& flag : ServiceSecurityFlags(false)) argv.push_back(flag);
  auto forecast = ServiceProcess::Start(argv, absl::Seconds(60));
  ASSERT_TRUE(forecast.ok()) << forecast.status();
  env_.identity.forecast = (*forecast)->address();
  As("CW0101");  // a caseworker may read the own team's projection
  ProjectionQuery query;
  query.scope = "team:T01";
  query.months = 3;
  query.as_of = "2024-04-15";
  out_.str("");
  ASSERT_EQ(ExportProjection(env_, query, Format::kCsv), 0) << err_.str();
  std::vector<std::string> lines;
  std::istringstream text(out_.str());
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  ASSERT_GE(lines.size(), 2u) << out_.str();
  EXPECT_EQ(lines[0], "month,scope,outcome,expected,p10,p90");
  bool has_total = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    CsvReader reader(lines[i]);
    CsvRecord record;
    ASSERT_TRUE(reader.Next(&record));
    ASSERT_EQ(record.fields.size(), 6u) << lines[i];
    EXPECT_EQ(record.fields[1], "T01") << lines[i];
    EXPECT_LE(std::stod(record.fields[4]), std::stod(record.fields[5])) << lines[i];  // p10 <= p90
    has_total |= record.fields[2] == "ALL";
  }
  EXPECT_TRUE(has_total) << out_.str();

  // A scope the caller may not read is refused, and nothing is printed as if it were data.
  query.scope = "team:T02";
  out_.str("");
  EXPECT_EQ(ExportProjection(env_, query, Format::kCsv), 1);
  EXPECT_EQ(out_.str(), "");
  EXPECT_NE(err_.str().find("PERMISSION_DENIED"), std::string::npos) << err_.str();
}
#endif

}  // namespace
}  // namespace forecast::cli
