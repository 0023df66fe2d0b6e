// Storage of the forecast service: reads a job centre's whole history from the case tables
// (deploy/migrations/0001) with one round of set-based queries, re-reads single cases after a
// change, and writes milestone targets and dialogues (deploy/migrations/0002).
#ifndef SERVICES_FORECAST_HISTORY_STORE_H_
#define SERVICES_FORECAST_HISTORY_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/pg_pool.h"
#include "services/forecast/centre_history.h"

namespace forecast::fsvc {

struct NewMilestoneTarget {
  int64_t centre_id = 0;
  int64_t team_id = 0;
  int64_t caseworker_id = 0;  // 0: the whole team
  std::string metric;
  Month month;
  double target = 0;
  int64_t set_by = 0;
};

struct NewDialogue {
  int64_t centre_id = 0;
  int64_t team_id = 0;
  int64_t team_leader_id = 0;
  int64_t caseworker_id = 0;
  Day held_on;
  std::vector<int64_t> case_ids;
  std::string status, knowledge, learning, adjustment;
  std::string idempotency_key;  // empty: none
};

// A new row of a team's forecast adjustments (SetForecastAdjustment; migration 0075).
struct NewAdjustment {
  int64_t centre_id = 0;
  int64_t team_id = 0;
  Month month;
  std::string outcome;           // outcome code or "ALL"
  std::optional<double> figure;  // nullopt: clear the adjustment in force
  std::string reason;
  int base_version = 0;         // the version it replaces (0: none yet)
  std::string idempotency_key;  // required
  int64_t set_by = 0;
};

// Where a listener that was cut off must catch up from: it has seen every case event with an id
// up to `event_id`, and every transaction older than `xid_floor` (a snapshot's xmin, 64-bit) had
// finished. Events at or below `event_id` may still have been in flight; their transactions are
// at or above `xid_floor`.
struct ChangeMark {
  int64_t event_id = 0;
  int64_t xid_floor = 0;
};

// The cases a cut-off listener missed (see HistoryStore::CasesChangedAfter).
struct MissedCases {
  std::vector<int64_t> case_ids;
  int64_t last_event_id = 0;  // the highest event id of the centre now
};

// A new version of a draft dialogue's notes (SaveDialogueNotes).
struct DialogueNotesEdit {
  int64_t centre_id = 0;
  int64_t dialogue_id = 0;
  int base_version = 0;
  std::optional<Day> held_on;  // nullopt: unchanged
  std::vector<int64_t> case_ids;
  // Cases taken off the discussed and agreed lists (dialogue_case_edit, migration 0070).
  std::vector<int64_t> removed_case_ids;
  std::string status, knowledge, learning, adjustment;
  std::string idempotency_key;  // required
  int64_t recorded_by = 0;
};

// Implementations are thread-safe.
class HistoryStore {
 public:
  virtual ~HistoryStore() = default;

  // The id of a job centre by code; NOT_FOUND when unknown.
  virtual absl::StatusOr<int64_t> FindCentre(const std::string& code) = 0;

  // The ids of every job centre.
  virtual absl::StatusOr<std::vector<int64_t>> ListCentres() = 0;

  // Everything recorded for the job centre. NOT_FOUND when it does not exist.
  virtual absl::StatusOr<std::shared_ptr<const CentreHistory>> Load(int64_t centre_id) = 0;

  // A new history equal to `base` plus what was recorded since for the cases in `case_ids`:
  // for a case in `base` only its history rows newer than those already read
  // (CaseTimeline::last_ids), so the cost does not grow with the case's history; cases not in
  // `base` are read whole and added. With `small_tables` the catalogue, organisation, metrics,
  // targets and dialogues are read again too (else kept from `base`). Consistent: everything is
  // read in one snapshot of the database.
  virtual absl::StatusOr<std::shared_ptr<const CentreHistory>> Refresh(
      const CentreHistory& base, const std::vector<int64_t>& case_ids, bool small_tables) = 0;

  // The cases of the centre with a case event written after `mark`: an id above mark.event_id,
  // or written by a transaction that had not finished when the mark was taken. Used to catch up
  // after the listening connection was lost, instead of trusting that every NOTIFY arrived.
  virtual absl::StatusOr<MissedCases> CasesChangedAfter(int64_t centre_id,
                                                        const ChangeMark& mark) = 0;

  // Appends a target; returns it as stored (with set_at). The metric must exist (NOT_FOUND).
  virtual absl::StatusOr<MilestoneTargetRecord> AddTarget(const NewMilestoneTarget& target) = 0;

  // Appends a row to a team's forecast adjustments; returns it as stored. Writers of the same
  // team, month and outcome are serialised. A key already used returns its row and stores
  // nothing when it was for the same team, month and outcome (else ALREADY_EXISTS
  // "IDEMPOTENCY_KEY_REUSED"); ABORTED "ADJUSTMENT_CHANGED" naming base_version when the latest
  // version is not base_version; FAILED_PRECONDITION "NOTHING_TO_CLEAR" for clearing when no
  // adjustment is in force.
  virtual absl::StatusOr<AdjustmentRecord> AddAdjustment(const NewAdjustment& adjustment) = 0;

  // The dialogue writes below return the dialogue as stored after the write (read in the same
  // transaction), so that the caller answers without reading the centre again.

  // Stores a FINAL dialogue. With an idempotency key already used for the same caseworker and
  // day, returns the first dialogue and stores nothing; used for another dialogue it is
  // ALREADY_EXISTS.
  virtual absl::StatusOr<DialogueRecord> AddDialogue(const NewDialogue& dialogue) = 0;

  // Opens the caseworker's dialogue as a DRAFT (notes empty, version 0); when a draft is already
  // open for the caseworker, returns that one and stores nothing.
  virtual absl::StatusOr<DialogueRecord> OpenDialogue(const NewDialogue& dialogue) = 0;

  // Saves a new version of a draft's notes. A key already used for this dialogue returns the
  // dialogue as it is (nothing new); used for another dialogue it is
  // ALREADY_EXISTS. NOT_FOUND for no such dialogue in the centre, FAILED_PRECONDITION
  // "DIALOGUE_FINAL" when it is finalised, ABORTED "DIALOGUE_CHANGED" when base_version is not the
  // current version.
  virtual absl::StatusOr<DialogueRecord> SaveDialogueNotes(const DialogueNotesEdit& edit) = 0;

  // Finalises a draft (FINAL, finalised_at now). Already FINAL at base_version: OK, nothing
  // changes (a retry). NOT_FOUND / ABORTED "DIALOGUE_CHANGED" as SaveDialogueNotes.
  virtual absl::StatusOr<DialogueRecord> FinaliseDialogue(int64_t centre_id, int64_t dialogue_id,
                                                          int base_version,
                                                          int64_t finalised_by) = 0;
};

// The PostgreSQL implementation. Thread-safe (each call leases its own connection).
class PgHistoryStore final : public HistoryStore {
 public:
  explicit PgHistoryStore(PgPool& pool) : pool_(pool) {}

  absl::StatusOr<int64_t> FindCentre(const std::string& code) override;
  absl::StatusOr<std::vector<int64_t>> ListCentres() override;
  absl::StatusOr<std::shared_ptr<const CentreHistory>> Load(int64_t centre_id) override;
  absl::StatusOr<std::shared_ptr<const CentreHistory>> Refresh(const CentreHistory& base,
                                                               const std::vector<int64_t>& case_ids,
                                                               bool small_tables) override;
  absl::StatusOr<MissedCases> CasesChangedAfter(int64_t centre_id, const ChangeMark& mark) override;
  absl::StatusOr<MilestoneTargetRecord> AddTarget(const NewMilestoneTarget& target) override;
  absl::StatusOr<AdjustmentRecord> AddAdjustment(const NewAdjustment& adjustment) override;
  absl::StatusOr<DialogueRecord> AddDialogue(const NewDialogue& dialogue) override;
  absl::StatusOr<DialogueRecord> OpenDialogue(const NewDialogue& dialogue) override;
  absl::StatusOr<DialogueRecord> SaveDialogueNotes(const DialogueNotesEdit& edit) override;
  absl::StatusOr<DialogueRecord> FinaliseDialogue(int64_t centre_id, int64_t dialogue_id,
                                                  int base_version, int64_t finalised_by) override;

 private:
  PgPool& pool_;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_HISTORY_STORE_H_
