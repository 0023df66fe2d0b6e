// gateway --port N --case ADDR --forecast ADDR [--web DIR] [flags, see Usage]
// Serves the web app and HTTP+JSON over the case and forecast services until SIGINT/SIGTERM,
// then stops gracefully (requests in flight finish, event streams end with `event: shutdown`).
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "services/common/command_line.h"
#include "services/common/server.h"
#include "services/gateway/authenticator.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/rpc_transcoder.h"

namespace {

// A problem found after parsing (files, pairs of flags): said the way CLI11 says its own.
int Usage(const std::string& problem) {
  std::cerr << "gateway: " << problem << "\nRun with --help for the flags.\n";
  return 2;
}

bool ReadFile(const std::string& path, std::string* content) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  std::ostringstream out;
  out << file.rdbuf();
  *content = out.str();
  return true;
}

// Thousands of open event streams need thousands of descriptors: raise the soft limit to the
// hard one.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  forecast::TurnOffMutexDeadlockDetection();
  forecast::gateway::GatewayOptions options;
  std::string case_address;
  std::string forecast_address;
  std::string grpc_ca, grpc_cert, grpc_key, grpc_server_name;
  double grace_seconds = 10;
  std::string login = "identity";
  CLI::App app{"Serves the web app and HTTP+JSON over the case and forecast services.", "gateway"};
  app.add_option("--port", options.http.port, "HTTP(S) port (0: any free port)")
      ->required()
      ->check(CLI::Range(0, 65535));
  app.add_option("--case", case_address, "the case service, HOST:PORT")->required();
  app.add_option("--forecast", forecast_address, "the forecast service, HOST:PORT")->required();
  app.add_option("--web", options.api.web_dir, "directory of the built web app");
  app.add_option("--host", options.http.host, "address to listen on")->capture_default_str();
  app.add_option("--threads", options.http.threads, "event-loop threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--login", login,
                 "sign-in and sessions: IdentityService on the case service (the only mode; "
                 "the services verify tokens)")
      ->check(CLI::IsMember({"identity"}));
  app.add_option("--tls-cert", options.http.tls_cert_file, "serve HTTPS with this certificate");
  app.add_option("--tls-key", options.http.tls_key_file, "and this key");
  app.add_option("--ca,--grpc-ca", grpc_ca,
                 "PEM CA of the services' certificates (required: the services speak TLS only; "
                 "deploy/scripts/pki.sh makes one)")
      ->required();
  app.add_option("--tls-client-cert,--grpc-cert", grpc_cert,
                 "client certificate for mutual TLS to the services");
  app.add_option("--tls-client-key,--grpc-key", grpc_key, "its key");
  app.add_option("--grpc-server-name", grpc_server_name, "the name in the services' certificate");
  app.add_option("--allowed-origin", options.api.allowed_origins,
                 "origins allowed on POST (default: the gateway's own); repeatable");
  app.add_flag("--secure-cookie", options.api.secure_cookie,
               "Secure cookie over plain HTTP (TLS at an ingress)");
  app.add_option("--public-url", options.api.public_url,
                 "the gateway as browsers reach it (single sign-on callback)");
  app.add_option("--oidc-ca-file", options.api.oidc_ca_file,
                 "CA bundle for https identity providers");
  app.add_option("--max-streams-per-session", options.streams.per_session,
                 "open event streams per session")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--max-streams-per-user", options.streams.per_user, "open event streams per user")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--max-connections-per-address", options.http.max_connections_per_address,
                 "connections per client address")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--shutdown-grace", grace_seconds,
                 "seconds requests in flight get to finish on SIGTERM")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  if (std::optional<int> exit_code = forecast::ParseCommandLine(app, argc, argv)) return *exit_code;
  if (options.http.tls_cert_file.empty() != options.http.tls_key_file.empty()) {
    return Usage("--tls-cert and --tls-key go together");
  }
  options.shutdown_grace = absl::Seconds(grace_seconds);
  RaiseFileLimit();

  // Signals are taken synchronously by sigwait below; block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a browser that went away must not end the process

  grpc::ChannelArguments arguments;
  grpc::SslCredentialsOptions ssl;
  if (!ReadFile(grpc_ca, &ssl.pem_root_certs)) return Usage("--ca: cannot read " + grpc_ca);
  if (!grpc_cert.empty() && !ReadFile(grpc_cert, &ssl.pem_cert_chain)) {
    return Usage("--tls-client-cert: cannot read " + grpc_cert);
  }
  if (!grpc_key.empty() && !ReadFile(grpc_key, &ssl.pem_private_key)) {
    return Usage("--tls-client-key: cannot read " + grpc_key);
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(ssl);
  if (!grpc_server_name.empty()) arguments.SetSslTargetNameOverride(grpc_server_name);
  auto case_channel = grpc::CreateCustomChannel(case_address, credentials, arguments);
  std::map<std::string, std::shared_ptr<grpc::Channel>> backends = {
      {"CaseService", case_channel},
      {"IdentityService", case_channel},
      {"ForecastService", grpc::CreateCustomChannel(forecast_address, credentials, arguments)},
  };
  forecast::gateway::RpcTranscoder transcoder(backends, absl::Seconds(30));
  // Sessions live in the identity service (PostgreSQL); this process caches access tokens only.
  forecast::gateway::IdentityAuthenticator authenticator(transcoder, absl::Seconds(30),
                                                         [] { return absl::Now(); });
  forecast::gateway::GatewayServer server(options, transcoder, authenticator);
  absl::StatusOr<int> port = server.Start();
  if (!port.ok()) {
    std::cerr << "gateway: " << port.status().message() << std::endl;
    return 1;
  }
  const bool tls = !options.http.tls_cert_file.empty();
  std::cout << "gateway listening on " << (tls ? "https://" : "http://") << options.http.host << ":"
            << *port << std::endl;

  int received = 0;
  sigwait(&stop_signals, &received);
  std::cout << "gateway stopping" << std::endl;
  server.Stop();
  std::cout << "gateway stopped" << std::endl;
  return 0;
}
