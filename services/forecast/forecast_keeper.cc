#include "services/forecast/forecast_keeper.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/authorization.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/text_checks.h"
#include "services/forecast/adjustments.h"
#include "services/forecast/attention.h"
#include "services/forecast/dashboards.h"
#include "services/forecast/dialogues.h"
#include "services/forecast/milestones.h"
#include "services/forecast/pipeline.h"
#include "services/forecast/projections.h"
#include "services/common/limits.h"
#include "services/forecast/scopes.h"
#include "services/forecast/trends.h"

namespace forecast::fsvc {
namespace {

constexpr int kDefaultAgendaItems = 20;
constexpr int kMaxAgendaItems = 500;
constexpr int kMaxLookback = 36;
constexpr double kMaxTarget = 1e6;
constexpr int kMaxPipelineMonths = 24;

absl::Status OutOfRange(const char* field, int64_t value, int64_t min, int64_t max) {
  return FieldError(field, "OUT_OF_RANGE", absl::StrCat(value, " is outside ", min, "..", max),
                    {{"min", absl::StrCat(min)}, {"max", absl::StrCat(max)}});
}

// INVALID_ARGUMENT naming `field` when `day` is after `limit` (`what`: "in the future", ...).
absl::Status NotAfter(const char* field, Day day, Day limit, absl::string_view what) {
  if (day <= limit) return absl::OkStatus();
  return FieldError(field, "DATE_TOO_LATE", absl::StrCat(FormatDay(day), " is ", what),
                    {{"date", FormatDay(day)}, {"limit", FormatDay(limit)}});
}

// A day the request names that has happened (today at the latest).
absl::StatusOr<Day> PastDay(const std::string& text, const char* field, Day today) {
  ASSIGN_OR_RETURN(const Day day, ParseDay(text, field));
  RETURN_IF_ERROR(NotAfter(field, day, today, "in the future"));
  return day;
}

absl::Status CheckNotes(const v1::DialogueNotes& notes) {
  RETURN_IF_ERROR(CheckText(notes.status(), "notes.status", 0, kMaxNoteChars));
  RETURN_IF_ERROR(CheckText(notes.knowledge(), "notes.knowledge", 0, kMaxNoteChars));
  RETURN_IF_ERROR(CheckText(notes.learning(), "notes.learning", 0, kMaxNoteChars));
  return CheckText(notes.adjustment(), "notes.adjustment", 0, kMaxNoteChars);
}

// The caseworker a dialogue is held with, in a team whose dialogues the caller may write.
absl::StatusOr<const StaffMember*> DialogueCaseworker(const CentreHistory& h, const Caller& caller,
                                                      const std::string& code) {
  if (code.empty()) return FieldError("caseworker", "REQUIRED", "required");
  const StaffMember* caseworker = h.StaffByCode(code);
  if (caseworker == nullptr) {
    return CodeNotFound("caseworker", code, "caseworker");
  }
  if (caseworker->team_id == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("caseworker: ", caseworker->code, " belongs to no team"));
  }
  RETURN_IF_ERROR(AuthorizeDialogueWrite(caller, caseworker->team_id));
  return caseworker;
}

// The dialogue `id` of the caller's job centre that the caller may edit (the team leader of its
// team, or a manager); NOT_FOUND for another centre's or no dialogue, worded alike.
absl::StatusOr<const DialogueRecord*> WritableDialogue(const CentreHistory& h, const Caller& caller,
                                                       int64_t id) {
  for (const DialogueRecord& d : h.dialogues) {
    if (d.id != id) continue;
    RETURN_IF_ERROR(AuthorizeDialogueWrite(caller, d.team_id));
    return &d;
  }
  return ReasonedError(absl::StatusCode::kNotFound, "DIALOGUE_NOT_FOUND",
                       absl::StrCat("dialogue ", id, " not found"), {{"value", absl::StrCat(id)}},
                       "id");
}

// The ids of the cases a dialogue names (case_refs[i]), each a case of the centre.
absl::StatusOr<std::vector<int64_t>> DialogueCases(
    const CentreHistory& h, const google::protobuf::RepeatedPtrField<std::string>& refs) {
  std::vector<int64_t> ids;
  for (int i = 0; i < refs.size(); ++i) {
    const std::string field = absl::StrCat("case_refs[", i, "]");
    RETURN_IF_ERROR(CheckCaseRef(refs[i], field));
    const CaseTimeline* record = h.CaseByRef(refs[i]);
    if (record == nullptr) {
      return ReasonedError(absl::StatusCode::kNotFound, "CASE_NOT_FOUND",
                           absl::StrCat(refs[i], " not found"), {{"case_ref", refs[i]}}, field);
    }
    ids.push_back(record->id);
  }
  return ids;
}

// The four sections of notes, as the store takes them.
template <typename Record>
void CopyNotes(const v1::DialogueNotes& notes, Record& out) {
  out.status = notes.status();
  out.knowledge = notes.knowledge();
  out.learning = notes.learning();
  out.adjustment = notes.adjustment();
}

bool InScope(const DialogueRecord& d, const ScopeFilter& scope) {
  switch (scope.kind) {
    case ScopeFilter::Kind::kCaseworker: return d.caseworker_id == scope.id;
    case ScopeFilter::Kind::kTeam: return d.team_id == scope.id;
    default: return true;
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CentreView>> ForecastKeeper::ViewAt(const Caller& caller,
                                                                         AsOf as_of) {
  if (as_of) RETURN_IF_ERROR(NotAfter("as_of", *as_of, engine_.clock().Today(), "in the future"));
  return engine_.cache().View(caller.job_centre_id, as_of);
}

absl::StatusOr<v1::Projection> ForecastKeeper::Project(const Caller& caller,
                                                       const v1::ProjectRequest& request,
                                                       AsOf as_of) {
  ASSIGN_OR_RETURN(const forecasting::ModelKind model, ToModelKind(request.model(), "model"));
  ASSIGN_OR_RETURN(const int horizon, RequestedHorizon(request.horizon_months(), "horizon_months"));
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  ASSIGN_OR_RETURN(const ScopeFilter scope,
                   ReadableScope(view->history(), caller, request.scope(), "scope"));
  ASSIGN_OR_RETURN(const auto accuracy, engine_.cache().Accuracy(*view, scope, 0));
  const v1::ModelAccuracy* mine = nullptr;
  for (const v1::ModelAccuracy& a : accuracy) {
    if (a.model() == static_cast<v1::Model>(model)) mine = &a;
  }
  ASSIGN_OR_RETURN(v1::Projection out,
                   BuildProjection(*view, scope, request.scope(), model, horizon, mine,
                                   std::vector<std::string>(request.case_types().begin(),
                                                            request.case_types().end())));
  // A team's adjustments are set against its whole figure, so only an unfiltered projection
  // carries them.
  if (scope.kind == ScopeFilter::Kind::kTeam && request.case_types().empty()) {
    AddAdjustments(*view, scope.id, out);
  }
  return out;
}

absl::StatusOr<v1::TeamComparison> ForecastKeeper::CompareTeams(
    const Caller& caller, const v1::CompareTeamsRequest& request, AsOf as_of) {
  ASSIGN_OR_RETURN(const forecasting::ModelKind model, ToModelKind(request.model(), "model"));
  ASSIGN_OR_RETURN(const int horizon, RequestedHorizon(request.horizon_months(), "horizon_months"));
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  v1::Scope scope;
  scope.set_kind(request.department().empty() ? v1::Scope::JOB_CENTRE : v1::Scope::DEPARTMENT);
  scope.set_code(request.department());
  ASSIGN_OR_RETURN(const ScopeFilter filter,
                   ReadableScope(view->history(), caller, scope, "department"));
  return BuildTeamComparison(*view, filter.id, model, horizon);
}

absl::StatusOr<v1::CaseworkerDashboard> ForecastKeeper::GetCaseworkerDashboard(
    const Caller& caller, const v1::CaseworkerDashboardRequest& request, AsOf as_of) {
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  ASSIGN_OR_RETURN(const ScopeFilter scope,
                   ReadableCaseworker(view->history(), caller, request.caseworker(), "caseworker"));
  return BuildCaseworkerDashboard(*view, scope.id);
}

absl::StatusOr<std::shared_ptr<const std::string>> ForecastKeeper::SerializedTeamDashboard(
    const Caller& caller, const v1::TeamDashboardRequest& request, AsOf as_of) {
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  ASSIGN_OR_RETURN(const ScopeFilter scope,
                   ReadableTeam(view->history(), caller, request.team(), "team"));
  return engine_.cache().SerializedTeamDashboard(view, scope.id);
}

absl::StatusOr<int64_t> ForecastKeeper::WatchTeamDashboard(
    const Caller& caller, const v1::TeamDashboardRequest& request, AsOf as_of,
    const std::function<bool(const v1::TeamDashboard&)>& send,
    const std::function<bool()>& cancelled) {
  ASSIGN_OR_RETURN(const auto first_view, ViewAt(caller, as_of));
  ASSIGN_OR_RETURN(const ScopeFilter scope,
                   ReadableTeam(first_view->history(), caller, request.team(), "team"));
  if (as_of && first_view->revision() == 0) {
    // A past day never changes: one answer, then the stream ends.
    ASSIGN_OR_RETURN(const auto dashboard, engine_.cache().TeamDashboard(first_view, scope.id));
    return send(*dashboard) ? 1 : 0;
  }
  const int64_t centre = caller.job_centre_id;
  int64_t sent = -1;  // the revision sent last
  int64_t count = 0;
  while (!cancelled()) {
    // A new day is a change too: Now() rebuilds the view when the day turns.
    RETURN_IF_ERROR(engine_.cache().Now(centre).status());
    const int64_t revision = engine_.watch().Revision(centre, scope.id);
    if (revision > sent) {
      ASSIGN_OR_RETURN(const auto view, engine_.cache().Now(centre));
      ASSIGN_OR_RETURN(const auto dashboard, engine_.cache().TeamDashboard(view, scope.id));
      if (!send(*dashboard)) break;  // the client went away
      sent = revision;
      ++count;
    }
    // Wakes at once on a change to the team; the timeout only bounds how long a cancelled call
    // lingers.
    engine_.watch().WaitForChange(centre, scope.id, sent, absl::Milliseconds(500));
  }
  return count;
}

absl::StatusOr<v1::Variation> ForecastKeeper::GetVariation(const Caller& caller,
                                                           const v1::VariationRequest& request,
                                                           AsOf as_of) {
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  ASSIGN_OR_RETURN(const ScopeFilter scope,
                   ReadableTeam(view->history(), caller, request.team(), "team"));
  return BuildVariation(*view, scope.id);
}

absl::StatusOr<v1::VariationCases> ForecastKeeper::GetVariationCases(
    const Caller& caller, const v1::VariationCasesRequest& request, AsOf as_of) {
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  const CentreHistory& h = view->history();
  const std::string& code = request.caseworker().empty() ? caller.staff_code : request.caseworker();
  const StaffMember* staff = h.StaffByCode(code);
  if (staff == nullptr) return CodeNotFound("caseworker", code, "caseworker");
  RETURN_IF_ERROR(AuthorizeVariationCases(
      caller, {ScopeKind::kCaseworker, h.centre_id, staff->id, staff->team_id, 0}));
  if (staff->team_id == 0) {
    return FieldError("caseworker", "NO_TEAM", absl::StrCat(staff->code, " belongs to no team"),
                      {{"value", staff->code}});
  }
  int outcome = -1;
  if (!request.outcome().empty()) {
    outcome = h.catalogue.Outcome(request.outcome());
    if (outcome < 0) return CodeNotFound("outcome", request.outcome(), "outcome");
  }
  return BuildVariationCases(*view, staff->team_id, staff->id, outcome);
}

absl::StatusOr<v1::Trend> ForecastKeeper::GetTrend(const Caller& caller,
                                                   const v1::TrendRequest& request, AsOf as_of) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(const forecasting::ModelKind model, ToModelKind(request.model(), "model"));
  const int points = request.points() == 0 ? kDefaultTrendPoints : request.points();
  if (points < 1 || points > kMaxTrendPoints) {
    return OutOfRange("points", request.points(), 1, kMaxTrendPoints);
  }
  const int horizon =
      request.horizon_months() == 0 ? kDefaultTrendHorizon : request.horizon_months();
  if (horizon < 1 || horizon > kMaxTrendHorizon) {
    return OutOfRange("horizon_months", request.horizon_months(), 1, kMaxTrendHorizon);
  }
  const v1::TrendStep step =
      request.step() == v1::TREND_STEP_UNSPECIFIED ? v1::MONTH_END : request.step();
  if (step != v1::MONTH_END && step != v1::WEEK) {
    return FieldError("step", "UNKNOWN_VALUE",
                      absl::StrCat("unknown step ", static_cast<int>(request.step())));
  }
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  ASSIGN_OR_RETURN(const ScopeFilter scope,
                   ReadableScope(view->history(), caller, request.scope(), "scope"));
  const std::vector<std::string> types(request.case_types().begin(), request.case_types().end());
  ASSIGN_OR_RETURN(const uint64_t mask, CaseTypeMask(view->history().catalogue, types));
  const Day today = view->today();
  const Month last = Month(today) + (horizon - 1);

  // Each day's projection as Project answers it as of that day (past days memoised).
  const std::string key = absl::StrCat(static_cast<int>(scope.kind), ":", scope.id, ":",
                                       static_cast<int>(model), ":", mask);
  auto projection_on = [&](Day day) -> absl::StatusOr<std::shared_ptr<const v1::Projection>> {
    const int months = static_cast<int>(MonthsBetween(Month(day), last)) + 1;
    auto build = [&](const CentreView& v) {
      return BuildProjection(v, scope, request.scope(), model, months, nullptr, types,
                             /*categories=*/false);
    };
    if (day == today) {
      ASSIGN_OR_RETURN(v1::Projection p, build(*view));
      return std::make_shared<const v1::Projection>(std::move(p));
    }
    return engine_.cache().PastProjection(caller.job_centre_id, day, absl::StrCat(key, ":", months),
                                          build);
  };

  v1::Trend out;
  *out.mutable_scope() = request.scope();
  for (const std::string& type : types) out.add_case_types(type);
  out.set_model(static_cast<v1::Model>(model));
  out.set_as_of(FormatDay(today));
  out.set_step(step);
  std::vector<Day> days = TrendDays(today, step, points);
  for (Month m = Month(days.front()); m <= last; ++m) out.add_months(FormatMonth(m));
  days.push_back(today);
  // The closures every figure needs, counted in one pass: each point's own month as that day saw
  // it, and each past month as of today.
  std::vector<ClosureCount> counts;
  for (const Day day : days) {
    counts.push_back({Month(day), day == today ? view->snapshot().view() : ViewDays{day, day}});
  }
  const Month first_past = Month(days.front()) + 1;
  for (Month m = first_past; m <= Month(today); ++m) {
    counts.push_back({m, view->snapshot().view()});
  }
  const std::vector<int64_t> closed = ClosuresIn(*view, scope, mask, counts);
  for (size_t i = 0; i < days.size(); ++i) {
    ASSIGN_OR_RETURN(const auto p, projection_on(days[i]));
    *out.add_points() = TrendPointOf(*p, last, closed[i]);
  }
  // Each month since the earliest point: projected on its eve against what closed.
  size_t k = days.size();
  for (Month m = first_past; m <= Month(today); ++m, ++k) {
    const Day eve = Day(m) - 1;
    ASSIGN_OR_RETURN(const auto p, projection_on(eve));
    v1::ProjectedVsActual* row = out.add_past_months();
    row->set_month(FormatMonth(m));
    row->set_projected_on(FormatDay(eve));
    for (const v1::OutcomeMonth& om : p->closures()) {
      if (om.outcome() == "ALL" && om.month() == row->month()) {
        *row->mutable_projected() = om.closures();
      }
    }
    row->set_actual(closed[k]);
    row->set_complete(m < Month(today));
  }
  v1::Explanation* e = out.mutable_explanation();
  e->set_method_key("trend.as_of");
  e->set_method(
      "Each point is the projection as it was on that day: computed from the history with only "
      "what was known then (the same answer as a projection asked as of that day). Past months: "
      "the projection made on the last day of the month before, against the closures of the "
      "month by cases in the scope when they closed.");
  const int64_t n = out.points(out.points_size() - 1).open_cases();
  e->set_n(n);
  e->set_small_sample(n < kSmallSample);
  out.set_compute_ms(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  return out;
}

absl::StatusOr<v1::Accuracy> ForecastKeeper::GetAccuracy(const Caller& caller,
                                                         const v1::AccuracyRequest& request,
                                                         AsOf as_of) {
  const int lookback = request.lookback_months();
  if (lookback < 0 || lookback > kMaxLookback) {
    return OutOfRange("lookback_months", lookback, 0, kMaxLookback);
  }
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  ASSIGN_OR_RETURN(const ScopeFilter scope,
                   ReadableScope(view->history(), caller, request.scope(), "scope"));
  ASSIGN_OR_RETURN(const auto backtest, engine_.cache().Backtest(*view, scope, lookback));
  v1::Accuracy out;
  *out.mutable_scope() = request.scope();
  int64_t n = 0;
  for (const v1::ModelAccuracy& m : backtest->models) {
    n = std::max(n, m.n_cases());
    *out.add_models() = m;
  }
  const bool team = scope.kind == ScopeFilter::Kind::kTeam;
  if (team) {
    AdjustedSeries adjusted = AdjustedAccuracy(view->history(), scope.id, *backtest);
    *out.add_models() = std::move(adjusted.accuracy);
    for (v1::AdjustedMonth& m : adjusted.months) *out.add_adjusted_months() = std::move(m);
  }
  v1::Explanation* e = out.mutable_explanation();
  e->set_method_key(team ? "accuracy.backtest_adjusted" : "accuracy.backtest");
  e->set_method(absl::StrCat(
      "Backtest: as of earlier months in the look-back (every quarter of it), each model was "
      "fitted with only what was known then and projected three months ahead; the figures "
      "compare those projections with the closures that followed: mean absolute error of "
      "monthly closures, the share of months inside the 80% interval, and the Brier score of "
      "each case's probability of having closed by each month.",
      team ? " Adjusted (the team's forecast adjustments): for each compared month "
             "that had an adjustment of the team's total closures recorded before "
             "the month began, the adjusted figure (its interval moved with it) "
             "against the actual closures; for the other months the calibrated "
             "figure. Its Brier score is the calibrated model's: an adjustment "
             "does not change any case's probabilities."
           : ""));
  e->set_n(n);
  e->set_small_sample(n < kSmallSample);
  return out;
}

absl::StatusOr<v1::CaseExplanation> ForecastKeeper::ExplainCase(
    const Caller& caller, const v1::ExplainCaseRequest& request, AsOf as_of) {
  RETURN_IF_ERROR(CheckCaseRef(request.case_ref(), "case_ref"));
  ASSIGN_OR_RETURN(const forecasting::ModelKind model, ToModelKind(request.model(), "model"));
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  const CaseTimeline* record = view->history().CaseByRef(request.case_ref());
  const CaseState* state = record == nullptr ? nullptr : view->snapshot().Case(record->id);
  if (state == nullptr) return CaseNotFound(request.case_ref());
  RETURN_IF_ERROR(AuthorizeCase(
      caller, CaseOwnership{view->history().centre_id, state->team_id, state->caseworker_id},
      CaseAccess::kRead, request.case_ref()));
  return BuildCaseExplanation(*view, record->id, model, kDefaultHorizon);
}

absl::StatusOr<v1::MilestoneMetrics> ForecastKeeper::ListMilestoneMetrics(const Caller& caller) {
  ASSIGN_OR_RETURN(const auto view, engine_.cache().Now(caller.job_centre_id));
  v1::MilestoneMetrics out;
  for (const MilestoneMetricDef& m : view->history().metrics) {
    v1::MilestoneMetric* metric = out.add_metrics();
    metric->set_code(m.code);
    metric->set_label_da(m.label_da);
    metric->set_label_en(m.label_en);
    metric->set_kind(MetricKindName(m.kind));
    metric->set_outcome_group(m.outcome_group);
    metric->set_field_code(m.field_code);
    metric->set_choice(m.choice);
    metric->set_higher_is_better(m.higher_is_better);
  }
  return out;
}

absl::StatusOr<v1::MilestoneTarget> ForecastKeeper::SetMilestoneTarget(
    const Caller& caller, const v1::SetMilestoneTargetRequest& request) {
  const v1::MilestoneTarget& t = request.target();
  ASSIGN_OR_RETURN(const auto view, engine_.cache().Now(caller.job_centre_id));
  const CentreHistory& h = view->history();
  const OrgUnit* team = h.UnitByCode(t.team());
  if (team == nullptr || !team->is_team) {
    return CodeNotFound("team", t.team(), "target.team");
  }
  RETURN_IF_ERROR(AuthorizeTargetWrite(caller, team->id));
  NewMilestoneTarget target;
  if (!t.caseworker().empty()) {
    const StaffMember* staff = h.StaffByCode(t.caseworker());
    if (staff == nullptr) {
      return CodeNotFound("caseworker", t.caseworker(), "target.caseworker");
    }
    if (staff->team_id != team->id) {
      return absl::InvalidArgumentError(
          absl::StrCat("target.caseworker: ", t.caseworker(), " is not in team ", t.team()));
    }
    target.caseworker_id = staff->id;
  }
  if (h.Metric(t.metric()) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("target.metric: \"", t.metric(), "\" is not a metric of this job centre"));
  }
  ASSIGN_OR_RETURN(target.month, ParseMonth(t.month(), "target.month"));
  if (!std::isfinite(t.target()) || t.target() < 0 || t.target() > kMaxTarget) {
    return FieldError("target.target", "OUT_OF_RANGE", "must be a number from 0 to 1000000",
                      {{"min", "0"}, {"max", "1000000"}});
  }
  target.centre_id = caller.job_centre_id;
  target.team_id = team->id;
  target.metric = t.metric();
  target.target = t.target();
  target.set_by = caller.staff_id;
  ASSIGN_OR_RETURN(MilestoneTargetRecord stored, store_.AddTarget(target));
  v1::MilestoneTarget out = t;
  out.set_set_by(caller.staff_code);
  out.set_set_at(stored.set_at);
  RETURN_IF_ERROR(engine_.refresher().Amend(
      caller.job_centre_id,
      [&stored](CentreHistory& history) { history.PutTarget(std::move(stored)); }));
  return out;
}

absl::StatusOr<v1::Milestones> ForecastKeeper::GetMilestones(const Caller& caller,
                                                             const v1::MilestonesRequest& request,
                                                             AsOf as_of) {
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  const CentreHistory& h = view->history();
  ASSIGN_OR_RETURN(const ScopeFilter team, ReadableTeam(h, caller, request.team(), "team"));
  int64_t caseworker_id = 0;
  if (!request.caseworker().empty()) {
    ASSIGN_OR_RETURN(const ScopeFilter caseworker,
                     ReadableCaseworker(h, caller, request.caseworker(), "caseworker"));
    caseworker_id = caseworker.id;
  }
  Month from = view->month() - 2, to = view->month() + 3;
  if (!request.from_month().empty()) {
    ASSIGN_OR_RETURN(from, ParseMonth(request.from_month(), "from_month"));
  }
  if (!request.to_month().empty()) {
    ASSIGN_OR_RETURN(to, ParseMonth(request.to_month(), "to_month"));
  }
  return BuildMilestones(*view, team.id, caseworker_id, from, to);
}

absl::StatusOr<v1::Dialogue> ForecastKeeper::AnswerDialogue(const Caller& caller,
                                                            const CentreView& view,
                                                            absl::StatusOr<DialogueRecord> stored) {
  RETURN_IF_ERROR(stored.status());
  v1::Dialogue out =
      DialogueMessage(view.history(), *stored, AgreedCaseRefs(view.history(), *stored));
  RETURN_IF_ERROR(engine_.refresher().Amend(
      caller.job_centre_id,
      [&stored](CentreHistory& history) { history.PutDialogue(std::move(*stored)); }));
  return out;
}

absl::StatusOr<v1::Dialogue> ForecastKeeper::RecordDialogue(
    const Caller& caller, const v1::RecordDialogueRequest& request) {
  ASSIGN_OR_RETURN(const auto view, engine_.cache().Now(caller.job_centre_id));
  const CentreHistory& h = view->history();
  ASSIGN_OR_RETURN(const StaffMember* caseworker,
                   DialogueCaseworker(h, caller, request.caseworker()));
  NewDialogue d;
  ASSIGN_OR_RETURN(d.held_on, PastDay(request.held_on(), "held_on", engine_.clock().Today()));
  RETURN_IF_ERROR(CheckNotes(request.notes()));
  RETURN_IF_ERROR(
      CheckToken(request.idempotency_key(), "idempotency_key", kMaxIdempotencyKeyChars));
  ASSIGN_OR_RETURN(d.case_ids, DialogueCases(h, request.case_refs()));
  d.centre_id = caller.job_centre_id;
  d.team_id = caseworker->team_id;
  d.team_leader_id = caller.staff_id;
  d.caseworker_id = caseworker->id;
  CopyNotes(request.notes(), d);
  d.idempotency_key = request.idempotency_key();
  return AnswerDialogue(caller, *view, store_.AddDialogue(d));
}

absl::StatusOr<v1::Dialogue> ForecastKeeper::OpenDialogue(const Caller& caller,
                                                          const v1::OpenDialogueRequest& request) {
  ASSIGN_OR_RETURN(const auto view, engine_.cache().Now(caller.job_centre_id));
  ASSIGN_OR_RETURN(const StaffMember* caseworker,
                   DialogueCaseworker(view->history(), caller, request.caseworker()));
  NewDialogue d;
  d.held_on = engine_.clock().Today();
  if (!request.held_on().empty()) {
    ASSIGN_OR_RETURN(d.held_on, PastDay(request.held_on(), "held_on", d.held_on));
  }
  d.centre_id = caller.job_centre_id;
  d.team_id = caseworker->team_id;
  d.team_leader_id = caller.staff_id;
  d.caseworker_id = caseworker->id;
  return AnswerDialogue(caller, *view, store_.OpenDialogue(d));
}

absl::StatusOr<v1::Dialogue> ForecastKeeper::SaveDialogueNotes(
    const Caller& caller, const v1::SaveDialogueNotesRequest& request) {
  ASSIGN_OR_RETURN(const auto view, engine_.cache().Now(caller.job_centre_id));
  const CentreHistory& h = view->history();
  ASSIGN_OR_RETURN(const DialogueRecord* d, WritableDialogue(h, caller, request.id()));
  if (request.base_version() < 0) {
    return FieldError("base_version", "OUT_OF_RANGE", "must not be negative");
  }
  if (request.idempotency_key().empty()) {
    return FieldError("idempotency_key", "REQUIRED", "required");
  }
  RETURN_IF_ERROR(
      CheckToken(request.idempotency_key(), "idempotency_key", kMaxIdempotencyKeyChars));
  RETURN_IF_ERROR(CheckNotes(request.notes()));
  DialogueNotesEdit edit;
  if (!request.held_on().empty()) {
    ASSIGN_OR_RETURN(edit.held_on, PastDay(request.held_on(), "held_on", engine_.clock().Today()));
  }
  ASSIGN_OR_RETURN(edit.case_ids, DialogueCases(h, request.case_refs()));
  // A case taken off must be on the dialogue's discussed or agreed list, and not named again.
  const std::vector<std::string> agreed = AgreedCaseRefs(h, *d);
  for (int i = 0; i < request.remove_case_refs_size(); ++i) {
    const std::string& ref = request.remove_case_refs(i);
    const std::string field = absl::StrCat("remove_case_refs[", i, "]");
    RETURN_IF_ERROR(CheckCaseRef(ref, field));
    const CaseTimeline* record = h.CaseByRef(ref);
    const bool discussed = record != nullptr && std::find(d->case_ids.begin(), d->case_ids.end(),
                                                          record->id) != d->case_ids.end();
    if (!discussed && std::find(agreed.begin(), agreed.end(), ref) == agreed.end()) {
      return FieldError(field, "NOT_IN_DIALOGUE",
                        absl::StrCat(ref, " is not on the dialogue's lists"), {{"value", ref}});
    }
    if (std::find(request.case_refs().begin(), request.case_refs().end(), ref) !=
        request.case_refs().end()) {
      return FieldError(field, "ADDED_AND_REMOVED",
                        absl::StrCat(ref, " is both added and taken off"), {{"value", ref}});
    }
    edit.removed_case_ids.push_back(record->id);
  }
  edit.centre_id = caller.job_centre_id;
  edit.dialogue_id = d->id;
  edit.base_version = request.base_version();
  CopyNotes(request.notes(), edit);
  edit.idempotency_key = request.idempotency_key();
  edit.recorded_by = caller.staff_id;
  return AnswerDialogue(caller, *view, store_.SaveDialogueNotes(edit));
}

absl::StatusOr<v1::Dialogue> ForecastKeeper::FinaliseDialogue(
    const Caller& caller, const v1::FinaliseDialogueRequest& request) {
  ASSIGN_OR_RETURN(const auto view, engine_.cache().Now(caller.job_centre_id));
  ASSIGN_OR_RETURN(const DialogueRecord* d,
                   WritableDialogue(view->history(), caller, request.id()));
  if (request.base_version() < 0) {
    return FieldError("base_version", "OUT_OF_RANGE", "must not be negative");
  }
  return AnswerDialogue(caller, *view,
                        store_.FinaliseDialogue(caller.job_centre_id, d->id, request.base_version(),
                                                caller.staff_id));
}

absl::StatusOr<v1::ListDialoguesResponse> ForecastKeeper::ListDialogues(
    const Caller& caller, const v1::ListDialoguesRequest& request) {
  ASSIGN_OR_RETURN(const auto view, engine_.cache().Now(caller.job_centre_id));
  const CentreHistory& h = view->history();
  ScopeFilter scope;
  if (!request.team().empty()) RETURN_IF_ERROR(AuthorizeDialogueList(caller, ScopeKind::kTeam));
  if (!request.caseworker().empty() ||
      (request.team().empty() && caller.role == Role::kCaseworker)) {
    ASSIGN_OR_RETURN(scope, ReadableCaseworker(h, caller, request.caseworker(), "caseworker"));
  } else if (!request.team().empty() || caller.team_id != 0) {
    ASSIGN_OR_RETURN(scope, ReadableTeam(h, caller, request.team(), "team"));
  } else {
    ASSIGN_OR_RETURN(scope, ReadableScope(h, caller, v1::Scope(), "team"));
  }
  const auto agreed = AgreedCases(h);
  v1::ListDialoguesResponse out;
  for (const DialogueRecord& d : h.dialogues) {
    if (InScope(d, scope)) *out.add_dialogues() = DialogueMessage(h, d, agreed);
  }
  return out;
}

absl::StatusOr<v1::DialogueAgenda> ForecastKeeper::GetDialogueAgenda(
    const Caller& caller, const v1::DialogueAgendaRequest& request, AsOf as_of) {
  const int limit = request.limit() == 0 ? kDefaultAgendaItems : request.limit();
  if (limit < 1 || limit > kMaxAgendaItems) {
    return OutOfRange("limit", request.limit(), 1, kMaxAgendaItems);
  }
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  const CentreHistory& h = view->history();
  const ViewDays& days = view->snapshot().view();
  ASSIGN_OR_RETURN(const ScopeFilter scope,
                   ReadableCaseworker(h, caller, request.caseworker(), "caseworker"));
  v1::DialogueAgenda out;
  out.set_caseworker(h.StaffCode(scope.id));
  out.set_as_of(FormatDay(view->today()));
  if (std::optional<Day> last = LastDialogueOn(h, days, scope.id, 0)) {
    out.set_last_dialogue_on(FormatDay(*last));
  }
  if (const DialogueRecord* previous = LastFinalDialogue(h, days, scope.id)) {
    out.set_previous_dialogue_id(previous->id);
    for (v1::AgreementFollowUp& f : FollowUpAgreements(h, days, *previous)) {
      *out.add_previous_agreements() = std::move(f);
    }
  }
  for (v1::CaseAttention& item : RankAttention(*view, scope, limit)) {
    *out.add_items() = std::move(item);
  }
  return out;
}

absl::StatusOr<v1::Changes> ForecastKeeper::GetChangesSinceLastDialogue(
    const Caller& caller, const v1::ChangesRequest& request, AsOf as_of) {
  if (!request.caseworker().empty() && !request.team().empty()) {
    return absl::InvalidArgumentError("caseworker: give either caseworker or team, not both");
  }
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  const CentreHistory& h = view->history();
  ScopeFilter scope;
  if (!request.team().empty()) {
    ASSIGN_OR_RETURN(scope, ReadableTeam(h, caller, request.team(), "team"));
  } else {
    ASSIGN_OR_RETURN(scope, ReadableCaseworker(h, caller, request.caseworker(), "caseworker"));
  }
  const ViewDays& until = view->snapshot().view();
  Day since;
  if (!request.since().empty()) {
    ASSIGN_OR_RETURN(since, ParseDay(request.since(), "since"));
    RETURN_IF_ERROR(NotAfter("since", since, until.today, "after as_of"));
  } else {
    const bool per_caseworker = scope.kind == ScopeFilter::Kind::kCaseworker;
    std::optional<Day> last =
        LastDialogueOn(h, until, per_caseworker ? scope.id : 0, per_caseworker ? 0 : scope.id);
    // Otherwise the same day a month earlier (the month's last day when it is shorter).
    const Day today = until.today;
    const Day first = Day(Month(today) - 1);
    Day month_ago = first + (today.day() - 1);
    if (Month(month_ago) != Month(first)) month_ago = Day(Month(today)) - 1;
    since = last ? *last : month_ago;
  }
  return DetectChanges(h, scope, since, until);
}

absl::StatusOr<v1::PipelineInspection> ForecastKeeper::InspectPipeline(
    const Caller& caller, const v1::PipelineRequest& request, AsOf as_of) {
  if (!request.caseworker().empty() && !request.team().empty()) {
    return absl::InvalidArgumentError("caseworker: give either caseworker or team, not both");
  }
  ASSIGN_OR_RETURN(const auto view, ViewAt(caller, as_of));
  const CentreHistory& h = view->history();
  ScopeFilter scope;
  if (!request.team().empty()) {
    ASSIGN_OR_RETURN(scope, ReadableTeam(h, caller, request.team(), "team"));
  } else {
    ASSIGN_OR_RETURN(scope, ReadableCaseworker(h, caller, request.caseworker(), "caseworker"));
  }
  const ViewDays& until = view->snapshot().view();
  Day since;
  std::string basis = "REQUEST";
  if (!request.since().empty()) {
    ASSIGN_OR_RETURN(since, ParseDay(request.since(), "since"));
    RETURN_IF_ERROR(NotAfter("since", since, until.today, "after as_of"));
    // Each since-day is a view of its own with models fitted for its month: keep it near.
    const Day earliest = Day(Month(until.today) - kMaxPipelineMonths);
    if (since < earliest) {
      return FieldError(
          "since", "DATE_TOO_EARLY",
          absl::StrCat(FormatDay(since), " is more than ", kMaxPipelineMonths, " months back"),
          {{"date", FormatDay(since)}, {"limit", FormatDay(earliest)}});
    }
  } else {
    const bool per_caseworker = scope.kind == ScopeFilter::Kind::kCaseworker;
    const std::optional<Day> last =
        LastDialogueOn(h, until, per_caseworker ? scope.id : 0, per_caseworker ? 0 : scope.id);
    basis = last ? "LAST_DIALOGUE" : "MONTH_START";
    // The start of the month is the end of the previous month's last day.
    since = last ? *last : Day(Month(until.today)) - 1;
  }
  // The earlier figure is the one the service showed at the end of that day.
  std::shared_ptr<const CentreView> before = view;
  if (since != until.today) {
    ASSIGN_OR_RETURN(before, engine_.cache().View(caller.job_centre_id, since));
  }
  ASSIGN_OR_RETURN(v1::PipelineInspection out, fsvc::InspectPipeline(*before, *view, scope));
  if (scope.kind == ScopeFilter::Kind::kTeam) {
    out.set_team(h.UnitCode(scope.id));
  } else {
    out.set_caseworker(h.StaffCode(scope.id));
  }
  out.set_since_basis(basis);
  return out;
}

}  // namespace forecast::fsvc
