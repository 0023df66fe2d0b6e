// The team watch: per job centre and team, the revision at which the team's figures last changed,
// and waiting for the next change. WatchTeamDashboard streams wait here; the centre cache
// publishes a revision when a new view moves a team's figures. Thread-safe.
#ifndef SERVICES_FORECAST_TEAM_WATCH_H_
#define SERVICES_FORECAST_TEAM_WATCH_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"

namespace forecast::fsvc {

class TeamWatch {
 public:
  // The revision at which the team's figures last changed; 0 before the first change seen.
  int64_t Revision(int64_t centre_id, int64_t team_id) const;

  // The teams' figures changed at `revision` (a centre revision, rising): wakes their watchers.
  void Publish(int64_t centre_id, const std::vector<int64_t>& team_ids, int64_t revision);

  // Blocks until the team's revision passes `seen_revision`, `timeout` passes or Stop() is
  // called; returns the team's revision.
  int64_t WaitForChange(int64_t centre_id, int64_t team_id, int64_t seen_revision,
                        absl::Duration timeout);

  // Wakes every waiter now and later (the service is stopping).
  void Stop();

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  absl::flat_hash_map<std::pair<int64_t, int64_t>, int64_t> revision_;  // (centre, team)
  bool stopping_ = false;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_TEAM_WATCH_H_
