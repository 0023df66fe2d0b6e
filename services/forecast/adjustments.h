// Forecast adjustments (issue 11 section 4): a team leader (own team) or a manager (any team of
// the job centre) sets an adjusted figure for a team's closures in a month and outcome group
// ("ALL", or an outcome code: the grouping of Projection.closures), with a reason. The figure is
// shown beside the model's; case expectations are never touched.
//
// Storage (deploy/migrations/0075, PgHistoryStore::AddAdjustment) is append-only: every edit is a
// row with who, when, the figure before, the new figure and the reason; the latest row of a
// (team, month, outcome) is in force; clearing is a row without a figure. Rows are numbered per
// (team, month, outcome) from 1; an edit names the version it replaces (`base_version`, 0 for the
// first), so a concurrent edit is ABORTED "ADJUSTMENT_CHANGED"; an idempotency key per edit
// makes a retry answer the stored row. A row counts from the UTC day it was recorded: a view as
// of a day shows the adjustments in force that day.
//
// Accuracy: the ADJUSTED series is the calibrated model's backtest (projections.h) with, for
// each compared month that had an "ALL" adjustment of the team in force when the month began
// (recorded before its first day), the adjusted figure instead of the calibrated one (its 80%
// interval moved with it); other months keep the calibrated figure. The Brier score is the
// calibrated one (an adjustment does not change any case's probabilities).
#ifndef SERVICES_FORECAST_ADJUSTMENTS_H_
#define SERVICES_FORECAST_ADJUSTMENTS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "forecast/v1/forecast_service.pb.h"
#include "services/common/caller.h"
#include "services/forecast/centre_history.h"
#include "services/forecast/centre_view.h"
#include "services/forecast/forecast_engine.h"
#include "services/forecast/history_store.h"
#include "services/forecast/projections.h"

namespace forecast::fsvc {

inline constexpr char kAllOutcomes[] = "ALL";
inline constexpr double kMaxAdjustmentFigure = 1e6;
inline constexpr int kMaxAdjustmentMonthsAhead = 24;

// The latest row of each (month, outcome) of the team known in `days`, months from `from` to
// `to`, by month then outcome (cleared rows included). Thread-safe (pure).
std::vector<const AdjustmentRecord*> CurrentAdjustments(const CentreHistory& history,
                                                        const ViewDays& days, int64_t team_id,
                                                        Month from, Month to);

// The API message of a row. Thread-safe (pure).
v1::ForecastAdjustment AdjustmentMessage(const CentreHistory& history, const AdjustmentRecord& a);

// Adds to a team's projection the adjustments in force on the view's day for its months (not
// cleared). Thread-safe (pure).
void AddAdjustments(const CentreView& view, int64_t team_id, v1::Projection& projection);

// The ADJUSTED series of a team's backtest (see the header comment) and the months it replaced.
struct AdjustedSeries {
  v1::ModelAccuracy accuracy;
  std::vector<v1::AdjustedMonth> months;
};
AdjustedSeries AdjustedAccuracy(const CentreHistory& history, int64_t team_id,
                                const BacktestAnswer& backtest);

// The two RPCs. Thread-safe (the engine and store are). Both must outlive it.
class ForecastAdjustments {
 public:
  ForecastAdjustments(ForecastEngine& engine, HistoryStore& store)
      : engine_(engine), store_(store) {}

  // Appends a row (AuthorizeAdjustmentWrite); returns it as stored and applies it to the
  // centre's view. INVALID_ARGUMENT naming the field (reason codes REQUIRED, UNKNOWN_OUTCOME,
  // OUT_OF_RANGE, MONTH_PASSED, MONTH_TOO_FAR, ...), NOT_FOUND for an unknown team,
  // PERMISSION_DENIED, ABORTED / ALREADY_EXISTS / FAILED_PRECONDITION as the store.
  absl::StatusOr<v1::ForecastAdjustment> Set(const Caller& caller,
                                             const v1::SetForecastAdjustmentRequest& request);
  // A readable team's rows as of a day (nullopt: now).
  absl::StatusOr<v1::ForecastAdjustments> List(const Caller& caller,
                                               const v1::ListForecastAdjustmentsRequest& request,
                                               std::optional<Day> as_of);

 private:
  ForecastEngine& engine_;
  HistoryStore& store_;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_ADJUSTMENTS_H_
