// The forecast service's engine: the parts that keep every job centre's figures in memory and
// current, built and wired together. Each part does one thing:
//   CentreCache (centre_cache.h)  the views of today and past days, dashboards and backtests;
//   Refresher   (refresher.h)     the thread that applies changes (notifications, writes);
//   TeamWatch   (team_watch.h)    teams' revisions, and waiting for the next one.
// The change listener feeds the refresher; ForecastKeeper reads the cache and waits on the watch.
#ifndef SERVICES_FORECAST_FORECAST_ENGINE_H_
#define SERVICES_FORECAST_FORECAST_ENGINE_H_

#include "absl/time/time.h"
#include "services/common/calendar.h"
#include "services/forecast/centre_cache.h"
#include "services/forecast/history_store.h"
#include "services/forecast/refresher.h"
#include "services/forecast/team_watch.h"

namespace forecast::fsvc {

struct EngineOptions {
  CacheOptions cache;
  // Notifications arriving within this window are applied together.
  absl::Duration batch_window = absl::Milliseconds(2);
};

// Thread-safe (every part is).
class ForecastEngine {
 public:
  // Starts the refresher thread. `store` and `clock` must outlive the engine.
  ForecastEngine(HistoryStore& store, const Clock& clock, EngineOptions options = {})
      : clock_(clock),
        cache_(store, clock, watch_, options.cache),
        refresher_(store, cache_, options.batch_window) {}
  // Wakes every watcher, then stops the refresher thread.
  ~ForecastEngine() { watch_.Stop(); }
  ForecastEngine(const ForecastEngine&) = delete;
  ForecastEngine& operator=(const ForecastEngine&) = delete;

  CentreCache& cache() { return cache_; }
  Refresher& refresher() { return refresher_; }
  TeamWatch& watch() { return watch_; }
  const Clock& clock() const { return clock_; }

 private:
  const Clock& clock_;
  // In this order: each part uses the ones above it, and stops before them.
  TeamWatch watch_;
  CentreCache cache_;
  Refresher refresher_;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_FORECAST_ENGINE_H_
