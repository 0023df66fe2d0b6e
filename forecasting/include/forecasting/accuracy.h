// The accuracy harness: backtests every model on several synthetic job centres and reports the
// error of monthly closures per caseworker-, team- and centre-month, by horizon band, with bias
// and 80% interval coverage per level. Deterministic for its options (seeded centres).
#ifndef FORECASTING_ACCURACY_H_
#define FORECASTING_ACCURACY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "forecasting/models.h"
#include "forecasting/synthetic.h"

namespace forecasting {

struct HarnessOptions {
  std::vector<SyntheticSpec> centres = HarnessSpecs(10);
  // Origins: the last `origins` months (every `origin_step`-th) whose whole horizon lies before
  // the centre's "today"; each projects `horizon_months` ahead from a fit as of the origin.
  int32_t origins = 12;
  int32_t origin_step = 1;
  int32_t horizon_months = 12;
  std::vector<ModelKind> models = {ModelKind::kAsPlanned, ModelKind::kCalibrated,
                                   ModelKind::kBaseline};
  bool caseworker_level = true;  // false: skip the (many) caseworker scopes
  FitOptions fit;
};

// Errors of one model at one level (caseworker, team or centre), over every (scope, origin,
// month) figure: closures of the cases open at the origin, all outcomes.
struct LevelAccuracy {
  double mae = 0;                  // mean absolute error
  double bias = 0;                 // mean of projected - actual
  double coverage = 0;             // share of figures inside [p10, p90]
  double mae_band[3] = {0, 0, 0};  // months ahead 1-3, 4-6, 7-12 (and beyond)
  double coverage_band[3] = {0, 0, 0};
  double bias_band[3] = {0, 0, 0};
  double mean_actual = 0;  // mean actual figure (scale)
  int64_t n = 0;
};

enum HarnessLevel { kCaseworkerLevel = 0, kTeamLevel = 1, kCentreLevel = 2, kNumHarnessLevels = 3 };

struct ModelHarnessResult {
  ModelKind model = ModelKind::kAsPlanned;
  LevelAccuracy level[kNumHarnessLevels];
  // The centre's closures including those of cases opened during the horizon (the new-case
  // component from inflow and baseline added to the projection).
  LevelAccuracy centre_all;
  // Closures by outcome of the cases open at the origin, per (team, month, outcome) and
  // (centre, month, outcome): where the outcome split (the calibrated model's outcome habits)
  // shows.
  LevelAccuracy team_outcome, centre_outcome;
};

struct CentreHarnessResult {
  std::string name;  // e.g. "C03 (8 teams, seasonal)"
  int32_t teams = 0, caseworkers = 0;
  int64_t open_cases = 0;  // at "today"
  double seasonality = 0;
  std::vector<ModelHarnessResult> models;  // as HarnessOptions::models
};

struct HarnessResult {
  std::vector<ModelHarnessResult> models;  // pooled over centres, as HarnessOptions::models
  std::vector<CentreHarnessResult> centres;
};

// Runs the harness. INVALID_ARGUMENT for bad options. Pure; thread-safe (single-threaded).
absl::StatusOr<HarnessResult> RunAccuracyHarness(const HarnessOptions& options);

// The goals of issue 12, checked on a result holding the calibrated and baseline models.
struct HarnessGoals {
  double centre_reduction_mean = 0;  // mean over centres of 1 - calibrated / baseline centre MAE
  double centre_reduction_min = 0;   // the smallest over centres
  double team_reduction = 0;         // 1 - calibrated / baseline pooled team MAE
  double coverage_min = 0, coverage_max = 0;  // calibrated, over the levels
  bool met = false;  // mean >= 0.25, min >= 0.10, team >= 0.12, coverage within 0.75-0.85
};
HarnessGoals EvaluateGoals(const HarnessResult& result);

// The result as Markdown tables (pooled by level and horizon; per centre; goals). Pure.
std::string FormatHarness(const HarnessResult& result);

}  // namespace forecasting

#endif  // FORECASTING_ACCURACY_H_
