// Passwords: the policy (at least 12 characters), and Argon2id hashes in libsodium's
// crypto_pwhash_str format (salt and cost parameters inside the string).
#ifndef SERVICES_IDENTITY_PASSWORD_H_
#define SERVICES_IDENTITY_PASSWORD_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forecast::identity {

inline constexpr int kMinPasswordCharacters = 12;
inline constexpr int kMaxPasswordBytes = 1024;

// OK, or INVALID_ARGUMENT starting with `field` when the password is shorter than 12 characters
// (Unicode code points), longer than 1024 bytes, or equal to the staff code. Never repeats the
// password. Thread-safe (pure).
absl::Status CheckPasswordPolicy(absl::string_view password, absl::string_view staff_code,
                                 absl::string_view field);

// Argon2id's cost: passes and memory. The default is OWASP's recommended minimum for Argon2id
// (19 MiB, 2 passes, 1 lane; Password Storage Cheat Sheet): a login costs about a third of
// libsodium's "interactive" 64 MiB, which kept login p99 above 100 ms on a loaded 2-core
// gateway host (issue 9). Operators may raise it (case-service --password-memory-mib/-passes);
// hashes carry their own cost, so verification always matches the hash, and a login re-hashes a
// password stored at another cost (NeedsRehash).
struct PasswordCost {
  unsigned long long passes = 2;
  size_t memory_bytes = size_t{19} << 20;
};

// The Argon2id hash ("$argon2id$v=19$m=...") of `password`, with a fresh random salt. INTERNAL
// when memory runs out. Thread-safe.
absl::StatusOr<std::string> HashPassword(absl::string_view password, const PasswordCost& cost = {});

// True when `password` matches `hash`; false for any other hash, including a malformed one.
// Takes as long as hashing. Thread-safe.
bool VerifyPassword(absl::string_view password, const std::string& hash);

// True when `hash` was not made at `cost` (or is not an Argon2id hash): the next successful
// login stores a new one. Thread-safe.
bool NeedsRehash(const std::string& hash, const PasswordCost& cost);

// A valid hash of a random password at `cost`, for verifying against when an account has no
// credential, so that the answer takes as long as for a real one. Thread-safe.
std::string DecoyHash(const PasswordCost& cost = {});

}  // namespace forecast::identity

#endif  // SERVICES_IDENTITY_PASSWORD_H_
