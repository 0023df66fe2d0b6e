// The distribution of a count that is a sum of independent Bernoulli and Poisson parts, and its
// 80% interval: the Poisson-binomial behind "how many cases close in this month".
//
// Method, chosen per count (Projection reports which):
//  - exact: the pmf by convolution (a 1-D DP over groups of identical cases, each group a
//    binomial), whenever the variance is small (<= kExactVarianceLimit) and the number of
//    distinct probabilities is modest (<= kExactGroupLimit): so every scope of up to
//    kExactGroupLimit cases is exact;
//  - binned: small variance but more distinct probabilities: they are binned on a fine log
//    scale (log p below 1/2, log(1 - p) above; 8 bins per octave, ratio <= 1.09) and each bin is
//    a binomial with the bin's mean probability, convolved exactly; the variance changes by under
//    0.3% (second order in the spread within a bin);
//  - skew-normal: variance > kExactVarianceLimit (the 80% interval is then at least ~16 cases
//    wide), a Cornish-Fisher quantile with skewness and continuity corrections; within one case
//    of the exact quantile (tested against the DP). Never used for small counts.
#ifndef FORECASTING_COUNT_DISTRIBUTION_H_
#define FORECASTING_COUNT_DISTRIBUTION_H_

#include <cstdint>
#include <vector>

namespace forecasting {

enum class IntervalMethod { kExact = 0, kBinned = 1, kSkewNormal = 2 };

inline constexpr double kExactVarianceLimit = 40.0;
inline constexpr int32_t kExactGroupLimit = 512;

struct CountSummary {
  double mean = 0;
  double variance = 0;
  double p10 = 0;  // lower bound of the central interval (a count)
  double p90 = 0;  // upper bound (a count)
  IntervalMethod method = IntervalMethod::kExact;
};

// Accumulates a count = sum of `multiplicity` independent Bernoulli(p) per Add call, plus
// Poisson(mean) parts, and summarises it. Not thread-safe (one builder per thread); cheap to
// create, O(1) memory per distinct probability up to kExactGroupLimit.
class CountSum {
 public:
  CountSum();
  // Adds `multiplicity` cases each counted with probability p in [0, 1]. p == 0 is ignored.
  void AddBernoulli(double p, double multiplicity = 1.0);
  // Adds an independent Poisson(mean) count (e.g. new cases still open).
  void AddPoisson(double mean);
  // Adds a constant (cases certain to be counted).
  void AddConstant(double count);
  // Adds independent zero-mean noise of this variance (shared shocks, parameter uncertainty),
  // as a discretised normal convolved with the count (folded at zero).
  void AddNoiseVariance(double variance);
  // Interval rule. false (default): [q(lower), q(upper)], which for a small count holds more than
  // upper - lower (e.g. ~87% for a mean of 3). true: the interval between those and the one
  // with an end pulled in by one case whose own probability is nearest upper - lower.
  void set_nearest_coverage(bool nearest) { nearest_ = nearest; }

  double mean() const { return constant_ + k1_; }
  double variance() const { return k2_ + noise_; }

  // The mean and the central interval [lower, upper] quantiles (0.1 and 0.9 for 80%): the
  // smallest counts whose cumulative probability reaches `lower` and `upper`.
  CountSummary Summarise(double lower = 0.1, double upper = 0.9) const;

 private:
  struct Group {
    double p;
    double multiplicity;
  };
  double constant_ = 0, poisson_ = 0, noise_ = 0;
  bool nearest_ = false;
  double k1_ = 0, k2_ = 0, k3_ = 0;  // cumulants of the random part
  std::vector<Group> groups_;        // distinct probabilities, while few
  bool overflowed_ = false;
  std::vector<double> bin_n_, bin_p_;  // log-binned (multiplicity, sum of p * multiplicity)
};

// The skew-normal (Cornish-Fisher) summary of `constant` plus a random count with cumulants
// k1, k2, k3: what CountSum::Summarise uses above kExactVarianceLimit. Pure; thread-safe.
CountSummary SkewNormalSummary(double constant, double k1, double k2, double k3, double lower = 0.1,
                               double upper = 0.9);

// The exact pmf of a sum of independent Bernoulli(p_i) (Poisson-binomial), by the O(n^2) DP.
// For tests and small inputs. Pure; thread-safe.
std::vector<double> PoissonBinomialPmf(const std::vector<double>& p);

// The smallest k with cdf(k) >= q for a pmf starting at 0. Pure; thread-safe.
int64_t PmfQuantile(const std::vector<double>& pmf, double q);

}  // namespace forecasting

#endif  // FORECASTING_COUNT_DISTRIBUTION_H_
