// Monthly milestones: per metric and month, the target in force, the actual figure from the
// recorded events, the projected figure, whether it is on track, and the gap.
//
// Metric kinds (deploy/migrations/0002):
//   CLOSURES           actual: closures recorded in the month (outcome group or all) on cases
//                      the scope held on the closing day. Projected: for past months the actual;
//                      for the current month the actual so far plus the calibrated model's
//                      closures in the rest of the month; for later months the model's closures.
//   FIELD_TURNED_TRUE  actual: cases whose yes/no field turned true in the month (held by the
//                      scope that day). Projected: actual so far plus the mean of the last three
//                      full months, pro rata for the rest of the month (Poisson interval).
//   FIELD_SET          actual: the scope's open cases with the field set at the month's end (or
//                      today). Projected: today's such cases still open at the month's end
//                      (calibrated model).
//   CASELOAD           actual: the scope's open cases at the month's end (or today). Projected:
//                      the calibrated caseload with inflow. Lower is better.
// On track: projected (expected) at or above the target (at or below for lower-is-better).
// Gap: how many more are needed in the month to reach the target: max(0, target - actual) for
// higher-is-better metrics, max(0, actual - target) for caseload; rounded up to whole cases.
// Months after the view's month have no actual (0).
#ifndef SERVICES_FORECAST_MILESTONES_H_
#define SERVICES_FORECAST_MILESTONES_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "forecast/v1/forecast_service.pb.h"
#include "services/forecast/centre_view.h"

namespace forecast::fsvc {

inline constexpr int kMaxMilestoneMonths = 24;

// The milestone table of a team (caseworker_id 0) or of one caseworker of the team, for the
// months from..to (inclusive; at most kMaxMilestoneMonths, INVALID_ARGUMENT otherwise).
// Thread-safe.
absl::StatusOr<v1::Milestones> BuildMilestones(const CentreView& view, int64_t team_id,
                                               int64_t caseworker_id, Month from, Month to);

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_MILESTONES_H_
