// Scopes named in requests, resolved in the caller's job centre and checked against the rules
// of services/common/authorization.h. Caseworker-level views (dashboard, agenda, a caseworker's
// projection, milestones or changes) are personal: a caseworker sees only the own ones, team
// leaders those of their team, managers and admins all. Pure; thread-safe.
#ifndef SERVICES_FORECAST_ACCESS_H_
#define SERVICES_FORECAST_ACCESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "forecast/v1/common.pb.h"
#include "services/common/caller.h"
#include "services/forecast/snapshot.h"

namespace forecast::fsvc {

// A scope message: CASEWORKER (code empty: the caller), TEAM (code empty: the caller's team),
// DEPARTMENT, JOB_CENTRE (or unspecified). NOT_FOUND naming `field` for an unknown code,
// PERMISSION_DENIED when the caller may not read it.
absl::StatusOr<ScopeFilter> ReadableScope(const CentreHistory& history, const Caller& caller,
                                          const v1::Scope& scope, const std::string& field);

// A caseworker by staff code (empty: the caller), readable by the caller.
absl::StatusOr<ScopeFilter> ReadableCaseworker(const CentreHistory& history, const Caller& caller,
                                               const std::string& code, const std::string& field);

// A team by code (empty: the caller's team), readable by the caller.
absl::StatusOr<ScopeFilter> ReadableTeam(const CentreHistory& history, const Caller& caller,
                                         const std::string& code, const std::string& field);

// Setting milestone targets for `team_id`: its team leader, or a manager. PERMISSION_DENIED.
absl::Status AuthorizeTargetWrite(const Caller& caller, int64_t team_id);

// Recording a dialogue with a caseworker of `team_id`: that team's leader, or a manager.
absl::Status AuthorizeDialogueWrite(const Caller& caller, int64_t team_id);

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_ACCESS_H_
