#include "services/gateway/gateway_server.h"

#include <utility>

namespace forecast::gateway {

std::string ShutdownFrame() {
  return SseFrame("shutdown", R"({"reason":"the gateway is stopping; reconnect"})");
}

GatewayServer::GatewayServer(GatewayOptions options, const RpcTranscoder& transcoder,
                             Authenticator& authenticator)
    : options_(std::move(options)),
      transcoder_(transcoder),
      hub_(transcoder, options_.streams),
      handler_(options_.api, transcoder, authenticator, hub_),
      http_(std::make_unique<HttpServer>(
          options_.http, [this](const HttpRequest& request, std::shared_ptr<Exchange> exchange) {
            handler_.Handle(request, std::move(exchange));
          })) {}

GatewayServer::~GatewayServer() { Stop(); }

absl::StatusOr<int> GatewayServer::Start() {
  absl::StatusOr<int> port = http_->Start();
  if (port.ok()) {
    handler_.SetListeningAddress(options_.http.host, *port, !options_.http.tls_cert_file.empty());
  }
  return port;
}

void GatewayServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  http_->Stop(options_.shutdown_grace, [this] { hub_.Shutdown(ShutdownFrame()); });
  // Callbacks of calls still in flight refer to connections; let them finish first.
  transcoder_.WaitIdle(absl::Seconds(5));
  hub_.Clear();
}

}  // namespace forecast::gateway
