#include "services/forecast/adjustments.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/authorization.h"
#include "services/common/calendar.h"
#include "services/common/limits.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/text_checks.h"
#include "services/forecast/scopes.h"

namespace forecast::fsvc {
namespace {

constexpr int kDefaultMonthsBack = 2;
constexpr int kDefaultMonthsAhead = 12;
constexpr int kMaxListMonths = 60;

// The row of (team, month, outcome) in force when `month` began: the latest recorded before its
// first day; null when none (or the latest cleared it).
const AdjustmentRecord* InForceAtStart(const CentreHistory& h, int64_t team_id, Month month,
                                       const std::string& outcome) {
  const AdjustmentRecord* latest = nullptr;
  const Day start(month);
  for (const AdjustmentRecord& a : h.adjustments) {  // by id: a later row supersedes
    if (a.team_id == team_id && a.month == month && a.outcome == outcome && a.known_on < start) {
      latest = &a;
    }
  }
  return latest != nullptr && latest->figure ? latest : nullptr;
}

}  // namespace

std::vector<const AdjustmentRecord*> CurrentAdjustments(const CentreHistory& history,
                                                        const ViewDays& days, int64_t team_id,
                                                        Month from, Month to) {
  std::map<std::pair<Month, std::string>, const AdjustmentRecord*> latest;
  for (const AdjustmentRecord& a : history.adjustments) {
    if (a.team_id != team_id || a.month < from || a.month > to) continue;
    if (!days.Sees(a.known_on, a.known_on)) continue;
    latest[{a.month, a.outcome}] = &a;  // rows are by id: the last one wins
  }
  std::vector<const AdjustmentRecord*> out;
  out.reserve(latest.size());
  for (const auto& [key, row] : latest) out.push_back(row);
  return out;
}

v1::ForecastAdjustment AdjustmentMessage(const CentreHistory& history, const AdjustmentRecord& a) {
  v1::ForecastAdjustment out;
  out.set_team(history.UnitCode(a.team_id));
  out.set_month(FormatMonth(a.month));
  out.set_outcome(a.outcome);
  out.set_version(a.version);
  out.set_cleared(!a.figure.has_value());
  out.set_figure(a.figure.value_or(0));
  out.set_has_previous(a.previous.has_value());
  out.set_previous_figure(a.previous.value_or(0));
  out.set_reason(a.reason);
  out.set_set_by(history.StaffCode(a.set_by));
  if (const StaffMember* s = history.Staff(a.set_by)) out.set_set_by_name(s->display_name);
  out.set_set_at(a.set_at);
  return out;
}

void AddAdjustments(const CentreView& view, int64_t team_id, v1::Projection& projection) {
  if (projection.closures().empty()) return;
  absl::flat_hash_set<std::string> months;
  for (const v1::OutcomeMonth& om : projection.closures()) months.insert(om.month());
  const Month from = view.month() - 1;
  const Month to = view.month() + (kMaxHorizon + 1);
  const CentreHistory& h = view.history();
  for (const AdjustmentRecord* a :
       CurrentAdjustments(h, view.snapshot().view(), team_id, from, to)) {
    if (a->figure && months.contains(FormatMonth(a->month))) {
      *projection.add_adjustments() = AdjustmentMessage(h, *a);
    }
  }
}

AdjustedSeries AdjustedAccuracy(const CentreHistory& history, int64_t team_id,
                                const BacktestAnswer& backtest) {
  AdjustedSeries out;
  v1::ModelAccuracy& m = out.accuracy;
  m.set_model(v1::ADJUSTED);
  double abs_error = 0, inside = 0;
  int64_t n = 0, adjusted = 0;
  for (const forecasting::BacktestFigure& f : backtest.calibrated) {
    const Month month = FromModelMonth(f.month);
    double expected = f.projected.expected;
    double shift = 0;
    if (const AdjustmentRecord* a = InForceAtStart(history, team_id, month, kAllOutcomes)) {
      shift = *a->figure - expected;
      expected = *a->figure;
      ++adjusted;
      v1::AdjustedMonth* row = &out.months.emplace_back();
      row->set_month(FormatMonth(month));
      row->set_origin(FormatMonth(FromModelMonth(f.origin)));
      row->set_calibrated(f.projected.expected);
      row->set_adjusted(*a->figure);
      row->set_actual(f.actual);
      row->set_set_at(a->set_at);
    }
    abs_error += std::abs(expected - f.actual);
    inside += (f.actual >= f.projected.p10 + shift && f.actual <= f.projected.p90 + shift) ? 1 : 0;
    ++n;
  }
  m.set_n_months(n);
  m.set_n_adjusted_months(adjusted);
  if (n > 0) {
    m.set_mean_abs_error(abs_error / n);
    m.set_interval_coverage(inside / n);
  }
  for (const v1::ModelAccuracy& c : backtest.models) {
    if (c.model() == v1::CALIBRATED) {
      m.set_brier_score(c.brier_score());
      m.set_n_cases(c.n_cases());
    }
  }
  return out;
}

absl::StatusOr<v1::ForecastAdjustment> ForecastAdjustments::Set(
    const Caller& caller, const v1::SetForecastAdjustmentRequest& request) {
  ASSIGN_OR_RETURN(const auto view, engine_.cache().Now(caller.job_centre_id));
  const CentreHistory& h = view->history();
  const OrgUnit* team = h.UnitByCode(request.team());
  if (team == nullptr || !team->is_team) return CodeNotFound("team", request.team(), "team");
  RETURN_IF_ERROR(AuthorizeAdjustmentWrite(caller, team->id));

  NewAdjustment a;
  a.outcome = request.outcome().empty() ? kAllOutcomes : request.outcome();
  if (a.outcome != kAllOutcomes && h.catalogue.Outcome(a.outcome) < 0) {
    return FieldError("outcome", "UNKNOWN_OUTCOME",
                      absl::StrCat("\"", a.outcome, "\" is not an outcome of this job centre"),
                      {{"value", a.outcome}});
  }
  if (request.month().empty()) return FieldError("month", "REQUIRED", "required");
  ASSIGN_OR_RETURN(a.month, ParseMonth(request.month(), "month"));
  const Month first = Month(engine_.clock().Today());
  const Month last = first + kMaxAdjustmentMonthsAhead;
  if (a.month < first) {
    return FieldError("month", "MONTH_PASSED",
                      absl::StrCat(FormatMonth(a.month), " has passed: adjust this month or later"),
                      {{"month", FormatMonth(a.month)}, {"first", FormatMonth(first)}});
  }
  if (a.month > last) {
    return FieldError("month", "MONTH_TOO_FAR",
                      absl::StrCat(FormatMonth(a.month), " is more than ",
                                   kMaxAdjustmentMonthsAhead, " months ahead"),
                      {{"month", FormatMonth(a.month)},
                       {"months", absl::StrCat(kMaxAdjustmentMonthsAhead)},
                       {"latest", FormatMonth(last)}});
  }
  if (!request.clear()) {
    if (!std::isfinite(request.figure()) || request.figure() < 0 ||
        request.figure() > kMaxAdjustmentFigure) {
      return FieldError("figure", "OUT_OF_RANGE", "must be a number from 0 to 1000000",
                        {{"min", "0"}, {"max", "1000000"}});
    }
    a.figure = request.figure();
  }
  if (absl::StripAsciiWhitespace(request.reason()).empty()) {
    return FieldError("reason", "REQUIRED", "required: say why the figure is adjusted");
  }
  RETURN_IF_ERROR(CheckText(request.reason(), "reason", 1, kMaxNoteChars));
  if (request.base_version() < 0) {
    return FieldError("base_version", "OUT_OF_RANGE", "must not be negative", {{"min", "0"}});
  }
  if (request.idempotency_key().empty()) {
    return FieldError("idempotency_key", "REQUIRED", "required");
  }
  RETURN_IF_ERROR(
      CheckToken(request.idempotency_key(), "idempotency_key", kMaxIdempotencyKeyChars));
  a.centre_id = caller.job_centre_id;
  a.team_id = team->id;
  a.reason = request.reason();
  a.base_version = request.base_version();
  a.idempotency_key = request.idempotency_key();
  a.set_by = caller.staff_id;
  ASSIGN_OR_RETURN(AdjustmentRecord stored, store_.AddAdjustment(a));
  v1::ForecastAdjustment out = AdjustmentMessage(h, stored);
  RETURN_IF_ERROR(engine_.refresher().Amend(
      caller.job_centre_id,
      [&stored](CentreHistory& history) { history.PutAdjustment(std::move(stored)); }));
  return out;
}

absl::StatusOr<v1::ForecastAdjustments> ForecastAdjustments::List(
    const Caller& caller, const v1::ListForecastAdjustmentsRequest& request,
    std::optional<Day> as_of) {
  const Day today = engine_.clock().Today();
  if (as_of && *as_of > today) {
    return FieldError("as_of", "DATE_TOO_LATE",
                      absl::StrCat(FormatDay(*as_of), " is in the future"),
                      {{"date", FormatDay(*as_of)}, {"limit", FormatDay(today)}});
  }
  ASSIGN_OR_RETURN(const auto view, engine_.cache().View(caller.job_centre_id, as_of));
  const CentreHistory& h = view->history();
  ASSIGN_OR_RETURN(const ScopeFilter team, ReadableTeam(h, caller, request.team(), "team"));
  Month from = view->month() - kDefaultMonthsBack, to = view->month() + kDefaultMonthsAhead;
  if (!request.from_month().empty()) {
    ASSIGN_OR_RETURN(from, ParseMonth(request.from_month(), "from_month"));
  }
  if (!request.to_month().empty()) {
    ASSIGN_OR_RETURN(to, ParseMonth(request.to_month(), "to_month"));
  }
  if (to < from || to - from >= kMaxListMonths) {
    return FieldError(
        "to_month", "OUT_OF_RANGE",
        absl::StrCat("must be from from_month to ", kMaxListMonths - 1, " months after it"),
        {{"min", FormatMonth(from)}, {"max", FormatMonth(from + (kMaxListMonths - 1))}});
  }
  const ViewDays& days = view->snapshot().view();
  v1::ForecastAdjustments out;
  out.set_team(h.UnitCode(team.id));
  out.set_as_of(FormatDay(view->today()));
  for (const AdjustmentRecord* a : CurrentAdjustments(h, days, team.id, from, to)) {
    *out.add_current() = AdjustmentMessage(h, *a);
  }
  for (const AdjustmentRecord& a : h.adjustments) {
    if (a.team_id != team.id || a.month < from || a.month > to) continue;
    if (!days.Sees(a.known_on, a.known_on)) continue;
    *out.add_history() = AdjustmentMessage(h, a);
  }
  return out;
}

}  // namespace forecast::fsvc
