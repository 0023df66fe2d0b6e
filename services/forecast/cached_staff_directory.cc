#include "services/forecast/cached_staff_directory.h"

namespace forecast::fsvc {

absl::StatusOr<Caller> CachedStaffDirectory::Find(absl::string_view job_centre_code,
                                                  absl::string_view staff_code) {
  auto key = std::make_pair(std::string(job_centre_code), std::string(staff_code));
  const absl::Time now = clock_.Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && now - it->second.first < ttl_) return it->second.second;
  }
  absl::StatusOr<Caller> caller = inner_.Find(job_centre_code, staff_code);
  if (!caller.ok()) return caller;
  std::lock_guard<std::mutex> lock(mu_);
  cache_[std::move(key)] = {now, *caller};
  return caller;
}

}  // namespace forecast::fsvc
