// gateway --port N --case ADDR --forecast ADDR [--web DIR] [flags, see Usage]
// Serves the web app and HTTP+JSON over the case and forecast services until SIGINT/SIGTERM,
// then stops gracefully (requests in flight finish, event streams end with `event: shutdown`).
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "services/gateway/authenticator.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/rpc_transcoder.h"

namespace {

int Usage(const std::string& problem) {
  std::cerr
      << "gateway: " << problem << "\n"
      << "usage: gateway --port N --case HOST:PORT --forecast HOST:PORT [--web DIR]\n"
      << "  [--host ADDR] [--threads N]\n"
      << "  [--login identity]             sign-in and sessions: IdentityService on the case\n"
      << "                                 service (the only mode; the services verify tokens)\n"
      << "  [--tls-cert PEM --tls-key PEM] serve HTTPS\n"
      << "  --ca PEM [--tls-client-cert PEM --tls-client-key PEM] [--grpc-server-name NAME]\n"
      << "                                 TLS (mutual with cert+key) to the services; required\n"
      << "  [--allowed-origin ORIGIN]...   origins allowed on POST (default: the gateway's own)\n"
      << "  [--secure-cookie]              Secure cookie over plain HTTP (TLS at an ingress)\n"
      << "  [--public-url URL]             the gateway as browsers reach it (SSO callback)\n"
      << "  [--oidc-ca-file PEM]           CA bundle for https identity providers\n"
      << "  [--max-streams-per-session N] [--max-streams-per-user N]\n"
      << "  [--max-connections-per-address N] [--shutdown-grace SECONDS]\n";
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
  forecast::gateway::GatewayOptions options;
  std::string case_address;
  std::string forecast_address;
  std::string grpc_ca, grpc_cert, grpc_key, grpc_server_name;
  double grace_seconds = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") return Usage("help");
    if (flag == "--secure-cookie") {
      options.api.secure_cookie = true;
      continue;
    }
    if (i + 1 >= argc) return Usage(flag + " needs a value");
    const std::string value = argv[++i];
    auto number = [&](int* out, int low, int high) {
      int parsed = 0;
      if (!absl::SimpleAtoi(value, &parsed) || parsed < low || parsed > high) return false;
      *out = parsed;
      return true;
    };
    if (flag == "--port") {
      if (!number(&options.http.port, 0, 65535)) return Usage("--port: not a port: " + value);
    } else if (flag == "--case") {
      case_address = value;
    } else if (flag == "--forecast") {
      forecast_address = value;
    } else if (flag == "--web") {
      options.api.web_dir = value;
    } else if (flag == "--login") {
      // The shared demo password is gone: every service verifies an access token itself.
      if (value != "identity") return Usage("--login: only identity (the services verify tokens)");
    } else if (flag == "--public-url") {
      options.api.public_url = value;
    } else if (flag == "--oidc-ca-file") {
      options.api.oidc_ca_file = value;
    } else if (flag == "--host") {
      options.http.host = value;
    } else if (flag == "--threads") {
      if (!number(&options.http.threads, 1, 256)) return Usage("--threads: 1..256");
    } else if (flag == "--tls-cert") {
      options.http.tls_cert_file = value;
    } else if (flag == "--tls-key") {
      options.http.tls_key_file = value;
    } else if (flag == "--grpc-ca" || flag == "--ca") {
      grpc_ca = value;
    } else if (flag == "--grpc-cert" || flag == "--tls-client-cert") {
      grpc_cert = value;
    } else if (flag == "--grpc-key" || flag == "--tls-client-key") {
      grpc_key = value;
    } else if (flag == "--grpc-server-name") {
      grpc_server_name = value;
    } else if (flag == "--allowed-origin") {
      options.api.allowed_origins.push_back(value);
    } else if (flag == "--max-streams-per-session") {
      if (!number(&options.streams.per_session, 1, 1000000)) return Usage(flag + ": a count");
    } else if (flag == "--max-streams-per-user") {
      if (!number(&options.streams.per_user, 1, 1000000)) return Usage(flag + ": a count");
    } else if (flag == "--max-connections-per-address") {
      if (!number(&options.http.max_connections_per_address, 1, 1000000)) {
        return Usage(flag + ": a count");
      }
    } else if (flag == "--shutdown-grace") {
      if (!absl::SimpleAtod(value, &grace_seconds) || grace_seconds < 0) {
        return Usage(flag + ": seconds");
      }
    } else {
      return Usage("unknown flag " + flag);
    }
  }
  if (case_address.empty()) return Usage("--case is required");
  if (forecast_address.empty()) return Usage("--forecast is required");
  if (options.http.tls_cert_file.empty() != options.http.tls_key_file.empty()) {
    return Usage("--tls-cert and --tls-key go together");
  }
  options.shutdown_grace = absl::Seconds(grace_seconds);
  if (grpc_ca.empty()) {
    return Usage("--ca is required: the services speak TLS only (deploy/scripts/pki.sh makes one)");
  }
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
