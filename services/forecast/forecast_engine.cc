#include "services/forecast/forecast_engine.h"

#include <cstdio>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include "absl/strings/str_cat.h"
#include "services/common/observability/observability.h"
#include "services/forecast/dashboards.h"
#include "services/forecast/projections.h"

namespace forecast::fsvc {
namespace {

// The engine's own metrics (see services/common/observability): how long committed changes take
// to reach the figures, refresh and fit times, and how much is loaded.
struct EngineMetrics {
  prometheus::Histogram& change_lag;
  prometheus::Counter& changes_applied;
  prometheus::Histogram& refresh;
  prometheus::Histogram& fit;
  prometheus::Counter& reloads;
  prometheus::Gauge& centres_loaded;
  prometheus::Gauge& cases_loaded;
};

EngineMetrics& Metrics() {
  static EngineMetrics* metrics = [] {
    prometheus::Registry& r = obs::Registry();
    // Change lag: from the writing statement (the notification's "at") to applied.
    static const prometheus::Histogram::BucketBoundaries kLag = {
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    return new EngineMetrics{
        prometheus::BuildHistogram()
            .Name("jobcentre_forecast_change_lag_seconds")
            .Help("Time from a case change's commit to its being in the forecast figures")
            .Register(r)
            .Add({}, kLag),
        prometheus::BuildCounter()
            .Name("jobcentre_forecast_changes_applied_total")
            .Help("Changed cases applied to the figures")
            .Register(r)
            .Add({}),
        prometheus::BuildHistogram()
            .Name("jobcentre_forecast_refresh_seconds")
            .Help("Time to apply a batch of changes to a job centre's figures")
            .Register(r)
            .Add({}, obs::LatencyBuckets()),
        prometheus::BuildHistogram()
            .Name("jobcentre_forecast_fit_seconds")
            .Help("Time to build a job centre's view with freshly fitted models")
            .Register(r)
            .Add({}, obs::LatencyBuckets()),
        prometheus::BuildCounter()
            .Name("jobcentre_forecast_centre_reloads_total")
            .Help("Job centres read again whole (imports, catalogue changes, lost notifications)")
            .Register(r)
            .Add({}),
        prometheus::BuildGauge()
            .Name("jobcentre_forecast_centres_loaded")
            .Help("Job centres held in memory")
            .Register(r)
            .Add({}),
        prometheus::BuildGauge()
            .Name("jobcentre_forecast_cases_loaded")
            .Help("Cases held in memory, all job centres")
            .Register(r)
            .Add({}),
    };
  }();
  return *metrics;
}

int64_t CutoffKey(const ViewDays& view) {
  return view.cutoff == kEndOfTime ? 0 : static_cast<int64_t>(view.cutoff - Day(1970, 1, 1));
}

// Whether a changed case carries an event effective before `month_start` that became known on
// or after `since`: a back-dated change to the months the models learn from.
bool BackDated(const CaseRecord& r, Day month_start, Day since) {
  for (const auto& e : r.expectations) {
    if (e.recorded_on < month_start && e.known_on >= since) return true;
  }
  for (const auto& s : r.statuses) {
    if (s.on < month_start && s.known_on >= since) return true;
  }
  for (const auto& a : r.assignments) {
    if (a.from_on < month_start && a.known_on >= since) return true;
  }
  return r.opened_on < month_start && r.known_on >= since;
}

bool SameCodes(const CentreHistory& a, const CentreHistory& b) {
  if (a.catalogue.case_types != b.catalogue.case_types ||
      a.catalogue.outcomes != b.catalogue.outcomes ||
      a.catalogue.outcome_groups != b.catalogue.outcome_groups ||
      a.catalogue.risks != b.catalogue.risks ||
      a.catalogue.risk_probability != b.catalogue.risk_probability ||
      a.fields.size() != b.fields.size()) {
    return false;
  }
  for (size_t i = 0; i < a.fields.size(); ++i) {
    if (a.fields[i].code != b.fields[i].code || a.fields[i].type != b.fields[i].type ||
        a.fields[i].choices != b.fields[i].choices) {
      return false;
    }
  }
  return true;
}

}  // namespace

ForecastEngine::ForecastEngine(HistoryStore& store, const Clock& clock, EngineOptions options)
    : store_(store), clock_(clock), options_(options) {
  refresher_ = std::thread([this] { RefresherLoop(); });
}

ForecastEngine::~ForecastEngine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  pending_cv_.notify_all();
  changed_.notify_all();
  refresher_.join();
}

ForecastEngine::Centre& ForecastEngine::CentreFor(int64_t centre_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = centres_[centre_id];
  if (slot == nullptr) slot = std::make_unique<Centre>();
  return *slot;
}

absl::Status ForecastEngine::BuildNowLocked(int64_t centre_id, Centre& centre,
                                            std::shared_ptr<const CentreHistory> history,
                                            const absl::flat_hash_set<int64_t>& changed_cases,
                                            bool all_teams) {
  (void)centre_id;
  const absl::Time now = clock_.Now();
  const Day today = clock_.Today();
  std::shared_ptr<const CentreView> old_view;
  int64_t revision;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old_view = centre.now;
    revision = centre.revision + 1;
  }
  const bool refit = old_view == nullptr ||
                     (centre.refit_wanted && now - centre.fitted_at >= options_.refit_interval);
  // Same day and an update of a few cases: copy the other cases' states.
  auto snapshot = old_view != nullptr && old_view->today() == today && !all_teams
                      ? CentreSnapshot::Update(old_view->snapshot(), history, changed_cases)
                      : CentreSnapshot::Build(history, ViewDays{today, kEndOfTime});
  const absl::Time build_start = absl::Now();
  absl::StatusOr<std::shared_ptr<const CentreView>> view =
      CentreView::Build(std::move(snapshot), refit ? nullptr : old_view.get(), revision);
  if (!view.ok()) return view.status();
  const bool refitted = old_view == nullptr || (*view)->models_ptr() != old_view->models_ptr();
  if (refitted) {
    Metrics().fit.Observe(absl::ToDoubleSeconds(absl::Now() - build_start));
    centre.fitted_at = now;
    centre.refit_wanted = false;
    all_teams = true;  // new models move every team's figures
  }
  // Teams whose figures moved: where the changed cases were held before and are held now.
  absl::flat_hash_set<int64_t> teams;
  for (int64_t case_id : changed_cases) {
    if (old_view != nullptr) {
      if (const CaseState* s = old_view->snapshot().Case(case_id)) teams.insert(s->team_id);
    }
    if (const CaseState* s = (*view)->snapshot().Case(case_id)) teams.insert(s->team_id);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t old_cases = centre.history == nullptr ? 0 : centre.history->cases.size();
    if (centre.history == nullptr) Metrics().centres_loaded.Increment();
    Metrics().cases_loaded.Increment(
        static_cast<double>(static_cast<int64_t>(history->cases.size()) - old_cases));
    centre.history = std::move(history);
    centre.now = *view;
    centre.revision = revision;
    if (refitted) {
      // The past the backtests read may have changed with it (a back-dated change or a reload).
      for (auto it = centre.accuracy.begin(); it != centre.accuracy.end();) {
        it = std::get<3>(it->first) == 0 ? centre.accuracy.erase(it) : std::next(it);
      }
    }
    if (all_teams) {
      centre.dashboards.clear();
      for (const OrgUnit& u : centre.history->units) {
        if (u.is_team) centre.team_revision[u.id] = revision;
      }
    } else {
      for (int64_t team : teams) {
        centre.dashboards.erase(team);
        centre.team_revision[team] = revision;
      }
    }
  }
  changed_.notify_all();
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const CentreView>> ForecastEngine::Now(int64_t centre_id) {
  Centre& centre = CentreFor(centre_id);
  const Day today = clock_.Today();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (centre.now != nullptr && centre.now->today() == today) return centre.now;
  }
  std::lock_guard<std::mutex> build(centre.build_mu);
  std::shared_ptr<const CentreHistory> history;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (centre.now != nullptr && centre.now->today() == today) return centre.now;
    history = centre.history;
  }
  if (history == nullptr) {
    absl::StatusOr<std::shared_ptr<const CentreHistory>> loaded = store_.Load(centre_id);
    if (!loaded.ok()) return loaded.status();
    history = std::move(*loaded);
  }
  absl::Status built = BuildNowLocked(centre_id, centre, std::move(history), {}, true);
  if (!built.ok()) return built;
  std::lock_guard<std::mutex> lock(mu_);
  return centre.now;
}

absl::StatusOr<std::shared_ptr<const CentreView>> ForecastEngine::View(int64_t centre_id,
                                                                       std::optional<Day> day) {
  const Day today = clock_.Today();
  if (!day || *day == today) return Now(centre_id);
  if (*day > today) {
    return absl::InvalidArgumentError(absl::StrCat(FormatDay(*day), " is in the future"));
  }
  absl::StatusOr<std::shared_ptr<const CentreView>> now = Now(centre_id);
  if (!now.ok()) return now.status();
  Centre& centre = CentreFor(centre_id);
  std::shared_ptr<const CentreHistory> history;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [d, view] : centre.as_of) {
      if (d == *day) return view;
    }
    history = centre.history;
  }
  // Rows known after the day are invisible to the view, so later changes never alter it.
  auto snapshot = CentreSnapshot::Build(history, ViewDays{*day, *day});
  absl::StatusOr<std::shared_ptr<const CentreView>> view =
      CentreView::Build(std::move(snapshot), nullptr, 0);
  if (!view.ok()) return view.status();
  std::lock_guard<std::mutex> lock(mu_);
  centre.as_of.emplace_back(*day, *view);
  while (static_cast<int>(centre.as_of.size()) > options_.as_of_views_kept)
    centre.as_of.pop_front();
  return *view;
}

absl::StatusOr<std::vector<v1::ModelAccuracy>> ForecastEngine::Accuracy(const CentreView& view,
                                                                        const ScopeFilter& scope,
                                                                        int lookback) {
  if (lookback <= 0) lookback = options_.backtest_lookback;
  Centre& centre = CentreFor(view.history().centre_id);
  const auto key =
      std::make_tuple(static_cast<int>(scope.kind), scope.id, ToModelMonth(view.month()),
                      CutoffKey(view.snapshot().view()), lookback);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = centre.accuracy.find(key);
    if (it != centre.accuracy.end()) return it->second;
  }
  absl::StatusOr<std::vector<v1::ModelAccuracy>> result = RunBacktest(view, scope, lookback);
  if (!result.ok()) return result.status();
  std::lock_guard<std::mutex> lock(mu_);
  centre.accuracy[key] = *result;
  return result;
}

absl::StatusOr<std::shared_ptr<const v1::TeamDashboard>> ForecastEngine::TeamDashboard(
    const std::shared_ptr<const CentreView>& view, int64_t team_id) {
  absl::StatusOr<Centre::Dashboard> entry = DashboardEntry(view, team_id);
  if (!entry.ok()) return entry.status();
  return entry->message;
}

absl::StatusOr<std::shared_ptr<const std::string>> ForecastEngine::SerializedTeamDashboard(
    const std::shared_ptr<const CentreView>& view, int64_t team_id) {
  absl::StatusOr<Centre::Dashboard> entry = DashboardEntry(view, team_id);
  if (!entry.ok()) return entry.status();
  return entry->wire;
}

absl::StatusOr<ForecastEngine::Centre::Dashboard> ForecastEngine::DashboardEntry(
    const std::shared_ptr<const CentreView>& view, int64_t team_id) {
  Centre& centre = CentreFor(view->history().centre_id);
  int64_t revision = 0;
  bool is_now = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    is_now = centre.now == view;
    if (is_now) {
      auto it = centre.dashboards.find(team_id);
      if (it != centre.dashboards.end()) return it->second;
    }
  }
  // One build at a time per centre: concurrent callers after a change wait for the first and
  // then find its answer, instead of all building the same dashboard.
  std::unique_lock<std::mutex> building(centre.dashboard_mu, std::defer_lock);
  if (is_now) {
    building.lock();
    std::lock_guard<std::mutex> lock(mu_);
    if (centre.now == view) {
      auto it = centre.dashboards.find(team_id);
      if (it != centre.dashboards.end()) return it->second;
    }
    revision = centre.team_revision[team_id];
  }
  absl::StatusOr<std::vector<v1::ModelAccuracy>> accuracy =
      Accuracy(*view, {ScopeFilter::Kind::kTeam, team_id}, 0);
  if (!accuracy.ok()) return accuracy.status();
  absl::StatusOr<v1::TeamDashboard> built =
      BuildTeamDashboard(*view, team_id, *accuracy, FormatTimestamp(clock_.Now()));
  if (!built.ok()) return built.status();
  built->set_revision(revision);
  Centre::Dashboard entry;
  entry.wire = std::make_shared<const std::string>(built->SerializeAsString());
  entry.message = std::make_shared<const v1::TeamDashboard>(std::move(*built));
  if (is_now) {
    std::lock_guard<std::mutex> lock(mu_);
    // Store only if the view is still current: a newer view may have changed the team.
    if (centre.now == view) centre.dashboards.emplace(team_id, entry);
  }
  return entry;
}

void ForecastEngine::CaseChanged(int64_t centre_id, int64_t case_id, absl::Time written_at) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_cases_[centre_id].insert(case_id);
    if (written_at != absl::InfinitePast()) pending_written_at_[centre_id].push_back(written_at);
  }
  pending_cv_.notify_one();
}

void ForecastEngine::CentreChanged(int64_t centre_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_centres_.insert(centre_id);
  }
  pending_cv_.notify_one();
}

void ForecastEngine::CentreReload(int64_t centre_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_reloads_.insert(centre_id);
    pending_centres_.insert(centre_id);
  }
  pending_cv_.notify_one();
}

void ForecastEngine::ReloadAll() {
  std::vector<int64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, centre] : centres_) ids.push_back(id);
  }
  for (int64_t id : ids) {
    Centre& centre = CentreFor(id);
    std::lock_guard<std::mutex> build(centre.build_mu);
    absl::StatusOr<std::shared_ptr<const CentreHistory>> loaded = store_.Load(id);
    if (!loaded.ok()) {
      std::fprintf(stderr, "forecast-service: reloading centre %lld: %s\n",
                   static_cast<long long>(id), std::string(loaded.status().message()).c_str());
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      centre.refit_wanted = true;
      centre.fitted_at = absl::InfinitePast();
    }
    absl::Status built = BuildNowLocked(id, centre, std::move(*loaded), {}, true);
    if (!built.ok()) {
      std::fprintf(stderr, "forecast-service: rebuilding centre %lld: %s\n",
                   static_cast<long long>(id), std::string(built.message()).c_str());
    }
  }
}

int64_t ForecastEngine::CatchUp(const ChangeMark& mark, size_t reload_above) {
  std::vector<int64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, centre] : centres_) {
      if (centre->history != nullptr) ids.push_back(id);
    }
  }
  int64_t queued = 0;
  for (int64_t id : ids) {
    absl::StatusOr<MissedCases> missed = store_.CasesChangedAfter(id, mark);
    if (!missed.ok() || missed->case_ids.size() > reload_above) {
      if (!missed.ok()) {
        std::fprintf(stderr, "forecast-service: catching up centre %lld: %s (reading it whole)\n",
                     static_cast<long long>(id), std::string(missed.status().message()).c_str());
      }
      CentreReload(id);
      continue;
    }
    Centre& centre = CentreFor(id);
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_cases_[id].insert(missed->case_ids.begin(), missed->case_ids.end());
      // Targets, dialogues, catalogue and organisation carry no event id: read them again.
      pending_centres_.insert(id);
      // Back-dated changes may be among the missed ones: fit the models again with them, so
      // that the figures equal a fresh computation (as after a full read).
      centre.refit_wanted = true;
      centre.fitted_at = absl::InfinitePast();
    }
    queued += static_cast<int64_t>(missed->case_ids.size());
  }
  pending_cv_.notify_one();
  return queued;
}

absl::Status ForecastEngine::ApplyPending(int64_t centre_id, Centre& centre, bool small_tables) {
  std::lock_guard<std::mutex> build(centre.build_mu);
  const absl::Time start = absl::Now();
  absl::flat_hash_set<int64_t> cases;
  std::vector<absl::Time> written_at;
  std::shared_ptr<const CentreHistory> base;
  bool reload = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_cases_.find(centre_id);
    if (it != pending_cases_.end()) {
      cases = std::move(it->second);
      pending_cases_.erase(it);
    }
    if (auto w = pending_written_at_.find(centre_id); w != pending_written_at_.end()) {
      written_at = std::move(w->second);
      pending_written_at_.erase(w);
    }
    // Targets, dialogues, catalogue or organisation changed: read the small tables again.
    small_tables = pending_centres_.erase(centre_id) > 0 || small_tables;
    reload = pending_reloads_.erase(centre_id) > 0;
    base = centre.history;
  }
  if (base == nullptr) return absl::OkStatus();  // not loaded: the first Now() reads everything
  if (cases.empty() && !small_tables && !reload) return absl::OkStatus();
  std::vector<int64_t> ids(cases.begin(), cases.end());
  absl::StatusOr<std::shared_ptr<const CentreHistory>> history =
      reload ? store_.Load(centre_id) : store_.Refresh(*base, ids, small_tables);
  // Case records hold catalogue and field indices: a changed catalogue means reading them all.
  if (history.ok() && !reload && !SameCodes(**history, *base)) {
    reload = true;
    history = store_.Load(centre_id);
  }
  if (!history.ok()) {
    // Keep the changes for the next attempt.
    std::lock_guard<std::mutex> lock(mu_);
    pending_cases_[centre_id].insert(cases.begin(), cases.end());
    std::vector<absl::Time>& kept = pending_written_at_[centre_id];
    kept.insert(kept.end(), written_at.begin(), written_at.end());
    if (reload) pending_reloads_.insert(centre_id);
    if (small_tables) pending_centres_.insert(centre_id);
    return history.status();
  }
  if (reload) {
    std::lock_guard<std::mutex> lock(mu_);
    centre.refit_wanted = true;
    centre.fitted_at = absl::InfinitePast();
  }
  const Day today = clock_.Today();
  const Day month_start = Day(Month(today));
  const Day fitted_day = centre.fitted_at == absl::InfinitePast()
                             ? Day(1970, 1, 1)
                             : absl::ToCivilDay(centre.fitted_at, absl::UTCTimeZone());
  for (int64_t id : ids) {
    const CaseRecord* r = (*history)->CaseById(id);
    if (r != nullptr && BackDated(*r, month_start, fitted_day)) centre.refit_wanted = true;
  }
  // Catalogue or organisation changes re-index the models: every team moves.
  const bool reorganised = (*history)->units.size() != base->units.size() ||
                           (*history)->staff.size() != base->staff.size();
  absl::Status built =
      BuildNowLocked(centre_id, centre, std::move(*history), cases, reorganised || reload);
  if (!built.ok()) return built;
  const absl::Time applied = absl::Now();
  EngineMetrics& metrics = Metrics();
  metrics.refresh.Observe(absl::ToDoubleSeconds(applied - start));
  metrics.changes_applied.Increment(static_cast<double>(cases.size()));
  if (reload) metrics.reloads.Increment();
  for (absl::Time t : written_at) metrics.change_lag.Observe(absl::ToDoubleSeconds(applied - t));
  return built;
}

absl::Status ForecastEngine::RefreshNow(int64_t centre_id) {
  absl::StatusOr<std::shared_ptr<const CentreView>> now = Now(centre_id);
  if (!now.ok()) return now.status();
  return ApplyPending(centre_id, CentreFor(centre_id), /*small_tables=*/true);
}

absl::Status ForecastEngine::Amend(int64_t centre_id,
                                   const std::function<void(CentreHistory&)>& edit) {
  Centre& centre = CentreFor(centre_id);
  std::lock_guard<std::mutex> build(centre.build_mu);
  std::shared_ptr<const CentreHistory> base;
  {
    std::lock_guard<std::mutex> lock(mu_);
    base = centre.history;
  }
  if (base == nullptr) return absl::OkStatus();
  auto amended = std::make_shared<CentreHistory>(*base);  // shares the case records
  edit(*amended);
  return BuildNowLocked(centre_id, centre, std::move(amended), {}, false);
}

absl::Status ForecastEngine::RefreshCases(int64_t centre_id, const std::vector<int64_t>& case_ids) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_cases_[centre_id].insert(case_ids.begin(), case_ids.end());
  }
  return RefreshNow(centre_id);
}

int64_t ForecastEngine::TeamRevision(int64_t centre_id, int64_t team_id) {
  Centre& centre = CentreFor(centre_id);
  std::lock_guard<std::mutex> lock(mu_);
  return centre.team_revision[team_id];
}

int64_t ForecastEngine::WaitForTeamChange(int64_t centre_id, int64_t team_id, int64_t seen_revision,
                                          absl::Duration timeout) {
  Centre& centre = CentreFor(centre_id);
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                    [&] { return stopping_ || centre.team_revision[team_id] > seen_revision; });
  return centre.team_revision[team_id];
}

void ForecastEngine::RefresherLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      pending_cv_.wait(
          lock, [&] { return stopping_ || !pending_cases_.empty() || !pending_centres_.empty(); });
      if (stopping_) return;
    }
    // Let a burst of notifications (one transaction may touch several cases) arrive together.
    std::this_thread::sleep_for(absl::ToChronoMicroseconds(options_.batch_window));
    std::vector<int64_t> ids;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, cases] : pending_cases_) ids.push_back(id);
      for (int64_t id : pending_centres_) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (int64_t id : ids) {
      absl::Status applied = ApplyPending(id, CentreFor(id));
      if (!applied.ok()) {
        std::fprintf(stderr, "forecast-service: applying changes to centre %lld: %s\n",
                     static_cast<long long>(id), std::string(applied.message()).c_str());
        // Back off a little so a database outage does not spin this thread.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  }
}

}  // namespace forecast::fsvc
