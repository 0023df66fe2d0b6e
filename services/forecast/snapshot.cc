#include "services/forecast/snapshot.h"

#include <algorithm>

namespace forecast::fsvc {

const AssignmentEvent* HolderOn(const CaseTimeline& record, Day day, const ViewDays& view) {
  const AssignmentEvent* holder = nullptr;
  for (const AssignmentEvent& a : record.assignments) {
    if (a.from_on > day) break;  // sorted by from_on
    if (view.Sees(a.from_on, a.known_on)) holder = &a;
  }
  // A case is always held by someone: an assignment effective before the case was known to the
  // service still names its first holder.
  if (holder == nullptr && !record.assignments.empty() &&
      view.Knows(record.assignments.front().known_on)) {
    holder = &record.assignments.front();
  }
  return holder;
}

const ExpectationEvent* ExpectationOn(const CaseTimeline& record, Day day, const ViewDays& view) {
  const ExpectationEvent* in_force = nullptr;
  for (const ExpectationEvent& e : record.expectations) {
    if (e.recorded_on > day) break;  // sorted by recording time
    if (view.Sees(e.recorded_on, e.known_on)) in_force = &e;
  }
  return in_force;
}

bool OpenOn(const CaseTimeline& record, Day day, const ViewDays& view) {
  if (record.opened_on > day || !view.Knows(record.known_on)) return false;
  bool open = true;
  for (const StatusEvent& s : record.statuses) {
    if (s.on > day) break;
    if (view.Sees(s.on, s.known_on)) open = !s.closed;
  }
  return open;
}

std::vector<FieldValue> FieldsOn(const CaseTimeline& record, size_t num_fields, Day day,
                                 const ViewDays& view) {
  std::vector<FieldValue> values(num_fields);
  for (const FieldEvent& f : record.fields) {
    if (f.effective_on > day) break;
    if (f.field >= 0 && static_cast<size_t>(f.field) < num_fields &&
        view.Sees(f.effective_on, f.known_on)) {
      values[f.field] = f.value;
    }
  }
  return values;
}

CaseState StateOf(const CaseTimeline& record, size_t num_fields, const ViewDays& view) {
  CaseState state;
  if (record.opened_on > view.today || !view.Knows(record.known_on)) return state;
  state.record = &record;
  const Day today = view.today;
  state.open = true;
  for (const StatusEvent& s : record.statuses) {
    if (s.on > today) break;
    if (!view.Sees(s.on, s.known_on)) continue;
    state.open = !s.closed;
    if (s.closed) {
      state.closed_on = s.on;
      state.closure_outcome = s.outcome;
    }
  }
  if (const AssignmentEvent* holder = HolderOn(record, today, view)) {
    state.caseworker_id = holder->caseworker_id;
    state.team_id = holder->team_id;
  }
  state.expectation = ExpectationOn(record, today, view);
  if (state.open) {
    for (const ActionRecord& action : record.actions) {
      if (!view.Sees(action.known_on, action.known_on)) continue;
      Day due = action.first_due;
      bool open = true;
      for (const FollowUpEvent& f : action.follow_ups) {
        if (!view.Sees(f.known_on, f.known_on)) continue;
        if (f.result == v1::FOLLOW_UP_POSTPONED) {
          due = f.postponed_to;
        } else {
          open = false;
        }
      }
      if (open && due < today) {
        ++state.overdue_actions;
        state.max_days_overdue = std::max(state.max_days_overdue, static_cast<int>(today - due));
      }
    }
  }
  if (state.open) state.fields = FieldsOn(record, num_fields, today, view);
  return state;
}

std::shared_ptr<const CentreSnapshot> CentreSnapshot::Build(
    std::shared_ptr<const CentreHistory> history, const ViewDays& view) {
  auto snapshot = std::make_shared<CentreSnapshot>();
  snapshot->view_ = view;
  snapshot->cases_.reserve(history->cases.size());
  const size_t num_fields = history->fields.size();
  for (const auto& record : history->cases) {
    CaseState state = StateOf(*record, num_fields, view);
    if (state.record == nullptr) continue;
    snapshot->index_[record->id] = static_cast<int>(snapshot->cases_.size());
    snapshot->cases_.push_back(std::move(state));
  }
  snapshot->history_ = std::move(history);
  return snapshot;
}

std::shared_ptr<const CentreSnapshot> CentreSnapshot::Update(
    const CentreSnapshot& previous, std::shared_ptr<const CentreHistory> history,
    const absl::flat_hash_set<int64_t>& changed) {
  const size_t num_fields = history->fields.size();
  if (num_fields != previous.history().fields.size() ||
      history->cases.size() < previous.history().cases.size()) {
    return Build(std::move(history), previous.view_);
  }
  auto snapshot = std::make_shared<CentreSnapshot>();
  snapshot->view_ = previous.view_;
  snapshot->cases_ = previous.cases_;
  snapshot->index_ = previous.index_;
  for (int64_t id : changed) {
    const int pos = history->CasePosition(id);
    if (pos < 0) continue;
    CaseState state = StateOf(*history->cases[pos], num_fields, snapshot->view_);
    auto it = snapshot->index_.find(id);
    if (it != snapshot->index_.end()) {
      if (state.record == nullptr) return Build(std::move(history), previous.view_);  // vanished
      snapshot->cases_[it->second] = std::move(state);
    } else if (state.record != nullptr) {
      snapshot->index_[id] = static_cast<int>(snapshot->cases_.size());
      snapshot->cases_.push_back(std::move(state));
    }
  }
  snapshot->history_ = std::move(history);
  return snapshot;
}

const CaseState* CentreSnapshot::Case(int64_t case_id) const {
  auto it = index_.find(case_id);
  return it == index_.end() ? nullptr : &cases_[it->second];
}

bool ScopeFilter::Covers(const CentreHistory& history, int64_t caseworker_id,
                         int64_t team_id) const {
  switch (kind) {
    case Kind::kCaseworker: return caseworker_id == id;
    case Kind::kTeam: return team_id == id;
    case Kind::kDepartment: {
      const OrgUnit* team = history.Unit(team_id);
      return team != nullptr && team->parent_id == id;
    }
    case Kind::kJobCentre: return true;
  }
  return false;
}

}  // namespace forecast::fsvc
