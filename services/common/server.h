// Starting a gRPC server the way every service of the product does: TLS (tls.h), health checking
// on, server reflection only when asked for (the services' --reflection flag; off in deploy/k8s),
// bound to a host and port (0 picks a free one), and graceful shutdown on SIGTERM/SIGINT for
// binaries.
#ifndef SERVICES_COMMON_SERVER_H_
#define SERVICES_COMMON_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/access_token.h"

namespace forecast {

struct RunningServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;  // the bound port
};

// Registers `services` (not owned; they must outlive the server), enables the default health
// service (overall status "" SERVING) and, when `reflection`, server reflection, and starts
// listening on host:port with `credentials`: ServerTlsCredentials (tls.h) for every running
// service; plain text (grpc::InsecureServerCredentials) is for nothing but tests that prove it is
// refused. UNAVAILABLE when the port cannot be bound. Thread-safe.
absl::StatusOr<RunningServer> StartGrpcServer(const std::vector<grpc::Service*>& services,
                                              const std::string& host, int port,
                                              std::shared_ptr<grpc::ServerCredentials> credentials,
                                              int max_message_bytes = 64 << 20,
                                              bool reflection = false);

// The security files every service binary is given (flags --tls-cert, --tls-key,
// --tls-client-ca, --token-public-key).
struct ServiceSecurityFiles {
  std::string tls_cert;          // PEM certificate chain of the server
  std::string tls_key;           // its PEM private key
  std::string tls_client_ca;     // PEM CA of client certificates (requested, not required)
  std::string token_public_key;  // PEM Ed25519 public key that verifies access tokens
};

struct ServiceSecurity {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::unique_ptr<AccessTokenVerifier> verifier;
};

// Loads the files. INVALID_ARGUMENT naming the flag when one is missing or unreadable: a service
// never starts without TLS and a token key. Thread-safe.
absl::StatusOr<ServiceSecurity> LoadServiceSecurity(const ServiceSecurityFiles& files);

// Turns off Abseil's mutex deadlock detector for the process. Debian builds Abseil without
// NDEBUG, so the detector runs on every absl::Mutex acquisition (gRPC's own included) under one
// process-wide lock (2% of the case service's CPU under writes, and waits on that lock, in issue
// 10's profile). Tests keep it.
// Call first thing in a service's main(). Not thread-safe.
void TurnOffMutexDeadlockDetection();

// Blocks SIGTERM and SIGINT in the calling thread and the threads it starts afterwards, so that
// WaitForShutdownSignal can collect them. Call first thing in main(). Not thread-safe.
void BlockShutdownSignals();

// Waits for SIGTERM or SIGINT (blocked beforehand) and returns its number. Thread-safe.
int WaitForShutdownSignal();

// Stops accepting calls and waits up to `grace` for running calls, then cancels them.
// Thread-safe.
void ShutdownGracefully(grpc::Server& server, absl::Duration grace = absl::Seconds(5));

}  // namespace forecast

#endif  // SERVICES_COMMON_SERVER_H_
