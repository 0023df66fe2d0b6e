// Recovery on synthetic data with known optimism: the calibrated model must beat "as planned"
// and its 80% intervals must cover 75-85% of monthly figures.
#include <cmath>
#include <cstdio>

#include "forecasting/backtest.h"
#include "forecasting/synthetic.h"
#include "gtest/gtest.h"

namespace forecasting {
namespace {

TEST(RecoveryTest, CalibratedBeatsAsPlannedAndIsCalibrated) {
  auto centre = GenerateJobCentre(DemoSpec());
  ASSERT_TRUE(centre.ok()) << centre.status();
  const MonthIndex end = MakeMonth(centre->today.year, centre->today.month);
  auto compiled = CompileJobCentre(*centre, end);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  BacktestOptions options;
  options.as_of_month = end;
  options.lookback_months = 12;
  options.horizon_months = 6;
  for (int32_t team = 0; team < compiled->catalogue.num_teams; ++team) {
    options.scopes.push_back([team](const CaseRecord& r) { return r.team == team; });
  }
  auto accuracy = Backtest(compiled->catalogue, compiled->history, options);
  ASSERT_TRUE(accuracy.ok()) << accuracy.status();
  ASSERT_EQ(accuracy->size(), 3u);
  for (const ModelAccuracy& a : *accuracy) {
    std::printf("%-11s MAE %.2f bias %+.2f coverage %.3f brier %.4f months %lld cases %lld\n",
                ModelKey(a.model), a.mean_abs_error, a.mean_error, a.interval_coverage,
                a.brier_score, static_cast<long long>(a.n_months),
                static_cast<long long>(a.n_cases));
  }
  const ModelAccuracy& planned = (*accuracy)[0];
  const ModelAccuracy& calibrated = (*accuracy)[1];
  const ModelAccuracy& baseline = (*accuracy)[2];
  ASSERT_EQ(calibrated.model, ModelKind::kCalibrated);
  // 6 teams x 12 origins x up to 6 months (fewer near the end): 342 monthly figures.
  EXPECT_EQ(calibrated.n_months, 342);
  // Caseworkers expect closures too early: "as planned" is far off; calibration repairs it.
  EXPECT_LT(calibrated.mean_abs_error, 0.6 * planned.mean_abs_error);
  EXPECT_LT(std::abs(calibrated.mean_error), 0.25 * std::abs(planned.mean_error));
  // The 80% intervals hold about 80% of the months (each team-month a figure of ~40 closures).
  EXPECT_GE(calibrated.interval_coverage, 0.75);
  EXPECT_LE(calibrated.interval_coverage, 0.85);
  // Per case, expectations carry information the baseline lacks.
  EXPECT_LT(calibrated.brier_score, 0.8 * baseline.brier_score);
  EXPECT_LT(calibrated.brier_score, planned.brier_score);
}

}  // namespace
}  // namespace forecasting
