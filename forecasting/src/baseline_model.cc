// Baseline: discrete-time competing risks by case type and duration, pooled where thin.
#include <algorithm>
#include <cmath>

#include "calendar.h"
#include "forecasting/models.h"

namespace forecasting {
namespace {

// Duration bands for the outcome shares: closures are too few to split by single months.
int32_t DurationBand(int32_t d) {
  if (d <= 2) return 0;
  if (d <= 5) return 1;
  if (d <= 11) return 2;
  if (d <= 23) return 3;
  return 4;
}
constexpr int32_t kNumBands = 5;
constexpr double kOutcomePrior = 5.0;  // closures' worth of prior toward the broader mix

}  // namespace

absl::StatusOr<BaselineModel> BaselineModel::Fit(const Catalogue& catalogue, const History& history,
                                                 MonthIndex as_of_month,
                                                 const FitOptions& options) {
  if (auto s = ValidateCatalogue(catalogue); !s.ok()) return s;
  if (auto s = ValidateHistory(catalogue, history); !s.ok()) return s;
  if (options.max_duration_months < 1 || options.max_duration_months > 600) {
    return absl::InvalidArgumentError("options.max_duration_months: must be 1..600");
  }
  BaselineModel m;
  const int32_t T = catalogue.num_case_types(), K = catalogue.num_outcomes();
  const int32_t D = options.max_duration_months + 1;  // durations 0..max, the last pooled
  m.num_types_ = T;
  m.num_outcomes_ = K;
  m.max_duration_ = options.max_duration_months;
  std::vector<double> exposure(static_cast<size_t>(T) * D, 0.0),
      events(static_cast<size_t>(T) * D, 0.0);
  std::vector<double> band_outcomes(static_cast<size_t>(T) * kNumBands * K, 0.0);
  const MonthIndex observed_from = ObservedFrom(history);
  for (const CaseRecord& r : history.cases) {
    if (r.opened_month >= as_of_month) continue;
    const bool closed = r.closed_month.has_value() && *r.closed_month < as_of_month;
    const MonthIndex last = closed ? *r.closed_month : as_of_month - 1;
    if (last < observed_from) continue;
    for (MonthIndex t = std::max(r.opened_month, observed_from); t <= last; ++t) {
      const int32_t d = std::min(t - r.opened_month, D - 1);
      exposure[static_cast<size_t>(r.case_type) * D + d] += 1.0;
    }
    if (closed) {
      const int32_t d = std::min(*r.closed_month - r.opened_month, D - 1);
      events[static_cast<size_t>(r.case_type) * D + d] += 1.0;
      band_outcomes[(static_cast<size_t>(r.case_type) * kNumBands + DurationBand(d)) * K +
                    r.outcome] += 1.0;
    }
  }
  double all_e = 0, all_n = 0;
  for (size_t i = 0; i < exposure.size(); ++i) {
    all_e += events[i];
    all_n += exposure[i];
  }
  const double kappa = options.baseline_pooling;
  const double h_all = all_n > 0 ? (all_e + 0.1) / (all_n + 1.0) : 0.1;

  m.hazard_.assign(static_cast<size_t>(T) * D, h_all);
  m.exposure_ = exposure;
  m.type_hazard_.assign(T, h_all);
  for (int32_t t = 0; t < T; ++t) {
    double e_t = 0, n_t = 0;
    for (int32_t d = 0; d < D; ++d) {
      e_t += events[static_cast<size_t>(t) * D + d];
      n_t += exposure[static_cast<size_t>(t) * D + d];
    }
    m.type_hazard_[t] = (e_t + kappa * h_all) / (n_t + kappa);
  }
  for (int32_t d = 0; d < D; ++d) {
    const int32_t half = std::max(2, d / 4);
    const int32_t lo = std::max(0, d - half), hi = std::min(D - 1, d + half);
    double ce = 0, cn = 0;
    for (int32_t t = 0; t < T; ++t) {
      for (int32_t w = lo; w <= hi; ++w) {
        ce += events[static_cast<size_t>(t) * D + w];
        cn += exposure[static_cast<size_t>(t) * D + w];
      }
    }
    const double h_centre = (ce + kappa * h_all) / (cn + kappa);
    for (int32_t t = 0; t < T; ++t) {
      double te = 0, tn = 0;
      for (int32_t w = lo; w <= hi; ++w) {
        te += events[static_cast<size_t>(t) * D + w];
        tn += exposure[static_cast<size_t>(t) * D + w];
      }
      const double h_type = (te + kappa * h_centre) / (tn + kappa);
      const size_t i = static_cast<size_t>(t) * D + d;
      m.hazard_[i] = std::clamp((events[i] + kappa * h_type) / (exposure[i] + kappa), 1e-4, 0.95);
    }
  }

  // Outcome shares: centre mix <- type mix <- (type, band) mix.
  std::vector<double> centre(K, 0.0);
  double centre_n = 0;
  for (int32_t t = 0; t < T; ++t) {
    for (int32_t b = 0; b < kNumBands; ++b) {
      for (int32_t o = 0; o < K; ++o) {
        centre[o] += band_outcomes[(static_cast<size_t>(t) * kNumBands + b) * K + o];
      }
    }
  }
  for (double c : centre) centre_n += c;
  for (int32_t o = 0; o < K; ++o) centre[o] = (centre[o] + 1.0 / K) / (centre_n + 1.0);
  m.outcome_mix_.assign(static_cast<size_t>(T) * K, 0.0);
  m.outcome_share_.assign(static_cast<size_t>(T) * D * K, 0.0);
  for (int32_t t = 0; t < T; ++t) {
    std::vector<double> type_counts(K, 0.0);
    double type_n = 0;
    for (int32_t b = 0; b < kNumBands; ++b) {
      for (int32_t o = 0; o < K; ++o) {
        type_counts[o] += band_outcomes[(static_cast<size_t>(t) * kNumBands + b) * K + o];
      }
    }
    for (double c : type_counts) type_n += c;
    for (int32_t o = 0; o < K; ++o) {
      m.outcome_mix_[static_cast<size_t>(t) * K + o] =
          (type_counts[o] + kOutcomePrior * centre[o]) / (type_n + kOutcomePrior);
    }
    std::vector<double> band_share(static_cast<size_t>(kNumBands) * K);
    for (int32_t b = 0; b < kNumBands; ++b) {
      double n = 0;
      for (int32_t o = 0; o < K; ++o)
        n += band_outcomes[(static_cast<size_t>(t) * kNumBands + b) * K + o];
      for (int32_t o = 0; o < K; ++o) {
        band_share[static_cast<size_t>(b) * K + o] =
            (band_outcomes[(static_cast<size_t>(t) * kNumBands + b) * K + o] +
             kOutcomePrior * m.outcome_mix_[static_cast<size_t>(t) * K + o]) /
            (n + kOutcomePrior);
      }
    }
    for (int32_t d = 0; d < D; ++d) {
      for (int32_t o = 0; o < K; ++o) {
        m.outcome_share_[(static_cast<size_t>(t) * D + d) * K + o] =
            band_share[static_cast<size_t>(DurationBand(d)) * K + o];
      }
    }
  }

  // Calendar: observed / expected closures by calendar month (per type), and outcomes by
  // calendar month against the shares expected without a calendar.
  std::vector<double> cal_o(static_cast<size_t>(T) * 12, 0.0),
      cal_e(static_cast<size_t>(T) * 12, 0.0);
  std::vector<double> out_o(static_cast<size_t>(K) * 12, 0.0),
      out_e(static_cast<size_t>(K) * 12, 0.0);
  for (const CaseRecord& r : history.cases) {
    if (r.opened_month >= as_of_month) continue;
    const bool closed = r.closed_month.has_value() && *r.closed_month < as_of_month;
    const MonthIndex last = closed ? *r.closed_month : as_of_month - 1;
    for (MonthIndex t = std::max(r.opened_month, observed_from); t <= last; ++t) {
      const int32_t d = std::min(t - r.opened_month, D - 1);
      const size_t c = static_cast<size_t>(r.case_type) * 12 + (MonthOfYear(t) - 1);
      cal_e[c] += m.hazard_[static_cast<size_t>(r.case_type) * D + d];
      if (closed && t == last) {
        cal_o[c] += 1.0;
        for (int32_t o = 0; o < K; ++o) {
          out_e[static_cast<size_t>(o) * 12 + MonthOfYear(t) - 1] +=
              m.outcome_share_[(static_cast<size_t>(r.case_type) * D + d) * K + o];
        }
        out_o[static_cast<size_t>(r.outcome) * 12 + MonthOfYear(t) - 1] += 1.0;
      }
    }
  }
  m.calendar_ = CalendarFactors(cal_o, cal_e, T, options.calendar_pooling);
  // Outcome factors: each outcome toward 1 (no pooled level: shares renormalise anyway).
  m.calendar_outcome_.assign(static_cast<size_t>(12) * K, 1.0);
  if (options.calendar_pooling > 0) {
    const double kappa_outcome = 0.5 * options.calendar_pooling;
    for (int32_t o = 0; o < K; ++o) {
      for (int32_t c = 0; c < 12; ++c) {
        const size_t i = static_cast<size_t>(o) * 12 + c;
        m.calendar_outcome_[static_cast<size_t>(c) * K + o] =
            std::clamp((out_o[i] + kappa_outcome) / (out_e[i] + kappa_outcome), 0.2, 5.0);
      }
    }
  }

  // Shared monthly shocks: the centre's closures per month against the fitted hazards.
  const MonthIndex shock_from = std::max(observed_from, as_of_month - 36);
  if (shock_from < as_of_month) {
    std::vector<double> month_o(static_cast<size_t>(as_of_month - shock_from), 0.0);
    std::vector<double> month_e(month_o.size(), 0.0);
    for (const CaseRecord& r : history.cases) {
      if (r.opened_month >= as_of_month) continue;
      const bool closed = r.closed_month.has_value() && *r.closed_month < as_of_month;
      const MonthIndex last = closed ? *r.closed_month : as_of_month - 1;
      for (MonthIndex t = std::max(r.opened_month, shock_from); t <= last; ++t) {
        month_e[static_cast<size_t>(t - shock_from)] +=
            m.HazardIn(r.case_type, t - r.opened_month, t);
      }
      if (closed && last >= shock_from) month_o[static_cast<size_t>(last - shock_from)] += 1.0;
    }
    double excess = 0, scale = 0;
    for (size_t i = 0; i < month_o.size(); ++i) {
      const double d = month_o[i] - month_e[i];
      excess += d * d - month_e[i];
      scale += month_e[i] * month_e[i];
    }
    const double estimate = scale > 0 ? std::clamp(excess / scale, 0.0, 0.25) : 0.0;
    m.month_shock_variance_ =
        std::max(estimate, options.month_shock_floor) * options.month_shock_scale;
  }
  return m;
}

double BaselineModel::CalendarFactor(CaseTypeIndex type, int calendar_month) const {
  if (calendar_.empty() || calendar_month < 1 || calendar_month > 12) return 1.0;
  return calendar_[static_cast<size_t>(type) * 12 + calendar_month - 1];
}

double BaselineModel::CalendarOutcomeFactor(int calendar_month, OutcomeIndex o) const {
  if (calendar_outcome_.empty() || calendar_month < 1 || calendar_month > 12) return 1.0;
  return calendar_outcome_[static_cast<size_t>(calendar_month - 1) * num_outcomes_ + o];
}

double BaselineModel::HazardIn(CaseTypeIndex type, int32_t duration, MonthIndex month) const {
  return std::min(0.95, Hazard(type, duration) * CalendarFactor(type, MonthOfYear(month)));
}

void BaselineModel::OutcomeSharesIn(CaseTypeIndex type, int32_t duration, MonthIndex month,
                                    double* shares) const {
  double sum = 0;
  for (int32_t o = 0; o < num_outcomes_; ++o) {
    shares[o] = OutcomeShare(type, duration, o) * CalendarOutcomeFactor(MonthOfYear(month), o);
    sum += shares[o];
  }
  if (sum <= 0) return;
  for (int32_t o = 0; o < num_outcomes_; ++o) shares[o] /= sum;
}

double BaselineModel::Hazard(CaseTypeIndex type, int32_t duration) const {
  if (hazard_.empty()) return 0.0;  // an empty (unfitted) model
  const int32_t d = std::clamp(duration, 0, max_duration_);
  return hazard_[static_cast<size_t>(type) * (max_duration_ + 1) + d];
}

double BaselineModel::OutcomeShare(CaseTypeIndex type, int32_t duration, OutcomeIndex o) const {
  if (outcome_share_.empty()) return 0.0;
  const int32_t d = std::clamp(duration, 0, max_duration_);
  return outcome_share_[(static_cast<size_t>(type) * (max_duration_ + 1) + d) * num_outcomes_ + o];
}

double BaselineModel::TypeHazard(CaseTypeIndex type) const {
  return type_hazard_.empty() ? 0.0 : type_hazard_[type];
}

double BaselineModel::OutcomeMix(CaseTypeIndex type, OutcomeIndex o) const {
  if (outcome_mix_.empty()) return 0.0;
  return outcome_mix_[static_cast<size_t>(type) * num_outcomes_ + o];
}

double BaselineModel::Exposure(CaseTypeIndex type, int32_t duration) const {
  if (exposure_.empty()) return 0.0;
  const int32_t d = std::clamp(duration, 0, max_duration_);
  return exposure_[static_cast<size_t>(type) * (max_duration_ + 1) + d];
}

const char* ModelKey(ModelKind kind) {
  switch (kind) {
    case ModelKind::kAsPlanned: return "as_planned";
    case ModelKind::kCalibrated: return "calibrated";
    case ModelKind::kBaseline: return "baseline";
  }
  return "unknown";
}

absl::StatusOr<FittedModels> FittedModels::Fit(const Catalogue& catalogue, const History& history,
                                               MonthIndex as_of_month, const FitOptions& options) {
  FittedModels f;
  f.as_of_month = as_of_month;
  f.catalogue = catalogue;
  auto baseline = BaselineModel::Fit(catalogue, history, as_of_month, options);
  if (!baseline.ok()) return baseline.status();
  f.baseline = *std::move(baseline);
  auto calibration = CalibrationModel::Fit(catalogue, history, as_of_month, options);
  if (!calibration.ok()) return calibration.status();
  f.calibration = *std::move(calibration);
  // Inflow only from months whose cases are all in the history: before it, an export holds
  // only the cases that were still open later (left truncation), so counts there run low.
  InflowCounts counts = history.inflow;
  const MonthIndex observed = ObservedFrom(history);
  if (!counts.counts.empty() && counts.first_month < observed) {
    const int32_t skip = std::min(observed - counts.first_month, counts.num_months());
    for (auto& row : counts.counts) row.erase(row.begin(), row.begin() + skip);
    counts.first_month += skip;
  }
  auto inflow = InflowModel::Fit(catalogue, counts, as_of_month, options);
  if (!inflow.ok()) return inflow.status();
  f.inflow = *std::move(inflow);
  return f;
}

}  // namespace forecasting
