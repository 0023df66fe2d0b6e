#include "services/forecast/centre_view.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"

namespace forecast::fsvc {
namespace {

// Inflow is learned from this many months before the view's month.
constexpr int kInflowMonths = 36;

bool SameCatalogue(const forecasting::Catalogue& a, const forecasting::Catalogue& b) {
  return a.case_types == b.case_types && a.outcomes == b.outcomes && a.risks == b.risks &&
         a.risk_probability == b.risk_probability && a.num_teams == b.num_teams &&
         a.caseworker_team == b.caseworker_team;
}

int ScopeKey(ScopeFilter::Kind kind) { return static_cast<int>(kind); }

}  // namespace

forecasting::MonthIndex ToModelMonth(Month month) {
  return forecasting::MakeMonth(static_cast<int>(month.year()), month.month());
}

Month FromModelMonth(forecasting::MonthIndex month) {
  return Month(forecasting::YearOf(month), forecasting::MonthOfYear(month));
}

ModelInputs BuildModelInputs(const CentreSnapshot& snapshot,
                             std::shared_ptr<const PastInputs> past) {
  const CentreHistory& h = snapshot.history();
  ModelInputs in;
  forecasting::Catalogue& cat = in.catalogue;
  cat.case_types = h.catalogue.case_types;
  cat.outcomes = h.catalogue.outcomes;
  cat.risks = h.catalogue.risks;
  for (double p : h.catalogue.risk_probability) {
    cat.risk_probability.push_back(std::clamp(p, 0.01, 1.0));
  }
  // Teams and staff in id order, so indices are stable while the organisation does not change.
  for (const OrgUnit& u : h.units) {
    if (u.is_team) in.index.team_ids.push_back(u.id);
  }
  std::sort(in.index.team_ids.begin(), in.index.team_ids.end());
  if (in.index.team_ids.empty()) in.index.team_ids.push_back(0);
  for (size_t i = 0; i < in.index.team_ids.size(); ++i) {
    in.index.team[in.index.team_ids[i]] = static_cast<int32_t>(i);
  }
  cat.num_teams = static_cast<int32_t>(in.index.team_ids.size());
  for (const StaffMember& s : h.staff) in.index.caseworker_ids.push_back(s.id);
  std::sort(in.index.caseworker_ids.begin(), in.index.caseworker_ids.end());
  for (size_t i = 0; i < in.index.caseworker_ids.size(); ++i) {
    const int64_t id = in.index.caseworker_ids[i];
    in.index.caseworker[id] = static_cast<int32_t>(i);
    const StaffMember* s = h.Staff(id);
    auto team = in.index.team.find(s == nullptr ? 0 : s->team_id);
    cat.caseworker_team.push_back(team == in.index.team.end() ? 0 : team->second);
  }

  auto team_of = [&](int64_t id) {
    auto it = in.index.team.find(id);
    return it == in.index.team.end() ? 0 : it->second;
  };
  auto caseworker_of = [&](int64_t id) {
    auto it = in.index.caseworker.find(id);
    return it == in.index.caseworker.end() ? -1 : it->second;
  };
  const forecasting::MonthIndex as_of = ToModelMonth(Month(snapshot.today()));
  in.portfolio.as_of_month = as_of;
  const auto& cases = snapshot.cases();
  const ViewDays& view = snapshot.view();
  std::shared_ptr<PastInputs> fresh;
  if (past == nullptr) fresh = std::make_shared<PastInputs>();
  for (size_t pos = 0; pos < cases.size(); ++pos) {
    const CaseState& state = cases[pos];
    const CaseTimeline& record = *state.record;
    const int32_t caseworker = caseworker_of(state.caseworker_id);
    if (record.case_type < 0 || caseworker < 0) continue;  // not mappable: left out of models
    if (!state.open && state.closure_outcome < 0) continue;

    if (fresh != nullptr) {
      forecasting::CaseRecord rec;
      rec.case_id = record.id;
      rec.case_type = record.case_type;
      rec.team = team_of(state.team_id);
      rec.caseworker = caseworker;
      rec.opened_month = ToModelMonth(Month(record.opened_on));
      if (!state.open) {
        rec.closed_month = std::max(rec.opened_month, ToModelMonth(Month(state.closed_on)));
        rec.outcome = state.closure_outcome;
      }
      for (const ExpectationEvent& e : record.expectations) {
        if (e.recorded_on > view.today) break;
        if (!view.Sees(e.recorded_on, e.known_on) || e.outcome < 0 || e.risk < 0) continue;
        forecasting::Expectation x;
        x.expected_outcome = e.outcome;
        x.expected_month = ToModelMonth(e.expected_month);
        x.risk = e.risk;
        x.recorded_month = std::max(rec.opened_month, ToModelMonth(Month(e.recorded_on)));
        const StaffMember* by = h.Staff(e.recorded_by);
        x.recorded_by =
            by != nullptr && by->role == "CASEWORKER" ? caseworker_of(e.recorded_by) : -1;
        if (rec.closed_month && x.recorded_month > *rec.closed_month) continue;
        rec.expectations.push_back(x);
      }
      fresh->history.cases.push_back(std::move(rec));
      const AssignmentEvent* first = HolderOn(record, record.opened_on, view);
      fresh->first_holder.emplace_back(first == nullptr ? 0 : first->caseworker_id,
                                       first == nullptr ? 0 : first->team_id);
    }

    if (state.open) {
      forecasting::OpenCase open;
      open.case_id = record.id;
      open.case_type = record.case_type;
      open.team = team_of(state.team_id);
      open.caseworker = caseworker;
      open.opened_month = std::min(as_of, ToModelMonth(Month(record.opened_on)));
      if (state.expectation != nullptr && state.expectation->outcome >= 0 &&
          state.expectation->risk >= 0) {
        forecasting::Expectation x;
        x.expected_outcome = state.expectation->outcome;
        x.expected_month = ToModelMonth(state.expectation->expected_month);
        x.risk = state.expectation->risk;
        x.recorded_month = ToModelMonth(Month(state.expectation->recorded_on));
        open.expectation = x;
      }
      open.action_overdue = state.overdue_actions > 0;
      in.portfolio.cases.push_back(open);
      in.portfolio_snapshot_pos.push_back(static_cast<int32_t>(pos));
    }
  }
  if (fresh != nullptr) {
    fresh->history.inflow =
        forecasting::InflowFromHistory(cat, fresh->history.cases, as_of - kInflowMonths, as_of - 1);
    past = std::move(fresh);
  }
  in.past = std::move(past);
  return in;
}

absl::StatusOr<std::shared_ptr<const CentreView>> CentreView::Build(
    std::shared_ptr<const CentreSnapshot> snapshot, const CentreView* previous, int64_t revision) {
  std::shared_ptr<CentreView> view(new CentreView());
  // Reuse the previous fit when it was for the same month and catalogue: first map without the
  // past, then decide.
  view->inputs_ =
      BuildModelInputs(*snapshot, previous != nullptr ? previous->inputs_.past : nullptr);
  const forecasting::MonthIndex month = view->inputs_.portfolio.as_of_month;
  std::shared_ptr<const forecasting::FittedModels> models;
  if (previous != nullptr && previous->models_->as_of_month == month &&
      SameCatalogue(previous->models_->catalogue, view->inputs_.catalogue)) {
    models = previous->models_;
  } else {
    if (previous != nullptr) view->inputs_ = BuildModelInputs(*snapshot, nullptr);
    absl::StatusOr<forecasting::FittedModels> fitted =
        forecasting::FittedModels::Fit(view->inputs_.catalogue, view->inputs_.past->history, month);
    if (!fitted.ok()) {
      return absl::InternalError(absl::StrCat("fitting the models: ", fitted.status().message()));
    }
    models = std::make_shared<const forecasting::FittedModels>(std::move(*fitted));
  }
  view->snapshot_ = std::move(snapshot);
  view->revision_ = revision;
  view->models_ = std::move(models);
  absl::StatusOr<forecasting::Projector> projector =
      forecasting::Projector::Create(view->inputs_.portfolio, *view->models_);
  if (!projector.ok()) {
    return absl::InternalError(
        absl::StrCat("preparing projections: ", projector.status().message()));
  }
  view->projector_.emplace(std::move(*projector));
  const auto& cases = view->inputs_.portfolio.cases;
  view->position_of_.reserve(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    view->position_of_[cases[i].case_id] = static_cast<int32_t>(i);
  }
  return std::shared_ptr<const CentreView>(std::move(view));
}

std::vector<int32_t> CentreView::Positions(const ScopeFilter& scope) const {
  std::vector<int32_t> out;
  const auto& cases = snapshot_->cases();
  for (size_t i = 0; i < inputs_.portfolio_snapshot_pos.size(); ++i) {
    const CaseState& s = cases[inputs_.portfolio_snapshot_pos[i]];
    if (scope.Covers(history(), s.caseworker_id, s.team_id)) out.push_back(static_cast<int32_t>(i));
  }
  return out;
}

const CaseState& CentreView::OpenCase(int32_t position) const {
  return snapshot_->cases()[inputs_.portfolio_snapshot_pos[position]];
}

int32_t CentreView::PositionOf(int64_t case_id) const {
  auto it = position_of_.find(case_id);
  return it == position_of_.end() ? -1 : it->second;
}

const forecasting::InflowModel& CentreView::ScopeInflow(const ScopeFilter& scope,
                                                        uint64_t type_mask) const {
  return inputs_.past->ScopeInflow(history(), inputs_.catalogue, scope,
                                   inputs_.portfolio.as_of_month, type_mask);
}

const forecasting::InflowModel& PastInputs::ScopeInflow(const CentreHistory& centre,
                                                        const forecasting::Catalogue& catalogue,
                                                        const ScopeFilter& scope,
                                                        forecasting::MonthIndex as_of,
                                                        uint64_t type_mask) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_tuple(ScopeKey(scope.kind), scope.id, type_mask);
  auto it = inflow_.find(key);
  if (it != inflow_.end()) return *it->second;
  // New cases of the scope: those whose first holder belonged to it.
  std::vector<int32_t> positions;
  for (size_t i = 0; i < first_holder.size(); ++i) {
    if (scope.Covers(centre, first_holder[i].first, first_holder[i].second)) {
      positions.push_back(static_cast<int32_t>(i));
    }
  }
  forecasting::InflowCounts counts = forecasting::InflowFromHistory(
      catalogue, history.cases, as_of - kInflowMonths, as_of - 1, &positions);
  for (size_t t = 0; t < counts.counts.size(); ++t) {
    if (t >= 64 || (type_mask >> t & 1) == 0) {
      std::fill(counts.counts[t].begin(), counts.counts[t].end(), 0.0);
    }
  }
  absl::StatusOr<forecasting::InflowModel> model =
      forecasting::InflowModel::Fit(catalogue, counts, as_of);
  // The counts come from the catalogue itself, so a fit failure is a broken invariant.
  if (!model.ok()) {
    std::fprintf(stderr, "inflow fit failed: %s\n", std::string(model.status().message()).c_str());
    std::abort();
  }
  auto stored = std::make_shared<forecasting::InflowModel>(std::move(*model));
  inflow_[key] = stored;
  return *stored;
}

absl::StatusOr<forecasting::Variation> CentreView::TeamVariation(int64_t team_id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = variation_.find(team_id);
    if (it != variation_.end()) return *it->second;
  }
  const std::vector<int32_t> positions = Positions({ScopeFilter::Kind::kTeam, team_id});
  absl::StatusOr<forecasting::Variation> v = forecasting::CompareCaseworkers(
      inputs_.portfolio, positions, inputs_.catalogue, models_->calibration);
  if (!v.ok()) return v.status();
  std::lock_guard<std::mutex> lock(mu_);
  variation_[team_id] = std::make_shared<forecasting::Variation>(*v);
  return *v;
}

}  // namespace forecast::fsvc
