#include "services/forecast/refresher.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "services/common/observability/observability.h"
#include "services/common/status_macros.h"

namespace forecast::fsvc {
namespace {

// The refresher's metrics (see services/common/observability): how long committed changes take
// to reach the figures, and refresh times.
struct RefreshMetrics {
  prometheus::Histogram& change_lag;
  prometheus::Counter& changes_applied;
  prometheus::Histogram& refresh;
  prometheus::Counter& reloads;
};

RefreshMetrics& Metrics() {
  static RefreshMetrics* metrics = [] {
    prometheus::Registry& r = obs::Registry();
    // Change lag: from the writing statement (the notification's "at") to applied.
    static const prometheus::Histogram::BucketBoundaries kLag = {
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    return new RefreshMetrics{
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
        prometheus::BuildCounter()
            .Name("jobcentre_forecast_centre_reloads_total")
            .Help("Job centres read again whole (imports, catalogue changes, lost notifications)")
            .Register(r)
            .Add({}),
    };
  }();
  return *metrics;
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

void LogCentreError(const char* doing, int64_t centre_id, const absl::Status& status) {
  std::fprintf(stderr, "forecast-service: %s centre %lld: %s\n", doing,
               static_cast<long long>(centre_id), std::string(status.message()).c_str());
}

}  // namespace

Refresher::Refresher(HistoryStore& store, CentreCache& cache, absl::Duration batch_window)
    : store_(store), cache_(cache), batch_window_(batch_window) {
  thread_ = std::thread([this] { Loop(); });
}

Refresher::~Refresher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  pending_cv_.notify_all();
  thread_.join();
}

void Refresher::CaseChanged(int64_t centre_id, int64_t case_id, absl::Time written_at) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_cases_[centre_id].insert(case_id);
    if (written_at != absl::InfinitePast()) pending_written_at_[centre_id].push_back(written_at);
  }
  pending_cv_.notify_one();
}

void Refresher::CentreChanged(int64_t centre_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_centres_.insert(centre_id);
  }
  pending_cv_.notify_one();
}

void Refresher::CentreReload(int64_t centre_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_reloads_.insert(centre_id);
    pending_centres_.insert(centre_id);
  }
  pending_cv_.notify_one();
}

void Refresher::ReloadAll() {
  for (int64_t id : cache_.LoadedCentres()) {
    absl::Status reloaded = cache_.Update(id,
                                          [&](const std::shared_ptr<const CentreHistory>& base)
                                              -> absl::StatusOr<std::optional<HistoryUpdate>> {
                                            if (base == nullptr) return std::nullopt;
                                            HistoryUpdate update;
                                            ASSIGN_OR_RETURN(update.history, store_.Load(id));
                                            update.refit = update.all_teams = true;
                                            return update;
                                          });
    if (!reloaded.ok()) LogCentreError("reloading", id, reloaded);
  }
}

int64_t Refresher::CatchUp(const ChangeMark& mark, size_t reload_above) {
  int64_t queued = 0;
  for (int64_t id : cache_.LoadedCentres()) {
    absl::StatusOr<MissedCases> missed = store_.CasesChangedAfter(id, mark);
    if (!missed.ok() || missed->case_ids.size() > reload_above) {
      if (!missed.ok()) LogCentreError("catching up (reading it whole)", id, missed.status());
      CentreReload(id);
      continue;
    }
    // Back-dated changes may be among the missed ones: fit the models again with them, so that
    // the figures equal a fresh computation (as after a full read). Before the cases are queued,
    // so that the update applying them refits.
    cache_.WantRefit(id);
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_cases_[id].insert(missed->case_ids.begin(), missed->case_ids.end());
      // Targets, dialogues, catalogue and organisation carry no event id: read them again.
      pending_centres_.insert(id);
    }
    queued += static_cast<int64_t>(missed->case_ids.size());
  }
  pending_cv_.notify_one();
  return queued;
}

absl::Status Refresher::ApplyPending(int64_t centre_id, bool small_tables) {
  const absl::Time start = absl::Now();
  absl::flat_hash_set<int64_t> cases;
  std::vector<absl::Time> written_at;
  bool reload = false;
  bool applied = false;
  // The pending changes are taken under the centre's build lock, so that a RefreshNow that finds
  // none returns only after whoever took them has applied them.
  RETURN_IF_ERROR(cache_.Update(
      centre_id,
      [&](const std::shared_ptr<const CentreHistory>& base)
          -> absl::StatusOr<std::optional<HistoryUpdate>> {
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (auto it = pending_cases_.find(centre_id); it != pending_cases_.end()) {
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
        }
        if (base == nullptr) return std::nullopt;  // not loaded: the first Now() reads everything
        if (cases.empty() && !small_tables && !reload) return std::nullopt;
        const std::vector<int64_t> ids(cases.begin(), cases.end());
        absl::StatusOr<std::shared_ptr<const CentreHistory>> history =
            reload ? store_.Load(centre_id) : store_.Refresh(*base, ids, small_tables);
        // Case records hold catalogue and field indices: a changed catalogue means reading them
        // all.
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
        HistoryUpdate update;
        // Catalogue or organisation changes re-index the models: every team moves.
        update.all_teams = reload || (*history)->units.size() != base->units.size() ||
                           (*history)->staff.size() != base->staff.size();
        update.refit = reload;
        update.history = std::move(*history);
        update.cases = cases;
        applied = true;
        return update;
      }));
  if (!applied) return absl::OkStatus();
  const absl::Time done = absl::Now();
  RefreshMetrics& metrics = Metrics();
  metrics.refresh.Observe(absl::ToDoubleSeconds(done - start));
  metrics.changes_applied.Increment(static_cast<double>(cases.size()));
  if (reload) metrics.reloads.Increment();
  for (absl::Time t : written_at) metrics.change_lag.Observe(absl::ToDoubleSeconds(done - t));
  return absl::OkStatus();
}

absl::Status Refresher::RefreshNow(int64_t centre_id) {
  RETURN_IF_ERROR(cache_.Now(centre_id).status());  // loads the centre
  return ApplyPending(centre_id, /*small_tables=*/true);
}

absl::Status Refresher::RefreshCases(int64_t centre_id, const std::vector<int64_t>& case_ids) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_cases_[centre_id].insert(case_ids.begin(), case_ids.end());
  }
  return RefreshNow(centre_id);
}

absl::Status Refresher::Amend(int64_t centre_id, const std::function<void(CentreHistory&)>& edit) {
  return cache_.Update(centre_id,
                       [&](const std::shared_ptr<const CentreHistory>& base)
                           -> absl::StatusOr<std::optional<HistoryUpdate>> {
                         if (base == nullptr) return std::nullopt;
                         auto amended =
                             std::make_shared<CentreHistory>(*base);  // shares the case records
                         edit(*amended);
                         HistoryUpdate update;
                         update.history = std::move(amended);
                         return update;
                       });
}

void Refresher::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      pending_cv_.wait(
          lock, [&] { return stopping_ || !pending_cases_.empty() || !pending_centres_.empty(); });
      if (stopping_) return;
    }
    // Let a burst of notifications (one transaction may touch several cases) arrive together.
    std::this_thread::sleep_for(absl::ToChronoMicroseconds(batch_window_));
    std::vector<int64_t> ids;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, cases] : pending_cases_) ids.push_back(id);
      for (int64_t id : pending_centres_) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (int64_t id : ids) {
      absl::Status applied = ApplyPending(id);
      if (!applied.ok()) {
        LogCentreError("applying changes to", id, applied);
        // Back off a little so a database outage does not spin this thread.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  }
}

}  // namespace forecast::fsvc
