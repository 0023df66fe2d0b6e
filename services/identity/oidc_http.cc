#include "services/identity/oidc_http.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace forecast::identity {
namespace {

struct SplitUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;    // /path?query
};

absl::StatusOr<SplitUrl> Split(const std::string& url) {
  const bool https = absl::StartsWith(url, "https://");
  if (!https && !absl::StartsWith(url, "http://")) {
    return absl::InvalidArgumentError(absl::StrCat("not an http(s) URL: ", url));
  }
  const size_t host_start = https ? 8 : 7;
  const size_t slash = url.find_first_of("/?#", host_start);
  SplitUrl split;
  split.origin = url.substr(0, slash);
  split.path = slash == std::string::npos ? "/" : url.substr(slash);
  if (!split.path.empty() && split.path[0] != '/') split.path = "/" + split.path;
  if (const size_t hash = split.path.find('#'); hash != std::string::npos) split.path.resize(hash);
  if (split.origin.size() <= host_start) return absl::InvalidArgumentError("URL without host");
  return split;
}

std::unique_ptr<httplib::Client> ClientFor(const SplitUrl& url, const HttpOptions& options) {
  auto client = std::make_unique<httplib::Client>(url.origin);
  const auto seconds = absl::ToInt64Seconds(options.timeout);
  const auto micros = absl::ToInt64Microseconds(options.timeout - absl::Seconds(seconds));
  client->set_connection_timeout(seconds, micros);
  client->set_read_timeout(seconds, micros);
  client->set_write_timeout(seconds, micros);
  client->set_follow_location(false);
  if (!options.ca_file.empty()) client->set_ca_cert_path(options.ca_file);
  client->enable_server_certificate_verification(true);
  return client;
}

absl::StatusOr<std::string> BodyOf(const httplib::Result& result, const std::string& url,
                                   const HttpOptions& options) {
  if (!result) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach ", url, ": ", httplib::to_string(result.error())));
  }
  if (result->body.size() > options.max_body) {
    return absl::UnavailableError(
        absl::StrCat(url, " answered more than ", options.max_body, " bytes"));
  }
  if (result->status != 200) {
    std::string error;
    nlohmann::json body = nlohmann::json::parse(result->body, nullptr, false);
    if (body.is_object() && body.contains("error") && body["error"].is_string()) {
      error = absl::StrCat(" (", body["error"].get<std::string>(), ")");
    }
    return absl::UnavailableError(absl::StrCat(url, " answered ", result->status, error));
  }
  return result->body;
}

std::string Field(const nlohmann::json& document, const char* name) {
  auto it = document.find(name);
  return it != document.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

absl::StatusOr<std::string> HttpGet(const std::string& url, const HttpOptions& options) {
  absl::StatusOr<SplitUrl> split = Split(url);
  if (!split.ok()) return split.status();
  auto client = ClientFor(*split, options);
  return BodyOf(client->Get(split->path, {{"Accept", "application/json"}}), url, options);
}

absl::StatusOr<std::string> HttpPostForm(
    const std::string& url, const std::vector<std::pair<std::string, std::string>>& form,
    const HttpOptions& options) {
  absl::StatusOr<SplitUrl> split = Split(url);
  if (!split.ok()) return split.status();
  httplib::Params params;
  for (const auto& [name, value] : form) params.emplace(name, value);
  auto client = ClientFor(*split, options);
  return BodyOf(client->Post(split->path, {{"Accept", "application/json"}}, params), url, options);
}

absl::StatusOr<OidcDiscovery> FetchDiscovery(const std::string& issuer,
                                             const HttpOptions& options) {
  std::string base = issuer;
  while (absl::EndsWith(base, "/")) base.pop_back();
  absl::StatusOr<std::string> body =
      HttpGet(absl::StrCat(base, "/.well-known/openid-configuration"), options);
  if (!body.ok()) return body.status();
  nlohmann::json document = nlohmann::json::parse(*body, nullptr, false);
  if (!document.is_object()) {
    return absl::FailedPreconditionError(absl::StrCat(issuer, ": discovery is not JSON"));
  }
  OidcDiscovery discovery{Field(document, "issuer"), Field(document, "authorization_endpoint"),
                          Field(document, "token_endpoint"), Field(document, "jwks_uri")};
  if (discovery.issuer != issuer) {
    return absl::FailedPreconditionError(
        absl::StrCat(issuer, ": discovery names another issuer (\"", discovery.issuer, "\")"));
  }
  if (discovery.jwks_uri.empty() || discovery.authorization_endpoint.empty() ||
      discovery.token_endpoint.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(issuer, ": discovery lacks endpoints"));
  }
  return discovery;
}

OidcKeySource::OidcKeySource(HttpOptions options, absl::Duration max_age,
                             absl::Duration min_refresh, Clock clock)
    : options_(std::move(options)),
      max_age_(max_age),
      min_refresh_(min_refresh),
      clock_(std::move(clock)) {}

int OidcKeySource::fetches() const {
  absl::MutexLock lock(&mu_);
  return fetches_;
}

std::optional<Jwk> OidcKeySource::Pick(const std::vector<Jwk>& keys, const std::string& kid,
                                       const std::string& alg) {
  std::optional<Jwk> found;
  int fitting = 0;
  for (const Jwk& key : keys) {
    if (!kid.empty()) {
      if (key.kid == kid) return key;
      continue;
    }
    if (!key.alg.empty() && key.alg != alg) continue;
    const bool fits = (alg == "ES256" && key.kty == "EC") || (alg == "EdDSA" && key.kty == "OKP") ||
                      ((alg == "RS256" || alg == "PS256") && key.kty == "RSA");
    if (fits) {
      ++fitting;
      found = key;
    }
  }
  if (fitting != 1) return std::nullopt;  // without a kid, only an unambiguous key will do
  return found;
}

absl::Status OidcKeySource::Refresh(const std::string& issuer) {
  absl::StatusOr<OidcDiscovery> discovery = FetchDiscovery(issuer, options_);
  if (!discovery.ok()) return discovery.status();
  absl::StatusOr<std::string> body = HttpGet(discovery->jwks_uri, options_);
  if (!body.ok()) return body.status();
  absl::StatusOr<std::vector<Jwk>> keys = ParseJwks(*body);
  if (!keys.ok())
    return absl::FailedPreconditionError(absl::StrCat(issuer, ": ", keys.status().message()));
  absl::MutexLock lock(&mu_);
  ++fetches_;
  entries_[issuer] = Entry{*std::move(keys), clock_()};
  return absl::OkStatus();
}

absl::StatusOr<Jwk> OidcKeySource::KeyFor(const std::string& issuer, const std::string& kid,
                                          const std::string& alg) {
  bool may_refresh = true;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(issuer);
    if (it != entries_.end()) {
      const absl::Time now = clock_();
      const bool fresh = now - it->second.fetched_at < max_age_;
      std::optional<Jwk> key = Pick(it->second.keys, kid, alg);
      if (key && fresh) return *key;
      may_refresh = now - it->second.fetched_at >= min_refresh_;
      if (!may_refresh && key) return *key;
    }
  }
  if (!may_refresh) {
    return absl::UnauthenticatedError("id_token: signed with a key the provider does not publish");
  }
  if (absl::Status refreshed = Refresh(issuer); !refreshed.ok()) return refreshed;
  absl::MutexLock lock(&mu_);
  std::optional<Jwk> key = Pick(entries_[issuer].keys, kid, alg);
  if (!key)
    return absl::UnauthenticatedError("id_token: signed with a key the provider does not publish");
  return *key;
}

}  // namespace forecast::identity
