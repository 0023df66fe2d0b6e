#include "services/identity/oidc_jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace forecast::identity {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BigNum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyContext = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdContext = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

absl::StatusOr<std::string> Member(const nlohmann::json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("jwk: no \"", name, "\""));
  }
  return Base64UrlDecode(it->get<std::string>());
}

std::shared_ptr<EVP_PKEY> FromData(const char* type, OSSL_PARAM_BLD* builder) {
  Params params(OSSL_PARAM_BLD_to_param(builder));
  PkeyContext context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return Share(key);
}

absl::StatusOr<std::shared_ptr<EVP_PKEY>> RsaKey(const nlohmann::json& jwk) {
  absl::StatusOr<std::string> n = Member(jwk, "n");
  absl::StatusOr<std::string> e = Member(jwk, "e");
  if (!n.ok()) return n.status();
  if (!e.ok()) return e.status();
  if (n->size() < 256) return absl::InvalidArgumentError("jwk: RSA key shorter than 2048 bits");
  BigNum bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                        static_cast<int>(n->size()), nullptr));
  BigNum bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                        static_cast<int>(e->size()), nullptr));
  ParamBuilder builder(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !builder ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return absl::InternalError("jwk: cannot build an RSA key");
  }
  std::shared_ptr<EVP_PKEY> key = FromData("RSA", builder.get());
  if (!key) return absl::InvalidArgumentError("jwk: not a valid RSA key");
  return key;
}

absl::StatusOr<std::shared_ptr<EVP_PKEY>> EcKey(const nlohmann::json& jwk) {
  if (jwk.value("crv", "") != "P-256") return absl::InvalidArgumentError("jwk: curve not P-256");
  absl::StatusOr<std::string> x = Member(jwk, "x");
  absl::StatusOr<std::string> y = Member(jwk, "y");
  if (!x.ok()) return x.status();
  if (!y.ok()) return y.status();
  if (x->size() != 32 || y->size() != 32) return absl::InvalidArgumentError("jwk: bad P-256 point");
  const std::string point = absl::StrCat("\x04", *x, *y);
  ParamBuilder builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return absl::InternalError("jwk: cannot build an EC key");
  }
  // fromdata checks that the point lies on the curve.
  std::shared_ptr<EVP_PKEY> key = FromData("EC", builder.get());
  if (!key) return absl::InvalidArgumentError("jwk: not a valid P-256 key");
  return key;
}

absl::StatusOr<std::shared_ptr<EVP_PKEY>> OkpKey(const nlohmann::json& jwk) {
  if (jwk.value("crv", "") != "Ed25519")
    return absl::InvalidArgumentError("jwk: curve not Ed25519");
  absl::StatusOr<std::string> x = Member(jwk, "x");
  if (!x.ok()) return x.status();
  if (x->size() != 32) return absl::InvalidArgumentError("jwk: bad Ed25519 key");
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size());
  if (key == nullptr) return absl::InvalidArgumentError("jwk: not a valid Ed25519 key");
  return Share(key);
}

bool KeyFits(const std::string& kty, const std::string& alg) {
  if (alg == "RS256" || alg == "PS256") return kty == "RSA";
  if (alg == "ES256") return kty == "EC";
  if (alg == "EdDSA") return kty == "OKP";
  return false;
}

// JOSE's ES256 signature is r || s, 32 bytes each; OpenSSL wants DER.
std::string EcdsaRawToDer(const std::string& raw) {
  EcdsaSig sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return "";
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

bool AudienceContains(const nlohmann::json& aud, const std::string& client_id) {
  if (aud.is_string()) return aud.get<std::string>() == client_id;
  if (!aud.is_array()) return false;
  for (const auto& entry : aud) {
    if (entry.is_string() && entry.get<std::string>() == client_id) return true;
  }
  return false;
}

// A NumericDate claim (seconds since the epoch), or nullopt when absent or not a number.
std::optional<absl::Time> NumericDate(const nlohmann::json& payload, const char* name) {
  auto it = payload.find(name);
  if (it == payload.end() || !it->is_number()) return std::nullopt;
  const double seconds = it->get<double>();
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e11) return std::nullopt;
  return absl::FromUnixSeconds(static_cast<int64_t>(seconds));
}

absl::Status Refused(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("id_token: ", why));
}

}  // namespace

std::string Base64UrlEncode(absl::string_view bytes) { return absl::WebSafeBase64Escape(bytes); }

absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text) {
  std::string out;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '=';
    if (!ok) return absl::InvalidArgumentError("not base64url");
  }
  if (!absl::WebSafeBase64Unescape(text, &out)) return absl::InvalidArgumentError("not base64url");
  return out;
}

std::string Jws::alg() const { return header.value("alg", ""); }
std::string Jws::kid() const {
  auto it = header.find("kid");
  return it != header.end() && it->is_string() ? it->get<std::string>() : "";
}

absl::StatusOr<std::vector<Jwk>> ParseJwks(absl::string_view json) {
  nlohmann::json document = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object() || !document.contains("keys") || !document["keys"].is_array()) {
    return absl::InvalidArgumentError("jwks: not a JWK Set");
  }
  std::vector<Jwk> keys;
  for (const nlohmann::json& entry : document["keys"]) {
    if (!entry.is_object()) continue;
    if (entry.value("use", "sig") != "sig") continue;
    Jwk jwk;
    jwk.kty = entry.value("kty", "");
    jwk.kid =
        entry.contains("kid") && entry["kid"].is_string() ? entry["kid"].get<std::string>() : "";
    jwk.alg =
        entry.contains("alg") && entry["alg"].is_string() ? entry["alg"].get<std::string>() : "";
    absl::StatusOr<std::shared_ptr<EVP_PKEY>> key;
    if (jwk.kty == "RSA") {
      key = RsaKey(entry);
    } else if (jwk.kty == "EC") {
      key = EcKey(entry);
    } else if (jwk.kty == "OKP") {
      key = OkpKey(entry);
    } else {
      continue;
    }
    if (!key.ok()) continue;  // a key we cannot use is no key for us
    jwk.key = *std::move(key);
    keys.push_back(std::move(jwk));
  }
  return keys;
}

absl::StatusOr<Jws> ParseJws(absl::string_view token) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
    return Refused("not a signed JWT (three parts)");
  }
  Jws jws;
  absl::StatusOr<std::string> header = Base64UrlDecode(parts[0]);
  absl::StatusOr<std::string> payload = Base64UrlDecode(parts[1]);
  absl::StatusOr<std::string> signature = Base64UrlDecode(parts[2]);
  if (!header.ok() || !payload.ok() || !signature.ok()) return Refused("not base64url");
  jws.header = nlohmann::json::parse(*header, nullptr, false);
  jws.payload = nlohmann::json::parse(*payload, nullptr, false);
  if (!jws.header.is_object() || !jws.payload.is_object()) return Refused("not JSON objects");
  if (jws.header.contains("crit")) return Refused("critical header extensions are not supported");
  jws.signing_input = absl::StrCat(parts[0], ".", parts[1]);
  jws.signature = *std::move(signature);
  return jws;
}

bool SupportedAlgorithm(absl::string_view alg) {
  return alg == "RS256" || alg == "PS256" || alg == "ES256" || alg == "EdDSA";
}

absl::Status VerifySignature(const Jws& jws, const Jwk& key) {
  const std::string alg = jws.alg();
  if (!SupportedAlgorithm(alg))
    return Refused(absl::StrCat("algorithm \"", alg, "\" not accepted"));
  if (!KeyFits(key.kty, alg) || (!key.alg.empty() && key.alg != alg) || !key.key) {
    return Refused("the key does not fit the algorithm");
  }
  std::string signature = jws.signature;
  if (alg == "ES256") {
    if (signature.size() != 64) return Refused("bad signature");
    signature = EcdsaRawToDer(signature);
    if (signature.empty()) return Refused("bad signature");
  }
  MdContext context(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_context = nullptr;
  const EVP_MD* digest = alg == "EdDSA" ? nullptr : EVP_sha256();
  if (!context ||
      EVP_DigestVerifyInit(context.get(), &pkey_context, digest, nullptr, key.key.get()) != 1) {
    return absl::InternalError("cannot start signature verification");
  }
  if (alg == "PS256" &&
      (EVP_PKEY_CTX_set_rsa_padding(pkey_context, RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_context, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return absl::InternalError("cannot set PSS padding");
  }
  const int verified = EVP_DigestVerify(
      context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(jws.signing_input.data()), jws.signing_input.size());
  if (verified != 1) return Refused("signature does not verify");
  return absl::OkStatus();
}

absl::Status CheckIdTokenClaims(const nlohmann::json& payload,
                                const IdTokenExpectations& expected) {
  if (payload.value("iss", "") != expected.issuer || expected.issuer.empty()) {
    return Refused("wrong issuer");
  }
  auto aud = payload.find("aud");
  if (aud == payload.end() || !AudienceContains(*aud, expected.audience) ||
      expected.audience.empty()) {
    return Refused("wrong audience");
  }
  // With several audiences the token must be issued to us (azp), as Core 3.1.3.7 item 4-5 say.
  auto azp = payload.find("azp");
  if ((aud->is_array() && aud->size() > 1 && azp == payload.end()) ||
      (azp != payload.end() &&
       (!azp->is_string() || azp->get<std::string>() != expected.audience))) {
    return Refused("wrong authorized party");
  }
  std::optional<absl::Time> expires = NumericDate(payload, "exp");
  if (!expires) return Refused("no expiry");
  if (*expires + expected.leeway <= expected.now) return Refused("expired");
  std::optional<absl::Time> iat = NumericDate(payload, "iat");
  if (!iat) return Refused("no issue time");
  if (*iat - expected.leeway > expected.now) return Refused("issued in the future");
  if (*iat + expected.max_age + expected.leeway < expected.now)
    return Refused("issued too long ago");
  std::optional<absl::Time> nbf = NumericDate(payload, "nbf");
  if (nbf && *nbf - expected.leeway > expected.now) return Refused("not yet valid");
  auto nonce = payload.find("nonce");
  if (expected.nonce.empty() || nonce == payload.end() || !nonce->is_string() ||
      nonce->get<std::string>() != expected.nonce) {
    return Refused("wrong nonce");
  }
  auto sub = payload.find("sub");
  if (sub == payload.end() || !sub->is_string() || sub->get<std::string>().empty()) {
    return Refused("no subject");
  }
  return absl::OkStatus();
}

absl::Time ExpiresAt(const nlohmann::json& payload) {
  return NumericDate(payload, "exp").value_or(absl::InfinitePast());
}

}  // namespace forecast::identity
