// Who is calling: the single seam where a request's metadata becomes a staff member with a role.
// Every RPC carries gRPC metadata "x-job-centre" (job centre code) and "x-staff" (staff code);
// the gateway sets them after login. Authorisation (authorization.h) works from the Caller only.
#ifndef SERVICES_COMMON_CALLER_H_
#define SERVICES_COMMON_CALLER_H_

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "services/common/pg_pool.h"

namespace forecast {

inline constexpr char kJobCentreHeader[] = "x-job-centre";
inline constexpr char kStaffHeader[] = "x-staff";

enum class Role { kCaseworker, kTeamLeader, kManager, kAdmin };

// "CASEWORKER", "TEAM_LEADER", "MANAGER", "ADMIN" (as stored in staff.role). Thread-safe.
absl::string_view RoleName(Role role);
// The inverse; nullopt for anything else. Thread-safe.
std::optional<Role> ParseRole(absl::string_view name);

// The resolved caller. team_id is 0 (and team_code empty) for staff without a team.
struct Caller {
  int64_t job_centre_id = 0;
  std::string job_centre_code;
  int64_t staff_id = 0;
  std::string staff_code;
  Role role = Role::kCaseworker;
  int64_t team_id = 0;
  std::string team_code;
};

// Finds active staff by job centre code and staff code. Implementations are thread-safe.
class StaffDirectory {
 public:
  virtual ~StaffDirectory() = default;
  // The staff member; UNAUTHENTICATED when the job centre or staff code is unknown or the staff
  // member is inactive, UNAVAILABLE when the directory cannot be read.
  virtual absl::StatusOr<Caller> Find(absl::string_view job_centre_code,
                                      absl::string_view staff_code) = 0;
};

// The staff table in PostgreSQL. Reads on every call (one indexed row), so new staff, role
// changes and deactivations take effect at once. Thread-safe.
class PgStaffDirectory final : public StaffDirectory {
 public:
  explicit PgStaffDirectory(PgPool& pool) : pool_(pool) {}
  absl::StatusOr<Caller> Find(absl::string_view job_centre_code,
                              absl::string_view staff_code) override;

 private:
  PgPool& pool_;
};

// Reads the two metadata entries and resolves them. UNAUTHENTICATED naming the missing header
// when either is absent or empty, or when the directory does not know the caller. Thread-safe
// when the directory is.
absl::StatusOr<Caller> ResolveCaller(const grpc::ServerContext& context, StaffDirectory& directory);

// The same from plain codes (for callers that are not gRPC servers, and tests). Thread-safe.
absl::StatusOr<Caller> ResolveCaller(absl::string_view job_centre_code,
                                     absl::string_view staff_code, StaffDirectory& directory);

}  // namespace forecast

#endif  // SERVICES_COMMON_CALLER_H_
