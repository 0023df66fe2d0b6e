// Backtest mechanics: options are checked, figures are counted per scope, origin and month.
#include "forecasting/backtest.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "test_portfolios.h"

namespace forecasting {
namespace {

using testing::Expect;
using testing::SmallCatalogue;

constexpr MonthIndex kStart = MakeMonth(2024, 1);

// Cases that close exactly when expected, three months after opening.
History PunctualHistory() {
  History h;
  for (int i = 0; i < 240; ++i) {
    CaseRecord r;
    r.case_id = i;
    r.case_type = i % 2;
    r.caseworker = i % 3;
    r.opened_month = kStart + i / 10;
    r.closed_month = r.opened_month + 3;
    r.outcome = 0;
    r.expectations.push_back(Expect(0, *r.closed_month, 0, r.opened_month, i % 3));
    h.cases.push_back(r);
  }
  h.observed_from = kStart;
  return h;
}

TEST(BacktestTest, RejectsBadOptions) {
  BacktestOptions options;
  options.as_of_month = kStart + 20;
  options.lookback_months = 0;
  auto a = Backtest(SmallCatalogue(), PunctualHistory(), options);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(a.status().message().find("lookback_months"), std::string::npos);
  options.lookback_months = 6;
  options.horizon_months = 0;
  EXPECT_FALSE(Backtest(SmallCatalogue(), PunctualHistory(), options).ok());
  options.horizon_months = 3;
  options.models.clear();
  EXPECT_FALSE(Backtest(SmallCatalogue(), PunctualHistory(), options).ok());
}

TEST(BacktestTest, CountsFiguresAndRewardsPunctualExpectations) {
  BacktestOptions options;
  options.as_of_month = kStart + 20;
  options.lookback_months = 6;
  options.horizon_months = 3;
  options.scopes.push_back([](const CaseRecord& r) { return r.case_type == 0; });
  options.scopes.push_back([](const CaseRecord& r) { return r.case_type == 1; });
  auto accuracy = Backtest(SmallCatalogue(), PunctualHistory(), options);
  ASSERT_TRUE(accuracy.ok()) << accuracy.status();
  ASSERT_EQ(accuracy->size(), 3u);
  // 6 origins; horizons 3,3,3,3,2,1 months; 2 scopes.
  for (const ModelAccuracy& a : *accuracy) EXPECT_EQ(a.n_months, 2 * (3 * 4 + 2 + 1));
  const ModelAccuracy& calibrated = (*accuracy)[1];
  const ModelAccuracy& baseline = (*accuracy)[2];
  // Every expectation comes true: calibration learns that and beats the duration baseline.
  EXPECT_LT(calibrated.brier_score, 0.05);
  EXPECT_LE(calibrated.brier_score, baseline.brier_score);
  EXPECT_LT(calibrated.mean_abs_error, 1.0);
}

// The compared figures handed out are exactly those the accuracy is computed from (the service's
// ADJUSTED series replaces some of them with a team's adjustment).
TEST(BacktestTest, HandsOutEveryComparedFigure) {
  BacktestOptions options;
  options.as_of_month = kStart + 20;
  options.lookback_months = 6;
  options.horizon_months = 3;
  std::vector<BacktestFigure> figures;
  auto accuracy = Backtest(SmallCatalogue(), PunctualHistory(), options, &figures);
  ASSERT_TRUE(accuracy.ok()) << accuracy.status();
  for (const ModelAccuracy& a : *accuracy) {
    double abs_error = 0;
    int64_t n = 0;
    for (const BacktestFigure& f : figures) {
      if (f.model != a.model) continue;
      EXPECT_GE(f.month, f.origin);
      EXPECT_LT(f.month, f.origin + 3);
      EXPECT_LT(f.month, options.as_of_month);
      abs_error += std::abs(f.projected.expected - f.actual);
      ++n;
    }
    EXPECT_EQ(n, a.n_months);
    EXPECT_NEAR(abs_error / n, a.mean_abs_error, 1e-12);
  }
}

}  // namespace
}  // namespace forecasting
