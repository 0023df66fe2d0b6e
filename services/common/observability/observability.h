// Watching the product, in one place: Prometheus metrics (prometheus-cpp, served as text on a
// metrics port), one structured JSON log line per gRPC request, request ids, and readiness kept
// apart from liveness. Every service gets the per-RPC part through StartGrpcServer
// (services/common/server.cc), which installs ServerInterceptors(); a binary adds the metrics
// port and readiness with MetricsEndpoint.
//
// Metric names (all prefixed jobcentre_):
//   grpc_server_started_total{service,method}            calls started
//   grpc_server_handled_total{service,method,code}       calls finished, by gRPC status code name
//   grpc_server_handling_seconds{service,method}         latency histogram
//   grpc_server_open_streams{service,method}             streaming calls open now
//   pg_pool_{connections_open,connections_leased,connections_max}           gauges
//   pg_pool_{acquired,waited,timeouts,connect_failures,discarded,retries}_total  counters
//   pg_pool_wait_seconds_total                           time callers waited for a connection
// plus each service's own (forecast: change lag, refresh and fit times; case: import progress).
#ifndef SERVICES_COMMON_OBSERVABILITY_OBSERVABILITY_H_
#define SERVICES_COMMON_OBSERVABILITY_OBSERVABILITY_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace httplib {
class Server;
}

namespace forecast {
class PgPool;
}

namespace forecast::obs {

// The process-wide metrics registry. Thread-safe.
prometheus::Registry& Registry();

// Buckets for request latencies and background work, in seconds.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

// Adds a function run before every scrape (to copy counters kept elsewhere into metrics).
// Thread-safe.
void AddScrapeHook(std::function<void()> hook);

// The registry in Prometheus text format (runs the scrape hooks first). Thread-safe.
std::string ScrapeText();

// Interceptor factories that count, time and log every call, and give it a request id.
// Thread-safe.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
ServerInterceptors();

// Metadata key of the request id. A caller may send one (letters, digits, '-', '_', '.', at most
// 64); otherwise the server makes one. Either way the server puts it in the call's client
// metadata (so handlers can read it) and sends it back in the initial metadata, and the access
// log line carries it.
inline constexpr char kRequestIdHeader[] = "x-request-id";

// The call's request id (empty outside a call that went through the interceptor). Thread-safe.
std::string RequestId(const grpc::ServerContextBase& context);

// Exports the pool's use and waits under pool="name". Thread-safe; `pool` must outlive the
// process's scrapes (the services' pools live until exit).
void ExportPoolMetrics(const PgPool& pool, const std::string& name);

// Writes one JSON object as a line to stderr (the log stream). `fields` are already-encoded
// JSON members without braces, e.g. R"("event":"x","n":1)". Thread-safe.
void LogJsonLine(absl::string_view service, absl::string_view fields);

// The name the access log gives this process ("case-service"). Set once in main. Not
// thread-safe with calls in flight.
void SetServiceName(std::string name);

// Liveness vs readiness. Liveness: the process answers (/healthz, gRPC health ""). Readiness:
// every check passes (database reachable, centres warmed): /readyz, and the gRPC health status
// of each named service. The endpoint re-evaluates readiness every second.
class MetricsEndpoint {
 public:
  struct Options {
    std::string host = "0.0.0.0";
    int port = 0;                            // 0 picks a free port
    grpc::Server* grpc_server = nullptr;     // whose health service gets per-service statuses
    std::vector<std::string> service_names;  // e.g. "forecast.v1.CaseService"
    // Each returns OK when its part is ready; the message of the first failing one is shown.
    std::vector<std::function<absl::Status()>> readiness_checks;
  };
  // Serves /metrics, /healthz and /readyz over HTTP. UNAVAILABLE when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(Options options);
  // Stops serving and the readiness thread. Call before the gRPC server is destroyed.
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  int port() const { return port_; }
  // Evaluates the checks now and updates the gRPC health statuses. Thread-safe.
  absl::Status CheckReady();

 private:
  MetricsEndpoint() = default;
  void SetGrpcHealth(bool ready);

  Options options_;
  int port_ = 0;
  std::unique_ptr<httplib::Server> http_;
  std::thread http_thread_, ticker_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  int last_ready_ = -1;
};

// A database reachability check for readiness: SELECT 1 within the pool's acquire timeout.
std::function<absl::Status()> DatabaseReachable(PgPool& pool);

}  // namespace forecast::obs

#endif  // SERVICES_COMMON_OBSERVABILITY_OBSERVABILITY_H_
