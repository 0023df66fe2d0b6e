#include "services/common/authorization.h"

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"

namespace forecast {
namespace {

absl::Status Denied(const Caller& caller, absl::string_view what) {
  return ReasonedError(
      absl::StatusCode::kPermissionDenied, "NOT_ALLOWED",
      absl::StrCat(RoleName(caller.role), " ", caller.staff_code, " may not ", what),
      {{"role", std::string(RoleName(caller.role))}});
}

bool SameTeam(const Caller& caller, int64_t team_id) {
  return caller.team_id != 0 && caller.team_id == team_id;
}

}  // namespace

bool ReadsWholeJobCentre(const Caller& caller) {
  return caller.role == Role::kManager || caller.role == Role::kAdmin;
}

bool CaseFilter::Covers(const CaseOwnership& owner) const {
  return whole_job_centre || (team_id != 0 && owner.team_id == team_id) ||
         (caseworker_id != 0 && owner.caseworker_id == caseworker_id);
}

CaseFilter CasesAccessible(const Caller& caller, CaseAccess access) {
  CaseFilter own;
  own.caseworker_id = caller.staff_id;
  CaseFilter own_and_team = own;
  own_and_team.team_id = caller.team_id;
  CaseFilter team;
  team.team_id = caller.team_id;
  CaseFilter all;
  all.whole_job_centre = true;
  const CaseFilter none;
  switch (access) {
    case CaseAccess::kRead:
      switch (caller.role) {
        case Role::kCaseworker:
        case Role::kTeamLeader: return own_and_team;
        case Role::kManager: return all;
        case Role::kAdmin: return none;  // admins configure; they do not read cases
      }
      break;
    case CaseAccess::kWrite:
      switch (caller.role) {
        case Role::kCaseworker: return own;
        case Role::kTeamLeader: return own_and_team;
        case Role::kManager: return all;
        case Role::kAdmin: return none;
      }
      break;
    case CaseAccess::kReassign:
      switch (caller.role) {
        case Role::kCaseworker: return none;
        case Role::kTeamLeader: return team;
        case Role::kManager: return all;
        case Role::kAdmin: return none;
      }
      break;
  }
  return none;
}

absl::Status AuthorizeCase(const Caller& caller, const CaseOwnership& owner, CaseAccess access,
                           absl::string_view case_ref) {
  if (owner.job_centre_id != caller.job_centre_id) {
    return CaseNotFound(case_ref);
  }
  if (CasesAccessible(caller, access).Covers(owner)) return absl::OkStatus();
  if (access == CaseAccess::kRead && caller.role == Role::kAdmin) return AuthorizeCaseRows(caller);
  switch (access) {
    case CaseAccess::kRead: return Denied(caller, absl::StrCat("read case ", case_ref));
    case CaseAccess::kWrite: return Denied(caller, absl::StrCat("change case ", case_ref));
    case CaseAccess::kReassign: return Denied(caller, absl::StrCat("re-assign case ", case_ref));
  }
  return Denied(caller, "do that");
}

absl::Status AuthorizeReassignTo(const Caller& caller, int64_t to_team_id) {
  if (caller.role == Role::kManager) return absl::OkStatus();
  if (caller.role == Role::kTeamLeader && SameTeam(caller, to_team_id)) return absl::OkStatus();
  return Denied(caller, caller.role == Role::kTeamLeader
                            ? "re-assign a case into another team (managers move cases between "
                              "teams)"
                            : "re-assign cases");
}

absl::Status AuthorizeCreateCase(const Caller& caller, int64_t team_id, int64_t caseworker_id) {
  bool ok = false;
  switch (caller.role) {
    case Role::kCaseworker: ok = caseworker_id == caller.staff_id; break;
    case Role::kTeamLeader:
      ok = SameTeam(caller, team_id) || caseworker_id == caller.staff_id;
      break;
    case Role::kManager: ok = true; break;
    case Role::kAdmin: ok = false; break;
  }
  return ok ? absl::OkStatus()
            : Denied(caller,
                     caseworker_id == caller.staff_id
                         ? std::string("create cases")
                         : std::string("create cases for another caseworker outside the own team"));
}

absl::Status AuthorizeScopeRead(const Caller& caller, const ScopeTarget& target) {
  if (target.job_centre_id != caller.job_centre_id) {
    return ReasonedError(absl::StatusCode::kNotFound, "SCOPE_NOT_FOUND", "not found", {}, "scope");
  }
  if (ReadsWholeJobCentre(caller)) return absl::OkStatus();
  bool ok = false;
  switch (target.kind) {
    case ScopeKind::kCaseworker:
      ok = target.staff_id == caller.staff_id || SameTeam(caller, target.team_id);
      break;
    case ScopeKind::kTeam: ok = SameTeam(caller, target.team_id); break;
    case ScopeKind::kDepartment:
    case ScopeKind::kJobCentre: ok = false; break;
  }
  return ok ? absl::OkStatus() : Denied(caller, "read that scope");
}

absl::Status AuthorizeCaseworkerViews(const Caller& caller, const ScopeTarget& target) {
  RETURN_IF_ERROR(AuthorizeScopeRead(caller, target));
  if (caller.role == Role::kCaseworker && target.staff_id != caller.staff_id) {
    return Denied(caller, "read another caseworker's views");
  }
  return absl::OkStatus();
}

absl::Status AuthorizeVariationCases(const Caller& caller, const ScopeTarget& caseworker) {
  RETURN_IF_ERROR(AuthorizeCaseworkerViews(caller, caseworker));
  return AuthorizeCaseRows(caller);
}

absl::Status AuthorizeDialogueList(const Caller& caller, ScopeKind kind) {
  if (caller.role == Role::kCaseworker && kind != ScopeKind::kCaseworker) {
    return Denied(caller, "read the team's dialogues");
  }
  return absl::OkStatus();
}

namespace {

// Targets and dialogues are the team leader's tools; managers act for any team.
absl::Status AuthorizeTeamLead(const Caller& caller, int64_t team_id, absl::string_view what) {
  if (caller.role == Role::kManager) return absl::OkStatus();
  if (caller.role == Role::kTeamLeader && SameTeam(caller, team_id)) return absl::OkStatus();
  return Denied(caller, what);
}

}  // namespace

absl::Status AuthorizeTargetWrite(const Caller& caller, int64_t team_id) {
  return AuthorizeTeamLead(caller, team_id, "set milestone targets for this team");
}

absl::Status AuthorizeDialogueWrite(const Caller& caller, int64_t team_id) {
  return AuthorizeTeamLead(caller, team_id, "record dialogues for this team");
}

absl::Status AuthorizeAdjustmentWrite(const Caller& caller, int64_t team_id) {
  return AuthorizeTeamLead(caller, team_id, "adjust the forecast for this team");
}

absl::Status AuthorizeCaseRows(const Caller& caller) {
  return caller.role == Role::kAdmin
             ? Denied(caller,
                      "read cases (admins configure the job centre; they do not read cases)")
             : absl::OkStatus();
}

absl::Status AuthorizeCatalogueEdit(const Caller& caller) {
  return caller.role == Role::kAdmin ? absl::OkStatus() : Denied(caller, "edit the catalogue");
}

absl::Status AuthorizeJobCentreSetUp(const Caller& caller) {
  return caller.role == Role::kAdmin ? absl::OkStatus() : Denied(caller, "set up the job centre");
}

absl::Status AuthorizeImport(const Caller& caller, bool create_missing_staff) {
  if (caller.role == Role::kAdmin) return absl::OkStatus();
  if (caller.role == Role::kManager && !create_missing_staff) return absl::OkStatus();
  return Denied(caller, create_missing_staff ? "import with create_missing_staff (admin only)"
                                             : "import case history");
}

}  // namespace forecast
