// Who the command-line client is and where it talks to: the session `forecastctl login` stores
// (mode 0600: it holds the session token and the current access token), the TLS channel to the
// services, and the gRPC call context every command builds from it.
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

// The caller and where the services are. The tokens are secrets: the file is mode 0600.
struct Identity {
  std::string server;      // host:port of the case service (which also serves the identity service)
  std::string forecast;    // host:port of the forecast service; empty: same as server
  std::string job_centre;  // job centre code
  std::string staff;       // staff code
  std::string ca_file;     // PEM CA of the services' certificates; empty: the system's CAs
  std::string session_token;       // from Login; renews the access token (RefreshSession)
  std::string session_expires_at;  // RFC 3339
  std::string access_token;        // "authorization: Bearer ..." on every call
  std::string access_expires_at;   // RFC 3339
};

// $FORECASTCTL_CONFIG when set, else $HOME/.config/forecastctl.json. Thread-safe.
std::filesystem::path ConfigPath();

// Reads an identity written by SaveIdentity. NOT_FOUND when the file does not exist,
// INVALID_ARGUMENT when it is not the expected JSON. Thread-safe.
absl::StatusOr<Identity> LoadIdentity(const std::filesystem::path& path);

// Writes `identity` as JSON (mode 0600 from the start, parent folders created). Thread-safe per
// path.
absl::Status SaveIdentity(const std::filesystem::path& path, const Identity& identity);

// True when the access token is missing or expires within `margin` of `now`. Thread-safe (pure).
bool AccessTokenStale(const Identity& identity, absl::Time now,
                      absl::Duration margin = absl::Seconds(30));

// Sets "authorization: Bearer <access token>" (when there is one) and a deadline `timeout` from
// now on `context`. Thread-safe.
void PrepareContext(grpc::ClientContext* context, const Identity& identity, absl::Duration timeout);

// A TLS channel to `address` trusting identity.ca_file (or the system's CAs). Thread-safe.
std::shared_ptr<grpc::Channel> OpenChannel(const std::string& address, const Identity& identity);

// gRPC status in absl terms, code and message kept. Thread-safe (pure).
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_SESSION_H_
