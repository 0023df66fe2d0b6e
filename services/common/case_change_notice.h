// The notices that tell listeners what changed in PostgreSQL, and their payloads: one format,
// written by the case service (ChangeAnnouncer, after its commits) and read by the forecast
// service (ChangeListener).
//
// Channels:
//   'case_changed'      a case's history grew: {"job_centre_id", "case_id", "version", "kind",
//                       "at"}; or a centre's in bulk (an import, "kind": "BULK", no case_id);
//                       or "kind": "RESYNC" (job_centre_id 0): a writer started and changes of
//                       its predecessor may not have been announced.
//   'reference_changed' a job centre's catalogue, fields, staff or organisation changed
//                       (database triggers, migration 0085): {"job_centre_id", "table"}.
//   'forecast_changed'  the forecast service's own tables (migration 0002).
#ifndef SERVICES_COMMON_CASE_CHANGE_NOTICE_H_
#define SERVICES_COMMON_CASE_CHANGE_NOTICE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace forecast {

inline constexpr char kCaseChangedChannel[] = "case_changed";
inline constexpr char kReferenceChangedChannel[] = "reference_changed";
inline constexpr char kForecastChangedChannel[] = "forecast_changed";

// One 'case_changed' notice.
struct CaseChangeNotice {
  enum class Scope { kCase, kBulk, kResync };
  Scope scope = Scope::kCase;
  int64_t centre_id = 0;
  int64_t case_id = 0;  // kCase only
  int64_t version = 0;  // the case's version after the change (kCase only)
  std::string kind;     // the case event's kind (EXPECTATION, CLOSED, ...) for kCase
  absl::Time written_at = absl::InfinitePast();  // when the change was committed, if known

  // The payload (compact JSON, well under PostgreSQL's 8,000-byte limit). Thread-safe.
  // Returns a CASE-scope notice for one case's change, stamped now.
  static CaseChangeNotice ForCase(int64_t centre_id, int64_t case_id, int64_t version,
                                  std::string kind);

  std::string ToPayload() const;
  // The notice in `payload`, or nullopt when it is not one (malformed, or missing the centre).
  // Thread-safe.
  static std::optional<CaseChangeNotice> Parse(const std::string& payload);
};

}  // namespace forecast

#endif  // SERVICES_COMMON_CASE_CHANGE_NOTICE_H_
