// A small deterministic random source (SplitMix64 seeding xoshiro256**) with its own
// distributions, so synthetic data is identical on every platform and standard library.
#ifndef FORECASTING_SRC_RANDOM_H_
#define FORECASTING_SRC_RANDOM_H_

#include <cmath>
#include <cstdint>
#include <vector>

namespace forecasting {

class Random {
 public:
  explicit Random(uint64_t seed) {
    for (uint64_t& s : state_) s = SplitMix(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [lo, hi].
  int64_t Int(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Uniform() * static_cast<double>(hi - lo + 1));
  }
  bool Bernoulli(double p) { return Uniform() < p; }
  // Standard normal (Box-Muller, one value per call).
  double Normal() {
    double u1 = Uniform();
    while (u1 <= 1e-300) u1 = Uniform();
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Poisson by inversion (small means) or by a rounded normal (large means).
  int64_t Poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean > 60) {
      const double x = std::floor(mean + std::sqrt(mean) * Normal() + 0.5);
      return x < 0 ? 0 : static_cast<int64_t>(x);
    }
    const double u = Uniform();
    double p = std::exp(-mean), cdf = p;
    int64_t k = 0;
    while (u > cdf && k < 1000) {
      ++k;
      p *= mean / static_cast<double>(k);
      cdf += p;
    }
    return k;
  }
  // An index drawn with probability proportional to weights.
  int32_t Categorical(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double u = Uniform() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
      if (u < weights[i]) return static_cast<int32_t>(i);
      u -= weights[i];
    }
    return static_cast<int32_t>(weights.size()) - 1;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t state_[4];
};

}  // namespace forecasting

#endif  // FORECASTING_SRC_RANDOM_H_
