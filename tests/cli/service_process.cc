#include "tests/cli/service_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace forecast::testing {
namespace {

std::vector<char*> Argv(const std::vector<std::string>& args) {
  std::vector<char*> out;
  for (const std::string& a : args) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    const std::vector<std::string>& argv, absl::Duration timeout) {
  int out[2];
  if (pipe(out) != 0) return absl::InternalError("pipe failed");
  static int started = 0;
  const std::string log = absl::StrCat(::testing::TempDir(), "cli-test-", getpid(), "-", started++,
                                       "-", argv[0].substr(argv[0].rfind('/') + 1), ".stderr.log");
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    const int err = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    close(out[0]);
    std::vector<char*> args = Argv(argv);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  const absl::Time deadline = absl::Now() + timeout;
  std::string text;
  while (true) {
    const size_t at = text.find("listening on");
    const size_t eol = at == std::string::npos ? std::string::npos : text.find('\n', at);
    if (eol != std::string::npos) {
      const std::string line = text.substr(at, eol - at);
      const size_t colon = line.rfind(':');
      int port = 0;
      std::string digits;
      for (size_t i = colon + 1; i < line.size() && isdigit(static_cast<unsigned char>(line[i]));
           ++i)
        digits += line[i];
      if (colon == std::string::npos || !absl::SimpleAtoi(digits, &port) || port <= 0) break;
      return std::unique_ptr<ServiceProcess>(new ServiceProcess(pid, port, out[0]));
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    pollfd pfd{out[0], POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) break;
    char buffer[4096];
    const ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;  // the child ended
    text.append(buffer, static_cast<size_t>(n));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  close(out[0]);
  return absl::UnavailableError(
      absl::StrCat(argv[0], " did not report its port; stdout: \"", text, "\"; stderr in ", log));
}

ServiceProcess::ServiceProcess(pid_t pid, int port, int stdout_fd)
    : pid_(pid), port_(port), stdout_fd_(stdout_fd), drain_([fd = stdout_fd] {
        char buffer[4096];
        while (read(fd, buffer, sizeof buffer) > 0) {
        }
      }) {}

ServiceProcess::~ServiceProcess() {
  kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      drain_.join();  // the pipe reached end of file when the child ended
      close(stdout_fd_);
      return;
    }
    usleep(100 * 1000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  drain_.join();
  close(stdout_fd_);
}

int RunCommand(const std::vector<std::string>& argv, std::string* output) {
  int out[2];
  if (pipe(out) != 0) return -1;
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    std::vector<char*> args = Argv(argv);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  char buffer[4096];
  ssize_t n;
  while ((n = read(out[0], buffer, sizeof buffer)) > 0)
    output->append(buffer, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace forecast::testing
