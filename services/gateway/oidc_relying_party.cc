#include "services/gateway/oidc_relying_party.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>
#include <cctype>
#include <stdexcept>

#include "absl/strings/str_cat.h"

namespace forecast::gateway {
namespace {

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Param(const std::map<std::string, std::string>& query, const char* name) {
  auto it = query.find(name);
  return it == query.end() ? "" : it->second;
}

}  // namespace

std::string RandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness");
  return identity::Base64UrlEncode(absl::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

std::string PkceChallenge(const std::string& verifier) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(verifier.data(), verifier.size(), digest, &length, EVP_sha256(), nullptr);
  return identity::Base64UrlEncode(absl::string_view(reinterpret_cast<char*>(digest), length));
}

std::string QueryEscape(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

OidcRelyingParty::OidcRelyingParty(Options options, Clock clock)
    : options_(std::move(options)), clock_(std::move(clock)) {}

size_t OidcRelyingParty::pending() const {
  absl::MutexLock lock(&mu_);
  return attempts_.size();
}

absl::StatusOr<identity::OidcDiscovery> OidcRelyingParty::Discover(const std::string& issuer) {
  {
    absl::MutexLock lock(&mu_);
    auto it = discovered_.find(issuer);
    if (it != discovered_.end() && clock_() - it->second.fetched_at < absl::Hours(1)) {
      return it->second.discovery;
    }
  }
  absl::StatusOr<identity::OidcDiscovery> discovery =
      identity::FetchDiscovery(issuer, options_.http);
  if (!discovery.ok()) return discovery.status();
  absl::MutexLock lock(&mu_);
  discovered_[issuer] = Discovered{*discovery, clock_()};
  return discovery;
}

absl::StatusOr<OidcStart> OidcRelyingParty::Start(const OidcProviderRef& provider) {
  absl::StatusOr<identity::OidcDiscovery> discovery = Discover(provider.issuer);
  if (!discovery.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the identity provider cannot be reached: ", discovery.status().message()));
  }
  Attempt attempt{provider,      discovery->token_endpoint,      RandomToken(), RandomToken(),
                  RandomToken(), clock_() + options_.attempt_ttl};
  const std::string& endpoint = discovery->authorization_endpoint;
  OidcStart start;
  start.attempt = RandomToken();
  start.authorization_url = absl::StrCat(
      endpoint, endpoint.find('?') == std::string::npos ? "?" : "&",
      "response_type=code&scope=openid%20profile&client_id=", QueryEscape(provider.client_id),
      "&redirect_uri=", QueryEscape(options_.redirect_uri), "&state=", attempt.state,
      "&nonce=", attempt.nonce, "&code_challenge=", PkceChallenge(attempt.code_verifier),
      "&code_challenge_method=S256");
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    it = it->second.expires_at <= now ? attempts_.erase(it) : std::next(it);
  }
  while (attempts_.size() >= options_.max_attempts) {
    auto oldest = attempts_.begin();
    for (auto it = attempts_.begin(); it != attempts_.end(); ++it) {
      if (it->second.expires_at < oldest->second.expires_at) oldest = it;
    }
    attempts_.erase(oldest);
  }
  attempts_.emplace(start.attempt, std::move(attempt));
  return start;
}

absl::StatusOr<OidcCallbackResult> OidcRelyingParty::Finish(
    const std::string& attempt_id, const std::map<std::string, std::string>& query) {
  Attempt attempt;
  {
    absl::MutexLock lock(&mu_);
    auto it = attempt_id.empty() ? attempts_.end() : attempts_.find(attempt_id);
    if (it == attempts_.end()) {
      return absl::UnauthenticatedError("sign-in attempt unknown, used or expired; start again");
    }
    attempt = std::move(it->second);
    attempts_.erase(it);  // one callback per attempt, whatever it brings
  }
  if (attempt.expires_at <= clock_()) {
    return absl::UnauthenticatedError("sign-in attempt expired; start again");
  }
  if (!SameSecret(Param(query, "state"), attempt.state)) {
    return absl::UnauthenticatedError("state does not match the sign-in attempt");
  }
  if (const std::string error = Param(query, "error"); !error.empty()) {
    return absl::UnauthenticatedError(absl::StrCat("the identity provider refused: ", error));
  }
  // RFC 9207: a provider that names itself must be the one this attempt went to.
  if (const std::string iss = Param(query, "iss"); !iss.empty() && iss != attempt.provider.issuer) {
    return absl::UnauthenticatedError("the answer comes from another identity provider");
  }
  const std::string code = Param(query, "code");
  if (code.empty()) return absl::UnauthenticatedError("no authorization code");
  absl::StatusOr<std::string> body =
      identity::HttpPostForm(attempt.token_endpoint,
                             {{"grant_type", "authorization_code"},
                              {"code", code},
                              {"redirect_uri", options_.redirect_uri},
                              {"client_id", attempt.provider.client_id},
                              {"code_verifier", attempt.code_verifier}},
                             options_.http);
  if (!body.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("code exchange failed: ", body.status().message()));
  }
  nlohmann::json tokens = nlohmann::json::parse(*body, nullptr, false);
  if (!tokens.is_object() || !tokens.contains("id_token") || !tokens["id_token"].is_string()) {
    return absl::UnauthenticatedError("the token endpoint sent no ID token");
  }
  return OidcCallbackResult{attempt.provider.job_centre, attempt.provider.provider_id,
                            tokens["id_token"].get<std::string>(), attempt.nonce};
}

absl::StatusOr<OidcStart> StartOidcSignIn(OidcRelyingParty& party, const IdentityCall& call,
                                          const std::string& job_centre,
                                          const std::string& provider_id) {
  if (job_centre.empty() || provider_id.empty()) {
    return absl::InvalidArgumentError("job_centre and provider: required");
  }
  absl::StatusOr<std::string> listed =
      call("ListIdentityProviders", nlohmann::json{{"job_centre", job_centre}}.dump());
  if (!listed.ok()) return listed.status();
  nlohmann::json providers = nlohmann::json::parse(*listed, nullptr, false);
  if (providers.is_object() && providers.contains("providers") &&
      providers["providers"].is_array()) {
    for (const nlohmann::json& p : providers["providers"]) {
      if (p.value("id", "") == provider_id && p.value("enabled", false)) {
        return party.Start(
            {job_centre, provider_id, p.value("issuer", ""), p.value("client_id", "")});
      }
    }
  }
  return absl::NotFoundError("provider: the job centre has no such sign-in provider");
}

absl::StatusOr<std::string> ListOidcProviders(const IdentityCall& call,
                                              const std::string& job_centre) {
  nlohmann::json out = {{"providers", nlohmann::json::array()}};
  if (job_centre.empty()) return out.dump();
  absl::StatusOr<std::string> listed =
      call("ListIdentityProviders", nlohmann::json{{"job_centre", job_centre}}.dump());
  if (!listed.ok()) return listed.status();
  nlohmann::json providers = nlohmann::json::parse(*listed, nullptr, false);
  if (providers.is_object() && providers.contains("providers") &&
      providers["providers"].is_array()) {
    for (const nlohmann::json& p : providers["providers"]) {
      if (!p.value("enabled", false)) continue;
      out["providers"].push_back(
          {{"id", p.value("id", "")}, {"display_name", p.value("display_name", "")}});
    }
  }
  return out.dump();
}

absl::StatusOr<std::string> FinishOidcSignIn(OidcRelyingParty& party, const IdentityCall& call,
                                             const std::string& attempt,
                                             const std::map<std::string, std::string>& query,
                                             const std::string& client_address) {
  absl::StatusOr<OidcCallbackResult> result = party.Finish(attempt, query);
  if (!result.ok()) return result.status();
  return call("LoginWithIdToken", nlohmann::json{{"job_centre", result->job_centre},
                                                 {"provider_id", result->provider_id},
                                                 {"id_token", result->id_token},
                                                 {"nonce", result->nonce},
                                                 {"client_address", client_address}}
                                      .dump());
}

std::string OidcAttemptCookie(const std::string& attempt, bool secure) {
  return absl::StrCat(kOidcAttemptCookie, "=", attempt,
                      "; Path=/auth/oidc; Max-Age=600; HttpOnly; SameSite=Lax",
                      secure ? "; Secure" : "");
}

std::string ClearOidcAttemptCookie(bool secure) {
  return absl::StrCat(kOidcAttemptCookie, "=; Path=/auth/oidc; Max-Age=0; HttpOnly; SameSite=Lax",
                      secure ? "; Secure" : "");
}

}  // namespace forecast::gateway
