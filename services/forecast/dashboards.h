// The caseworker and team dashboards and the variation table, as API messages. Plain functions
// over a CentreView; no I/O; thread-safe (the view is immutable).
#ifndef SERVICES_FORECAST_DASHBOARDS_H_
#define SERVICES_FORECAST_DASHBOARDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "forecast/v1/forecast_service.pb.h"
#include "services/forecast/centre_view.h"

namespace forecast::fsvc {

// Attention items shown on a caseworker dashboard.
inline constexpr int kDashboardAttention = 10;

// A caseworker's own caseload: counts by type, field and expected outcome, expectation and
// action health, expected closures in the next three months (as planned), ranked attention.
absl::StatusOr<v1::CaseworkerDashboard> BuildCaseworkerDashboard(const CentreView& view,
                                                                 int64_t caseworker_id);

// Each caseworker's share of expected outcomes against the team, with n, interval and flags.
absl::StatusOr<v1::Variation> BuildVariation(const CentreView& view, int64_t team_id);

// The open cases behind one caseworker's shares in the team's variation: the caseworker's open
// cases of the team with an expectation, only those expected to end in `outcome` (catalogue
// index; -1: every outcome). Exactly the cases OutcomeShare.count counts (n for -1).
v1::VariationCases BuildVariationCases(const CentreView& view, int64_t team_id,
                                       int64_t caseworker_id, int outcome);

// A row per caseworker holding open cases of the team, team totals, the variation table and
// the given accuracy figures. `computed_at` is stamped as given.
absl::StatusOr<v1::TeamDashboard> BuildTeamDashboard(const CentreView& view, int64_t team_id,
                                                     const std::vector<v1::ModelAccuracy>& accuracy,
                                                     const std::string& computed_at);

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_DASHBOARDS_H_
