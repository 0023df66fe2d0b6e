// The refresher: changes of job centres, as notifications announce them (ChangeListener) or as a
// writer holds them, applied to the centre cache. Pending changes are kept per centre and applied
// by a thread of its own, in batches: for changed cases only their new history rows are read
// (HistoryStore::Refresh), so a committed change is in every figure within milliseconds.
// Thread-safe.
#ifndef SERVICES_FORECAST_REFRESHER_H_
#define SERVICES_FORECAST_REFRESHER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/forecast/centre_cache.h"
#include "services/forecast/history_store.h"

namespace forecast::fsvc {

class Refresher {
 public:
  // Starts the thread. `store` and `cache` must outlive the refresher. Notifications arriving
  // within `batch_window` are applied together.
  Refresher(HistoryStore& store, CentreCache& cache, absl::Duration batch_window);
  // Stops the thread (changes still pending are dropped: a restarted service reads everything).
  ~Refresher();
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  // A case of the centre changed (from a notification). `written_at` (when known) is when the
  // change was written; the time from then until it is in the figures is exported as
  // jobcentre_forecast_change_lag_seconds.
  void CaseChanged(int64_t centre_id, int64_t case_id,
                   absl::Time written_at = absl::InfinitePast());
  // Something else of the centre changed (targets, dialogues, catalogue): its small tables are
  // read again.
  void CentreChanged(int64_t centre_id);
  // Many cases of the centre changed at once (a bulk import): read it again whole.
  void CentreReload(int64_t centre_id);
  // Every loaded centre may have missed changes (e.g. the listener reconnected without a mark):
  // reads each again whole, now, on the calling thread.
  void ReloadAll();
  // Every loaded centre may have missed the changes committed after `mark` (the listener was cut
  // off, e.g. by a failover): queues the cases with case events after it (by event id, see
  // HistoryStore::CasesChangedAfter) and a re-read of the small tables; a centre with more than
  // `reload_above` such cases (an import) is read again whole. Returns the number of cases
  // queued.
  int64_t CatchUp(const ChangeMark& mark, size_t reload_above = 5000);
  // Applies pending changes of the centre (and re-reads its small tables) before returning, so
  // that a caller's own write is visible in its next answer.
  absl::Status RefreshNow(int64_t centre_id);
  // As RefreshNow, and re-reads the given cases even when their notifications have not arrived
  // yet (a writer that knows what it changed).
  absl::Status RefreshCases(int64_t centre_id, const std::vector<int64_t>& case_ids);
  // Applies a change its writer holds as stored (a target, a dialogue) to the loaded centre
  // without reading the database, so the writer's next answer shows it; a centre not loaded yet
  // reads it with everything else on first use.
  absl::Status Amend(int64_t centre_id, const std::function<void(CentreHistory&)>& edit);

 private:
  // Applies the centre's pending changes; `small_tables` also re-reads catalogue, organisation,
  // targets and dialogues (as does a pending centre change).
  absl::Status ApplyPending(int64_t centre_id, bool small_tables = false);
  void Loop();

  HistoryStore& store_;
  CentreCache& cache_;
  const absl::Duration batch_window_;

  std::mutex mu_;  // guards the pending changes and stopping_
  std::condition_variable pending_cv_;
  std::map<int64_t, absl::flat_hash_set<int64_t>> pending_cases_;
  std::map<int64_t, std::vector<absl::Time>> pending_written_at_;  // of pending_cases_, per centre
  absl::flat_hash_set<int64_t> pending_centres_;
  absl::flat_hash_set<int64_t> pending_reloads_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything above is constructed
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_REFRESHER_H_
