// What the forecastctl commands share: the call timeout, stubs, error printing, idempotency keys,
// reading a case's version, and plain-text tables.
#ifndef CLIENTS_CLI_COMMAND_SUPPORT_H_
#define CLIENTS_CLI_COMMAND_SUPPORT_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/cli/commands.h"
#include "forecast/v1/case_service.grpc.pb.h"
#include "forecast/v1/forecast_service.grpc.pb.h"
#include "forecast/v1/identity_service.grpc.pb.h"

namespace forecast::cli {

// Deadline of one ordinary call.
inline constexpr absl::Duration kCallTimeout = absl::Seconds(30);
// Concurrent calls of a bulk command (distinct cases, so they do not contend).
inline constexpr int kParallelWrites = 8;

// Prints "forecastctl: CODE: message" (with a hint for ABORTED and UNAVAILABLE) on env.err and
// returns exit code 1. Thread-safe as far as env.err is.
int Fail(const CommandEnv& env, const absl::Status& status);
int Fail(const CommandEnv& env, const grpc::Status& status);

// Stubs on a fresh channel to the case service (env.identity.server) or the forecast service
// (env.identity.forecast, else the server). Thread-safe; stubs may be shared between threads.
std::unique_ptr<v1::CaseService::Stub> CaseStub(const CommandEnv& env);
std::unique_ptr<v1::ForecastService::Stub> ForecastStub(const CommandEnv& env);
// The identity service (served with the case service at env.identity.server).
std::unique_ptr<v1::IdentityService::Stub> IdentityStub(const CommandEnv& env);

// A new random idempotency key (a token of lower-case letters and digits). Thread-safe.
std::string NewIdempotencyKey();

// The case as it is now (writes carry its version). The call's status on failure. Thread-safe.
absl::StatusOr<v1::Case> ReadCase(const CommandEnv& env, v1::CaseService::Stub& stub,
                                  const std::string& case_ref);

// A case's whole history, every page of GetCaseHistory joined, oldest first (current as of the
// first page). The first failing call's status. Thread-safe.
absl::StatusOr<v1::CaseHistory> ReadWholeHistory(const CommandEnv& env, v1::CaseService::Stub& stub,
                                                 const std::string& case_ref);

// Prints rows as a table with left-aligned columns two spaces apart. Thread-safe as far as `out`
// is.
void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

// Prints the message in Protobuf's JSON mapping on env.out; 0, or 1 via Fail. Thread-safe as far
// as env.out is.
int PrintJson(const CommandEnv& env, const google::protobuf::Message& message);

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_COMMAND_SUPPORT_H_
