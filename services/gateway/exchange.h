// The transport-independent shape of one HTTP exchange: the request as the API handler sees it,
// and the channel through which it answers (a whole response, or a server-sent event stream).
// The Beast server implements Exchange; tests and fuzzers can implement it without sockets.
#ifndef SERVICES_GATEWAY_EXCHANGE_H_
#define SERVICES_GATEWAY_EXCHANGE_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace forecast::gateway {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // "/api/login" (no query)
  std::string query;   // "json=%7B%7D" (no '?'; still encoded)
  std::string host;    // Host header
  std::string origin;  // Origin header ("" when absent)
  std::string content_type;
  std::string cookie;
  std::string body;
  std::string remote_address;  // the peer's IP address
  bool tls = false;
  std::string request_id;  // also sent back as X-Request-Id
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;  // extra headers (Set-Cookie, Retry-After, Cache-Control, ...)
};

class Exchange {
 public:
  virtual ~Exchange() = default;
  // Sends the complete answer. Call once, instead of StartEvents. Thread-safe.
  virtual void Respond(HttpResponse response) = 0;
  // Answers 200 text/event-stream and keeps the connection for SendEvent. Thread-safe.
  virtual void StartEvents() = 0;
  // Queues one event frame ("data: ...\n\n"); ignored once the stream ended. If the client
  // reads slower than events come, older queued frames are dropped (they are snapshots).
  // Thread-safe.
  virtual void SendEvent(std::string frame) = 0;
  // Ends the stream once the queued frames are written. Thread-safe.
  virtual void EndEvents() = 0;
  // `on_close` runs once when the exchange is over for good (answered, stream ended, client
  // gone); at once if it already is. Thread-safe.
  virtual void OnClose(std::function<void()> on_close) = 0;
};

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_EXCHANGE_H_
