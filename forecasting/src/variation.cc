#include "forecasting/variation.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace forecasting {
namespace {

constexpr double kSmallSlipWeight = 12.0;  // in-force months

double LogChoose(int64_t n, int64_t k) {
  return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0);
}

// Inverse standard normal CDF by bisection on erfc (only used for the interval's z).
double NormalQuantile(double q) {
  double lo = -10, hi = 10;
  for (int i = 0; i < 100; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < q)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

void WilsonInterval(int64_t k, int64_t n, double interval, double* low, double* high) {
  if (n <= 0) {
    *low = 0;
    *high = 1;
    return;
  }
  const double z = NormalQuantile(0.5 + interval / 2);
  const double p = static_cast<double>(k) / n, z2 = z * z;
  const double centre = (p + z2 / (2.0 * n)) / (1 + z2 / n);
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
  *low = std::max(0.0, centre - half);
  *high = std::min(1.0, centre + half);
}

double FisherExactTwoSided(int64_t a, int64_t b, int64_t c, int64_t d) {
  // Hypergeometric with fixed margins; sum the tables no more probable than the observed one.
  const int64_t row1 = a + b, col1 = a + c, n = a + b + c + d;
  if (n == 0) return 1.0;
  const int64_t lo = std::max<int64_t>(0, row1 + col1 - n), hi = std::min(row1, col1);
  auto log_p = [&](int64_t x) {
    return LogChoose(col1, x) + LogChoose(n - col1, row1 - x) - LogChoose(n, row1);
  };
  const double observed = log_p(a);
  double p = 0;
  for (int64_t x = lo; x <= hi; ++x) {
    const double lp = log_p(x);
    if (lp <= observed + 1e-7) p += std::exp(lp);
  }
  return std::min(1.0, p);
}

double StratifiedExactTwoSided(absl::Span<const Table2x2> strata) {
  // dist[k]: probability that the a cells sum to offset + k.
  std::vector<double> dist{1.0};
  int64_t offset = 0, observed = 0;
  for (const Table2x2& t : strata) {
    const int64_t row1 = t.a + t.b, col1 = t.a + t.c, n = t.a + t.b + t.c + t.d;
    observed += t.a;
    if (n == 0) continue;
    const int64_t lo = std::max<int64_t>(0, row1 + col1 - n), hi = std::min(row1, col1);
    std::vector<double> pmf(static_cast<size_t>(hi - lo + 1));
    for (int64_t x = lo; x <= hi; ++x) {
      pmf[static_cast<size_t>(x - lo)] =
          std::exp(LogChoose(col1, x) + LogChoose(n - col1, row1 - x) - LogChoose(n, row1));
    }
    std::vector<double> next(dist.size() + pmf.size() - 1, 0.0);
    for (size_t i = 0; i < dist.size(); ++i) {
      for (size_t j = 0; j < pmf.size(); ++j) next[i + j] += dist[i] * pmf[j];
    }
    dist = std::move(next);
    offset += lo;
  }
  const int64_t k = observed - offset;
  if (k < 0 || k >= static_cast<int64_t>(dist.size())) return 0.0;
  const double at = dist[static_cast<size_t>(k)];
  double p = 0;
  for (double q : dist) {
    if (q <= at * (1 + 1e-7)) p += q;
  }
  return std::min(1.0, p);
}

absl::StatusOr<Variation> CompareCaseworkers(const Portfolio& portfolio,
                                             absl::Span<const int32_t> case_positions,
                                             const Catalogue& catalogue,
                                             const CalibrationModel& calibration,
                                             const VariationOptions& options) {
  if (!(options.interval > 0 && options.interval < 1)) {
    return absl::InvalidArgumentError("options.interval: must be in (0, 1)");
  }
  if (!(options.significance > 0 && options.significance < 1)) {
    return absl::InvalidArgumentError("options.significance: must be in (0, 1)");
  }
  const int32_t K = catalogue.num_outcomes();
  const int32_t T = std::max<int32_t>(1, catalogue.num_case_types());
  std::vector<CaseworkerIndex> order;
  absl::flat_hash_map<CaseworkerIndex, size_t> slot;
  std::vector<std::vector<int64_t>> counts;  // [slot][outcome]
  std::vector<int64_t> n_by;
  std::vector<int64_t> team_counts(K, 0);
  int64_t team_n = 0;
  // The same per case type: [slot][type * K + outcome], [slot][type], [type * K + outcome], [type].
  std::vector<std::vector<int64_t>> type_counts;
  std::vector<std::vector<int64_t>> type_n_by;
  std::vector<int64_t> team_type_counts(static_cast<size_t>(T) * K, 0);
  std::vector<int64_t> team_type_n(T, 0);
  for (size_t i = 0; i < case_positions.size(); ++i) {
    const int32_t pos = case_positions[i];
    if (pos < 0 || pos >= static_cast<int32_t>(portfolio.cases.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("case_positions[", i, "]: ", pos, " is out of range"));
    }
    const OpenCase& oc = portfolio.cases[pos];
    if (oc.caseworker < 0 || oc.caseworker >= catalogue.num_caseworkers()) {
      return absl::InvalidArgumentError(
          absl::StrCat("case ", oc.case_id, ": caseworker out of range"));
    }
    auto [it, inserted] = slot.try_emplace(oc.caseworker, order.size());
    if (inserted) {
      order.push_back(oc.caseworker);
      counts.emplace_back(K, 0);
      n_by.push_back(0);
      type_counts.emplace_back(static_cast<size_t>(T) * K, 0);
      type_n_by.emplace_back(T, 0);
    }
    if (!oc.expectation.has_value()) continue;
    const OutcomeIndex o = oc.expectation->expected_outcome;
    if (o < 0 || o >= K) {
      return absl::InvalidArgumentError(
          absl::StrCat("case ", oc.case_id, ": expected_outcome out of range"));
    }
    if (oc.case_type < 0 || oc.case_type >= T) {
      return absl::InvalidArgumentError(
          absl::StrCat("case ", oc.case_id, ": case_type out of range"));
    }
    ++counts[it->second][o];
    ++n_by[it->second];
    ++team_counts[o];
    ++team_n;
    const size_t cell = static_cast<size_t>(oc.case_type) * K + o;
    ++type_counts[it->second][cell];
    ++type_n_by[it->second][oc.case_type];
    ++team_type_counts[cell];
    ++team_type_n[oc.case_type];
  }
  Variation v;
  v.n = team_n;
  for (size_t s = 0; s < order.size(); ++s) {
    for (int32_t o = 0; o < K; ++o) {
      OutcomeShare share;
      share.caseworker = order[s];
      share.outcome = o;
      share.n = n_by[s];
      share.count = counts[s][o];
      share.share = share.n > 0 ? static_cast<double>(share.count) / share.n : 0.0;
      WilsonInterval(share.count, share.n, options.interval, &share.low, &share.high);
      share.team_share = team_n > 0 ? static_cast<double>(team_counts[o]) / team_n : 0.0;
      // Against the rest of the team: [[own in o, own not], [rest in o, rest not]], pooled and
      // per case type.
      const int64_t rest_in = team_counts[o] - share.count, rest_n = team_n - share.n;
      share.p_value_without_case_type =
          FisherExactTwoSided(share.count, share.n - share.count, rest_in, rest_n - rest_in);
      std::vector<Table2x2> strata;
      double expected = 0;
      for (int32_t t = 0; t < T; ++t) {
        const size_t cell = static_cast<size_t>(t) * K + o;
        const int64_t own_n = type_n_by[s][t], own_in = type_counts[s][cell];
        if (own_n == 0) continue;  // no own case of the type: nothing to compare
        const int64_t type_rest_in = team_type_counts[cell] - own_in;
        const int64_t type_rest_n = team_type_n[t] - own_n;
        strata.push_back({own_in, own_n - own_in, type_rest_in, type_rest_n - type_rest_in});
        expected += static_cast<double>(own_n) * team_type_counts[cell] / team_type_n[t];
      }
      share.expected_share = share.n > 0 ? expected / share.n : 0.0;
      share.p_value = StratifiedExactTwoSided(strata);
      share.small_sample = share.n < options.small_sample;
      share.flagged = !share.small_sample && share.p_value < options.significance;
      share.flagged_without_case_type =
          !share.small_sample && share.p_value_without_case_type < options.significance;
      v.shares.push_back(share);
    }
    CaseworkerCalibration cal;
    cal.caseworker = order[s];
    cal.mean_slip_months = calibration.MeanSlip(order[s]);
    cal.raw_slip_months = calibration.RawMeanSlip(order[s]);
    cal.weight = calibration.SlipWeight(order[s]);
    cal.small_sample = cal.weight < kSmallSlipWeight;
    v.calibration.push_back(cal);
  }
  return v;
}

}  // namespace forecasting
