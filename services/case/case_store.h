// The case service's storage seam: everything the case logic reads and writes, behind an
// interface so the logic is testable without PostgreSQL. PgCaseStore is the real one.
//
// Writes are whole changes: one call appends the history row(s), bumps the case version (only
// when it still equals the base version), writes the case_event row and the idempotency record,
// in one transaction.
#ifndef SERVICES_CASE_CASE_STORE_H_
#define SERVICES_CASE_CASE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "forecast/v1/case_service.pb.h"
#include "services/case/case_rules.h"
#include "services/common/codes.h"
#include "services/common/authorization.h"
#include "services/common/caller.h"

namespace forecast {

// A staff member as the logic needs it.
struct StaffRecord {
  int64_t id = 0;
  std::string code;
  std::string display_name;
  Role role = Role::kCaseworker;
  int64_t team_id = 0;  // 0 without a team
  std::string team_code;
  bool active = true;
};

struct UnitRecord {
  int64_t id = 0;
  std::string code;
  std::string kind;  // DEPARTMENT or TEAM
  int64_t parent_id = 0;
};

// A case as loaded: the API view plus the internal ids authorisation and writes need.
struct StoredCase {
  int64_t id = 0;
  CaseOwnership owner;
  v1::Case view;             // open_actions[].overdue is left false; the logic computes it
  std::string held_since;    // YYYY-MM-DD: the current caseworker's assignment started
  std::string status_since;  // YYYY-MM-DD: the last closure or reopening, empty if none
};

// Retried-write bookkeeping: stored with the answer, in the write's transaction.
struct IdempotencyTicket {
  std::string key;  // empty: not idempotent
  std::string method;
  std::string request_hash;
};

// A previously stored answer.
struct StoredAnswer {
  std::string method;
  std::string request_hash;
  std::string response;  // serialised response message
};

// The history rows one change appends (exactly one alternative per change).
struct NewExpectation {
  std::string outcome;
  absl::CivilMonth month;
  std::string risk;
  bool agreed_in_dialogue = false;
  int64_t dialogue_id = 0;
  std::string note;
};
struct NewAction {
  std::string description;
  int64_t owner_id = 0;
  absl::CivilDay due_on;
  bool agreed_in_dialogue = false;
};
struct NewFollowUp {
  int64_t action_id = 0;
  std::string result;  // DONE, NOT_DONE, POSTPONED
  std::optional<absl::CivilDay> postponed_to;
  absl::CivilDay previous_due_on;
  std::string note;
};
struct FieldUpdates {
  std::map<std::string, std::optional<std::string>> values;  // code -> JSON text, nullopt clears
};
struct NewStatus {
  StatusChange status = StatusChange::kClosed;
  absl::CivilDay on;
  std::string outcome;  // with CLOSED
};
struct NewAssignment {
  int64_t caseworker_id = 0;
  int64_t team_id = 0;
  absl::CivilDay from_on;
};
using CaseChangeBody =
    std::variant<NewExpectation, NewAction, NewFollowUp, FieldUpdates, NewStatus, NewAssignment>;

struct CaseChange {
  int64_t job_centre_id = 0;
  int64_t case_id = 0;
  std::string case_ref;
  int64_t base_version = 0;
  int64_t actor_id = 0;
  std::string kind;  // case_event kind, e.g. EXPECTATION
  absl::CivilDay effective_on;
  std::string summary_json;
  CaseChangeBody body;
  IdempotencyTicket idempotency;
};

struct NewCase {
  int64_t job_centre_id = 0;
  std::string case_ref;
  std::string case_type;
  absl::CivilDay opened_on;
  int64_t caseworker_id = 0;
  int64_t team_id = 0;
  int64_t actor_id = 0;
  std::string fields_json = "{}";  // object: code -> value
  std::string summary_json;
  IdempotencyTicket idempotency;
};

// One expectation write, checked as far as it can be without the case (catalogue codes, month
// limit, note), for the store's one-statement path.
struct ExpectationWrite {
  int64_t job_centre_id = 0;
  std::string case_ref;
  int64_t base_version = 0;
  int64_t actor_id = 0;
  CaseFilter writable;  // the cases the caller may write (authorization.h)
  IdempotencyTicket idempotency;
  NewExpectation expectation;
  absl::CivilDay effective_on;
  const CatalogueView* catalogue = nullptr;  // types the case's fields in the answer
};

// What ListCases may return: the filters plus the caller's visibility.
struct CaseQuery {
  int64_t job_centre_id = 0;
  int64_t caseworker_id = 0;  // 0: any
  int64_t team_id = 0;        // 0: any
  std::string case_type;      // empty: any
  std::string status;         // OPEN, CLOSED or empty
  // Visibility: when set, only cases in visible_team_id or held by visible_staff_id.
  bool restricted = false;
  int64_t visible_team_id = 0;
  int64_t visible_staff_id = 0;
  std::string after_case_ref;  // keyset pagination: case_ref > this
  int limit = 100;
};

// Import: rows already validated, staff and teams named by code (the store resolves them; the
// missing ones are created first, by ImportSession::CreateOrganisation), each case's changes in
// effective order. One plan is one batch of an import's cases.
struct ImportPlan {
  struct Change {
    std::string kind;  // EXPECTATION, REASSIGNED or CLOSED
    absl::CivilDay on;
    std::string actor_code;  // who recorded it (the expectation's recorded_by, else the importer)
    std::string outcome;     // EXPECTATION and CLOSED
    std::string risk;        // EXPECTATION
    absl::CivilMonth month;  // EXPECTATION
    std::string caseworker_code;  // REASSIGNED: the new caseworker
    std::string team_code;        // REASSIGNED: the new caseworker's team
  };
  struct Case {
    std::string case_ref;
    std::string case_type;
    absl::CivilDay opened_on;
    std::string caseworker_code;  // at opening
    std::string team_code;        // at opening
    std::string fields_json = "{}";
    std::vector<Change> changes;
  };
  struct MissingStaff {
    std::string code;
    std::string team_code;
  };
  int64_t job_centre_id = 0;
  int64_t actor_id = 0;  // the importer
  std::vector<Case> cases;
};

struct ImportCounts {
  int64_t cases = 0, expectations = 0, closures = 0, reassignments = 0, created_staff = 0;
};

// A staged import row with its place in the stream (rows of every file share one counter, so
// `seq` orders the rows of one file as they arrived).
template <typename Row>
struct StagedRow {
  int64_t seq = 0;
  Row row;
};

// Every staged row naming one case_ref, per file in the order received.
struct ImportGroup {
  std::string case_ref;
  std::vector<StagedRow<v1::ImportCaseRow>> cases;
  std::vector<StagedRow<v1::ImportClosureRow>> closures;
  std::vector<StagedRow<v1::ImportExpectationRow>> expectations;
  std::vector<StagedRow<v1::ImportReassignmentRow>> reassignments;
  int64_t rows_left_out = 0;  // rows of this case beyond the per-case limit, counted, not read
  size_t rows() const {
    return cases.size() + closures.size() + expectations.size() + reassignments.size();
  }
};

// One import's transaction (CaseStore::RunImport): rows are staged in the database as they
// arrive, read back case by case in bounded batches, and written batch by batch; nothing is
// visible to others before the commit. The caller's memory holds one chunk or one batch at a
// time, never the whole import. Not thread-safe. Database errors leave these calls as
// exceptions of the driver, which RunImport turns into a status: callers let them pass.
class ImportSession {
 public:
  virtual ~ImportSession() = default;
  // Stages the chunk's rows (after those staged before).
  virtual void Stage(const v1::ImportChunk& chunk) = 0;
  // Calls `visit` with every staged row, grouped by case_ref, groups in case_ref order, in
  // batches of at most `max_groups` groups; a batch is closed once it holds `max_rows` rows (a
  // group is never split). A group holds at most `max_case_rows` rows; the rest of its case's
  // rows are only counted (ImportGroup::rows_left_out), so memory stays bounded whatever one case
  // holds. `visit` may call the other methods (same transaction).
  virtual void ForEachBatch(size_t max_groups, size_t max_rows, size_t max_case_rows,
                            const std::function<void(std::vector<ImportGroup>&)>& visit) = 0;
  // Every case_ref of the job centre that is already taken, among `refs`.
  virtual std::vector<std::string> ExistingCaseRefs(const std::vector<std::string>& refs) = 0;
  // Creates the teams (without a department) and the staff (caseworkers in their team) that do
  // not exist yet; returns how many staff members it created. Call before Write.
  virtual int64_t CreateOrganisation(const std::vector<std::string>& teams,
                                     const std::vector<ImportPlan::MissingStaff>& staff) = 0;
  // Writes one batch of validated cases; their events are held until Finish.
  virtual ImportCounts Write(const ImportPlan& batch) = 0;
  // Writes every held event in one statement (one BULK notification for a large import). Call
  // once, last, when the import is to be committed.
  virtual void Finish() = 0;
};

struct HistoryPage {
  v1::CaseHistory history;  // rows and counts; `current` is left to the caller
  HistoryPosition next;     // where the following page starts
};

struct ActionPage {
  std::vector<v1::Action> actions;
  int32_t total = 0;
};

// A dialogue as an agreement sees it (the forecast service owns the dialogue tables).
struct DialogueRef {
  int64_t caseworker_id = 0;
  bool final = false;  // finalised: agreements can no longer be recorded in it
};

// Implementations are thread-safe. Errors: NOT_FOUND for missing rows, ABORTED for a stale base
// version, ALREADY_EXISTS for a duplicate case_ref, UNAVAILABLE/INTERNAL for the database.
class CaseStore {
 public:
  virtual ~CaseStore() = default;

  // Every catalogue entry and case field of the job centre, active or not, in sort order.
  virtual absl::StatusOr<v1::Catalogue> LoadCatalogue(int64_t job_centre_id) = 0;
  // The job centre's units and staff (NOT_FOUND for an unknown job centre).
  virtual absl::StatusOr<v1::Organisation> LoadOrganisation(int64_t job_centre_id) = 0;
  // nullopt when unknown (inactive staff are returned with active=false).
  virtual absl::StatusOr<std::optional<StaffRecord>> FindStaff(int64_t job_centre_id,
                                                               const std::string& code) = 0;
  // An organisational unit by code; nullopt when unknown.
  virtual absl::StatusOr<std::optional<UnitRecord>> FindUnit(int64_t job_centre_id,
                                                             const std::string& code) = 0;
  // Dialogue `dialogue_id` of the job centre: its caseworker (staff id) and whether it is FINAL;
  // nullopt when the job centre has no such dialogue.
  virtual absl::StatusOr<std::optional<DialogueRef>> FindDialogue(int64_t job_centre_id,
                                                                  int64_t dialogue_id) = 0;
  // Every case_ref of the job centre that is already taken, among `refs`.
  virtual absl::StatusOr<std::vector<std::string>> ExistingCaseRefs(
      int64_t job_centre_id, const std::vector<std::string>& refs) = 0;

  // NOT_FOUND naming the case_ref when the job centre has no such case.
  virtual absl::StatusOr<StoredCase> LoadCase(int64_t job_centre_id,
                                              const std::string& case_ref) = 0;
  // Cases matching the query, ordered by case_ref, at most query.limit.
  virtual absl::StatusOr<std::vector<v1::Case>> ListCases(const CaseQuery& query) = 0;
  // One page of a case's history: of each list, at most `limit` rows older than `before`'s
  // (oldest first within the page), with every list's total count.
  virtual absl::StatusOr<HistoryPage> LoadHistory(int64_t case_id, const HistoryPosition& before,
                                                  int limit) = 0;
  // One page of a case's actions with their follow-ups (open ones only unless include_closed),
  // soonest due first then oldest first, after `after` when given; at most `limit`; `total`
  // counts every matching action.
  virtual absl::StatusOr<ActionPage> ListActions(int64_t case_id, bool include_closed,
                                                 const std::optional<ActionPosition>& after,
                                                 int limit) = 0;
  // The case's open action `action_id` (without follow-ups); nullopt when it has none such.
  virtual absl::StatusOr<std::optional<v1::Action>> FindOpenAction(int64_t case_id,
                                                                   int64_t action_id) = 0;

  // The committed answer stored under an idempotency key; nullopt when the key is new. Answers
  // only once the stored answer is as durable as a fresh write (replicated to the synchronous
  // standby), so a replay never acknowledges a write that a failover can still drop.
  virtual absl::StatusOr<std::optional<StoredAnswer>> FindAnswer(int64_t job_centre_id,
                                                                 const std::string& key) = 0;

  // Applies the change when the case is still at base_version (else ABORTED "case X is at
  // version N, the write was based on M"); returns the case after it. When the ticket's key
  // was stored meanwhile by a concurrent retry, returns that stored answer instead (or
  // INVALID_ARGUMENT when it was for a different request).
  virtual absl::StatusOr<v1::Case> ApplyChange(const CaseChange& change) = 0;
  // The expectation write in one round trip, when the case exists, `writable` covers it, it is
  // at base_version and open, it opened no later than the expected month, a dialogue_id names a
  // dialogue of the job centre and the key is new: returns the case after it. Otherwise nullopt,
  // with nothing written: the caller takes the general path (ApplyChange), which words the
  // precise error. The default has no such path and always answers nullopt.
  virtual absl::StatusOr<std::optional<v1::Case>> TryRecordExpectation(const ExpectationWrite&) {
    return std::optional<v1::Case>();
  }
  // The same without waiting: `done` gets the answer, perhaps on another thread (then one that
  // `done` must not hold up with database work). The default answers at once, on this thread.
  using ExpectationAnswer = std::function<void(absl::StatusOr<std::optional<v1::Case>>)>;
  virtual void TryRecordExpectationAsync(std::shared_ptr<const ExpectationWrite> write,
                                         ExpectationAnswer done) {
    done(TryRecordExpectation(*write));
  }
  // Creates the case at version 1 with its first assignment and an OPENED event.
  virtual absl::StatusOr<v1::Case> CreateCase(const NewCase& new_case) = 0;

  // Adds or replaces a catalogue entry (kind and code identify it), recording the change in the
  // set-up audit trail (admin_audit.h) as made by `staff_id`.
  virtual absl::Status UpsertCatalogueEntry(int64_t job_centre_id, int64_t staff_id,
                                            const v1::CatalogueEntry& entry) = 0;
  // As UpsertCatalogueEntry; FAILED_PRECONDITION when an existing field would change its type.
  virtual absl::Status UpsertCaseField(int64_t job_centre_id, int64_t staff_id,
                                       const v1::CaseField& field) = 0;

  // Runs one import in one transaction (all or nothing) with a fresh staging area: commits when
  // `body` answers true, rolls back when it answers false (a dry run, bad rows) or an error.
  // Errors: the body's, or the database's (UNAVAILABLE when the connection broke).
  virtual absl::Status RunImport(
      int64_t job_centre_id, const std::function<absl::StatusOr<bool>(ImportSession&)>& body) = 0;
};

}  // namespace forecast

#endif  // SERVICES_CASE_CASE_STORE_H_
