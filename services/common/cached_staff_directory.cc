#include "services/common/cached_staff_directory.h"

namespace forecast {

absl::StatusOr<Caller> CachedStaffDirectory::Find(absl::string_view job_centre_code,
                                                  absl::string_view staff_code) {
  auto key = std::make_pair(std::string(job_centre_code), std::string(staff_code));
  const absl::Time now = clock_.Now();
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && now - it->second.first < ttl_) return it->second.second;
    generation = generation_;
  }
  absl::StatusOr<Caller> caller = inner_.Find(job_centre_code, staff_code);
  if (!caller.ok()) return caller;
  std::lock_guard<std::mutex> lock(mu_);
  // A Drop() while reading may concern this very row: answer it, but do not keep it.
  if (generation == generation_) cache_[std::move(key)] = {now, *caller};
  return caller;
}

void CachedStaffDirectory::Drop() {
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_;
  cache_.clear();
}

}  // namespace forecast
