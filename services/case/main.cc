// case-service: the case service's gRPC server, which also serves IdentityService's single
// sign-on calls.
//   case-service --db CONNINFO --port N [--host 127.0.0.1] [--migrations DIR] [--pool 16]
//                [--metrics-port M]   (Prometheus /metrics, /healthz, /readyz over HTTP)
//                [--max-import-rows 3000000] [--max-concurrent-imports 1]
//                [--reflection] [--case-read-retention-days 365]
// Case reads are logged (services/common/audit); rows older than the retention are purged hourly.
// Server reflection is off unless --reflection.
// Prints "case-service listening on HOST:PORT" once serving (port 0 picks a free port) and
// shuts down gracefully on SIGTERM or SIGINT.
#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "services/case/case_keeper.h"
#include "services/case/case_service_impl.h"
#include "services/case/flags.h"
#include "services/case/pg_case_store.h"
#include "services/case/reference_data.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/migrations.h"
#include "services/common/observability/observability.h"
#include "services/common/server.h"
#include "services/identity/oidc_service.h"

int main(int argc, char** argv) {
  forecast::BlockShutdownSignals();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  absl::StatusOr<forecast::Flags> flags = forecast::ParseFlags(
      argc, argv, 1,
      {"db", "port", "host", "migrations", "pool", "metrics-port", "max-import-rows",
       "max-concurrent-imports", "case-read-retention-days"},
      {"reflection"});
  int port = -1, pool_size = 16, metrics_port = -1, concurrent_imports = 1, retention_days = 365;
  int64_t max_import_rows = 3'000'000;
  if (!flags.ok() || !flags->Has("db") || !absl::SimpleAtoi(flags->Get("port", "-1"), &port) ||
      port < 0 || port > 65535 || !absl::SimpleAtoi(flags->Get("pool", "16"), &pool_size) ||
      pool_size < 1 || !absl::SimpleAtoi(flags->Get("metrics-port", "-1"), &metrics_port) ||
      metrics_port > 65535 ||
      !absl::SimpleAtoi(flags->Get("max-import-rows", "3000000"), &max_import_rows) ||
      max_import_rows < 1 ||
      !absl::SimpleAtoi(flags->Get("max-concurrent-imports", "1"), &concurrent_imports) ||
      concurrent_imports < 1 ||
      !absl::SimpleAtoi(flags->Get("case-read-retention-days", "365"), &retention_days) ||
      retention_days < 1) {
    if (!flags.ok()) std::cerr << "case-service: " << flags.status().message() << "\n";
    std::cerr
        << "usage: case-service --db CONNINFO --port N [--host 127.0.0.1] [--migrations DIR] [--pool 16] [--metrics-port M]\n"
           "       [--max-import-rows 3000000] [--max-concurrent-imports 1] [--reflection]\n"
           "       [--case-read-retention-days 365]\n";
    return 2;
  }
  const std::string db = flags->Get("db");
  if (flags->Has("migrations")) {
    absl::StatusOr<int> applied = forecast::ApplyMigrations(db, flags->Get("migrations"));
    if (!applied.ok()) {
      std::cerr << "case-service: " << applied.status() << "\n";
      return 1;
    }
    std::cout << "case-service applied " << *applied << " migration(s)" << std::endl;
  }
  forecast::obs::SetServiceName("case-service");
  forecast::PgPool pool(db, pool_size);
  forecast::obs::ExportPoolMetrics(pool, "case");
  {
    absl::StatusOr<forecast::PgPool::Lease> probe = pool.Acquire();
    if (!probe.ok()) {
      std::cerr << "case-service: " << probe.status() << "\n";
      return 1;
    }
  }
  forecast::SystemClock clock;
  forecast::PgCaseStore store(pool);
  forecast::PgStaffDirectory directory(pool);  // uncached: sign-in checks the staff row itself
  // Catalogues and callers of RPCs stay in memory, dropped by the database's change notices.
  forecast::ReferenceData reference(pool, clock);
  if (absl::Status listening = reference.StartListening(); !listening.ok()) {
    std::cerr << "case-service: " << listening << "\n";
    return 1;
  }
  forecast::CaseKeeper keeper(store, clock, &reference.catalogues());
  forecast::audit::PgCaseReadLog reads(pool);  // every case read, recorded before it is answered
  forecast::audit::CaseReadRetention retention(reads, absl::Hours(24) * retention_days,
                                               absl::Hours(1));
  forecast::CaseServiceImpl service(keeper, reference.directory(), reads);
  // Single sign-on (services/identity/oidc_*): providers per job centre, LoginWithIdToken; and
  // the case-read log's admin query (services/common/audit), IdentityService.ListCaseReads.
  forecast::identity::OidcProviderStore providers(pool);
  forecast::identity::OidcKeySource provider_keys(forecast::identity::HttpOptions{});
  forecast::identity::OidcSignIn sign_in(providers, provider_keys, directory,
                                         forecast::identity::StaffOnlySignInHooks(pool));
  forecast::audit::CaseReadQuery case_reads(pool);
  forecast::identity::OidcIdentityService identity_service(sign_in, directory, case_reads);
  forecast::ImportGuard import_guard(db,
                                     concurrent_imports);  // one import per job centre at a time
  service.LimitImports(&import_guard, max_import_rows);
  const std::string host = flags->Get("host", "127.0.0.1");
  absl::StatusOr<forecast::RunningServer> server =
      forecast::StartGrpcServer({&service, &identity_service}, host, port, 64 << 20,
                                flags->Has("reflection"));  // reflection only with --reflection
  if (!server.ok()) {
    std::cerr << "case-service: " << server.status() << "\n";
    return 1;
  }
  std::cout << "case-service listening on " << host << ":" << server->port << std::endl;
  std::unique_ptr<forecast::obs::MetricsEndpoint> metrics;
  if (metrics_port >= 0) {
    forecast::obs::MetricsEndpoint::Options options;
    options.host = host;
    options.port = metrics_port;
    options.grpc_server = server->server.get();
    options.service_names = {"forecast.v1.CaseService", "forecast.v1.IdentityService"};
    options.readiness_checks = {forecast::obs::DatabaseReachable(pool)};
    auto started = forecast::obs::MetricsEndpoint::Start(std::move(options));
    if (!started.ok()) {
      std::cerr << "case-service: " << started.status() << "\n";
      return 1;
    }
    metrics = std::move(*started);
    std::cout << "case-service metrics on http://" << host << ":" << metrics->port() << "/metrics"
              << std::endl;
  }
  const int signal_number = forecast::WaitForShutdownSignal();
  std::cout << "case-service stopping (signal " << signal_number << ")" << std::endl;
  metrics.reset();
  forecast::ShutdownGracefully(*server->server);
  server->server->Wait();
  return 0;
}
