// Fuzzes JSON -> Protobuf transcoding (and the reply direction) for every method of every
// service: the first byte picks the method, the rest is the JSON request (or the reply bytes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "tests/fuzz/fuzz_support.h"

using forecast::gateway::MethodRoute;
using forecast::gateway::fuzz::Check;
using forecast::gateway::fuzz::TheHarness;

namespace {

std::vector<MethodRoute> AllMethods() {
  std::vector<MethodRoute> routes;
  for (const char* service : {"CaseService", "ForecastService", "IdentityService"}) {
    const auto* descriptor = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
        std::string("forecast.v1.") + service);
    if (descriptor == nullptr) continue;
    for (int i = 0; i < descriptor->method_count(); ++i) {
      auto route = TheHarness().transcoder.Resolve(service, descriptor->method(i)->name());
      if (route.ok()) routes.push_back(*route);
    }
  }
  return routes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<MethodRoute>* routes = new std::vector<MethodRoute>(AllMethods());
  if (size < 1 || routes->empty()) return 0;
  const MethodRoute& route = (*routes)[data[0] % routes->size()];
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  auto bytes = TheHarness().transcoder.RequestFromJson(route, rest);
  if (bytes.ok()) {
    Check(!bytes->empty() || rest.empty() || true, "unreachable");
  } else {
    Check(bytes.status().code() == absl::StatusCode::kInvalidArgument,
          "a bad request must be INVALID_ARGUMENT");
  }
  // The other direction: arbitrary bytes as a reply must print or fail cleanly.
  auto json = TheHarness().transcoder.ReplyToJson(route, rest);
  if (json.ok()) Check(forecast::gateway::IsValidUtf8(*json), "reply JSON not UTF-8");
  return 0;
}
