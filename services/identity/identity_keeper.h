// The identity service's logic over PostgreSQL (tables of migrations 0006-0007): password
// sign-in with throttling, sessions (only a SHA-256 hash of the session token is stored) with an
// idle timeout and an absolute lifetime, short-lived access tokens (access_token.h), one-time
// set-up codes, password changes, and the sign-in audit trail. The gRPC adapter is
// identity_service_impl.h.
//
// Every sign-in failure answers the same UNAUTHENTICATED whether or not the job centre, the staff
// member or a credential exists, and unknown accounts are throttled like known ones. Throttled
// attempts answer RESOURCE_EXHAUSTED with the time to wait (a google.rpc.RetryInfo payload,
// status.h) and are not checked at all.
#ifndef SERVICES_IDENTITY_IDENTITY_KEEPER_H_
#define SERVICES_IDENTITY_IDENTITY_KEEPER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "forecast/v1/identity_service.pb.h"
#include "services/common/access_token.h"
#include "services/common/calendar.h"
#include "services/common/caller.h"
#include "services/common/pg_pool.h"
#include "services/identity/oidc_sign_in.h"
#include "services/identity/password.h"
#include "services/identity/throttle.h"

namespace forecast::identity {

struct IdentityOptions {
  absl::Duration access_token_lifetime = absl::Minutes(5);
  absl::Duration session_idle_timeout = absl::Minutes(30);
  absl::Duration session_lifetime = absl::Hours(12);
  absl::Duration setup_code_lifetime = absl::Hours(72);
  ThrottlePolicy account = DefaultAccountPolicy();
  ThrottlePolicy address = DefaultAddressPolicy();
  PasswordCost password_cost;  // Argon2id's cost for new hashes
  std::string issuer = kTokenIssuer;
  std::string audience = kTokenAudience;
};

// The one message of every refused sign-in.
inline constexpr char kSignInRefused[] = "unknown job centre or staff code, or wrong password";

// Thread-safe: every call is its own transaction(s); pool, clock and signer are thread-safe.
class IdentityKeeper {
 public:
  // All references must outlive the keeper.
  IdentityKeeper(PgPool& pool, const Clock& clock, const AccessTokenSigner& signer,
                 IdentityOptions options = {});

  // Password sign-in from `client_address` (the end user's address as far as it is known).
  absl::StatusOr<v1::LoginResponse> Login(const v1::LoginRequest& request,
                                          const std::string& client_address);
  // A new access token for a live session; touches its idle timer. UNAUTHENTICATED when the
  // session is unknown, ended, idle too long, past its lifetime, or its staff member inactive.
  absl::StatusOr<v1::LoginResponse> RefreshSession(const v1::RefreshSessionRequest& request);
  // Ends the session of the token (0 or 1 ended). Idempotent.
  absl::StatusOr<v1::LogoutResponse> Logout(const v1::LogoutRequest& request,
                                            const std::string& client_address);
  // Ends every live session of the caller.
  absl::StatusOr<v1::LogoutResponse> LogoutEverywhere(const Caller& caller,
                                                      const std::string& client_address);
  // Sets the first (or a reset) password from a one-time set-up code, ends the staff member's
  // other sessions and starts a new one. Throttled like Login.
  absl::StatusOr<v1::LoginResponse> RedeemSetupCode(const v1::RedeemSetupCodeRequest& request,
                                                    const std::string& client_address);
  // The caller's new password, given the current one (throttled like Login); every other session
  // of the caller ends.
  absl::StatusOr<v1::ChangePasswordResponse> ChangePassword(
      const Caller& caller, const v1::ChangePasswordRequest& request,
      const std::string& client_address);
  // Admin: a new set-up code for a staff member of the admin's job centre (replacing any unused
  // one). PERMISSION_DENIED for other roles, NOT_FOUND for unknown staff.
  absl::StatusOr<v1::SetupCode> IssueSetupCode(const Caller& caller,
                                               const v1::IssueSetupCodeRequest& request,
                                               const std::string& client_address);
  // Admin: the job centre's sign-in events, newest first.
  absl::StatusOr<v1::ListAuthEventsResponse> ListAuthEvents(
      const Caller& caller, const v1::ListAuthEventsRequest& request);

  // Operators (forecast-admin, the demo): sets a staff member's password directly, as the
  // database owner would. NOT_FOUND for unknown staff; INVALID_ARGUMENT against the policy.
  absl::Status SetPassword(const std::string& job_centre, const std::string& staff,
                           const std::string& password);

  // Starts a session for an already authenticated staff member (password, set-up code, or single
  // sign-on through the sso module): records `event_kind` and answers tokens. Thread-safe.
  absl::StatusOr<v1::LoginResponse> OpenSession(int64_t staff_id, const std::string& method,
                                                const std::string& event_kind,
                                                const std::string& client_address);

  // Records an auth event (e.g. SSO_REFUSED) for a job centre and staff code as given (either may
  // be unknown). Errors are logged, not returned. Thread-safe.
  void RecordAuthEvent(const std::string& job_centre, const std::string& staff_code,
                       const std::string& kind, const std::string& client_address,
                       const std::string& detail);

  // Single sign-on's hooks (services/identity/oidc_sign_in.h) over this keeper's sessions and
  // audit trail.
  forecast::identity::SignInHooks SignInHooks();

  const IdentityOptions& options() const { return options_; }

 private:
  PgPool& pool_;
  const Clock& clock_;
  const AccessTokenSigner& signer_;
  const IdentityOptions options_;
};

}  // namespace forecast::identity

#endif  // SERVICES_IDENTITY_IDENTITY_KEEPER_H_
