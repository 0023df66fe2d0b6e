// Fuzzes the sign-in routes' bodies (login, set-up code, password change, logout): the first
// byte picks the route and the cookie, the rest is the body. The checking authenticator aborts
// if a value reaches it unchecked (a staff code that could not be gRPC metadata, say).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tests/fuzz/fuzz_support.h"

using forecast::gateway::HttpRequest;
using forecast::gateway::fuzz::CheckingExchange;
using forecast::gateway::fuzz::TheHarness;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* const kPaths[] = {"/api/login", "/api/setup-code", "/api/password",
                                       "/api/logout", "/api/logout-everywhere"};
  HttpRequest request;
  request.method = "POST";
  request.path = kPaths[data[0] % 5];
  request.host = "gateway.test";
  request.origin = (data[0] & 0x40) ? "http://evil.test" : "http://gateway.test";
  request.content_type = (data[0] & 0x80) ? "text/plain" : "application/json; charset=utf-8";
  if (data[0] & 0x20) request.cookie = "forecast_session=" + std::string(64, 'b');
  request.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  request.remote_address = "192.0.2.1";
  request.request_id = "fuzz";
  auto exchange = std::make_shared<CheckingExchange>();
  TheHarness().handler.Handle(request, exchange);
  forecast::gateway::fuzz::Check(exchange->answered, "no answer");
  return 0;
}
