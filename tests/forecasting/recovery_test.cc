// Recovery on synthetic data with known optimism: the calibrated model must beat "as planned"
// and its 80% intervals must cover 75-85% of monthly figures.
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
  for (const ModelAccuracy& a : *accuracy) {
    std::printf("%-11s MAE %.2f bias %+.2f coverage %.3f brier %.4f months %lld cases %lld\n",
                ModelKey(a.model), a.mean_abs_error, a.mean_error, a.interval_coverage, a.brier_score,
                static_cast<long long>(a.n_months), static_cast<long long>(a.n_cases));
  }
}

}  // namespace
}  // namespace forecasting
