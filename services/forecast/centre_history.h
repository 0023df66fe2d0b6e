// The whole recorded history of one job centre, in memory: catalogue, organisation, every case
// with its append-only history (assignments, expectations, closures and reopenings, actions and
// follow-ups, field changes), milestone metrics and targets, and dialogues.
//
// Every history row carries `known_on`: the day from which the service knew it, i.e. the later of
// its effective day and the day it was recorded. A view "as of D" uses only rows known on or
// before D, so it shows exactly what the service would have shown on D even when a change was
// later back-dated (see snapshot.h).
//
// A CentreHistory is immutable once built and shared read-only between threads; an update builds
// a new one that shares the unchanged case records (copy on write).
#ifndef SERVICES_FORECAST_CENTRE_HISTORY_H_
#define SERVICES_FORECAST_CENTRE_HISTORY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/civil_time.h"
#include "forecast/v1/common.pb.h"

namespace forecast::fsvc {

using Day = absl::CivilDay;
using Month = absl::CivilMonth;

// A day later than any real one: "no cut-off".
inline const Day kEndOfTime = Day(9999, 12, 31);

// The job centre's catalogue, codes mapped to dense indices (in sort order).
struct Catalogue {
  std::vector<std::string> case_types;
  std::vector<std::string> outcomes;
  std::vector<std::string> outcome_groups;  // per outcome, e.g. "JOB"
  std::vector<std::string> risks;           // lowest risk first (sort order)
  std::vector<double> risk_probability;     // per risk: chance the expectation comes true
  absl::flat_hash_map<std::string, int> case_type_index, outcome_index, risk_index;

  // Index of a code, or -1 when unknown (e.g. a code deactivated and removed). Thread-safe.
  int CaseType(const std::string& code) const;
  int Outcome(const std::string& code) const;
  int Risk(const std::string& code) const;
  // Code of an index; "" for -1. Thread-safe.
  const std::string& OutcomeCode(int index) const;
  const std::string& RiskCode(int index) const;
  // The risk index meant by "high risk": the one with the lowest probability. -1 when none.
  int HighestRisk() const;
};

enum class FieldType { kBool, kNumber, kChoice, kDate };

// One of the job centre's own case fields.
struct FieldDef {
  std::string code;
  std::string label_da, label_en;
  FieldType type = FieldType::kBool;
  std::vector<std::string> choices;
};

// A field value as stored (JSON scalar); `present` false means cleared / never set.
struct FieldValue {
  bool present = false;
  bool bool_value = false;
  double number_value = 0;
  std::string text;  // choice or date

  bool operator==(const FieldValue& o) const {
    return present == o.present && bool_value == o.bool_value && number_value == o.number_value &&
           text == o.text;
  }
  // True for a yes/no field that is true; for other types, whether any value is set.
  bool IsSet(FieldType type) const;
};

struct OrgUnit {
  int64_t id = 0;
  std::string code, name;
  bool is_team = false;
  int64_t parent_id = 0;  // 0: none
};

struct StaffMember {
  int64_t id = 0;
  std::string code, display_name, role;  // role as stored: CASEWORKER, TEAM_LEADER, ...
  int64_t team_id = 0;                   // 0: none
  bool active = true;
};

struct AssignmentEvent {
  Day from_on;
  Day known_on;
  int64_t caseworker_id = 0;
  int64_t team_id = 0;
  int64_t recorded_by = 0;  // staff id of who recorded it
};

struct ExpectationEvent {
  int64_t id = 0;
  Day recorded_on;  // the day it was recorded (its effective day)
  Day known_on;
  int outcome = -1;  // catalogue index
  Month expected_month;
  int risk = -1;
  bool agreed_in_dialogue = false;
  int64_t dialogue_id = 0;
  int64_t recorded_by = 0;
};

struct StatusEvent {
  Day on;
  Day known_on;
  bool closed = false;  // false: reopened
  int outcome = -1;
  int64_t recorded_by = 0;  // staff id of who recorded it
};

struct FollowUpEvent {
  Day known_on;
  v1::FollowUpResult result = v1::FOLLOW_UP_DONE;
  Day postponed_to;
};

struct ActionRecord {
  int64_t id = 0;
  Day known_on;   // the day it was created
  Day first_due;  // due date before any postponement
  bool agreed_in_dialogue = false;
  std::vector<FollowUpEvent> follow_ups;  // in recorded order
};

struct FieldEvent {
  Day effective_on;
  Day known_on;
  int field = -1;  // index into CentreHistory::fields
  FieldValue value;
};

// One case and everything recorded about it, each list in the order it happened.
struct CaseTimeline {
  int64_t id = 0;
  std::string ref;
  int case_type = -1;
  Day opened_on;
  Day known_on;                                // the day the case became known to the service
  std::vector<AssignmentEvent> assignments;    // by from_on, then recording order
  std::vector<ExpectationEvent> expectations;  // by recorded time
  std::vector<StatusEvent> statuses;           // by on, then recording order
  std::vector<ActionRecord> actions;
  std::vector<FieldEvent> fields;  // by effective_on, then recording order
  // The highest row id read from each history table for this case: a refresh reads only the
  // rows above them (ids grow in commit order within a case: its writes take the case's row
  // lock), so applying a change costs the same however long the case's history is.
  struct LastIds {
    int64_t assignment = 0, expectation = 0, status = 0, action = 0, follow_up = 0, field = 0;
  };
  LastIds last_ids;
};

enum class MetricKind { kClosures, kFieldTurnedTrue, kFieldSet, kCaseload };

// A milestone metric the job centre tracks (deploy/migrations/0002).
struct MilestoneMetricDef {
  std::string code, label_da, label_en;
  MetricKind kind = MetricKind::kClosures;
  std::string outcome_group, field_code, choice;
  bool higher_is_better = true;
};

// "CLOSURES", "FIELD_TURNED_TRUE", ...
const char* MetricKindName(MetricKind kind);

struct MilestoneTargetRecord {
  int64_t team_id = 0;
  int64_t caseworker_id = 0;  // 0: the whole team
  std::string metric;
  Month month;
  double target = 0;
  int64_t set_by = 0;
  Day known_on;
  std::string set_at;  // RFC 3339
  int64_t order = 0;   // recording order (id)
};

// One saved version of a dialogue's notes (deploy/migrations/0045).
struct DialogueNotesVersionRecord {
  int version = 0;
  Day held_on;
  std::string status, knowledge, learning, adjustment;
  int64_t recorded_by = 0;
  std::string recorded_at;  // RFC 3339
};

struct DialogueRecord {
  int64_t id = 0;
  int64_t team_id = 0, team_leader_id = 0, caseworker_id = 0;
  Day held_on;
  Day known_on;  // FINAL: the later of held_on and the day it was finalised
  std::string status, knowledge, learning, adjustment;  // the latest version
  std::string recorded_at;                              // RFC 3339, when it was opened
  std::vector<int64_t> case_ids;
  bool final = true;         // false: an open DRAFT
  int version = 1;           // notes versions saved
  std::string finalised_at;  // RFC 3339; empty for a draft
  int64_t finalised_by = 0;
  Day finalised_on;                                  // UTC day of finalised_at
  Day opened_on;                                     // UTC day of recorded_at (when it was opened)
  std::vector<DialogueNotesVersionRecord> versions;  // oldest first
  // Agreements taken off the agreed list while the dialogue was a draft: (case id, expectation
  // id) - the case's expectations naming this dialogue up to that id no longer count as agreed
  // in it (dialogue_case_edit, migration 0070). `case_ids` already leaves removed cases out.
  std::vector<std::pair<int64_t, int64_t>> withdrawn;

  // Whether expectation `expectation_id` of case `case_id`, naming this dialogue, counts as
  // agreed in it. Thread-safe.
  bool Counts(int64_t case_id, int64_t expectation_id) const {
    for (const auto& [c, up_to] : withdrawn) {
      if (c == case_id && expectation_id <= up_to) return false;
    }
    return true;
  }
};

// One row of a team's forecast adjustments (deploy/migrations/0075; services/forecast/
// adjustments.h): append-only, the latest row of (team, month, outcome) is in force.
struct AdjustmentRecord {
  int64_t id = 0;  // recording order
  int64_t team_id = 0;
  Month month;
  std::string outcome;             // outcome code or "ALL"
  int version = 1;                 // of (team, month, outcome), from 1
  std::optional<double> figure;    // nullopt: this row clears the adjustment
  std::optional<double> previous;  // the figure in force before; nullopt: none
  std::string reason;
  int64_t set_by = 0;
  Day known_on;        // UTC day of set_at
  std::string set_at;  // RFC 3339
  std::string idempotency_key;
};

struct CentreHistory {
  int64_t centre_id = 0;
  std::string code, name;
  Catalogue catalogue;
  std::vector<FieldDef> fields;
  absl::flat_hash_map<std::string, int> field_index;
  std::vector<OrgUnit> units;
  std::vector<StaffMember> staff;
  absl::flat_hash_map<int64_t, int> unit_index, staff_index;
  absl::flat_hash_map<std::string, int64_t> unit_by_code, staff_by_code;
  std::vector<std::shared_ptr<const CaseTimeline>> cases;
  // Case id -> position in `cases`, and case_ref -> id. Shared between versions of the history
  // while no case is added (re-reading a case keeps its position), so an update costs no
  // re-indexing.
  struct CaseIndex {
    absl::flat_hash_map<int64_t, int> by_id;
    absl::flat_hash_map<std::string, int64_t> by_ref;
  };
  std::shared_ptr<const CaseIndex> case_index = std::make_shared<CaseIndex>();
  std::vector<MilestoneMetricDef> metrics;
  std::vector<MilestoneTargetRecord> targets;  // in recording order
  std::vector<DialogueRecord> dialogues;       // by held_on, then id
  std::vector<AdjustmentRecord> adjustments;   // by id (recording order)

  // Rebuilds the index maps of the catalogue, fields, units and staff. Not thread-safe (call
  // while building).
  void ReindexSmall();
  // Rebuilds the case index from `cases`. Not thread-safe (call while building).
  void ReindexCases();
  // Puts a dialogue as stored in its place (by held_on, then id), replacing the one with its id.
  // Not thread-safe (call while building).
  void PutDialogue(DialogueRecord dialogue);
  // Puts a target as stored in its place (recording order). Not thread-safe (call while
  // building).
  void PutTarget(MilestoneTargetRecord target);
  // Puts an adjustment row as stored in its place (by id); a row already there is kept. Not
  // thread-safe (call while building).
  void PutAdjustment(AdjustmentRecord adjustment);
  // Position of a case in `cases`; -1 when unknown. Thread-safe.
  int CasePosition(int64_t id) const;

  // Lookups; nullptr when unknown. Thread-safe.
  const OrgUnit* Unit(int64_t id) const;
  const StaffMember* Staff(int64_t id) const;
  const OrgUnit* UnitByCode(const std::string& code) const;
  const StaffMember* StaffByCode(const std::string& code) const;
  const CaseTimeline* CaseById(int64_t id) const;
  const CaseTimeline* CaseByRef(const std::string& ref) const;
  const MilestoneMetricDef* Metric(const std::string& code) const;
  // Code of a staff member or unit; "" when unknown. Thread-safe.
  const std::string& StaffCode(int64_t id) const;
  const std::string& UnitCode(int64_t id) const;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_CENTRE_HISTORY_H_
