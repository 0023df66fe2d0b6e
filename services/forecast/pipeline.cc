#include "services/forecast/pipeline.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "services/common/calendar.h"

namespace forecast::fsvc {
namespace {

constexpr int kWindowShort = 3;
constexpr int kWindowLong = 12;

constexpr const char* kKinds[] = {
    "NEW",         "REOPENED",        "CLOSED",  "REASSIGNED", "MOVED_EARLIER",
    "MOVED_LATER", "OUTCOME_CHANGED", "RISK_UP", "RISK_DOWN",  "FIRST_EXPECTATION"};

template <size_t N>
int Rank(const char* const (&names)[N], const std::string& name) {
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<int>(i);
  }
  return static_cast<int>(N);
}

// A case's expected closures within the first 3 and 12 months of a view.
struct Contribution {
  double short_window = 0;
  double long_window = 0;
};

// Per case id, the contribution of every open case of the scope in the view.
absl::StatusOr<absl::flat_hash_map<int64_t, Contribution>> Contributions(const CentreView& view,
                                                                         const ScopeFilter& scope) {
  const std::vector<int32_t> positions = view.Positions(scope);
  absl::StatusOr<Eigen::MatrixXd> d =
      view.projector().Distributions(positions, forecasting::ModelKind::kCalibrated, kWindowLong);
  if (!d.ok()) return absl::InternalError(d.status().message());
  const Eigen::Index k = view.models().catalogue.num_outcomes();
  absl::flat_hash_map<int64_t, Contribution> out;
  out.reserve(positions.size());
  for (size_t i = 0; i < positions.size(); ++i) {
    const auto col = d->col(static_cast<Eigen::Index>(i));
    out[view.OpenCase(positions[i]).record->id] = {col.head(kWindowShort * k).sum(),
                                                   col.head(kWindowLong * k).sum()};
  }
  return out;
}

// Whether a row about the case became known after `since` (and is part of `view`).
bool TouchedAfter(const CaseTimeline& r, Day since, const ViewDays& view) {
  auto after = [&](Day known) { return known > since && view.Knows(known); };
  if (after(r.known_on)) return true;
  for (const auto& a : r.assignments)
    if (after(a.known_on)) return true;
  for (const auto& e : r.expectations)
    if (after(e.known_on)) return true;
  for (const auto& s : r.statuses)
    if (after(s.known_on)) return true;
  return false;
}

// The last closure or reopening the view sees.
const StatusEvent* LastStatus(const CaseTimeline& r, const ViewDays& view) {
  const StatusEvent* last = nullptr;
  for (const StatusEvent& s : r.statuses) {
    if (s.on > view.today) break;
    if (view.Sees(s.on, s.known_on)) last = &s;
  }
  return last;
}

void SetExpectation(const Catalogue& cat, const ExpectationEvent& e, v1::ExpectationCodes* out) {
  out->set_outcome(cat.OutcomeCode(e.outcome));
  out->set_month(FormatMonth(e.expected_month));
  out->set_risk(cat.RiskCode(e.risk));
}

class CaseChanges {
 public:
  CaseChanges(const CentreHistory& h, v1::PipelineCase& out) : h_(h), out_(out) {}

  void Add(const char* kind, std::string before, std::string after, int64_t by, Day on,
           int months = 0) {
    v1::PipelineChange* c = out_.add_changes();
    c->set_kind(kind);
    c->set_before(std::move(before));
    c->set_after(std::move(after));
    c->set_months(months);
    c->set_changed_by(h_.StaffCode(by));
    const StaffMember* staff = h_.Staff(by);
    c->set_changed_by_name(staff == nullptr || staff->display_name.empty() ? c->changed_by()
                                                                           : staff->display_name);
    c->set_changed_on(FormatDay(on));
  }
  bool Has(const char* kind) const {
    for (const v1::PipelineChange& c : out_.changes())
      if (c.kind() == kind) return true;
    return false;
  }

 private:
  const CentreHistory& h_;
  v1::PipelineCase& out_;
};

// The changes of one case between the two states, in kind order.
void DescribeChanges(const CentreHistory& h, const CaseTimeline& r, const CaseState& s0,
                     const CaseState& s1, const ViewDays& after_days, v1::PipelineCase& out) {
  const Catalogue& cat = h.catalogue;
  CaseChanges changes(h, out);
  const bool existed = s0.record != nullptr;
  if (!existed) {
    const int64_t by = r.assignments.empty() ? 0 : r.assignments.front().recorded_by;
    changes.Add("NEW", "", r.case_type >= 0 ? cat.case_types[r.case_type] : "", by, r.opened_on);
  } else if (!s0.open && s1.open) {
    const StatusEvent* reopened = LastStatus(r, after_days);
    changes.Add("REOPENED", cat.OutcomeCode(s0.closure_outcome), "",
                reopened ? reopened->recorded_by : 0, reopened ? reopened->on : s1.closed_on);
  }
  if ((!existed || s0.open) && !s1.open) {
    const StatusEvent* closed = LastStatus(r, after_days);
    changes.Add(
        "CLOSED",
        existed && s0.expectation != nullptr ? cat.OutcomeCode(s0.expectation->outcome) : "",
        cat.OutcomeCode(s1.closure_outcome), closed ? closed->recorded_by : 0, s1.closed_on);
  }
  if (existed && s0.open && s1.caseworker_id != s0.caseworker_id) {
    const AssignmentEvent* holder = HolderOn(r, after_days.today, after_days);
    changes.Add("REASSIGNED", h.StaffCode(s0.caseworker_id), h.StaffCode(s1.caseworker_id),
                holder ? holder->recorded_by : 0, holder ? holder->from_on : after_days.today);
  }
  if (!existed || !s0.open || !s1.open) return;
  const ExpectationEvent* e0 = s0.expectation;
  const ExpectationEvent* e1 = s1.expectation;
  if (e1 == nullptr || e0 == e1) return;
  const int64_t by = e1->recorded_by;
  const Day on = e1->recorded_on;
  if (e0 == nullptr) {
    changes.Add("FIRST_EXPECTATION", "", "", by, on);
    return;
  }
  const int moved = static_cast<int>(MonthsBetween(e0->expected_month, e1->expected_month));
  if (moved < 0) {
    changes.Add("MOVED_EARLIER", FormatMonth(e0->expected_month), FormatMonth(e1->expected_month),
                by, on, -moved);
  } else if (moved > 0) {
    changes.Add("MOVED_LATER", FormatMonth(e0->expected_month), FormatMonth(e1->expected_month), by,
                on, moved);
  }
  if (e1->outcome != e0->outcome) {
    changes.Add("OUTCOME_CHANGED", cat.OutcomeCode(e0->outcome), cat.OutcomeCode(e1->outcome), by,
                on);
  }
  if (e0->risk >= 0 && e1->risk >= 0 && e0->risk != e1->risk) {
    const double p0 = cat.risk_probability[e0->risk], p1 = cat.risk_probability[e1->risk];
    // Lower probability of coming true is riskier.
    if (p1 != p0) {
      changes.Add(p1 < p0 ? "RISK_UP" : "RISK_DOWN", cat.RiskCode(e0->risk), cat.RiskCode(e1->risk),
                  by, on);
    }
  }
}

// The cause of a case counted in both figures (see pipeline.h).
const char* CauseInBoth(const CaseChanges& c) {
  if (c.Has("MOVED_EARLIER")) return "MOVED_EARLIER";
  if (c.Has("MOVED_LATER")) return "MOVED_LATER";
  if (c.Has("OUTCOME_CHANGED")) return "OUTCOME_CHANGED";
  if (c.Has("RISK_UP") || c.Has("RISK_DOWN")) return "RISK_CHANGED";
  if (c.Has("FIRST_EXPECTATION")) return "FIRST_EXPECTATION";
  if (c.Has("REASSIGNED")) return "REASSIGNED";
  return "UNCHANGED";
}

void FillWaterfall(const CentreView& before, const CentreView& after, int months,
                   double before_total, double after_total, const std::vector<double>& sums,
                   const std::vector<int64_t>& counts, v1::Waterfall* out) {
  out->set_months(months);
  out->set_before_first_month(FormatMonth(before.month()));
  out->set_before_last_month(FormatMonth(before.month() + (months - 1)));
  out->set_after_first_month(FormatMonth(after.month()));
  out->set_after_last_month(FormatMonth(after.month() + (months - 1)));
  out->set_before(before_total);
  out->set_after(after_total);
  const size_t residual = std::size(kPipelineCauses) - 1;
  double explained = 0;
  for (size_t i = 0; i < residual; ++i) explained += sums[i];
  for (size_t i = 0; i < std::size(kPipelineCauses); ++i) {
    v1::WaterfallStep* step = out->add_steps();
    step->set_cause(kPipelineCauses[i]);
    // The residual takes what the other causes leave, so the steps add up to the difference.
    step->set_closures(i == residual ? (after_total - before_total) - explained : sums[i]);
    step->set_cases(counts[i]);
  }
}

}  // namespace

absl::StatusOr<v1::PipelineInspection> InspectPipeline(const CentreView& before,
                                                       const CentreView& after,
                                                       const ScopeFilter& scope) {
  const CentreHistory& h = after.history();
  const Catalogue& cat = h.catalogue;
  const ViewDays& before_days = before.snapshot().view();
  const ViewDays& after_days = after.snapshot().view();
  const Day since = before_days.today;
  absl::StatusOr<absl::flat_hash_map<int64_t, Contribution>> then = Contributions(before, scope);
  if (!then.ok()) return then.status();
  absl::StatusOr<absl::flat_hash_map<int64_t, Contribution>> now = Contributions(after, scope);
  if (!now.ok()) return now.status();

  const size_t n_causes = std::size(kPipelineCauses);
  std::vector<double> sum_short(n_causes, 0), sum_long(n_causes, 0);
  std::vector<int64_t> cases(n_causes, 0);
  double before_short = 0, before_long = 0, after_short = 0, after_long = 0;
  for (const auto& [id, c] : *then) {
    before_short += c.short_window;
    before_long += c.long_window;
  }
  for (const auto& [id, c] : *now) {
    after_short += c.short_window;
    after_long += c.long_window;
  }
  const int unchanged = static_cast<int>(n_causes) - 1;

  std::vector<v1::PipelineCase> listed;
  std::map<int, int64_t> kind_counts;
  for (const auto& ptr : h.cases) {
    const CaseTimeline& r = *ptr;
    auto b = then->find(r.id);
    auto a = now->find(r.id);
    const bool counted_then = b != then->end(), counted_now = a != now->end();
    const bool touched = TouchedAfter(r, since, after_days);
    if (!touched && counted_then == counted_now) {
      if (counted_then) {  // nothing recorded since: only time and the models moved it
        sum_short[unchanged] += a->second.short_window - b->second.short_window;
        sum_long[unchanged] += a->second.long_window - b->second.long_window;
        ++cases[unchanged];
      }
      continue;
    }
    const CaseState s0 = StateOf(r, 0, before_days);
    const CaseState s1 = StateOf(r, 0, after_days);
    if (s1.record == nullptr) continue;
    v1::PipelineCase item;
    DescribeChanges(h, r, s0, s1, after_days, item);
    const CaseChanges kinds(h, item);
    const char* cause = "";
    if (counted_now && !counted_then) {
      cause = s0.record != nullptr && s0.open ? "REASSIGNED" : "NEW";
    } else if (counted_then && !counted_now) {
      cause = !s1.open ? "CLOSED" : "REASSIGNED";
    } else if (counted_then && counted_now) {
      cause = CauseInBoth(kinds);
    }
    const Contribution c0 = counted_then ? b->second : Contribution{};
    const Contribution c1 = counted_now ? a->second : Contribution{};
    if (*cause != '\0') {
      const int rank = Rank(kPipelineCauses, cause);
      sum_short[rank] += c1.short_window - c0.short_window;
      sum_long[rank] += c1.long_window - c0.long_window;
      ++cases[rank];
    }
    if (item.changes().empty()) continue;
    const bool in_scope = counted_then || counted_now ||
                          (s0.record != nullptr && scope.Covers(h, s0.caseworker_id, s0.team_id)) ||
                          scope.Covers(h, s1.caseworker_id, s1.team_id);
    if (!in_scope) continue;
    item.set_case_ref(r.ref);
    item.set_case_type(r.case_type >= 0 ? cat.case_types[r.case_type] : "");
    item.set_caseworker(h.StaffCode(s1.caseworker_id));
    const StaffMember* holder = h.Staff(s1.caseworker_id);
    item.set_caseworker_name(holder == nullptr || holder->display_name.empty()
                                 ? item.caseworker()
                                 : holder->display_name);
    item.set_cause(cause);
    if (s0.record != nullptr && s0.open && s0.expectation != nullptr) {
      SetExpectation(cat, *s0.expectation, item.mutable_expectation_before());
    }
    if (s1.open && s1.expectation != nullptr) {
      SetExpectation(cat, *s1.expectation, item.mutable_expectation_after());
    }
    if (!s1.open) item.set_closure_outcome(cat.OutcomeCode(s1.closure_outcome));
    item.set_closures_3_before(c0.short_window);
    item.set_closures_3_after(c1.short_window);
    item.set_closures_12_before(c0.long_window);
    item.set_closures_12_after(c1.long_window);
    item.set_effect_3(c1.short_window - c0.short_window);
    item.set_effect_12(c1.long_window - c0.long_window);
    for (const v1::PipelineChange& change : item.changes())
      ++kind_counts[Rank(kKinds, change.kind())];
    listed.push_back(std::move(item));
  }
  std::sort(listed.begin(), listed.end(), [](const v1::PipelineCase& x, const v1::PipelineCase& y) {
    const int rx = Rank(kPipelineCauses, x.cause()), ry = Rank(kPipelineCauses, y.cause());
    if (rx != ry) return rx < ry;
    return x.case_ref() < y.case_ref();
  });

  v1::PipelineInspection out;
  out.set_since(FormatDay(since));
  out.set_until(FormatDay(after_days.today));
  out.set_model(v1::CALIBRATED);
  FillWaterfall(before, after, kWindowShort, before_short, after_short, sum_short, cases,
                out.mutable_next_3_months());
  FillWaterfall(before, after, kWindowLong, before_long, after_long, sum_long, cases,
                out.mutable_next_12_months());
  for (const auto& [rank, count] : kind_counts) {
    v1::Count* c = out.add_counts();
    c->set_key(kKinds[rank]);
    c->set_count(count);
  }
  for (v1::PipelineCase& item : listed) *out.add_cases() = std::move(item);
  return out;
}

}  // namespace forecast::fsvc
