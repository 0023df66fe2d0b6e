// A StaffDirectory that remembers answers for a short time, so that a dashboard read under load
// does not cost a database round trip per call. Role changes, new staff and deactivations take
// effect within `ttl` (default two seconds). Unknown callers are not remembered.
#ifndef SERVICES_FORECAST_CACHED_STAFF_DIRECTORY_H_
#define SERVICES_FORECAST_CACHED_STAFF_DIRECTORY_H_

#include <mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "services/common/calendar.h"
#include "services/common/caller.h"

namespace forecast::fsvc {

class CachedStaffDirectory final : public StaffDirectory {
 public:
  // `inner` and `clock` must outlive this. Thread-safe.
  CachedStaffDirectory(StaffDirectory& inner, const Clock& clock,
                       absl::Duration ttl = absl::Seconds(2))
      : inner_(inner), clock_(clock), ttl_(ttl) {}

  absl::StatusOr<Caller> Find(absl::string_view job_centre_code,
                              absl::string_view staff_code) override;

 private:
  StaffDirectory& inner_;
  const Clock& clock_;
  const absl::Duration ttl_;
  std::mutex mu_;
  absl::flat_hash_map<std::pair<std::string, std::string>, std::pair<absl::Time, Caller>> cache_;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_CACHED_STAFF_DIRECTORY_H_
