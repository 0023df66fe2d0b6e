// case-service: the case service's gRPC server, which also serves the identity service
// (passwords, sessions, tokens, set-up codes, audit, and single sign-on).
//   case-service --db CONNINFO --port N --tls-cert PEM --tls-key PEM --token-public-key PEM
//       --token-signing-key PEM [--tls-client-ca PEM] [--host 127.0.0.1] [--migrations DIR] [--pool
//       16]
//       [--access-token-lifetime 5m] [--session-idle-timeout 30m] [--session-lifetime 12h]
//       [--setup-code-lifetime 72h] [--login-free-failures 3] [--login-delay 1s]
//       [--login-max-delay 1m] [--login-lockout-after 10] [--login-lockout 15m]
//       [--address-free-failures 20] [--address-lockout-after 100]
//       [--metrics-port M]   (Prometheus /metrics, /healthz, /readyz over HTTP)
//       [--max-import-rows 3000000] [--max-concurrent-imports 1] [--reflection]
//       [--case-read-retention-days 365]
// Case reads are logged (services/common/audit); rows older than the retention are purged hourly.
// Server reflection is off unless --reflection.
// Prints "case-service listening on HOST:PORT" once serving (port 0 picks a free port) and
// shuts down gracefully on SIGTERM or SIGINT. Every port speaks TLS; every call but the
// identity service's sign-in calls needs an access token (services/common/caller.h).
#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "services/case/case_keeper.h"
#include "services/case/case_service_impl.h"
#include "services/case/flags.h"
#include "services/case/pg_case_store.h"
#include "services/case/reference_data.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/migrations.h"
#include "services/common/observability/observability.h"
#include "services/common/server.h"
#include "services/identity/oidc_sign_in.h"
#include "services/identity/identity_keeper.h"
#include "services/identity/identity_service_impl.h"

namespace {

constexpr char kUsage[] =
    "usage: case-service --db CONNINFO --port N --tls-cert PEM --tls-key PEM --token-public-key PEM\n"
    "         --token-signing-key PEM [--tls-client-ca PEM] [--host 127.0.0.1] [--migrations DIR] [--pool 16]\n"
    "         [--access-token-lifetime 5m] [--session-idle-timeout 30m] [--session-lifetime 12h]\n"
    "         [--setup-code-lifetime 72h] [--login-free-failures 3] [--login-delay 1s] [--login-max-delay 1m]\n"
    "         [--login-lockout-after 10] [--login-lockout 15m] [--address-free-failures 20]\n"
    "         [--address-lockout-after 100] [--metrics-port M] [--max-import-rows 3000000]\n"
    "         [--max-concurrent-imports 1] [--reflection] [--case-read-retention-days 365]\n";

bool ReadDuration(const forecast::Flags& flags, const std::string& name, absl::Duration* out) {
  if (!flags.Has(name)) return true;
  if (!absl::ParseDuration(flags.Get(name), out) || *out <= absl::ZeroDuration()) {
    std::cerr << "case-service: --" << name << ": not a positive duration (e.g. 90s, 15m, 12h)\n";
    return false;
  }
  return true;
}

bool ReadCount(const forecast::Flags& flags, const std::string& name, int* out) {
  if (!flags.Has(name)) return true;
  if (!absl::SimpleAtoi(flags.Get(name), out) || *out < 0) {
    std::cerr << "case-service: --" << name << ": not a count\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  forecast::BlockShutdownSignals();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  absl::StatusOr<forecast::Flags> flags = forecast::ParseFlags(argc, argv, 1,
                                                               {"db",
                                                                "port",
                                                                "host",
                                                                "migrations",
                                                                "pool",
                                                                "tls-cert",
                                                                "tls-key",
                                                                "tls-client-ca",
                                                                "token-public-key",
                                                                "token-signing-key",
                                                                "access-token-lifetime",
                                                                "session-idle-timeout",
                                                                "session-lifetime",
                                                                "setup-code-lifetime",
                                                                "login-free-failures",
                                                                "login-delay",
                                                                "login-max-delay",
                                                                "login-lockout-after",
                                                                "login-lockout",
                                                                "address-free-failures",
                                                                "address-lockout-after",
                                                                "metrics-port",
                                                                "max-import-rows",
                                                                "max-concurrent-imports",
                                                                "case-read-retention-days"},
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
    std::cerr << kUsage;
    return 2;
  }
  forecast::identity::IdentityOptions options;
  if (!ReadDuration(*flags, "access-token-lifetime", &options.access_token_lifetime) ||
      !ReadDuration(*flags, "session-idle-timeout", &options.session_idle_timeout) ||
      !ReadDuration(*flags, "session-lifetime", &options.session_lifetime) ||
      !ReadDuration(*flags, "setup-code-lifetime", &options.setup_code_lifetime) ||
      !ReadCount(*flags, "login-free-failures", &options.account.free_failures) ||
      !ReadDuration(*flags, "login-delay", &options.account.base_delay) ||
      !ReadDuration(*flags, "login-max-delay", &options.account.max_delay) ||
      !ReadCount(*flags, "login-lockout-after", &options.account.lockout_after) ||
      !ReadDuration(*flags, "login-lockout", &options.account.lockout) ||
      !ReadCount(*flags, "address-free-failures", &options.address.free_failures) ||
      !ReadCount(*flags, "address-lockout-after", &options.address.lockout_after)) {
    std::cerr << kUsage;
    return 2;
  }
  options.account.window = options.account.lockout;
  options.address.base_delay = options.account.base_delay;
  options.address.max_delay = options.account.max_delay;
  options.address.lockout = options.account.lockout;
  options.address.window = options.account.lockout;

  absl::StatusOr<forecast::ServiceSecurity> security =
      forecast::LoadServiceSecurity({flags->Get("tls-cert"), flags->Get("tls-key"),
                                     flags->Get("tls-client-ca"), flags->Get("token-public-key")});
  if (!security.ok()) {
    std::cerr << "case-service: " << security.status().message() << "\n" << kUsage;
    return 2;
  }
  if (!flags->Has("token-signing-key")) {
    std::cerr << "case-service: --token-signing-key is required (deploy/scripts/pki.sh makes one)\n"
              << kUsage;
    return 2;
  }
  absl::StatusOr<forecast::Ed25519Seed> signing_key =
      forecast::ReadSigningKeyFile(flags->Get("token-signing-key"));
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
  forecast::Authenticator authenticator(*security->verifier, reference.directory());
  forecast::CaseKeeper keeper(store, clock, &reference.catalogues());
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
  const std::string host = flags->Get("host", "127.0.0.1");
  absl::StatusOr<forecast::RunningServer> server = forecast::StartGrpcServer(
      {&service, &identity_service}, host, port, security->credentials, 64 << 20,
      flags->Has("reflection"));  // reflection only with --reflection
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
