#include "services/forecast/dashboards.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/calendar.h"
#include "services/forecast/attention.h"
#include "services/forecast/projections.h"

namespace forecast::fsvc {
namespace {

// Expectation and action health of a set of open cases.
struct Health {
  int64_t open = 0, no_expectation = 0, stale = 0, overdue_actions = 0, passed_horizon = 0;

  void Add(const CaseState& s, Day today) {
    ++open;
    overdue_actions += s.overdue_actions;
    if (s.expectation == nullptr) {
      ++no_expectation;
      return;
    }
    if (today - s.expectation->recorded_on > kStaleDays) ++stale;
    if (s.expectation->expected_month < Month(today)) ++passed_horizon;
  }
};

void SetEstimate(const forecasting::Estimate& from, v1::Estimate* to) {
  to->set_expected(from.expected);
  to->set_p10(from.p10);
  to->set_p90(from.p90);
}

void FillRow(const Health& h, v1::CaseworkerRow* row) {
  row->set_open_cases(h.open);
  row->set_no_expectation(h.no_expectation);
  row->set_stale_expectation(h.stale);
  row->set_overdue_actions(h.overdue_actions);
  row->set_passed_horizon(h.passed_horizon);
}

// Closures of today's open cases at `positions` within the next three months (no inflow).
absl::StatusOr<forecasting::Projection> NextThreeMonths(const CentreView& view,
                                                        const std::vector<int32_t>& positions,
                                                        forecasting::ModelKind model) {
  forecasting::ProjectionRequest request;
  request.model = model;
  request.horizon_months = 3;
  return view.projector().Project(positions, request);
}

}  // namespace

absl::StatusOr<v1::CaseworkerDashboard> BuildCaseworkerDashboard(const CentreView& view,
                                                                 int64_t caseworker_id) {
  const CentreHistory& h = view.history();
  const Catalogue& cat = h.catalogue;
  const Day today = view.today();
  const ScopeFilter scope{ScopeFilter::Kind::kCaseworker, caseworker_id};
  const std::vector<int32_t> positions = view.Positions(scope);

  v1::CaseworkerDashboard out;
  out.set_caseworker(h.StaffCode(caseworker_id));
  out.set_as_of(FormatDay(today));
  out.set_revision(view.revision());
  Health health;
  std::vector<int64_t> by_type(cat.case_types.size(), 0), by_outcome(cat.outcomes.size(), 0);
  // Field counts keyed "code" (yes/no, number, date: set) or "code:choice".
  std::vector<std::pair<std::string, int64_t>> by_field;
  std::map<std::string, size_t> field_slot;
  for (const FieldDef& f : h.fields) {
    if (f.type == FieldType::kChoice) {
      for (const std::string& c : f.choices) {
        field_slot[absl::StrCat(f.code, ":", c)] = by_field.size();
        by_field.push_back({absl::StrCat(f.code, ":", c), 0});
      }
    } else {
      field_slot[f.code] = by_field.size();
      by_field.push_back({f.code, 0});
    }
  }
  for (int32_t pos : positions) {
    const CaseState& s = view.OpenCase(pos);
    health.Add(s, today);
    if (s.record->case_type >= 0) ++by_type[s.record->case_type];
    if (s.expectation != nullptr && s.expectation->outcome >= 0)
      ++by_outcome[s.expectation->outcome];
    for (size_t f = 0; f < h.fields.size(); ++f) {
      const FieldValue& v = s.fields[f];
      if (!v.IsSet(h.fields[f].type)) continue;
      const std::string key = h.fields[f].type == FieldType::kChoice
                                  ? absl::StrCat(h.fields[f].code, ":", v.text)
                                  : h.fields[f].code;
      auto slot = field_slot.find(key);
      if (slot != field_slot.end()) ++by_field[slot->second].second;
    }
  }
  out.set_open_cases(health.open);
  out.set_no_expectation(health.no_expectation);
  out.set_stale_expectation(health.stale);
  out.set_overdue_actions(health.overdue_actions);
  out.set_passed_horizon(health.passed_horizon);
  for (size_t t = 0; t < by_type.size(); ++t) {
    if (by_type[t] == 0) continue;
    v1::Count* c = out.add_by_case_type();
    c->set_key(cat.case_types[t]);
    c->set_count(by_type[t]);
  }
  for (const auto& [key, count] : by_field) {
    v1::Count* c = out.add_by_field();
    c->set_key(key);
    c->set_count(count);
  }
  for (size_t o = 0; o < by_outcome.size(); ++o) {
    if (by_outcome[o] == 0) continue;
    v1::Count* c = out.add_by_expected_outcome();
    c->set_key(cat.outcomes[o]);
    c->set_count(by_outcome[o]);
  }

  absl::StatusOr<forecasting::Projection> p =
      NextThreeMonths(view, positions, forecasting::ModelKind::kCalibrated);
  if (!p.ok()) return p.status();
  for (int m = 0; m < p->horizon_months; ++m) {
    const std::string month = FormatMonth(FromModelMonth(p->first_month + m));
    for (int o = 0; o <= p->num_outcomes; ++o) {
      const forecasting::Estimate& e = p->Closures(m, o);
      if (o < p->num_outcomes && e.expected < 0.005) continue;  // outcomes nobody heads for
      v1::OutcomeMonth* om = out.add_expected_closures_next_3_months();
      om->set_month(month);
      om->set_outcome(o == p->num_outcomes ? "ALL" : cat.outcomes[o]);
      SetEstimate(e, om->mutable_closures());
    }
  }
  *out.mutable_explanation() =
      ExplainMethod(forecasting::ModelKind::kCalibrated, p->open_cases, view.models());
  out.set_closures_model(v1::CALIBRATED);
  for (v1::CaseAttention& item : RankAttention(view, scope, kDashboardAttention)) {
    *out.add_attention() = std::move(item);
  }
  return out;
}

absl::StatusOr<v1::Variation> BuildVariation(const CentreView& view, int64_t team_id) {
  absl::StatusOr<forecasting::Variation> v = view.TeamVariation(team_id);
  if (!v.ok()) return v.status();
  const CentreHistory& h = view.history();
  v1::Variation out;
  out.set_team(h.UnitCode(team_id));
  for (const forecasting::OutcomeShare& s : v->shares) {
    v1::OutcomeShare* o = out.add_shares();
    o->set_caseworker(h.StaffCode(view.inputs().index.caseworker_ids[s.caseworker]));
    o->set_outcome(h.catalogue.OutcomeCode(s.outcome));
    o->set_n(s.n);
    o->set_count(s.count);
    o->set_share(s.share);
    o->set_low(s.low);
    o->set_high(s.high);
    o->set_team_share(s.team_share);
    o->set_flagged(s.flagged);
    o->set_small_sample(s.small_sample);
    o->set_expected_share(s.expected_share);
    o->set_flagged_without_case_type(s.flagged_without_case_type);
  }
  v1::Explanation* e = out.mutable_explanation();
  e->set_method_key("variation.outcome_shares");
  e->set_method(absl::StrCat(
      "For each caseworker: the share of open cases with an expectation that are expected to end "
      "in each outcome, with an 80% interval (Wilson), against the whole team's share and "
      "against the share expected from the caseworker's own case mix (the team's share in each "
      "case type, weighted by the caseworker's cases of that type). The comparison is made "
      "within case type, so that case mix does not pass for habit: flagged only where the exact "
      "test against the rest of the team, case type by case type, gives p < 0.05 and the "
      "caseworker has at least 10 such cases. n = ",
      v->n, " cases with an expectation."));
  e->set_n(v->n);
  e->set_small_sample(v->n < kSmallSample);
  return out;
}

v1::VariationCases BuildVariationCases(const CentreView& view, int64_t team_id,
                                       int64_t caseworker_id, int outcome) {
  const CentreHistory& h = view.history();
  const Catalogue& cat = h.catalogue;
  v1::VariationCases out;
  out.set_team(h.UnitCode(team_id));
  out.set_caseworker(h.StaffCode(caseworker_id));
  out.set_outcome(cat.OutcomeCode(outcome));
  out.set_as_of(FormatDay(view.today()));
  const Month month = view.month();
  std::vector<const CaseState*> behind;
  for (int32_t pos : view.Positions({ScopeFilter::Kind::kTeam, team_id})) {
    const CaseState& s = view.OpenCase(pos);
    if (s.caseworker_id != caseworker_id || s.expectation == nullptr) continue;
    out.set_n(out.n() + 1);
    if (outcome >= 0 && s.expectation->outcome != outcome) continue;
    behind.push_back(&s);
  }
  std::sort(behind.begin(), behind.end(), [](const CaseState* a, const CaseState* b) {
    return std::tie(a->expectation->expected_month, a->record->ref) <
           std::tie(b->expectation->expected_month, b->record->ref);
  });
  for (const CaseState* s : behind) {
    const ExpectationEvent& e = *s->expectation;
    v1::VariationCase* c = out.add_cases();
    c->set_case_ref(s->record->ref);
    if (s->record->case_type >= 0 &&
        s->record->case_type < static_cast<int>(cat.case_types.size())) {
      c->set_case_type(cat.case_types[s->record->case_type]);
    }
    c->set_expected_outcome(cat.OutcomeCode(e.outcome));
    c->set_expected_month(FormatMonth(e.expected_month));
    c->set_risk(cat.RiskCode(e.risk));
    c->set_horizon_passed(e.expected_month < month);
    c->set_agreed_in_dialogue(e.agreed_in_dialogue);
  }
  return out;
}

absl::StatusOr<v1::TeamDashboard> BuildTeamDashboard(const CentreView& view, int64_t team_id,
                                                     const std::vector<v1::ModelAccuracy>& accuracy,
                                                     const std::string& computed_at) {
  const CentreHistory& h = view.history();
  const Day today = view.today();
  const std::vector<int32_t> positions = view.Positions({ScopeFilter::Kind::kTeam, team_id});
  // Rows in caseworker-code order; positions per caseworker.
  std::map<std::string, std::pair<int64_t, std::vector<int32_t>>> by_caseworker;
  Health total;
  for (int32_t pos : positions) {
    const CaseState& s = view.OpenCase(pos);
    auto& slot = by_caseworker[h.StaffCode(s.caseworker_id)];
    slot.first = s.caseworker_id;
    slot.second.push_back(pos);
    total.Add(s, today);
  }
  const OrgUnit* team = h.Unit(team_id);
  v1::TeamDashboard out;
  out.set_team(team == nullptr ? "" : team->code);
  out.set_team_name(team == nullptr ? "" : team->name);
  out.set_as_of(FormatDay(today));
  const forecasting::CalibrationModel& calibration = view.models().calibration;
  for (const auto& [code, slot] : by_caseworker) {
    Health health;
    for (int32_t pos : slot.second) health.Add(view.OpenCase(pos), today);
    v1::CaseworkerRow* row = out.add_rows();
    row->set_caseworker(code);
    const StaffMember* staff = h.Staff(slot.first);
    row->set_display_name(staff == nullptr ? "" : staff->display_name);
    FillRow(health, row);
    absl::StatusOr<forecasting::Projection> p =
        NextThreeMonths(view, slot.second, forecasting::ModelKind::kCalibrated);
    if (!p.ok()) return p.status();
    SetEstimate(p->cumulative_closures[2], row->mutable_closures_next_3_months());
    auto index = view.inputs().index.caseworker.find(slot.first);
    if (index != view.inputs().index.caseworker.end()) {
      row->set_mean_slip_months(calibration.MeanSlip(index->second));
    }
  }
  v1::CaseworkerRow* totals = out.mutable_totals();
  totals->set_caseworker("ALL");
  totals->set_display_name(team == nullptr ? "" : team->name);
  FillRow(total, totals);
  absl::StatusOr<forecasting::Projection> p =
      NextThreeMonths(view, positions, forecasting::ModelKind::kCalibrated);
  if (!p.ok()) return p.status();
  SetEstimate(p->cumulative_closures[2], totals->mutable_closures_next_3_months());
  auto team_index = view.inputs().index.team.find(team_id);
  if (team_index != view.inputs().index.team.end()) {
    totals->set_mean_slip_months(calibration.TeamMeanSlip(team_index->second));
  }
  absl::StatusOr<v1::Variation> variation = BuildVariation(view, team_id);
  if (!variation.ok()) return variation.status();
  *out.mutable_variation() = std::move(*variation);
  for (const v1::ModelAccuracy& a : accuracy) *out.add_accuracy() = a;
  out.set_revision(view.revision());
  out.set_computed_at(computed_at);
  out.set_closures_model(v1::CALIBRATED);
  return out;
}

}  // namespace forecast::fsvc
