// CaseStore on PostgreSQL (deploy/migrations/0001_case_model.sql). Every write is one
// transaction; once it committed, its change is announced to the forecast service
// (ChangeAnnouncer, 'case_changed').
#ifndef SERVICES_CASE_PG_CASE_STORE_H_
#define SERVICES_CASE_PG_CASE_STORE_H_

#include "services/case/case_store.h"
#include "services/case/change_announcer.h"
#include "services/case/expectation_batcher.h"
#include "services/common/pg_pool.h"

namespace forecast {

// Thread-safe: every call leases its own connection from the pool.
class PgCaseStore final : public CaseStore {
 public:
  explicit PgCaseStore(PgPool& pool) : pool_(pool), announcer_(pool), batcher_(pool) {}

  absl::StatusOr<v1::Catalogue> LoadCatalogue(int64_t job_centre_id) override;
  absl::StatusOr<v1::Organisation> LoadOrganisation(int64_t job_centre_id) override;
  absl::StatusOr<std::optional<StaffRecord>> FindStaff(int64_t job_centre_id,
                                                       const std::string& code) override;
  absl::StatusOr<std::optional<DialogueRef>> FindDialogue(int64_t job_centre_id,
                                                          int64_t dialogue_id) override;
  absl::StatusOr<std::optional<UnitRecord>> FindUnit(int64_t job_centre_id,
                                                     const std::string& code) override;
  absl::StatusOr<std::vector<std::string>> ExistingCaseRefs(
      int64_t job_centre_id, const std::vector<std::string>& refs) override;
  absl::StatusOr<StoredCase> LoadCase(int64_t job_centre_id, const std::string& case_ref) override;
  absl::StatusOr<std::vector<v1::Case>> ListCases(const CaseQuery& query) override;
  absl::StatusOr<HistoryPage> LoadHistory(int64_t case_id, const HistoryPosition& before,
                                          int limit) override;
  absl::StatusOr<ActionPage> ListActions(int64_t case_id, bool include_closed,
                                         const std::optional<ActionPosition>& after,
                                         int limit) override;
  absl::StatusOr<std::optional<v1::Action>> FindOpenAction(int64_t case_id,
                                                           int64_t action_id) override;
  absl::StatusOr<std::optional<StoredAnswer>> FindAnswer(int64_t job_centre_id,
                                                         const std::string& key) override;
  absl::StatusOr<v1::Case> ApplyChange(const CaseChange& change) override;
  absl::StatusOr<std::optional<v1::Case>> TryRecordExpectation(
      const ExpectationWrite& write) override;
  void TryRecordExpectationAsync(std::shared_ptr<const ExpectationWrite> write,
                                 ExpectationAnswer done) override;
  absl::StatusOr<v1::Case> CreateCase(const NewCase& new_case) override;
  absl::Status UpsertCatalogueEntry(int64_t job_centre_id, int64_t staff_id,
                                    const v1::CatalogueEntry& entry) override;
  absl::Status UpsertCaseField(int64_t job_centre_id, int64_t staff_id,
                               const v1::CaseField& field) override;
  absl::Status RunImport(int64_t job_centre_id,
                         const std::function<absl::StatusOr<bool>(ImportSession&)>& body) override;

  // Where committed changes are announced (also for RESYNC at start and Flush in tests).
  ChangeAnnouncer& announcer() { return announcer_; }
  // How the one-statement expectation writes were grouped (tests, benchmarks).
  const ExpectationBatcher& batcher() const { return batcher_; }
  ExpectationBatcher& batcher() { return batcher_; }

 private:
  // The case from the batch's answer for `write` (announcing it), nullopt for a refusal.
  absl::StatusOr<std::optional<v1::Case>> Answered(const ExpectationWrite& write,
                                                   ExpectationBatcher::Result written);
  // Announces a committed change of one case.
  void Announce(int64_t job_centre_id, int64_t case_id, int64_t version, const std::string& kind);

  PgPool& pool_;
  ChangeAnnouncer announcer_;
  ExpectationBatcher batcher_;
};

}  // namespace forecast

#endif  // SERVICES_CASE_PG_CASE_STORE_H_
