// The gateway's HTTP(S) transport on Boost.Beast + Asio: an event loop on a few threads, one
// strand per connection, no thread ever waits for a client or a backend. It bounds the time to
// read a request's headers and its body, the header and body sizes, the connections per client
// address and in total; answers its own errors as JSON; and stops gracefully (Stop).
#ifndef SERVICES_GATEWAY_HTTP_SERVER_H_
#define SERVICES_GATEWAY_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/gateway/exchange.h"

namespace forecast::gateway {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  int threads = 2;
  std::string tls_cert_file;  // PEM chain; with tls_key_file: serve HTTPS only
  std::string tls_key_file;
  absl::Duration header_timeout = absl::Seconds(10);  // from connect/last response to full headers
  absl::Duration body_timeout = absl::Seconds(30);    // from headers to full body
  absl::Duration write_timeout = absl::Seconds(30);   // a client must take each write this fast
  absl::Duration idle_timeout = absl::Seconds(60);    // keep-alive between requests
  absl::Duration stream_heartbeat = absl::Seconds(15);  // SSE comment when a stream is idle
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1 << 20;
  int max_connections_per_address = 256;
  int max_connections = 20000;
  size_t max_queued_events = 16;  // per stream; older frames are dropped beyond this
};

// Called for every complete request; answers through the Exchange (at once or later).
using RequestHandler = std::function<void(const HttpRequest&, std::shared_ptr<Exchange>)>;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, RequestHandler handler);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the event loop threads; the bound port. Call once.
  absl::StatusOr<int> Start();

  // Graceful stop, in order: stop accepting; close idle keep-alive connections; `before_drain`
  // (the gateway ends its event streams there); wait up to `grace` for requests in flight and
  // streams to finish; then close what is left and join the threads. Idempotent.
  void Stop(absl::Duration grace = absl::Seconds(10),
            const std::function<void()>& before_drain = {});

  // Open connections / requests being answered. Thread-safe.
  int connections() const;
  int requests_in_flight() const;

  struct Impl;  // the Beast side, in the .cc

 private:
  std::unique_ptr<Impl> impl_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_HTTP_SERVER_H_
