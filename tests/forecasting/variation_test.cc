// Variation between caseworkers: shares with intervals, flags only where significant given n.
#include "forecasting/variation.h"

#include <cmath>

#include "forecasting/synthetic.h"
#include "gtest/gtest.h"
#include "test_portfolios.h"

namespace forecasting {
namespace {

using testing::Expect;
using testing::Open;
using testing::SmallCatalogue;

constexpr MonthIndex kAsOf = MakeMonth(2026, 11);

TEST(VariationTest, WilsonAndFisherKnownValues) {
  double low, high;
  // 8 of 20 at 95%: Wilson (0.2188, 0.6134).
  WilsonInterval(8, 20, 0.95, &low, &high);
  EXPECT_NEAR(low, 0.2188, 1e-3);
  EXPECT_NEAR(high, 0.6134, 1e-3);
  WilsonInterval(0, 10, 0.8, &low, &high);
  EXPECT_EQ(low, 0.0);
  EXPECT_GT(high, 0.1);
  // Fisher: [[3, 1], [1, 3]] two-sided p = 0.4857; [[10, 0], [0, 10]] p = 1.08e-5.
  EXPECT_NEAR(FisherExactTwoSided(3, 1, 1, 3), 0.485714, 1e-5);
  EXPECT_NEAR(FisherExactTwoSided(10, 0, 0, 10), 1.0825e-5, 1e-8);
  EXPECT_NEAR(FisherExactTwoSided(5, 5, 5, 5), 1.0, 1e-12);
}

TEST(VariationTest, FlagsOnlySignificantDifferencesWithEnoughCases) {
  Catalogue c = SmallCatalogue();
  c.caseworker_team = {0, 0, 0, 0, 0, 0};
  Portfolio p;
  p.as_of_month = kAsOf;
  int64_t id = 0;
  auto add = [&](CaseworkerIndex w, OutcomeIndex o, int n) {
    for (int i = 0; i < n; ++i) {
      p.cases.push_back(Open(id++, 1, w, kAsOf - 2));
      p.cases.back().expectation = Expect(o, kAsOf + 2, 1, kAsOf - 1);
    }
  };
  add(0, 1, 18);  // caseworker 0: 18 of 30 to FLEX_JOB
  add(0, 0, 12);
  for (CaseworkerIndex w = 1; w <= 4; ++w) {  // caseworkers 1-4: 6 of 30 each
    add(w, 1, 6);
    add(w, 0, 24);
  }
  add(5, 1, 3);  // caseworker 5: 3 of 4, but only 4 cases
  add(5, 0, 1);
  p.cases.push_back(Open(id++, 1, 2, kAsOf - 1));  // no expectation: not counted
  std::vector<int32_t> all(p.cases.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int32_t>(i);
  auto v = CompareCaseworkers(p, all, c, CalibrationModel{});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->n, 154);
  auto share = [&](CaseworkerIndex w, OutcomeIndex o) {
    for (const auto& s : v->shares) {
      if (s.caseworker == w && s.outcome == o) return s;
    }
    ADD_FAILURE() << "no share for " << w << " " << o;
    return OutcomeShare{};
  };
  const OutcomeShare a = share(0, 1);
  EXPECT_EQ(a.n, 30);
  EXPECT_EQ(a.count, 18);
  EXPECT_NEAR(a.share, 0.6, 1e-12);
  EXPECT_NEAR(a.team_share, 45.0 / 154.0, 1e-12);
  EXPECT_LT(a.low, a.share);
  EXPECT_GT(a.high, a.share);
  EXPECT_TRUE(a.flagged);
  EXPECT_LT(a.p_value, 0.01);
  for (CaseworkerIndex w = 1; w <= 4; ++w) EXPECT_FALSE(share(w, 1).flagged) << w;
  const OutcomeShare small = share(5, 1);
  EXPECT_TRUE(small.small_sample);
  EXPECT_FALSE(small.flagged);
  EXPECT_EQ(v->calibration.size(), 6u);
  EXPECT_FALSE(CompareCaseworkers(p, std::vector<int32_t>{999}, c, CalibrationModel{}).ok());
}

TEST(VariationTest, StratifiedExactTestIsFisherForOneStratumAndAddsStrata) {
  EXPECT_NEAR(StratifiedExactTwoSided({{3, 1, 1, 3}}), FisherExactTwoSided(3, 1, 1, 3), 1e-12);
  EXPECT_NEAR(StratifiedExactTwoSided({{10, 0, 0, 10}}), 1.0825e-5, 1e-8);
  // Two strata each without association: nothing to see.
  EXPECT_NEAR(StratifiedExactTwoSided({{6, 2, 3, 1}, {0, 4, 0, 8}}), 1.0, 1e-9);
  // Empty strata change nothing.
  EXPECT_NEAR(StratifiedExactTwoSided({{3, 1, 1, 3}, {0, 0, 0, 0}}), 0.485714, 1e-5);
}

TEST(VariationTest, CaseMixAloneIsNotFlagged) {
  Catalogue c = SmallCatalogue();
  c.caseworker_team = {0, 0, 0, 0, 0, 0};
  Portfolio p;
  p.as_of_month = kAsOf;
  int64_t id = 0;
  auto add = [&](CaseworkerIndex w, CaseTypeIndex type, OutcomeIndex o, int n) {
    for (int i = 0; i < n; ++i) {
      p.cases.push_back(Open(id++, type, w, kAsOf - 2));
      p.cases.back().expectation = Expect(o, kAsOf + 2, 1, kAsOf - 1);
    }
  };
  // Type 0: three in four to outcome 1 for both caseworkers; type 1: never. Caseworker 0 holds
  // mostly type 0, caseworker 1 mostly type 1.
  add(0, 0, 1, 15);
  add(0, 0, 0, 5);
  add(0, 1, 0, 5);
  add(1, 0, 1, 3);
  add(1, 0, 0, 1);
  add(1, 1, 0, 21);
  std::vector<int32_t> all(p.cases.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int32_t>(i);
  auto v = CompareCaseworkers(p, all, c, CalibrationModel{});
  ASSERT_TRUE(v.ok()) << v.status();
  for (const auto& s : v->shares) {
    if (s.outcome != 1) continue;
    EXPECT_TRUE(s.flagged_without_case_type) << s.caseworker;
    EXPECT_FALSE(s.flagged) << s.caseworker;
    EXPECT_NEAR(s.p_value, 1.0, 1e-9);
    // The mix explains the share exactly: 20 type-0 cases x 18/24 = 15 of 25.
    if (s.caseworker == 0) {
      EXPECT_NEAR(s.share, 0.6, 1e-12);
      EXPECT_NEAR(s.expected_share, 20 * 0.75 / 25, 1e-12);
    }
  }
}

TEST(VariationTest, SyntheticFlexHabitsAndOptimismAreFound) {
  auto centre = GenerateJobCentre(DemoSpec());
  ASSERT_TRUE(centre.ok());
  const MonthIndex end = MakeMonth(centre->today.year, centre->today.month);
  auto compiled = CompileJobCentre(*centre, end);
  ASSERT_TRUE(compiled.ok());
  auto calibration = CalibrationModel::Fit(compiled->catalogue, compiled->history, end);
  ASSERT_TRUE(calibration.ok());
  // The recovered slip follows the caseworkers' true optimism.
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  const double n = static_cast<double>(centre->caseworkers.size());
  for (size_t w = 0; w < centre->caseworkers.size(); ++w) {
    const double x = centre->caseworkers[w].optimism_months;
    const double y = calibration->MeanSlip(static_cast<int32_t>(w));
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
  }
  const double correlation =
      (sxy - sx * sy / n) / std::sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
  EXPECT_GT(correlation, 0.7);
  // Flagged high FLEX_JOB shares belong mostly to caseworkers with the habit.
  int flagged_high = 0, flagged_with_habit = 0;
  for (int32_t team = 0; team < compiled->catalogue.num_teams; ++team) {
    std::vector<int32_t> scope;
    for (size_t i = 0; i < compiled->portfolio.cases.size(); ++i) {
      if (compiled->portfolio.cases[i].team == team) scope.push_back(static_cast<int32_t>(i));
    }
    auto v = CompareCaseworkers(compiled->portfolio, scope, compiled->catalogue, *calibration);
    ASSERT_TRUE(v.ok());
    for (const auto& s : v->shares) {
      if (s.outcome != 2 || !s.flagged || s.share <= s.team_share) continue;
      ++flagged_high;
      flagged_with_habit += centre->caseworkers[s.caseworker].habit_outcome == "FLEX_JOB";
    }
  }
  EXPECT_GE(flagged_high, 2);
  EXPECT_GE(flagged_with_habit, flagged_high - 1);
}

}  // namespace
}  // namespace forecasting
