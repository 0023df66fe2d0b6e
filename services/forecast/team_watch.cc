#include "services/forecast/team_watch.h"

namespace forecast::fsvc {

int64_t TeamWatch::Revision(int64_t centre_id, int64_t team_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = revision_.find({centre_id, team_id});
  return it == revision_.end() ? 0 : it->second;
}

void TeamWatch::Publish(int64_t centre_id, const std::vector<int64_t>& team_ids, int64_t revision) {
  if (team_ids.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int64_t team : team_ids) revision_[{centre_id, team}] = revision;
  }
  changed_.notify_all();
}

int64_t TeamWatch::WaitForChange(int64_t centre_id, int64_t team_id, int64_t seen_revision,
                                 absl::Duration timeout) {
  const std::pair<int64_t, int64_t> key(centre_id, team_id);
  std::unique_lock<std::mutex> lock(mu_);
  auto revision = [&] {
    auto it = revision_.find(key);
    return it == revision_.end() ? int64_t{0} : it->second;
  };
  changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                    [&] { return stopping_ || revision() > seen_revision; });
  return revision();
}

void TeamWatch::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
}

}  // namespace forecast::fsvc
