// JSON Web Tokens as OpenID Connect providers sign them: compact JWS parsing, public keys from a
// JWK Set, signature verification with OpenSSL (RS256, PS256, ES256, EdDSA; never "none" or an
// HMAC), and the ID token claim checks of OpenID Connect Core 3.1.3.7. No I/O.
#ifndef SERVICES_IDENTITY_OIDC_JWT_H_
#define SERVICES_IDENTITY_OIDC_JWT_H_

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace forecast::identity {

// One public key of a JWK Set. Immutable after parsing; thread-safe to share.
struct Jwk {
  std::string kid;  // may be empty
  std::string kty;  // "RSA", "EC" (P-256) or "OKP" (Ed25519)
  std::string alg;  // may be empty: then any algorithm of the key type
  std::shared_ptr<EVP_PKEY> key;
};

// The signature keys of a JWK Set document ({"keys": [...]}). Keys of other types, curves or uses
// ("use": "enc") are skipped; INVALID_ARGUMENT when the document is not a JWK Set.
// Thread-safe (pure).
absl::StatusOr<std::vector<Jwk>> ParseJwks(absl::string_view json);

// A compact JWS split into its parts, header and payload parsed.
struct Jws {
  nlohmann::json header;
  nlohmann::json payload;
  std::string signing_input;  // base64url(header) "." base64url(payload)
  std::string signature;      // raw bytes
  std::string alg() const;
  std::string kid() const;
};

// UNAUTHENTICATED when `token` is not three base64url parts with JSON object header and payload.
// Thread-safe (pure).
absl::StatusOr<Jws> ParseJws(absl::string_view token);

// Whether `alg` is one this verifier accepts (RS256, PS256, ES256, EdDSA). Thread-safe (pure).
bool SupportedAlgorithm(absl::string_view alg);

// Verifies the signature of `jws` with `key` for the algorithm its header names. UNAUTHENTICATED
// when the algorithm is unsupported, does not fit the key, or the signature is wrong.
// Thread-safe.
absl::Status VerifySignature(const Jws& jws, const Jwk& key);

// What an ID token must say (OpenID Connect Core 3.1.3.7).
struct IdTokenExpectations {
  std::string issuer;    // "iss" must equal it exactly
  std::string audience;  // the client id: in "aud"; "azp", when present, must equal it too
  std::string nonce;     // "nonce" must equal it (non-empty)
  absl::Time now;
  absl::Duration leeway = absl::Minutes(1);    // clock skew allowed on exp and iat
  absl::Duration max_age = absl::Minutes(10);  // an "iat" older than this is refused
};

// UNAUTHENTICATED naming the first claim that fails. Thread-safe (pure).
absl::Status CheckIdTokenClaims(const nlohmann::json& payload, const IdTokenExpectations& expected);

// "exp" of a payload that passed CheckIdTokenClaims. Thread-safe (pure).
absl::Time ExpiresAt(const nlohmann::json& payload);

// Base64url without padding, both ways (decoding also accepts padding). Thread-safe (pure).
std::string Base64UrlEncode(absl::string_view bytes);
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text);

}  // namespace forecast::identity

#endif  // SERVICES_IDENTITY_OIDC_JWT_H_
