#include "services/common/server.h"

#include <signal.h>

#include <algorithm>
#include <memory>
#include <string>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/common/observability/observability.h"
#include "services/common/tls.h"

namespace forecast {
namespace {

// Decides reflection per server. Linking grpc++_reflection registers its plugin for every
// server the process builds (a static initialiser), so this option removes it from the
// builder's plugins and, only when reflection is wanted, adds one back.
class ReflectionOption final : public grpc::ServerBuilderOption {
 public:
  explicit ReflectionOption(bool enabled) : enabled_(enabled) {}
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    grpc::reflection::ProtoServerReflectionPlugin probe;
    const std::string name = probe.name();
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [&](const std::unique_ptr<grpc::ServerBuilderPlugin>& plugin) {
                                    return plugin != nullptr && plugin->name() == name;
                                  }),
                   plugins->end());
    if (enabled_)
      plugins->push_back(std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>());
  }

 private:
  const bool enabled_;
};

// Handler threads kept waiting for calls; above it a finished call's thread ends.
constexpr int kMaxIdlePollers = 64;

}  // namespace

absl::StatusOr<RunningServer> StartGrpcServer(const std::vector<grpc::Service*>& services,
                                              const std::string& host, int port,
                                              std::shared_ptr<grpc::ServerCredentials> credentials,
                                              int max_message_bytes, bool reflection) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.SetOption(std::make_unique<ReflectionOption>(reflection));
  RunningServer running;
  builder.AddListeningPort(absl::StrCat(host, ":", port), std::move(credentials), &running.port);
  // Keep idle handler threads polling instead of ending them: gRPC's defaults (1-2 pollers) made
  // the server start and end a thread for most calls under concurrent load (issue 10 profile).
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kMaxIdlePollers);
  builder.SetMaxReceiveMessageSize(max_message_bytes);
  builder.SetMaxSendMessageSize(max_message_bytes);
  for (grpc::Service* service : services) builder.RegisterService(service);
  // Every call counted, timed, logged and given a request id (services/common/observability).
  builder.experimental().SetInterceptorCreators(obs::ServerInterceptors());
  running.server = builder.BuildAndStart();
  if (running.server == nullptr || running.port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", host, ":", port));
  }
  return running;
}

absl::StatusOr<ServiceSecurity> LoadServiceSecurity(const ServiceSecurityFiles& files) {
  const auto missing = [](const char* flag) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " is required (deploy/scripts/pki.sh makes one)"));
  };
  if (files.tls_cert.empty()) return missing("tls-cert");
  if (files.tls_key.empty()) return missing("tls-key");
  if (files.token_public_key.empty()) return missing("token-public-key");
  ServiceSecurity security;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerTlsCredentials({files.tls_cert, files.tls_key, files.tls_client_ca});
  if (!credentials.ok()) return absl::InvalidArgumentError(credentials.status().message());
  security.credentials = *credentials;
  absl::StatusOr<Ed25519PublicKey> key = ReadPublicKeyFile(files.token_public_key);
  if (!key.ok())
    return absl::InvalidArgumentError(absl::StrCat("--token-public-key: ", key.status().message()));
  security.verifier = std::make_unique<AccessTokenVerifier>(*key);
  return security;
}

void TurnOffMutexDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int signal_number = 0;
  while (sigwait(&set, &signal_number) != 0) {
  }
  return signal_number;
}

void ShutdownGracefully(grpc::Server& server, absl::Duration grace) {
  server.Shutdown(absl::ToChronoTime(absl::Now() + grace));
}

}  // namespace forecast
