// Benchmark of the write path and of the forecast service's reaction to writes (issue 10), on the
// synthetic demo job centre (6 teams, ~1,800 open cases) loaded into PostgreSQL:
//   1. durable RecordExpectation writes over gRPC (the case service in process, as case-service
//      wires it) against `pgbench -N` on the same cluster, in the same run, at 8 and 32 clients,
//      with the ratio. Writes are spread over the open cases (each client owns a share), each
//      carries an idempotency key as the web client's do. Target: >= 50% of pgbench -N. For
//      reference, the same clients calling the server's Health/Check (an empty call through the
//      same TLS channels and interceptors) show what the gRPC call itself costs.
//   2. the cost of applying one change in the forecast service (reading the new rows, and the
//      whole refresh including the snapshot and view), in microseconds, for a case with 10, 100,
//      1,000 and 10,000 expectations. Target: flat.
//   3. commit-to-push: a watcher of one team; probes write to that team's cases every 100 ms
//      while background writers keep 300 writes/s on the other teams; p50 / p99 from the commit
//      to the pushed dashboard. Target: p99 <= 250 ms.
//
//   4. (`--sections tuning`, not by default) ways of forming the write calls
//      (ExpectationBatcher::Tuning) compared in one process: the writers at each client count run
//      in 2 s slices, the tunings taken in turn slice by slice after 2 s of pgbench -N (each
//      slice starting with the next tuning), so that the host's changing load falls on all of
//      them alike; medians of writes/s and CPU per write per tuning, and the ratio to the
//      slices' pgbench median.
//
//   write_benchmark --pg "host=127.0.0.1 port=N user=postgres dbname=postgres"
//       [--clients 8,32] [--seconds 10] [--rounds 3] [--sections writes,apply,push[,tuning]]
//       [--rate 300]
//       [--slices 15] [--fresh]
// The loaded database (forecast_bench_writes) is kept and reused unless --fresh; pgbench's own
// database (forecast_bench_pgbench, scale 10) too.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "forecast/v1/case_service.grpc.pb.h"
#include "forecast/v1/forecast_service.grpc.pb.h"
#include "forecasting/synthetic.h"
#include "services/case/case_keeper.h"
#include "services/case/case_service_impl.h"
#include "services/case/pg_case_store.h"
#include "services/case/reference_data.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/cached_staff_directory.h"
#include "services/common/calendar.h"
#include "services/common/command_line.h"
#include "services/common/migrations.h"
#include "services/common/pg_pool.h"
#include "services/common/server.h"
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
double Us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  return v[i];
}

// The machine's busy CPU time so far (all cores, from /proc/stat), in seconds; 0 where unreadable.
double BusyCpuSeconds() {
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return 0;
  unsigned long long v[8] = {0};
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                            &v[3], &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n != 8) return 0;
  const unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];  // not idle, iowait
  return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "write_benchmark: %s\n", what.c_str());
  std::exit(1);
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) Die(absl::StrCat(what, ": ", s.ToString()));
}

struct Args {
  std::string pg;
  std::vector<int> clients = {8, 32};
  double seconds = 10;
  std::string sections = "writes,apply,push";
  double rate = 300;
  int rounds = 3;
  int slices = 15;
  bool fresh = false;
};

Args Parse(int argc, char** argv) {
  Args a;
  CLI::App app{"Durable expectation writes against pgbench -N, change cost, commit to push.",
               "write_benchmark"};
  app.add_option("--pg", a.pg, "PostgreSQL connection string (default: FORECAST_TEST_PG)");
  app.add_option("--clients", a.clients, "writer counts, e.g. 8,32")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  app.add_option("--seconds", a.seconds, "seconds per measurement")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--sections", a.sections, "writes,apply,push (and tuning)")->capture_default_str();
  app.add_option("--rate", a.rate, "writes/s during the push measurement")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option(
         "--rounds", a.rounds,
         "pgbench and the writes taken in turn this many times per client count; the "
         "ratio is the median of the rounds' ratios (the lower middle one for an even count)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--slices", a.slices, "tuning section: 2 s slices per tuning")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--fresh", a.fresh, "load the demo centre into a new database");
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

// The value of one key of a libpq conninfo ("host=... port=..."), or `fallback`.
std::string ConninfoValue(const std::string& conninfo, const std::string& key,
                          const std::string& fallback) {
  for (absl::string_view part : absl::StrSplit(conninfo, ' ', absl::SkipEmpty())) {
    if (absl::StartsWith(part, key + "=")) return std::string(part.substr(key.size() + 1));
  }
  return fallback;
}

void EnsureDatabase(const std::string& admin_conninfo, const std::string& name, bool fresh,
                    bool* created) {
  pqxx::connection admin(admin_conninfo);
  pqxx::nontransaction tx(admin);
  if (fresh) tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
  *created = tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", name).empty();
  if (*created) tx.exec0("CREATE DATABASE " + tx.quote_name(name));
}

std::string PrepareDatabase(const Args& args, absl::CivilDay* today) {
  const std::string name = "forecast_bench_writes";
  bool created = false;
  EnsureDatabase(args.pg, name, args.fresh, &created);
  const std::string conninfo = absl::StrCat(args.pg, " dbname=", name);
  const char* root = std::getenv("FORECAST_ROOT");
  const std::string migrations =
      std::getenv("FORECAST_MIGRATIONS_DIR") != nullptr ? std::getenv("FORECAST_MIGRATIONS_DIR")
      : root != nullptr                                 ? std::string(root) + "/deploy/migrations"
                        : std::string(FORECAST_SOURCE_DIR) + "/deploy/migrations";
  Check(forecast::ApplyMigrations(conninfo, migrations).status(), "migrations");
  const forecasting::SyntheticSpec spec = forecasting::DemoSpec();
  *today = absl::CivilDay(spec.end_year, spec.end_month, spec.end_day);
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
    Check(forecast::bench::LoadSyntheticCentre(conninfo, kCentre, *centre), "loading");
    std::printf("loaded the demo centre (%zu cases) in %.1f s\n", centre->cases.size(),
                Ms(Clock::now() - t0) / 1000);
  }
  return conninfo;
}

struct OpenCase {
  std::string ref, caseworker, team;
  int64_t id = 0;
  int64_t version = 0;
};

std::vector<OpenCase> OpenCases(const std::string& conninfo) {
  std::vector<OpenCase> out;
  pqxx::connection conn(conninfo);
  pqxx::work tx(conn);
  for (const auto& row :
       tx.exec_params("SELECT c.case_ref, s.code, u.code, c.id, c.version FROM cases c "
                      "JOIN staff s ON s.id = c.caseworker_id JOIN org_unit u ON u.id = c.team_id "
                      "JOIN job_centre j ON j.id = c.job_centre_id "
                      "WHERE j.code = $1 AND c.status = 'OPEN' ORDER BY c.case_ref",
                      kCentre)) {
    out.push_back(OpenCase{row[0].as<std::string>(), row[1].as<std::string>(),
                           row[2].as<std::string>(), row[3].as<int64_t>(), row[4].as<int64_t>()});
  }
  return out;
}

// A call as `staff`, with an access token minted once per staff member (as a client holds one);
// the services verify it on every call, as in production.
std::unique_ptr<grpc::ClientContext> Context(const std::string& staff) {
  static std::mutex tokens_mu;
  static std::map<std::string, std::string> tokens;
  std::string token;
  {
    std::lock_guard<std::mutex> lock(tokens_mu);
    std::string& cached = tokens[staff];
    if (cached.empty()) cached = forecast::testing::MintToken(kCentre, staff, absl::Hours(2));
    token = cached;
  }
  auto ctx = std::make_unique<grpc::ClientContext>();
  forecast::testing::AddBearer(ctx.get(), token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

// The request of write number `n` on `c`, against its current version.
forecast::v1::RecordExpectationRequest WriteRequest(const OpenCase& c, absl::CivilDay today,
                                                    uint64_t n) {
  static const char* kOutcomes[] = {"ORDINARY_JOB", "EDUCATION", "SMALL_JOB", "DECLARED_FIT"};
  static const char* kRisks[] = {"LOW", "MEDIUM", "HIGH"};
  forecast::v1::RecordExpectationRequest request;
  request.set_case_ref(c.ref);
  request.set_base_version(c.version);
  request.set_expected_outcome(kOutcomes[n % 4]);
  request.set_expected_month(forecast::FormatMonth(absl::CivilMonth(today) + 1 + (n % 6)));
  request.set_risk(kRisks[n % 3]);
  request.set_idempotency_key(absl::StrCat("bench-", c.id, "-", c.version, "-", n));
  return request;
}

// Keeps c.version after a write; false (and says why) when it failed.
bool Written(OpenCase& c, const grpc::Status& status, const forecast::v1::Case& answer) {
  if (!status.ok()) {
    std::fprintf(stderr, "RecordExpectation %s: %s\n", c.ref.c_str(),
                 status.error_message().c_str());
    return false;
  }
  c.version = answer.version();
  return true;
}

// One expectation write on `c` through the stub; keeps c.version. False on any error.
bool WriteOnce(forecast::v1::CaseService::Stub& stub, OpenCase& c, absl::CivilDay today,
               uint64_t n) {
  forecast::v1::Case answer;
  auto ctx = Context(c.caseworker);
  const grpc::Status status = stub.RecordExpectation(ctx.get(), WriteRequest(c, today, n), &answer);
  return Written(c, status, answer);
}

struct WriteFigures {
  double per_second = 0, p50 = 0, p99 = 0;
  int64_t errors = 0;
  double cpu_us = 0;  // the machine's busy CPU time per write
};

// What the closed-loop clients call.
enum class Call { kRecordExpectation, kHealthCheck };

// One closed-loop writer: one call in flight at a time, writing on its own share of the cases.
struct Writer {
  forecast::v1::CaseService::Stub* stub = nullptr;
  grpc::GenericStub* generic = nullptr;
  size_t first = 0, next = 0;  // its share: first, first + clients, ...
  uint64_t n = 0;
  OpenCase* writing = nullptr;
  std::unique_ptr<grpc::ClientContext> ctx;
  forecast::v1::Case answer;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<forecast::v1::Case>> reader;
  grpc::ByteBuffer health;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> health_reader;
  Clock::time_point started;
  std::vector<double> latencies;
  int64_t errors = 0;
};

// Sends `w`'s next call; its completion arrives on `cq` tagged with `w`.
void StartCall(Writer& w, Call call, std::vector<OpenCase>& cases, int clients,
               absl::CivilDay today, grpc::CompletionQueue& cq) {
  if (call == Call::kHealthCheck) {
    w.ctx = std::make_unique<grpc::ClientContext>();
    w.ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Slice empty("", 0);  // a HealthCheckRequest for the server as a whole
    const grpc::ByteBuffer request(&empty, 1);
    w.started = Clock::now();
    w.health_reader =
        w.generic->PrepareUnaryCall(w.ctx.get(), "/grpc.health.v1.Health/Check", request, &cq);
    w.health_reader->StartCall();
    w.health_reader->Finish(&w.health, &w.status, &w);
    return;
  }
  if (w.next >= cases.size()) w.next = w.first;
  w.writing = &cases[w.next];
  w.next += static_cast<size_t>(clients);
  w.ctx = Context(w.writing->caseworker);
  w.started = Clock::now();
  w.reader =
      w.stub->AsyncRecordExpectation(w.ctx.get(), WriteRequest(*w.writing, today, ++w.n), &cq);
  w.reader->Finish(&w.answer, &w.status, &w);
}

// `clients` closed-loop clients making `call` for `seconds`, each writing on its own share of
// `cases`. As pgbench -j 2 does, two threads drive them, each over a completion queue with its
// clients' calls in flight.
WriteFigures RunWriters(const std::string& target, std::vector<OpenCase>& cases, int clients,
                        double seconds, absl::CivilDay today,
                        Call call = Call::kRecordExpectation) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<forecast::v1::CaseService::Stub>> stubs;
  std::vector<std::unique_ptr<grpc::GenericStub>> generics;
  for (int i = 0; i < std::min(clients, 8); ++i) {
    grpc::ChannelArguments ca;
    ca.SetInt("bench_channel", i);
    channels.push_back(grpc::CreateCustomChannel(
        target, *forecast::ChannelTlsCredentials(forecast::testing::ClientTlsFiles()), ca));
    stubs.push_back(forecast::v1::CaseService::NewStub(channels.back()));
    generics.push_back(std::make_unique<grpc::GenericStub>(channels.back()));
  }
  std::vector<Writer> writers(clients);
  for (int c = 0; c < clients; ++c) {
    writers[c].stub = stubs[c % stubs.size()].get();
    writers[c].generic = generics[c % generics.size()].get();
    writers[c].first = writers[c].next = static_cast<size_t>(c);
    writers[c].n = static_cast<uint64_t>(c) * 7919;
  }
  const int drivers = std::min(clients, 2);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const double cpu_start = BusyCpuSeconds();
  const auto start = Clock::now();
  for (int d = 0; d < drivers; ++d) {
    threads.emplace_back([&, d] {
      grpc::CompletionQueue cq;
      int in_flight = 0;
      for (int c = d; c < clients; c += drivers, ++in_flight) {
        StartCall(writers[c], call, cases, clients, today, cq);
      }
      void* tag = nullptr;
      bool ok = false;
      while (in_flight > 0 && cq.Next(&tag, &ok)) {
        Writer& w = *static_cast<Writer*>(tag);
        w.latencies.push_back(Ms(Clock::now() - w.started));
        const bool done =
            call == Call::kHealthCheck ? w.status.ok() : Written(*w.writing, w.status, w.answer);
        if (!ok || !done) ++w.errors;
        if (stop.load(std::memory_order_relaxed)) {
          --in_flight;
        } else {
          StartCall(w, call, cases, clients, today, cq);
        }
      }
      cq.Shutdown();
      while (cq.Next(&tag, &ok)) {
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = Ms(Clock::now() - start) / 1000;
  std::vector<double> all;
  WriteFigures f;
  for (const Writer& w : writers) {
    all.insert(all.end(), w.latencies.begin(), w.latencies.end());
    f.errors += w.errors;
  }
  f.per_second = static_cast<double>(static_cast<int64_t>(all.size()) - f.errors) / elapsed;
  f.cpu_us = 1e6 * (BusyCpuSeconds() - cpu_start) / std::max<double>(1, f.per_second * elapsed);
  f.p50 = Percentile(all, 0.5);
  f.p99 = Percentile(all, 0.99);
  return f;
}

struct PgbenchFigures {
  double tps = 0;     // without initial connection time
  double cpu_us = 0;  // the machine's busy CPU time per transaction
};

// pgbench -N at `clients` for `seconds`.
PgbenchFigures RunPgbench(const Args& args, int clients, double seconds) {
  const std::string host = ConninfoValue(args.pg, "host", "127.0.0.1");
  const std::string port = ConninfoValue(args.pg, "port", "5432");
  const std::string user = ConninfoValue(args.pg, "user", "postgres");
  const std::string db = "forecast_bench_pgbench";
  // pgbench takes no conninfo: the password file (scram over TCP) goes through PGPASSFILE.
  const std::string passfile = ConninfoValue(args.pg, "passfile", "");
  const std::string base =
      absl::StrCat(passfile.empty() ? "" : absl::StrCat("PGPASSFILE=", passfile, " "),
                   "pgbench -h ", host, " -p ", port, " -U ", user);
  bool created = false;
  EnsureDatabase(args.pg, db, false, &created);
  if (created) {
    const std::string init = absl::StrCat(base, " -i -s 10 -q ", db, " >/dev/null 2>&1");
    if (std::system(init.c_str()) != 0) Die("pgbench -i failed: " + init);
  }
  const std::string run = absl::StrCat(base, " -N -c ", clients, " -j 2 -T ",
                                       static_cast<int>(seconds), " ", db, " 2>/dev/null");
  const double cpu_start = BusyCpuSeconds();
  FILE* out = popen(run.c_str(), "r");
  if (out == nullptr) Die("cannot run pgbench");
  char line[512];
  double tps = 0;
  while (std::fgets(line, sizeof line, out) != nullptr) {
    const std::string text(line);
    if (text.rfind("tps = ", 0) == 0 && text.find("without initial") != std::string::npos) {
      tps = std::atof(text.c_str() + 6);
    }
  }
  if (pclose(out) != 0 || tps <= 0) Die("pgbench -N failed: " + run);
  return {tps, 1e6 * (BusyCpuSeconds() - cpu_start) / (tps * seconds)};
}

// Adds a case with `n` expectations (in the case service's shape) and returns its id.
int64_t CaseWithHistory(const std::string& conninfo, int64_t centre, int n) {
  pqxx::connection conn(conninfo);
  pqxx::work tx(conn);
  const std::string ref = absl::StrCat("LONG-", n);
  pqxx::result existing = tx.exec_params(
      "SELECT id FROM cases WHERE job_centre_id = $1 AND case_ref = $2", centre, ref);
  if (!existing.empty()) return existing[0][0].as<int64_t>();
  const int64_t id =
      tx.exec_params1(
            "INSERT INTO cases (job_centre_id, case_ref, case_type, opened_on, caseworker_id, team_id) "
            "SELECT $1, $2, 'SDP', DATE '2020-01-01', s.id, s.team_id FROM staff s "
            "WHERE s.job_centre_id = $1 AND s.role = 'CASEWORKER' ORDER BY s.code LIMIT 1 RETURNING id",
            centre, ref)[0]
          .as<int64_t>();
  tx.exec_params(
      "INSERT INTO assignment (job_centre_id, case_id, caseworker_id, team_id, from_on, recorded_by) "
      "SELECT $1, id, caseworker_id, team_id, opened_on, caseworker_id FROM cases WHERE id = $2",
      centre, id);
  tx.exec_params(
      "INSERT INTO expectation (job_centre_id, case_id, expected_outcome, expected_month, risk, "
      "recorded_by, recorded_at) SELECT $1, $2, 'ORDINARY_JOB', DATE '2027-01-01', 'LOW', "
      "c.caseworker_id, TIMESTAMPTZ '2020-01-01' + g * interval '1 minute' "
      "FROM cases c, generate_series(1, $3) g WHERE c.id = $2",
      centre, id, n);
  tx.exec_params(
      "INSERT INTO case_event (job_centre_id, case_id, case_version, kind, actor_id, effective_on) "
      "SELECT $1, id, 1, 'OPENED', caseworker_id, opened_on FROM cases WHERE id = $2",
      centre, id);
  tx.commit();
  return id;
}

// One more expectation on the case, written as the case service writes it.
void AppendExpectation(pqxx::connection& conn, int64_t centre, int64_t case_id) {
  pqxx::work tx(conn);
  tx.exec_params(
      "WITH e AS (INSERT INTO expectation (job_centre_id, case_id, expected_outcome, "
      "expected_month, risk, recorded_by) SELECT $1, id, 'EDUCATION', DATE '2027-03-01', "
      "'MEDIUM', caseworker_id FROM cases WHERE id = $2 RETURNING id), "
      "c AS (UPDATE cases SET version = version + 1, current_expectation_id = (SELECT id FROM e) "
      "WHERE id = $2 RETURNING version, caseworker_id) "
      "INSERT INTO case_event (job_centre_id, case_id, case_version, kind, actor_id, effective_on) "
      "SELECT $1, $2, version, 'EXPECTATION', caseworker_id, current_date FROM c",
      centre, case_id);
  tx.commit();
}

}  // namespace

// Section 4: the batcher's tunings taken in turn, slice by slice, at each client count; the
// batcher is left with the default tuning.
void RunTuningSection(const Args& args, const std::string& target, std::vector<OpenCase>& cases,
                      absl::CivilDay today, forecast::ExpectationBatcher& batcher) {
  using Tuning = forecast::ExpectationBatcher::Tuning;
  struct Named {
    const char* name;
    Tuning tuning;
  };
  const Tuning current;
  Tuning gather6 = current, overlap = current, gather3 = current;
  gather6.gather_writes = 6;
  overlap.calls_in_flight = 3;  // gather only while two calls are in the database
  overlap.gather_while_in_flight = 2;
  gather3.gather_writes = 3;
  gather3.gather_for = absl::Milliseconds(1);
  const std::vector<Named> tunings = {{"current (2 calls, gather 4 / 2 ms)", current},
                                      {"gather 6", gather6},
                                      {"3 calls, gather while 2 in flight", overlap},
                                      {"gather 3 / 1 ms", gather3}};
  std::printf("\n4. forming the write calls, %d slices of 2 s per tuning, taken in turn\n",
              args.slices);
  std::printf("%-8s %-36s %14s %16s %12s %10s %12s\n", "clients", "tuning", "writes/s p50",
              "CPU us/write p50", "per call", "p99 ms", "vs pgbench");
  for (int clients : args.clients) {
    RunWriters(target, cases, clients, 2, today);
    std::vector<std::vector<double>> rate(tunings.size()), cpu(tunings.size()), p99(tunings.size());
    std::vector<int64_t> calls(tunings.size(), 0), writes(tunings.size(), 0);
    std::vector<double> pgbench_tps;
    for (int slice = 0; slice < args.slices; ++slice) {
      pgbench_tps.push_back(RunPgbench(args, clients, 2).tps);
      // Each slice starts with the next tuning, so none always follows pgbench.
      for (size_t k = 0; k < tunings.size(); ++k) {
        const size_t t = (k + static_cast<size_t>(slice)) % tunings.size();
        batcher.set_tuning(tunings[t].tuning);
        const int64_t b0 = batcher.batches_sent();
        const int64_t w0 = batcher.writes_sent();
        const WriteFigures w = RunWriters(target, cases, clients, 2, today);
        calls[t] += batcher.batches_sent() - b0;
        writes[t] += batcher.writes_sent() - w0;
        rate[t].push_back(w.per_second);
        cpu[t].push_back(w.cpu_us);
        p99[t].push_back(w.p99);
      }
    }
    for (size_t t = 0; t < tunings.size(); ++t) {
      std::printf(
          "%-8d %-36s %14.0f %16.0f %12.1f %10.1f %11.0f%%\n", clients, tunings[t].name,
          Percentile(rate[t], 0.5), Percentile(cpu[t], 0.5),
          static_cast<double>(writes[t]) / static_cast<double>(std::max<int64_t>(1, calls[t])),
          Percentile(p99[t], 0.5), 100 * Percentile(rate[t], 0.5) / Percentile(pgbench_tps, 0.5));
    }
    std::printf("%-8d pgbench -N in the same slices: %.0f tps p50\n", clients,
                Percentile(pgbench_tps, 0.5));
  }
  batcher.set_tuning(forecast::ExpectationBatcher::Tuning{});
}

int main(int argc, char** argv) {
  forecast::TurnOffMutexDeadlockDetection();  // as the services' main() does
  const Args args = Parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  absl::CivilDay today;
  const std::string conninfo = PrepareDatabase(args, &today);
  {
    pqxx::connection conn(conninfo);
    pqxx::nontransaction tx(conn);
    std::printf("PostgreSQL %s; fsync=%s synchronous_commit=%s; machine load (1 min) at start: ",
                tx.exec1("SHOW server_version")[0].c_str(), tx.exec1("SHOW fsync")[0].c_str(),
                tx.exec1("SHOW synchronous_commit")[0].c_str());
  }
  {
    double load[1] = {0};
    std::printf("%.2f\n", getloadavg(load, 1) == 1 ? load[0] : -1.0);
  }
  forecast::FixedClock clock(today);
  int max_clients = 8;
  for (int c : args.clients) max_clients = std::max(max_clients, c);

  // The case service, in process, as case-service wires it.
  forecast::PgPool case_pool(conninfo, max_clients + 4);
  forecast::PgCaseStore case_store(case_pool);
  forecast::ReferenceData reference(case_pool, clock);
  Check(reference.StartListening(), "case service listener");
  forecast::CaseKeeper keeper(case_store, clock, &reference.catalogues());
  forecast::audit::PgCaseReadLog case_reads(case_pool);
  forecast::Authenticator case_authenticator(forecast::testing::Verifier(), reference.directory());
  forecast::OrgAdmin case_org(case_pool);
  forecast::CaseServiceImpl case_service(keeper, case_org, case_authenticator, case_reads);
  absl::StatusOr<forecast::RunningServer> case_server = forecast::StartGrpcServer(
      {&case_service}, "127.0.0.1", 0, forecast::testing::ServerCredentials());
  Check(case_server.status(), "case server");
  const std::string case_target = absl::StrCat("127.0.0.1:", case_server->port);
  std::vector<OpenCase> cases = OpenCases(conninfo);
  std::printf("demo centre: %zu open cases\n", cases.size());

  if (args.sections.find("writes") != std::string::npos) {
    // Taken in turn, so that a checkpoint or autovacuum run that lands in one measurement moves
    // one round's ratio and not the median.
    std::printf("\n1. durable RecordExpectation over gRPC vs pgbench -N, %.0f s each, %d rounds\n",
                args.seconds, args.rounds);
    std::printf("%-8s %6s %14s %22s %20s %8s %7s %12s %18s\n", "clients", "round", "pgbench -N tps",
                "RecordExpectation /s", "p50 / p99 ms", "errors", "ratio", "per commit",
                "CPU us: tx / write");
    for (int clients : args.clients) {
      std::vector<double> ratios;
      // A running service has its threads, connections and prepared statements; pgbench's
      // figure leaves out its connection time too. So each client count starts with 2 s of
      // writes that are not counted.
      RunWriters(case_target, cases, clients, 2, today);
      for (int round = 1; round <= args.rounds; ++round) {
        const PgbenchFigures pgbench = RunPgbench(args, clients, args.seconds);
        const double tps = pgbench.tps;
        const int64_t batches = case_store.batcher().batches_sent();
        const int64_t sent = case_store.batcher().writes_sent();
        WriteFigures w = RunWriters(case_target, cases, clients, args.seconds, today);
        ratios.push_back(100 * w.per_second / tps);
        // Writes per call of case_record_expectations() (group commit, expectation_batcher.h).
        const double per_commit = static_cast<double>(case_store.batcher().writes_sent() - sent) /
                                  static_cast<double>(std::max<int64_t>(
                                      1, case_store.batcher().batches_sent() - batches));
        std::printf("%-8d %6d %14.0f %22.0f %12.1f / %5.1f %8lld %6.0f%% %12.1f %8.0f / %6.0f\n",
                    clients, round, tps, w.per_second, w.p50, w.p99,
                    static_cast<long long>(w.errors), ratios.back(), per_commit, pgbench.cpu_us,
                    w.cpu_us);
      }
      std::sort(ratios.begin(), ratios.end());
      std::printf("%-8d median ratio %.0f%% (rounds %.0f-%.0f%%; target >= 50%%)\n", clients,
                  ratios[(ratios.size() - 1) / 2], ratios.front(), ratios.back());
      // What the call costs before any work: the same clients and channels on Health/Check.
      const WriteFigures empty =
          RunWriters(case_target, cases, clients, args.seconds, today, Call::kHealthCheck);
      std::printf(
          "%-8d reference: Health/Check %.0f calls/s, p50 / p99 %.1f / %.1f ms, %lld errors, "
          "CPU us per call %.0f\n",
          clients, empty.per_second, empty.p50, empty.p99, static_cast<long long>(empty.errors),
          empty.cpu_us);
    }
  }

  if (args.sections.find("tuning") != std::string::npos) {
    RunTuningSection(args, case_target, cases, today, case_store.batcher());
  }

  forecast::PgPool pool(conninfo, 16);
  forecast::fsvc::PgHistoryStore store(pool);
  absl::StatusOr<int64_t> centre = store.FindCentre(kCentre);
  Check(centre.status(), "centre");

  if (args.sections.find("apply") != std::string::npos) {
    std::printf("\n2. applying one change in the forecast service, by the case's history length\n");
    std::printf("%-14s %22s %26s\n", "expectations", "read new rows p50 (us)",
                "whole refresh p50 (us)");
    std::vector<std::pair<int, int64_t>> long_cases;
    for (int n : {10, 100, 1000, 10000})
      long_cases.push_back({n, CaseWithHistory(conninfo, *centre, n)});
    forecast::fsvc::ForecastEngine engine(store, clock);
    Check(engine.cache().Now(*centre).status(), "first view");
    pqxx::connection writer(conninfo);
    for (const auto& [n, case_id] : long_cases) {
      std::vector<double> read_us, apply_us;
      for (int i = 0; i < 30; ++i) {
        AppendExpectation(writer, *centre, case_id);
        // The store's part alone: the new rows of this case on top of the current history.
        absl::StatusOr<std::shared_ptr<const forecast::fsvc::CentreView>> now =
            engine.cache().Now(*centre);
        Check(now.status(), "view");
        auto t0 = Clock::now();
        auto refreshed = store.Refresh((*now)->history(), {case_id}, false);
        read_us.push_back(Us(Clock::now() - t0));
        Check(refreshed.status(), "refresh");
        // The engine's whole application: read, snapshot update, view, team revisions.
        t0 = Clock::now();
        Check(engine.refresher().RefreshCases(*centre, {case_id}), "apply");
        apply_us.push_back(Us(Clock::now() - t0));
      }
      std::printf("%-14d %22.0f %26.0f\n", n, Percentile(read_us, 0.5), Percentile(apply_us, 0.5));
    }
    std::printf(
        "(the whole refresh also re-reads the centre's small tables: RefreshCases is the "
        "writer's own read-your-write path; notices skip them)\n");
  }

  if (args.sections.find("push") != std::string::npos) {
    std::printf("\n3. commit-to-push under %.0f writes/s\n", args.rate);
    forecast::fsvc::ForecastEngine engine(store, clock);
    forecast::fsvc::ChangeListener listener(conninfo, engine);
    Check(listener.Start(), "forecast listener");
    forecast::PgStaffDirectory staff(pool);
    forecast::SystemClock wall;
    forecast::CachedStaffDirectory directory(staff, wall);
    forecast::audit::PgCaseReadLog reads(pool);
    forecast::Authenticator authenticator(forecast::testing::Verifier(), directory);
    forecast::fsvc::ForecastServiceImpl service(engine, authenticator, store, reads);
    absl::StatusOr<forecast::RunningServer> server = forecast::StartGrpcServer(
        {&service}, "127.0.0.1", 0, forecast::testing::ServerCredentials());
    Check(server.status(), "forecast server");
    auto now = engine.cache().Now(*centre);
    Check(now.status(), "first view");
    const std::string watched = cases.front().team;
    std::vector<OpenCase> probes, background;
    for (const OpenCase& c : cases) (c.team == watched ? probes : background).push_back(c);
    // Fresh versions (the writes section moved them on).
    {
      std::map<std::string, int64_t> versions;
      for (const OpenCase& c : OpenCases(conninfo)) versions[c.ref] = c.version;
      for (OpenCase& c : probes) c.version = versions[c.ref];
      for (OpenCase& c : background) c.version = versions[c.ref];
    }
    auto forecast_stub =
        forecast::v1::ForecastService::NewStub(forecast::testing::TlsChannel(server->port));
    auto watch_ctx = Context("manager");
    watch_ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::hours(1));
    forecast::v1::TeamDashboardRequest watch_request;
    watch_request.set_team(watched);
    auto reader = forecast_stub->WatchTeamDashboard(watch_ctx.get(), watch_request);
    forecast::v1::TeamDashboard pushed;
    if (!reader->Read(&pushed)) Die("no first push");

    // Background writers: `rate` writes/s on the other teams, paced.
    std::atomic<bool> stop{false};
    std::atomic<int64_t> background_writes{0}, background_errors{0};
    const int writers = 8;
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        auto channel = grpc::CreateChannel(
            case_target, *forecast::ChannelTlsCredentials(forecast::testing::ClientTlsFiles()));
        auto stub = forecast::v1::CaseService::NewStub(channel);
        const auto period = std::chrono::duration<double>(writers / args.rate);
        auto next =
            Clock::now() + std::chrono::duration_cast<Clock::duration>(period * w / writers);
        uint64_t n = 100000 * (w + 1);
        for (size_t i = w; !stop.load(); i += writers) {
          if (i >= background.size()) i = w;
          std::this_thread::sleep_until(next);
          next += std::chrono::duration_cast<Clock::duration>(period);
          if (WriteOnce(*stub, background[i], today, ++n)) {
            ++background_writes;
          } else {
            ++background_errors;
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));  // reach the steady rate
    auto case_stub = forecast::v1::CaseService::NewStub(grpc::CreateChannel(
        case_target, *forecast::ChannelTlsCredentials(forecast::testing::ClientTlsFiles())));
    std::vector<double> push_ms;
    const int probe_count = std::max(20, static_cast<int>(args.seconds * 10));
    for (int i = 0; i < probe_count; ++i) {
      OpenCase& c = probes[i % probes.size()];
      const int64_t before = pushed.revision();
      if (!WriteOnce(*case_stub, c, today, 900000 + i)) Die("probe write failed");
      const auto committed = Clock::now();
      do {
        if (!reader->Read(&pushed)) Die("watch stream ended");
      } while (pushed.revision() <= before);
      push_ms.push_back(Ms(Clock::now() - committed));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const double elapsed = Ms(Clock::now() - start) / 1000;
    stop = true;
    for (auto& t : threads) t.join();
    watch_ctx->TryCancel();
    std::printf("background: %.0f writes/s achieved (%lld errors); %d probes on team %s\n",
                static_cast<double>(background_writes) / elapsed,
                static_cast<long long>(background_errors.load()), probe_count, watched.c_str());
    std::printf("commit-to-push: p50 %.1f ms  p99 %.1f ms  max %.1f ms (target p99 <= 250 ms)\n",
                Percentile(push_ms, 0.5), Percentile(push_ms, 0.99), Percentile(push_ms, 1.0));
    forecast::ShutdownGracefully(*server->server, absl::Seconds(1));
  }
  {
    double load[1] = {0};
    std::printf("\nmachine load (1 min) at the end: %.2f\n",
                getloadavg(load, 1) == 1 ? load[0] : -1.0);
  }
  forecast::ShutdownGracefully(*case_server->server, absl::Seconds(1));
  return 0;
}
