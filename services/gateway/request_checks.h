// Checks and small parsers for values that arrive from the network, before any of them becomes a
// gRPC metadata value, a header, or a lookup key. All pure and thread-safe.
#ifndef SERVICES_GATEWAY_REQUEST_CHECKS_H_
#define SERVICES_GATEWAY_REQUEST_CHECKS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forecast::gateway {

// A code (job centre, staff code, team): 1..max_length printable ASCII characters without
// spaces (0x21..0x7E). INVALID_ARGUMENT "<field>: ..." otherwise (non-ASCII such as "SØREN",
// control characters such as CR/LF, empty, or too long).
absl::Status CheckCode(absl::string_view field, absl::string_view value, size_t max_length = 64);

// True when every byte is printable ASCII or a tab (what may go into an HTTP header or gRPC
// metadata value) and the value is at most max_length bytes.
bool IsHeaderSafe(absl::string_view value, size_t max_length);

// A session token as the gateway hands them out: 16..256 characters of [A-Za-z0-9_.~+/=-].
bool IsSessionToken(absl::string_view value);

// Well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool IsValidUtf8(absl::string_view text);

// The value of cookie `name` in a Cookie header, or "" when absent.
std::string CookieValue(absl::string_view cookie_header, absl::string_view name);

// Percent-decoding of a query component ('+' is a space). INVALID_ARGUMENT "<field>: ..." for a
// broken escape or a result that is not UTF-8.
absl::StatusOr<std::string> UrlDecode(absl::string_view field, absl::string_view text);

// The raw (still encoded) value of parameter `name` in a query string "a=1&b=2"; nullopt if absent.
std::optional<std::string> QueryParameter(absl::string_view query, absl::string_view name);

// A fresh request id: 16 random bytes, hex.
std::string NewRequestId();

// Whether a state-changing request's Origin header is acceptable: one of `allowed` (exact
// "scheme://host[:port]"), or, when `allowed` is empty, the gateway's own origin as the Host
// header names it ("https://" + host over TLS, else "http://" + host).
bool OriginAllowed(absl::string_view origin, absl::string_view host, bool tls,
                   const std::vector<std::string>& allowed);

// Whether a Content-Type header names JSON ("application/json", parameters allowed).
bool IsJsonContentType(absl::string_view content_type);

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_REQUEST_CHECKS_H_
