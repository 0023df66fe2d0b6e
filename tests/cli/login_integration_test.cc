// forecastctl's sign-in commands against the real case-service binary (TLS, port 0) and a fresh
// database: login with a password from stdin, the 0600 session file, access token renewal,
// set-up codes, password change, the sign-in audit, logout and logout everywhere.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "clients/cli/session.h"
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

class LoginIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = t::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    PgPool pool(db_->conninfo(), 2);
    OrgAdmin admin(pool);
    ASSERT_TRUE(admin.CreateJobCentre("T1", "Test centre", "ADM1", "Admin").ok());
    ASSERT_TRUE(admin.AddUnit("T1", "T01", "Team", "TEAM", "").ok());
    ASSERT_TRUE(admin.AddStaff("T1", "CW0101", "Caseworker", "CASEWORKER", "T01", true).ok());
    SystemClock clock;
    identity::IdentityKeeper keeper(pool, clock, t::Signer());
    ASSERT_TRUE(keeper.SetPassword("T1", "ADM1", kAdminPassword).ok());

    // Access tokens live 2 s: every command below renews its token first (the client renews
    // tokens that expire within 30 s), so renewal is exercised without waiting.
    std::vector<std::string> argv = {
        CASE_SERVICE_BIN, "--db", db_->conninfo(), "--port", "0", "--access-token-lifetime", "2s"};
    for (const std::string& flag : t::ServiceSecurityFlags(true)) argv.push_back(flag);
    auto service = t::ServiceProcess::Start(argv, absl::Seconds(30));
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = std::move(*service);
    dir_ = fs::temp_directory_path() /
           ("forecastctl-login-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs forecastctl as `staff` with its own session file; `input` goes to stdin. Exit code;
  // stdout and stderr in `output`.
  int Ctl(const std::string& staff, const std::vector<std::string>& args, std::string* output,
          const std::string& input = "") {
    std::string command = "printf '%s' " + t::ShellQuote(input) +
                          " | FORECASTCTL_CONFIG=" + t::ShellQuote(Config(staff)) + " " +
                          t::ShellQuote(FORECASTCTL_BIN) + " --server " + service_->address() +
                          " --ca " + t::ShellQuote(t::Pki().ca) + " --job-centre T1 --staff " +
                          staff;
    for (const std::string& arg : args) command += " " + t::ShellQuote(arg);
    command += " 2>&1";
    output->clear();
    return t::RunCommand({"/bin/sh", "-c", command}, output);
  }

  std::string Config(const std::string& staff) { return (dir_ / (staff + ".json")).string(); }

  std::unique_ptr<t::TestDatabase> db_;
  std::unique_ptr<t::ServiceProcess> service_;
  fs::path dir_;
};

TEST_F(LoginIntegrationTest, SignInRenewSetUpCodePasswordChangeAuditAndLogout) {
  std::string out;
  ASSERT_EQ(Ctl("ADM1", {"login", "--password-stdin"}, &out, "not the password\n"), 1) << out;
  EXPECT_NE(out.find("UNAUTHENTICATED"), std::string::npos) << out;

  ASSERT_EQ(Ctl("ADM1", {"login", "--password-stdin"}, &out, std::string(kAdminPassword) + "\n"), 0)
      << out;
  EXPECT_NE(out.find("logged in as ADM1 (ADMIN)"), std::string::npos) << out;
  EXPECT_EQ(out.find(kAdminPassword), std::string::npos);
  struct stat info;
  ASSERT_EQ(stat(Config("ADM1").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto stored = LoadIdentity(Config("ADM1"));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_FALSE(stored->session_token.empty());
  const std::string first_token = stored->access_token;

  // A command renews the short-lived access token through the session.
  ASSERT_EQ(Ctl("ADM1", {"whoami"}, &out), 0) << out;
  EXPECT_NE(out.find("ADM1"), std::string::npos) << out;
  EXPECT_NE(LoadIdentity(Config("ADM1"))->access_token, first_token);

  // A set-up code for a new staff member, who chooses a password with it.
  ASSERT_EQ(Ctl("ADM1", {"admin", "setup-code", "CW0101"}, &out), 0) << out;
  std::smatch match;
  ASSERT_TRUE(
      std::regex_search(out, match, std::regex("[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")))
      << out;
  const std::string code = match.str();  // `out` is overwritten below; the match points into it
  ASSERT_EQ(Ctl("CW0101", {"login", "--setup-code", code, "--password-stdin"}, &out, "short\n"), 1)
      << out;
  EXPECT_NE(out.find("INVALID_ARGUMENT: new_password"), std::string::npos) << out;
  ASSERT_EQ(Ctl("CW0101", {"login", "--setup-code", code, "--password-stdin"}, &out,
                "first password 1\n"),
            0)
      << out;
  ASSERT_EQ(Ctl("CW0101", {"login", "--setup-code", code, "--password-stdin"}, &out,
                "first password 2\n"),
            1)
      << "a set-up code works once: " << out;
  ASSERT_EQ(Ctl("CW0101", {"login", "--password-stdin"}, &out, "first password 1\n"), 0) << out;

  ASSERT_EQ(Ctl("CW0101", {"password", "change", "--password-stdin"}, &out,
                "first password 1\nsecond password 2\n"),
            0)
      << out;
  ASSERT_EQ(Ctl("CW0101", {"whoami"}, &out), 0) << "this session survives the change: " << out;

  // The audit trail, for admins only.
  ASSERT_EQ(Ctl("CW0101", {"audit", "logins"}, &out), 1) << out;
  EXPECT_NE(out.find("PERMISSION_DENIED"), std::string::npos) << out;
  ASSERT_EQ(Ctl("ADM1", {"audit", "logins", "--format", "csv"}, &out), 0) << out;
  for (const char* kind :
       {"LOGIN_FAILED", "SETUP_CODE_ISSUED", "SETUP_CODE_REDEEMED", "PASSWORD_CHANGED", "LOGIN"}) {
    EXPECT_NE(out.find(kind), std::string::npos) << kind << " in\n" << out;
  }
  EXPECT_EQ(out.find("first password"), std::string::npos);

  // Logout forgets the tokens; the next command asks to log in.
  ASSERT_EQ(Ctl("CW0101", {"logout"}, &out), 0) << out;
  EXPECT_NE(out.find("1 session(s) ended"), std::string::npos) << out;
  ASSERT_EQ(Ctl("CW0101", {"whoami"}, &out), 1) << out;
  EXPECT_NE(out.find("forecastctl login"), std::string::npos) << out;

  // Logout everywhere ends the admin's other session too.
  const fs::path second = dir_ / "ADM1-second.json";
  fs::copy_file(Config("ADM1"), second);
  ASSERT_EQ(Ctl("ADM1", {"login", "--password-stdin"}, &out, std::string(kAdminPassword) + "\n"), 0)
      << out;
  ASSERT_EQ(Ctl("ADM1", {"logout", "--everywhere"}, &out), 0) << out;
  EXPECT_NE(out.find("2 session(s) ended"), std::string::npos) << out;
  fs::rename(second, Config("ADM1"));
  ASSERT_EQ(Ctl("ADM1", {"whoami"}, &out), 1) << out;
  EXPECT_NE(out.find("UNAUTHENTICATED"), std::string::npos) << out;
}

}  // namespace
}  // namespace forecast::cli
