// The input limits both services enforce, in one place so that a note or a key accepted by one
// service is accepted by the other, and the web app's form limits can follow.
#ifndef SERVICES_COMMON_LIMITS_H_
#define SERVICES_COMMON_LIMITS_H_

namespace forecast {

// A free-text note: on an expectation, an action, a follow-up, or one section of a dialogue's
// notes. Long enough for a meeting's summary, short enough to show whole.
inline constexpr int kMaxNoteChars = 4000;
// An action's description.
inline constexpr int kMaxDescriptionChars = 500;
// A label or a name: catalogue entries, fields, units.
inline constexpr int kMaxLabelChars = 100;
// An idempotency key chosen by a client (a UUID is 36).
inline constexpr int kMaxIdempotencyKeyChars = 128;
// How far ahead an expected month may lie.
inline constexpr int kMaxMonthsAhead = 60;
// Pages of lists: the size when a request names none, and the largest a request may ask for.
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

}  // namespace forecast

#endif  // SERVICES_COMMON_LIMITS_H_
