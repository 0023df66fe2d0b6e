// gateway --port N --case ADDR --forecast ADDR [--web DIR] [--demo-password P] [--host H]
//         [--secure-cookie] [--public-url URL] [--oidc-ca-file PEM]
// Serves the web app and HTTP+JSON over the case and forecast services until SIGINT/SIGTERM.
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "services/gateway/gateway_server.h"
#include "services/gateway/rpc_transcoder.h"
#include "services/gateway/session_store.h"

namespace {

int Usage(const std::string& problem) {
  std::cerr << "gateway: " << problem << "\n"
            << "usage: gateway --port N --case HOST:PORT --forecast HOST:PORT [--web DIR]\n"
            << "               [--demo-password P] [--host ADDR] [--secure-cookie]\n"
            << "               [--public-url URL] [--oidc-ca-file PEM]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  forecast::gateway::GatewayOptions options;
  std::string case_address;
  std::string forecast_address;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") return Usage("help");
    if (flag == "--secure-cookie") {
      options.secure_cookie = true;
      continue;
    }
    if (i + 1 >= argc) return Usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--port") {
      char* end = nullptr;
      const long port = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || port < 0 || port > 65535) return Usage("--port: not a port: " + value);
      options.port = static_cast<int>(port);
    } else if (flag == "--case") {
      case_address = value;
    } else if (flag == "--forecast") {
      forecast_address = value;
    } else if (flag == "--web") {
      options.web_dir = value;
    } else if (flag == "--demo-password") {
      options.demo_password = value;
    } else if (flag == "--public-url") {
      options.public_url = value;
    } else if (flag == "--oidc-ca-file") {
      options.oidc_ca_file = value;
    } else if (flag == "--host") {
      options.host = value;
    } else {
      return Usage("unknown flag " + flag);
    }
  }
  if (case_address.empty()) return Usage("--case is required");
  if (forecast_address.empty()) return Usage("--forecast is required");

  // Signals are taken synchronously by sigwait below; block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a browser that went away must not end the process

  auto case_channel = grpc::CreateChannel(case_address, grpc::InsecureChannelCredentials());
  std::map<std::string, std::shared_ptr<grpc::Channel>> backends = {
      {"CaseService", case_channel},
      {"IdentityService", case_channel},  // hosted by the case service
      {"ForecastService",
       grpc::CreateChannel(forecast_address, grpc::InsecureChannelCredentials())},
  };
  forecast::gateway::RpcTranscoder transcoder(backends, absl::Seconds(30));
  forecast::gateway::SessionStore sessions(absl::Hours(12), [] { return absl::Now(); });
  forecast::gateway::GatewayServer server(options, transcoder, sessions);
  absl::StatusOr<int> port = server.Start();
  if (!port.ok()) {
    std::cerr << "gateway: " << port.status().message() << std::endl;
    return 1;
  }
  std::cout << "gateway listening on http://" << options.host << ":" << *port << std::endl;

  int received = 0;
  sigwait(&stop_signals, &received);
  std::cout << "gateway stopping" << std::endl;
  server.Stop();
  return 0;
}
