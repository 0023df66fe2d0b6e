// Who the command-line client is and where it talks to: the identity `forecastctl login`
// stores, and the gRPC call context every command builds from it.
#ifndef CLIENTS_CLI_SESSION_H_
#define CLIENTS_CLI_SESSION_H_

#include <filesystem>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace forecast::cli {

// The caller as the services know it (metadata "x-job-centre" and "x-staff").
struct Identity {
  std::string server;      // host:port of the case service (or the forecast service)
  std::string forecast;    // host:port of the forecast service; empty: same as server
  std::string job_centre;  // job centre code
  std::string staff;       // staff code
};

// $FORECASTCTL_CONFIG when set, else $HOME/.config/forecastctl.json. Thread-safe.
std::filesystem::path ConfigPath();

// Reads an identity written by SaveIdentity. NOT_FOUND when the file does not exist,
// INVALID_ARGUMENT when it is not the expected JSON. Thread-safe.
absl::StatusOr<Identity> LoadIdentity(const std::filesystem::path& path);

// Writes `identity` as JSON (mode 0600, parent folders created). Thread-safe per path.
absl::Status SaveIdentity(const std::filesystem::path& path, const Identity& identity);

// Sets the caller metadata and a deadline `timeout` from now on `context`. Thread-safe.
void PrepareContext(grpc::ClientContext* context, const Identity& identity, absl::Duration timeout);

// An insecure channel to `address` (TLS is terminated in front of the services). Thread-safe.
std::shared_ptr<grpc::Channel> OpenChannel(const std::string& address);

// gRPC status in absl terms, code and message kept. Thread-safe (pure).
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_SESSION_H_
