// Fuzzes the gateway's request handling: raw bytes through Beast's HTTP parser with the
// gateway's limits, then the API handler's routing, checks and answers (tests/fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "tests/fuzz/fuzz_support.h"

namespace http = boost::beast::http;
using forecast::gateway::HttpRequest;
using forecast::gateway::fuzz::CheckingExchange;
using forecast::gateway::fuzz::TheHarness;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (used < size && !parser.is_done()) {
    const size_t n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec || n == 0) break;
    used += n;
  }
  if (!ec && !parser.is_done() && parser.is_header_done() && used == size) {
    parser.put_eof(ec);  // a body delimited by the end of input
  }
  if (ec || !parser.is_done()) return 0;
  http::request<http::string_body>& message = parser.get();
  HttpRequest request;
  request.method = std::string(message.method_string());
  const auto target = message.target();
  const size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  request.host = std::string(message[http::field::host]);
  request.origin = std::string(message[http::field::origin]);
  request.content_type = std::string(message[http::field::content_type]);
  request.cookie = std::string(message[http::field::cookie]);
  request.body = message.body();
  request.remote_address = "192.0.2.1";
  request.request_id = "fuzz";
  auto exchange = std::make_shared<CheckingExchange>();
  TheHarness().handler.Handle(request, exchange);
  return 0;
}
