// The gateway as an OpenID Connect relying party: authorization code flow with PKCE (S256), a
// fresh `state` and `nonce` per attempt, the attempt bound to the browser by a short-lived
// HttpOnly cookie and usable once, and the code exchanged at the provider's token endpoint for
// the ID token. The ID token is not trusted here: the gateway hands it, with the attempt's
// nonce, to IdentityService.LoginWithIdToken, which verifies it. Independent of the HTTP server.
#ifndef SERVICES_GATEWAY_OIDC_RELYING_PARTY_H_
#define SERVICES_GATEWAY_OIDC_RELYING_PARTY_H_

#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/identity/oidc_http.h"

namespace forecast::gateway {

// A provider as IdentityService.ListIdentityProviders describes it, for one job centre.
struct OidcProviderRef {
  std::string job_centre;
  std::string provider_id;
  std::string issuer;
  std::string client_id;
};

// Where to send the browser, and the attempt cookie's value to set on that answer.
struct OidcStart {
  std::string authorization_url;
  std::string attempt;  // opaque, 256 random bits
};

// What the callback yields for IdentityService.LoginWithIdToken.
struct OidcCallbackResult {
  std::string job_centre;
  std::string provider_id;
  std::string id_token;
  std::string nonce;
};

class OidcRelyingParty {
 public:
  struct Options {
    std::string redirect_uri;  // this gateway's callback, registered at the provider
    absl::Duration attempt_ttl = absl::Minutes(10);
    size_t max_attempts = 10000;  // pending attempts kept; the oldest go first
    identity::HttpOptions http;
  };
  using Clock = std::function<absl::Time()>;

  explicit OidcRelyingParty(
      Options options, Clock clock = [] { return absl::Now(); });

  // Discovers the provider (cached for an hour), remembers a new attempt and builds the
  // authorization request (response_type=code, scope "openid profile", state, nonce, S256 code
  // challenge). UNAVAILABLE when the provider cannot be reached. Thread-safe.
  absl::StatusOr<OidcStart> Start(const OidcProviderRef& provider);

  // The callback: `attempt` from the cookie, `query` the callback's query parameters (code,
  // state, iss, or error). The attempt is used up whatever happens. UNAUTHENTICATED when there
  // is no such pending attempt (expired, used, or another browser's), the state differs, the
  // provider answered an error or named another issuer, or the code exchange fails.
  // Thread-safe; blocks on the token endpoint.
  absl::StatusOr<OidcCallbackResult> Finish(const std::string& attempt,
                                            const std::map<std::string, std::string>& query);

  // Pending attempts (for tests). Thread-safe.
  size_t pending() const;

 private:
  struct Attempt {
    OidcProviderRef provider;
    std::string token_endpoint;
    std::string state;
    std::string nonce;
    std::string code_verifier;
    absl::Time expires_at;
  };
  struct Discovered {
    identity::OidcDiscovery discovery;
    absl::Time fetched_at;
  };
  absl::StatusOr<identity::OidcDiscovery> Discover(const std::string& issuer);

  const Options options_;
  const Clock clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, Attempt> attempts_ ABSL_GUARDED_BY(mu_);       // by attempt id
  std::map<std::string, Discovered> discovered_ ABSL_GUARDED_BY(mu_);  // by issuer
};

// The two routes' work, independent of the HTTP server and of how the gateway reaches the
// identity service. `call` makes one IdentityService call: method name and JSON request in, JSON
// reply out (no access token: these methods take their proof in the request).
using IdentityCall =
    std::function<absl::StatusOr<std::string>(const std::string& method, const std::string& json)>;

// GET /auth/oidc/start?job_centre=..&provider=..: looks the provider up with
// ListIdentityProviders (NOT_FOUND when the centre has no such enabled provider) and starts an
// attempt. Thread-safe.
absl::StatusOr<OidcStart> StartOidcSignIn(OidcRelyingParty& party, const IdentityCall& call,
                                          const std::string& job_centre,
                                          const std::string& provider_id);

// GET /auth/oidc/providers?job_centre=..: {"providers": [{"id", "display_name"}]} of the enabled
// providers, for the login page's buttons. Thread-safe.
absl::StatusOr<std::string> ListOidcProviders(const IdentityCall& call,
                                              const std::string& job_centre);

// GET /auth/oidc/callback: finishes the attempt and signs in with LoginWithIdToken; the
// LoginResponse as JSON. Thread-safe; blocks on the provider and the identity service.
absl::StatusOr<std::string> FinishOidcSignIn(OidcRelyingParty& party, const IdentityCall& call,
                                             const std::string& attempt,
                                             const std::map<std::string, std::string>& query,
                                             const std::string& client_address);

// The attempt cookie: scoped to /auth/oidc, HttpOnly, SameSite=Lax (the provider's redirect back
// is a cross-site navigation, which Strict cookies do not follow), ten minutes.
inline constexpr char kOidcAttemptCookie[] = "forecast_oidc_attempt";
std::string OidcAttemptCookie(const std::string& attempt, bool secure);
std::string ClearOidcAttemptCookie(bool secure);

// 256 random bits, base64url. Thread-safe.
std::string RandomToken();
// RFC 7636 S256: base64url(SHA-256(verifier)). Thread-safe (pure).
std::string PkceChallenge(const std::string& verifier);
// Percent-encodes for a URL query value. Thread-safe (pure).
std::string QueryEscape(const std::string& text);

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_OIDC_RELYING_PARTY_H_
