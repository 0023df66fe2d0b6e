// The gateway: the Beast transport (HttpServer) in front of the API handler (routes, sessions,
// transcoding) and the stream hub (shared server-sent event streams). See README.md.
#ifndef SERVICES_GATEWAY_GATEWAY_SERVER_H_
#define SERVICES_GATEWAY_GATEWAY_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/gateway/api_handler.h"
#include "services/gateway/authenticator.h"
#include "services/gateway/http_server.h"
#include "services/gateway/rpc_transcoder.h"
#include "services/gateway/stream_hub.h"

namespace forecast::gateway {

struct GatewayOptions {
  HttpServerOptions http;
  ApiOptions api;
  StreamLimits streams;
  // On Stop: how long requests in flight and event streams may take to finish.
  absl::Duration shutdown_grace = absl::Seconds(10);
};

class GatewayServer {
 public:
  // `transcoder` and `authenticator` must outlive the server.
  GatewayServer(GatewayOptions options, const RpcTranscoder& transcoder,
                Authenticator& authenticator);
  // Stops the server if it is running.
  ~GatewayServer();
  GatewayServer(const GatewayServer&) = delete;
  GatewayServer& operator=(const GatewayServer&) = delete;

  // Binds and serves on background threads; returns the bound port. Call once.
  absl::StatusOr<int> Start();

  // Graceful stop: no new connections; requests in flight finish; every event stream gets a
  // final `event: shutdown` (the web app reconnects, to another replica) and ends; upstream
  // calls are cancelled; then the threads are joined. Idempotent; not concurrent with Start.
  void Stop();

  StreamHub& hub() { return hub_; }
  HttpServer& http() { return *http_; }

 private:
  const GatewayOptions options_;
  const RpcTranscoder& transcoder_;
  StreamHub hub_;
  ApiHandler handler_;
  std::unique_ptr<HttpServer> http_;
  bool stopped_ = false;
};

// The final event of every stream when the gateway stops.
std::string ShutdownFrame();

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_GATEWAY_SERVER_H_
