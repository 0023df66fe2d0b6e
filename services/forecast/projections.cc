#include "services/forecast/projections.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/common/calendar.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"

namespace forecast::fsvc {
namespace {

void SetEstimate(const forecasting::Estimate& from, v1::Estimate* to) {
  to->set_expected(from.expected);
  to->set_p10(from.p10);
  to->set_p90(from.p90);
}

std::string MonthText(forecasting::MonthIndex m) { return FormatMonth(FromModelMonth(m)); }

std::string RiskProbabilities(const forecasting::Catalogue& cat) {
  std::vector<std::string> parts;
  for (int r = 0; r < cat.num_risks(); ++r) {
    parts.push_back(absl::StrFormat("%s %.0f%%", cat.risks[r], 100 * cat.risk_probability[r]));
  }
  return absl::StrJoin(parts, ", ");
}

// Today's cases' closures by the end of the 3rd and 12th month, and their split by forecast
// category (the projection must have been asked for categories).
void SetTotalsAndCategories(const forecasting::Projection& p, const forecasting::Catalogue& cat,
                            v1::Projection& out) {
  const int32_t H = p.horizon_months;
  if (H >= 3) SetEstimate(p.cumulative_closures[2], out.mutable_closures_next_3_months());
  if (H >= 12) SetEstimate(p.cumulative_closures[11], out.mutable_closures_next_12_months());
  for (int32_t c = 0; c < forecasting::kNumCategories; ++c) {
    const auto category = static_cast<forecasting::ForecastCategory>(c);
    v1::CategoryForecast* f = out.add_categories();
    f->set_category(static_cast<v1::ForecastCategory>(c + 1));
    for (int r = 0; r < cat.num_risks(); ++r) {
      if (forecasting::RiskCategory(cat.risk_probability[r]) == category)
        f->add_risks(cat.risks[r]);
    }
    f->set_open_cases(p.category_cases[c]);
    for (int32_t h = 0; h < H; ++h) {
      v1::CategoryMonth* m = f->add_months();
      m->set_month(MonthText(p.first_month + h));
      SetEstimate(p.CategoryClosures(h, category), m->mutable_closures());
    }
    if (H >= 3) SetEstimate(p.CategoryCumulative(2, category), f->mutable_closures_next_3_months());
    if (H >= 12) {
      SetEstimate(p.CategoryCumulative(11, category), f->mutable_closures_next_12_months());
    }
  }
}

}  // namespace

absl::StatusOr<forecasting::ModelKind> ToModelKind(v1::Model model, const char* field) {
  switch (model) {
    case v1::MODEL_UNSPECIFIED:
    case v1::CALIBRATED: return forecasting::ModelKind::kCalibrated;
    case v1::AS_PLANNED: return forecasting::ModelKind::kAsPlanned;
    case v1::BASELINE: return forecasting::ModelKind::kBaseline;
    default: break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": unknown model ", static_cast<int>(model)));
}

absl::StatusOr<int> RequestedHorizon(int horizon, const char* field) {
  if (horizon == 0) return kDefaultHorizon;
  if (horizon < 1 || horizon > kMaxHorizon) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", horizon, " is outside 1..", kMaxHorizon, " months"));
  }
  return horizon;
}

v1::Explanation ExplainMethod(forecasting::ModelKind model, int64_t n,
                              const forecasting::FittedModels& models) {
  v1::Explanation e;
  e.set_n(n);
  e.set_small_sample(n < kSmallSample);
  const std::string tail = absl::StrCat(
      " Intervals are 80% (p10 to p90) and treat cases as independent; new cases follow the "
      "scope's seasonal inflow and the baseline survival of their case type. n = ",
      n, " open cases", n < kSmallSample ? " (a small sample: read the figures with care)." : ".");
  switch (model) {
    case forecasting::ModelKind::kAsPlanned:
      e.set_method_key("as_planned.closures");
      e.set_method(absl::StrCat(
          "As planned: each open case closes to its expected outcome in its expected month with "
          "the probability its risk gives (",
          RiskProbabilities(models.catalogue),
          "); the rest of its probability follows the case type's historical closure pattern. "
          "Cases without an expectation follow the baseline.",
          tail));
      break;
    case forecasting::ModelKind::kCalibrated:
      e.set_method_key("calibrated.closures");
      e.set_method(absl::StrCat(
          "Calibrated: today's expectations, corrected by how reality has departed from "
          "expectations in the past (closure chance by risk, months to the expected month and "
          "case type, per team and caseworker, small groups pulled toward the team), learned "
          "from ",
          models.calibration.person_months(),
          " case-months with an expectation in force. Cases without an expectation follow the "
          "baseline.",
          tail));
      break;
    case forecasting::ModelKind::kBaseline:
      e.set_method_key("baseline.closures");
      e.set_method(absl::StrCat(
          "Baseline: the chance of closing each month and to which outcome, by case type and "
          "months open, learned from the job centre's closed and open cases (competing risks); "
          "expectations are not used.",
          tail));
      break;
  }
  return e;
}

absl::StatusOr<uint64_t> CaseTypeMask(const Catalogue& catalogue,
                                      const std::vector<std::string>& case_types) {
  if (case_types.empty()) return ~uint64_t{0};
  const auto& types = catalogue.case_types;
  uint64_t mask = 0;
  for (size_t i = 0; i < case_types.size(); ++i) {
    const auto it = std::find(types.begin(), types.end(), case_types[i]);
    if (it == types.end() || it - types.begin() >= 64) {
      return FieldError(absl::StrCat("case_types[", i, "]"), "UNKNOWN_CASE_TYPE",
                        absl::StrCat("case_types[", i, "]: \"", case_types[i],
                                     "\" is not a case type of this job centre"),
                        {{"value", case_types[i]}});
    }
    mask |= uint64_t{1} << (it - types.begin());
  }
  return mask;
}

absl::StatusOr<v1::Projection> BuildProjection(const CentreView& view, const ScopeFilter& scope,
                                               const v1::Scope& scope_message,
                                               forecasting::ModelKind model, int horizon,
                                               const v1::ModelAccuracy* accuracy,
                                               const std::vector<std::string>& case_types,
                                               bool categories) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<int32_t> positions = view.Positions(scope);
  ASSIGN_OR_RETURN(const uint64_t mask, CaseTypeMask(view.history().catalogue, case_types));
  if (!case_types.empty()) {
    positions.erase(std::remove_if(positions.begin(), positions.end(),
                                   [&](int32_t pos) {
                                     const CaseTimeline* r = view.OpenCase(pos).record;
                                     return r == nullptr || r->case_type < 0 ||
                                            r->case_type >= 64 || (mask >> r->case_type & 1) == 0;
                                   }),
                    positions.end());
  }
  forecasting::ProjectionRequest request;
  request.model = model;
  request.horizon_months = horizon;
  request.inflow = &view.ScopeInflow(scope, mask);
  request.categories = categories;
  absl::StatusOr<forecasting::Projection> p = view.projector().Project(positions, request);
  if (!p.ok()) return p.status();

  v1::Projection out;
  *out.mutable_scope() = scope_message;
  for (const std::string& type : case_types) out.add_case_types(type);
  out.set_model(static_cast<v1::Model>(model));
  out.set_as_of(FormatDay(view.today()));
  out.set_open_cases(p->open_cases);
  const auto& outcomes = view.inputs().catalogue.outcomes;
  for (int h = 0; h < p->horizon_months; ++h) {
    const std::string month = MonthText(p->first_month + h);
    for (int o = 0; o <= p->num_outcomes; ++o) {
      v1::OutcomeMonth* om = out.add_closures();
      om->set_month(month);
      om->set_outcome(o == p->num_outcomes ? "ALL" : outcomes[o]);
      SetEstimate(p->Closures(h, o), om->mutable_closures());
    }
    v1::CaseloadMonth* cm = out.add_caseload();
    cm->set_month(month);
    SetEstimate(p->open[h], cm->mutable_open());
    if (h < static_cast<int>(p->inflow.size())) SetEstimate(p->inflow[h], cm->mutable_inflow());
  }
  if (categories) SetTotalsAndCategories(*p, view.inputs().catalogue, out);
  *out.mutable_explanation() = ExplainMethod(model, p->open_cases, view.models());
  if (accuracy != nullptr) *out.mutable_accuracy() = *accuracy;
  out.set_compute_ms(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  return out;
}

absl::StatusOr<v1::TeamComparison> BuildTeamComparison(const CentreView& view,
                                                       int64_t department_id,
                                                       forecasting::ModelKind model, int horizon) {
  v1::TeamComparison out;
  out.set_model(static_cast<v1::Model>(model));
  for (const OrgUnit& unit : view.history().units) {
    if (!unit.is_team || (department_id != 0 && unit.parent_id != department_id)) continue;
    const ScopeFilter scope{ScopeFilter::Kind::kTeam, unit.id};
    const std::vector<int32_t> positions = view.Positions(scope);
    forecasting::ProjectionRequest request;
    request.model = model;
    request.horizon_months = std::max(horizon, 3);
    request.inflow = &view.ScopeInflow(scope);
    absl::StatusOr<forecasting::Projection> p = view.projector().Project(positions, request);
    if (!p.ok()) return p.status();
    v1::TeamProjectionSummary* t = out.add_teams();
    t->set_team(unit.code);
    t->set_team_name(unit.name);
    t->set_open_cases(p->open_cases);
    SetEstimate(p->cumulative_closures[2], t->mutable_closures_next_3_months());
    SetEstimate(p->open[horizon - 1], t->mutable_caseload_at_horizon());
    for (int h = 0; h < horizon; ++h) {
      v1::OutcomeMonth* om = t->add_closures();
      om->set_month(MonthText(p->first_month + h));
      om->set_outcome("ALL");
      SetEstimate(p->Closures(h, p->num_outcomes), om->mutable_closures());
    }
    *t->mutable_explanation() = ExplainMethod(model, p->open_cases, view.models());
  }
  return out;
}

absl::StatusOr<v1::CaseExplanation> BuildCaseExplanation(const CentreView& view, int64_t case_id,
                                                         forecasting::ModelKind model,
                                                         int horizon) {
  const int32_t position = view.PositionOf(case_id);
  const CaseTimeline* record = view.history().CaseById(case_id);
  const std::string ref = record == nullptr ? std::string() : record->ref;
  if (position < 0) {
    return absl::NotFoundError(
        absl::StrCat("case_ref: ", ref, " is not open on ", FormatDay(view.today())));
  }
  absl::StatusOr<forecasting::CaseDistribution> d =
      view.projector().Explain(position, model, horizon);
  if (!d.ok()) return d.status();
  v1::CaseExplanation out;
  out.set_case_ref(ref);
  out.set_model(static_cast<v1::Model>(model));
  const auto& outcomes = view.inputs().catalogue.outcomes;
  for (int h = 0; h < d->horizon_months; ++h) {
    for (int o = 0; o < d->num_outcomes; ++o) {
      const double p = d->P(h, o);
      if (p < 1e-4) continue;  // keep the answer readable; the rest is in still_open / others
      v1::CaseOutcomeMonth* m = out.add_probabilities();
      m->set_month(MonthText(d->first_month + h));
      m->set_outcome(outcomes[o]);
      m->set_probability(p);
    }
  }
  out.set_still_open_at_horizon(d->still_open_at_horizon);
  for (const std::string& reason : d->reasons) out.add_reasons(reason);
  for (const auto& reason : d->reason_details) {
    v1::ExplanationReason* r = out.add_reason_details();
    r->set_code(reason.code);
    for (const auto& [name, value] : reason.params) (*r->mutable_params())[name] = value;
  }
  return out;
}

absl::StatusOr<BacktestAnswer> RunBacktest(const CentreView& view, const ScopeFilter& scope,
                                           int lookback) {
  const ModelInputs& in = view.inputs();
  forecasting::BacktestOptions options;
  options.as_of_month = in.portfolio.as_of_month;
  options.lookback_months = lookback;
  // Four origins over the look-back keep the cost at four fits; each is compared on up to three
  // months ahead (what the dashboards show).
  options.origin_step = std::max(1, lookback / 4);
  options.horizon_months = 3;
  const CentreHistory& h = view.history();
  const int64_t id = scope.id;
  switch (scope.kind) {
    case ScopeFilter::Kind::kJobCentre: break;
    case ScopeFilter::Kind::kTeam: {
      auto it = in.index.team.find(id);
      const int32_t team = it == in.index.team.end() ? -1 : it->second;
      options.in_scope = [team](const forecasting::CaseRecord& r) { return r.team == team; };
      break;
    }
    case ScopeFilter::Kind::kCaseworker: {
      auto it = in.index.caseworker.find(id);
      const int32_t cw = it == in.index.caseworker.end() ? -1 : it->second;
      options.in_scope = [cw](const forecasting::CaseRecord& r) { return r.caseworker == cw; };
      break;
    }
    case ScopeFilter::Kind::kDepartment: {
      std::vector<bool> member(in.index.team_ids.size(), false);
      for (size_t t = 0; t < in.index.team_ids.size(); ++t) {
        const OrgUnit* u = h.Unit(in.index.team_ids[t]);
        member[t] = u != nullptr && u->parent_id == id;
      }
      options.in_scope = [member](const forecasting::CaseRecord& r) {
        return r.team >= 0 && static_cast<size_t>(r.team) < member.size() && member[r.team];
      };
      break;
    }
  }
  std::vector<forecasting::BacktestFigure> figures;
  absl::StatusOr<std::vector<forecasting::ModelAccuracy>> result =
      forecasting::Backtest(in.catalogue, in.past->history, options, &figures);
  if (!result.ok()) return result.status();
  BacktestAnswer answer;
  for (const forecasting::BacktestFigure& f : figures) {
    if (f.model == forecasting::ModelKind::kCalibrated) answer.calibrated.push_back(f);
  }
  std::vector<v1::ModelAccuracy>& out = answer.models;
  for (const forecasting::ModelAccuracy& a : *result) {
    v1::ModelAccuracy m;
    m.set_model(static_cast<v1::Model>(a.model));
    m.set_mean_abs_error(a.mean_abs_error);
    m.set_interval_coverage(a.interval_coverage);
    m.set_brier_score(a.brier_score);
    m.set_n_months(a.n_months);
    m.set_n_cases(a.n_cases);
    out.push_back(m);
  }
  return answer;
}

}  // namespace forecast::fsvc
