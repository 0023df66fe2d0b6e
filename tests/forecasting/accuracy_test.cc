// The accuracy harness, fast variant (small centres, few origins): it is deterministic, the
// calendar and the new-case component pay off, the calibrated model beats the baseline, and the
// 80% intervals cover 75-85% at caseworker, team and centre level.
// The full harness is build/forecasting/forecast_accuracy (README, "The models").
#include <cstdio>

#include "forecasting/accuracy.h"
#include "gtest/gtest.h"

namespace forecasting {
namespace {

HarnessOptions Fast() {
  HarnessOptions options;
  options.centres = HarnessSpecs(4, /*small=*/true);
  options.origins = 4;
  options.origin_step = 3;
  options.horizon_months = 12;
  options.models = {ModelKind::kCalibrated, ModelKind::kBaseline};
  return options;
}

TEST(AccuracyHarnessTest, RejectsBadOptions) {
  HarnessOptions options = Fast();
  options.origins = 0;
  EXPECT_EQ(RunAccuracyHarness(options).status().code(), absl::StatusCode::kInvalidArgument);
  options = Fast();
  options.centres.clear();
  EXPECT_EQ(RunAccuracyHarness(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AccuracyHarnessTest, CalendarNewCasesAndCalibration) {
  const HarnessOptions options = Fast();
  auto result = RunAccuracyHarness(options);
  ASSERT_TRUE(result.ok()) << result.status();
  std::printf("%s", FormatHarness(*result).c_str());
  ASSERT_EQ(result->models.size(), 2u);
  ASSERT_EQ(result->centres.size(), 4u);
  const ModelHarnessResult& cal = result->models[0];
  const ModelHarnessResult& base = result->models[1];
  // 4 centres x 4 origins x 12 months.
  EXPECT_EQ(cal.level[kCentreLevel].n, 4 * 4 * 12);
  // Deterministic: the same options give the same figures.
  auto again = RunAccuracyHarness(options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->models[0].level[kTeamLevel].mae, cal.level[kTeamLevel].mae);

  // The calibrated model is better than the baseline at every level.
  for (int l = 0; l < kNumHarnessLevels; ++l) EXPECT_LT(cal.level[l].mae, base.level[l].mae) << l;
  // Unbiased at the centre, with and without the new cases' closures.
  EXPECT_LT(std::abs(cal.level[kCentreLevel].bias), 0.05 * cal.level[kCentreLevel].mean_actual);
  EXPECT_LT(std::abs(cal.centre_all.bias), 0.05 * cal.centre_all.mean_actual);

  // Honest intervals: the 80% intervals hold 75-85% at every level (shared shocks included).
  for (int l = 0; l < kNumHarnessLevels; ++l) {
    EXPECT_GE(cal.level[l].coverage, 0.75) << l;
    EXPECT_LE(cal.level[l].coverage, 0.85) << l;
  }
  EXPECT_GE(EvaluateGoals(*result).coverage_min, 0.75);

  // Without the calendar the seasonal centres are projected worse.
  HarnessOptions flat = options;
  flat.fit.calendar_pooling = 0;
  auto no_calendar = RunAccuracyHarness(flat);
  ASSERT_TRUE(no_calendar.ok());
  EXPECT_LT(cal.level[kCentreLevel].mae, 0.9 * no_calendar->models[0].level[kCentreLevel].mae);
  EXPECT_LT(base.level[kCentreLevel].mae, 0.9 * no_calendar->models[1].level[kCentreLevel].mae);
}

// With no closure calendar in the data or the models, each case's own chance is the whole story:
// intervals of independent cases (no month shocks) cover near 80% at team level, so the errors
// are the spread the per-case probabilities predict (README, "the models are at their own noise
// floor").
TEST(AccuracyHarnessTest, WithoutACalendarErrorsAreTheCasesOwnNoise) {
  HarnessOptions options = Fast();
  for (SyntheticSpec& spec : options.centres) spec.closure_seasonality = 0;
  options.fit.calendar_pooling = 0;
  options.fit.month_shock_scale = 0;
  options.fit.month_shock_floor = 0;
  options.caseworker_level = false;
  auto result = RunAccuracyHarness(options);
  ASSERT_TRUE(result.ok()) << result.status();
  for (const ModelHarnessResult& m : result->models) {
    EXPECT_GE(m.level[kTeamLevel].coverage, 0.76) << ModelKey(m.model);
    EXPECT_LE(m.level[kTeamLevel].coverage, 0.84) << ModelKey(m.model);
  }
  EXPECT_LT(result->models[0].level[kTeamLevel].mae, result->models[1].level[kTeamLevel].mae);
}

}  // namespace
}  // namespace forecasting
