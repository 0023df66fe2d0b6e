// Single sign-on through a job centre's own OpenID Connect provider: the providers per job
// centre (table identity_provider, migration 0012), and IdentityService.LoginWithIdToken, which
// verifies the provider's ID token (signature against the provider's JWK Set, issuer, audience,
// expiry, issue time, nonce accepted once), maps the provider's configured claim to an active
// staff member of that job centre, and then starts a session exactly as password sign-in does.
#ifndef SERVICES_IDENTITY_OIDC_SIGN_IN_H_
#define SERVICES_IDENTITY_OIDC_SIGN_IN_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "forecast/v1/identity_service.pb.h"
#include "services/common/caller.h"
#include "services/common/pg_pool.h"
#include "services/identity/oidc_http.h"

namespace forecast::identity {

// The identity_provider and sso_nonce tables. Thread-safe (each call is one transaction).
class OidcProviderStore {
 public:
  explicit OidcProviderStore(PgPool& pool) : pool_(pool) {}

  // Adds or replaces provider `provider.id()` of job centre `job_centre_id`. INVALID_ARGUMENT
  // naming the field when a value is malformed (issuer must be https, or http on a loopback
  // host for tests).
  absl::StatusOr<v1::IdentityProvider> Upsert(int64_t job_centre_id,
                                              const v1::IdentityProvider& provider);
  // The job centre's providers by id; only enabled ones when `enabled_only`. Unknown job
  // centre: an empty list.
  absl::StatusOr<std::vector<v1::IdentityProvider>> List(const std::string& job_centre_code,
                                                         bool enabled_only);
  // NOT_FOUND when the job centre has no such enabled provider.
  absl::StatusOr<v1::IdentityProvider> FindEnabled(const std::string& job_centre_code,
                                                   const std::string& provider_id);
  // Records that `nonce` was used; ALREADY_EXISTS when it was used before. Rows are kept until
  // `keep_until` (when the token that carried it can no longer be valid); expired rows are
  // removed on the way.
  absl::Status ConsumeNonce(int64_t job_centre_id, const std::string& provider_id,
                            const std::string& nonce, absl::Time keep_until);

 private:
  PgPool& pool_;
};

// INVALID_ARGUMENT naming the first malformed field of a provider. Thread-safe (pure).
absl::Status ValidateProvider(const v1::IdentityProvider& provider);

// What single sign-on shares with password sign-in: issuing the session and recording audit
// events. The identity module supplies both; they must be thread-safe.
struct SignInHooks {
  // A session for this (already verified, active) staff member, as password Login issues it;
  // records the SSO_LOGIN event with it.
  std::function<absl::StatusOr<v1::LoginResponse>(const Caller& staff,
                                                  const std::string& client_address)>
      issue_session;
  // An auth event (SSO_REFUSED, with the reason as detail); staff_code empty when not known.
  std::function<void(const std::string& job_centre, const std::string& staff_code,
                     const std::string& kind, const std::string& client_address,
                     const std::string& detail)>
      record_event;
};

// The three SSO calls of IdentityService as plain methods. Thread-safe.
class OidcSignIn {
 public:
  using Clock = std::function<absl::Time()>;
  // Every reference must outlive this object.
  OidcSignIn(
      OidcProviderStore& store, OidcKeySource& keys, StaffDirectory& staff, SignInHooks hooks,
      Clock clock = [] { return absl::Now(); });

  // UNAUTHENTICATED "single sign-on refused: <reason>" for every token that fails a check, an
  // unknown or disabled provider, a nonce used before, and a claim that names no active staff
  // member of the job centre; each refusal is recorded as SSO_REFUSED with the reason.
  // INVALID_ARGUMENT for a missing field, UNAVAILABLE when the provider cannot be reached.
  absl::StatusOr<v1::LoginResponse> LoginWithIdToken(const v1::IdTokenLoginRequest& request,
                                                     const std::string& client_address);

  // The enabled providers of a job centre, without secrets (there are none stored).
  absl::StatusOr<v1::ListIdentityProvidersResponse> ListIdentityProviders(
      const v1::ListIdentityProvidersRequest& request);

  // Admin only (PERMISSION_DENIED otherwise): adds or changes a provider of the admin's centre.
  absl::StatusOr<v1::IdentityProvider> UpsertIdentityProvider(const Caller& caller,
                                                              const v1::IdentityProvider& provider);

 private:
  OidcProviderStore& store_;
  OidcKeySource& keys_;
  StaffDirectory& staff_;
  const SignInHooks hooks_;
  const Clock clock_;
};

}  // namespace forecast::identity

#endif  // SERVICES_IDENTITY_OIDC_SIGN_IN_H_
