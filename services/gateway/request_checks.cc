#include "services/gateway/request_checks.h"

#include <algorithm>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace forecast::gateway {

absl::Status CheckCode(absl::string_view field, absl::string_view value, size_t max_length) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (value.size() > max_length) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", max_length, " characters"));
  }
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7E) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": only letters A-Z, digits and punctuation without spaces are allowed"));
    }
  }
  return absl::OkStatus();
}

bool IsHeaderSafe(absl::string_view value, size_t max_length) {
  if (value.size() > max_length) return false;
  return std::all_of(value.begin(), value.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c >= 0x20 && c <= 0x7E) || c == '\t';
  });
}

bool IsSessionToken(absl::string_view value) {
  if (value.size() < 16 || value.size() > 256) return false;
  return std::all_of(value.begin(), value.end(), [](char ch) {
    return absl::ascii_isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' ||
           ch == '.' || ch == '~' || ch == '+' || ch == '/' || ch == '=';
  });
}

bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t code;
    if ((c & 0xE0) == 0xC0) {
      length = 2;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + length > n) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    if ((length == 2 && code < 0x80) || (length == 3 && code < 0x800) ||
        (length == 4 && code < 0x10000) || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

std::string CookieValue(absl::string_view cookie_header, absl::string_view name) {
  for (absl::string_view part : absl::StrSplit(cookie_header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, name) && absl::ConsumePrefix(&part, "=")) {
      return std::string(part);
    }
  }
  return "";
}

absl::StatusOr<std::string> UrlDecode(absl::string_view field, absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '+') {
      out += ' ';
    } else if (ch == '%') {
      if (i + 2 >= text.size() || !absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 1])) ||
          !absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 2]))) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": broken %-escape"));
      }
      auto hex = [](char h) {
        return absl::ascii_isdigit(static_cast<unsigned char>(h))
                   ? h - '0'
                   : absl::ascii_tolower(static_cast<unsigned char>(h)) - 'a' + 10;
      };
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += ch;
    }
  }
  if (!IsValidUtf8(out)) return absl::InvalidArgumentError(absl::StrCat(field, ": not UTF-8"));
  return out;
}

std::optional<std::string> QueryParameter(absl::string_view query, absl::string_view name) {
  for (absl::string_view part : absl::StrSplit(query, '&')) {
    if (absl::ConsumePrefix(&part, name) && absl::ConsumePrefix(&part, "=")) {
      return std::string(part);
    }
  }
  return std::nullopt;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 generator(std::random_device{}());
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(32);
  for (int word = 0; word < 2; ++word) {
    uint64_t bits = generator();
    for (int i = 0; i < 16; ++i, bits >>= 4) id += kHex[bits & 15];
  }
  return id;
}

bool OriginAllowed(absl::string_view origin, absl::string_view host, bool tls,
                   const std::vector<std::string>& allowed) {
  if (origin.empty()) return false;
  if (!allowed.empty()) {
    return std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
  }
  if (host.empty()) return false;
  return origin == absl::StrCat(tls ? "https://" : "http://", host);
}

bool IsJsonContentType(absl::string_view content_type) {
  absl::string_view type = content_type.substr(0, content_type.find(';'));
  type = absl::StripAsciiWhitespace(type);
  return absl::EqualsIgnoreCase(type, "application/json");
}

}  // namespace forecast::gateway
