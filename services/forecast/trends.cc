#include "services/forecast/trends.h"

#include "services/common/calendar.h"

namespace forecast::fsvc {

std::vector<Day> TrendDays(Day as_of, v1::TrendStep step, int points) {
  std::vector<Day> days;
  for (int k = points; k >= 1; --k) {
    // The day before the first of the month k months after the earliest: a month's last day.
    days.push_back(step == v1::WEEK ? as_of - 7 * k : Day(Month(as_of) - (k - 1)) - 1);
  }
  return days;
}

int64_t ClosuresIn(const CentreView& view, const ViewDays& vd, const ScopeFilter& scope,
                   uint64_t type_mask, Month month) {
  const CentreHistory& h = view.history();
  int64_t count = 0;
  for (const CaseState& s : view.snapshot().cases()) {
    const CaseRecord& r = *s.record;
    if (r.case_type < 0 || r.case_type >= 64 || (type_mask >> r.case_type & 1) == 0) continue;
    for (const StatusEvent& st : r.statuses) {
      if (!st.closed || Month(st.on) != month || !vd.Sees(st.on, st.known_on)) continue;
      const AssignmentEvent* holder = HolderOn(r, st.on, vd);
      if (holder != nullptr && scope.Covers(h, holder->caseworker_id, holder->team_id)) ++count;
    }
  }
  return count;
}

v1::TrendPoint TrendPointOf(const v1::Projection& projection, Month last, int64_t closed_so_far) {
  v1::TrendPoint point;
  point.set_as_of(projection.as_of());
  point.set_open_cases(projection.open_cases());
  const std::string first = projection.as_of().substr(0, 7);
  const std::string until = FormatMonth(last);
  for (const v1::OutcomeMonth& m : projection.closures()) {
    if (m.outcome() != "ALL" || m.month() > until) continue;
    v1::TrendMonth* out = point.add_months();
    out->set_month(m.month());
    *out->mutable_closures() = m.closures();
    if (m.month() == first) out->set_closed_so_far(closed_so_far);
  }
  return point;
}

}  // namespace forecast::fsvc
