// The gateway under load (issue 9). Not a unit test: it prints figures and ratios.
//
//   build/tests/bench/gateway_benchmark [--seconds 10] [--clients 64] [--streams 2000]
//                                       [--slowloris 200]
//
// A child process runs the gateway (Beast, 2 threads) with the product's sign-in: the real
// identity service (IdentityServiceImpl over a fresh database on $FORECAST_TEST_PG, Argon2id at
// its production cost, access tokens signed with the test key of $FORECAST_PKI_DIR) and the
// gateway's IdentityAuthenticator, so a login costs what it costs in production and every call
// carries a real access token. The case and forecast services are an in-process stand-in
// (GetTeamDashboard answering a fixed 12-row dashboard; WatchTeamDashboard pushing a new
// revision every second, stamped with the monotonic clock) that answers at once, so the
// dashboard and stream figures are the gateway's own cost. This process is the clients:
//  1. the team dashboard with N concurrent clients through the gateway (HTTP+JSON, keep-alive),
//     then straight over gRPC to the same service, in the same run: p50/p99 and the ratio;
//  2. M open event streams (one shared upstream call) plus S slowloris connections (one header
//     byte per second), while /healthz and login are timed one after another: p50/p99; every
//     stream's delay from a push leaving the service to its arrival; the gateway's RSS per stream.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <grpcpp/grpcpp.h>

#include "forecast/v1/case_service.grpc.pb.h"
#include "forecast/v1/forecast_service.grpc.pb.h"
#include "services/case/org_admin.h"
#include "services/common/calendar.h"
#include "services/common/caller.h"
#include "services/common/pg_pool.h"
#include "services/gateway/authenticator.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/rpc_transcoder.h"
#include "services/identity/identity_keeper.h"
#include "services/identity/identity_service_impl.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
namespace v1 = ::forecast::v1;
using Clock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

long RssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// ---- the child: stand-in services + gateway ----------------------------------------------

v1::TeamDashboard Dashboard(const std::string& team) {
  v1::TeamDashboard dashboard;
  dashboard.set_team(team);
  dashboard.set_team_name("Team Nord");
  for (int i = 0; i < 12; ++i) {
    v1::CaseworkerRow* row = dashboard.add_rows();
    row->set_caseworker("CW" + std::to_string(100 + i));
    row->set_display_name("Sagsbehandler " + std::to_string(i));
    row->set_open_cases(30 + i);
  }
  dashboard.set_revision(1);
  return dashboard;
}

class StandInForecast final : public v1::ForecastService::Service {
  grpc::Status GetTeamDashboard(grpc::ServerContext*, const v1::TeamDashboardRequest* request,
                                v1::TeamDashboard* reply) override {
    *reply = Dashboard(request->team());
    return grpc::Status::OK;
  }
  grpc::Status WatchTeamDashboard(grpc::ServerContext* context,
                                  const v1::TeamDashboardRequest* request,
                                  grpc::ServerWriter<v1::TeamDashboard>* writer) override {
    v1::TeamDashboard dashboard = Dashboard(request->team());
    for (int64_t revision = 1; !context->IsCancelled(); ++revision) {
      dashboard.set_revision(revision);
      dashboard.set_computed_at(std::to_string(NowNs()));  // the push leaves now
      if (!writer->Write(dashboard)) break;
      for (int i = 0; i < 100 && !context->IsCancelled(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    return grpc::Status::OK;
  }
};

constexpr char kPassword[] = "a benchmark password";

// The gateway and its backends; `conninfo` names the database made by the parent (the staff
// member tl1 of JC, team T1, with kPassword).
[[noreturn]] void RunChild(int report_fd, const std::string& conninfo) {
  forecast::PgPool pool(conninfo, 8);
  forecast::PgStaffDirectory directory(pool);
  forecast::Authenticator verifier(forecast::testing::Verifier(), directory);
  forecast::SystemClock clock;
  forecast::identity::IdentityKeeper keeper(pool, clock, forecast::testing::Signer());
  forecast::identity::IdentityServiceImpl identity(keeper, verifier);
  StandInForecast forecast_service;
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &grpc_port);
  builder.RegisterService(&identity);
  builder.RegisterService(&forecast_service);
  std::unique_ptr<grpc::Server> backend = builder.BuildAndStart();
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port),
                                     grpc::InsecureChannelCredentials());
  forecast::gateway::RpcTranscoder transcoder(
      {{"IdentityService", channel}, {"ForecastService", channel}}, absl::Seconds(30));
  forecast::gateway::IdentityAuthenticator authenticator(transcoder, absl::Seconds(30),
                                                         [] { return absl::Now(); });
  forecast::gateway::GatewayOptions options;
  options.http.threads = 2;
  options.http.max_connections_per_address = 100000;
  options.http.max_connections = 100000;
  options.http.header_timeout = absl::Seconds(10);
  options.streams.per_session = 100000;
  options.streams.per_user = 100000;
  forecast::gateway::GatewayServer gateway(options, transcoder, authenticator);
  absl::StatusOr<int> port = gateway.Start();
  const int ports[2] = {port.ok() ? *port : -1, grpc_port};
  if (write(report_fd, ports, sizeof(ports)) != sizeof(ports)) _exit(1);
  pause();  // until SIGTERM
  _exit(0);
}

// ---- the clients -------------------------------------------------------------------------

struct Figures {
  std::vector<double> ms;
  void Add(double value) { ms.push_back(value); }
  double Percentile(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))];
  }
};

// One keep-alive HTTP connection, used synchronously.
class HttpClient {
 public:
  explicit HttpClient(int port) : stream_(ioc_) {
    stream_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
    stream_.socket().set_option(tcp::no_delay(true));
    origin_ = "http://127.0.0.1:" + std::to_string(port);
  }
  http::response<http::string_body> Send(http::verb verb, const std::string& target,
                                         const std::string& body, const std::string& cookie) {
    http::request<http::string_body> request(verb, target, 11);
    request.set(http::field::host, origin_.substr(7));
    request.set(http::field::origin, origin_);
    if (!cookie.empty()) request.set(http::field::cookie, cookie);
    if (verb == http::verb::post) {
      request.set(http::field::content_type, "application/json");
      request.body() = body;
      request.prepare_payload();
    }
    http::write(stream_, request);
    http::response<http::string_body> response;
    http::read(stream_, buffer_, response);
    return response;
  }

 private:
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string origin_;
};

const std::string kLogin =
    std::string(R"({"job_centre":"JC","staff_code":"tl1","password":")") + kPassword + "\"}";

std::string LoginCookie(int port) {
  HttpClient client(port);
  auto response = client.Send(http::verb::post, "/api/login", kLogin, "");
  std::string cookie(response[http::field::set_cookie]);
  return cookie.substr(0, cookie.find(';'));
}

void Dashboards(int gateway_port, int grpc_port, int clients, int seconds) {
  const std::string cookie = LoginCookie(gateway_port);
  auto run = [&](const char* label, auto&& one_call) {
    std::vector<Figures> per_thread(static_cast<size_t>(clients));
    std::vector<std::thread> threads;
    std::atomic<long> errors{0};
    const auto until = Clock::now() + std::chrono::seconds(seconds);
    for (int t = 0; t < clients; ++t) {
      threads.emplace_back([&, t] {
        auto call = one_call();
        while (Clock::now() < until) {
          const auto start = Clock::now();
          if (!call()) ++errors;
          per_thread[static_cast<size_t>(t)].Add(
              std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        }
      });
    }
    for (auto& thread : threads) thread.join();
    Figures all;
    for (auto& figures : per_thread)
      all.ms.insert(all.ms.end(), figures.ms.begin(), figures.ms.end());
    const double count = static_cast<double>(all.ms.size());
    const double p50 = all.Percentile(0.50);
    const double p99 = all.Percentile(0.99);
    std::printf("  %-28s %8.0f req/s   p50 %6.2f ms   p99 %6.2f ms   errors %ld\n", label,
                count / seconds, p50, p99, errors.load());
    return p99;
  };
  std::printf("Team dashboard, %d concurrent clients, %d s each:\n", clients, seconds);
  const double gateway_p99 = run("through the gateway (HTTP)", [&] {
    auto client = std::make_shared<HttpClient>(gateway_port);
    return [client, &cookie]() {
      auto response = client->Send(http::verb::post, "/api/ForecastService/GetTeamDashboard",
                                   R"({"team":"T1"})", cookie);
      return response.result_int() == 200;
    };
  });
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::ForecastService::NewStub(channel);
  const double grpc_p99 = run("straight over gRPC", [&] {
    return [&stub]() {
      grpc::ClientContext context;
      context.AddMetadata("x-job-centre", "JC");
      context.AddMetadata("x-staff", "tl1");
      v1::TeamDashboardRequest request;
      request.set_team("T1");
      v1::TeamDashboard reply;
      return stub->GetTeamDashboard(&context, request, &reply).ok();
    };
  });
  std::printf("  gateway p99 / gRPC p99: %.2fx (goal <= 2x)\n\n", gateway_p99 / grpc_p99);
}

// Many event streams and slowloris connections on one io_context thread.
class StreamCrowd {
 public:
  StreamCrowd(int port, const std::string& cookie) : port_(port), cookie_(cookie) {}

  void Open(int streams, int slowloris) {
    for (int i = 0; i < streams; ++i) OpenStream();
    for (int i = 0; i < slowloris; ++i) OpenSlowloris();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void Stop() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int live() const { return live_.load(); }
  int slow_alive() const { return slow_alive_.load(); }
  // Delays (ms) from a push leaving the service to its arrival, for pushes after `since_ns`.
  Figures delays(int64_t since_ns) {
    std::lock_guard<std::mutex> lock(mu_);
    Figures out;
    for (const auto& [sent, ms] : delays_) {
      if (sent >= since_ns) out.Add(ms);
    }
    return out;
  }
  int64_t newest_revision_everywhere() {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t low = INT64_MAX;
    for (const auto& stream : streams_) low = std::min(low, stream->revision);
    return streams_.empty() ? 0 : low;
  }

 private:
  struct Stream {
    explicit Stream(net::io_context& ioc) : socket(ioc) {}
    tcp::socket socket;
    std::string request;
    std::array<char, 8192> buffer{};
    std::string pending;
    int64_t revision = 0;
  };

  tcp::endpoint Endpoint() const {
    return tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_));
  }

  void OpenStream() {
    auto stream = std::make_shared<Stream>(ioc_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      streams_.push_back(stream);
    }
    stream->request =
        "GET /api/ForecastService/WatchTeamDashboard/stream?json=%7B%22team%22%3A%22T1%22%7D "
        "HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " +
        cookie_ + "\r\n\r\n";
    stream->socket.async_connect(Endpoint(), [this, stream](beast::error_code ec) {
      if (ec) return;
      net::async_write(stream->socket, net::buffer(stream->request),
                       [this, stream](beast::error_code write_ec, size_t) {
                         if (!write_ec) Read(stream);
                       });
    });
  }

  void Read(const std::shared_ptr<Stream>& stream) {
    stream->socket.async_read_some(
        net::buffer(stream->buffer), [this, stream](beast::error_code ec, size_t n) {
          if (ec) return;
          const int64_t now = NowNs();
          stream->pending.append(stream->buffer.data(), n);
          size_t at;
          while ((at = stream->pending.find("\"revision\":\"")) != std::string::npos) {
            const size_t end = stream->pending.find("\n\n", at);
            if (end == std::string::npos) break;
            const int64_t revision = std::atoll(stream->pending.c_str() + at + 12);
            const size_t stamp_at = stream->pending.find("\"computed_at\":\"", at);
            int64_t sent = 0;
            if (stamp_at != std::string::npos && stamp_at < end) {
              sent = std::atoll(stream->pending.c_str() + stamp_at + 15);
            }
            {
              std::lock_guard<std::mutex> lock(mu_);
              if (stream->revision == 0) ++live_;
              if (revision > stream->revision && stream->revision != 0 && sent > 0) {
                delays_.emplace_back(sent, static_cast<double>(now - sent) / 1e6);
              }
              stream->revision = std::max(stream->revision, revision);
            }
            stream->pending.erase(0, end + 2);
          }
          if (stream->pending.size() > 65536) stream->pending.clear();
          Read(stream);
        });
  }

  void OpenSlowloris() {
    auto socket = std::make_shared<tcp::socket>(ioc_);
    auto timer = std::make_shared<net::steady_timer>(ioc_);
    socket->async_connect(Endpoint(), [this, socket, timer](beast::error_code ec) {
      if (ec) return;
      ++slow_alive_;
      Drip(socket, timer,
           std::make_shared<std::string>(
               "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: one-byte-a-second"));
    });
  }

  void Drip(const std::shared_ptr<tcp::socket>& socket,
            const std::shared_ptr<net::steady_timer>& timer,
            const std::shared_ptr<std::string>& bytes) {
    if (bytes->empty()) *bytes = "a";
    auto one = std::make_shared<std::string>(bytes->substr(0, 1));
    bytes->erase(0, 1);
    net::async_write(*socket, net::buffer(*one),
                     [this, socket, timer, bytes, one](beast::error_code ec, size_t) {
                       if (ec) {
                         --slow_alive_;
                         // Cut off by the gateway's header timeout: come back, as an attacker
                         // would.
                         OpenSlowloris();
                         return;
                       }
                       timer->expires_after(std::chrono::seconds(1));
                       timer->async_wait([this, socket, timer, bytes](beast::error_code wait_ec) {
                         if (!wait_ec) Drip(socket, timer, bytes);
                       });
                     });
  }

  const int port_;
  const std::string cookie_;
  net::io_context ioc_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::shared_ptr<Stream>> streams_;
  std::vector<std::pair<int64_t, double>> delays_;
  std::atomic<int> live_{0};
  std::atomic<int> slow_alive_{0};
};

void Streams(pid_t gateway, int port, int streams, int slowloris, int seconds) {
  const std::string cookie = LoginCookie(port);
  const long rss_before = RssKb(gateway);
  StreamCrowd crowd(port, cookie);
  const auto opening = Clock::now();
  crowd.Open(streams, slowloris);
  while (crowd.live() < streams && Clock::now() - opening < std::chrono::seconds(120)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double open_s = std::chrono::duration<double>(Clock::now() - opening).count();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const long rss_after = RssKb(gateway);
  std::printf("%d event streams (one shared upstream call) + %d slowloris connections:\n", streams,
              slowloris);
  std::printf("  streams receiving: %d of %d, all open after %.2f s\n", crowd.live(), streams,
              open_s);
  std::printf("  gateway RSS: %.1f MB before, %.1f MB with the streams: %.1f kB per stream\n",
              rss_before / 1024.0, rss_after / 1024.0,
              static_cast<double>(rss_after - rss_before) / std::max(1, streams));

  const int64_t measuring_from = NowNs();
  Figures health, login;
  HttpClient health_client(port);
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < until) {
    auto start = Clock::now();
    auto answer = health_client.Send(http::verb::get, "/healthz", "", "");
    health.Add(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    start = Clock::now();
    HttpClient login_client(port);  // a fresh connection, as a browser's first request
    auto signed_in = login_client.Send(http::verb::post, "/api/login", kLogin, "");
    login.Add(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (answer.result_int() != 200 || signed_in.result_int() != 200) std::printf("  error!\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Figures delays = crowd.delays(measuring_from);
  std::printf("  /healthz (%zu calls)         p50 %6.2f ms   p99 %6.2f ms   (goal p99 <= 100 ms)\n",
              health.ms.size(), health.Percentile(0.5), health.Percentile(0.99));
  std::printf("  login, new connection (%zu) p50 %6.2f ms   p99 %6.2f ms   (goal p99 <= 100 ms)\n",
              login.ms.size(), login.Percentile(0.5), login.Percentile(0.99));
  std::printf(
      "  push to stream (%zu arrivals) p50 %6.1f ms   p99 %6.1f ms   max %6.1f ms"
      "   (goal: all within 1 s)\n",
      delays.ms.size(), delays.Percentile(0.5), delays.Percentile(0.99), delays.Percentile(1.0));
  std::printf(
      "  slowloris connections open at the end: %d of %d (each is cut off after the "
      "header timeout, 10 s, and reconnects)\n",
      crowd.slow_alive(), slowloris);
  crowd.Stop();
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 10, clients = 64, streams = 2000, slowloris = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--seconds")
      seconds = value;
    else if (flag == "--clients")
      clients = value;
    else if (flag == "--streams")
      streams = value;
    else if (flag == "--slowloris")
      slowloris = value;
  }
  RaiseFileLimit();
  signal(SIGPIPE, SIG_IGN);
  // The identity service's database, made before the fork (no gRPC or thread here yet).
  absl::StatusOr<std::unique_ptr<forecast::testing::TestDatabase>> db =
      forecast::testing::TestDatabase::Create();
  if (!db.ok()) {
    std::fprintf(stderr, "needs FORECAST_TEST_PG (deploy/test.sh): %s\n",
                 std::string(db.status().message()).c_str());
    return 1;
  }
  {
    forecast::PgPool pool((*db)->conninfo(), 1);
    forecast::OrgAdmin admin(pool);
    forecast::SystemClock clock;
    forecast::identity::IdentityKeeper keeper(pool, clock, forecast::testing::Signer());
    if (!admin.CreateJobCentre("JC", "Jobcenter Benchmark", "adm", "Admin").ok() ||
        !admin.AddUnit("JC", "T1", "Team 1", "TEAM", "").ok() ||
        !admin.AddStaff("JC", "tl1", "Teamleder", "TEAM_LEADER", "T1", true).ok() ||
        !keeper.SetPassword("JC", "tl1", kPassword).ok()) {
      std::fprintf(stderr, "could not set up the benchmark's job centre\n");
      return 1;
    }
  }
  int report[2];
  if (pipe(report) != 0) return 1;
  const pid_t child = fork();  // before any gRPC or thread in this process
  if (child == 0) {
    close(report[0]);
    RunChild(report[1], (*db)->conninfo());
  }
  close(report[1]);
  int ports[2] = {-1, -1};
  if (read(report[0], ports, sizeof(ports)) != sizeof(ports) || ports[0] <= 0) {
    std::fprintf(stderr, "the gateway did not start\n");
    return 1;
  }
  std::printf(
      "gateway benchmark: gateway pid %d on port %d (2 event-loop threads), the identity service "
      "(Argon2id at production cost) and stand-in forecast service on port %d; %u cores\n\n",
      child, ports[0], ports[1], std::thread::hardware_concurrency());
  Dashboards(ports[0], ports[1], clients, seconds);
  Streams(child, ports[0], streams, slowloris, seconds);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  return 0;
}
