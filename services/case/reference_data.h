// The case service's in-memory reference data: catalogues (CatalogueCache) and callers
// (CachedStaffDirectory over the staff table), dropped when the database announces a change on
// 'reference_changed' (migrations 0004, 0085) and when the listener reconnects.
#ifndef SERVICES_CASE_REFERENCE_DATA_H_
#define SERVICES_CASE_REFERENCE_DATA_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/case/catalogue_cache.h"
#include "services/common/cached_staff_directory.h"
#include "services/common/calendar.h"
#include "services/common/caller.h"
#include "services/common/notice_listener.h"
#include "services/common/pg_pool.h"

namespace forecast {

// Thread-safe. `pool` and `clock` must outlive it.
class ReferenceData {
 public:
  // Callers are kept at most `caller_ttl` even without a notice (a safety net).
  ReferenceData(PgPool& pool, const Clock& clock, absl::Duration caller_ttl = absl::Minutes(1));

  // LISTENs on 'reference_changed' on a connection of its own. UNAVAILABLE when it cannot connect.
  // Without it nothing is dropped but by the service's own catalogue edits and the caller TTL.
  absl::Status StartListening();

  CatalogueCache& catalogues() { return catalogues_; }
  StaffDirectory& directory() { return cached_directory_; }

  // Applies one 'reference_changed' payload: catalogue_entry / case_field notices drop the
  // centre's catalogue, staff / org_unit notices drop every remembered caller.
  void OnNotice(const std::string& payload);
  // Drops everything (notices may have been missed).
  void DropAll();

 private:
  PgPool& pool_;
  PgStaffDirectory directory_;
  CachedStaffDirectory cached_directory_;
  CatalogueCache catalogues_;
  std::unique_ptr<NoticeListener> listener_;
};

}  // namespace forecast

#endif  // SERVICES_CASE_REFERENCE_DATA_H_
