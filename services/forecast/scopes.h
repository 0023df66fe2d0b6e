// Scopes named in requests (a caseworker, team, department or the job centre, by code) resolved
// to ids in the caller's job centre; whether the caller may read them is decided by
// services/common/authorization.h (AuthorizeScopeRead, AuthorizeCaseworkerViews), not here. Another
// job centre's codes do not exist for the caller (NOT_FOUND). Pure; thread-safe.
#ifndef SERVICES_FORECAST_SCOPES_H_
#define SERVICES_FORECAST_SCOPES_H_

#include <string>

#include "absl/status/statusor.h"
#include "forecast/v1/common.pb.h"
#include "services/common/caller.h"
#include "services/forecast/snapshot.h"

namespace forecast::fsvc {

// NOT_FOUND "<WHAT>_NOT_FOUND" naming `field`, e.g. CodeNotFound("team", "T9", "team"): no such
// caseworker, team or department in the caller's job centre.
absl::Status CodeNotFound(absl::string_view what, const std::string& code, absl::string_view field);

// A scope message: CASEWORKER (code empty: the caller), TEAM (code empty: the caller's team),
// DEPARTMENT, JOB_CENTRE (or unspecified). NOT_FOUND naming `field` for an unknown code,
// PERMISSION_DENIED when the caller may not read it.
absl::StatusOr<ScopeFilter> ReadableScope(const CentreHistory& history, const Caller& caller,
                                          const v1::Scope& scope, const std::string& field);

// A caseworker by staff code (empty: the caller), whose views the caller may read.
absl::StatusOr<ScopeFilter> ReadableCaseworker(const CentreHistory& history, const Caller& caller,
                                               const std::string& code, const std::string& field);

// A team by code (empty: the caller's team), readable by the caller.
absl::StatusOr<ScopeFilter> ReadableTeam(const CentreHistory& history, const Caller& caller,
                                         const std::string& code, const std::string& field);

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_SCOPES_H_
