#include "services/common/observability/observability.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <utility>
#include <vector>

#include <grpcpp/health_check_service_interface.h>
#include <nlohmann/json.hpp>
#include <prometheus/text_serializer.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/pg_pool.h"

namespace forecast::obs {
namespace {

std::mutex& HooksMutex() {
  static std::mutex mu;
  return mu;
}
std::vector<std::function<void()>>& Hooks() {
  static auto* hooks = new std::vector<std::function<void()>>();
  return *hooks;
}
std::string& ServiceName() {
  static auto* name = new std::string("service");
  return *name;
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

// JSON string contents: metadata values are caller-controlled.
std::string JsonEscape(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

bool ValidRequestId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

absl::string_view MetadataValue(const std::multimap<grpc::string_ref, grpc::string_ref>& md,
                                absl::string_view key) {
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return {};
  return absl::string_view(it->second.data(), it->second.size());
}

// "JC/staff" as the access token in "Bearer <token>" claims it (jc, sub), not verified: a label
// for the request log only, never for decisions (the service verifies the token; the line's code
// says whether it did). Empty when there is no readable token; at most 64 printable characters.
std::string ClaimedCallerForLog(absl::string_view authorization) {
  if (!absl::ConsumePrefix(&authorization, "Bearer ") || authorization.size() > 4096) return "";
  std::vector<absl::string_view> parts = absl::StrSplit(authorization, '.');
  std::string payload_json;
  if (parts.size() != 3 || !absl::WebSafeBase64Unescape(parts[1], &payload_json)) return "";
  const nlohmann::json payload = nlohmann::json::parse(payload_json, nullptr, false);
  if (!payload.is_object()) return "";
  const auto text = [&](const char* key) {
    const auto it = payload.find(key);
    return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string label = absl::StrCat(text("jc"), "/", text("sub"));
  if (label == "/" || label.size() > 64) return "";
  for (char& c : label) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return label;
}

struct RpcMetrics {
  prometheus::Family<prometheus::Counter>& started;
  prometheus::Family<prometheus::Counter>& handled;
  prometheus::Family<prometheus::Histogram>& seconds;
  prometheus::Family<prometheus::Gauge>& open_streams;
};

RpcMetrics& Rpc() {
  static RpcMetrics* m = new RpcMetrics{
      prometheus::BuildCounter()
          .Name("jobcentre_grpc_server_started_total")
          .Help("gRPC calls started")
          .Register(Registry()),
      prometheus::BuildCounter()
          .Name("jobcentre_grpc_server_handled_total")
          .Help("gRPC calls finished, by status code")
          .Register(Registry()),
      prometheus::BuildHistogram()
          .Name("jobcentre_grpc_server_handling_seconds")
          .Help("gRPC call latency, from the call's start to its status")
          .Register(Registry()),
      prometheus::BuildGauge()
          .Name("jobcentre_grpc_server_open_streams")
          .Help("streaming gRPC calls open now")
          .Register(Registry()),
  };
  return *m;
}

class ObservingInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit ObservingInterceptor(grpc::experimental::ServerRpcInfo* info)
      : start_(std::chrono::steady_clock::now()) {
    const std::string full = info->method() != nullptr ? info->method() : "/unknown/unknown";
    const size_t slash = full.rfind('/');
    service_ = slash != std::string::npos && slash > 0 ? full.substr(1, slash - 1) : "unknown";
    method_ = slash != std::string::npos ? full.substr(slash + 1) : full;
    streaming_ = info->type() != grpc::experimental::ServerRpcInfo::Type::UNARY;
    const prometheus::Labels labels{{"service", service_}, {"method", method_}};
    Rpc().started.Add(labels).Increment();
    if (streaming_) {
      open_streams_ = &Rpc().open_streams.Add(labels);
      open_streams_->Increment();
    }
  }

  ~ObservingInterceptor() override {
    if (!finished_) Finish(grpc::StatusCode::CANCELLED);
    if (open_streams_ != nullptr) open_streams_->Decrement();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      if (md != nullptr) {
        const absl::string_view given = MetadataValue(*md, kRequestIdHeader);
        if (ValidRequestId(given)) {
          request_id_ = std::string(given);
        } else {
          request_id_ = NewRequestId();
          if (!given.empty()) md->erase(grpc::string_ref(kRequestIdHeader));
          md->emplace(grpc::string_ref(kRequestIdHeader), grpc::string_ref(request_id_));
        }
        // The caller the access token names (the service verifies it; the code logged says
        // whether it did).
        caller_ = ClaimedCallerForLog(MetadataValue(*md, "authorization"));
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      auto* md = methods->GetSendInitialMetadata();
      if (md != nullptr && !request_id_.empty()) md->emplace(kRequestIdHeader, request_id_);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Finish(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Finish(grpc::StatusCode code) {
    finished_ = true;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const char* code_name = CodeName(code);
    Rpc()
        .handled.Add({{"service", service_}, {"method", method_}, {"code", code_name}})
        .Increment();
    Rpc()
        .seconds.Add({{"service", service_}, {"method", method_}}, LatencyBuckets())
        .Observe(seconds);
    // Nothing personal: the caller is a staff code, and no request or error text is logged.
    LogJsonLine(ServiceName(),
                absl::StrCat(R"("event":"rpc","request_id":")", JsonEscape(request_id_),
                             R"(","rpc":")", JsonEscape(service_), "/", JsonEscape(method_),
                             R"(","caller":")", JsonEscape(caller_), R"(","code":")", code_name,
                             R"(","duration_ms":)", absl::StrFormat("%.3f", seconds * 1000)));
  }

  const std::chrono::steady_clock::time_point start_;
  std::string service_, method_, request_id_, caller_;
  bool streaming_ = false;
  bool finished_ = false;
  prometheus::Gauge* open_streams_ = nullptr;
};

class ObservingInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new ObservingInterceptor(info);
  }
};

}  // namespace

prometheus::Registry& Registry() {
  static auto* registry = new prometheus::Registry();
  return *registry;
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120};
  return *buckets;
}

void AddScrapeHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(HooksMutex());
  Hooks().push_back(std::move(hook));
}

std::string ScrapeText() {
  {
    std::lock_guard<std::mutex> lock(HooksMutex());
    for (const auto& hook : Hooks()) hook();
  }
  return prometheus::TextSerializer().Serialize(Registry().Collect());
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
ServerInterceptors() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<ObservingInterceptorFactory>());
  return out;
}

std::string RequestId(const grpc::ServerContextBase& context) {
  auto it = context.client_metadata().find(kRequestIdHeader);
  if (it == context.client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

void SetServiceName(std::string name) { ServiceName() = std::move(name); }

void LogJsonLine(absl::string_view service, absl::string_view fields) {
  const std::string line = absl::StrCat(
      R"({"ts":")", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      R"(","service":")", JsonEscape(service), R"(",)", fields, "}\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void ExportPoolMetrics(const PgPool& pool, const std::string& name) {
  const prometheus::Labels labels{{"pool", name}};
  auto gauge = [&](const char* metric, const char* help) -> prometheus::Gauge& {
    return prometheus::BuildGauge().Name(metric).Help(help).Register(Registry()).Add(labels);
  };
  auto counter = [&](const char* metric, const char* help) -> prometheus::Counter& {
    return prometheus::BuildCounter().Name(metric).Help(help).Register(Registry()).Add(labels);
  };
  auto& open = gauge("jobcentre_pg_pool_connections_open", "PostgreSQL connections open");
  auto& leased = gauge("jobcentre_pg_pool_connections_leased", "PostgreSQL connections in use");
  auto& max = gauge("jobcentre_pg_pool_connections_max", "the pool's size");
  struct Counters {
    prometheus::Counter *acquired, *waited, *wait_seconds, *timeouts, *connect_failures, *discarded,
        *retries;
    PgPool::Stats last;
  };
  auto c = std::make_shared<Counters>(Counters{
      &counter("jobcentre_pg_pool_acquired_total", "connections leased"),
      &counter("jobcentre_pg_pool_waited_total", "leases that waited for a free connection"),
      &counter("jobcentre_pg_pool_wait_seconds_total", "time spent waiting for a connection"),
      &counter("jobcentre_pg_pool_timeouts_total", "acquires that gave up (UNAVAILABLE)"),
      &counter("jobcentre_pg_pool_connect_failures_total", "connections that could not be opened"),
      &counter("jobcentre_pg_pool_discarded_total", "connections closed because they broke"),
      &counter("jobcentre_pg_pool_retries_total",
               "transactions run again after a broken connection"),
      PgPool::Stats{}});
  AddScrapeHook([&pool, &open, &leased, &max, c] {
    const PgPool::Stats s = pool.stats();
    open.Set(s.open);
    leased.Set(s.leased);
    max.Set(s.max);
    c->acquired->Increment(static_cast<double>(s.acquired - c->last.acquired));
    c->waited->Increment(static_cast<double>(s.waited - c->last.waited));
    c->wait_seconds->Increment(s.wait_seconds - c->last.wait_seconds);
    c->timeouts->Increment(static_cast<double>(s.timeouts - c->last.timeouts));
    c->connect_failures->Increment(
        static_cast<double>(s.connect_failures - c->last.connect_failures));
    c->discarded->Increment(static_cast<double>(s.discarded - c->last.discarded));
    c->retries->Increment(static_cast<double>(s.retries - c->last.retries));
    c->last = s;
  });
}

std::function<absl::Status()> DatabaseReachable(PgPool& pool) {
  return [&pool]() -> absl::Status {
    return RunReadTransaction(pool, Isolation::kReadCommitted, [](pqxx::transaction_base& tx) {
      tx.exec1("SELECT 1");
      return absl::OkStatus();
    });
  };
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(Options options) {
  std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint());
  e->options_ = std::move(options);
  e->http_ = std::make_unique<httplib::Server>();
  MetricsEndpoint* self = e.get();
  e->http_->Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(ScrapeText(), "text/plain; version=0.0.4");
  });
  e->http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  e->http_->Get("/readyz", [self](const httplib::Request&, httplib::Response& res) {
    absl::Status ready = self->CheckReady();
    res.status = ready.ok() ? 200 : 503;
    res.set_content(
        ready.ok() ? std::string("ready\n") : absl::StrCat("not ready: ", ready.message(), "\n"),
        "text/plain");
  });
  if (e->options_.port == 0) {
    e->port_ = e->http_->bind_to_any_port(e->options_.host);
  } else if (e->http_->bind_to_port(e->options_.host, e->options_.port)) {
    e->port_ = e->options_.port;
  }
  if (e->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", e->options_.host, ":", e->options_.port));
  }
  e->http_thread_ = std::thread([self] { self->http_->listen_after_bind(); });
  self->SetGrpcHealth(false);
  e->ticker_ = std::thread([self] {
    std::unique_lock<std::mutex> lock(self->mu_);
    while (!self->stopping_) {
      lock.unlock();
      (void)self->CheckReady();
      lock.lock();
      self->stop_cv_.wait_for(lock, std::chrono::seconds(1), [self] { return self->stopping_; });
    }
  });
  return e;
}

MetricsEndpoint::~MetricsEndpoint() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  if (http_ != nullptr) http_->stop();
  if (http_thread_.joinable()) http_thread_.join();
}

absl::Status MetricsEndpoint::CheckReady() {
  absl::Status ready = absl::OkStatus();
  for (const auto& check : options_.readiness_checks) {
    ready = check();
    if (!ready.ok()) break;
  }
  SetGrpcHealth(ready.ok());
  return ready;
}

void MetricsEndpoint::SetGrpcHealth(bool ready) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || options_.grpc_server == nullptr) return;
  if (last_ready_ == static_cast<int>(ready)) return;
  last_ready_ = static_cast<int>(ready);
  grpc::HealthCheckServiceInterface* health = options_.grpc_server->GetHealthCheckService();
  if (health == nullptr) return;
  // "" stays SERVING (liveness); each service's own name says whether it is ready.
  for (const std::string& name : options_.service_names) health->SetServingStatus(name, ready);
  LogJsonLine(ServiceName(),
              absl::StrCat(R"("event":"readiness","ready":)", ready ? "true" : "false"));
}

}  // namespace forecast::obs
