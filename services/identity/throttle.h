// Failed sign-in throttling, as pure decisions over one key's counters (the identity keeper
// stores them in login_throttle): the first few failures cost nothing, then each failure makes
// the next attempt wait twice as long as the last, and a run of failures locks the key for a
// while. Failures older than the window are forgotten; a lockout that ended starts a fresh count.
#ifndef SERVICES_IDENTITY_THROTTLE_H_
#define SERVICES_IDENTITY_THROTTLE_H_

#include <optional>

#include "absl/time/time.h"

namespace forecast::identity {

struct ThrottlePolicy {
  int free_failures = 3;                         // failures answered without any delay
  absl::Duration base_delay = absl::Seconds(1);  // the first delay; doubles with each failure
  absl::Duration max_delay = absl::Minutes(1);
  int lockout_after = 10;  // this many failures in a row lock the key
  absl::Duration lockout = absl::Minutes(15);
  absl::Duration window = absl::Minutes(15);  // failures older than this are forgotten
};

// The defaults per account and per client address (an address may serve many people).
ThrottlePolicy DefaultAccountPolicy();
ThrottlePolicy DefaultAddressPolicy();

// One key's counters as stored.
struct ThrottleState {
  int failures = 0;
  std::optional<absl::Time> last_failure_at;
  std::optional<absl::Time> blocked_until;
  bool locked = false;
};

// How long an attempt at `now` must still wait (zero: it may be checked). Thread-safe (pure).
absl::Duration WaitBeforeAttempt(const ThrottleState& state, absl::Time now);

// The counters after a failure at `now`; `locked_now` tells whether this failure started a
// lockout. Thread-safe (pure).
ThrottleState AfterFailure(const ThrottleState& state, const ThrottlePolicy& policy, absl::Time now,
                           bool* locked_now);

}  // namespace forecast::identity

#endif  // SERVICES_IDENTITY_THROTTLE_H_
