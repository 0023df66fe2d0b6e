// Command-line parsing shared by every binary: CLI11 (as forecastctl uses it) plus the value
// types the services take (durations, the TLS and token files). Not thread-safe: call from main.
#ifndef SERVICES_COMMON_COMMAND_LINE_H_
#define SERVICES_COMMON_COMMAND_LINE_H_

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "services/common/server.h"

namespace forecast {

// Parses argv into `app`. nullopt: go on. Otherwise the exit code to return from main: 0 after
// --help (the help is printed), 2 after a usage error (the problem and a hint go to stderr).
std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv);

// Adds `--name` taking a positive duration as Abseil writes them ("90s", "15m", "12h"); `out`
// keeps its value when the flag is absent.
CLI::Option* AddDurationOption(CLI::App& app, const std::string& name, absl::Duration* out,
                               const std::string& help);

// Adds the flags every gRPC service takes for TLS and access tokens: --tls-cert, --tls-key and
// --token-public-key (required) and --tls-client-ca.
void AddServiceSecurityOptions(CLI::App& app, ServiceSecurityFiles* files);

}  // namespace forecast

#endif  // SERVICES_COMMON_COMMAND_LINE_H_
