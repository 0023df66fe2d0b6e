// Projections of a scope's caseload (closures by month and outcome, open caseload, intervals),
// team comparisons, per-case explanations and backtested accuracy, as API messages. Plain
// functions over a CentreView; no I/O. Thread-safe (the view is immutable).
#ifndef SERVICES_FORECAST_PROJECTIONS_H_
#define SERVICES_FORECAST_PROJECTIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "forecast/v1/forecast_service.pb.h"
#include "forecasting/backtest.h"
#include "services/forecast/centre_view.h"

namespace forecast::fsvc {

inline constexpr int kDefaultHorizon = 12;
inline constexpr int kMaxHorizon = 24;

// The library's model for an API model; UNSPECIFIED means CALIBRATED. INVALID_ARGUMENT naming
// `field` for an unknown value. Thread-safe.
absl::StatusOr<forecasting::ModelKind> ToModelKind(v1::Model model, const char* field);

// The horizon in months: 0 means kDefaultHorizon; INVALID_ARGUMENT outside 1..kMaxHorizon.
absl::StatusOr<int> RequestedHorizon(int horizon, const char* field);

// How a projection is computed, in plain words, for `n` cases. Thread-safe.
v1::Explanation ExplainMethod(forecasting::ModelKind model, int64_t n,
                              const forecasting::FittedModels& models);

// The bit set of case types named by code (bit t: catalogue index t); empty: every type. An
// unknown code is INVALID_ARGUMENT naming case_types[i] (reason UNKNOWN_CASE_TYPE). Thread-safe.
absl::StatusOr<uint64_t> CaseTypeMask(const Catalogue& catalogue,
                                      const std::vector<std::string>& case_types);

// Projects the open cases of `scope` with the scope's own inflow. `accuracy` may be null.
// `case_types` (codes; empty: every type) restricts the cases and the inflow to those types;
// an unknown code is INVALID_ARGUMENT naming case_types[i]. `categories`: also the totals by the
// end of the 3rd and 12th month split by forecast category (about a third more work).
absl::StatusOr<v1::Projection> BuildProjection(const CentreView& view, const ScopeFilter& scope,
                                               const v1::Scope& scope_message,
                                               forecasting::ModelKind model, int horizon,
                                               const v1::ModelAccuracy* accuracy,
                                               const std::vector<std::string>& case_types = {},
                                               bool categories = true);

// One summary per team (of a department, or every team when department_id is 0).
absl::StatusOr<v1::TeamComparison> BuildTeamComparison(const CentreView& view,
                                                       int64_t department_id,
                                                       forecasting::ModelKind model, int horizon);

// A case's outcome-by-month probabilities and reasons. NOT_FOUND when the case is not open in
// the view (closed cases have nothing left to project).
absl::StatusOr<v1::CaseExplanation> BuildCaseExplanation(const CentreView& view, int64_t case_id,
                                                         forecasting::ModelKind model, int horizon);

// What a backtest found: every model's accuracy, and the calibrated model's compared figures
// (from which the ADJUSTED series is computed, adjustments.h).
struct BacktestAnswer {
  std::vector<v1::ModelAccuracy> models;
  std::vector<forecasting::BacktestFigure> calibrated;
};

// Backtest of every model for a scope: as of each of the `lookback` months before the view's
// month, fitted with what was known then, compared with what happened. Slow (one fit per
// origin); callers cache the answer (CentreCache::Backtest).
absl::StatusOr<BacktestAnswer> RunBacktest(const CentreView& view, const ScopeFilter& scope,
                                           int lookback);

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_PROJECTIONS_H_
