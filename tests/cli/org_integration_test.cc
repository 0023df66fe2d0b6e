// Issue 12/13: setting up a job centre with forecastctl alone - departments, teams, a manager,
// caseworkers, their set-up codes, milestone metrics - over gRPC against the real case-service
// binary (TLS, port 0) and a fresh database, with no database connection string; refusals for
// non-admins and for bad input, in English and in Danish; the set-up audit trail.
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "services/case/org_admin.h"
#include "services/common/calendar.h"
#include "services/common/pg_pool.h"
#include "services/identity/identity_keeper.h"
#include "tests/cli/service_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast::cli {
namespace {

namespace fs = std::filesystem;
namespace t = ::forecast::testing;

constexpr char kAdminPassword[] = "admin password 2026";

class OrgIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = t::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    // The operator's one-time bootstrap: the job centre and its first admin with a password.
    PgPool pool(db_->conninfo(), 2);
    OrgAdmin admin(pool);
    ASSERT_TRUE(admin.CreateJobCentre("JC", "Jobcenter Test", "ADM1", "Admin").ok());
    SystemClock clock;
    identity::IdentityKeeper keeper(pool, clock, t::Signer());
    ASSERT_TRUE(keeper.SetPassword("JC", "ADM1", kAdminPassword).ok());
    std::vector<std::string> argv = {CASE_SERVICE_BIN, "--db", db_->conninfo(), "--port", "0"};
    for (const std::string& flag : t::ServiceSecurityFlags(true)) argv.push_back(flag);
    auto service = t::ServiceProcess::Start(argv, absl::Seconds(30));
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = std::move(*service);
    dir_ = fs::temp_directory_path() / ("forecastctl-org-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int Ctl(const std::string& staff, const std::vector<std::string>& args, std::string* output,
          const std::string& input = "", const std::string& lang = "C") {
    std::string command =
        "printf '%s' " + t::ShellQuote(input) + " | FORECASTCTL_LANG=" + lang +
        " FORECASTCTL_CONFIG=" + t::ShellQuote((dir_ / (staff + ".json")).string()) + " " +
        t::ShellQuote(FORECASTCTL_BIN) + " --server " + service_->address() + " --ca " +
        t::ShellQuote(t::Pki().ca) + " --job-centre JC --staff " + staff;
    for (const std::string& arg : args) command += " " + t::ShellQuote(arg);
    command += " 2>&1";
    output->clear();
    return t::RunCommand({"/bin/sh", "-c", command}, output);
  }

  std::string Scalar(const std::string& sql) {
    PgPool pool(db_->conninfo(), 1);
    std::string value;
    EXPECT_TRUE(RunTransaction(pool, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) {
                  value = tx.exec1(sql)[0].c_str();
                  return absl::OkStatus();
                }).ok());
    return value;
  }

  std::unique_ptr<t::TestDatabase> db_;
  std::unique_ptr<t::ServiceProcess> service_;
  fs::path dir_;
};

TEST_F(OrgIntegrationTest, AnAdminSetsUpTheCentreWithForecastctlAlone) {
  std::string out;
  ASSERT_EQ(Ctl("ADM1", {"login", "--password-stdin"}, &out, std::string(kAdminPassword) + "\n"), 0)
      << out;
  ASSERT_EQ(
      Ctl("ADM1", {"org", "add-department", "--code", "NORD", "--name", "Afdeling Nord"}, &out), 0)
      << out;
  ASSERT_EQ(Ctl("ADM1", {"org", "add-department", "--code", "SYD", "--name", "Afdeling Syd"}, &out),
            0)
      << out;
  ASSERT_EQ(
      Ctl("ADM1", {"org", "add-team", "--code", "T1", "--name", "Team 1", "--department", "NORD"},
          &out),
      0)
      << out;
  ASSERT_EQ(Ctl("ADM1", {"org", "rename", "--code", "T1", "--name", "Team Unge"}, &out), 0) << out;
  ASSERT_EQ(Ctl("ADM1", {"org", "move-team", "--code", "T1", "--department", "SYD"}, &out), 0)
      << out;
  EXPECT_NE(out.find("moved team T1 to SYD"), std::string::npos) << out;
  ASSERT_EQ(
      Ctl("ADM1", {"staff", "add", "--code", "MGR1", "--name", "Centerchef", "--role", "manager"},
          &out),
      0)
      << out;
  ASSERT_EQ(Ctl("ADM1",
                {"staff", "add", "--code", "CW1", "--name", "Sagsbehandler Et", "--role",
                 "CASEWORKER", "--team", "T1"},
                &out),
            0)
      << out;
  ASSERT_EQ(Ctl("ADM1", {"staff", "set-role", "--code", "CW1", "--role", "team_leader"}, &out), 0)
      << out;
  ASSERT_EQ(Ctl("ADM1", {"staff", "rename", "--code", "CW1", "--name", "Teamleder Et"}, &out), 0)
      << out;

  // The manager's first sign-in with a set-up code from the admin.
  ASSERT_EQ(Ctl("ADM1", {"staff", "setup-code", "--code", "MGR1"}, &out), 0) << out;
  std::smatch match;
  ASSERT_TRUE(
      std::regex_search(out, match, std::regex("[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")))
      << out;
  const std::string code = match.str();
  ASSERT_EQ(Ctl("MGR1", {"login", "--setup-code", code, "--password-stdin"}, &out,
                "manager password 1\n"),
            0)
      << out;
  ASSERT_EQ(Ctl("MGR1", {"whoami"}, &out), 0) << out;
  EXPECT_NE(out.find("MGR1 MANAGER"), std::string::npos) << out;

  // What the organisation now is.
  ASSERT_EQ(Ctl("ADM1", {"org", "show"}, &out), 0) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("TEAM +T1 +Team Unge +SYD"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("CW1 +Teamleder Et +TEAM_LEADER +T1 +yes"))) << out;

  // Milestone metrics.
  ASSERT_EQ(Ctl("ADM1",
                {"field", "set", "--code", "in_internship", "--label-da", "I praktik", "--label-en",
                 "In internship", "--type", "BOOL"},
                &out),
            0)
      << out;
  ASSERT_EQ(Ctl("ADM1",
                {"metric", "set", "--code", "internships", "--label-da", "Nye praktikker", "--kind",
                 "FIELD_TURNED_TRUE", "--field", "in_internship"},
                &out),
            0)
      << out;
  ASSERT_EQ(Ctl("ADM1", {"metric", "list"}, &out), 0) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("internships +Nye praktikker"))) << out;

  // Deactivation: the manager's session stops working.
  ASSERT_EQ(Ctl("ADM1", {"staff", "deactivate", "--code", "MGR1"}, &out), 0) << out;
  EXPECT_EQ(Ctl("MGR1", {"whoami"}, &out), 1) << out;

  // The audit trail names who changed what.
  ASSERT_EQ(Ctl("ADM1",
                {"audit", "changes", "--kind", "STAFF", "--code", "MGR1", "--format", "csv"}, &out),
            0)
      << out;
  EXPECT_NE(out.find("ADM1,UpsertStaff,STAFF,MGR1"), std::string::npos) << out;
  EXPECT_EQ(Scalar("SELECT count(*) FROM admin_change WHERE target_kind = 'STAFF' AND "
                   "target_code = 'MGR1'"),
            "2");  // added, deactivated
}

TEST_F(OrgIntegrationTest, NonAdminsAndBadInputAreRefusedInEnglishAndDanish) {
  std::string out;
  ASSERT_EQ(Ctl("ADM1", {"login", "--password-stdin"}, &out, std::string(kAdminPassword) + "\n"), 0)
      << out;
  ASSERT_EQ(Ctl("ADM1", {"org", "add-team", "--code", "T1", "--name", "Team 1"}, &out), 0) << out;
  ASSERT_EQ(Ctl("ADM1", {"staff", "add", "--code", "MGR1", "--role", "MANAGER"}, &out), 0) << out;
  const std::string before = Scalar("SELECT count(*) FROM admin_change");

  EXPECT_EQ(Ctl("ADM1", {"staff", "add", "--code", "CW1", "--role", "CASEWORKER"}, &out), 1) << out;
  EXPECT_NE(out.find("INVALID_ARGUMENT: staff.team"), std::string::npos) << out;
  EXPECT_EQ(Ctl("ADM1", {"staff", "add", "--code", "CW1", "--role", "CASEWORKER"}, &out, "",
                "da_DK.UTF-8"),
            1)
      << out;
  EXPECT_NE(out.find("staff.team: sagsbehandlere og teamledere skal høre til et team"),
            std::string::npos)
      << out;
  EXPECT_EQ(Ctl("ADM1", {"staff", "add", "--code", "CW1", "--role", "boss"}, &out), 2) << out;
  EXPECT_EQ(Ctl("ADM1", {"org", "move-team", "--code", "T1", "--department", "NOPE"}, &out, "",
                "da_DK.UTF-8"),
            1)
      << out;
  EXPECT_NE(out.find("Afdelingen \"NOPE\" findes ikke."), std::string::npos) << out;
  EXPECT_EQ(Ctl("ADM1", {"staff", "deactivate", "--code", "ADM1"}, &out, "", "da_DK.UTF-8"), 1)
      << out;
  EXPECT_NE(out.find("sidste aktive administrator"), std::string::npos) << out;
  EXPECT_EQ(Scalar("SELECT count(*) FROM admin_change"), before);

  // The manager may not set up the centre.
  ASSERT_EQ(Ctl("ADM1", {"staff", "setup-code", "--code", "MGR1"}, &out), 0) << out;
  std::smatch match;
  ASSERT_TRUE(
      std::regex_search(out, match, std::regex("[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")))
      << out;
  const std::string code = match.str();
  ASSERT_EQ(Ctl("MGR1", {"login", "--setup-code", code, "--password-stdin"}, &out,
                "manager password 1\n"),
            0)
      << out;
  EXPECT_EQ(Ctl("MGR1", {"org", "add-team", "--code", "T2", "--name", "Team 2"}, &out), 1) << out;
  EXPECT_NE(out.find("PERMISSION_DENIED"), std::string::npos) << out;
  EXPECT_EQ(
      Ctl("MGR1", {"staff", "set-team", "--code", "MGR1", "--team", "T1"}, &out, "", "da_DK.UTF-8"),
      1)
      << out;
  EXPECT_NE(out.find("Du har ikke adgang til dette."), std::string::npos) << out;
  EXPECT_EQ(Ctl("MGR1", {"audit", "changes"}, &out), 1) << out;
  EXPECT_EQ(Scalar("SELECT count(*) FROM admin_change"), before);
}

}  // namespace
}  // namespace forecast::cli
