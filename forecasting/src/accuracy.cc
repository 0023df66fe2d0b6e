#include "forecasting/accuracy.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "forecasting/projector.h"

namespace forecasting {
namespace {

int32_t Band(int32_t h) { return h < 3 ? 0 : (h < 6 ? 1 : 2); }

struct Tally {
  double abs_error = 0, error = 0, inside = 0, actual = 0;
  double band_abs[3] = {0, 0, 0}, band_inside[3] = {0, 0, 0}, band_err[3] = {0, 0, 0};
  int64_t band_n[3] = {0, 0, 0};
  int64_t n = 0;

  void Add(int32_t h, const Estimate& e, double actual_value) {
    const double err = e.expected - actual_value;
    abs_error += std::abs(err);
    error += err;
    const double in = actual_value >= e.p10 && actual_value <= e.p90 ? 1.0 : 0.0;
    inside += in;
    band_inside[Band(h)] += in;
    actual += actual_value;
    band_abs[Band(h)] += std::abs(err);
    band_err[Band(h)] += err;
    ++band_n[Band(h)];
    ++n;
  }
  void Merge(const Tally& o) {
    abs_error += o.abs_error;
    error += o.error;
    inside += o.inside;
    actual += o.actual;
    for (int b = 0; b < 3; ++b) {
      band_abs[b] += o.band_abs[b];
      band_inside[b] += o.band_inside[b];
      band_err[b] += o.band_err[b];
      band_n[b] += o.band_n[b];
    }
    n += o.n;
  }
  LevelAccuracy Result() const {
    LevelAccuracy a;
    a.n = n;
    if (n == 0) return a;
    a.mae = abs_error / n;
    a.bias = error / n;
    a.coverage = inside / n;
    a.mean_actual = actual / n;
    for (int b = 0; b < 3; ++b) {
      a.mae_band[b] = band_n[b] > 0 ? band_abs[b] / band_n[b] : 0.0;
      a.coverage_band[b] = band_n[b] > 0 ? band_inside[b] / band_n[b] : 0.0;
      a.bias_band[b] = band_n[b] > 0 ? band_err[b] / band_n[b] : 0.0;
    }
    return a;
  }
};

struct ModelTally {
  Tally level[kNumHarnessLevels];
  Tally centre_all, team_outcome, centre_outcome;
  void Merge(const ModelTally& o) {
    for (int l = 0; l < kNumHarnessLevels; ++l) level[l].Merge(o.level[l]);
    centre_all.Merge(o.centre_all);
    team_outcome.Merge(o.team_outcome);
    centre_outcome.Merge(o.centre_outcome);
  }
  ModelHarnessResult Result(ModelKind model) const {
    ModelHarnessResult r;
    r.model = model;
    for (int l = 0; l < kNumHarnessLevels; ++l) r.level[l] = level[l].Result();
    r.centre_all = centre_all.Result();
    r.team_outcome = team_outcome.Result();
    r.centre_outcome = centre_outcome.Result();
    return r;
  }
};

}  // namespace

absl::StatusOr<HarnessResult> RunAccuracyHarness(const HarnessOptions& options) {
  if (options.centres.empty()) return absl::InvalidArgumentError("options.centres: empty");
  if (options.origins < 1 || options.origin_step < 1) {
    return absl::InvalidArgumentError("options.origins / origin_step: must be >= 1");
  }
  if (options.horizon_months < 1 || options.horizon_months > kMaxHorizonMonths) {
    return absl::InvalidArgumentError("options.horizon_months: out of range");
  }
  if (options.models.empty()) return absl::InvalidArgumentError("options.models: empty");
  const size_t M = options.models.size();
  const int32_t H = options.horizon_months;
  HarnessResult result;
  std::vector<ModelTally> pooled(M);
  for (size_t ci = 0; ci < options.centres.size(); ++ci) {
    const SyntheticSpec& spec = options.centres[ci];
    auto centre = GenerateJobCentre(spec);
    if (!centre.ok()) return centre.status();
    const MonthIndex end = MakeMonth(centre->today.year, centre->today.month);
    auto compiled = CompileJobCentre(*centre, end);
    if (!compiled.ok()) return compiled.status();
    const Catalogue& catalogue = compiled->catalogue;
    const History& history = compiled->history;
    const int32_t G = catalogue.num_teams, W = catalogue.num_caseworkers();
    const int32_t K = catalogue.num_outcomes();
    const MonthIndex last_origin = end - H;
    const MonthIndex first_origin = last_origin - (options.origins - 1) * options.origin_step;
    if (first_origin <= ObservedFrom(history) + 6) {
      return absl::InvalidArgumentError(absl::StrCat("centre ", ci + 1, ": too little history for ",
                                                     options.origins, " origins of ", H,
                                                     " months"));
    }
    std::vector<ModelTally> local(M);
    for (MonthIndex origin = first_origin; origin <= last_origin; origin += options.origin_step) {
      auto fitted = FittedModels::Fit(catalogue, history, origin, options.fit);
      if (!fitted.ok()) return fitted.status();
      std::vector<int32_t> pos;
      const Portfolio portfolio = SnapshotAt(history, origin, &pos);
      auto projector = Projector::Create(portfolio, *fitted);
      if (!projector.ok()) return projector.status();
      // Scopes: the centre, each team, each caseworker (by the case's holder in the history).
      std::vector<std::vector<int32_t>> team_members(G), worker_members(W);
      std::vector<double> centre_actual(H, 0.0), new_actual(H, 0.0);
      std::vector<std::vector<double>> team_actual(G, std::vector<double>(H, 0.0)),
          worker_actual(W, std::vector<double>(H, 0.0)),
          team_outcome_actual(G, std::vector<double>(static_cast<size_t>(H) * K, 0.0));
      std::vector<double> centre_outcome_actual(static_cast<size_t>(H) * K, 0.0);
      for (size_t i = 0; i < portfolio.cases.size(); ++i) {
        const CaseRecord& r = history.cases[pos[i]];
        team_members[r.team].push_back(static_cast<int32_t>(i));
        worker_members[r.caseworker].push_back(static_cast<int32_t>(i));
        if (r.closed_month.has_value() && *r.closed_month - origin < H) {
          const int32_t h = *r.closed_month - origin;
          centre_actual[h] += 1;
          team_actual[r.team][h] += 1;
          worker_actual[r.caseworker][h] += 1;
          team_outcome_actual[r.team][static_cast<size_t>(h) * K + r.outcome] += 1;
          centre_outcome_actual[static_cast<size_t>(h) * K + r.outcome] += 1;
        }
      }
      for (const CaseRecord& r : history.cases) {
        if (r.opened_month < origin || !r.closed_month.has_value()) continue;
        if (*r.closed_month - origin < H) new_actual[*r.closed_month - origin] += 1;
      }
      for (size_t m = 0; m < M; ++m) {
        ProjectionRequest request;
        request.model = options.models[m];
        request.horizon_months = H;
        request.inflow = &fitted->inflow;
        auto all = projector->ProjectAll(request);
        if (!all.ok()) return all.status();
        for (int32_t h = 0; h < H; ++h) {
          local[m].level[kCentreLevel].Add(h, all->Closures(h, K), centre_actual[h]);
          local[m].centre_all.Add(h, all->total_closures[h], centre_actual[h] + new_actual[h]);
          for (int32_t o = 0; o < K; ++o) {
            local[m].centre_outcome.Add(h, all->Closures(h, o),
                                        centre_outcome_actual[static_cast<size_t>(h) * K + o]);
          }
        }
        request.inflow = nullptr;
        for (int32_t g = 0; g < G; ++g) {
          if (team_members[g].empty()) continue;
          auto p = projector->Project(team_members[g], request);
          if (!p.ok()) return p.status();
          for (int32_t h = 0; h < H; ++h) {
            local[m].level[kTeamLevel].Add(h, p->Closures(h, K), team_actual[g][h]);
            for (int32_t o = 0; o < K; ++o) {
              local[m].team_outcome.Add(h, p->Closures(h, o),
                                        team_outcome_actual[g][static_cast<size_t>(h) * K + o]);
            }
          }
        }
        if (!options.caseworker_level) continue;
        for (int32_t w = 0; w < W; ++w) {
          if (worker_members[w].empty()) continue;
          auto p = projector->Project(worker_members[w], request);
          if (!p.ok()) return p.status();
          for (int32_t h = 0; h < H; ++h) {
            local[m].level[kCaseworkerLevel].Add(h, p->Closures(h, K), worker_actual[w][h]);
          }
        }
      }
    }
    CentreHarnessResult cr;
    cr.teams = G;
    cr.caseworkers = W;
    cr.open_cases = static_cast<int64_t>(compiled->portfolio.cases.size());
    cr.seasonality = spec.closure_seasonality;
    cr.name = absl::StrFormat("C%02d", static_cast<int>(ci + 1));
    for (size_t m = 0; m < M; ++m) {
      cr.models.push_back(local[m].Result(options.models[m]));
      pooled[m].Merge(local[m]);
    }
    result.centres.push_back(std::move(cr));
  }
  for (size_t m = 0; m < M; ++m) result.models.push_back(pooled[m].Result(options.models[m]));
  return result;
}

namespace {
int FindModel(const std::vector<ModelHarnessResult>& models, ModelKind kind) {
  for (size_t i = 0; i < models.size(); ++i) {
    if (models[i].model == kind) return static_cast<int>(i);
  }
  return -1;
}
}  // namespace

HarnessGoals EvaluateGoals(const HarnessResult& result) {
  HarnessGoals g;
  const int cal = FindModel(result.models, ModelKind::kCalibrated);
  const int base = FindModel(result.models, ModelKind::kBaseline);
  if (cal < 0 || base < 0 || result.centres.empty()) return g;
  double sum = 0, lo = 1e9;
  for (const CentreHarnessResult& c : result.centres) {
    const double b = c.models[base].level[kCentreLevel].mae;
    const double r = b > 0 ? 1.0 - c.models[cal].level[kCentreLevel].mae / b : 0.0;
    sum += r;
    lo = std::min(lo, r);
  }
  g.centre_reduction_mean = sum / static_cast<double>(result.centres.size());
  g.centre_reduction_min = lo;
  const double bt = result.models[base].level[kTeamLevel].mae;
  g.team_reduction = bt > 0 ? 1.0 - result.models[cal].level[kTeamLevel].mae / bt : 0.0;
  g.coverage_min = 1.0;
  g.coverage_max = 0.0;
  for (int l = 0; l < kNumHarnessLevels; ++l) {
    const LevelAccuracy& a = result.models[cal].level[l];
    if (a.n == 0) continue;
    g.coverage_min = std::min(g.coverage_min, a.coverage);
    g.coverage_max = std::max(g.coverage_max, a.coverage);
  }
  g.met = g.centre_reduction_mean >= 0.25 && g.centre_reduction_min >= 0.10 &&
          g.team_reduction >= 0.12 && g.coverage_min >= 0.75 && g.coverage_max <= 0.85;
  return g;
}

std::string FormatHarness(const HarnessResult& result) {
  static const char* const kLevel[] = {"caseworker", "team", "centre"};
  std::string out;
  absl::StrAppend(
      &out,
      "| model | level | MAE | 1-3 | 4-6 | 7-12 | bias | by horizon | 80% coverage | by horizon | "
      "mean actual | n |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const ModelHarnessResult& m : result.models) {
    for (int l = 0; l < kNumHarnessLevels; ++l) {
      const LevelAccuracy& a = m.level[l];
      if (a.n == 0) continue;
      absl::StrAppendFormat(
          &out,
          "| %s | %s | %.2f | %.2f | %.2f | %.2f | %+.2f | %+.2f / %+.2f / %+.2f | %.3f | "
          "%.2f / %.2f / %.2f | %.1f | %d |\n",
          ModelKey(m.model), kLevel[l], a.mae, a.mae_band[0], a.mae_band[1], a.mae_band[2], a.bias,
          a.bias_band[0], a.bias_band[1], a.bias_band[2], a.coverage, a.coverage_band[0],
          a.coverage_band[1], a.coverage_band[2], a.mean_actual, a.n);
    }
    const std::pair<const char*, const LevelAccuracy*> by_outcome[] = {
        {"team, by outcome", &m.team_outcome}, {"centre, by outcome", &m.centre_outcome}};
    for (const auto& [label, acc] : by_outcome) {
      const LevelAccuracy& b = *acc;
      if (b.n == 0) continue;
      absl::StrAppendFormat(&out,
                            "| %s | %s | %.2f | %.2f | %.2f | %.2f | %+.2f | %+.2f / %+.2f / %+.2f "
                            "| %.3f | %.2f / %.2f / %.2f | %.1f | %d |\n",
                            ModelKey(m.model), label, b.mae, b.mae_band[0], b.mae_band[1],
                            b.mae_band[2], b.bias, b.bias_band[0], b.bias_band[1], b.bias_band[2],
                            b.coverage, b.coverage_band[0], b.coverage_band[1], b.coverage_band[2],
                            b.mean_actual, b.n);
    }
    const LevelAccuracy& a = m.centre_all;
    absl::StrAppendFormat(
        &out,
        "| %s | centre, with new cases | %.2f | %.2f | %.2f | %.2f | %+.2f | %+.2f / %+.2f / %+.2f "
        "| %.3f | %.2f / %.2f / %.2f | %.1f | %d |\n",
        ModelKey(m.model), a.mae, a.mae_band[0], a.mae_band[1], a.mae_band[2], a.bias,
        a.bias_band[0], a.bias_band[1], a.bias_band[2], a.coverage, a.coverage_band[0],
        a.coverage_band[1], a.coverage_band[2], a.mean_actual, a.n);
  }
  const int cal = FindModel(result.models, ModelKind::kCalibrated);
  const int base = FindModel(result.models, ModelKind::kBaseline);
  if (cal >= 0 && base >= 0) {
    absl::StrAppend(
        &out,
        "\n| centre | teams | caseworkers | open cases | closure calendar | calibrated, team | "
        "baseline, team | calibrated, centre | baseline, centre | centre reduction | "
        "coverage cw / team / centre |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (const CentreHarnessResult& c : result.centres) {
      const ModelHarnessResult& a = c.models[cal];
      const ModelHarnessResult& b = c.models[base];
      absl::StrAppendFormat(
          &out,
          "| %s | %d | %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f%% | %.2f / %.2f / %.2f |\n",
          c.name, c.teams, c.caseworkers, c.open_cases, c.seasonality, a.level[kTeamLevel].mae,
          b.level[kTeamLevel].mae, a.level[kCentreLevel].mae, b.level[kCentreLevel].mae,
          100.0 * (1.0 - a.level[kCentreLevel].mae / std::max(1e-9, b.level[kCentreLevel].mae)),
          a.level[kCaseworkerLevel].coverage, a.level[kTeamLevel].coverage,
          a.level[kCentreLevel].coverage);
    }
    const HarnessGoals g = EvaluateGoals(result);
    absl::StrAppendFormat(
        &out,
        "\nGoals (calibrated vs baseline): centre error reduction mean %.0f%% (goal >= 25%%), "
        "min %.0f%% (goal >= 10%%); team error reduction %.0f%% (goal >= 12%%); 80%% coverage "
        "%.3f-%.3f over levels (goal 0.75-0.85): %s\n",
        100 * g.centre_reduction_mean, 100 * g.centre_reduction_min, 100 * g.team_reduction,
        g.coverage_min, g.coverage_max, g.met ? "MET" : "NOT MET");
  }
  return out;
}

}  // namespace forecasting
