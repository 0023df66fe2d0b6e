// forecast-service --db CONNINFO --port N --tls-cert PEM --tls-key PEM --token-public-key PEM
//     [--tls-client-ca PEM] [--host 127.0.0.1] [--no-warm] [--metrics-port M] [--reflection]
// Serves forecast.v1.ForecastService over TLS with health checking (server reflection only with
// --reflection); every call needs an access token, verified with the public key
// (services/common/caller.h). Once listening, a background thread loads every job centre and
// builds each team's dashboard (with its backtest), so that the first callers find them ready;
// --no-warm leaves that to the first calls.
#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "services/common/audit/case_read_log.h"
#include "services/common/caller.h"
#include "services/common/calendar.h"
#include "services/common/command_line.h"
#include "services/common/observability/observability.h"
#include "services/common/pg_pool.h"
#include "services/common/server.h"
#include "services/common/cached_staff_directory.h"
#include "services/forecast/change_listener.h"
#include "services/forecast/forecast_engine.h"
#include "services/forecast/forecast_service_impl.h"
#include "services/forecast/history_store.h"

namespace {

// Loads every centre and builds every team's dashboard (and its backtest) once.
void WarmUp(forecast::fsvc::ForecastEngine& engine, forecast::fsvc::HistoryStore& store) {
  auto centres = store.ListCentres();
  if (!centres.ok()) return;
  for (int64_t id : *centres) {
    auto view = engine.cache().Now(id);
    if (!view.ok()) {
      std::fprintf(stderr, "forecast-service: warming centre %lld: %s\n",
                   static_cast<long long>(id), std::string(view.status().message()).c_str());
      continue;
    }
    (void)engine.cache().Accuracy(**view, {forecast::fsvc::ScopeFilter::Kind::kJobCentre, 0}, 0);
    for (const auto& unit : (*view)->history().units) {
      if (unit.is_team) (void)engine.cache().TeamDashboard(*view, unit.id);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  forecast::TurnOffMutexDeadlockDetection();
  forecast::BlockShutdownSignals();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string db, host = "127.0.0.1";
  int port = -1, metrics_port = -1;
  bool no_warm = false;
  bool reflection = false;
  forecast::ServiceSecurityFiles files;
  CLI::App app{"Serves forecast.v1.ForecastService over TLS.", "forecast-service"};
  app.add_option("--db", db, "PostgreSQL connection string")->required();
  app.add_option("--port", port, "gRPC port (0: any free port)")
      ->required()
      ->check(CLI::Range(0, 65535));
  app.add_option("--host", host, "address to listen on")->capture_default_str();
  app.add_option("--metrics-port", metrics_port, "Prometheus metrics and health over HTTP")
      ->check(CLI::Range(0, 65535));
  app.add_flag("--no-warm", no_warm, "leave loading the job centres to the first calls");
  app.add_flag("--reflection", reflection, "serve gRPC server reflection");
  forecast::AddServiceSecurityOptions(app, &files);
  if (std::optional<int> exit_code = forecast::ParseCommandLine(app, argc, argv)) return *exit_code;
  const bool warm = !no_warm;
  absl::StatusOr<forecast::ServiceSecurity> security = forecast::LoadServiceSecurity(files);
  if (!security.ok()) {
    std::fprintf(stderr, "forecast-service: %s\n",
                 std::string(security.status().message()).c_str());
    return 2;
  }

  forecast::obs::SetServiceName("forecast-service");
  forecast::PgPool pool(db, 16);
  forecast::obs::ExportPoolMetrics(pool, "forecast");
  forecast::fsvc::PgHistoryStore store(pool);
  forecast::SystemClock clock;
  forecast::fsvc::ForecastEngine engine(store, clock);
  forecast::fsvc::ChangeListener listener(db, engine);
  if (absl::Status started = listener.Start(); !started.ok()) {
    std::fprintf(stderr, "forecast-service: %s\n", std::string(started.message()).c_str());
    return 1;
  }
  forecast::PgStaffDirectory staff(pool);
  forecast::CachedStaffDirectory directory(staff, clock);
  forecast::audit::PgCaseReadLog reads(pool);  // answers carrying case rows are recorded
  forecast::Authenticator authenticator(*security->verifier, directory);
  forecast::fsvc::ForecastServiceImpl service(engine, authenticator, store, reads);
  auto server = forecast::StartGrpcServer({&service}, host, port, security->credentials, 64 << 20,
                                          reflection);
  if (!server.ok()) {
    std::fprintf(stderr, "forecast-service: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::printf("forecast-service listening on %s:%d\n", host.c_str(), server->port);
  std::atomic<bool> warmed{!warm};
  std::unique_ptr<forecast::obs::MetricsEndpoint> metrics;
  if (metrics_port >= 0) {
    forecast::obs::MetricsEndpoint::Options options;
    options.host = host;
    options.port = metrics_port;
    options.grpc_server = server->server.get();
    options.service_names = {"forecast.v1.ForecastService"};
    options.readiness_checks = {forecast::obs::DatabaseReachable(pool), [&warmed]() {
                                  return warmed ? absl::OkStatus()
                                                : absl::UnavailableError("centres are warming up");
                                }};
    auto started = forecast::obs::MetricsEndpoint::Start(std::move(options));
    if (!started.ok()) {
      std::fprintf(stderr, "forecast-service: %s\n",
                   std::string(started.status().message()).c_str());
      return 1;
    }
    metrics = std::move(*started);
    std::printf("forecast-service metrics on http://%s:%d/metrics\n", host.c_str(),
                metrics->port());
  }
  std::thread warmer;
  if (warm)
    warmer = std::thread([&] {
      WarmUp(engine, store);
      warmed = true;
    });
  const int signal_number = forecast::WaitForShutdownSignal();
  std::printf("forecast-service stopping on signal %d\n", signal_number);
  metrics.reset();
  forecast::ShutdownGracefully(*server->server);
  if (warmer.joinable()) warmer.join();
  return 0;
}
