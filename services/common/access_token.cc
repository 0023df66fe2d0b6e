#include "services/common/access_token.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace forecast {
namespace {

// DER prefixes of the only key encodings we accept (RFC 8410): PKCS#8 with the 32-byte seed, and
// SubjectPublicKeyInfo with the 32-byte public key.
constexpr unsigned char kPkcs8Prefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                          0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
constexpr unsigned char kSpkiPrefix[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                         0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

void EnsureSodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) std::abort();  // no secure random source: nothing can be safe
    return true;
  }();
  (void)ready;
}

absl::StatusOr<std::string> PemBody(absl::string_view pem, absl::string_view label) {
  const std::string begin = absl::StrCat("-----BEGIN ", label, "-----");
  const std::string end = absl::StrCat("-----END ", label, "-----");
  const size_t from = pem.find(begin);
  const size_t to = pem.find(end);
  if (from == absl::string_view::npos || to == absl::string_view::npos || to < from) {
    return absl::InvalidArgumentError(absl::StrCat("not a PEM \"", label, "\""));
  }
  std::string base64;
  for (char c : pem.substr(from + begin.size(), to - from - begin.size())) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') base64.push_back(c);
  }
  std::string der;
  if (!absl::Base64Unescape(base64, &der)) return absl::InvalidArgumentError("PEM: bad base64");
  return der;
}

std::string Pem(absl::string_view label, const std::string& der) {
  return absl::StrCat("-----BEGIN ", label, "-----\n", absl::Base64Escape(der), "\n-----END ",
                      label, "-----\n");
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Base64Url(absl::string_view bytes) { return absl::WebSafeBase64Escape(bytes); }

}  // namespace

absl::StatusOr<Ed25519Seed> ParseSigningKeyPem(absl::string_view pem) {
  absl::StatusOr<std::string> der = PemBody(pem, "PRIVATE KEY");
  if (!der.ok()) return der.status();
  if (der->size() != sizeof(kPkcs8Prefix) + 32 ||
      std::memcmp(der->data(), kPkcs8Prefix, sizeof(kPkcs8Prefix)) != 0) {
    return absl::InvalidArgumentError("not an Ed25519 private key (PKCS#8)");
  }
  Ed25519Seed seed;
  std::memcpy(seed.data(), der->data() + sizeof(kPkcs8Prefix), 32);
  return seed;
}

absl::StatusOr<Ed25519PublicKey> ParsePublicKeyPem(absl::string_view pem) {
  absl::StatusOr<std::string> der = PemBody(pem, "PUBLIC KEY");
  if (!der.ok()) return der.status();
  if (der->size() != sizeof(kSpkiPrefix) + 32 ||
      std::memcmp(der->data(), kSpkiPrefix, sizeof(kSpkiPrefix)) != 0) {
    return absl::InvalidArgumentError("not an Ed25519 public key (SubjectPublicKeyInfo)");
  }
  Ed25519PublicKey key;
  std::memcpy(key.data(), der->data() + sizeof(kSpkiPrefix), 32);
  return key;
}

absl::StatusOr<Ed25519Seed> ReadSigningKeyFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<Ed25519Seed> seed = ParseSigningKeyPem(*text);
  if (!seed.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", seed.status().message()));
  return seed;
}

absl::StatusOr<Ed25519PublicKey> ReadPublicKeyFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<Ed25519PublicKey> key = ParsePublicKeyPem(*text);
  if (!key.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", key.status().message()));
  return key;
}

std::string SigningKeyPem(const Ed25519Seed& seed) {
  std::string der(reinterpret_cast<const char*>(kPkcs8Prefix), sizeof(kPkcs8Prefix));
  der.append(reinterpret_cast<const char*>(seed.data()), seed.size());
  return Pem("PRIVATE KEY", der);
}

std::string PublicKeyPem(const Ed25519PublicKey& key) {
  std::string der(reinterpret_cast<const char*>(kSpkiPrefix), sizeof(kSpkiPrefix));
  der.append(reinterpret_cast<const char*>(key.data()), key.size());
  return Pem("PUBLIC KEY", der);
}

Ed25519PublicKey PublicKeyOf(const Ed25519Seed& seed) {
  EnsureSodium();
  Ed25519PublicKey pk;
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk.data(), sk, seed.data());
  sodium_memzero(sk, sizeof(sk));
  return pk;
}

Ed25519Seed NewSigningKey() {
  EnsureSodium();
  Ed25519Seed seed;
  randombytes_buf(seed.data(), seed.size());
  return seed;
}

AccessTokenSigner::AccessTokenSigner(const Ed25519Seed& seed) {
  EnsureSodium();
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(pk, secret_key_.data(), seed.data());
}

std::string AccessTokenSigner::Sign(const AccessClaims& claims) const {
  const nlohmann::json header = {{"alg", "EdDSA"}, {"typ", "JWT"}};
  const nlohmann::json payload = {{"iss", claims.issuer},
                                  {"aud", claims.audience},
                                  {"sub", claims.staff},
                                  {"jc", claims.job_centre},
                                  {"sid", claims.session_id},
                                  {"iat", absl::ToUnixSeconds(claims.issued_at)},
                                  {"exp", absl::ToUnixSeconds(claims.expires_at)},
                                  {"jti", claims.token_id}};
  const std::string signing_input =
      absl::StrCat(Base64Url(header.dump()), ".", Base64Url(payload.dump()));
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size(), secret_key_.data());
  return absl::StrCat(
      signing_input, ".",
      Base64Url(absl::string_view(reinterpret_cast<const char*>(signature), sizeof(signature))));
}

AccessTokenVerifier::AccessTokenVerifier(const Ed25519PublicKey& key, std::string issuer,
                                         std::string audience, std::function<absl::Time()> now,
                                         absl::Duration max_clock_skew)
    : key_(key),
      issuer_(std::move(issuer)),
      audience_(std::move(audience)),
      now_(now ? std::move(now) : [] { return absl::Now(); }),
      max_clock_skew_(max_clock_skew) {
  EnsureSodium();
}

namespace {
absl::Status Refused(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("access token refused: ", why));
}
}  // namespace

absl::StatusOr<AccessClaims> AccessTokenVerifier::Verify(absl::string_view token) const {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = verified_.find(token); it != verified_.end()) {
      if (absl::Status times = CheckTimes(it->second, now_()); !times.ok()) return times;
      return it->second;
    }
  }
  absl::StatusOr<AccessClaims> claims = VerifyAnew(token);
  if (!claims.ok()) return claims;
  absl::MutexLock lock(&mu_);
  if (verified_.size() >= kRememberedTokens) {
    const absl::Time now = now_();
    absl::erase_if(verified_, [&](const auto& entry) { return now >= entry.second.expires_at; });
    if (verified_.size() >= kRememberedTokens) verified_.clear();
  }
  verified_.emplace(std::string(token), *claims);
  return claims;
}

absl::Status AccessTokenVerifier::CheckTimes(const AccessClaims& claims, absl::Time now) const {
  if (now >= claims.expires_at) return Refused("expired");
  if (claims.issued_at > now + max_clock_skew_) return Refused("issued in the future");
  return absl::OkStatus();
}

absl::StatusOr<AccessClaims> AccessTokenVerifier::VerifyAnew(absl::string_view token) const {
  if (token.size() > 4096) return Refused("too long");
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Refused("not a JWS");
  std::string header_json, payload_json, signature;
  if (!absl::WebSafeBase64Unescape(parts[0], &header_json) ||
      !absl::WebSafeBase64Unescape(parts[1], &payload_json) ||
      !absl::WebSafeBase64Unescape(parts[2], &signature)) {
    return Refused("bad encoding");
  }
  if (signature.size() != crypto_sign_BYTES) return Refused("bad signature");
  const size_t signed_length = parts[0].size() + 1 + parts[1].size();
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                  reinterpret_cast<const unsigned char*>(token.data()),
                                  signed_length, key_.data()) != 0) {
    return Refused("bad signature");
  }
  // Signed by our key; still check the header so that no other algorithm is ever implied.
  const nlohmann::json header = nlohmann::json::parse(header_json, nullptr, false);
  const nlohmann::json payload = nlohmann::json::parse(payload_json, nullptr, false);
  if (!header.is_object() || header.value("alg", "") != "EdDSA") return Refused("algorithm");
  if (!payload.is_object()) return Refused("bad claims");
  AccessClaims claims;
  try {
    claims.issuer = payload.at("iss").get<std::string>();
    claims.audience = payload.at("aud").get<std::string>();
    claims.staff = payload.at("sub").get<std::string>();
    claims.job_centre = payload.at("jc").get<std::string>();
    claims.session_id = payload.at("sid").get<int64_t>();
    claims.issued_at = absl::FromUnixSeconds(payload.at("iat").get<int64_t>());
    claims.expires_at = absl::FromUnixSeconds(payload.at("exp").get<int64_t>());
    claims.token_id = payload.value("jti", "");
  } catch (const std::exception&) {
    return Refused("missing claims");
  }
  if (claims.issuer != issuer_) return Refused("issuer");
  if (claims.audience != audience_) return Refused("audience");
  if (claims.staff.empty() || claims.job_centre.empty()) return Refused("missing claims");
  if (absl::Status times = CheckTimes(claims, now_()); !times.ok()) return times;
  return claims;
}

std::string RandomToken(int bytes) {
  EnsureSodium();
  std::string raw(static_cast<size_t>(bytes), '\0');
  randombytes_buf(raw.data(), raw.size());
  return Base64Url(raw);
}

std::string Sha256Hex(absl::string_view text) {
  EnsureSodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace forecast
