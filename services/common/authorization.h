// Authorisation rules, in one place and free of I/O so they are unit-tested directly.
//
// Reading cases:  caseworker - the own team's cases (and own cases, whatever their team);
//                 team leader - the team's cases; manager - the whole job centre; admin - none
//                 (admins configure; they do not read cases: DESIGN.md, issue 8).
// Writing cases:  caseworker - own cases; team leader - the team's; manager - the job centre's
//                 (managers take over when staff leave); admin - none (admins set up the job
//                 centre; they bring history in through the import instead).
// Re-assigning:   team leader (the team's cases) and manager (any); caseworkers may not.
// Catalogues:     admin edits; everyone in the job centre reads.
// Set-up:         organisation units, staff, milestone metrics and the set-up audit trail: admin.
// Import:         admin and manager.
// Forecasts:      scopes as AuthorizeScopeRead (caseworker views personal); milestone targets,
//                 forecast adjustments and dialogues written by the team's leader or a manager;
//                 dialogues read by the caseworker they are held with, the team's leader and
//                 managers.
// Other job centres: never. A case of another job centre is answered NOT_FOUND, exactly as a
// case that does not exist, so its existence does not leak. Within the own job centre a refusal
// is PERMISSION_DENIED (the case's existence is not a secret from colleagues).
#ifndef SERVICES_COMMON_AUTHORIZATION_H_
#define SERVICES_COMMON_AUTHORIZATION_H_

#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "services/common/caller.h"

namespace forecast {

// Where a case sits: enough to decide access.
struct CaseOwnership {
  int64_t job_centre_id = 0;
  int64_t team_id = 0;
  int64_t caseworker_id = 0;
};

enum class CaseAccess { kRead, kWrite, kReassign };

// The cases a caller may access in one way, as a filter a query can apply (the single statement
// of a write, a list): every case of the caller's job centre, or those in `team_id` or held by
// `caseworker_id` (0: none). AuthorizeCase decides with it. Thread-safe (pure).
struct CaseFilter {
  bool whole_job_centre = false;
  int64_t team_id = 0;
  int64_t caseworker_id = 0;
  // True when a case of the caller's job centre held as `owner` passes the filter.
  bool Covers(const CaseOwnership& owner) const;
};
CaseFilter CasesAccessible(const Caller& caller, CaseAccess access);

// OK, NOT_FOUND (other job centre; message names `case_ref` only) or PERMISSION_DENIED.
// Thread-safe (pure).
absl::Status AuthorizeCase(const Caller& caller, const CaseOwnership& owner, CaseAccess access,
                           absl::string_view case_ref);

// Re-assigning a case (already authorised with CaseAccess::kReassign) to a caseworker of
// `to_team_id`: team leaders only within their own team, managers anywhere in the job centre.
// PERMISSION_DENIED otherwise. Thread-safe (pure).
absl::Status AuthorizeReassignTo(const Caller& caller, int64_t to_team_id);

// Creating a case for `caseworker_id` in `team_id`: as writing that case. Thread-safe (pure).
absl::Status AuthorizeCreateCase(const Caller& caller, int64_t team_id, int64_t caseworker_id);

// Listing cases in a scope; a query is narrowed to what the caller may read. Thread-safe (pure).
enum class ScopeKind { kCaseworker, kTeam, kDepartment, kJobCentre };
struct ScopeTarget {
  ScopeKind kind = ScopeKind::kJobCentre;
  int64_t job_centre_id = 0;
  int64_t staff_id = 0;       // kCaseworker
  int64_t team_id = 0;        // kCaseworker: the caseworker's team; kTeam: the team
  int64_t department_id = 0;  // kDepartment: the department; kTeam: its parent
};
// Reading figures or cases of a whole scope (forecasts, caseloads). OK, NOT_FOUND (other job
// centre) or PERMISSION_DENIED: caseworker - self and own team; team leader - own team and its
// caseworkers; manager and admin - anything in the job centre. Thread-safe (pure).
absl::Status AuthorizeScopeRead(const Caller& caller, const ScopeTarget& target);

// Caseworker-level views (a caseworker's dashboard, agenda, projection, milestones, changes and
// dialogues) are personal: as AuthorizeScopeRead for a kCaseworker target, and a caseworker reads
// only the own. Thread-safe (pure).
absl::Status AuthorizeCaseworkerViews(const Caller& caller, const ScopeTarget& target);

// The cases behind a caseworker's share in the variation (to choose cases for sparring): case
// rows of one caseworker, so as AuthorizeCaseworkerViews (the team's leader or a manager; a
// caseworker only the own) and never an admin (AuthorizeCaseRows). Thread-safe (pure).
absl::Status AuthorizeVariationCases(const Caller& caller, const ScopeTarget& caseworker);

// Listing the dialogues of a scope of `kind`: a dialogue is between a team leader and one
// caseworker, so a caseworker lists only the own (kCaseworker), never a team's or the job
// centre's; the scope itself is then authorised as any read. PERMISSION_DENIED. Thread-safe
// (pure).
absl::Status AuthorizeDialogueList(const Caller& caller, ScopeKind kind);

// Setting milestone targets for `team_id`: its team leader, or a manager. PERMISSION_DENIED.
// Thread-safe (pure).
absl::Status AuthorizeTargetWrite(const Caller& caller, int64_t team_id);

// Opening, recording, editing or finalising a dialogue with a caseworker of `team_id`: that
// team's leader, or a manager. PERMISSION_DENIED. Thread-safe (pure).
absl::Status AuthorizeDialogueWrite(const Caller& caller, int64_t team_id);

// Setting or clearing a forecast adjustment (an adjusted figure beside the model's) for
// `team_id`: its team leader, or a manager. PERMISSION_DENIED. Thread-safe (pure).
absl::Status AuthorizeAdjustmentWrite(const Caller& caller, int64_t team_id);

// Any answer carrying case rows (a case, its history or explanation, case lists, agendas,
// attention lists, changes): PERMISSION_DENIED for admins, OK for everyone else (the rows are
// already narrowed to what the caller may read). Thread-safe (pure).
absl::Status AuthorizeCaseRows(const Caller& caller);

// Admin only. Thread-safe (pure).
absl::Status AuthorizeCatalogueEdit(const Caller& caller);

// Setting up the job centre (organisation units, staff, milestone metrics) and reading the
// set-up audit trail: admin only. Thread-safe (pure).
absl::Status AuthorizeJobCentreSetUp(const Caller& caller);

// Admin and manager; creating missing staff during an import needs admin. Thread-safe (pure).
absl::Status AuthorizeImport(const Caller& caller, bool create_missing_staff);

// True when the caller may read every case of the job centre (no narrowing needed).
bool ReadsWholeJobCentre(const Caller& caller);

}  // namespace forecast

#endif  // SERVICES_COMMON_AUTHORIZATION_H_
