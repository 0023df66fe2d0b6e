// The 80% intervals of counts: exact Poisson-binomial for small counts, binned and skew-normal
// approximations only where they are accurate.
#include "forecasting/count_distribution.h"

#include <cmath>

#include "gtest/gtest.h"

namespace forecasting {
namespace {

// A fixed pseudo-random sequence in (0, 1) for test inputs.
std::vector<double> Probabilities(size_t n, double scale, uint64_t seed) {
  std::vector<double> p(n);
  uint64_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    p[i] = scale * (static_cast<double>(x >> 11) * 0x1.0p-53 * 0.98 + 0.01);
  }
  return p;
}

TEST(CountDistributionTest, ThreeCasesByHand) {
  // p = 0.9, 0.5, 0.2: P(0) = .04, P(1) = .41, P(2) = .46, P(3) = .09.
  const std::vector<double> pmf = PoissonBinomialPmf({0.9, 0.5, 0.2});
  ASSERT_EQ(pmf.size(), 4u);
  EXPECT_NEAR(pmf[0], 0.04, 1e-12);
  EXPECT_NEAR(pmf[1], 0.41, 1e-12);
  EXPECT_NEAR(pmf[2], 0.46, 1e-12);
  EXPECT_NEAR(pmf[3], 0.09, 1e-12);
  CountSum sum;
  sum.AddBernoulli(0.9);
  sum.AddBernoulli(0.5);
  sum.AddBernoulli(0.2);
  const CountSummary s = sum.Summarise();
  EXPECT_NEAR(s.mean, 1.6, 1e-12);
  EXPECT_NEAR(s.variance, 0.09 + 0.25 + 0.16, 1e-12);
  EXPECT_EQ(s.p10, 1);  // cdf(0) = .04 < .1 <= cdf(1) = .45
  EXPECT_EQ(s.p90, 2);  // cdf(1) = .45 < .9 <= cdf(2) = .91
  EXPECT_EQ(s.method, IntervalMethod::kExact);
}

TEST(CountDistributionTest, PoissonByHand) {
  // Poisson(3): cdf(0) = .0498, cdf(1) = .1991, cdf(4) = .8153, cdf(5) = .9161.
  CountSum sum;
  sum.AddPoisson(3.0);
  const CountSummary s = sum.Summarise();
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_EQ(s.p10, 1);
  EXPECT_EQ(s.p90, 5);
}

TEST(CountDistributionTest, CertainCasesAreConstant) {
  CountSum sum;
  sum.AddBernoulli(1.0, 7);
  sum.AddBernoulli(0.0, 100);
  sum.AddConstant(3);
  const CountSummary s = sum.Summarise();
  EXPECT_EQ(s.mean, 10);
  EXPECT_EQ(s.p10, 10);
  EXPECT_EQ(s.p90, 10);
}

TEST(CountDistributionTest, GroupsOfIdenticalCasesMatchTheDp) {
  // 40 cases in 4 groups of identical probability: binomials convolved == per-case DP.
  std::vector<double> each;
  CountSum sum;
  const double ps[] = {0.05, 0.3, 0.61, 0.97};
  const int counts[] = {15, 10, 9, 6};
  for (int g = 0; g < 4; ++g) {
    sum.AddBernoulli(ps[g], counts[g]);
    for (int i = 0; i < counts[g]; ++i) each.push_back(ps[g]);
  }
  const std::vector<double> pmf = PoissonBinomialPmf(each);
  for (double q : {0.1, 0.5, 0.9, 0.025, 0.975}) {
    EXPECT_EQ(sum.Summarise(q, q).p10, PmfQuantile(pmf, q)) << q;
  }
}

TEST(CountDistributionTest, ExactForManyDistinctSmallProbabilities) {
  // 300 distinct probabilities (under the group limit): still the exact DP.
  const std::vector<double> p = Probabilities(300, 0.1, 7);
  CountSum sum;
  for (double v : p) sum.AddBernoulli(v);
  const CountSummary s = sum.Summarise();
  ASSERT_LE(s.variance, kExactVarianceLimit);
  EXPECT_EQ(s.method, IntervalMethod::kExact);
  const std::vector<double> pmf = PoissonBinomialPmf(p);
  EXPECT_EQ(s.p10, PmfQuantile(pmf, 0.1));
  EXPECT_EQ(s.p90, PmfQuantile(pmf, 0.9));
}

TEST(CountDistributionTest, BinnedAgreesWithTheDp) {
  // 3000 distinct small probabilities overflow the group limit: binned convolution.
  const std::vector<double> p = Probabilities(3000, 0.01, 11);
  CountSum sum;
  for (double v : p) sum.AddBernoulli(v);
  const CountSummary s = sum.Summarise();
  ASSERT_EQ(s.method, IntervalMethod::kBinned);
  const std::vector<double> pmf = PoissonBinomialPmf(p);
  for (double q : {0.1, 0.9}) {
    EXPECT_EQ(sum.Summarise(q, q).p10, PmfQuantile(pmf, q)) << q;
  }
}

TEST(CountDistributionTest, SkewNormalOnlyForWideCountsAndWithinOneCase) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const std::vector<double> p = Probabilities(400 * seed, 0.35, seed);
    CountSum sum;
    for (double v : p) sum.AddBernoulli(v);
    const CountSummary s = sum.Summarise();
    ASSERT_GT(s.variance, kExactVarianceLimit);
    EXPECT_EQ(s.method, IntervalMethod::kSkewNormal);
    const std::vector<double> pmf = PoissonBinomialPmf(p);
    EXPECT_LE(std::abs(s.p10 - PmfQuantile(pmf, 0.1)), 1) << seed;
    EXPECT_LE(std::abs(s.p90 - PmfQuantile(pmf, 0.9)), 1) << seed;
  }
}

TEST(CountDistributionTest, SkewedCountsKeepTheirSkew) {
  // Many rare events: Poisson-like, right-skewed; the interval must not be symmetric.
  CountSum sum;
  sum.AddBernoulli(0.002, 30000);  // mean 60, variance ~60
  const CountSummary s = sum.Summarise();
  EXPECT_GT(s.p90 - s.mean, s.mean - s.p10 - 0.5);
  EXPECT_LE(s.p10, s.mean);
  EXPECT_GE(s.p90, s.mean);
}

}  // namespace
}  // namespace forecasting
