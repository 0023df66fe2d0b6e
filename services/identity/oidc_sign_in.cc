#include "services/identity/oidc_sign_in.h"

#include <openssl/evp.h>

#include <regex>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace forecast::identity {
namespace {

constexpr char kProviderColumns[] =
    "p.id, p.display_name, p.issuer, p.client_id, p.staff_claim, p.enabled";

v1::IdentityProvider ProviderFromRow(const pqxx::row& row) {
  v1::IdentityProvider provider;
  provider.set_id(row[0].as<std::string>());
  provider.set_display_name(row[1].as<std::string>());
  provider.set_issuer(row[2].as<std::string>());
  provider.set_client_id(row[3].as<std::string>());
  provider.set_staff_claim(row[4].as<std::string>());
  provider.set_enabled(row[5].as<bool>());
  return provider;
}

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

// The host of an http(s) URL, without port.
std::string HostOf(const std::string& url) {
  const size_t start = url.find("://");
  if (start == std::string::npos) return "";
  std::string rest = url.substr(start + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (absl::StartsWith(rest, "[")) return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find(':'));
}

// The claim's value as a staff code: a string, or a number written out.
std::string ClaimText(const nlohmann::json& payload, const std::string& claim) {
  auto it = payload.find(claim);
  if (it == payload.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return "";
}

}  // namespace

absl::Status ValidateProvider(const v1::IdentityProvider& provider) {
  static const std::regex kId("[A-Za-z0-9_-]{1,32}");
  static const std::regex kClaim("[A-Za-z0-9_:.-]{1,64}");
  if (!std::regex_match(provider.id(), kId)) {
    return absl::InvalidArgumentError("id: 1-32 letters, digits, '-' or '_'");
  }
  if (provider.display_name().empty() || provider.display_name().size() > 100) {
    return absl::InvalidArgumentError("display_name: 1-100 characters");
  }
  const std::string& issuer = provider.issuer();
  const bool https = absl::StartsWith(issuer, "https://");
  const std::string host = HostOf(issuer);
  const bool loopback = host == "127.0.0.1" || host == "localhost" || host == "[::1]";
  if (host.empty() || issuer.find_first_of(" \t\r\n#?") != std::string::npos ||
      !(https || (absl::StartsWith(issuer, "http://") && loopback))) {
    return absl::InvalidArgumentError(
        "issuer: an https URL (http only on a loopback address, for tests), without query");
  }
  if (provider.client_id().empty() || provider.client_id().size() > 200) {
    return absl::InvalidArgumentError("client_id: 1-200 characters");
  }
  if (!std::regex_match(provider.staff_claim(), kClaim)) {
    return absl::InvalidArgumentError("staff_claim: a claim name such as preferred_username");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::IdentityProvider> OidcProviderStore::Upsert(
    int64_t job_centre_id, const v1::IdentityProvider& provider) {
  if (absl::Status valid = ValidateProvider(provider); !valid.ok()) return valid;
  return RunTransaction<v1::IdentityProvider>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::IdentityProvider> {
        tx.exec_params(
            "INSERT INTO identity_provider AS p "
            "  (job_centre_id, id, display_name, issuer, client_id, staff_claim, enabled) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "ON CONFLICT (job_centre_id, id) DO UPDATE SET display_name = EXCLUDED.display_name, "
            "  issuer = EXCLUDED.issuer, client_id = EXCLUDED.client_id, "
            "  staff_claim = EXCLUDED.staff_claim, enabled = EXCLUDED.enabled, updated_at = now()",
            job_centre_id, provider.id(), provider.display_name(), provider.issuer(),
            provider.client_id(), provider.staff_claim(), provider.enabled());
        return provider;
      });
}

absl::StatusOr<std::vector<v1::IdentityProvider>> OidcProviderStore::List(
    const std::string& job_centre_code, bool enabled_only) {
  return RunTransaction<std::vector<v1::IdentityProvider>>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<std::vector<v1::IdentityProvider>> {
        pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT ", kProviderColumns,
                         " FROM identity_provider p JOIN job_centre j ON j.id = p.job_centre_id "
                         "WHERE j.code = $1 AND (p.enabled OR NOT $2) ORDER BY p.id"),
            job_centre_code, enabled_only);
        std::vector<v1::IdentityProvider> providers;
        for (const pqxx::row& row : rows) providers.push_back(ProviderFromRow(row));
        return providers;
      });
}

absl::StatusOr<v1::IdentityProvider> OidcProviderStore::FindEnabled(
    const std::string& job_centre_code, const std::string& provider_id) {
  return RunTransaction<v1::IdentityProvider>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::IdentityProvider> {
        pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT ", kProviderColumns,
                         " FROM identity_provider p JOIN job_centre j ON j.id = p.job_centre_id "
                         "WHERE j.code = $1 AND p.id = $2 AND p.enabled"),
            job_centre_code, provider_id);
        if (rows.empty()) return absl::NotFoundError("no such identity provider");
        return ProviderFromRow(rows[0]);
      });
}

absl::Status OidcProviderStore::ConsumeNonce(int64_t job_centre_id, const std::string& provider_id,
                                             const std::string& nonce, absl::Time keep_until) {
  const std::string hash = Sha256Hex(nonce);
  return RunTransaction(pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) {
    tx.exec0("DELETE FROM sso_nonce WHERE expires_at < now()");
    pqxx::result inserted = tx.exec_params(
        "INSERT INTO sso_nonce (job_centre_id, provider_id, nonce_hash, expires_at) "
        "VALUES ($1, $2, decode($3, 'hex'), to_timestamp($4)) ON CONFLICT DO NOTHING RETURNING 1",
        job_centre_id, provider_id, hash, absl::ToUnixSeconds(keep_until));
    if (inserted.empty()) return absl::AlreadyExistsError("nonce used before");
    return absl::OkStatus();
  });
}

OidcSignIn::OidcSignIn(OidcProviderStore& store, OidcKeySource& keys, StaffDirectory& staff,
                       SignInHooks hooks, Clock clock)
    : store_(store),
      keys_(keys),
      staff_(staff),
      hooks_(std::move(hooks)),
      clock_(std::move(clock)) {}

absl::StatusOr<v1::LoginResponse> OidcSignIn::LoginWithIdToken(
    const v1::IdTokenLoginRequest& request, const std::string& client_address) {
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string*>{"job_centre", &request.job_centre()},
        {"provider_id", &request.provider_id()},
        {"id_token", &request.id_token()},
        {"nonce", &request.nonce()}}) {
    if (value->empty()) return absl::InvalidArgumentError(absl::StrCat(name, ": required"));
  }
  std::string staff_code;
  auto refuse = [&](absl::string_view reason) {
    const std::string detail = absl::StrCat("provider ", request.provider_id(), ": ", reason);
    if (hooks_.record_event) {
      hooks_.record_event(request.job_centre(), staff_code, "SSO_REFUSED", client_address, detail);
    }
    return absl::UnauthenticatedError(absl::StrCat("single sign-on refused: ", reason));
  };

  absl::StatusOr<v1::IdentityProvider> provider =
      store_.FindEnabled(request.job_centre(), request.provider_id());
  if (absl::IsNotFound(provider.status())) return refuse("unknown or disabled provider");
  if (!provider.ok()) return provider.status();

  absl::StatusOr<Jws> jws = ParseJws(request.id_token());
  if (!jws.ok()) return refuse(jws.status().message());
  if (!SupportedAlgorithm(jws->alg())) {
    return refuse(absl::StrCat("id_token: algorithm \"", jws->alg(), "\" not accepted"));
  }
  absl::StatusOr<Jwk> key = keys_.KeyFor(provider->issuer(), jws->kid(), jws->alg());
  if (absl::IsUnauthenticated(key.status())) return refuse(key.status().message());
  if (!key.ok()) {
    (void)refuse(absl::StrCat("provider unreachable: ", key.status().message()));
    return absl::UnavailableError("the identity provider cannot be reached; try again");
  }
  if (absl::Status signed_ok = VerifySignature(*jws, *key); !signed_ok.ok()) {
    return refuse(signed_ok.message());
  }
  IdTokenExpectations expected;
  expected.issuer = provider->issuer();
  expected.audience = provider->client_id();
  expected.nonce = request.nonce();
  expected.now = clock_();
  if (absl::Status claims = CheckIdTokenClaims(jws->payload, expected); !claims.ok()) {
    return refuse(claims.message());
  }

  const std::string claimed = ClaimText(jws->payload, provider->staff_claim());
  if (claimed.empty())
    return refuse(absl::StrCat("id_token: no claim \"", provider->staff_claim(), "\""));
  absl::StatusOr<Caller> staff = staff_.Find(request.job_centre(), claimed);
  if (absl::IsUnauthenticated(staff.status())) {
    return refuse(absl::StrCat("claim \"", provider->staff_claim(),
                               "\" names no active staff member of the job centre"));
  }
  if (!staff.ok()) return staff.status();
  staff_code = staff->staff_code;

  // Last of the checks, so that only genuine tokens take up room in the table.
  const absl::Time keep_until =
      std::max(ExpiresAt(jws->payload), expected.now) + expected.leeway + absl::Minutes(1);
  absl::Status fresh =
      store_.ConsumeNonce(staff->job_centre_id, provider->id(), request.nonce(), keep_until);
  if (absl::IsAlreadyExists(fresh)) return refuse("nonce used before (a replayed sign-in)");
  if (!fresh.ok()) return fresh;

  if (!hooks_.issue_session) return absl::InternalError("no session issuer configured");
  return hooks_.issue_session(*staff, client_address);
}

absl::StatusOr<v1::ListIdentityProvidersResponse> OidcSignIn::ListIdentityProviders(
    const v1::ListIdentityProvidersRequest& request) {
  if (request.job_centre().empty()) return absl::InvalidArgumentError("job_centre: required");
  absl::StatusOr<std::vector<v1::IdentityProvider>> providers =
      store_.List(request.job_centre(), /*enabled_only=*/true);
  if (!providers.ok()) return providers.status();
  v1::ListIdentityProvidersResponse response;
  for (v1::IdentityProvider& provider : *providers) *response.add_providers() = std::move(provider);
  return response;
}

absl::StatusOr<v1::IdentityProvider> OidcSignIn::UpsertIdentityProvider(
    const Caller& caller, const v1::IdentityProvider& provider) {
  if (caller.role != Role::kAdmin) {
    return absl::PermissionDeniedError("only an admin may change identity providers");
  }
  return store_.Upsert(caller.job_centre_id, provider);
}

}  // namespace forecast::identity
