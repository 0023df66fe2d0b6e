// The fault suite's client (tests/fault/fault_suite.sh drives it):
//   fault_load write --case HOST:PORT --centre JC --staff CW --threads N --stop-file F --out FILE
//                    --pause-file P
//       Writes until F exists (and none while P exists): each thread creates cases (unique refs, an
//       idempotency key each), retrying a write on UNAVAILABLE / DEADLINE_EXCEEDED / CANCELLED with
//       the same key until it is acknowledged. Every acknowledged write is appended to FILE as "REF
//       FIRST_MS ACK_MS" (epoch milliseconds of its first attempt and of its acknowledgement).
//       Prints "acknowledged=N failed_attempts=M longest_gap_ms=G" (G: the longest time without any
//       acknowledgement, pauses included; the suite measures each fault's recovery itself).
//   fault_load create --case HOST:PORT --centre JC --staff CW --ref R --key K --deadline-ms D
//       One CreateCase attempt with that ref and idempotency key; prints the status code's name
//       (OK, DEADLINE_EXCEEDED, ...) and, when OK, the case's ref and version; exits 0.
//   fault_load compare --forecast A --forecast-fresh B --centre JC --staff TL --team T
//       Asks both forecast services for the team dashboard (B freshly started, so it computed
//       everything from the database) and exits 0 when they are equal (revision and computed_at
//       aside); waits up to 30 s for A to catch up.
// Both talk TLS to the services and send an access token for --staff minted with the test key pair
// (tests/support: $FORECAST_PKI_DIR, which the suite sets), as every client of the product must.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <initializer_list>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "forecast/v1/case_service.grpc.pb.h"
#include "forecast/v1/forecast_service.grpc.pb.h"
#include "services/common/command_line.h"
#include "tests/support/test_security.h"

namespace {

using Clock = std::chrono::steady_clock;

// The caller's credential: an access token (minted once per process, valid for the whole run).
void Identify(grpc::ClientContext& ctx, const std::string& centre, const std::string& staff) {
  static const std::string token = forecast::testing::MintToken(centre, staff, absl::Hours(2));
  forecast::testing::AddBearer(&ctx, token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  auto channel = forecast::OpenTlsChannel(address, forecast::testing::ClientTlsFiles());
  if (!channel.ok()) {
    std::fprintf(stderr, "fault_load: %s\n", std::string(channel.status().message()).c_str());
    std::exit(2);
  }
  return *channel;
}

bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::CANCELLED;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string Today() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

int Write(std::map<std::string, std::string> a) {
  const int threads = std::stoi(a.count("--threads") ? a["--threads"] : "4");
  auto channel = Channel(a["--case"]);
  auto stub = forecast::v1::CaseService::NewStub(channel);
  std::ofstream out(a["--out"], std::ios::app);
  std::mutex mu;
  std::atomic<long> acknowledged{0}, failed_attempts{0}, other_errors{0};
  std::map<std::string, long> codes;
  Clock::time_point last_ack = Clock::now();
  double longest_gap_ms = 0;
  const std::string run =
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 100000000);
  const std::string today = Today();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (long i = 0; !Exists(a["--stop-file"]); ++i) {
        // Paused (for a dashboard comparison): no write starts while the pause file exists.
        while (Exists(a["--pause-file"]) && !Exists(a["--stop-file"])) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        forecast::v1::CreateCaseRequest req;
        req.set_case_ref(absl::StrCat("F", run, "-", t, "-", i));
        req.set_case_type("SDP");
        req.set_opened_on(today);
        req.set_idempotency_key(absl::StrCat("k", run, "t", t, "i", i));
        const long long first_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
        while (true) {
          grpc::ClientContext ctx;
          Identify(ctx, a["--centre"], a["--staff"]);
          forecast::v1::Case reply;
          grpc::Status s = stub->CreateCase(&ctx, req, &reply);
          if (s.ok()) {
            std::lock_guard<std::mutex> lock(mu);
            const auto now = Clock::now();
            longest_gap_ms = std::max(
                longest_gap_ms, std::chrono::duration<double, std::milli>(now - last_ack).count());
            last_ack = now;
            const long long ack_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
            out << req.case_ref() << " " << first_ms << " " << ack_ms << "\n";
            out.flush();
            ++acknowledged;
            break;
          }
          {
            std::lock_guard<std::mutex> lock(mu);
            ++codes[std::to_string(static_cast<int>(s.error_code()))];
          }
          if (!Retryable(s.error_code())) {
            ++other_errors;
            std::fprintf(stderr, "fault_load: CreateCase %s: code %d: %s\n", req.case_ref().c_str(),
                         static_cast<int>(s.error_code()), s.error_message().c_str());
            break;
          }
          ++failed_attempts;
          if (Exists(a["--stop-file"])) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  std::string code_list;
  for (const auto& [code, n] : codes)
    absl::StrAppend(&code_list, code_list.empty() ? "" : ",", code, ":", n);
  std::printf(
      "acknowledged=%ld failed_attempts=%ld other_errors=%ld longest_gap_ms=%.0f codes=%s\n",
      acknowledged.load(), failed_attempts.load(), other_errors.load(), longest_gap_ms,
      code_list.c_str());
  return other_errors.load() == 0 ? 0 : 1;
}

absl::StatusOr<forecast::v1::TeamDashboard> Dashboard(const std::string& address,
                                                      std::map<std::string, std::string>& a) {
  auto stub = forecast::v1::ForecastService::NewStub(Channel(address));
  grpc::ClientContext ctx;
  Identify(ctx, a["--centre"], a["--staff"]);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  forecast::v1::TeamDashboardRequest req;
  req.set_team(a["--team"]);
  forecast::v1::TeamDashboard reply;
  grpc::Status s = stub->GetTeamDashboard(&ctx, req, &reply);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat(address, ": ", s.error_message()));
  reply.clear_revision();
  reply.clear_computed_at();
  return reply;
}

int CreateOnce(std::map<std::string, std::string> a) {
  auto stub = forecast::v1::CaseService::NewStub(Channel(a["--case"]));
  grpc::ClientContext ctx;
  Identify(ctx, a["--centre"], a["--staff"]);
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(std::stoi(a["--deadline-ms"])));
  forecast::v1::CreateCaseRequest req;
  req.set_case_ref(a["--ref"]);
  req.set_case_type("SDP");
  req.set_opened_on(Today());
  req.set_idempotency_key(a["--key"]);
  forecast::v1::Case reply;
  const grpc::Status s = stub->CreateCase(&ctx, req, &reply);
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int code = static_cast<int>(s.error_code());
  std::printf("%s", code >= 0 && code <= 16 ? kNames[code] : "?");
  if (s.ok())
    std::printf(" %s %lld", reply.case_ref().c_str(), static_cast<long long>(reply.version()));
  std::printf("\n");
  return 0;
}

int Compare(std::map<std::string, std::string> a) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  std::string diff;
  while (true) {
    auto fresh = Dashboard(a["--forecast-fresh"], a);
    auto live = Dashboard(a["--forecast"], a);
    if (fresh.ok() && live.ok()) {
      google::protobuf::util::MessageDifferencer differ;
      differ.set_float_comparison(google::protobuf::util::MessageDifferencer::APPROXIMATE);
      diff.clear();
      differ.ReportDifferencesToString(&diff);
      if (differ.Compare(*fresh, *live)) {
        std::printf("dashboards equal (%d caseworker rows, %lld open cases)\n", fresh->rows_size(),
                    static_cast<long long>(fresh->totals().open_cases()));
        return 0;
      }
    } else {
      diff = !fresh.ok() ? std::string(fresh.status().message())
                         : std::string(live.status().message());
    }
    if (Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::printf("dashboards differ: %s\n", diff.substr(0, 2000).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Each command's flags fill one map ("--case" -> value): the commands read them by name.
  std::map<std::string, std::string> a;
  CLI::App app{"The fault suite's client (tests/fault/fault_suite.sh).", "fault_load"};
  app.require_subcommand(1);
  auto flags = [&a](CLI::App* command, std::initializer_list<const char*> required,
                    std::initializer_list<const char*> optional) {
    for (const char* name : required) command->add_option(name, a[name])->required();
    for (const char* name : optional) command->add_option(name, a[name]);
    return command;
  };
  CLI::App* write = flags(app.add_subcommand("write", "write until the stop file exists"),
                          {"--case", "--centre", "--staff", "--stop-file", "--out"},
                          {"--threads", "--pause-file"});
  CLI::App* create =
      flags(app.add_subcommand("create", "one CreateCase attempt"),
            {"--case", "--centre", "--staff", "--ref", "--key", "--deadline-ms"}, {});
  CLI::App* compare =
      flags(app.add_subcommand("compare", "a dashboard against a fresh recomputation"),
            {"--forecast", "--forecast-fresh", "--centre", "--staff", "--team"}, {});
  if (std::optional<int> exit_code = forecast::ParseCommandLine(app, argc, argv)) return *exit_code;
  if (!a.count("--threads") || a["--threads"].empty()) a["--threads"] = "4";
  if (write->parsed()) return Write(a);
  if (create->parsed()) return CreateOnce(a);
  if (compare->parsed()) return Compare(a);
  return 2;
}
