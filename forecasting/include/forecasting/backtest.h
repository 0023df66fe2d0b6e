// Backtest: as of past months, fit with the history known then, project, and compare with what
// happened. The product shows this as each model's accuracy.
#ifndef FORECASTING_BACKTEST_H_
#define FORECASTING_BACKTEST_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "forecasting/inputs.h"
#include "forecasting/models.h"
#include "forecasting/projector.h"

namespace forecasting {

struct BacktestOptions {
  // Origins are as_of_month - lookback_months, ..., as_of_month - 1 (every `origin_step`-th); each
  // projects `horizon_months` ahead, compared only on months before as_of_month.
  MonthIndex as_of_month = 0;
  int32_t lookback_months = 12;
  int32_t origin_step = 1;
  int32_t horizon_months = 6;
  // The cases of the scope (by their history record); null: the whole centre.
  std::function<bool(const CaseRecord&)> in_scope;
  // Scopes compared separately (e.g. each team): every scope contributes its own monthly
  // figures. Empty: one scope given by in_scope.
  std::vector<std::function<bool(const CaseRecord&)>> scopes;
  std::vector<ModelKind> models = {ModelKind::kAsPlanned, ModelKind::kCalibrated,
                                   ModelKind::kBaseline};
  FitOptions fit;
};

struct ModelAccuracy {
  ModelKind model = ModelKind::kAsPlanned;
  double mean_abs_error = 0;     // monthly closures of the cases open at the origin (all outcomes)
  double mean_error = 0;         // signed: projected - actual (bias)
  double interval_coverage = 0;  // share of (scope, origin, month) figures inside [p10, p90]
  double brier_score = 0;        // per case and month: P(closed by the month end) vs closed
  int64_t n_months = 0;          // (scope, origin, month) figures compared
  int64_t n_cases = 0;           // case-origins behind the Brier score
};

// One compared figure of the backtest: a model's projected closures (all outcomes) of a scope
// for one month, made at an origin, and the closures of the cases open at the origin in it.
struct BacktestFigure {
  ModelKind model = ModelKind::kAsPlanned;
  int32_t scope = 0;  // index into options.scopes (0 with one scope)
  MonthIndex origin = 0;
  MonthIndex month = 0;
  Estimate projected;
  double actual = 0;
};

// Runs the backtest for every model in options.models. INVALID_ARGUMENT for bad options or
// input. Cost: one fit per origin plus one projection per scope and origin. `figures`, when not
// null, receives every compared figure (what the accuracy figures are computed from), by origin,
// scope, model and month. Pure; thread-safe.
absl::StatusOr<std::vector<ModelAccuracy>> Backtest(const Catalogue& catalogue,
                                                    const History& history,
                                                    const BacktestOptions& options,
                                                    std::vector<BacktestFigure>* figures = nullptr);

}  // namespace forecasting

#endif  // FORECASTING_BACKTEST_H_
