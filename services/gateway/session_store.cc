#include "services/gateway/session_store.h"

#include <random>
#include <utility>

#include "absl/strings/escaping.h"

namespace forecast::gateway {

std::string NewSessionToken() {
  // A session token must be unguessable: the kernel's CSPRNG, never a seeded generator.
  std::random_device device("/dev/urandom");
  std::string bytes(32, '\0');
  for (size_t i = 0; i < bytes.size(); i += 4) {
    const unsigned int word = device();
    for (size_t j = 0; j < 4 && i + j < bytes.size(); ++j) {
      bytes[i + j] = static_cast<char>((word >> (8 * j)) & 0xff);
    }
  }
  return absl::BytesToHexString(bytes);
}

SessionStore::SessionStore(absl::Duration idle_timeout, std::function<absl::Time()> now)
    : idle_timeout_(idle_timeout), now_(std::move(now)) {}

std::string SessionStore::Create(SessionIdentity identity) {
  std::string token = NewSessionToken();
  absl::MutexLock lock(&mu_);
  sessions_[token] = Entry{std::move(identity), now_()};
  return token;
}

std::optional<SessionIdentity> SessionStore::Find(const std::string& token) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return std::nullopt;
  const absl::Time now = now_();
  if (now - it->second.last_used > idle_timeout_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  return it->second.identity;
}

void SessionStore::Remove(const std::string& token) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(token);
}

size_t SessionStore::RemoveAllOf(const std::string& job_centre, const std::string& staff_code) {
  absl::MutexLock lock(&mu_);
  size_t removed = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const bool same = it->second.identity.job_centre == job_centre &&
                      it->second.identity.staff_code == staff_code;
    if (same) ++removed;
    it = same ? sessions_.erase(it) : std::next(it);
  }
  return removed;
}

size_t SessionStore::Size() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = now_();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = (now - it->second.last_used > idle_timeout_) ? sessions_.erase(it) : std::next(it);
  }
  return sessions_.size();
}

}  // namespace forecast::gateway
