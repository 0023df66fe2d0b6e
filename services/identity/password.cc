#include "services/identity/password.h"

#include <sodium.h>

#include <cstdlib>
#include <map>
#include <utility>

#include "absl/base/const_init.h"
#include "absl/synchronization/mutex.h"

#include "absl/strings/str_cat.h"
#include "services/common/access_token.h"

namespace forecast::identity {
namespace {

int CodePoints(absl::string_view text) {
  int count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++count;  // not a continuation byte
  }
  return count;
}

}  // namespace

absl::Status CheckPasswordPolicy(absl::string_view password, absl::string_view staff_code,
                                 absl::string_view field) {
  if (CodePoints(password) < kMinPasswordCharacters) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at least ", kMinPasswordCharacters, " characters"));
  }
  if (password.size() > static_cast<size_t>(kMaxPasswordBytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxPasswordBytes, " bytes"));
  }
  if (password == staff_code) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must not be the staff code"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> HashPassword(absl::string_view password, const PasswordCost& cost) {
  if (sodium_init() < 0) std::abort();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.passes, cost.memory_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::InternalError("password hashing ran out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(absl::string_view password, const std::string& hash) {
  if (sodium_init() < 0) std::abort();
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool NeedsRehash(const std::string& hash, const PasswordCost& cost) {
  if (sodium_init() < 0) std::abort();
  if (hash.size() >= crypto_pwhash_STRBYTES) return true;
  return crypto_pwhash_str_needs_rehash(hash.c_str(), cost.passes, cost.memory_bytes) != 0;
}

std::string DecoyHash(const PasswordCost& cost) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* decoys = new std::map<std::pair<unsigned long long, size_t>, std::string>();
  absl::MutexLock lock(&mu);
  std::string& decoy = (*decoys)[{cost.passes, cost.memory_bytes}];
  if (decoy.empty()) {
    absl::StatusOr<std::string> hash = HashPassword(RandomToken(24), cost);
    if (hash.ok()) decoy = *hash;
  }
  return decoy;
}

}  // namespace forecast::identity
