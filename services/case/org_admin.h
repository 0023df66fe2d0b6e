// Setting up a job centre: the job centre with its default catalogue and first admin (the
// operator's forecast-admin and the demo), and - by the job centre's admin over gRPC
// (CaseService) or by forecast-admin - organisational units, staff and milestone metrics, and
// the set-up audit trail that records each of these changes (admin_audit.h).
//
// Every change: checks the caller (admin only, services/common/authorization), checks the input
// (INVALID_ARGUMENT naming the field, with a reason code and parameters), then applies the change
// and records it in one transaction; invalid input changes nothing. Idempotent: re-running with
// the same values changes nothing and records nothing.
#ifndef SERVICES_CASE_ORG_ADMIN_H_
#define SERVICES_CASE_ORG_ADMIN_H_

#include <string>

#include "absl/status/statusor.h"
#include "forecast/v1/case_service.pb.h"
#include "services/common/caller.h"
#include "services/common/pg_pool.h"

namespace forecast {

// Thread-safe (each call is one transaction on a pooled connection).
class OrgAdmin {
 public:
  explicit OrgAdmin(PgPool& pool) : pool_(pool) {}

  // Creates the job centre (seeding the default catalogue) unless it exists, and makes sure the
  // admin staff member exists with role ADMIN. Returns true when the job centre was new.
  absl::StatusOr<bool> CreateJobCentre(const std::string& code, const std::string& name,
                                       const std::string& admin_code,
                                       const std::string& admin_name);

  // The operator's forms (forecast-admin), recorded with no staff member behind them.
  // Adds or updates a DEPARTMENT or TEAM; `parent` (a department code) may be empty.
  absl::Status AddUnit(const std::string& job_centre, const std::string& code,
                       const std::string& name, const std::string& kind, const std::string& parent);
  // Adds or updates a staff member; `team` may be empty (managers, admins).
  absl::Status AddStaff(const std::string& job_centre, const std::string& code,
                        const std::string& name, const std::string& role, const std::string& team,
                        bool active);

  // The admin's forms (CaseService). A unit's kind never changes; only teams have a parent (a
  // department, or none). Staff: caseworkers and team leaders need a team; a change that leaves
  // the job centre without an active admin is FAILED_PRECONDITION (LAST_ADMIN).
  absl::Status UpsertUnit(const Caller& caller, const v1::OrgUnit& unit);
  absl::Status UpsertStaff(const Caller& caller, const v1::StaffMember& staff);

  // Milestone metrics (counted by the forecast service), inactive ones included; admin only.
  absl::StatusOr<v1::MilestoneMetricSettings> ListMilestoneMetrics(const Caller& caller);
  // Checks the metric against the job centre's fields and outcome groups; returns every metric.
  absl::StatusOr<v1::MilestoneMetricSettings> UpsertMilestoneMetric(
      const Caller& caller, const v1::MilestoneMetricSetting& metric);

  // The set-up audit trail of the caller's job centre, newest first; admin only.
  absl::StatusOr<v1::ListAdminChangesResponse> ListChanges(
      const Caller& caller, const v1::ListAdminChangesRequest& request);

 private:
  PgPool& pool_;
};

}  // namespace forecast

#endif  // SERVICES_CASE_ORG_ADMIN_H_
