// Month-of-year factors shared by the baseline and the calibration (internal).
#ifndef FORECASTING_SRC_CALENDAR_H_
#define FORECASTING_SRC_CALENDAR_H_

#include <algorithm>
#include <cstdint>
#include <vector>

namespace forecasting {

// Factors [group][12] from observed and expected counts [group][12]: the pooled factor per
// calendar month (all groups) shrunk toward 1, and each group's shrunk toward the pooled one,
// both with `kappa` counts' worth of prior. kappa <= 0: every factor 1. Pure; thread-safe.
inline std::vector<double> CalendarFactors(const std::vector<double>& observed,
                                           const std::vector<double>& expected, int32_t groups,
                                           double kappa) {
  std::vector<double> out(static_cast<size_t>(groups) * 12, 1.0);
  if (kappa <= 0) return out;
  for (int32_t c = 0; c < 12; ++c) {
    double o = 0, e = 0;
    for (int32_t g = 0; g < groups; ++g) {
      o += observed[static_cast<size_t>(g) * 12 + c];
      e += expected[static_cast<size_t>(g) * 12 + c];
    }
    const double pooled = (o + kappa) / (e + kappa);
    for (int32_t g = 0; g < groups; ++g) {
      const size_t i = static_cast<size_t>(g) * 12 + c;
      out[i] = std::clamp((observed[i] + kappa * pooled) / (expected[i] + kappa), 0.2, 5.0);
    }
  }
  return out;
}

}  // namespace forecasting

#endif  // FORECASTING_SRC_CALENDAR_H_
