// Calendar values as the API spells them: days "YYYY-MM-DD" and months "YYYY-MM", and the
// clock every piece of logic asks for "now" (never the wall clock directly, so tests are fixed).
#ifndef SERVICES_COMMON_CALENDAR_H_
#define SERVICES_COMMON_CALENDAR_H_

#include <mutex>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace forecast {

// Parses a strict "YYYY-MM-DD" (zero-padded, a real calendar day, years 1900..2199).
// Errors are INVALID_ARGUMENT naming `field`. Thread-safe (pure).
absl::StatusOr<absl::CivilDay> ParseDay(absl::string_view text, absl::string_view field);

// Parses a strict "YYYY-MM" (years 1900..2199). Errors name `field`. Thread-safe (pure).
absl::StatusOr<absl::CivilMonth> ParseMonth(absl::string_view text, absl::string_view field);

// "YYYY-MM-DD" and "YYYY-MM". Thread-safe (pure).
std::string FormatDay(absl::CivilDay day);
std::string FormatMonth(absl::CivilMonth month);
// The month's first day as "YYYY-MM-01" (how the database stores a month). Thread-safe (pure).
std::string FirstOfMonth(absl::CivilMonth month);

// Whole months from `from` to `to` (negative when `to` is earlier). Thread-safe (pure).
long MonthsBetween(absl::CivilMonth from, absl::CivilMonth to);

// RFC 3339 in UTC with seconds, e.g. "2026-11-22T10:58:11Z". Thread-safe (pure).
std::string FormatTimestamp(absl::Time time);

// Where "now" comes from. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // The current instant.
  virtual absl::Time Now() const = 0;
  // Today's date in UTC (job centres are all in one time zone; UTC keeps storage simple).
  absl::CivilDay Today() const { return absl::ToCivilDay(Now(), absl::UTCTimeZone()); }
};

// The machine's clock.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// A clock that says what it is told; for tests. Thread-safe.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(absl::Time now) : now_(now) {}
  // Noon UTC on `day`.
  explicit FixedClock(absl::CivilDay day)
      : now_(absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), 12, 0, 0),
                             absl::UTCTimeZone())) {}
  absl::Time Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void Set(absl::Time now) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = now;
  }

 private:
  mutable std::mutex mu_;
  absl::Time now_;
};

}  // namespace forecast

#endif  // SERVICES_COMMON_CALENDAR_H_
