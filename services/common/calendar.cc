#include "services/common/calendar.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "absl/strings/str_format.h"

namespace forecast {
namespace {

// Reads `n` digits at `pos`; -1 when any is not a digit.
int Digits(absl::string_view text, size_t pos, size_t n) {
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

absl::Status Bad(absl::string_view field, absl::string_view text, absl::string_view want,
                 absl::string_view reason) {
  return FieldError(field, reason,
                    absl::StrCat("\"", text.substr(0, 40), "\" is not a valid ", want),
                    {{"value", std::string(text.substr(0, 40))}});
}

}  // namespace

absl::StatusOr<absl::CivilDay> ParseDay(absl::string_view text, absl::string_view field) {
  if (text.empty()) return FieldError(field, "DATE_REQUIRED", "a date (YYYY-MM-DD) is required");
  if (text.size() != 10 || text[4] != '-' || text[7] != '-')
    return Bad(field, text, "date (YYYY-MM-DD)", "NOT_A_DATE");
  const int y = Digits(text, 0, 4), m = Digits(text, 5, 2), d = Digits(text, 8, 2);
  if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1)
    return Bad(field, text, "date (YYYY-MM-DD)", "NOT_A_DATE");
  const absl::CivilDay day(y, m, d);
  // CivilDay normalises 2025-02-30 to 2025-03-02; a real day survives the round trip.
  if (day.month() != m || day.day() != d) return Bad(field, text, "calendar day", "NOT_A_DATE");
  return day;
}

absl::StatusOr<absl::CivilMonth> ParseMonth(absl::string_view text, absl::string_view field) {
  if (text.empty()) return FieldError(field, "MONTH_REQUIRED", "a month (YYYY-MM) is required");
  if (text.size() != 7 || text[4] != '-') return Bad(field, text, "month (YYYY-MM)", "NOT_A_MONTH");
  const int y = Digits(text, 0, 4), m = Digits(text, 5, 2);
  if (y < 1900 || y > 2199 || m < 1 || m > 12)
    return Bad(field, text, "month (YYYY-MM)", "NOT_A_MONTH");
  return absl::CivilMonth(y, m);
}

std::string FormatDay(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

std::string FirstOfMonth(absl::CivilMonth month) { return FormatDay(absl::CivilDay(month)); }

std::string FormatMonth(absl::CivilMonth month) {
  return absl::StrFormat("%04d-%02d", month.year(), month.month());
}

long MonthsBetween(absl::CivilMonth from, absl::CivilMonth to) {
  return static_cast<long>(to - from);
}

std::string FormatTimestamp(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

}  // namespace forecast
