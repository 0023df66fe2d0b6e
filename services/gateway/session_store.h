// Logged-in browsers for the legacy (shared demo password) sign-in: an opaque random token (the
// session cookie) maps to the staff member the case service confirmed at login. In memory: a
// gateway restart logs everyone out. The identity service's sessions replace this.
#ifndef SERVICES_GATEWAY_SESSION_STORE_H_
#define SERVICES_GATEWAY_SESSION_STORE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace forecast::gateway {

// Who a session belongs to. The services authorise from job_centre + staff_code alone.
struct SessionIdentity {
  std::string job_centre;
  std::string staff_code;
  std::string staff_json;  // the StaffMember the case service returned at login, as JSON
};

class SessionStore {
 public:
  // Sessions unused for longer than idle_timeout expire. `now` is the clock (injected so that
  // tests need no wall clock).
  SessionStore(absl::Duration idle_timeout, std::function<absl::Time()> now);

  // Stores the identity under a new 256-bit random token (hex) and returns the token.
  // Thread-safe.
  std::string Create(SessionIdentity identity);

  // The identity behind `token`, refreshing its idle timer; nullopt when unknown or expired
  // (an expired session is removed). Thread-safe.
  std::optional<SessionIdentity> Find(const std::string& token);

  // Forgets `token`; unknown tokens are ignored. Thread-safe.
  void Remove(const std::string& token);

  // Forgets every session of one staff member; how many there were. Thread-safe.
  size_t RemoveAllOf(const std::string& job_centre, const std::string& staff_code);

  // Number of live (unexpired) sessions; also drops expired ones. Thread-safe.
  size_t Size();

 private:
  struct Entry {
    SessionIdentity identity;
    absl::Time last_used;
  };

  const absl::Duration idle_timeout_;
  const std::function<absl::Time()> now_;
  absl::Mutex mu_;
  std::map<std::string, Entry> sessions_ ABSL_GUARDED_BY(mu_);
};

// 32 bytes from the operating system's random source, hex encoded. Thread-safe.
std::string NewSessionToken();

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_SESSION_STORE_H_
