#include "services/forecast/centre_cache.h"

#include <utility>

#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include "absl/strings/str_cat.h"
#include "services/common/observability/observability.h"
#include "services/common/status_macros.h"
#include "services/forecast/dashboards.h"
#include "services/forecast/projections.h"

namespace forecast::fsvc {
namespace {

// The cache's metrics (see services/common/observability): fit times and how much is loaded.
struct CacheMetrics {
  prometheus::Histogram& fit;
  prometheus::Gauge& centres_loaded;
  prometheus::Gauge& cases_loaded;
};

CacheMetrics& Metrics() {
  static CacheMetrics* metrics = [] {
    prometheus::Registry& r = obs::Registry();
    return new CacheMetrics{
        prometheus::BuildHistogram()
            .Name("jobcentre_forecast_fit_seconds")
            .Help("Time to build a job centre's view with freshly fitted models")
            .Register(r)
            .Add({}, obs::LatencyBuckets()),
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
bool BackDated(const CaseTimeline& r, Day month_start, Day since) {
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

}  // namespace

CentreCache::Centre& CentreCache::CentreFor(int64_t centre_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = centres_[centre_id];
  if (slot == nullptr) slot = std::make_unique<Centre>();
  return *slot;
}

std::vector<int64_t> CentreCache::LoadedCentres() const {
  std::vector<int64_t> ids;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, centre] : centres_) {
    if (centre->history != nullptr) ids.push_back(id);
  }
  return ids;
}

absl::Status CentreCache::BuildNowLocked(Centre& centre,
                                         std::shared_ptr<const CentreHistory> history,
                                         const absl::flat_hash_set<int64_t>& changed_cases,
                                         bool all_teams) {
  const absl::Time now = clock_.Now();
  const Day today = clock_.Today();
  std::shared_ptr<const CentreView> old_view;
  int64_t revision;
  bool refit_wanted;
  absl::Time fitted_at;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old_view = centre.now;
    revision = centre.revision + 1;
    refit_wanted = centre.refit_wanted;
    fitted_at = centre.fitted_at;
  }
  const bool refit =
      old_view == nullptr || (refit_wanted && now - fitted_at >= options_.refit_interval);
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
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t old_cases = centre.history == nullptr ? 0 : centre.history->cases.size();
  if (centre.history == nullptr) Metrics().centres_loaded.Increment();
  Metrics().cases_loaded.Increment(
      static_cast<double>(static_cast<int64_t>(history->cases.size()) - old_cases));
  centre.history = std::move(history);
  centre.now = *view;
  centre.revision = revision;
  if (refitted) {
    centre.fitted_at = now;
    centre.refit_wanted = false;
    // The past the backtests read may have changed with it (a back-dated change or a reload).
    for (auto it = centre.accuracy.begin(); it != centre.accuracy.end();) {
      it = std::get<3>(it->first) == 0 ? centre.accuracy.erase(it) : std::next(it);
    }
  }
  std::vector<int64_t> moved;
  if (all_teams) {
    centre.dashboards.clear();
    for (const OrgUnit& u : centre.history->units) {
      if (u.is_team) moved.push_back(u.id);
    }
  } else {
    for (int64_t team : teams) {
      centre.dashboards.erase(team);
      moved.push_back(team);
    }
  }
  // Under mu_, so that a dashboard built from this view carries its revision.
  watch_.Publish(centre.history->centre_id, moved, revision);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const CentreView>> CentreCache::Now(int64_t centre_id) {
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
    ASSIGN_OR_RETURN(history, store_.Load(centre_id));
  }
  RETURN_IF_ERROR(BuildNowLocked(centre, std::move(history), {}, true));
  std::lock_guard<std::mutex> lock(mu_);
  return centre.now;
}

absl::StatusOr<std::shared_ptr<const CentreView>> CentreCache::View(int64_t centre_id,
                                                                    std::optional<Day> day) {
  const Day today = clock_.Today();
  if (!day || *day == today) return Now(centre_id);
  if (*day > today) {
    return absl::InvalidArgumentError(absl::StrCat(FormatDay(*day), " is in the future"));
  }
  RETURN_IF_ERROR(Now(centre_id).status());  // loads the history
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
  ASSIGN_OR_RETURN(std::shared_ptr<const CentreView> view,
                   CentreView::Build(std::move(snapshot), nullptr, 0));
  std::lock_guard<std::mutex> lock(mu_);
  centre.as_of.emplace_back(*day, view);
  while (static_cast<int>(centre.as_of.size()) > options_.as_of_views_kept) {
    centre.as_of.pop_front();
  }
  return view;
}

absl::StatusOr<std::shared_ptr<const v1::Projection>> CentreCache::PastProjection(
    int64_t centre_id, Day day, const std::string& key, const ProjectionBuilder& build) {
  if (day >= clock_.Today()) {
    return absl::InvalidArgumentError(absl::StrCat(FormatDay(day), " is not a past day"));
  }
  Centre& centre = CentreFor(centre_id);
  const auto entry = std::make_pair(day, key);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = centre.past_projections.find(entry);
    if (it != centre.past_projections.end()) return it->second;
  }
  ASSIGN_OR_RETURN(const std::shared_ptr<const CentreView> view, View(centre_id, day));
  ASSIGN_OR_RETURN(v1::Projection built, build(*view));
  auto shared = std::make_shared<const v1::Projection>(std::move(built));
  std::lock_guard<std::mutex> lock(mu_);
  if (centre.past_projections.emplace(entry, shared).second) {
    centre.past_projection_order.push_back(entry);
    while (static_cast<int>(centre.past_projection_order.size()) > options_.past_projections_kept) {
      centre.past_projections.erase(centre.past_projection_order.front());
      centre.past_projection_order.pop_front();
    }
  }
  return shared;
}

absl::StatusOr<std::vector<v1::ModelAccuracy>> CentreCache::Accuracy(const CentreView& view,
                                                                     const ScopeFilter& scope,
                                                                     int lookback) {
  ASSIGN_OR_RETURN(const std::shared_ptr<const BacktestAnswer> answer,
                   Backtest(view, scope, lookback));
  return answer->models;
}

absl::StatusOr<std::shared_ptr<const BacktestAnswer>> CentreCache::Backtest(
    const CentreView& view, const ScopeFilter& scope, int lookback) {
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
  ASSIGN_OR_RETURN(BacktestAnswer built, RunBacktest(view, scope, lookback));
  auto result = std::make_shared<const BacktestAnswer>(std::move(built));
  std::lock_guard<std::mutex> lock(mu_);
  centre.accuracy[key] = result;
  return result;
}

absl::StatusOr<std::shared_ptr<const v1::TeamDashboard>> CentreCache::TeamDashboard(
    const std::shared_ptr<const CentreView>& view, int64_t team_id) {
  ASSIGN_OR_RETURN(const Dashboard entry, DashboardEntry(view, team_id));
  return entry.message;
}

absl::StatusOr<std::shared_ptr<const std::string>> CentreCache::SerializedTeamDashboard(
    const std::shared_ptr<const CentreView>& view, int64_t team_id) {
  ASSIGN_OR_RETURN(const Dashboard entry, DashboardEntry(view, team_id));
  return entry.wire;
}

absl::StatusOr<CentreCache::Dashboard> CentreCache::DashboardEntry(
    const std::shared_ptr<const CentreView>& view, int64_t team_id) {
  const int64_t centre_id = view->history().centre_id;
  Centre& centre = CentreFor(centre_id);
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
    revision = watch_.Revision(centre_id, team_id);
  }
  ASSIGN_OR_RETURN(const std::vector<v1::ModelAccuracy> accuracy,
                   Accuracy(*view, {ScopeFilter::Kind::kTeam, team_id}, 0));
  ASSIGN_OR_RETURN(v1::TeamDashboard built,
                   BuildTeamDashboard(*view, team_id, accuracy, FormatTimestamp(clock_.Now())));
  built.set_revision(revision);
  Dashboard entry;
  entry.wire = std::make_shared<const std::string>(built.SerializeAsString());
  entry.message = std::make_shared<const v1::TeamDashboard>(std::move(built));
  if (is_now) {
    std::lock_guard<std::mutex> lock(mu_);
    // Store only if the view is still current: a newer view may have changed the team.
    if (centre.now == view) centre.dashboards.emplace(team_id, entry);
  }
  return entry;
}

absl::Status CentreCache::Update(int64_t centre_id, const Reader& read) {
  Centre& centre = CentreFor(centre_id);
  std::lock_guard<std::mutex> build(centre.build_mu);
  std::shared_ptr<const CentreHistory> base;
  absl::Time fitted_at;
  {
    std::lock_guard<std::mutex> lock(mu_);
    base = centre.history;
    fitted_at = centre.fitted_at;
  }
  ASSIGN_OR_RETURN(std::optional<HistoryUpdate> update, read(base));
  if (!update) return absl::OkStatus();
  // A back-dated change reaches the months the models learn from: fit them again (in time).
  const Day month_start = Day(Month(clock_.Today()));
  const Day fitted_day = fitted_at == absl::InfinitePast()
                             ? Day(1970, 1, 1)
                             : absl::ToCivilDay(fitted_at, absl::UTCTimeZone());
  bool back_dated = false;
  for (int64_t id : update->cases) {
    const CaseTimeline* r = update->history->CaseById(id);
    if (r != nullptr && BackDated(*r, month_start, fitted_day)) back_dated = true;
  }
  if (update->refit || back_dated) {
    std::lock_guard<std::mutex> lock(mu_);
    centre.refit_wanted = true;
    if (update->refit) {
      centre.fitted_at = absl::InfinitePast();
      // Read whole: the catalogue or organisation (not historical) may have changed.
      centre.past_projections.clear();
      centre.past_projection_order.clear();
    }
  }
  return BuildNowLocked(centre, std::move(update->history), update->cases, update->all_teams);
}

void CentreCache::WantRefit(int64_t centre_id) {
  Centre& centre = CentreFor(centre_id);
  std::lock_guard<std::mutex> lock(mu_);
  centre.refit_wanted = true;
  centre.fitted_at = absl::InfinitePast();
}

}  // namespace forecast::fsvc
