// Inflow: a level per case type times a month-of-year factor, both from recent history.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "forecasting/models.h"

namespace forecasting {
namespace {
constexpr double kSeasonPrior = 1.0;  // months' worth of prior toward the broader pattern
}

absl::StatusOr<InflowModel> InflowModel::Fit(const Catalogue& catalogue, const InflowCounts& counts,
                                             MonthIndex as_of_month, const FitOptions& options) {
  const int32_t T = catalogue.num_case_types();
  InflowModel m;
  m.level_.assign(T, 0.0);
  m.seasonal_.assign(static_cast<size_t>(T) * 12, 1.0);
  if (counts.counts.empty()) return m;
  if (static_cast<int32_t>(counts.counts.size()) != T) {
    return absl::InvalidArgumentError(
        absl::StrCat("inflow.counts: ", counts.counts.size(), " case types, catalogue has ", T));
  }
  if (options.inflow_window_months < 1) {
    return absl::InvalidArgumentError("options.inflow_window_months: must be positive");
  }
  const MonthIndex from = std::max(counts.first_month, as_of_month - options.inflow_window_months);
  const MonthIndex to =
      std::min(counts.first_month + counts.num_months(), as_of_month);  // exclusive
  if (to <= from) return m;
  // Centre-wide seasonal shape, then each type's, shrunk toward it.
  std::vector<double> month_n(12, 0.0), centre_obs(12, 0.0);
  std::vector<double> type_obs(static_cast<size_t>(T) * 12, 0.0), type_total(T, 0.0);
  double centre_total = 0;
  for (MonthIndex t = from; t < to; ++t) {
    const int32_t c = MonthOfYear(t) - 1;
    month_n[c] += 1.0;
    for (int32_t k = 0; k < T; ++k) {
      const double v = counts.counts[k][t - counts.first_month];
      type_obs[static_cast<size_t>(k) * 12 + c] += v;
      type_total[k] += v;
      centre_obs[c] += v;
      centre_total += v;
    }
  }
  const double months = static_cast<double>(to - from);
  const double centre_level = centre_total / months;
  std::vector<double> centre_season(12, 1.0);
  if (centre_level > 0) {
    for (int32_t c = 0; c < 12; ++c) {
      centre_season[c] = (centre_obs[c] + kSeasonPrior * centre_level) /
                         (month_n[c] * centre_level + kSeasonPrior * centre_level);
    }
  }
  for (int32_t k = 0; k < T; ++k) {
    const double level = type_total[k] / months;
    if (level <= 0) continue;
    double* s = &m.seasonal_[static_cast<size_t>(k) * 12];
    double mean = 0;
    for (int32_t c = 0; c < 12; ++c) {
      s[c] = (type_obs[static_cast<size_t>(k) * 12 + c] + kSeasonPrior * level * centre_season[c]) /
             (month_n[c] * level + kSeasonPrior * level);
      mean += s[c] / 12.0;
    }
    for (int32_t c = 0; c < 12; ++c) s[c] /= mean;
    double exposure = 0;
    for (MonthIndex t = from; t < to; ++t) exposure += s[MonthOfYear(t) - 1];
    m.level_[k] = type_total[k] / exposure;
  }
  return m;
}

double InflowModel::Expected(CaseTypeIndex type, MonthIndex m) const {
  if (type < 0 || type >= static_cast<CaseTypeIndex>(level_.size())) return 0.0;
  return level_[type] * seasonal_[static_cast<size_t>(type) * 12 + MonthOfYear(m) - 1];
}

double InflowModel::SeasonalFactor(CaseTypeIndex type, int calendar_month) const {
  if (type < 0 || type >= static_cast<CaseTypeIndex>(level_.size())) return 1.0;
  return seasonal_[static_cast<size_t>(type) * 12 + calendar_month - 1];
}

}  // namespace forecasting
