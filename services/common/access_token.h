// Access tokens: short-lived JWTs signed with Ed25519 (JWS alg "EdDSA", libsodium), issued by the
// identity service at sign-in and verified by every service on every call (caller.h).
//
// Claims: iss, aud, sub (staff code), jc (job centre code), sid (session id), iat, exp, jti.
// Keys are the PEM files `openssl genpkey -algorithm ed25519` writes (PKCS#8 private key) and
// `openssl pkey -pubout` writes (SubjectPublicKeyInfo public key); deploy/scripts/pki.sh makes
// them.
#ifndef SERVICES_COMMON_ACCESS_TOKEN_H_
#define SERVICES_COMMON_ACCESS_TOKEN_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace forecast {

// The issuer and audience every service of the product uses by default.
inline constexpr char kTokenIssuer[] = "jobcentre-forecast/identity";
inline constexpr char kTokenAudience[] = "jobcentre-forecast/api";

using Ed25519PublicKey = std::array<unsigned char, 32>;
using Ed25519Seed = std::array<unsigned char, 32>;

struct AccessClaims {
  std::string issuer;      // iss
  std::string audience;    // aud
  std::string staff;       // sub: staff code
  std::string job_centre;  // jc: job centre code
  int64_t session_id = 0;  // sid
  absl::Time issued_at;    // iat (whole seconds)
  absl::Time expires_at;   // exp (whole seconds)
  std::string token_id;    // jti
};

// Reads an Ed25519 key from a PEM file (or PEM text). INVALID_ARGUMENT when it is not an Ed25519
// key of that kind, NOT_FOUND when the file cannot be read. Thread-safe.
absl::StatusOr<Ed25519Seed> ReadSigningKeyFile(const std::string& path);
absl::StatusOr<Ed25519PublicKey> ReadPublicKeyFile(const std::string& path);
absl::StatusOr<Ed25519Seed> ParseSigningKeyPem(absl::string_view pem);
absl::StatusOr<Ed25519PublicKey> ParsePublicKeyPem(absl::string_view pem);
// The PEM text of a key, in the formats above (for tests and tools). Thread-safe (pure).
std::string SigningKeyPem(const Ed25519Seed& seed);
std::string PublicKeyPem(const Ed25519PublicKey& key);
// The public key of a signing key. Thread-safe (pure).
Ed25519PublicKey PublicKeyOf(const Ed25519Seed& seed);
// A fresh random signing key (for tests). Thread-safe.
Ed25519Seed NewSigningKey();

// Signs claims. Thread-safe (immutable after construction).
class AccessTokenSigner {
 public:
  explicit AccessTokenSigner(const Ed25519Seed& seed);
  // The compact JWS "header.payload.signature" (base64url, no padding).
  std::string Sign(const AccessClaims& claims) const;

 private:
  std::array<unsigned char, 64> secret_key_;
};

// Verifies tokens: signature with the one public key, alg "EdDSA", issuer, audience, expiry (no
// leeway) and an issue time not more than `max_clock_skew` ahead. Thread-safe.
//
// A token that verified is remembered (at most kRememberedTokens): the same text again skips the
// signature check and the parsing (2-3% of the CPU under the write benchmark), and is still
// refused once expired.
class AccessTokenVerifier {
 public:
  // `now` defaults to the machine's clock.
  AccessTokenVerifier(const Ed25519PublicKey& key, std::string issuer = kTokenIssuer,
                      std::string audience = kTokenAudience,
                      std::function<absl::Time()> now = nullptr,
                      absl::Duration max_clock_skew = absl::Minutes(1));
  // The claims of a valid token; UNAUTHENTICATED with a short reason otherwise (the reason never
  // repeats the token).
  absl::StatusOr<AccessClaims> Verify(absl::string_view token) const;

  // Tokens remembered after verifying; when full, the expired ones are forgotten, or all.
  static constexpr size_t kRememberedTokens = 4096;

 private:
  absl::StatusOr<AccessClaims> VerifyAnew(absl::string_view token) const;
  // The time checks, made on every call, remembered or not.
  absl::Status CheckTimes(const AccessClaims& claims, absl::Time now) const;

  Ed25519PublicKey key_;
  std::string issuer_;
  std::string audience_;
  std::function<absl::Time()> now_;
  absl::Duration max_clock_skew_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, AccessClaims> verified_ ABSL_GUARDED_BY(mu_);
};

// n random bytes from the operating system (libsodium), base64url without padding. Thread-safe.
std::string RandomToken(int bytes);
// SHA-256 of `text`, lower-case hex (how session tokens and set-up codes are stored). Thread-safe.
std::string Sha256Hex(absl::string_view text);

}  // namespace forecast

#endif  // SERVICES_COMMON_ACCESS_TOKEN_H_
