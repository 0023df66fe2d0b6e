#include "services/forecast/trends.h"

#include <algorithm>

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

std::vector<int64_t> ClosuresIn(const CentreView& view, const ScopeFilter& scope,
                                uint64_t type_mask, const std::vector<ClosureCount>& counts) {
  std::vector<int64_t> out(counts.size(), 0);
  if (counts.empty()) return out;
  Month first = counts.front().month, last = first;
  for (const ClosureCount& c : counts) {
    first = std::min(first, c.month);
    last = std::max(last, c.month);
  }
  const CentreHistory& h = view.history();
  for (const CaseState& s : view.snapshot().cases()) {
    const CaseTimeline& r = *s.record;
    if (r.case_type < 0 || r.case_type >= 64 || (type_mask >> r.case_type & 1) == 0) continue;
    for (const StatusEvent& st : r.statuses) {
      const Month m(st.on);
      if (!st.closed || m < first || m > last) continue;
      for (size_t i = 0; i < counts.size(); ++i) {
        const ViewDays& vd = counts[i].seen;
        if (counts[i].month != m || !vd.Sees(st.on, st.known_on)) continue;
        const AssignmentEvent* holder = HolderOn(r, st.on, vd);
        if (holder != nullptr && scope.Covers(h, holder->caseworker_id, holder->team_id)) ++out[i];
      }
    }
  }
  return out;
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
