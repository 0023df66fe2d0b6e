// Trends: how a scope's projected closures evolved, from the projections of the views as of
// earlier days, and what was projected for past months against what closed. Plain functions over
// views; no I/O. Thread-safe (views are immutable).
//
// Why as-of views and not nightly snapshots: a view as of a day uses only rows known by that
// day, so it equals what the service showed on that day (AsOfAnswerEqualsTheAnswerGivenOnThatDay)
// and a trend needs no table, no job and no back-fill for days before the feature existed. Each
// past day's projection never changes, so it is computed once and memoised
// (CentreCache::PastProjection); see the README for the cost.
#ifndef SERVICES_FORECAST_TRENDS_H_
#define SERVICES_FORECAST_TRENDS_H_

#include <cstdint>
#include <vector>

#include "forecast/v1/forecast_service.pb.h"
#include "services/forecast/centre_view.h"

namespace forecast::fsvc {

inline constexpr int kDefaultTrendPoints = 6;
inline constexpr int kMaxTrendPoints = 12;
inline constexpr int kDefaultTrendHorizon = 3;
inline constexpr int kMaxTrendHorizon = 12;

// The earlier days a trend looks at, oldest first (as_of itself not included): the last day of
// each of the `points` months before as_of's month (MONTH_END; UNSPECIFIED too), or as_of - 7k
// for k = points..1 (WEEK).
std::vector<Day> TrendDays(Day as_of, v1::TrendStep step, int points);

// What ClosuresIn counts: the closures of `month` as `seen` sees them (the view's own days, or
// an earlier day's: the view's history holds every row, so an earlier day's figure needs no view
// of its own).
struct ClosureCount {
  Month month;
  ViewDays seen;
};

// For each count, the closures in its month as it sees them of cases of the types in
// `type_mask` (bit t: case type t) that were in the scope on the day they closed; one pass over
// the view's cases for all of them. A case closed, reopened and closed again in the month counts
// twice, as the milestones' actual closures do.
std::vector<int64_t> ClosuresIn(const CentreView& view, const ScopeFilter& scope,
                                uint64_t type_mask, const std::vector<ClosureCount>& counts);

// One trend point from the projection as of its day: the "ALL" closures of each month from the
// day's month to `last`, and for the day's own month the closures it had seen so far
// (`closed_so_far`, from ClosuresIn on the same view).
v1::TrendPoint TrendPointOf(const v1::Projection& projection, Month last, int64_t closed_so_far);

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_TRENDS_H_
