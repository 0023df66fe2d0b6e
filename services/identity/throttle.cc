#include "services/identity/throttle.h"

#include <algorithm>

namespace forecast::identity {

ThrottlePolicy DefaultAccountPolicy() { return ThrottlePolicy{}; }

ThrottlePolicy DefaultAddressPolicy() {
  ThrottlePolicy policy;
  policy.free_failures = 20;
  policy.lockout_after = 100;
  return policy;
}

absl::Duration WaitBeforeAttempt(const ThrottleState& state, absl::Time now) {
  if (!state.blocked_until || *state.blocked_until <= now) return absl::ZeroDuration();
  return *state.blocked_until - now;
}

ThrottleState AfterFailure(const ThrottleState& state, const ThrottlePolicy& policy, absl::Time now,
                           bool* locked_now) {
  ThrottleState next = state;
  *locked_now = false;
  const bool lockout_over = state.locked && (!state.blocked_until || *state.blocked_until <= now);
  const bool stale = state.last_failure_at && now - *state.last_failure_at > policy.window;
  if (lockout_over || stale) {
    next.failures = 0;
    next.locked = false;
    next.blocked_until.reset();
  }
  next.failures += 1;
  next.last_failure_at = now;
  if (next.failures >= policy.lockout_after) {
    next.locked = true;
    next.blocked_until = now + policy.lockout;
    *locked_now = !state.locked || lockout_over;
  } else if (next.failures > policy.free_failures) {
    absl::Duration delay = policy.base_delay;
    for (int i = policy.free_failures + 1; i < next.failures && delay < policy.max_delay; ++i)
      delay *= 2;
    next.blocked_until = now + std::min(delay, policy.max_delay);
  }
  return next;
}

}  // namespace forecast::identity
