// Setting up a job centre outside the API (used by forecast-admin and the demo): the job centre
// with its default catalogue and first admin, organisational units, and staff. Idempotent:
// re-running with the same values changes nothing; different values update names, roles, teams.
#ifndef SERVICES_CASE_ORG_ADMIN_H_
#define SERVICES_CASE_ORG_ADMIN_H_

#include <string>

#include "absl/status/statusor.h"
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

  // Adds or updates a DEPARTMENT or TEAM; `parent` (a department code) may be empty.
  absl::Status AddUnit(const std::string& job_centre, const std::string& code,
                       const std::string& name, const std::string& kind, const std::string& parent);

  // Adds or updates a staff member; `team` may be empty (managers, admins).
  absl::Status AddStaff(const std::string& job_centre, const std::string& code,
                        const std::string& name, const std::string& role, const std::string& team,
                        bool active);

 private:
  PgPool& pool_;
};

}  // namespace forecast

#endif  // SERVICES_CASE_ORG_ADMIN_H_
