// The binaries as scripts use them: forecast-admin sets up a job centre (idempotently) and
// case-service, started on port 0, announces its port, answers, and stops cleanly on SIGTERM.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "forecast/v1/case_service.grpc.pb.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast::testing {
namespace {

// Runs argv to completion; returns the exit code (-1 when it did not exit normally).
int RunProgram(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, STDOUT_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(CaseBinaries, AdminSetsUpAndTheServiceAnnouncesItsPortAndStopsOnSigterm) {
  auto db = TestDatabase::Create();
  ASSERT_TRUE(db.ok()) << db.status();
  const std::string conninfo = (*db)->conninfo();
  const std::string admin = FORECAST_ADMIN_BINARY;
  for (int round = 0; round < 2; ++round) {  // the second round must change nothing and succeed
    ASSERT_EQ(RunProgram({admin, "create-job-centre", "--db", conninfo, "--code", "DEMO", "--name",
                          "Jobcenter Demo", "--admin-code", "admin"}),
              0);
    ASSERT_EQ(RunProgram({admin, "add-unit", "--db", conninfo, "--job-centre", "DEMO", "--code",
                          "D1", "--name", "Dept", "--kind", "DEPARTMENT"}),
              0);
    ASSERT_EQ(RunProgram({admin, "add-unit", "--db", conninfo, "--job-centre", "DEMO", "--code",
                          "T1", "--name", "Team", "--kind", "TEAM", "--parent", "D1"}),
              0);
    ASSERT_EQ(RunProgram({admin, "add-staff", "--db", conninfo, "--job-centre", "DEMO", "--code",
                          "kim", "--role", "TEAM_LEADER", "--team", "T1", "--name", "Kim"}),
              0);
  }
  // A role outside the set is a usage error (2), refused by the flag parser before any database
  // work; a job centre that does not exist is a failure of the work itself (1).
  EXPECT_EQ(RunProgram({admin, "add-staff", "--db", conninfo, "--job-centre", "DEMO", "--code", "x",
                        "--role", "BOSS"}),
            2);
  EXPECT_EQ(RunProgram({admin, "add-staff", "--db", conninfo, "--job-centre", "NONE", "--code", "x",
                        "--role", "MANAGER"}),
            1);
  EXPECT_EQ(RunProgram({admin, "frobnicate", "--db", conninfo, "--code", "x"}), 2);

  int out[2];
  ASSERT_EQ(pipe(out), 0);
  // The service runs as its own database role (the migrations ran as the owner, as deployed).
  const std::string service_conninfo = (*db)->conninfo_as(kCaseServiceRole);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    std::vector<std::string> args = {CASE_SERVICE_BINARY, "--db", service_conninfo, "--port", "0"};
    for (const std::string& flag : ServiceSecurityFlags(true)) args.push_back(flag);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  FILE* stdout_of_service = fdopen(out[0], "r");
  int port = 0;
  char line[512];
  while (port == 0 && std::fgets(line, sizeof line, stdout_of_service) != nullptr) {
    const std::string text(line);
    const std::string marker = "case-service listening on 127.0.0.1:";
    if (text.rfind(marker, 0) == 0) {
      ASSERT_TRUE(absl::SimpleAtoi(text.substr(marker.size()), &port)) << text;
    }
  }
  ASSERT_GT(port, 0);

  auto stub = v1::CaseService::NewStub(TlsChannel(port));
  v1::StaffMember me;
  grpc::Status status =
      stub->WhoAmI(ContextAs("DEMO", "kim", absl::Seconds(20)).get(), v1::WhoAmIRequest(), &me);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(me.role(), v1::TEAM_LEADER);
  EXPECT_EQ(me.team(), "T1");

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int wait_status = 0;
  pid_t done = 0;
  for (int i = 0; i < 200 && done == 0; ++i) {
    done = waitpid(pid, &wait_status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &wait_status, 0);
    FAIL() << "case-service did not stop within 10 s of SIGTERM";
  }
  EXPECT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), 0);
  std::fclose(stdout_of_service);
}

}  // namespace
}  // namespace forecast::testing
