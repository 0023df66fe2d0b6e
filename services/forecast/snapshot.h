// A job centre as it stood on a day: for every case known then, who held it, whether it was
// open, the expectation in force, overdue actions and field values. Built in memory from a
// CentreHistory in one pass over the cases (linear in the history's size).
//
// Two days define a view: `today` (the day whose state is shown; events effective later are
// ignored) and `cutoff` (rows known to the service after it are ignored). "As of D" is
// today = cutoff = D; "now" is today = the clock's day and no cut-off, so a view as of D computed
// later equals the "now" view computed on D.
#ifndef SERVICES_FORECAST_SNAPSHOT_H_
#define SERVICES_FORECAST_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "services/forecast/centre_history.h"

namespace forecast::fsvc {

// Which events a view sees.
struct ViewDays {
  Day today;
  Day cutoff = kEndOfTime;
  // True when an event effective on `effective` and known on `known` is part of the view.
  bool Sees(Day effective, Day known) const { return effective <= today && known <= cutoff; }
  bool Knows(Day known) const { return known <= cutoff; }
};

struct CaseState {
  const CaseTimeline* record = nullptr;
  bool open = false;
  int64_t caseworker_id = 0;
  int64_t team_id = 0;
  Day closed_on;  // when closed
  int closure_outcome = -1;
  const ExpectationEvent* expectation = nullptr;  // in force; nullptr when none
  int overdue_actions = 0;                        // open actions due before today
  int max_days_overdue = 0;
  std::vector<FieldValue> fields;  // per CentreHistory::fields; open cases only
};

// The holder of a case on `day` as the view knows it; nullptr before the first assignment.
// Thread-safe (pure).
const AssignmentEvent* HolderOn(const CaseTimeline& record, Day day, const ViewDays& view);

// The expectation in force at the end of `day` as the view knows it; nullptr when none.
// Thread-safe (pure).
const ExpectationEvent* ExpectationOn(const CaseTimeline& record, Day day, const ViewDays& view);

// Whether the case is open at the end of `day` (opened on or before it and not closed since).
// Thread-safe (pure).
bool OpenOn(const CaseTimeline& record, Day day, const ViewDays& view);

// The case's field values at the end of `day`, per CentreHistory::fields. Thread-safe (pure).
std::vector<FieldValue> FieldsOn(const CaseTimeline& record, size_t num_fields, Day day,
                                 const ViewDays& view);

// The state of one case in the view; nullopt-like (record == nullptr) when the case was not yet
// known or opened. Thread-safe (pure).
CaseState StateOf(const CaseTimeline& record, size_t num_fields, const ViewDays& view);

class CentreSnapshot {
 public:
  // Builds the view of every case. Thread-safe (reads the shared history only).
  static std::shared_ptr<const CentreSnapshot> Build(std::shared_ptr<const CentreHistory> history,
                                                     const ViewDays& view);

  // The same view of `history`, a newer version of `previous`'s history in which only the cases
  // in `changed` differ (others share their records): copies the other cases' states and
  // recomputes the changed ones. Falls back to Build when the case order differs.
  // Thread-safe.
  static std::shared_ptr<const CentreSnapshot> Update(const CentreSnapshot& previous,
                                                      std::shared_ptr<const CentreHistory> history,
                                                      const absl::flat_hash_set<int64_t>& changed);

  const CentreHistory& history() const { return *history_; }
  const std::shared_ptr<const CentreHistory>& history_ptr() const { return history_; }
  const ViewDays& view() const { return view_; }
  Day today() const { return view_.today; }
  // Every case known and opened by today, open or closed.
  const std::vector<CaseState>& cases() const { return cases_; }
  // The state of a case by id; nullptr when not part of the view.
  const CaseState* Case(int64_t case_id) const;

 private:
  std::shared_ptr<const CentreHistory> history_;
  ViewDays view_;
  std::vector<CaseState> cases_;
  absl::flat_hash_map<int64_t, int> index_;
};

// Which cases a figure covers.
struct ScopeFilter {
  enum class Kind { kCaseworker, kTeam, kDepartment, kJobCentre };
  Kind kind = Kind::kJobCentre;
  int64_t id = 0;  // staff id, team id or department id

  // Whether a case held by `caseworker_id` in `team_id` belongs to the scope.
  bool Covers(const CentreHistory& history, int64_t caseworker_id, int64_t team_id) const;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_SNAPSHOT_H_
