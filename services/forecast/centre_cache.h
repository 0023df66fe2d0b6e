// The centre cache: per job centre the history, the view of today (snapshot, fitted models,
// projector), views as of past days, and memoised team dashboards and backtests. Loads a centre on
// first use and rebuilds today's view when the day turns; the refresher (refresher.h) hands it
// newer histories through Update. When a new view moves teams' figures it drops their dashboards
// and publishes the new revision to the team watch (team_watch.h).
//
// Fitted models: the models are fitted as of the view's month from what happened before it, so
// changes within the month leave them as they are. They are refitted when the month turns, when
// an update asks for it (a reload: the catalogue or organisation changed, changes were missed),
// and at most every `refit_interval` when back-dated changes arrived (a back-dated change
// reaches the figures at once through the snapshot, and the calibration within that interval).
#ifndef SERVICES_FORECAST_CENTRE_CACHE_H_
#define SERVICES_FORECAST_CENTRE_CACHE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "forecast/v1/forecast_service.pb.h"
#include "services/common/calendar.h"
#include "services/forecast/centre_view.h"
#include "services/forecast/history_store.h"
#include "services/forecast/projections.h"
#include "services/forecast/team_watch.h"

namespace forecast::fsvc {

struct CacheOptions {
  absl::Duration refit_interval = absl::Minutes(10);
  int as_of_views_kept = 4;  // each holds a snapshot and a fit: tens of MB for a large centre
  int backtest_lookback = 12;
  int past_projections_kept = 4096;  // trend points: a few KB each
};

// A newer history of a loaded centre, and what changed in it.
struct HistoryUpdate {
  std::shared_ptr<const CentreHistory> history;
  absl::flat_hash_set<int64_t> cases;  // the cases read again
  bool refit = false;                  // fit the models again (read whole, changes missed)
  bool all_teams = false;              // every team's figures may have moved
};

// Thread-safe. Locks: a centre's build lock (loads and updates, one at a time) is taken before
// the cache's own lock, and the team watch's lock inside the cache's lock.
class CentreCache {
 public:
  // `store`, `clock` and `watch` must outlive the cache.
  CentreCache(HistoryStore& store, const Clock& clock, TeamWatch& watch, CacheOptions options)
      : store_(store), clock_(clock), watch_(watch), options_(options) {}
  CentreCache(const CentreCache&) = delete;
  CentreCache& operator=(const CentreCache&) = delete;

  // The view of the centre now (loaded on first use, rebuilt when the day turns).
  absl::StatusOr<std::shared_ptr<const CentreView>> Now(int64_t centre_id);

  // The view as of a past day (cached); nullopt or today gives Now. A day after today is the
  // caller's error (INVALID_ARGUMENT; ForecastKeeper refuses it naming the field).
  absl::StatusOr<std::shared_ptr<const CentreView>> View(int64_t centre_id,
                                                         std::optional<Day> as_of);

  // The team dashboard of a view, memoised per view of today.
  absl::StatusOr<std::shared_ptr<const v1::TeamDashboard>> TeamDashboard(
      const std::shared_ptr<const CentreView>& view, int64_t team_id);
  // The same, serialised (memoised with it), for answering without copying the message.
  absl::StatusOr<std::shared_ptr<const std::string>> SerializedTeamDashboard(
      const std::shared_ptr<const CentreView>& view, int64_t team_id);

  // The backtested accuracy of every model for a scope as of a view's month, memoised (it only
  // depends on months before the view's month). `lookback` 0 means the default.
  absl::StatusOr<std::vector<v1::ModelAccuracy>> Accuracy(const CentreView& view,
                                                          const ScopeFilter& scope, int lookback);
  // The same backtest with the calibrated model's compared figures (memoised with it).
  absl::StatusOr<std::shared_ptr<const BacktestAnswer>> Backtest(const CentreView& view,
                                                                 const ScopeFilter& scope,
                                                                 int lookback);

  // A projection of the view as of a past day, memoised under `key` (what the projection covers:
  // scope, model, case types, horizon): a past day's view never changes (rows known later are
  // invisible to it), so neither does the projection, and a trend asks for the same days again
  // and again. `build` computes it from that day's view on a miss. Dropped when the centre is
  // read again whole (a catalogue or organisation change). `day` must be before today.
  using ProjectionBuilder = std::function<absl::StatusOr<v1::Projection>(const CentreView&)>;
  absl::StatusOr<std::shared_ptr<const v1::Projection>> PastProjection(
      int64_t centre_id, Day day, const std::string& key, const ProjectionBuilder& build);

  // The ids of the centres loaded so far.
  std::vector<int64_t> LoadedCentres() const;

  // Under the centre's build lock: `read` gets the loaded history (null when the centre is not
  // loaded: its first use reads everything) and returns a newer one, which becomes today's view
  // (the teams whose figures moved are published), or nullopt for no change. An error of `read`
  // is returned and the view stays as it was.
  using Reader = std::function<absl::StatusOr<std::optional<HistoryUpdate>>(
      const std::shared_ptr<const CentreHistory>& base)>;
  absl::Status Update(int64_t centre_id, const Reader& read);

  // The next update fits the models again (changes were missed; some may be back-dated).
  void WantRefit(int64_t centre_id);

 private:
  struct Dashboard {
    std::shared_ptr<const v1::TeamDashboard> message;
    std::shared_ptr<const std::string> wire;
  };
  struct Centre {
    std::mutex build_mu;      // serialises loads and rebuilds of this centre
    std::mutex dashboard_mu;  // serialises dashboard builds of the current view
    // Guarded by the cache's mu_:
    std::shared_ptr<const CentreHistory> history;
    std::shared_ptr<const CentreView> now;
    absl::Time fitted_at = absl::InfinitePast();
    bool refit_wanted = false;
    int64_t revision = 0;
    std::map<int64_t, Dashboard> dashboards;  // of `now`, by team
    std::deque<std::pair<Day, std::shared_ptr<const CentreView>>> as_of;
    std::map<std::tuple<int, int64_t, int32_t, int64_t, int>, std::shared_ptr<const BacktestAnswer>>
        accuracy;
    std::map<std::pair<Day, std::string>, std::shared_ptr<const v1::Projection>> past_projections;
    std::deque<std::pair<Day, std::string>> past_projection_order;  // oldest first
  };

  Centre& CentreFor(int64_t centre_id);
  absl::StatusOr<Dashboard> DashboardEntry(const std::shared_ptr<const CentreView>& view,
                                           int64_t team_id);
  // Makes `history` today's view; caller holds centre.build_mu.
  absl::Status BuildNowLocked(Centre& centre, std::shared_ptr<const CentreHistory> history,
                              const absl::flat_hash_set<int64_t>& changed_cases, bool all_teams);

  HistoryStore& store_;
  const Clock& clock_;
  TeamWatch& watch_;
  const CacheOptions options_;

  mutable std::mutex mu_;  // guards centres_ and the Centre fields marked so
  std::map<int64_t, std::unique_ptr<Centre>> centres_;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_CENTRE_CACHE_H_
