// Projection throughput: 10k, 100k and 1M open cases over 24 months, all outcomes, with 80%
// intervals, for each model; plus the memory-bandwidth floor (a pass that only reads the same
// input bytes) and the ratio to it, and memory: the process's peak RSS (ru_maxrss, includes the
// fixtures) and the projection's own peak heap (counted in operator new; Eigen's column blocks,
// at most ~7 MB, are allocated with malloc and not counted).
//
// The portfolio is the synthetic large job centre (40 teams, ~15,000 open cases, 5 years of
// history) replicated to the size asked; each replica gets its own caseworkers (so 1M cases have
// ~27,000 caseworkers, as a real country-sized portfolio would), who inherit their team's
// calibration. Models are fitted once on the large centre's history.
#include <sys/resource.h>

#include <atomic>
#include <ctime>
#include <cstdlib>
#include <new>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "benchmark/benchmark.h"
#include "forecasting/models.h"
#include "forecasting/projector.h"
#include "forecasting/synthetic.h"

// Heap accounting for the projection's own peak memory.
namespace {
std::atomic<int64_t> g_heap_now{0}, g_heap_peak{0};
}  // namespace

void* operator new(std::size_t size) {
  void* p = std::malloc(size + 16);
  if (p == nullptr) throw std::bad_alloc();
  *static_cast<std::size_t*>(p) = size;
  const int64_t now = g_heap_now.fetch_add(static_cast<int64_t>(size)) + static_cast<int64_t>(size);
  int64_t peak = g_heap_peak.load();
  while (now > peak && !g_heap_peak.compare_exchange_weak(peak, now)) {
  }
  return static_cast<char*>(p) + 16;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  void* base = static_cast<char*>(p) - 16;
  g_heap_now.fetch_sub(static_cast<int64_t>(*static_cast<std::size_t*>(base)));
  std::free(base);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace forecasting {
namespace {

constexpr int32_t kHorizon = 24;

struct Fixture {
  FittedModels models;
  Portfolio portfolio;
};

const CompiledJobCentre& LargeCentre() {
  static const CompiledJobCentre* centre = [] {
    auto generated = GenerateJobCentre(LargeSpec());
    if (!generated.ok()) std::abort();
    const MonthIndex end = MakeMonth(generated->today.year, generated->today.month);
    auto compiled = CompileJobCentre(*generated, end);
    if (!compiled.ok()) std::abort();
    return new CompiledJobCentre(*std::move(compiled));
  }();
  return *centre;
}

const Fixture& FixtureFor(int64_t n) {
  static std::map<int64_t, std::unique_ptr<Fixture>> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return *it->second;
  const CompiledJobCentre& centre = LargeCentre();
  auto fixture = std::make_unique<Fixture>();
  auto fitted = FittedModels::Fit(centre.catalogue, centre.history, centre.portfolio.as_of_month);
  if (!fitted.ok()) std::abort();
  fixture->models = *std::move(fitted);
  const auto& base = centre.portfolio.cases;
  const int32_t workers = centre.catalogue.num_caseworkers();
  fixture->portfolio.as_of_month = centre.portfolio.as_of_month;
  fixture->portfolio.cases.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t replica = i / static_cast<int64_t>(base.size());
    OpenCase c = base[static_cast<size_t>(i % static_cast<int64_t>(base.size()))];
    c.case_id = i;
    c.caseworker = static_cast<int32_t>(c.caseworker + replica * workers);
    fixture->portfolio.cases.push_back(c);
  }
  const int64_t replicas =
      (n + static_cast<int64_t>(base.size()) - 1) / static_cast<int64_t>(base.size());
  auto& teams = fixture->models.catalogue.caseworker_team;
  const std::vector<TeamIndex> original = teams;
  for (int64_t r = 1; r < replicas; ++r)
    teams.insert(teams.end(), original.begin(), original.end());
  return *cache.emplace(n, std::move(fixture)).first->second;
}

double PeakRssMb() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

// The floor: one pass reading every byte of the open cases, as the projection must.
uint64_t ReadPass(const Portfolio& portfolio) {
  const auto* bytes = reinterpret_cast<const uint64_t*>(portfolio.cases.data());
  const size_t words = portfolio.cases.size() * sizeof(OpenCase) / sizeof(uint64_t);
  uint64_t sum = 0;
  for (size_t i = 0; i < words; ++i) sum += bytes[i];
  return sum;
}

// This thread's CPU time: the machine is shared, so wall time would measure the neighbours.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double ReadFloorSeconds(const Portfolio& portfolio) {
  double best = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    const double start = CpuSeconds();
    benchmark::DoNotOptimize(ReadPass(portfolio));
    best = std::min(best, CpuSeconds() - start);
  }
  return best;
}

void RunProjection(benchmark::State& state, ModelKind model, bool with_intervals,
                   bool categories = false) {
  const Fixture& f = FixtureFor(state.range(0));
  auto projector = Projector::Create(f.portfolio, f.models);
  if (!projector.ok()) {
    state.SkipWithError(std::string(projector.status().message()).c_str());
    return;
  }
  ProjectionRequest request;
  request.model = model;
  request.horizon_months = kHorizon;
  request.inflow = &f.models.inflow;
  request.with_intervals = with_intervals;
  request.categories = categories;
  const double floor = ReadFloorSeconds(f.portfolio);
  double total = 0;
  int64_t runs = 0;
  const int64_t heap_before = g_heap_now.load();
  g_heap_peak.store(heap_before);
  for (auto _ : state) {
    const double start = CpuSeconds();
    auto projection = projector->ProjectAll(request);
    total += CpuSeconds() - start;
    ++runs;
    benchmark::DoNotOptimize(projection);
    if (!projection.ok()) state.SkipWithError("projection failed");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["peak_rss_MB"] = PeakRssMb();
  state.counters["proj_heap_MB"] =
      static_cast<double>(g_heap_peak.load() - heap_before) / (1 << 20);
  state.counters["read_floor_ms"] = floor * 1e3;
  state.counters["x_read_floor"] = runs > 0 ? (total / runs) / floor : 0;
}

void BM_AsPlannedTotals(benchmark::State& s) { RunProjection(s, ModelKind::kAsPlanned, false); }
void BM_AsPlanned(benchmark::State& s) { RunProjection(s, ModelKind::kAsPlanned, true); }
void BM_Calibrated(benchmark::State& s) { RunProjection(s, ModelKind::kCalibrated, true); }
void BM_Baseline(benchmark::State& s) { RunProjection(s, ModelKind::kBaseline, true); }
// The same with the forecast categories (what Project answers).
void BM_CalibratedCategories(benchmark::State& s) {
  RunProjection(s, ModelKind::kCalibrated, true, true);
}

void BM_ReadFloor(benchmark::State& state) {
  const Fixture& f = FixtureFor(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(ReadPass(f.portfolio));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * state.range(0) *
                          static_cast<int64_t>(sizeof(OpenCase)));
}

#define SIZES Arg(10000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond)
// Issue 12's goal: fitting every model on the large centre (~15,000 open cases, 136,000 cases over
// 5 years) and projecting the whole centre (calibrated, 24 months, intervals, inflow) under 1 s.
void BM_FitAndProjectLargeCentre(benchmark::State& state) {
  const CompiledJobCentre& centre = LargeCentre();
  for (auto _ : state) {
    auto fitted = FittedModels::Fit(centre.catalogue, centre.history, centre.portfolio.as_of_month);
    if (!fitted.ok()) std::abort();
    auto projector = Projector::Create(centre.portfolio, *fitted);
    if (!projector.ok()) std::abort();
    ProjectionRequest request;
    request.model = ModelKind::kCalibrated;
    request.horizon_months = kHorizon;
    request.inflow = &fitted->inflow;
    auto p = projector->ProjectAll(request);
    if (!p.ok()) std::abort();
    benchmark::DoNotOptimize(p->total_closures);
  }
  state.counters["open_cases"] = static_cast<double>(centre.portfolio.cases.size());
  state.counters["history_cases"] = static_cast<double>(centre.history.cases.size());
}

BENCHMARK(BM_FitAndProjectLargeCentre)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ReadFloor)->SIZES;
BENCHMARK(BM_AsPlannedTotals)->SIZES;
BENCHMARK(BM_AsPlanned)->SIZES;
BENCHMARK(BM_Calibrated)->SIZES;
BENCHMARK(BM_Baseline)->SIZES;
BENCHMARK(BM_CalibratedCategories)->SIZES;

}  // namespace
}  // namespace forecasting

BENCHMARK_MAIN();
