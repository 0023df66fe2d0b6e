// Watching a running forecast service (issue 14): the forecast-service binary on port 0 with
// --metrics-port 0 against a real PostgreSQL; /metrics, /healthz and /readyz are scraped over
// HTTP. The figures must move with the work done (calls, open streams, changes applied and their
// commit-to-applied lag, refreshes, fits), and readiness must be apart from liveness: with the
// database refusing connections /readyz answers 503 while /healthz stays 200.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "forecast/v1/forecast_service.grpc.pb.h"
#include "tests/forecast_service/seed_centre.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast::fsvc {
namespace {

using Clock = std::chrono::steady_clock;

// The sum of every sample of `name` (any labels) whose label text contains `label_part`.
double Sample(const std::string& metrics, const std::string& name,
              const std::string& label_part = "") {
  double sum = 0;
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    const std::string series = line.substr(0, space);
    const size_t brace = series.find('{');
    if (series.substr(0, brace) != name) continue;
    if (!label_part.empty() && !absl::StrContains(series, label_part)) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(space + 1), &value)) sum += value;
  }
  return sum;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

class RunningService {
 public:
  explicit RunningService(const std::string& conninfo) {
    std::vector<std::string> args = {FORECAST_SERVICE_BINARY, "--db", conninfo, "--port", "0",
                                     "--metrics-port",        "0"};
    for (const std::string& flag : forecast::testing::ServiceSecurityFlags(false)) {
      args.push_back(flag);
    }
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    FILE* lines = fdopen(out[0], "r");
    char buf[512];
    // "forecast-service listening on 127.0.0.1:P", then "... metrics on http://127.0.0.1:M/metrics"
    while ((grpc_port_ == 0 || metrics_port_ == 0) && fgets(buf, sizeof buf, lines) != nullptr) {
      const std::string line = buf;
      if (size_t at = line.find("listening on 127.0.0.1:"); at != std::string::npos) {
        (void)absl::SimpleAtoi(line.substr(at + 23, line.find_first_of("\r\n", at) - at - 23),
                               &grpc_port_);
      }
      if (size_t at = line.find("http://127.0.0.1:"); at != std::string::npos) {
        (void)absl::SimpleAtoi(line.substr(at + 17, line.find('/', at + 17) - at - 17),
                               &metrics_port_);
      }
    }
    stdout_ = lines;
  }
  ~RunningService() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (stdout_ != nullptr) fclose(stdout_);
  }

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }

  // The HTTP status of GET path (0 when nothing answered), and the body into `body`.
  int Get(const std::string& path, std::string* body = nullptr) const {
    httplib::Client client("127.0.0.1", metrics_port_);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(5, 0);
    httplib::Result r = client.Get(path.c_str());
    if (!r) return 0;
    if (body != nullptr) *body = r->body;
    return r->status;
  }
  std::string Metrics() const {
    std::string body;
    EXPECT_EQ(Get("/metrics", &body), 200);
    return body;
  }

 private:
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
  int grpc_port_ = 0, metrics_port_ = 0;
};

std::unique_ptr<grpc::ClientContext> As(const std::string& staff) {
  return forecast::testing::ContextAs("JC1", staff, absl::Seconds(60));
}

TEST(ForecastMetrics, FiguresMoveWithTheWorkAndReadinessIsApartFromLiveness) {
  auto db = forecast::testing::TestDatabase::Create();
  ASSERT_TRUE(db.ok()) << db.status();
  const std::string conninfo = (*db)->conninfo();
  const forecast::testing::SeededCentres seeded = forecast::testing::SeedCentres(conninfo);
  RunningService service(conninfo);
  ASSERT_GT(service.grpc_port(), 0);
  ASSERT_GT(service.metrics_port(), 0);

  EXPECT_EQ(service.Get("/healthz"), 200);  // alive at once
  // Ready once the database answers and every centre is warmed (models fitted).
  ASSERT_TRUE(WaitFor([&] { return service.Get("/readyz") == 200; }, std::chrono::seconds(120)));
  const std::string warm = service.Metrics();
  EXPECT_GE(Sample(warm, "jobcentre_forecast_fit_seconds_count"), 2);  // JC1 and JC2
  EXPECT_GE(Sample(warm, "jobcentre_forecast_centres_loaded"), 2);

  auto stub = v1::ForecastService::NewStub(forecast::testing::TlsChannel(service.grpc_port()));
  v1::TeamDashboardRequest req;
  req.set_team("TA");
  {
    v1::TeamDashboard reply;
    ASSERT_TRUE(stub->GetTeamDashboard(As("tl_a").get(), req, &reply).ok());
  }
  auto watch_ctx = As("tl_a");
  auto reader = stub->WatchTeamDashboard(watch_ctx.get(), req);
  v1::TeamDashboard first;
  ASSERT_TRUE(reader->Read(&first));
  const std::string before = service.Metrics();
  EXPECT_GE(Sample(before, "jobcentre_grpc_server_handled_total", "GetTeamDashboard"), 1);
  EXPECT_EQ(Sample(before, "jobcentre_grpc_server_open_streams", "WatchTeamDashboard"), 1);

  // A committed change: applied, and counted with its commit-to-applied lag.
  forecast::testing::CentreWriter writer(conninfo, seeded.jc1);
  writer.Expect("A2", "2099-03-16", "ORDINARY_JOB", "2099-06", "LOW");
  std::string after;
  ASSERT_TRUE(WaitFor(
      [&] {
        after = service.Metrics();
        return Sample(after, "jobcentre_forecast_change_lag_seconds_count") >
               Sample(before, "jobcentre_forecast_change_lag_seconds_count");
      },
      std::chrono::seconds(10)));
  EXPECT_GT(Sample(after, "jobcentre_forecast_refresh_seconds_count"),
            Sample(before, "jobcentre_forecast_refresh_seconds_count"));
  EXPECT_GT(Sample(after, "jobcentre_forecast_changes_applied_total"),
            Sample(before, "jobcentre_forecast_changes_applied_total"));
  // The lag is a real duration: above zero, below the test's own wait.
  const double lag_sum = Sample(after, "jobcentre_forecast_change_lag_seconds_sum") -
                         Sample(before, "jobcentre_forecast_change_lag_seconds_sum");
  EXPECT_GT(lag_sum, 0);
  EXPECT_LT(lag_sum, 10);
  watch_ctx->TryCancel();
  reader.reset();
  EXPECT_TRUE(WaitFor(
      [&] {
        return Sample(service.Metrics(), "jobcentre_grpc_server_open_streams",
                      "WatchTeamDashboard") == 0;
      },
      std::chrono::seconds(10)));

  // The database refuses connections: not ready, still alive; ready again when it is back.
  const char* admin_env = std::getenv("FORECAST_TEST_PG");
  ASSERT_NE(admin_env, nullptr);
  std::string name;
  {
    pqxx::connection conn(conninfo);
    pqxx::nontransaction tx(conn);
    name = tx.exec1("SELECT current_database()")[0].as<std::string>();
  }
  pqxx::connection admin(admin_env);
  auto allow = [&](bool on) {
    pqxx::nontransaction tx(admin);
    tx.exec(absl::StrCat("ALTER DATABASE ", tx.quote_name(name), " WITH ALLOW_CONNECTIONS ",
                         on ? "true" : "false"));
    if (!on) {
      tx.exec_params("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                     name);
    }
  };
  allow(false);
  const bool unready =
      WaitFor([&] { return service.Get("/readyz") == 503; }, std::chrono::seconds(20));
  const int alive = service.Get("/healthz");
  allow(true);
  EXPECT_TRUE(unready) << "/readyz did not answer 503 while the database refused connections";
  EXPECT_EQ(alive, 200);
  EXPECT_TRUE(WaitFor([&] { return service.Get("/readyz") == 200; }, std::chrono::seconds(30)));
  EXPECT_GE(Sample(service.Metrics(), "jobcentre_pg_pool_discarded_total"), 1);
}

}  // namespace
}  // namespace forecast::fsvc
