// Projections: known answers on a hand-made portfolio, properties, and the fast paths checked
// against per-case distributions with the exact Poisson-binomial.
#include "forecasting/projector.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "forecasting/count_distribution.h"
#include "forecasting/synthetic.h"
#include "gtest/gtest.h"
#include "test_portfolios.h"

namespace forecasting {
namespace {

using testing::Expect;
using testing::Open;
using testing::SmallCatalogue;

constexpr MonthIndex kAsOf = MakeMonth(2026, 11);

// Models fitted on an empty history: baseline hazard 0.1 a month, outcome mix 1/3 each.
FittedModels EmptyModels() {
  auto m = FittedModels::Fit(SmallCatalogue(), History{}, kAsOf);
  EXPECT_TRUE(m.ok()) << m.status();
  return *std::move(m);
}

// Three cases: LOW risk to ORDINARY_JOB next month, MEDIUM to FLEX_JOB next month, HIGH to
// FLEX_JOB two months ago (a passed horizon).
Portfolio ThreeCases() {
  Portfolio p;
  p.as_of_month = kAsOf;
  p.cases.push_back(Open(100, 0, 0, kAsOf - 3));
  p.cases.back().expectation = Expect(0, kAsOf + 1, 0, kAsOf - 1);
  p.cases.push_back(Open(101, 0, 1, kAsOf - 3));
  p.cases.back().expectation = Expect(1, kAsOf + 1, 1, kAsOf - 1);
  p.cases.push_back(Open(102, 1, 1, kAsOf - 8));
  p.cases.back().expectation = Expect(1, kAsOf - 2, 2, kAsOf - 4);
  return p;
}

TEST(ProjectorTest, AsPlannedKnownAnswer) {
  const FittedModels models = EmptyModels();
  ASSERT_NEAR(models.baseline.TypeHazard(0), 0.1, 1e-12);
  const Portfolio portfolio = ThreeCases();
  auto projector = Projector::Create(portfolio, models);
  ASSERT_TRUE(projector.ok()) << projector.status();
  ProjectionRequest request;
  request.horizon_months = 6;
  request.honest_intervals = false;  // cases independent: the exact Poisson-binomial
  auto p = projector->ProjectAll(request);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->open_cases, 3);
  EXPECT_EQ(p->passed_horizon, 1);
  // Month 0: only the passed case, at its risk's probability (0.25): overdue, so due now.
  EXPECT_NEAR(p->Closures(0, 3).expected, 0.25, 1e-12);
  EXPECT_NEAR(p->Closures(0, 1).expected, 0.25, 1e-12);
  EXPECT_EQ(p->Closures(0, 3).p10, 0);
  EXPECT_EQ(p->Closures(0, 3).p90, 1);  // P(0) = .75 < .9
  // Month 1: 0.8 + 0.5 + 0.75 * 0.1 = 1.375; pmf .0925, .47, .4075, .03.
  EXPECT_NEAR(p->Closures(1, 3).expected, 1.375, 1e-12);
  EXPECT_EQ(p->Closures(1, 3).p10, 1);  // cdf(0) = .0925 < .1
  EXPECT_EQ(p->Closures(1, 3).p90, 2);  // cdf(1) = .5625, cdf(2) = .97
  // Month 1 to FLEX_JOB: 0.5 + 0.075 / 3; P(0) = .4875, cdf(1) = .9875.
  EXPECT_NEAR(p->Closures(1, 1).expected, 0.5 + 0.075 / 3, 1e-12);
  EXPECT_EQ(p->Closures(1, 1).p10, 0);
  EXPECT_EQ(p->Closures(1, 1).p90, 1);
  // Month 2: LOW case's rest 0.2 * 0.1, MEDIUM's 0.5 * 0.1, HIGH's 0.75 * 0.9 * 0.1.
  EXPECT_NEAR(p->Closures(2, 3).expected, 0.02 + 0.05 + 0.0675, 1e-12);
  EXPECT_NEAR(p->open[1].expected, 3 - 0.25 - 1.375, 1e-12);
  EXPECT_NEAR(p->cumulative_closures[1].expected, 1.625, 1e-12);
  EXPECT_EQ(p->method_counts[static_cast<int>(IntervalMethod::kSkewNormal)], 0);
}

// Forecast categories by risk (SmallCatalogue: LOW 0.8 safe, MEDIUM 0.5 likely, HIGH 0.25
// possible): each case's closures land in its category only.
TEST(ProjectorTest, CategoriesKnownAnswer) {
  const FittedModels models = EmptyModels();
  Portfolio portfolio = ThreeCases();
  portfolio.cases.push_back(Open(103, 0, 2, kAsOf - 1));  // no expectation: possible
  EXPECT_EQ(CategoryOf(models.catalogue, portfolio.cases[0]), ForecastCategory::kSafe);
  EXPECT_EQ(CategoryOf(models.catalogue, portfolio.cases[1]), ForecastCategory::kLikely);
  EXPECT_EQ(CategoryOf(models.catalogue, portfolio.cases[2]), ForecastCategory::kPossible);
  EXPECT_EQ(CategoryOf(models.catalogue, portfolio.cases[3]), ForecastCategory::kPossible);
  auto projector = Projector::Create(portfolio, models);
  ASSERT_TRUE(projector.ok()) << projector.status();
  ProjectionRequest request;
  request.horizon_months = 6;
  request.honest_intervals = false;
  request.categories = true;
  auto p = projector->ProjectAll(request);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->category_cases[0], 1);
  EXPECT_EQ(p->category_cases[1], 1);
  EXPECT_EQ(p->category_cases[2], 2);
  // Month 1: LOW 0.8, MEDIUM 0.5; HIGH's rest 0.75 * 0.1 plus the unplanned case's baseline.
  EXPECT_NEAR(p->CategoryClosures(1, ForecastCategory::kSafe).expected, 0.8, 1e-12);
  EXPECT_NEAR(p->CategoryClosures(1, ForecastCategory::kLikely).expected, 0.5, 1e-12);
  EXPECT_EQ(p->CategoryClosures(1, ForecastCategory::kSafe).p10, 0);  // P(0) = .2
  EXPECT_EQ(p->CategoryClosures(1, ForecastCategory::kSafe).p90, 1);
  EXPECT_NEAR(p->CategoryCumulative(1, ForecastCategory::kPossible).expected,
              0.25 + 0.075 + 0.1 + 0.09, 1e-12);
  for (int32_t h = 0; h < 6; ++h) {
    double month = 0, by_end = 0;
    for (int32_t c = 0; c < kNumCategories; ++c) {
      month += p->CategoryClosures(h, static_cast<ForecastCategory>(c)).expected;
      by_end += p->CategoryCumulative(h, static_cast<ForecastCategory>(c)).expected;
    }
    EXPECT_NEAR(month, p->Closures(h, 3).expected, 1e-12);
    EXPECT_NEAR(by_end, p->cumulative_closures[h].expected, 1e-12);
  }
  // Without the request, none.
  request.categories = false;
  auto plain = projector->ProjectAll(request);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->category_closures.empty());
}

TEST(ProjectorTest, DistributionsSumToOneAndExplain) {
  const FittedModels models = EmptyModels();
  const Portfolio portfolio = ThreeCases();
  auto projector = Projector::Create(portfolio, models);
  ASSERT_TRUE(projector.ok());
  for (ModelKind kind : {ModelKind::kAsPlanned, ModelKind::kCalibrated, ModelKind::kBaseline}) {
    auto d = projector->Distributions(std::vector<int32_t>{0, 1, 2}, kind, 12);
    ASSERT_TRUE(d.ok());
    for (Eigen::Index j = 0; j < d->cols(); ++j) {
      EXPECT_NEAR(d->col(j).sum(), 1.0, 1e-12) << ModelKey(kind) << " case " << j;
      EXPECT_GE(d->col(j).minCoeff(), 0.0);
    }
    auto e = projector->Explain(2, kind, 12);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->case_id, 102);
    EXPECT_FALSE(e->reasons.empty());
    const double total = std::accumulate(e->probability.begin(), e->probability.end(), 0.0);
    EXPECT_NEAR(total + e->still_open_at_horizon, 1.0, 1e-12);
  }
  auto e = projector->Explain(2, ModelKind::kAsPlanned, 12);
  ASSERT_TRUE(e.ok());
  bool mentions_passed = false;
  for (const auto& r : e->reasons) mentions_passed |= r.find("has passed") != std::string::npos;
  EXPECT_TRUE(mentions_passed);
}

TEST(ProjectorTest, BadInputIsRejected) {
  const FittedModels models = EmptyModels();
  const Portfolio portfolio = ThreeCases();
  auto projector = Projector::Create(portfolio, models);
  ASSERT_TRUE(projector.ok());
  ProjectionRequest request;
  request.horizon_months = 0;
  auto p = projector->ProjectAll(request);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("horizon_months"), std::string::npos);
  request.horizon_months = 12;
  EXPECT_EQ(projector->Project(std::vector<int32_t>{0, 3}, request).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(projector->Explain(-1, ModelKind::kAsPlanned, 12).ok());
  Portfolio bad = ThreeCases();
  bad.cases[1].caseworker = 9;
  auto created = Projector::Create(bad, models);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(created.status().message().find("case 101"), std::string::npos);
}

TEST(ProjectorTest, EmptyScopeHasOnlyInflow) {
  const FittedModels models = EmptyModels();
  const Portfolio portfolio = ThreeCases();
  auto projector = Projector::Create(portfolio, models);
  ASSERT_TRUE(projector.ok());
  InflowCounts counts;
  counts.first_month = kAsOf - 24;
  counts.counts.assign(2, std::vector<double>(24, 3.0));
  auto inflow = InflowModel::Fit(models.catalogue, counts, kAsOf);
  ASSERT_TRUE(inflow.ok());
  ProjectionRequest request;
  request.horizon_months = 3;
  request.inflow = &*inflow;
  auto p = projector->Project({}, request);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->open_cases, 0);
  EXPECT_EQ(p->Closures(0, 3).expected, 0);
  EXPECT_EQ(p->Closures(0, 3).p90, 0);
  EXPECT_NEAR(p->inflow[0].expected, 6.0, 1e-9);
  // New cases stay open with the baseline's 0.9 a month: 6 * 0.9 after their first month.
  EXPECT_NEAR(p->open[0].expected, 5.4, 1e-9);
  EXPECT_NEAR(p->open[1].expected, 5.4 * 0.9 + 5.4, 1e-9);
  EXPECT_LT(p->open[0].p10, 5.4);
  EXPECT_GT(p->open[0].p90, 5.4);
  // They close too: 6 * 0.1 in their first month, then 5.4 * 0.1 plus the next month's 0.6.
  EXPECT_NEAR(p->new_closures[0].expected, 0.6, 1e-9);
  EXPECT_NEAR(p->new_closures[1].expected, 0.54 + 0.6, 1e-9);
  EXPECT_NEAR(p->total_closures[1].expected, p->Closures(1, 3).expected + 1.14, 1e-9);
  double by_outcome = 0;
  for (int32_t o = 0; o < 3; ++o) by_outcome += p->new_closures_by_outcome[3 + o];
  EXPECT_NEAR(by_outcome, 1.14, 1e-9);
}

class SyntheticProjectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto centre = GenerateJobCentre(DemoSpec());
    ASSERT_TRUE(centre.ok());
    const MonthIndex end = MakeMonth(centre->today.year, centre->today.month);
    auto compiled = CompileJobCentre(*centre, end);
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    compiled_ = new CompiledJobCentre(*std::move(compiled));
    auto models = FittedModels::Fit(compiled_->catalogue, compiled_->history, end);
    ASSERT_TRUE(models.ok()) << models.status();
    models_ = new FittedModels(*std::move(models));
  }
  static void TearDownTestSuite() {
    delete compiled_;
    delete models_;
  }
  static std::vector<int32_t> CasesOf(CaseworkerIndex w) {
    std::vector<int32_t> out;
    for (size_t i = 0; i < compiled_->portfolio.cases.size(); ++i) {
      if (compiled_->portfolio.cases[i].caseworker == w) out.push_back(static_cast<int32_t>(i));
    }
    return out;
  }
  static CompiledJobCentre* compiled_;
  static FittedModels* models_;
};
CompiledJobCentre* SyntheticProjectorTest::compiled_ = nullptr;
FittedModels* SyntheticProjectorTest::models_ = nullptr;

// A case far past its expected month, held by a caseworker whose leads are shifted: the
// calibrated projection is the closure curve at the case's own lead, not at a stand-in for its
// lead bucket shifted from elsewhere (a lead of -9 shifted by +2 is still "long passed"; -6
// shifted by +2 is not).
TEST_F(SyntheticProjectorTest, CalibratedProjectionShiftsTheCasesOwnLead) {
  const CalibrationModel& cal = models_->calibration;
  const MonthIndex as_of = models_->as_of_month;
  constexpr int32_t kHorizon = 6, kLead = -9;
  int32_t checked = 0;
  for (CaseworkerIndex w = 0; w < compiled_->catalogue.num_caseworkers(); ++w) {
    if (cal.LeadShift(w) < 1.0) continue;
    OpenCase oc;
    oc.case_type = 0;
    oc.caseworker = w;
    oc.team = compiled_->catalogue.caseworker_team[w];
    oc.opened_month = as_of - 30;
    Expectation e;
    e.expected_outcome = 0;
    e.expected_month = as_of + kLead;
    e.risk = 0;
    e.recorded_month = as_of - 1;
    e.recorded_by = w;
    oc.expectation = e;
    Portfolio one;
    one.as_of_month = as_of;
    one.cases.push_back(oc);
    auto projector = Projector::Create(one, *models_);
    ASSERT_TRUE(projector.ok()) << projector.status();
    ProjectionRequest request;
    request.model = ModelKind::kCalibrated;
    request.horizon_months = kHorizon;
    request.with_intervals = false;
    auto p = projector->ProjectAll(request);
    ASSERT_TRUE(p.ok()) << p.status();
    std::vector<double> own(kHorizon), stand_in(kHorizon);
    cal.ClosureCurve(0, 0, kLead, oc.team, w, 0, as_of, kHorizon, own.data());
    cal.ClosureCurve(0, 0, -6, oc.team, w, 0, as_of, kHorizon, stand_in.data());
    double apart = 0;
    for (int32_t h = 0; h < kHorizon; ++h) {
      EXPECT_NEAR(p->Closures(h, compiled_->catalogue.num_outcomes()).expected, own[h], 1e-9)
          << "caseworker " << w << ", month " << h;
      apart = std::max(apart, std::abs(own[h] - stand_in[h]));
    }
    EXPECT_GT(apart, 1e-3) << "caseworker " << w;  // the two leads are told apart
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST_F(SyntheticProjectorTest, PropertiesHoldForEveryModel) {
  auto projector = Projector::Create(compiled_->portfolio, *models_);
  ASSERT_TRUE(projector.ok());
  const int32_t K = compiled_->catalogue.num_outcomes();
  for (ModelKind kind : {ModelKind::kAsPlanned, ModelKind::kCalibrated, ModelKind::kBaseline}) {
    ProjectionRequest request;
    request.model = kind;
    request.horizon_months = 24;
    request.inflow = &models_->inflow;
    auto p = projector->ProjectAll(request);
    ASSERT_TRUE(p.ok()) << p.status();
    double previous = 0, previous_p10 = 0, previous_p90 = 0;
    for (int32_t h = 0; h < 24; ++h) {
      double by_outcome = 0;
      for (int32_t o = 0; o <= K; ++o) {
        const Estimate& e = p->Closures(h, o);
        EXPECT_LE(e.p10, e.expected + 1e-9) << ModelKey(kind) << " " << h << " " << o;
        EXPECT_GE(e.p90, e.expected - 1e-9) << ModelKey(kind) << " " << h << " " << o;
        if (o < K) by_outcome += e.expected;
      }
      EXPECT_NEAR(by_outcome, p->Closures(h, K).expected, 1e-6);
      const Estimate& c = p->cumulative_closures[h];
      EXPECT_GE(c.expected, previous - 1e-9);
      EXPECT_GE(c.p10, previous_p10);
      EXPECT_GE(c.p90, previous_p90);
      previous = c.expected;
      previous_p10 = c.p10;
      previous_p90 = c.p90;
      const Estimate& open = p->open[h];
      EXPECT_LE(open.p10, open.expected);
      EXPECT_GE(open.p90, open.expected);
      EXPECT_GT(p->inflow[h].expected, 0);
      // Stock: open now - closures + new cases still open.
      EXPECT_GT(open.expected, p->open_cases - c.expected);
      EXPECT_LT(open.expected, p->open_cases - c.expected + (h + 1) * p->inflow[h].expected * 2);
    }
  }
}

// Categories add up to the total in every month and by every month's end, for every model; every
// interval holds its figure as shown; asking for them changes no other figure; and today's cases'
// cumulative closures are the same with or without inflow (one figure per label: the team
// dashboard projects no inflow, the team comparison and the projection do).
TEST_F(SyntheticProjectorTest, CategoriesAddUpAndLeaveTheOtherFiguresAlone) {
  auto projector = Projector::Create(compiled_->portfolio, *models_);
  ASSERT_TRUE(projector.ok());
  const int32_t K = compiled_->catalogue.num_outcomes(), H = 12;
  int64_t in_category[kNumCategories] = {0, 0, 0};
  for (const OpenCase& oc : compiled_->portfolio.cases) {
    ++in_category[static_cast<int32_t>(CategoryOf(compiled_->catalogue, oc))];
  }
  for (int32_t c = 0; c < kNumCategories; ++c) EXPECT_GT(in_category[c], 0) << c;
  for (ModelKind kind : {ModelKind::kAsPlanned, ModelKind::kCalibrated, ModelKind::kBaseline}) {
    for (const std::vector<int32_t>& scope : {CasesOf(3), std::vector<int32_t>()}) {
      const bool all = scope.empty();
      ProjectionRequest request;
      request.model = kind;
      request.horizon_months = H;
      request.inflow = &models_->inflow;
      auto plain = all ? projector->ProjectAll(request) : projector->Project(scope, request);
      request.categories = true;
      auto p = all ? projector->ProjectAll(request) : projector->Project(scope, request);
      ASSERT_TRUE(p.ok() && plain.ok());
      if (all) {
        for (int32_t c = 0; c < kNumCategories; ++c)
          EXPECT_EQ(p->category_cases[c], in_category[c]);
      }
      for (int32_t h = 0; h < H; ++h) {
        double month = 0, by_end = 0;
        for (int32_t c = 0; c < kNumCategories; ++c) {
          const auto category = static_cast<ForecastCategory>(c);
          // Intervals are of whole cases: they hold the figure as shown, rounded to a case (a
          // category of 0.09 expected closures is "0 (0-0)").
          for (const Estimate& e :
               {p->CategoryClosures(h, category), p->CategoryCumulative(h, category)}) {
            EXPECT_LE(e.p10, std::round(e.expected)) << ModelKey(kind) << " h" << h << " c" << c;
            EXPECT_GE(e.p90, std::round(e.expected)) << ModelKey(kind) << " h" << h << " c" << c;
          }
          month += p->CategoryClosures(h, category).expected;
          by_end += p->CategoryCumulative(h, category).expected;
        }
        EXPECT_NEAR(month, p->Closures(h, K).expected, 1e-6) << ModelKey(kind) << " h" << h;
        EXPECT_NEAR(by_end, p->cumulative_closures[h].expected, 1e-6) << ModelKey(kind);
        for (int32_t o = 0; o <= K; ++o) {
          EXPECT_EQ(p->Closures(h, o).expected, plain->Closures(h, o).expected);
          EXPECT_EQ(p->Closures(h, o).p10, plain->Closures(h, o).p10);
          EXPECT_EQ(p->Closures(h, o).p90, plain->Closures(h, o).p90);
        }
        EXPECT_EQ(p->cumulative_closures[h].p90, plain->cumulative_closures[h].p90);
        EXPECT_EQ(p->open[h].p90, plain->open[h].p90);
      }
      // No inflow: today's cases' cumulative closures unchanged, intervals included.
      request.inflow = nullptr;
      auto no_inflow = all ? projector->ProjectAll(request) : projector->Project(scope, request);
      ASSERT_TRUE(no_inflow.ok());
      for (int32_t h = 0; h < H; ++h) {
        EXPECT_NEAR(no_inflow->cumulative_closures[h].expected, p->cumulative_closures[h].expected,
                    1e-9);
        EXPECT_EQ(no_inflow->cumulative_closures[h].p10, p->cumulative_closures[h].p10);
        EXPECT_EQ(no_inflow->cumulative_closures[h].p90, p->cumulative_closures[h].p90);
      }
    }
  }
}

// Each category's figures are the exact Poisson-binomial of its own cases' distributions.
TEST_F(SyntheticProjectorTest, CategoryFiguresMatchExactPoissonBinomialOfTheirCases) {
  auto projector = Projector::Create(compiled_->portfolio, *models_);
  ASSERT_TRUE(projector.ok());
  const int32_t K = compiled_->catalogue.num_outcomes(), H = 6;
  const std::vector<int32_t> scope = CasesOf(3);
  for (ModelKind kind : {ModelKind::kAsPlanned, ModelKind::kCalibrated, ModelKind::kBaseline}) {
    ProjectionRequest request;
    request.model = kind;
    request.horizon_months = H;
    request.honest_intervals = false;
    request.categories = true;
    auto p = projector->Project(scope, request);
    ASSERT_TRUE(p.ok());
    auto d = projector->Distributions(scope, kind, H);
    ASSERT_TRUE(d.ok());
    for (int32_t c = 0; c < kNumCategories; ++c) {
      const auto category = static_cast<ForecastCategory>(c);
      std::vector<double> by_end(scope.size(), 0.0);
      for (int32_t h = 0; h < H; ++h) {
        std::vector<double> month;
        std::vector<double> cumulative;
        for (size_t j = 0; j < scope.size(); ++j) {
          if (CategoryOf(compiled_->catalogue, compiled_->portfolio.cases[scope[j]]) != category) {
            continue;
          }
          const double q = d->block(h * K, static_cast<Eigen::Index>(j), K, 1).sum();
          by_end[j] += q;
          month.push_back(q);
          cumulative.push_back(std::min(1.0, by_end[j]));
        }
        const Estimate& e = p->CategoryClosures(h, category);
        EXPECT_NEAR(e.expected, std::accumulate(month.begin(), month.end(), 0.0), 1e-9);
        EXPECT_EQ(e.p10, PmfQuantile(PoissonBinomialPmf(month), 0.1)) << ModelKey(kind) << c;
        EXPECT_EQ(e.p90, PmfQuantile(PoissonBinomialPmf(month), 0.9)) << ModelKey(kind) << c;
        const Estimate& b = p->CategoryCumulative(h, category);
        EXPECT_EQ(b.p10, PmfQuantile(PoissonBinomialPmf(cumulative), 0.1)) << ModelKey(kind) << c;
        EXPECT_EQ(b.p90, PmfQuantile(PoissonBinomialPmf(cumulative), 0.9)) << ModelKey(kind) << c;
      }
    }
  }
}

TEST_F(SyntheticProjectorTest, ScopeFiguresMatchExactPoissonBinomialOfCaseDistributions) {
  auto projector = Projector::Create(compiled_->portfolio, *models_);
  ASSERT_TRUE(projector.ok());
  const int32_t K = compiled_->catalogue.num_outcomes(), H = 12;
  const std::vector<int32_t> scope = CasesOf(3);
  ASSERT_GE(scope.size(), 25u);
  for (ModelKind kind : {ModelKind::kAsPlanned, ModelKind::kCalibrated, ModelKind::kBaseline}) {
    ProjectionRequest request;
    request.model = kind;
    request.horizon_months = H;
    request.honest_intervals = false;  // cases independent: the exact Poisson-binomial
    auto p = projector->Project(scope, request);
    ASSERT_TRUE(p.ok());
    auto d = projector->Distributions(scope, kind, H);
    ASSERT_TRUE(d.ok());
    for (int32_t h = 0; h < H; ++h) {
      for (int32_t o = 0; o <= K; ++o) {
        std::vector<double> probs;
        for (Eigen::Index j = 0; j < d->cols(); ++j) {
          probs.push_back(o < K ? (*d)(h * K + o, j) : d->block(h * K, j, K, 1).sum());
        }
        const double mean = std::accumulate(probs.begin(), probs.end(), 0.0);
        const std::vector<double> pmf = PoissonBinomialPmf(probs);
        const Estimate& e = p->Closures(h, o);
        EXPECT_NEAR(e.expected, mean, 1e-9) << ModelKey(kind) << " h" << h << " o" << o;
        EXPECT_EQ(e.p10, PmfQuantile(pmf, 0.1)) << ModelKey(kind) << " h" << h << " o" << o;
        EXPECT_EQ(e.p90, PmfQuantile(pmf, 0.9)) << ModelKey(kind) << " h" << h << " o" << o;
      }
    }
    EXPECT_EQ(p->method_counts[static_cast<int>(IntervalMethod::kSkewNormal)], 0);
  }
}

TEST_F(SyntheticProjectorTest, LargeScopeMeansMatchCaseDistributions) {
  auto projector = Projector::Create(compiled_->portfolio, *models_);
  ASSERT_TRUE(projector.ok());
  const int32_t K = compiled_->catalogue.num_outcomes(), H = 24;
  std::vector<int32_t> all(compiled_->portfolio.cases.size());
  std::iota(all.begin(), all.end(), 0);
  for (ModelKind kind : {ModelKind::kAsPlanned, ModelKind::kCalibrated, ModelKind::kBaseline}) {
    ProjectionRequest request;
    request.model = kind;
    request.horizon_months = H;
    auto p = projector->ProjectAll(request);
    auto d = projector->Distributions(all, kind, H);
    ASSERT_TRUE(p.ok() && d.ok());
    const Eigen::VectorXd sums = d->rowwise().sum();
    for (int32_t h = 0; h < H; ++h) {
      for (int32_t o = 0; o < K; ++o) {
        EXPECT_NEAR(p->Closures(h, o).expected, sums[h * K + o], 1e-6) << ModelKey(kind);
      }
    }
    EXPECT_NEAR(p->still_open_at_horizon, sums[static_cast<Eigen::Index>(K) * H], 1e-6);
    // Without intervals, the same centres.
    request.with_intervals = false;
    auto fast = projector->ProjectAll(request);
    ASSERT_TRUE(fast.ok());
    EXPECT_NEAR(fast->Closures(3, K).expected, p->Closures(3, K).expected, 1e-9);
    EXPECT_EQ(fast->Closures(3, K).p10, fast->Closures(3, K).expected);
  }
}

}  // namespace
}  // namespace forecasting
