// The forecast service's cache of job centres: per centre the history, the "now" view (snapshot,
// fitted models, projector) and memoised dashboards and backtests; views as of past days on
// demand. Changes arrive as notifications (ChangeListener, PostgreSQL LISTEN) and are applied by
// a refresher thread that re-reads only the changed cases, so a committed change is in every
// figure within milliseconds; watchers of a team are woken on every change to it.
//
// Fitted models: the models are fitted as of the view's month from what happened before it, so
// changes within the month leave them as they are. They are refitted when the month turns, when
// the catalogue or organisation changes, and at most every `refit_interval` when back-dated
// changes arrived (a back-dated change reaches the figures at once through the snapshot, and the
// calibration within that interval).
#ifndef SERVICES_FORECAST_FORECAST_ENGINE_H_
#define SERVICES_FORECAST_FORECAST_ENGINE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "forecast/v1/forecast_service.pb.h"
#include "services/common/calendar.h"
#include "services/forecast/centre_view.h"
#include "services/forecast/history_store.h"

namespace forecast::fsvc {

struct EngineOptions {
  absl::Duration refit_interval = absl::Minutes(10);
  // Notifications arriving within this window are applied together.
  absl::Duration batch_window = absl::Milliseconds(2);
  int as_of_views_kept = 4;  // each holds a snapshot and a fit: tens of MB for a large centre
  int backtest_lookback = 12;
};

class ForecastEngine {
 public:
  // Starts the refresher thread. `store` and `clock` must outlive the engine. Thread-safe.
  ForecastEngine(HistoryStore& store, const Clock& clock, EngineOptions options = {});
  // Stops the refresher thread.
  ~ForecastEngine();
  ForecastEngine(const ForecastEngine&) = delete;
  ForecastEngine& operator=(const ForecastEngine&) = delete;

  // The view of the centre now (loaded on first use, rebuilt when the day turns). Thread-safe.
  absl::StatusOr<std::shared_ptr<const CentreView>> Now(int64_t centre_id);

  // The view as of a past day (cached); nullopt or today gives Now. A day after today is the
  // caller's error (INVALID_ARGUMENT; ForecastKeeper refuses it naming the field). Thread-safe.
  absl::StatusOr<std::shared_ptr<const CentreView>> View(int64_t centre_id,
                                                         std::optional<Day> as_of);

  // The team dashboard of a view, memoised per view. Thread-safe.
  absl::StatusOr<std::shared_ptr<const v1::TeamDashboard>> TeamDashboard(
      const std::shared_ptr<const CentreView>& view, int64_t team_id);
  // The same, serialised (memoised with it), for answering without copying the message.
  // Thread-safe.
  absl::StatusOr<std::shared_ptr<const std::string>> SerializedTeamDashboard(
      const std::shared_ptr<const CentreView>& view, int64_t team_id);

  // The backtested accuracy of every model for a scope as of a view's month, memoised (it only
  // depends on months before the view's month). `lookback` 0 means the default. Thread-safe.
  absl::StatusOr<std::vector<v1::ModelAccuracy>> Accuracy(const CentreView& view,
                                                          const ScopeFilter& scope, int lookback);

  // A case of the centre changed (from a notification). `written_at` (when known) is when the
  // change was written; the time from then until it is in the figures is exported as
  // jobcentre_forecast_change_lag_seconds. Thread-safe.
  void CaseChanged(int64_t centre_id, int64_t case_id,
                   absl::Time written_at = absl::InfinitePast());
  // Something else of the centre changed (targets, dialogues, catalogue). Thread-safe.
  void CentreChanged(int64_t centre_id);
  // Many cases of the centre changed at once (a bulk import): read it again whole. Thread-safe.
  void CentreReload(int64_t centre_id);
  // Every loaded centre may have missed changes (e.g. the listener reconnected). Thread-safe.
  void ReloadAll();
  // Every loaded centre may have missed the changes committed after `mark` (the listener was cut
  // off, e.g. by a failover): queues the cases with case events after it (by event id, see
  // HistoryStore::CasesChangedAfter) and a re-read of the small tables; a centre with more than
  // `reload_above` such cases (an import) is read again whole. Returns the number of cases
  // queued. Thread-safe.
  int64_t CatchUp(const ChangeMark& mark, size_t reload_above = 5000);
  // Applies pending changes of the centre (and re-reads its small tables) before returning, so
  // that a caller's own write is visible in its next answer. Thread-safe.
  absl::Status RefreshNow(int64_t centre_id);
  // As RefreshNow, and re-reads the given cases even when their notifications have not arrived
  // yet (a writer that knows what it changed). Thread-safe.
  absl::Status RefreshCases(int64_t centre_id, const std::vector<int64_t>& case_ids);

  // Applies a change its writer holds as stored (a target, a dialogue) to the loaded centre
  // without reading the database, so the writer's next answer shows it; a centre not loaded yet
  // reads it with everything else on first use. Thread-safe.
  absl::Status Amend(int64_t centre_id, const std::function<void(CentreHistory&)>& edit);

  // The centre's revision (bumps with every applied change) and the revision at which `team_id`
  // last changed. Thread-safe.
  int64_t TeamRevision(int64_t centre_id, int64_t team_id);
  // Blocks until the team changes after `seen_revision` or `timeout` passes; returns the team's
  // revision. Thread-safe.
  int64_t WaitForTeamChange(int64_t centre_id, int64_t team_id, int64_t seen_revision,
                            absl::Duration timeout);

  const Clock& clock() const { return clock_; }
  HistoryStore& store() { return store_; }

 private:
  struct Centre {
    std::mutex build_mu;      // serialises loads and rebuilds of this centre
    std::mutex dashboard_mu;  // serialises dashboard builds of the current view
    std::shared_ptr<const CentreHistory> history;
    std::shared_ptr<const CentreView> now;
    absl::Time fitted_at = absl::InfinitePast();
    bool refit_wanted = false;
    int64_t revision = 0;
    std::map<int64_t, int64_t> team_revision;
    // Memoised per "now" view / per past day.
    struct Dashboard {
      std::shared_ptr<const v1::TeamDashboard> message;
      std::shared_ptr<const std::string> wire;
    };
    std::map<int64_t, Dashboard> dashboards;  // for `now`
    std::deque<std::pair<Day, std::shared_ptr<const CentreView>>> as_of;
    std::map<std::tuple<int, int64_t, int32_t, int64_t, int>, std::vector<v1::ModelAccuracy>>
        accuracy;
  };

  Centre& CentreFor(int64_t centre_id);
  absl::StatusOr<Centre::Dashboard> DashboardEntry(const std::shared_ptr<const CentreView>& view,
                                                   int64_t team_id);
  // Loads or rebuilds the centre's now view; caller holds centre.build_mu.
  absl::Status BuildNowLocked(int64_t centre_id, Centre& centre,
                              std::shared_ptr<const CentreHistory> history,
                              const absl::flat_hash_set<int64_t>& changed_teams, bool all_teams);
  // Applies the centre's pending changes; `small_tables` also re-reads catalogue, organisation,
  // targets and dialogues (as does a pending centre change).
  absl::Status ApplyPending(int64_t centre_id, Centre& centre, bool small_tables = false);
  void RefresherLoop();

  HistoryStore& store_;
  const Clock& clock_;
  const EngineOptions options_;

  std::mutex mu_;                    // guards everything below and Centre fields but build_mu
  std::condition_variable changed_;  // revisions moved
  std::condition_variable pending_cv_;
  std::map<int64_t, std::unique_ptr<Centre>> centres_;
  std::map<int64_t, absl::flat_hash_set<int64_t>> pending_cases_;
  std::map<int64_t, std::vector<absl::Time>> pending_written_at_;  // of pending_cases_, per centre
  absl::flat_hash_set<int64_t> pending_centres_;
  absl::flat_hash_set<int64_t> pending_reloads_;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_FORECAST_ENGINE_H_
