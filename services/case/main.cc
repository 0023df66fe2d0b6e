// case-service: the case service's gRPC server, which also serves the identity service
// (passwords, sessions, tokens, set-up codes, audit, and single sign-on).
//   case-service --db CONNINFO --port N --tls-cert PEM --tls-key PEM --token-public-key PEM
//       --token-signing-key PEM [more: case-service --help]
// Case reads are logged (services/common/audit); rows older than the retention are purged hourly.
// Server reflection is off unless --reflection.
// Prints "case-service listening on HOST:PORT" once serving (port 0 picks a free port) and
// shuts down gracefully on SIGTERM or SIGINT. Every port speaks TLS; every call but the
// identity service's sign-in calls needs an access token (services/common/caller.h).
#include <cstdio>
#include <iostream>
#include <optional>

#include "absl/time/time.h"
#include "services/case/case_keeper.h"
#include "services/case/case_service_impl.h"
#include "services/case/pg_case_store.h"
#include "services/case/reference_data.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/command_line.h"
#include "services/common/migrations.h"
#include "services/common/observability/observability.h"
#include "services/common/server.h"
#include "services/identity/oidc_sign_in.h"
#include "services/identity/identity_keeper.h"
#include "services/identity/identity_service_impl.h"

int main(int argc, char** argv) {
  forecast::TurnOffMutexDeadlockDetection();
  forecast::BlockShutdownSignals();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string db, host = "127.0.0.1", migrations, signing_key_file;
  int port = -1, pool_size = 16, metrics_port = -1, concurrent_imports = 1, retention_days = 365;
  int64_t max_import_rows = 3'000'000;
  int64_t max_import_case_rows = forecast::kDefaultMaxImportRowsPerCase;
  bool reflection = false;
  forecast::ServiceSecurityFiles files;
  forecast::identity::IdentityOptions options;
  CLI::App app{"Serves forecast.v1.CaseService and forecast.v1.IdentityService over TLS.",
               "case-service"};
  app.add_option("--db", db, "PostgreSQL connection string")->required();
  app.add_option("--port", port, "gRPC port (0: any free port)")
      ->required()
      ->check(CLI::Range(0, 65535));
  app.add_option("--host", host, "address to listen on")->capture_default_str();
  app.add_option("--migrations", migrations, "apply the migrations in this directory first");
  app.add_option("--pool", pool_size, "database connections")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--metrics-port", metrics_port, "Prometheus metrics and health over HTTP")
      ->check(CLI::Range(0, 65535));
  app.add_option("--max-import-rows", max_import_rows, "rows one import may hold")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-import-rows-per-case", max_import_case_rows,
                 "rows one case may have in one import")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-concurrent-imports", concurrent_imports, "imports running at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--case-read-retention-days", retention_days, "days the case-read log keeps")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--reflection", reflection, "serve gRPC server reflection");
  forecast::AddServiceSecurityOptions(app, &files);
  app.add_option("--token-signing-key", signing_key_file,
                 "PEM Ed25519 private key that signs access tokens (deploy/scripts/pki.sh)")
      ->required();
  forecast::AddDurationOption(app, "access-token-lifetime", &options.access_token_lifetime,
                              "lifetime of an access token");
  forecast::AddDurationOption(app, "session-idle-timeout", &options.session_idle_timeout,
                              "a session ends after this long unused");
  forecast::AddDurationOption(app, "session-lifetime", &options.session_lifetime,
                              "a session ends this long after login");
  forecast::AddDurationOption(app, "setup-code-lifetime", &options.setup_code_lifetime,
                              "a set-up code expires after this long");
  size_t password_memory_mib = options.password_cost.memory_bytes >> 20;
  app.add_option("--password-memory-mib", password_memory_mib,
                 "Argon2id memory per password hash, MiB (OWASP's minimum: 19 with 2 passes)")
      ->capture_default_str()
      ->check(CLI::Range(8, 1024));
  app.add_option("--password-passes", options.password_cost.passes,
                 "Argon2id passes per password hash")
      ->capture_default_str()
      ->check(CLI::Range(1, 10));
  app.add_option("--login-free-failures", options.account.free_failures,
                 "failed logins per account before delays begin")
      ->check(CLI::NonNegativeNumber);
  forecast::AddDurationOption(app, "login-delay", &options.account.base_delay,
                              "the first delay after failed logins");
  forecast::AddDurationOption(app, "login-max-delay", &options.account.max_delay,
                              "the longest delay");
  app.add_option("--login-lockout-after", options.account.lockout_after,
                 "failed logins per account before a lockout")
      ->check(CLI::NonNegativeNumber);
  forecast::AddDurationOption(app, "login-lockout", &options.account.lockout,
                              "how long a lockout lasts");
  app.add_option("--address-free-failures", options.address.free_failures,
                 "failed logins per client address before delays begin")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--address-lockout-after", options.address.lockout_after,
                 "failed logins per client address before a lockout")
      ->check(CLI::NonNegativeNumber);
  if (std::optional<int> exit_code = forecast::ParseCommandLine(app, argc, argv)) return *exit_code;
  options.password_cost.memory_bytes = password_memory_mib << 20;
  options.account.window = options.account.lockout;
  options.address.base_delay = options.account.base_delay;
  options.address.max_delay = options.account.max_delay;
  options.address.lockout = options.account.lockout;
  options.address.window = options.account.lockout;

  absl::StatusOr<forecast::ServiceSecurity> security = forecast::LoadServiceSecurity(files);
  if (!security.ok()) {
    std::cerr << "case-service: " << security.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<forecast::Ed25519Seed> signing_key =
      forecast::ReadSigningKeyFile(signing_key_file);
  if (!signing_key.ok()) {
    std::cerr << "case-service: --token-signing-key: " << signing_key.status().message() << "\n";
    return 2;
  }
  if (security->verifier
          ->Verify(forecast::AccessTokenSigner(*signing_key)
                       .Sign({forecast::kTokenIssuer, forecast::kTokenAudience, "probe", "probe", 0,
                              absl::Now(), absl::Now() + absl::Minutes(1), "probe"}))
          .status()
          .code() == absl::StatusCode::kUnauthenticated) {
    std::cerr << "case-service: --token-signing-key and --token-public-key are not a key pair\n";
    return 2;
  }

  if (!migrations.empty()) {
    absl::StatusOr<int> applied = forecast::ApplyMigrations(db, migrations);
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
  {
    // Changes a predecessor committed in its last moments may not have been announced: the
    // forecast service catches up on them (services/case/change_announcer.h).
    forecast::CaseChangeNotice resync;
    resync.scope = forecast::CaseChangeNotice::Scope::kResync;
    store.announcer().Announce(resync);
  }
  forecast::PgStaffDirectory directory(pool);  // uncached: sign-in checks the staff row itself
  // Catalogues and callers of RPCs stay in memory, dropped by the database's change notices.
  forecast::ReferenceData reference(pool, clock);
  if (absl::Status listening = reference.StartListening(); !listening.ok()) {
    std::cerr << "case-service: " << listening << "\n";
    return 1;
  }
  forecast::Authenticator authenticator(*security->verifier, reference.directory());
  forecast::CaseKeeper keeper(store, clock, &reference.catalogues());
  keeper.LimitImportRowsPerCase(max_import_case_rows);
  forecast::audit::PgCaseReadLog reads(pool);  // every case read, recorded before it is answered
  forecast::audit::CaseReadRetention retention(reads, absl::Hours(24) * retention_days,
                                               absl::Hours(1));
  forecast::OrgAdmin org(pool);  // the admin's set-up RPCs
  forecast::CaseServiceImpl service(keeper, org, authenticator, reads);
  forecast::AccessTokenSigner signer(*signing_key);
  forecast::identity::IdentityKeeper identity(pool, clock, signer, options);
  // Single sign-on (services/identity/oidc_*): providers per job centre, LoginWithIdToken, with
  // the identity keeper's sessions and audit trail; and the case-read log's admin query
  // (services/common/audit), IdentityService.ListCaseReads.
  forecast::identity::OidcProviderStore providers(pool);
  forecast::identity::OidcKeySource provider_keys(forecast::identity::HttpOptions{});
  forecast::identity::OidcSignIn sign_in(providers, provider_keys, directory,
                                         identity.SignInHooks());
  forecast::audit::CaseReadQuery case_reads(pool);
  forecast::identity::IdentityServiceImpl identity_service(identity, authenticator, &sign_in,
                                                           &case_reads);
  forecast::ImportGuard import_guard(db,
                                     concurrent_imports);  // one import per job centre at a time
  service.LimitImports(&import_guard, max_import_rows);
  absl::StatusOr<forecast::RunningServer> server = forecast::StartGrpcServer(
      {&service, &identity_service}, host, port, security->credentials, 64 << 20,
      reflection);  // reflection only with --reflection
  if (!server.ok()) {
    std::cerr << "case-service: " << server.status() << "\n";
    return 1;
  }
  std::cout << "case-service listening on " << host << ":" << server->port << std::endl;
  std::unique_ptr<forecast::obs::MetricsEndpoint> metrics;
  if (metrics_port >= 0) {
    forecast::obs::MetricsEndpoint::Options endpoint;
    endpoint.host = host;
    endpoint.port = metrics_port;
    endpoint.grpc_server = server->server.get();
    endpoint.service_names = {"forecast.v1.CaseService", "forecast.v1.IdentityService"};
    endpoint.readiness_checks = {forecast::obs::DatabaseReachable(pool)};
    auto started = forecast::obs::MetricsEndpoint::Start(std::move(endpoint));
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
