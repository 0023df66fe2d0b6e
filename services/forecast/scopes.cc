#include "services/forecast/scopes.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/authorization.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"

namespace forecast::fsvc {

absl::Status CodeNotFound(absl::string_view what, const std::string& code,
                          absl::string_view field) {
  return ReasonedError(absl::StatusCode::kNotFound,
                       absl::StrCat(absl::AsciiStrToUpper(what), "_NOT_FOUND"),
                       absl::StrCat(what, " \"", code, "\" not found"), {{"value", code}}, field);
}

absl::StatusOr<ScopeFilter> ReadableCaseworker(const CentreHistory& history, const Caller& caller,
                                               const std::string& code, const std::string& field) {
  const std::string& wanted = code.empty() ? caller.staff_code : code;
  const StaffMember* staff = history.StaffByCode(wanted);
  if (staff == nullptr) {
    return CodeNotFound("caseworker", wanted, field);
  }
  RETURN_IF_ERROR(AuthorizeCaseworkerViews(
      caller, {ScopeKind::kCaseworker, history.centre_id, staff->id, staff->team_id, 0}));
  return ScopeFilter{ScopeFilter::Kind::kCaseworker, staff->id};
}

absl::StatusOr<ScopeFilter> ReadableTeam(const CentreHistory& history, const Caller& caller,
                                         const std::string& code, const std::string& field) {
  if (code.empty() && caller.team_id == 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required (the caller has no team)"));
  }
  const OrgUnit* team = code.empty() ? history.Unit(caller.team_id) : history.UnitByCode(code);
  if (team == nullptr || !team->is_team) {
    return CodeNotFound("team", code, field);
  }
  RETURN_IF_ERROR(AuthorizeScopeRead(
      caller, {ScopeKind::kTeam, history.centre_id, 0, team->id, team->parent_id}));
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
        return CodeNotFound("department", scope.code(), field + ".code");
      }
      RETURN_IF_ERROR(
          AuthorizeScopeRead(caller, {ScopeKind::kDepartment, history.centre_id, 0, 0, unit->id}));
      return ScopeFilter{ScopeFilter::Kind::kDepartment, unit->id};
    }
    case v1::Scope::KIND_UNSPECIFIED:
    case v1::Scope::JOB_CENTRE: {
      RETURN_IF_ERROR(
          AuthorizeScopeRead(caller, {ScopeKind::kJobCentre, history.centre_id, 0, 0, 0}));
      return ScopeFilter{ScopeFilter::Kind::kJobCentre, 0};
    }
    default: break;
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ".kind: unknown scope kind"));
}

}  // namespace forecast::fsvc
