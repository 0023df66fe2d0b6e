// A service binary run as a child process for a test: started with --port 0, ready when it
// prints "... listening on HOST:PORT", stopped with SIGTERM when the object goes away.
#ifndef TESTS_CLI_SERVICE_PROCESS_H_
#define TESTS_CLI_SERVICE_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace forecast::testing {

class ServiceProcess {
 public:
  // Runs `argv` (argv[0] the binary's path) and waits up to `timeout` for the line containing
  // "listening on"; its last ":PORT" is the bound port. The child's stderr goes to a file in
  // the temp folder, named in errors. Not thread-safe.
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(const std::vector<std::string>& argv,
                                                               absl::Duration timeout);
  // SIGTERM, then SIGKILL after 5 s.
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  ServiceProcess(pid_t pid, int port, int stdout_fd);
  pid_t pid_;
  int port_;
  int stdout_fd_;
  std::thread drain_;  // keeps reading stdout so the child never blocks on a full pipe
};

// Runs a command to completion and returns its exit code, with its stdout in `output`.
int RunCommand(const std::vector<std::string>& argv, std::string* output);

// `text` as one word for /bin/sh, in single quotes. Thread-safe (pure).
std::string ShellQuote(const std::string& text);

}  // namespace forecast::testing

#endif  // TESTS_CLI_SERVICE_PROCESS_H_
