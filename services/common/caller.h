// Who is calling: the single seam where a request's credential becomes a staff member with a
// role. Every RPC carries gRPC metadata "authorization: Bearer <access token>", an Ed25519-signed
// JWT the identity service issued at sign-in (access_token.h). Each service verifies it itself
// with the public key it loaded at start, then looks the staff member up in the staff directory
// (so that role changes and deactivations take effect at once). Bare "x-job-centre"/"x-staff"
// metadata is no credential. Authorisation (authorization.h) works from the Caller only.
#ifndef SERVICES_COMMON_CALLER_H_
#define SERVICES_COMMON_CALLER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "services/common/access_token.h"
#include "services/common/codes.h"
#include "services/common/pg_pool.h"

namespace forecast {

// The metadata key of the credential ("Bearer <jwt>").
inline constexpr char kAuthorizationHeader[] = "authorization";

// The resolved caller. team_id is 0 (and team_code empty) for staff without a team.
struct Caller {
  int64_t job_centre_id = 0;
  std::string job_centre_code;
  int64_t staff_id = 0;
  std::string staff_code;
  Role role = Role::kCaseworker;
  int64_t team_id = 0;
  std::string team_code;
  int64_t session_id = 0;  // the sign-in session the access token belongs to; 0 outside gRPC
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

// Turns a call's access token into the caller: verifies the token (signature, issuer, audience,
// expiry) and looks its staff member up. Every service builds one at start from the public key
// file it is given. Thread-safe when the directory is.
class Authenticator {
 public:
  // Both must outlive the authenticator.
  Authenticator(const AccessTokenVerifier& verifier, StaffDirectory& directory)
      : verifier_(verifier), directory_(directory) {}

  // The caller behind "authorization: Bearer <token>". UNAUTHENTICATED when the metadata is
  // missing or malformed, the token does not verify, or its staff member is unknown or inactive.
  absl::StatusOr<Caller> Resolve(const grpc::ServerContextBase& context) const;
  // The same from the token itself.
  absl::StatusOr<Caller> ResolveToken(absl::string_view token) const;
  StaffDirectory& directory() const { return directory_; }

 private:
  const AccessTokenVerifier& verifier_;
  StaffDirectory& directory_;
};

// The one call every RPC makes first: authenticator.Resolve(context). Thread-safe.
absl::StatusOr<Caller> ResolveCaller(const grpc::ServerContextBase& context,
                                     const Authenticator& authenticator);

// The caller from plain codes, for code that is not a gRPC server (tools, tests): no credential
// is checked here. UNAUTHENTICATED when a code is empty or unknown. Thread-safe.
absl::StatusOr<Caller> ResolveCaller(absl::string_view job_centre_code,
                                     absl::string_view staff_code, StaffDirectory& directory);

}  // namespace forecast

#endif  // SERVICES_COMMON_CALLER_H_
