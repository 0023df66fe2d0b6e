#include "services/forecast/access.h"

#include "absl/strings/str_cat.h"
#include "services/common/authorization.h"
#include "services/common/status.h"

namespace forecast::fsvc {
namespace {

absl::Status Denied(const Caller& caller, const std::string& what) {
  return ReasonedError(
      absl::StatusCode::kPermissionDenied, "NOT_ALLOWED",
      absl::StrCat(caller.staff_code, " (", RoleName(caller.role), ") may not ", what),
      {{"role", std::string(RoleName(caller.role))}});
}

}  // namespace

absl::StatusOr<ScopeFilter> ReadableCaseworker(const CentreHistory& history, const Caller& caller,
                                               const std::string& code, const std::string& field) {
  const std::string& wanted = code.empty() ? caller.staff_code : code;
  const StaffMember* staff = history.StaffByCode(wanted);
  if (staff == nullptr) {
    return ReasonedError(absl::StatusCode::kNotFound, "CASEWORKER_NOT_FOUND",
                         absl::StrCat("caseworker \"", wanted, "\" not found"), {{"value", wanted}},
                         field);
  }
  ScopeTarget target;
  target.kind = ScopeKind::kCaseworker;
  target.job_centre_id = history.centre_id;
  target.staff_id = staff->id;
  target.team_id = staff->team_id;
  absl::Status allowed = AuthorizeScopeRead(caller, target);
  if (!allowed.ok()) return allowed;
  if (caller.role == Role::kCaseworker && staff->id != caller.staff_id) {
    return Denied(caller, absl::StrCat("read the views of caseworker ", staff->code));
  }
  return ScopeFilter{ScopeFilter::Kind::kCaseworker, staff->id};
}

absl::StatusOr<ScopeFilter> ReadableTeam(const CentreHistory& history, const Caller& caller,
                                         const std::string& code, const std::string& field) {
  if (code.empty() && caller.team_id == 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required (the caller has no team)"));
  }
  const OrgUnit* team = code.empty() ? history.Unit(caller.team_id) : history.UnitByCode(code);
  if (team == nullptr || !team->is_team) {
    return ReasonedError(absl::StatusCode::kNotFound, "TEAM_NOT_FOUND",
                         absl::StrCat("team \"", code, "\" not found"), {{"value", code}}, field);
  }
  ScopeTarget target;
  target.kind = ScopeKind::kTeam;
  target.job_centre_id = history.centre_id;
  target.team_id = team->id;
  target.department_id = team->parent_id;
  absl::Status allowed = AuthorizeScopeRead(caller, target);
  if (!allowed.ok()) return allowed;
  return ScopeFilter{ScopeFilter::Kind::kTeam, team->id};
}

absl::StatusOr<ScopeFilter> ReadableScope(const CentreHistory& history, const Caller& caller,
                                          const v1::Scope& scope, const std::string& field) {
  switch (scope.kind()) {
    case v1::Scope::CASEWORKER:
      return ReadableCaseworker(history, caller, scope.code(), field + ".code");
    case v1::Scope::TEAM: return ReadableTeam(history, caller, scope.code(), field + ".code");
    case v1::Scope::DEPARTMENT: {
      const OrgUnit* unit = history.UnitByCode(scope.code());
      if (unit == nullptr || unit->is_team) {
        return ReasonedError(absl::StatusCode::kNotFound, "DEPARTMENT_NOT_FOUND",
                             absl::StrCat("department \"", scope.code(), "\" not found"),
                             {{"value", scope.code()}}, field + ".code");
      }
      ScopeTarget target;
      target.kind = ScopeKind::kDepartment;
      target.job_centre_id = history.centre_id;
      target.department_id = unit->id;
      absl::Status allowed = AuthorizeScopeRead(caller, target);
      if (!allowed.ok()) return allowed;
      return ScopeFilter{ScopeFilter::Kind::kDepartment, unit->id};
    }
    case v1::Scope::KIND_UNSPECIFIED:
    case v1::Scope::JOB_CENTRE: {
      ScopeTarget target;
      target.kind = ScopeKind::kJobCentre;
      target.job_centre_id = history.centre_id;
      absl::Status allowed = AuthorizeScopeRead(caller, target);
      if (!allowed.ok()) return allowed;
      return ScopeFilter{ScopeFilter::Kind::kJobCentre, 0};
    }
    default: break;
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ".kind: unknown scope kind"));
}

absl::Status AuthorizeTargetWrite(const Caller& caller, int64_t team_id) {
  if (caller.role == Role::kManager) return absl::OkStatus();
  if (caller.role == Role::kTeamLeader && caller.team_id == team_id) return absl::OkStatus();
  return Denied(caller, "set milestone targets for this team");
}

absl::Status AuthorizeDialogueWrite(const Caller& caller, int64_t team_id) {
  if (caller.role == Role::kManager) return absl::OkStatus();
  if (caller.role == Role::kTeamLeader && caller.team_id == team_id) return absl::OkStatus();
  return Denied(caller, "record dialogues for this team");
}

}  // namespace forecast::fsvc
