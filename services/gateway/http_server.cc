#include "services/gateway/http_server.h"

#include <chrono>
#include <deque>
#include <future>
#include <iostream>
#include <optional>
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/gateway/http_status.h"
#include "services/gateway/request_checks.h"

namespace forecast::gateway {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

std::chrono::steady_clock::duration Chrono(absl::Duration duration) {
  return absl::ToChronoNanoseconds(duration);
}

// Sent with every answer, errors included.
const Headers& CommonHeaders() {
  static const Headers* headers = new Headers{
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "same-origin"},
      // Everything the web app needs comes from this server; nothing from the internet.
      {"Content-Security-Policy",
       "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "frame-ancestors 'none'"},
  };
  return *headers;
}

}  // namespace

class ConnectionBase : public Exchange, public std::enable_shared_from_this<ConnectionBase> {
 public:
  // Closes the connection if it waits for a request; otherwise it closes after its answer.
  virtual void Drain() = 0;
  // Closes at once.
  virtual void Kill() = 0;
};

struct HttpServer::Impl {
  Impl(HttpServer& owner_in, HttpServerOptions options_in, RequestHandler handler_in)
      : owner(owner_in),
        options(std::move(options_in)),
        handler(std::move(handler_in)),
        ioc(options.threads),
        acceptor(net::make_strand(ioc)),
        retry(acceptor.get_executor()) {}

  void Accept();
  void OnAccept(tcp::socket socket);
  void Unregister(ConnectionBase* connection, const std::string& address);

  HttpServer& owner;
  const HttpServerOptions options;
  const RequestHandler handler;

  std::atomic<int> connections{0};
  std::atomic<int> in_flight{0};
  std::mutex mu;
  bool draining = false;
  std::map<std::string, int> per_address;
  std::map<ConnectionBase*, std::weak_ptr<ConnectionBase>> open;

  // Declared after the registries: destroying the io_context destroys the connections still
  // queued in it, which unregister themselves.
  net::io_context ioc;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor;
  net::steady_timer retry;
  std::vector<std::thread> threads;
};

namespace {

template <class Derived>
class Connection : public ConnectionBase {
 public:
  ~Connection() override { server_.Unregister(this, address_); }

  void Respond(HttpResponse response) override {
    net::post(executor_, [self = self(), response = std::move(response)]() mutable {
      self->DoRespond(std::move(response));
    });
  }
  void StartEvents() override {
    net::post(executor_, [self = self()] { self->DoStartEvents(); });
  }
  void SendEvent(std::string frame) override {
    net::post(executor_, [self = self(), frame = std::move(frame)]() mutable {
      self->DoSendEvent(std::move(frame));
    });
  }
  void EndEvents() override {
    net::post(executor_, [self = self()] {
      self->ending_ = true;
      if (!self->writing_ && self->queue_.empty() && self->state_ == kStreaming) self->Close();
    });
  }
  void OnClose(std::function<void()> on_close) override {
    net::post(executor_, [self = self(), on_close = std::move(on_close)]() mutable {
      if (self->closed_) {
        on_close();
      } else {
        self->on_close_ = std::move(on_close);
      }
    });
  }
  void Drain() override {
    net::post(executor_, [self = self()] {
      self->draining_ = true;
      if (self->state_ == kReading && !self->ReceivedSome()) self->Close();
    });
  }
  void Kill() override {
    net::post(executor_, [self = self()] { self->Close(); });
  }

 protected:
  enum State { kHandshake, kReading, kHandling, kWriting, kStreaming };

  Connection(HttpServer::Impl& server, net::any_io_executor executor, std::string address)
      : server_(server),
        executor_(executor),
        timer_(executor),
        heartbeat_(executor),
        address_(std::move(address)) {}

  Derived& derived() { return static_cast<Derived&>(*this); }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(derived().stream()); }
  std::shared_ptr<Derived> self() {
    return std::static_pointer_cast<Derived>(this->shared_from_this());
  }
  const HttpServerOptions& options() const { return server_.options; }

  bool ReceivedSome() const {
    return buffer_.size() > 0 || (parser_.has_value() && parser_->got_some());
  }

  void ReadRequest() {
    if (closed_) return;
    if (draining_) return Close();
    state_ = kReading;
    timed_out_ = false;
    idle_waited_ = absl::ZeroDuration();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    parser_->body_limit(options().max_body_bytes);
    lowest().expires_never();
    ArmReadTimer(options().header_timeout);
    http::async_read_header(
        derived().stream(), buffer_, *parser_,
        [self = self()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  // Bounds a read: when it fires, the pending read is cancelled and answered 408. A keep-alive
  // connection that has sent nothing yet may stay idle up to idle_timeout.
  void ArmReadTimer(absl::Duration after) {
    timer_.expires_after(Chrono(after));
    timer_.async_wait([self = self(), after](beast::error_code ec) {
      if (ec || self->closed_ || (self->state_ != kReading)) return;
      if (!self->ReceivedSome() && self->reading_body_ == false &&
          self->idle_waited_ + after < self->options().idle_timeout) {
        self->idle_waited_ += after;
        self->ArmReadTimer(after);
        return;
      }
      self->timed_out_ = true;
      self->lowest().cancel();
    });
  }

  void OnHeader(beast::error_code ec) {
    timer_.cancel();
    if (closed_) return;
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return Dispatch();
    reading_body_ = true;
    ArmReadTimer(options().body_timeout);
    http::async_read(derived().stream(), buffer_, *parser_,
                     [self = self()](beast::error_code read_ec, std::size_t) {
                       self->timer_.cancel();
                       self->reading_body_ = false;
                       if (self->closed_) return;
                       if (read_ec) return self->OnReadError(read_ec);
                       self->Dispatch();
                     });
  }

  void OnReadError(beast::error_code ec) {
    const bool some = ReceivedSome();
    if (timed_out_) {
      if (some) return OwnError(408, "request: not received in time");
      return Close();
    }
    if (ec == http::error::header_limit) {
      return OwnError(431,
                      absl::StrCat("headers: larger than ", options().max_header_bytes, " bytes"));
    }
    if (ec == http::error::body_limit) {
      return OwnError(413, absl::StrCat("body: larger than ", options().max_body_bytes, " bytes"));
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec.category() == net::error::get_ssl_category() || !some) {
      return Close();
    }
    // Anything else is a request that is not HTTP/1.1 as Beast reads it.
    OwnError(400, absl::StrCat("request: not a valid HTTP/1.1 request (", ec.message(), ")"));
  }

  void Dispatch() {
    http::request<http::string_body>& message = parser_->get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    const beast::string_view target = message.target();
    const size_t question = target.find('?');
    request.path = std::string(target.substr(0, question));
    if (question != beast::string_view::npos)
      request.query = std::string(target.substr(question + 1));
    request.host = std::string(message[http::field::host]);
    request.origin = std::string(message[http::field::origin]);
    request.content_type = std::string(message[http::field::content_type]);
    request.cookie = std::string(message[http::field::cookie]);
    request.body = std::move(message.body());
    request.remote_address = address_;
    request.tls = Derived::kTls;
    request.request_id = NewRequestId();
    request_id_ = request.request_id;
    keep_alive_ = message.keep_alive();
    version_ = message.version();
    parser_.reset();
    state_ = kHandling;
    counted_ = true;
    ++server_.in_flight;
    server_.handler(request, this->shared_from_this());
  }

  void OwnError(int status, const std::string& message) {
    request_id_ = NewRequestId();
    keep_alive_ = false;
    version_ = 11;
    state_ = kHandling;
    HttpResponse response;
    response.status = status;
    response.body = ErrorJson(absl::Status(CodeForHttpStatus(status), message), request_id_);
    DoRespond(std::move(response));
  }

  void SetCommonHeaders(http::fields& fields) {
    for (const auto& [name, value] : CommonHeaders()) fields.set(name, value);
    if (Derived::kTls) fields.set("Strict-Transport-Security", "max-age=31536000");
    fields.set("X-Request-Id", request_id_);
  }

  void DoRespond(HttpResponse response) {
    if (state_ != kHandling) return;
    if (closed_) return Uncount();
    state_ = kWriting;
    auto message = std::make_shared<http::response<http::string_body>>();
    message->version(version_);
    message->result(static_cast<unsigned>(response.status));
    SetCommonHeaders(*message);
    message->set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) message->insert(name, value);
    message->body() = std::move(response.body);
    const bool keep = keep_alive_ && !draining_;
    message->keep_alive(keep);
    message->prepare_payload();
    lowest().expires_after(Chrono(options().write_timeout));
    http::async_write(derived().stream(), *message,
                      [self = self(), message, keep](beast::error_code ec, std::size_t) {
                        self->lowest().expires_never();
                        self->Uncount();
                        if (ec) return self->Close();
                        if (!keep || self->draining_) return self->Linger();
                        self->ReadRequest();
                      });
  }

  void Uncount() {
    if (counted_) {
      counted_ = false;
      --server_.in_flight;
    }
  }

  void DoStartEvents() {
    if (state_ != kHandling || closed_) return Uncount();
    state_ = kStreaming;
    Uncount();  // a stream is not a request in flight: shutdown ends it with a final event
    http::response<http::empty_body> head;
    head.version(11);
    head.result(http::status::ok);
    SetCommonHeaders(head);
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    head.set("X-Accel-Buffering", "no");
    head.set(http::field::connection, "close");  // the body ends when the connection does
    std::string frame;
    for (const auto& field : head.base()) {
      absl::StrAppend(&frame, std::string(field.name_string()), ": ", std::string(field.value()),
                      "\r\n");
    }
    // A reconnecting browser waits 1 s, not the default 3 s.
    queue_.push_back(absl::StrCat("HTTP/1.1 200 OK\r\n", frame, "\r\nretry: 1000\n\n"));
    WriteNext();
    WatchForHangUp();
    ArmHeartbeat();
  }

  // Reads (and ignores) whatever the client sends, to learn at once when it hangs up.
  void WatchForHangUp() {
    derived().stream().async_read_some(net::buffer(sink_),
                                       [self = self()](beast::error_code ec, std::size_t) {
                                         if (ec) return self->Close();
                                         self->WatchForHangUp();
                                       });
  }

  void ArmHeartbeat() {
    heartbeat_.expires_after(Chrono(options().stream_heartbeat));
    heartbeat_.async_wait([self = self()](beast::error_code ec) {
      if (ec || self->closed_) return;
      if (!self->writing_ && self->queue_.empty() && !self->ending_) {
        self->queue_.push_back(": keep-alive\n\n");
        self->WriteNext();
      }
      self->ArmHeartbeat();
    });
  }

  void DoSendEvent(std::string frame) {
    if (state_ != kStreaming || ending_ || closed_) return;
    if (queue_.size() >= options().max_queued_events) {
      // Slow reader: drop the oldest frame not being written (pushes are snapshots).
      queue_.pop_front();
    }
    queue_.push_back(std::move(frame));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    if (closed_ || queue_.empty()) return;
    writing_ = true;
    // The frame under way leaves the queue, so that dropping or clearing queued frames never
    // touches the buffer the write reads.
    in_write_ = std::move(queue_.front());
    queue_.pop_front();
    lowest().expires_after(Chrono(options().write_timeout));
    net::async_write(derived().stream(), net::buffer(in_write_),
                     [self = self()](beast::error_code ec, std::size_t) {
                       self->lowest().expires_never();
                       self->writing_ = false;
                       // Close() may have run while the write was under way.
                       if (ec || self->closed_) return self->Close();
                       if (!self->queue_.empty()) return self->WriteNext();
                       if (self->ending_) self->Close();
                     });
  }

  // Closes after the answer without resetting it away: the client may still be sending (a body
  // that was refused as too large), and closing a socket with unread input sends a reset that
  // can destroy the answer before the client reads it. So: half-close, read and discard for up
  // to a second, then close.
  void Linger() {
    if (closed_) return;
    if (Derived::kTls) return Close();
    state_ = kWriting;
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([self = self()](beast::error_code ec) {
      if (!ec) self->Close();
    });
    Discard();
  }
  void Discard() {
    lowest().socket().async_read_some(net::buffer(sink_),
                                      [self = self()](beast::error_code ec, std::size_t) {
                                        if (ec) return self->Close();
                                        self->Discard();
                                      });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    heartbeat_.cancel();
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
    queue_.clear();
    if (on_close_) {
      std::function<void()> on_close = std::move(on_close_);
      on_close_ = nullptr;
      on_close();
    }
  }

  HttpServer::Impl& server_;
  net::any_io_executor executor_;
  net::steady_timer timer_;
  net::steady_timer heartbeat_;
  const std::string address_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  State state_ = kHandshake;
  bool closed_ = false;
  bool draining_ = false;
  bool timed_out_ = false;
  bool reading_body_ = false;
  bool keep_alive_ = false;
  bool counted_ = false;
  bool writing_ = false;
  bool ending_ = false;
  unsigned version_ = 11;
  absl::Duration idle_waited_;
  std::string request_id_;
  std::deque<std::string> queue_;  // frames waiting; the one being written is in_write_
  std::string in_write_;
  std::function<void()> on_close_;
  char sink_[4096];
};

class PlainConnection final : public Connection<PlainConnection> {
 public:
  static constexpr bool kTls = false;
  PlainConnection(HttpServer::Impl& server, tcp::socket&& socket, std::string address)
      : Connection(server, socket.get_executor(), std::move(address)), stream_(std::move(socket)) {}
  beast::tcp_stream& stream() { return stream_; }
  void Run() {
    net::dispatch(executor_, [self = self()] { self->ReadRequest(); });
  }

 private:
  beast::tcp_stream stream_;
};

class TlsConnection final : public Connection<TlsConnection> {
 public:
  static constexpr bool kTls = true;
  TlsConnection(HttpServer::Impl& server, tcp::socket&& socket, ssl::context& context,
                std::string address)
      : Connection(server, socket.get_executor(), std::move(address)),
        stream_(std::move(socket), context) {}
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  void Run() {
    net::dispatch(executor_, [self = self()] {
      if (self->draining_) return self->Close();
      self->lowest().expires_after(Chrono(self->options().header_timeout));
      self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
        self->lowest().expires_never();
        if (ec) return self->Close();
        self->ReadRequest();
      });
    });
  }

 private:
  beast::ssl_stream<beast::tcp_stream> stream_;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of file descriptors or similar: back off briefly rather than spin.
      retry.expires_after(std::chrono::milliseconds(50));
      retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && acceptor.is_open()) Accept();
      });
      return;
    }
    OnAccept(std::move(socket));
    Accept();
  });
}

void HttpServer::Impl::OnAccept(tcp::socket socket) {
  beast::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return;
  const std::string address = peer.address().to_string();
  {
    std::lock_guard<std::mutex> lock(mu);
    int& count = per_address[address];
    if (draining || count >= options.max_connections_per_address ||
        connections.load() >= options.max_connections) {
      if (count == 0) per_address.erase(address);
      socket.close(ec);  // refused: too many connections from this address (or in total)
      return;
    }
    ++count;
    ++connections;
  }
  socket.set_option(tcp::no_delay(true), ec);
  std::shared_ptr<ConnectionBase> connection;
  if (tls) {
    auto tls_connection = std::make_shared<TlsConnection>(*this, std::move(socket), *tls, address);
    connection = tls_connection;
    {
      std::lock_guard<std::mutex> lock(mu);
      open[connection.get()] = connection;
    }
    tls_connection->Run();
  } else {
    auto plain = std::make_shared<PlainConnection>(*this, std::move(socket), address);
    connection = plain;
    {
      std::lock_guard<std::mutex> lock(mu);
      open[connection.get()] = connection;
    }
    plain->Run();
  }
}

void HttpServer::Impl::Unregister(ConnectionBase* connection, const std::string& address) {
  std::lock_guard<std::mutex> lock(mu);
  open.erase(connection);
  auto it = per_address.find(address);
  if (it != per_address.end() && --it->second <= 0) per_address.erase(it);
  --connections;
}

HttpServer::HttpServer(HttpServerOptions options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(*this, std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Stop(absl::Seconds(2)); }

int HttpServer::connections() const { return impl_->connections.load(); }
int HttpServer::requests_in_flight() const { return impl_->in_flight.load(); }

absl::StatusOr<int> HttpServer::Start() {
  Impl& impl = *impl_;
  const HttpServerOptions& options = impl.options;
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    try {
      impl.tls.emplace(ssl::context::tls_server);
      impl.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      impl.tls->use_certificate_chain_file(options.tls_cert_file);
      impl.tls->use_private_key_file(options.tls_key_file, ssl::context::pem);
    } catch (const std::exception& error) {
      return absl::InvalidArgumentError(absl::StrCat("TLS certificate or key: ", error.what()));
    }
  }
  beast::error_code ec;
  tcp::resolver resolver(impl.ioc);
  auto endpoints = resolver.resolve(options.host, std::to_string(options.port), ec);
  if (ec || endpoints.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resolve ", options.host));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  impl.acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(endpoint, ec);
  if (!ec) impl.acceptor.listen(4096, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind ", options.host, ":", options.port, ": ", ec.message()));
  }
  const int port = impl.acceptor.local_endpoint().port();
  started_ = true;
  net::dispatch(impl.acceptor.get_executor(), [&impl] { impl.Accept(); });
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    impl.threads.emplace_back([&impl] {
      for (;;) {
        try {
          impl.ioc.run();
          return;
        } catch (const std::exception& error) {
          // A handler threw (it should not): log and keep serving.
          std::cerr << "gateway: event loop: " << error.what() << std::endl;
        }
      }
    });
  }
  return port;
}

void HttpServer::Stop(absl::Duration grace, const std::function<void()>& before_drain) {
  if (!started_ || stopped_) return;
  stopped_ = true;
  Impl& impl = *impl_;
  std::promise<void> closed;
  net::post(impl.acceptor.get_executor(), [&impl, &closed] {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    impl.retry.cancel();
    closed.set_value();
  });
  closed.get_future().wait();
  std::vector<std::shared_ptr<ConnectionBase>> open;
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    impl.draining = true;
    for (auto& [pointer, weak] : impl.open) {
      if (auto connection = weak.lock()) open.push_back(connection);
    }
  }
  for (const auto& connection : open) connection->Drain();
  open.clear();
  if (before_drain) before_drain();
  const absl::Time until = absl::Now() + grace;
  while (absl::Now() < until && (impl.connections.load() > 0 || impl.in_flight.load() > 0)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    for (auto& [pointer, weak] : impl.open) {
      if (auto connection = weak.lock()) open.push_back(connection);
    }
  }
  for (const auto& connection : open) connection->Kill();
  open.clear();
  const absl::Time kill_until = absl::Now() + absl::Seconds(1);
  while (absl::Now() < kill_until && impl.connections.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  impl.ioc.stop();
  for (std::thread& thread : impl.threads) thread.join();
  impl.threads.clear();
}

}  // namespace forecast::gateway
