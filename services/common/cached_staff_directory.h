// A StaffDirectory that remembers answers, so that a call does not cost a database round trip
// to find its caller. An answer is kept for at most `ttl`; Drop() forgets every answer at once,
// which the services do on the staff and org-unit notices (migration 0004) and when their
// listener reconnects, so role changes, moves and deactivations apply within milliseconds.
// Unknown callers are not remembered.
#ifndef SERVICES_COMMON_CACHED_STAFF_DIRECTORY_H_
#define SERVICES_COMMON_CACHED_STAFF_DIRECTORY_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "services/common/calendar.h"
#include "services/common/caller.h"

namespace forecast {

class CachedStaffDirectory final : public StaffDirectory {
 public:
  // `inner` and `clock` must outlive this. Thread-safe.
  CachedStaffDirectory(StaffDirectory& inner, const Clock& clock,
                       absl::Duration ttl = absl::Seconds(2))
      : inner_(inner), clock_(clock), ttl_(ttl) {}

  absl::StatusOr<Caller> Find(absl::string_view job_centre_code,
                              absl::string_view staff_code) override;

  // Forgets every answer (staff or teams changed). Thread-safe.
  void Drop();

 private:
  StaffDirectory& inner_;
  const Clock& clock_;
  const absl::Duration ttl_;
  std::mutex mu_;
  uint64_t generation_ = 0;
  absl::flat_hash_map<std::pair<std::string, std::string>, std::pair<absl::Time, Caller>> cache_;
};

}  // namespace forecast

#endif  // SERVICES_COMMON_CACHED_STAFF_DIRECTORY_H_
