// The little HTTP(S) an OpenID Connect party needs: discovery documents, JWK Sets and the token
// endpoint, fetched with cpp-httplib (OpenSSL for https, server certificates verified against
// the system's or a given CA bundle), plus a provider-key cache for ID token verification.
#ifndef SERVICES_IDENTITY_OIDC_HTTP_H_
#define SERVICES_IDENTITY_OIDC_HTTP_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/identity/oidc_jwt.h"

namespace forecast::identity {

struct HttpOptions {
  absl::Duration timeout = absl::Seconds(5);
  std::string ca_file;        // PEM bundle for https; empty: the system's trust store
  size_t max_body = 1 << 20;  // bigger answers are refused
};

// GET `url` (http or https), following no redirects; the body of a 200 answer, else UNAVAILABLE
// naming the URL and status. Thread-safe.
absl::StatusOr<std::string> HttpGet(const std::string& url, const HttpOptions& options);

// POST an application/x-www-form-urlencoded body; the body of a 200 answer, else UNAVAILABLE
// with the answer's OAuth "error" when it has one. Thread-safe.
absl::StatusOr<std::string> HttpPostForm(
    const std::string& url, const std::vector<std::pair<std::string, std::string>>& form,
    const HttpOptions& options);

// The parts of a provider's discovery document (issuer + "/.well-known/openid-configuration").
struct OidcDiscovery {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
};

// Fetches and checks the discovery document: its "issuer" must equal `issuer` exactly and the
// endpoints must be present. UNAVAILABLE when it cannot be had, FAILED_PRECONDITION when it is
// wrong. Thread-safe.
absl::StatusOr<OidcDiscovery> FetchDiscovery(const std::string& issuer, const HttpOptions& options);

// Each issuer's signature keys, fetched through discovery and cached. A key id that the cache
// does not know makes it fetch the JWK Set again (the provider rotated its keys), at most once
// per `min_refresh` per issuer, so that tokens with made-up key ids cannot make it hammer the
// provider. Thread-safe; fetches happen outside the lock.
class OidcKeySource {
 public:
  using Clock = std::function<absl::Time()>;
  explicit OidcKeySource(
      HttpOptions options, absl::Duration max_age = absl::Hours(1),
      absl::Duration min_refresh = absl::Seconds(10), Clock clock = [] { return absl::Now(); });

  // The key that verifies a token with this header: by kid when the token names one, else the
  // only key that fits `alg`. UNAUTHENTICATED when the provider has no such key, UNAVAILABLE when
  // the provider cannot be reached.
  absl::StatusOr<Jwk> KeyFor(const std::string& issuer, const std::string& kid,
                             const std::string& alg);

  // How many JWK Set fetches have been made (for tests). Thread-safe.
  int fetches() const;

 private:
  struct Entry {
    std::vector<Jwk> keys;
    absl::Time fetched_at = absl::InfinitePast();
  };
  absl::Status Refresh(const std::string& issuer);
  static std::optional<Jwk> Pick(const std::vector<Jwk>& keys, const std::string& kid,
                                 const std::string& alg);

  const HttpOptions options_;
  const absl::Duration max_age_;
  const absl::Duration min_refresh_;
  const Clock clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  int fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace forecast::identity

#endif  // SERVICES_IDENTITY_OIDC_HTTP_H_
