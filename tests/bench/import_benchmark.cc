// ImportHistory's memory and time by the size of the import (issue 14: 1.2 M rows within 256 MB
// of the case service). A synthetic job centre's history of --rows rows (default 1,200,000) and a
// reference a tenth of its size are each imported as a dry run and for real, every import into a
// fresh case-service process (the real binary, a separate process, so the figure is the
// service's alone); prints the process's peak RSS (VmHWM from /proc/PID/status), its RSS after
// the import and the time, and the ratios of the large import to the reference. Run by hand on
// the private cluster (FORECAST_TEST_PG, FORECAST_MIGRATIONS_DIR, FORECAST_PKI_DIR as
// deploy/test.sh sets them):
//   build/tests/bench_service/import_benchmark [--rows 1200000] [--case-service PATH]
//   [--dry-runs-only]
// --case-service measures another build of the binary (e.g. an older one, for a before/after);
// --dry-runs-only skips the two real imports.
#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "forecast/v1/case_service.grpc.pb.h"
#include "services/common/calendar.h"
#include "tests/cli/service_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast {
namespace {

using testing::ServiceProcess;
using testing::TestDatabase;

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "import_benchmark: " << message << std::endl;
  std::exit(1);
}

constexpr int kTeams = 4;
constexpr int kCaseworkersPerTeam = 3;
constexpr size_t kRowsPerChunk = 2000;  // as forecastctl sends them

// One organisation: department D1, teams T01..T04, three caseworkers each (CW0101...), an
// admin ADM1, the default catalogue and a BOOL field has_cv.
void Seed(const std::string& conninfo) {
  pqxx::connection conn(conninfo);
  pqxx::work tx(conn);
  tx.exec0("INSERT INTO job_centre (code, name) VALUES ('T1', 'Benchmark centre')");
  tx.exec("SELECT seed_default_catalogue((SELECT id FROM job_centre WHERE code = 'T1'))");
  tx.exec0(R"(
    WITH c AS (SELECT id FROM job_centre WHERE code = 'T1'),
    d AS (INSERT INTO org_unit (job_centre_id, code, name, kind) SELECT id, 'D1', 'Dept', 'DEPARTMENT' FROM c RETURNING id, job_centre_id)
    INSERT INTO org_unit (job_centre_id, code, name, kind, parent_id)
      SELECT d.job_centre_id, 'T0' || t, 'T0' || t, 'TEAM', d.id FROM d, generate_series(1, 4) AS t)");
  tx.exec0(R"(
    INSERT INTO staff (job_centre_id, code, display_name, role, team_id)
    SELECT u.job_centre_id, 'CW' || substr(u.code, 2) || '0' || k, 'CW' || substr(u.code, 2) || '0' || k,
           'CASEWORKER', u.id
    FROM org_unit u, generate_series(1, 3) AS k WHERE u.kind = 'TEAM')");
  tx.exec0(R"(
    INSERT INTO staff (job_centre_id, code, display_name, role)
    SELECT id, 'ADM1', 'ADM1', 'ADMIN' FROM job_centre WHERE code = 'T1')");
  tx.exec0(R"(
    INSERT INTO case_field (job_centre_id, code, label_da, label_en, field_type, choices, sort_order)
    SELECT id, 'has_cv', 'Har CV', 'Has a CV', 'BOOL', '{}'::text[], 1 FROM job_centre WHERE code = 'T1')");
  tx.commit();
}

uint64_t Mix(uint64_t x) {  // splitmix64: each case's figures from its number alone
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string Caseworker(int team, int k) { return absl::StrFormat("CW%02d%02d", team, k); }

// Case `i` of the synthetic history, computed from i (so the files can be streamed one after the
// other without holding them): 3 to 6 expectations, a closure for every third case, a
// re-assignment within the team for every fifth (cases.csv then names the current holder).
struct CaseSpec {
  std::string ref;
  int team = 1;
  std::string opener, holder;
  absl::CivilDay opened;
  int expectations = 0;
  bool closed = false, reassigned = false;
  uint64_t h = 0;
  int rows() const { return 1 + expectations + closed + reassigned; }
};

CaseSpec Spec(const std::string& prefix, int64_t i) {
  CaseSpec c;
  c.h = Mix(static_cast<uint64_t>(i) * 7919 + 17);
  c.ref = absl::StrFormat("%s-%07d", prefix, i);
  c.team = 1 + static_cast<int>(i % kTeams);
  const int k = 1 + static_cast<int>(c.h % kCaseworkersPerTeam);
  c.opener = Caseworker(c.team, k);
  c.reassigned = i % 5 == 0;
  c.holder = c.reassigned ? Caseworker(c.team, 1 + k % kCaseworkersPerTeam) : c.opener;
  c.opened = absl::CivilDay(2021, 1, 1) + static_cast<int>((c.h >> 8) % 1200);
  c.expectations = 3 + static_cast<int>((c.h >> 20) % 4);
  c.closed = i % 3 == 0;
  return c;
}

// Streams the four files as forecastctl does: cases, then expectations, closures and
// re-assignments, in chunks of kRowsPerChunk rows. Not thread-safe.
class SyntheticHistory {
 public:
  SyntheticHistory(std::string prefix, int64_t target_rows, bool dry_run)
      : prefix_(std::move(prefix)), dry_run_(dry_run) {
    while (rows_ < target_rows) rows_ += Spec(prefix_, cases_++).rows();
  }
  int64_t cases() const { return cases_; }
  int64_t rows() const { return rows_; }

  bool Next(v1::ImportChunk* chunk) {
    chunk->Clear();
    if (first_) chunk->set_dry_run(dry_run_);
    first_ = false;
    size_t n = 0;
    static const char* kOutcomes[] = {"ORDINARY_JOB", "SMALL_JOB",    "FLEX_JOB",
                                      "EDUCATION",    "DECLARED_FIT", "OTHER"};
    static const char* kRisks[] = {"LOW", "MEDIUM", "HIGH"};
    while (n < kRowsPerChunk && file_ < 4) {
      if (next_case_ >= cases_) {
        ++file_;
        next_case_ = 0;
        continue;
      }
      const CaseSpec c = Spec(prefix_, next_case_++);
      const int64_t line = next_case_ + 1;  // one row per case in cases.csv
      if (file_ == 0) {
        v1::ImportCaseRow* row = chunk->add_cases();
        row->set_line(line);
        row->set_case_ref(c.ref);
        row->set_case_type(c.h % 2 == 0 ? "SDP" : "JAF");
        row->set_opened_on(FormatDay(c.opened));
        row->set_team(absl::StrFormat("T%02d", c.team));
        row->set_caseworker(c.holder);
        if (c.h % 3 != 0) (*row->mutable_extra())["has_cv"] = c.h % 3 == 1 ? "true" : "false";
        ++n;
      } else if (file_ == 1) {
        for (int e = 0; e < c.expectations; ++e) {
          const absl::CivilDay on =
              c.opened + 10 * (e + 1) + static_cast<int>((c.h >> (e * 3)) % 7);
          v1::ImportExpectationRow* row = chunk->add_expectations();
          row->set_line(++expectation_line_);
          row->set_case_ref(c.ref);
          row->set_recorded_on(FormatDay(on));
          row->set_recorded_by(c.holder);
          row->set_expected_outcome(kOutcomes[(c.h >> (30 + e)) % 6]);
          row->set_expected_month(FormatMonth(absl::CivilMonth(on) + 2 + e));
          row->set_risk(kRisks[(c.h >> (40 + e)) % 3]);
          ++n;
        }
      } else if (file_ == 2) {
        if (!c.closed) continue;
        v1::ImportClosureRow* row = chunk->add_closures();
        row->set_line(++closure_line_);
        row->set_case_ref(c.ref);
        row->set_closed_on(FormatDay(c.opened + 10 * (c.expectations + 1) + 30));
        row->set_outcome(kOutcomes[(c.h >> 50) % 6]);
        ++n;
      } else {
        if (!c.reassigned) continue;
        v1::ImportReassignmentRow* row = chunk->add_reassignments();
        row->set_line(++reassignment_line_);
        row->set_case_ref(c.ref);
        row->set_on(FormatDay(c.opened + 5));
        row->set_from(c.opener);
        row->set_to(c.holder);
        ++n;
      }
    }
    if (n == 0 && sent_any_) return false;
    sent_any_ = true;  // an empty history still sends one chunk, with the flags
    return true;
  }

 private:
  const std::string prefix_;
  const bool dry_run_;
  int64_t cases_ = 0, rows_ = 0;
  int file_ = 0;
  int64_t next_case_ = 0;
  int64_t expectation_line_ = 1, closure_line_ = 1, reassignment_line_ = 1;
  bool first_ = true;
  bool sent_any_ = false;
};

// A "VmHWM:" / "VmRSS:" figure of /proc/PID/status in MiB.
double StatusMiB(pid_t pid, const std::string& key) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    int64_t kib = 0;
    std::string digits;
    for (char ch : line)
      if (ch >= '0' && ch <= '9') digits += ch;
    if (absl::SimpleAtoi(digits, &kib)) return static_cast<double>(kib) / 1024.0;
  }
  Die(absl::StrCat("no ", key, " in /proc/", pid, "/status"));
}

struct Figures {
  std::string name;
  int64_t rows = 0, cases = 0;
  double seconds = 0, start_mib = 0, peak_mib = 0, after_mib = 0;
};

Figures Measure(const std::string& binary, const TestDatabase& db, const std::string& name,
                const std::string& prefix, int64_t rows, bool dry_run) {
  std::vector<std::string> argv = {binary,     "--db", db.conninfo_as(testing::kCaseServiceRole),
                                   "--port",   "0",    "--max-import-rows",
                                   "100000000"};
  for (const std::string& flag : testing::ServiceSecurityFlags(true)) argv.push_back(flag);
  absl::StatusOr<std::unique_ptr<ServiceProcess>> service =
      ServiceProcess::Start(argv, absl::Seconds(60));
  if (!service.ok()) Die(service.status().ToString());
  const pid_t pid = (*service)->pid();
  Figures f;
  f.name = name;
  f.start_mib = StatusMiB(pid, "VmHWM");
  auto stub = v1::CaseService::NewStub(testing::TlsChannel((*service)->port()));
  std::unique_ptr<grpc::ClientContext> context = testing::ContextAs("T1", "ADM1", absl::Hours(2));
  SyntheticHistory history(prefix, rows, dry_run);
  f.rows = history.rows();
  f.cases = history.cases();
  v1::ImportReport report;
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<grpc::ClientWriter<v1::ImportChunk>> writer =
      stub->ImportHistory(context.get(), &report);
  v1::ImportChunk chunk;
  while (history.Next(&chunk)) {
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!status.ok()) Die(absl::StrCat(name, ": ", status.error_message()));
  if (report.errors_size() > 0)
    Die(absl::StrCat(name, ": ", report.errors_size(), " errors, the first ",
                     report.errors(0).ShortDebugString()));
  if (report.committed() == dry_run) Die(absl::StrCat(name, ": committed is ", report.committed()));
  if (report.cases() != f.cases) Die(absl::StrCat(name, ": ", report.cases(), " cases reported"));
  f.peak_mib = StatusMiB(pid, "VmHWM");
  f.after_mib = StatusMiB(pid, "VmRSS");
  std::printf(
      "%-22s %9lld rows %7lld cases %8.1f s %9.0f rows/s  peak RSS %7.1f MiB "
      "(%.1f at start)  RSS after %7.1f MiB\n",
      f.name.c_str(), static_cast<long long>(f.rows), static_cast<long long>(f.cases), f.seconds,
      f.rows / f.seconds, f.peak_mib, f.start_mib, f.after_mib);
  std::fflush(stdout);
  return f;
}

void Ratio(const Figures& large, const Figures& reference) {
  std::printf(
      "%s / %s: rows x%.1f, time x%.2f, peak RSS x%.2f (%.1f vs %.1f MiB), peak above "
      "start x%.2f\n",
      large.name.c_str(), reference.name.c_str(), static_cast<double>(large.rows) / reference.rows,
      large.seconds / reference.seconds, large.peak_mib / reference.peak_mib, large.peak_mib,
      reference.peak_mib,
      (large.peak_mib - large.start_mib) / std::max(1.0, reference.peak_mib - reference.start_mib));
}

int Main(int argc, char** argv) {
  int64_t rows = 1'200'000;
  std::string binary = CASE_SERVICE_BIN;
  bool dry_runs_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rows" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &rows) && rows >= 10) {
      ++i;
    } else if (arg == "--case-service" && i + 1 < argc) {
      binary = argv[++i];
    } else if (arg == "--dry-runs-only") {
      dry_runs_only = true;
    } else {
      Die("usage: import_benchmark [--rows 1200000] [--case-service PATH] [--dry-runs-only]");
    }
  }
  absl::StatusOr<std::unique_ptr<TestDatabase>> db = TestDatabase::Create();
  if (!db.ok()) Die(db.status().ToString());
  Seed((*db)->conninfo());
  std::printf("ImportHistory into a fresh %s per import; reference %lld rows, large %lld rows\n",
              binary.c_str(), static_cast<long long>(rows / 10), static_cast<long long>(rows));
  const Figures ref_dry = Measure(binary, **db, "reference dry run", "REF", rows / 10, true);
  const Figures large_dry = Measure(binary, **db, "large dry run", "BIG", rows, true);
  Ratio(large_dry, ref_dry);
  double worst = large_dry.peak_mib;
  if (!dry_runs_only) {
    const Figures ref_real = Measure(binary, **db, "reference import", "REF", rows / 10, false);
    const Figures large_real = Measure(binary, **db, "large import", "BIG", rows, false);
    Ratio(large_real, ref_real);
    worst = std::max(worst, large_real.peak_mib);
  }
  std::printf(
      "largest peak RSS of the case service: %.1f MiB (%.0f MB); goal for 1.2 M rows: "
      "256 MB\n",
      worst, worst * 1.048576);
  return 0;
}

}  // namespace
}  // namespace forecast

int main(int argc, char** argv) { return forecast::Main(argc, argv); }
