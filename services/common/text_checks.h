// Checks applied to every text a caller sends: bounded length, well-formed references, and no
// CPR numbers (the Danish personal ID) anywhere, since we store case references only.
#ifndef SERVICES_COMMON_TEXT_CHECKS_H_
#define SERVICES_COMMON_TEXT_CHECKS_H_

#include <cstddef>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace forecast {

// True when `text` contains something a reader takes for a CPR number: DD MM YY XXXX whose
// DDMMYY is a plausible date, with any of these between the groups (up to three characters):
// a dash of any kind (hyphen-minus, hyphen, non-breaking hyphen, en/em dash, minus sign, ...),
// a dot, a slash, an underscore or a space of any kind (no-break space included). Before
// matching, the text is folded as NFKC folds digits (full-width, mathematical, super- and
// subscript, circled) and zero-width characters are dropped. The ten digits must stand alone
// (no digit right before or after). So "010190-1234", "01.01.90-1234", "010190 - 1234" and
// "０１０１９０１２３４" are found; "møde 01-01-2027" and "ring 12 34 56 78" are not.
// Thread-safe (pure).
bool ContainsCprNumber(absl::string_view text);

// The folded form ContainsCprNumber matches on: one character per visible code point, the
// digit for anything NFKC folds to an ASCII digit, 's' for a separator, 'x' for anything else.
// Exposed for tests. Thread-safe (pure).
std::string FoldForCprCheck(absl::string_view text);

// Number of Unicode code points in UTF-8 `text` (bytes that start a code point). Thread-safe.
size_t Utf8Length(absl::string_view text);

// Free text: between `min_chars` and `max_chars` code points, no control characters other than
// newline and tab, and no CPR number. INVALID_ARGUMENT naming `field`. Thread-safe (pure).
absl::Status CheckText(absl::string_view text, absl::string_view field, size_t min_chars,
                       size_t max_chars);

// A case system's reference: ^[A-Za-z0-9][A-Za-z0-9/_.-]{0,39}$ and not CPR-like.
// INVALID_ARGUMENT naming `field`. Thread-safe (pure).
absl::Status CheckCaseRef(absl::string_view ref, absl::string_view field);

// A catalogue or organisation code matching the schema's pattern: 1..32 of [A-Za-z0-9_.-].
// INVALID_ARGUMENT naming `field`. Thread-safe (pure).
absl::Status CheckCode(absl::string_view code, absl::string_view field);

// An opaque client token such as an idempotency key (often a UUID): empty, or 1..`max_chars` of
// [A-Za-z0-9_.:-]. Not free text, so no CPR check: its digit runs mean nothing, and the narrow
// alphabet leaves no room for names or prose. INVALID_ARGUMENT naming `field`. Thread-safe (pure).
absl::Status CheckToken(absl::string_view token, absl::string_view field, size_t max_chars);

}  // namespace forecast

#endif  // SERVICES_COMMON_TEXT_CHECKS_H_
