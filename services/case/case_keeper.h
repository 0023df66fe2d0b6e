// The case service's logic: who may do what to which case, what a valid change is, and how a
// request becomes one stored change. Plain class over CaseStore and Clock; the gRPC adapter
// (case_service_impl.h) only resolves the caller and converts statuses.
//
// Every write: checks the idempotency key first (a retry of the same request returns the first
// answer; the same key with a different request is INVALID_ARGUMENT), then loads the case,
// authorises (other job centres: NOT_FOUND), compares base_version (stale: ABORTED), validates
// (INVALID_ARGUMENT naming the field, FAILED_PRECONDITION for a case in the wrong state) and
// stores the change atomically. Invalid input changes nothing.
#ifndef SERVICES_CASE_CASE_KEEPER_H_
#define SERVICES_CASE_CASE_KEEPER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "forecast/v1/case_service.pb.h"
#include "services/case/case_rules.h"
#include "services/case/catalogue_cache.h"
#include "services/case/case_store.h"
#include "services/case/history_importer.h"
#include "services/common/caller.h"
#include "services/common/calendar.h"
#include "services/common/worker_pool.h"

namespace forecast {

// Thread-safe when the store and clock are (they are, for PgCaseStore and the clocks).
class CaseKeeper {
 public:
  // With `catalogues`, catalogues are kept there between calls (whoever owns the cache drops
  // entries on the REFERENCE_DATA notice); without, every write reads the catalogue again.
  CaseKeeper(CaseStore& store, const Clock& clock, CatalogueCache* catalogues = nullptr)
      : store_(store), clock_(clock), catalogues_(catalogues) {}

  // The caller as stored. Any role.
  absl::StatusOr<v1::StaffMember> WhoAmI(const Caller& caller);
  // Units and staff of the caller's job centre. Any role.
  absl::StatusOr<v1::Organisation> GetOrganisation(const Caller& caller);

  // Opens a case held by request.caseworker (default: the caller) in that person's team;
  // ALREADY_EXISTS for a taken case_ref.
  absl::StatusOr<v1::Case> CreateCase(const Caller& caller, const v1::CreateCaseRequest& request);
  // The case's current state, with open actions (overdue computed against the clock).
  absl::StatusOr<v1::Case> GetCase(const Caller& caller, const v1::GetCaseRequest& request);
  // Narrowed to what the caller may read; ordered by case_ref.
  absl::StatusOr<v1::ListCasesResponse> ListCases(const Caller& caller,
                                                  const v1::ListCasesRequest& request);
  // One page of a case's history, newest rows first (page_size 0 means 200, at most 1,000).
  absl::StatusOr<v1::CaseHistory> GetCaseHistory(const Caller& caller,
                                                 const v1::GetCaseHistoryRequest& request);
  // One page of the case's actions (read like GetCase): page_size 0 means 50, at most 500.
  absl::StatusOr<v1::ListCaseActionsResponse> ListCaseActions(
      const Caller& caller, const v1::ListCaseActionsRequest& request);

  // The writes below return the case after the change (see the class comment for the order
  // of checks). Closed cases take no expectation, action or re-assignment.
  absl::StatusOr<v1::Case> RecordExpectation(const Caller& caller,
                                             const v1::RecordExpectationRequest& request);
  // The same without waiting: `done` gets the answer on another thread (the store's, or one of
  // the keeper's own for the general path); `request` must stay valid until then. For gRPC's
  // callback API, whose threads must not wait on the database: only a catalogue not cached yet
  // is read on the calling thread.
  void RecordExpectation(const Caller& caller, const v1::RecordExpectationRequest& request,
                         std::function<void(absl::StatusOr<v1::Case>)> done);
  absl::StatusOr<v1::Case> AddAction(const Caller& caller, const v1::AddActionRequest& request);
  absl::StatusOr<v1::Case> FollowUpAction(const Caller& caller,
                                          const v1::FollowUpActionRequest& request);
  absl::StatusOr<v1::Case> SetCaseFields(const Caller& caller,
                                         const v1::SetCaseFieldsRequest& request);
  absl::StatusOr<v1::Case> CloseCase(const Caller& caller, const v1::CloseCaseRequest& request);
  absl::StatusOr<v1::Case> ReopenCase(const Caller& caller, const v1::ReopenCaseRequest& request);
  absl::StatusOr<v1::Case> ReassignCase(const Caller& caller,
                                        const v1::ReassignCaseRequest& request);

  // The job centre's catalogue. Any role; edits are admin only and return the new catalogue.
  absl::StatusOr<v1::Catalogue> GetCatalogue(const Caller& caller);
  absl::StatusOr<v1::Catalogue> UpsertCatalogueEntry(
      const Caller& caller, const v1::UpsertCatalogueEntryRequest& request);
  absl::StatusOr<v1::Catalogue> UpsertCaseField(const Caller& caller,
                                                const v1::UpsertCaseFieldRequest& request);

  // One ImportHistory stream, read chunk by chunk from `next` (dry_run, create_missing_staff
  // and holder_at_opening from the first chunk; the caller is authorised once it is read).
  // Errors in rows are reported in the ImportReport (OK status); the status is an error only
  // for the caller's permission, the stream (`next`'s error) or the database.
  absl::StatusOr<v1::ImportReport> ImportHistory(const Caller& caller,
                                                 const ImportChunkSource& next);
  // An import refuses a case with more than `rows` rows (kDefaultMaxImportRowsPerCase unless
  // set). Call before serving; not thread-safe.
  void LimitImportRowsPerCase(int64_t rows) { max_import_case_rows_ = rows; }

 private:
  // Builds the change from the loaded case (already authorised and at base_version).
  using ChangeBuilder =
      std::function<absl::Status(const StoredCase&, const CatalogueView&, CaseChange&)>;
  absl::StatusOr<v1::Case> WriteCase(const Caller& caller, const char* method,
                                     const google::protobuf::Message& request,
                                     const std::string& case_ref, int64_t base_version,
                                     const std::string& idempotency_key, CaseAccess access,
                                     const ChangeBuilder& build);
  // The stored answer for a retried key, nullopt for a fresh key.
  absl::StatusOr<std::optional<v1::Case>> ReplayAnswer(const Caller& caller,
                                                       const IdempotencyTicket& ticket);
  absl::StatusOr<StoredCase> LoadReadable(const Caller& caller, const std::string& case_ref);
  absl::StatusOr<StaffRecord> FindActiveStaff(const Caller& caller, const std::string& code,
                                              const char* field);
  void MarkOverdue(v1::Case& c) const;
  absl::StatusOr<std::shared_ptr<const CatalogueView>> Catalogue(int64_t job_centre_id);
  // The store's one-statement write for a request that passes every check not needing the
  // case; null when the write must take the general path.
  struct FastExpectation;
  absl::StatusOr<std::shared_ptr<FastExpectation>> PrepareFastExpectation(
      const Caller& caller, const v1::RecordExpectationRequest& request);
  // The general path: load, authorise, compare, validate, ApplyChange.
  absl::StatusOr<v1::Case> RecordExpectationInGeneral(const Caller& caller,
                                                      const v1::RecordExpectationRequest& request);

  CaseStore& store_;
  const Clock& clock_;
  CatalogueCache* const catalogues_;
  int64_t max_import_case_rows_ = kDefaultMaxImportRowsPerCase;
  // Runs the async RecordExpectation's general path (four: a refused batch's writes at once).
  WorkerPool general_{4};
};

}  // namespace forecast

#endif  // SERVICES_CASE_CASE_KEEPER_H_
