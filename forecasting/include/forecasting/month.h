// Months as plain integers, so the library needs no calendar and no clock.
#ifndef FORECASTING_MONTH_H_
#define FORECASTING_MONTH_H_

#include <cstdint>
#include <string>

namespace forecasting {

// A calendar month as year * 12 + (month - 1): 2026-11 is 2026 * 12 + 10. Consecutive months are
// consecutive integers, so "three months later" is `m + 3`.
using MonthIndex = int32_t;

// The month index of `year`-`month` (month 1..12). Pure; thread-safe.
constexpr MonthIndex MakeMonth(int year, int month) { return year * 12 + (month - 1); }

// The calendar year of a month index. Pure; thread-safe.
constexpr int YearOf(MonthIndex m) { return m >= 0 ? m / 12 : -((-m + 11) / 12); }

// The calendar month (1..12) of a month index. Pure; thread-safe.
constexpr int MonthOfYear(MonthIndex m) { return m - YearOf(m) * 12 + 1; }

// "YYYY-MM", for reasons and logs. Pure; thread-safe.
std::string FormatMonth(MonthIndex m);

}  // namespace forecasting

#endif  // FORECASTING_MONTH_H_
