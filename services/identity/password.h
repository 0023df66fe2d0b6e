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

// Argon2id's cost: passes and memory. The default is libsodium's "interactive" (2 passes, 64 MiB);
// tests of other things may use a cheaper one (hashes carry their own cost, so verification
// always matches the hash).
struct PasswordCost {
  unsigned long long passes = 2;
  size_t memory_bytes = size_t{64} << 20;
};

// The Argon2id hash ("$argon2id$v=19$m=...") of `password`, with a fresh random salt. INTERNAL
// when memory runs out. Thread-safe.
absl::StatusOr<std::string> HashPassword(absl::string_view password, const PasswordCost& cost = {});

// True when `password` matches `hash`; false for any other hash, including a malformed one.
// Takes as long as hashing. Thread-safe.
bool VerifyPassword(absl::string_view password, const std::string& hash);

// A valid hash of a random password at `cost`, for verifying against when an account has no
// credential, so that the answer takes as long as for a real one. Thread-safe.
std::string DecoyHash(const PasswordCost& cost = {});

}  // namespace forecast::identity

#endif  // SERVICES_IDENTITY_PASSWORD_H_
