#include "forecasting/count_distribution.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace forecasting {
namespace {

constexpr double kTailMass = 1e-15;  // pmf entries below this at the ends are trimmed
constexpr int32_t kBinsPerOctave = 8;
constexpr int32_t kHalfBins = 55 * kBinsPerOctave;  // per side: down to 2^-56 ~ 1e-17
constexpr int32_t kNumBins = 2 * kHalfBins;

// Inverse standard normal CDF (P. J. Acklam's rational approximation, |error| < 1.2e-9).
double NormalQuantile(double q) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  q = std::clamp(q, 1e-12, 1 - 1e-12);
  if (q < 0.02425) {
    const double r = std::sqrt(-2 * std::log(q));
    return (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) /
           ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
  }
  if (q > 1 - 0.02425) return -NormalQuantile(1 - q);
  const double r = q - 0.5, s = r * r;
  return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r /
         (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
}

// A pmf on counts base, base + 1, ...
struct Pmf {
  int64_t base = 0;
  std::vector<double> p{1.0};

  void Trim() {
    size_t lo = 0, hi = p.size();
    while (hi - lo > 1 && p[lo] < kTailMass) ++lo;
    while (hi - lo > 1 && p[hi - 1] < kTailMass) --hi;
    p.resize(hi);
    if (lo > 0) {
      p.erase(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(lo));
      base += static_cast<int64_t>(lo);
    }
  }

  // Adds one Bernoulli(q) case in place: the DP step of the Poisson-binomial.
  void AddBernoulli(double q) {
    p.push_back(0.0);
    for (size_t k = p.size() - 1; k > 0; --k) p[k] = p[k] * (1 - q) + p[k - 1] * q;
    p[0] *= 1 - q;
    if (p.front() < kTailMass || p.back() < kTailMass) Trim();
  }

  void Convolve(const Pmf& other) {
    std::vector<double> out(p.size() + other.p.size() - 1, 0.0);
    for (size_t i = 0; i < p.size(); ++i) {
      const double a = p[i];
      if (a == 0) continue;
      for (size_t j = 0; j < other.p.size(); ++j) out[i + j] += a * other.p[j];
    }
    p.swap(out);
    base += other.base;
    Trim();
  }
};

// Binomial(n, p) restricted to mean +- 12 sd (+ slack); mass outside is far below kTailMass.
Pmf BinomialPmf(int64_t n, double q) {
  Pmf out;
  const double mean = n * q, sd = std::sqrt(n * q * (1 - q));
  const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(mean - 12 * sd - 6)));
  const int64_t hi = std::min<int64_t>(n, static_cast<int64_t>(std::ceil(mean + 12 * sd + 6)));
  out.base = lo;
  out.p.assign(static_cast<size_t>(hi - lo + 1), 0.0);
  const double log_q = std::log(q), log_1q = std::log1p(-q), ratio = q / (1 - q);
  double v = std::exp(std::lgamma(n + 1.0) - std::lgamma(lo + 1.0) - std::lgamma(n - lo + 1.0) +
                      lo * log_q + (n - lo) * log_1q);
  // Recurrence upward from lo; underflow at lo is repaired by restarting in log space.
  for (int64_t k = lo; k <= hi; ++k) {
    if (v == 0.0) {
      v = std::exp(std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) +
                   k * log_q + (n - k) * log_1q);
    }
    out.p[static_cast<size_t>(k - lo)] = v;
    v *= static_cast<double>(n - k) / static_cast<double>(k + 1) * ratio;
  }
  out.Trim();
  return out;
}

Pmf PoissonPmf(double mean) {
  Pmf out;
  const double sd = std::sqrt(mean);
  const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(mean - 12 * sd - 6)));
  const int64_t hi = static_cast<int64_t>(std::ceil(mean + 12 * sd + 10));
  out.base = lo;
  out.p.assign(static_cast<size_t>(hi - lo + 1), 0.0);
  double v = 0.0;
  for (int64_t k = lo; k <= hi; ++k) {
    if (v == 0.0) v = std::exp(-mean + k * std::log(mean) - std::lgamma(k + 1.0));
    out.p[static_cast<size_t>(k - lo)] = v;
    v *= mean / static_cast<double>(k + 1);
  }
  out.Trim();
  return out;
}

int64_t Quantile(const Pmf& pmf, double q) {
  double cdf = 0;
  for (size_t i = 0; i < pmf.p.size(); ++i) {
    cdf += pmf.p[i];
    if (cdf >= q - 1e-12) return pmf.base + static_cast<int64_t>(i);
  }
  return pmf.base + static_cast<int64_t>(pmf.p.size()) - 1;
}

// Bins on log2 p for p <= 1/2 and on log2(1 - p) above (8 bins per octave, read from the
// floating-point exponent and mantissa: no log call), so p(1 - p) varies by at most ~9% within a
// bin on both sides; replacing the cases of a bin by a binomial at their mean changes the
// variance by sum (p_i - mean)^2, under 0.3% of the bin's.
int32_t BinOf(double p) {
  const double tail = p <= 0.5 ? p : 1.0 - p;
  uint64_t bits;
  std::memcpy(&bits, &tail, sizeof(bits));
  const int32_t exponent = static_cast<int32_t>((bits >> 52) & 0x7ff) - 1023;  // <= -1
  const int32_t sub = static_cast<int32_t>((bits >> 49) & 7);
  const int32_t b = std::clamp((-exponent - 1) * kBinsPerOctave + (7 - sub), 0, kHalfBins - 1);
  return p <= 0.5 ? b : kHalfBins + b;
}

}  // namespace

CountSum::CountSum() = default;

void CountSum::AddBernoulli(double p, double multiplicity) {
  if (!(p > 0) || !(multiplicity > 0)) return;
  if (p >= 1.0 - 1e-12) {
    constant_ += multiplicity;
    return;
  }
  const double v = p * (1 - p);
  k1_ += multiplicity * p;
  k2_ += multiplicity * v;
  k3_ += multiplicity * v * (1 - 2 * p);
  if (!overflowed_) {
    groups_.push_back({p, multiplicity});
    if (static_cast<int32_t>(groups_.size()) > kExactGroupLimit) {
      overflowed_ = true;
      bin_n_.assign(kNumBins, 0.0);
      bin_p_.assign(kNumBins, 0.0);
      for (const Group& g : groups_) {
        bin_n_[BinOf(g.p)] += g.multiplicity;
        bin_p_[BinOf(g.p)] += g.multiplicity * g.p;
      }
      groups_.clear();
      groups_.shrink_to_fit();
    }
  } else {
    bin_n_[BinOf(p)] += multiplicity;
    bin_p_[BinOf(p)] += multiplicity * p;
  }
}

void CountSum::AddPoisson(double mean) {
  if (!(mean > 0)) return;
  poisson_ += mean;
  k1_ += mean;
  k2_ += mean;
  k3_ += mean;
}

void CountSum::AddConstant(double count) { constant_ += count; }

void CountSum::AddNoiseVariance(double variance) {
  if (variance > 0) noise_ += variance;
}

CountSummary CountSum::Summarise(double lower, double upper) const {
  CountSummary s;
  s.mean = constant_ + k1_;
  s.variance = k2_ + noise_;
  if (k2_ + noise_ <= 0) {
    s.p10 = s.p90 = constant_;
    s.method = IntervalMethod::kExact;
    return s;
  }
  if (k2_ + noise_ > kExactVarianceLimit) {
    return SkewNormalSummary(constant_, k1_, k2_ + noise_, k3_, lower, upper);
  }
  Pmf pmf;
  if (!overflowed_) {
    for (const Group& g : groups_) {
      const int64_t n = std::llround(g.multiplicity);
      if (n <= 4) {
        for (int64_t i = 0; i < n; ++i) pmf.AddBernoulli(g.p);
      } else {
        pmf.Convolve(BinomialPmf(n, g.p));
      }
    }
    s.method = IntervalMethod::kExact;
  } else {
    for (int32_t b = 0; b < kNumBins; ++b) {
      if (bin_n_[b] <= 0) continue;
      const int64_t n = std::max<int64_t>(1, std::llround(bin_n_[b]));
      const double q = std::min(1.0 - 1e-12, bin_p_[b] / n);
      if (n <= 4) {
        for (int64_t i = 0; i < n; ++i) pmf.AddBernoulli(q);
      } else {
        pmf.Convolve(BinomialPmf(n, q));
      }
    }
    s.method = IntervalMethod::kBinned;
  }
  if (poisson_ > 0) pmf.Convolve(PoissonPmf(poisson_));
  if (noise_ > 0) {
    // A discretised N(0, noise) on -w..w, then the mass below zero folded onto zero.
    const double sd = std::sqrt(noise_);
    const int64_t w = static_cast<int64_t>(std::ceil(6 * sd)) + 1;
    Pmf kernel;
    kernel.base = -w;
    kernel.p.assign(static_cast<size_t>(2 * w + 1), 0.0);
    double total = 0;
    for (int64_t k = -w; k <= w; ++k) {
      const double z = static_cast<double>(k) / sd;
      total += kernel.p[static_cast<size_t>(k + w)] = std::exp(-0.5 * z * z);
    }
    for (double& v : kernel.p) v /= total;
    pmf.Convolve(kernel);
    if (pmf.base < 0) {
      const size_t below =
          static_cast<size_t>(std::min<int64_t>(-pmf.base, static_cast<int64_t>(pmf.p.size()) - 1));
      double mass = 0;
      for (size_t i = 0; i < below; ++i) mass += pmf.p[i];
      pmf.p.erase(pmf.p.begin(), pmf.p.begin() + static_cast<std::ptrdiff_t>(below));
      pmf.base += static_cast<int64_t>(below);
      pmf.p[0] += mass;
    }
  }
  int64_t lo = Quantile(pmf, lower), hi = Quantile(pmf, upper);
  if (nearest_ && hi > lo) {
    auto cdf = [&](int64_t k) {
      double c = 0;
      for (int64_t i = pmf.base; i <= k && i - pmf.base < static_cast<int64_t>(pmf.p.size()); ++i) {
        c += pmf.p[static_cast<size_t>(i - pmf.base)];
      }
      return c;
    };
    const double target = upper - lower;
    const double keep = cdf(hi) - cdf(lo - 1);
    const double raise = cdf(hi) - cdf(lo);         // [lo + 1, hi]
    const double drop = cdf(hi - 1) - cdf(lo - 1);  // [lo, hi - 1]
    double best = std::abs(keep - target);
    int64_t best_lo = lo, best_hi = hi;
    // The interval keeps the mean inside.
    if (static_cast<double>(lo + 1) <= k1_ + 1e-9 && std::abs(raise - target) < best) {
      best = std::abs(raise - target);
      best_lo = lo + 1;
      best_hi = hi;
    }
    if (static_cast<double>(hi - 1) >= k1_ - 1e-9 && std::abs(drop - target) < best) {
      best_lo = lo;
      best_hi = hi - 1;
    }
    lo = best_lo;
    hi = best_hi;
  }
  s.p10 = constant_ + static_cast<double>(lo);
  s.p90 = constant_ + static_cast<double>(hi);
  return s;
}

CountSummary SkewNormalSummary(double constant, double k1, double k2, double k3, double lower,
                               double upper) {
  CountSummary s;
  s.mean = constant + k1;
  s.variance = k2;
  s.method = IntervalMethod::kSkewNormal;
  if (k2 <= 0) {
    s.p10 = s.p90 = constant + k1;
    return s;
  }
  // Cornish-Fisher with skewness, continuity corrected: accurate here to well under a case.
  const double sd = std::sqrt(k2), gamma = k3 / (k2 * sd);
  auto quantile = [&](double q) {
    const double z = NormalQuantile(q);
    const double x = k1 + sd * (z + (z * z - 1) * gamma / 6.0);
    return std::max(0.0, std::ceil(x - 0.5));
  };
  s.p10 = constant + quantile(lower);
  s.p90 = constant + quantile(upper);
  return s;
}

std::vector<double> PoissonBinomialPmf(const std::vector<double>& p) {
  std::vector<double> pmf(p.size() + 1, 0.0);
  pmf[0] = 1.0;
  for (size_t i = 0; i < p.size(); ++i) {
    for (size_t k = i + 1; k > 0; --k) pmf[k] = pmf[k] * (1 - p[i]) + pmf[k - 1] * p[i];
    pmf[0] *= 1 - p[i];
  }
  return pmf;
}

int64_t PmfQuantile(const std::vector<double>& pmf, double q) {
  double cdf = 0;
  for (size_t k = 0; k < pmf.size(); ++k) {
    cdf += pmf[k];
    if (cdf >= q - 1e-12) return static_cast<int64_t>(k);
  }
  return static_cast<int64_t>(pmf.size()) - 1;
}

}  // namespace forecasting
