#include "forecasting/backtest.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "forecasting/projector.h"

namespace forecasting {

absl::StatusOr<std::vector<ModelAccuracy>> Backtest(const Catalogue& catalogue,
                                                    const History& history,
                                                    const BacktestOptions& options,
                                                    std::vector<BacktestFigure>* figures) {
  if (options.lookback_months < 1 || options.lookback_months > 120) {
    return absl::InvalidArgumentError("options.lookback_months: must be 1..120");
  }
  if (options.origin_step < 1)
    return absl::InvalidArgumentError("options.origin_step: must be >= 1");
  if (options.horizon_months < 1 || options.horizon_months > kMaxHorizonMonths) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.horizon_months: must be 1..", kMaxHorizonMonths));
  }
  if (options.models.empty()) return absl::InvalidArgumentError("options.models: empty");
  if (auto s = ValidateCatalogue(catalogue); !s.ok()) return s;
  if (auto s = ValidateHistory(catalogue, history); !s.ok()) return s;

  std::vector<std::function<bool(const CaseRecord&)>> scopes = options.scopes;
  if (scopes.empty()) scopes.push_back(options.in_scope);
  const int32_t K = catalogue.num_outcomes();

  struct Tally {
    double abs_error = 0, error = 0, inside = 0, brier = 0;
    int64_t months = 0, case_months = 0, cases = 0;
  };
  std::vector<Tally> tally(options.models.size());

  for (MonthIndex origin = options.as_of_month - options.lookback_months;
       origin < options.as_of_month; origin += options.origin_step) {
    const int32_t H = std::min(options.horizon_months, options.as_of_month - origin);
    auto fitted = FittedModels::Fit(catalogue, history, origin, options.fit);
    if (!fitted.ok()) return fitted.status();
    std::vector<int32_t> history_pos;
    const Portfolio portfolio = SnapshotAt(history, origin, &history_pos);
    auto projector = Projector::Create(portfolio, *fitted);
    if (!projector.ok()) return projector.status();
    for (size_t s = 0; s < scopes.size(); ++s) {
      const auto& in_scope = scopes[s];
      std::vector<int32_t> members;
      for (size_t i = 0; i < portfolio.cases.size(); ++i) {
        if (!in_scope || in_scope(history.cases[history_pos[i]]))
          members.push_back(static_cast<int32_t>(i));
      }
      if (members.empty()) continue;
      std::vector<double> actual(H, 0.0);
      for (int32_t i : members) {
        const CaseRecord& r = history.cases[history_pos[i]];
        if (r.closed_month.has_value() && *r.closed_month - origin < H)
          actual[*r.closed_month - origin] += 1;
      }
      for (size_t m = 0; m < options.models.size(); ++m) {
        ProjectionRequest request;
        request.model = options.models[m];
        request.horizon_months = H;
        auto projection = projector->Project(members, request);
        if (!projection.ok()) return projection.status();
        Tally& t = tally[m];
        for (int32_t h = 0; h < H; ++h) {
          const Estimate& e = projection->Closures(h, K);
          t.abs_error += std::abs(e.expected - actual[h]);
          t.error += e.expected - actual[h];
          t.inside += (actual[h] >= e.p10 && actual[h] <= e.p90) ? 1.0 : 0.0;
          ++t.months;
          if (figures != nullptr) {
            figures->push_back(
                {options.models[m], static_cast<int32_t>(s), origin, origin + h, e, actual[h]});
          }
        }
        auto dist = projector->Distributions(members, options.models[m], H);
        if (!dist.ok()) return dist.status();
        for (size_t j = 0; j < members.size(); ++j) {
          const CaseRecord& r = history.cases[history_pos[members[j]]];
          double cumulative = 0;
          for (int32_t h = 0; h < H; ++h) {
            for (int32_t o = 0; o < K; ++o)
              cumulative += (*dist)(h * K + o, static_cast<Eigen::Index>(j));
            const double closed =
                r.closed_month.has_value() && *r.closed_month <= origin + h ? 1.0 : 0.0;
            t.brier += (cumulative - closed) * (cumulative - closed);
            ++t.case_months;
          }
          ++t.cases;
        }
      }
    }
  }
  std::vector<ModelAccuracy> out;
  for (size_t m = 0; m < options.models.size(); ++m) {
    const Tally& t = tally[m];
    ModelAccuracy a;
    a.model = options.models[m];
    a.n_months = t.months;
    a.n_cases = t.cases;
    if (t.months > 0) {
      a.mean_abs_error = t.abs_error / t.months;
      a.mean_error = t.error / t.months;
      a.interval_coverage = t.inside / t.months;
    }
    if (t.case_months > 0) a.brier_score = t.brier / t.case_months;
    out.push_back(a);
  }
  return out;
}

}  // namespace forecasting
