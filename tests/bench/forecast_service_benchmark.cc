// Benchmark of the forecast service against the synthetic job centre of a large municipality
// (40 teams, ~15,000 open cases, 5 years of history) loaded into PostgreSQL:
//   1. whole-centre projection time (each model, server-side compute and RPC round trip);
//   2. team dashboard latency p50/p99 with N concurrent clients, and in the same run the same
//      load on the server's health check as the reference, with the ratio;
//   3. time from a committed change (through the case service's CaseKeeper) to the streamed
//      team dashboard push, p50/p99.
// Targets: dashboard p99 <= 20 ms, whole-centre projection <= 100 ms, commit-to-push p99 <= 1 s.
//
//   forecast_service_benchmark --pg "host=127.0.0.1 port=N user=postgres dbname=postgres"
//       [--spec large|demo] [--clients 64] [--seconds 10] [--changes 50] [--fresh]
// The loaded database (forecast_bench_<spec>) is kept and reused by later runs unless --fresh.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "forecast/v1/forecast_service.grpc.pb.h"
#include "forecasting/synthetic.h"
#include "services/case/case_keeper.h"
#include "services/case/pg_case_store.h"
#include "services/common/caller.h"
#include "services/common/calendar.h"
#include "services/common/command_line.h"
#include "services/common/migrations.h"
#include "services/common/pg_pool.h"
#include "services/common/server.h"
#include "services/common/cached_staff_directory.h"
#include "services/forecast/change_listener.h"
#include "services/forecast/forecast_engine.h"
#include "services/forecast/forecast_service_impl.h"
#include "services/forecast/history_store.h"
#include "tests/bench/forecast_service_benchmark_loader.h"
#include "tests/support/test_security.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr char kCentre[] = "BENCH";

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  return v[i];
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "forecast_service_benchmark: %s\n", what.c_str());
  std::exit(1);
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) Die(absl::StrCat(what, ": ", s.ToString()));
}

struct Args {
  std::string pg;
  std::string spec = "large";
  int clients = 64;
  double seconds = 10;
  int changes = 50;
  bool fresh = false;
};

Args Parse(int argc, char** argv) {
  Args a;
  CLI::App app{"The forecast service's reads under load, and commit to push.",
               "forecast_service_benchmark"};
  app.add_option("--pg", a.pg, "PostgreSQL connection string (default: FORECAST_TEST_PG)");
  app.add_option("--spec", a.spec, "the centre loaded")
      ->capture_default_str()
      ->check(CLI::IsMember({"large", "demo"}));
  app.add_option("--clients", a.clients, "concurrent callers")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--seconds", a.seconds, "seconds per measurement")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--changes", a.changes, "changes timed from commit to push")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--fresh", a.fresh, "load the centre into a new database");
  if (std::optional<int> exit_code = forecast::ParseCommandLine(app, argc, argv)) {
    std::exit(*exit_code);
  }
  if (a.pg.empty()) {
    const char* env = std::getenv("FORECAST_TEST_PG");
    if (env == nullptr) Die("--pg CONNINFO (or FORECAST_TEST_PG) is required");
    a.pg = env;
  }
  return a;
}

// Creates (or reuses) the benchmark database and loads the synthetic centre into it.
std::string PrepareDatabase(const Args& args, std::string* today) {
  const std::string name = "forecast_bench_" + args.spec;
  {
    pqxx::connection admin(args.pg);
    pqxx::nontransaction tx(admin);
    if (args.fresh) tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
    if (tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", name).empty()) {
      tx.exec0("CREATE DATABASE " + tx.quote_name(name));
    }
  }
  const std::string conninfo = absl::StrCat(args.pg, " dbname=", name);
  const char* root = std::getenv("FORECAST_ROOT");
  const std::string migrations =
      std::getenv("FORECAST_MIGRATIONS_DIR") != nullptr ? std::getenv("FORECAST_MIGRATIONS_DIR")
      : root != nullptr                                 ? std::string(root) + "/deploy/migrations"
                        : std::string(FORECAST_SOURCE_DIR) + "/deploy/migrations";
  Check(forecast::ApplyMigrations(conninfo, migrations).status(), "migrations");

  forecasting::SyntheticSpec spec =
      args.spec == "demo" ? forecasting::DemoSpec() : forecasting::LargeSpec();
  *today = absl::StrFormat("%04d-%02d-%02d", spec.end_year, spec.end_month, spec.end_day);
  bool loaded = false;
  {
    pqxx::connection conn(conninfo);
    pqxx::work tx(conn);
    loaded = !tx.exec_params("SELECT 1 FROM job_centre WHERE code = $1", kCentre).empty();
  }
  if (!loaded) {
    auto t0 = Clock::now();
    absl::StatusOr<forecasting::SyntheticJobCentre> centre = forecasting::GenerateJobCentre(spec);
    Check(centre.status(), "generating the synthetic centre");
    auto t1 = Clock::now();
    Check(forecast::bench::LoadSyntheticCentre(conninfo, kCentre, *centre), "loading");
    auto t2 = Clock::now();
    std::printf(
        "generated %zu cases (%zu expectations, %zu closures) in %.1f s, loaded in %.1f s\n",
        centre->cases.size(), centre->expectations.size(), centre->closures.size(),
        Ms(t1 - t0) / 1000, Ms(t2 - t1) / 1000);
  } else {
    std::printf("reusing database %s\n", name.c_str());
  }
  return conninfo;
}

// A call as `staff`, with an access token minted once per staff member (as a client holds one for
// its lifetime); the service verifies it on every call, as in production.
std::unique_ptr<grpc::ClientContext> Context(const std::string& staff) {
  static std::mutex mu;
  static std::map<std::string, std::string> tokens;
  std::string token;
  {
    std::lock_guard<std::mutex> lock(mu);
    std::string& cached = tokens[staff];
    if (cached.empty()) cached = forecast::testing::MintToken(kCentre, staff, absl::Hours(2));
    token = cached;
  }
  auto ctx = std::make_unique<grpc::ClientContext>();
  forecast::testing::AddBearer(ctx.get(), token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

// Runs `call` from `clients` threads for `seconds` and returns every latency in ms.
template <typename F>
std::vector<double> Load(int clients, double seconds,
                         const std::vector<std::shared_ptr<grpc::Channel>>& channels, F call) {
  std::vector<std::vector<double>> per(clients);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(1234 + c);
      auto& channel = channels[c % channels.size()];
      while (!stop.load(std::memory_order_relaxed)) {
        auto t0 = Clock::now();
        if (!call(*channel, rng)) Die("a call failed under load");
        per[c].push_back(Ms(Clock::now() - t0));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (auto& v : per) all.insert(all.end(), v.begin(), v.end());
  return all;
}

void Report(const char* what, const std::vector<double>& ms, double seconds) {
  std::printf("%-28s n=%-7zu %8.0f/s  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", what, ms.size(),
              static_cast<double>(ms.size()) / seconds, Percentile(ms, 0.5), Percentile(ms, 0.99),
              Percentile(ms, 1.0));
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string today;
  const std::string conninfo = PrepareDatabase(args, &today);

  // The service, in process, exactly as forecast-service wires it; the clock is the generated
  // centre's "today" so that the history is as fresh as the generator made it.
  absl::StatusOr<absl::CivilDay> day = forecast::ParseDay(today, "today");
  Check(day.status(), "today");
  forecast::FixedClock clock(*day);
  forecast::PgPool pool(conninfo, 16);
  forecast::fsvc::PgHistoryStore store(pool);
  forecast::fsvc::ForecastEngine engine(store, clock);
  forecast::fsvc::ChangeListener listener(conninfo, engine);
  Check(listener.Start(), "listener");
  forecast::PgStaffDirectory staff(pool);
  forecast::SystemClock wall;  // the directory cache's time-to-live runs on real time
  forecast::CachedStaffDirectory directory(staff, wall);
  forecast::audit::PgCaseReadLog reads(pool);
  forecast::Authenticator authenticator(forecast::testing::Verifier(), directory);
  forecast::fsvc::ForecastServiceImpl service(engine, authenticator, store, reads);
  absl::StatusOr<forecast::RunningServer> server =
      forecast::StartGrpcServer({&service}, "127.0.0.1", 0, forecast::testing::ServerCredentials());
  Check(server.status(), "server");
  const std::string target = absl::StrCat("127.0.0.1:", server->port);

  absl::StatusOr<int64_t> centre_id = store.FindCentre(kCentre);
  Check(centre_id.status(), "centre");
  auto t0 = Clock::now();
  absl::StatusOr<std::shared_ptr<const forecast::fsvc::CentreView>> now =
      engine.cache().Now(*centre_id);
  Check(now.status(), "first view");
  const double load_ms = Ms(Clock::now() - t0);
  std::vector<int64_t> team_ids;
  std::vector<std::string> team_codes;
  for (const auto& u : (*now)->history().units) {
    if (u.is_team) {
      team_ids.push_back(u.id);
      team_codes.push_back(u.code);
    }
  }
  t0 = Clock::now();
  size_t dashboard_bytes = 0;
  for (int64_t team : team_ids) {
    auto dashboard = engine.cache().TeamDashboard(*now, team);
    Check(dashboard.status(), "warm dashboard");
    dashboard_bytes += (*dashboard)->ByteSizeLong();
  }
  const double warm_ms = Ms(Clock::now() - t0);
  std::printf("team dashboard message: %zu bytes on average\n",
              dashboard_bytes / std::max<size_t>(1, team_ids.size()));
  std::printf(
      "centre: %zu cases known, %zu open, %zu teams; history read + snapshot + model fit %.0f ms; "
      "%zu team dashboards with backtests %.0f ms\n",
      (*now)->history().cases.size(), (*now)->inputs().portfolio.cases.size(), team_ids.size(),
      load_ms, team_ids.size(), warm_ms);

  // 1. Whole-centre projection.
  auto channel = forecast::testing::TlsChannel(server->port);
  const std::shared_ptr<grpc::ChannelCredentials> tls =
      *forecast::ChannelTlsCredentials(forecast::testing::ClientTlsFiles());
  auto stub = forecast::v1::ForecastService::NewStub(channel);
  for (auto model : {forecast::v1::AS_PLANNED, forecast::v1::CALIBRATED, forecast::v1::BASELINE}) {
    std::vector<double> compute, rpc;
    for (int i = 0; i < 21; ++i) {
      forecast::v1::ProjectRequest req;
      req.mutable_scope()->set_kind(forecast::v1::Scope::JOB_CENTRE);
      req.set_model(model);
      req.set_horizon_months(12);
      forecast::v1::Projection resp;
      auto ctx = Context("manager");
      auto r0 = Clock::now();
      grpc::Status st = stub->Project(ctx.get(), req, &resp);
      if (!st.ok()) Die("Project: " + st.error_message());
      if (i == 0) continue;  // the first call also runs the backtest for the accuracy figure
      rpc.push_back(Ms(Clock::now() - r0));
      compute.push_back(resp.compute_ms());
    }
    std::printf(
        "whole-centre projection %-10s 12 months, %lld open cases: compute p50 %.1f ms max %.1f ms; "
        "RPC p50 %.1f ms max %.1f ms\n",
        forecast::v1::Model_Name(model).c_str(),
        static_cast<long long>((*now)->inputs().portfolio.cases.size()), Percentile(compute, 0.5),
        Percentile(compute, 1.0), Percentile(rpc, 0.5), Percentile(rpc, 1.0));
  }

  // 1b. The trend (issue 11): six month-ends and today, as-of views; the first call computes each
  // past day's view (snapshot and fit), later calls find their projections memoised.
  for (auto step : {forecast::v1::MONTH_END, forecast::v1::WEEK}) {
    std::vector<double> rpc;
    for (int i = 0; i < 3; ++i) {
      forecast::v1::TrendRequest req;
      req.mutable_scope()->set_kind(forecast::v1::Scope::JOB_CENTRE);
      req.set_step(step);
      forecast::v1::Trend resp;
      auto ctx = Context("manager");
      auto r0 = Clock::now();
      grpc::Status st = stub->GetTrend(ctx.get(), req, &resp);
      if (!st.ok()) Die("GetTrend: " + st.error_message());
      rpc.push_back(Ms(Clock::now() - r0));
    }
    std::printf("trend %-9s 6 points + today, whole centre: first %.0f ms, then %.1f / %.1f ms\n",
                forecast::v1::TrendStep_Name(step).c_str(), rpc[0], rpc[1], rpc[2]);
  }

  // 2. Team dashboards under load, then the health check under the same load.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 8; ++i) {
    grpc::ChannelArguments ca;
    ca.SetInt("bench_channel", i);  // distinct channels, distinct connections
    channels.push_back(grpc::CreateCustomChannel(target, tls, ca));
  }
  auto dashboard_call = [&](grpc::Channel& ch, std::mt19937& rng) {
    forecast::v1::ForecastService::Stub s(
        std::shared_ptr<grpc::Channel>(&ch, [](grpc::Channel*) {}));
    forecast::v1::TeamDashboardRequest req;
    req.set_team(team_codes[rng() % team_codes.size()]);
    forecast::v1::TeamDashboard resp;
    auto ctx = Context("manager");
    return s.GetTeamDashboard(ctx.get(), req, &resp).ok() && resp.rows_size() > 0;
  };
  auto health_call = [&](grpc::Channel& ch, std::mt19937&) {
    grpc::GenericStub generic(std::shared_ptr<grpc::Channel>(&ch, [](grpc::Channel*) {}));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::ByteBuffer request, response;  // an empty HealthCheckRequest: the server's overall status
    grpc::Slice empty("", 0);
    request = grpc::ByteBuffer(&empty, 1);
    std::atomic<bool> done{false};
    grpc::Status status;
    std::mutex mu;
    std::condition_variable cv;
    generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                      &response, [&](grpc::Status s) {
                        std::lock_guard<std::mutex> lock(mu);
                        status = s;
                        done = true;
                        cv.notify_one();
                      });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done.load(); });
    return status.ok();
  };
  Load(args.clients, 1.0, channels, dashboard_call);  // warm the connections
  const std::vector<double> dash = Load(args.clients, args.seconds, channels, dashboard_call);
  const std::vector<double> health = Load(args.clients, args.seconds, channels, health_call);
  std::printf("%d concurrent clients, %.0f s each:\n", args.clients, args.seconds);
  Report("GetTeamDashboard", dash, args.seconds);
  Report("Health/Check (reference)", health, args.seconds);
  std::printf("dashboard / health ratio: p50 %.2fx, p99 %.2fx\n",
              Percentile(dash, 0.5) / std::max(1e-9, Percentile(health, 0.5)),
              Percentile(dash, 0.99) / std::max(1e-9, Percentile(health, 0.99)));

  // 3. Commit-to-push: a watcher of one team; each change is an expectation recorded through the
  // case service's logic (CaseKeeper over its PostgreSQL store).
  forecast::PgCaseStore case_store(pool);
  forecast::CaseKeeper keeper(case_store, clock);
  const std::string team = team_codes.front();
  absl::StatusOr<forecast::Caller> leader =
      forecast::ResolveCaller(kCentre, "TL" + team, directory);
  Check(leader.status(), "team leader");
  std::vector<std::string> refs;
  {
    const auto& v = **now;
    for (size_t i = 0; i < v.inputs().portfolio.cases.size(); ++i) {
      const auto& s = v.OpenCase(static_cast<int32_t>(i));
      if (s.team_id == team_ids.front()) refs.push_back(s.record->ref);
    }
  }
  auto watch_ctx = Context("manager");
  watch_ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::hours(1));
  forecast::v1::TeamDashboardRequest watch_req;
  watch_req.set_team(team);
  auto reader = stub->WatchTeamDashboard(watch_ctx.get(), watch_req);
  forecast::v1::TeamDashboard pushed;
  if (!reader->Read(&pushed)) Die("no first push");
  std::vector<double> push_ms;
  const char* outcomes[] = {"ORDINARY_JOB", "EDUCATION", "SMALL_JOB", "DECLARED_FIT"};
  const char* risks[] = {"LOW", "MEDIUM", "HIGH"};
  for (int i = 0; i < args.changes; ++i) {
    const std::string& ref = refs[i % refs.size()];
    forecast::v1::GetCaseRequest get;
    get.set_case_ref(ref);
    absl::StatusOr<forecast::v1::Case> c = keeper.GetCase(*leader, get);
    Check(c.status(), "GetCase");
    forecast::v1::RecordExpectationRequest rec;
    rec.set_case_ref(ref);
    rec.set_base_version(c->version());
    rec.set_expected_outcome(outcomes[i % 4]);
    rec.set_expected_month(forecast::FormatMonth(absl::CivilMonth(*day) + 1 + (i % 6)));
    rec.set_risk(risks[i % 3]);
    const int64_t before = pushed.revision();
    Check(keeper.RecordExpectation(*leader, rec).status(), "RecordExpectation");
    const auto committed = Clock::now();
    do {
      if (!reader->Read(&pushed)) Die("watch stream ended");
    } while (pushed.revision() <= before);
    push_ms.push_back(Ms(Clock::now() - committed));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  watch_ctx->TryCancel();
  std::printf("commit-to-push (%d changes): p50 %.1f ms  p99 %.1f ms  max %.1f ms\n", args.changes,
              Percentile(push_ms, 0.5), Percentile(push_ms, 0.99), Percentile(push_ms, 1.0));
  forecast::ShutdownGracefully(*server->server, absl::Seconds(1));
  return 0;
}
