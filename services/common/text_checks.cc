#include "services/common/text_checks.h"

#include <cctype>

#include "absl/strings/str_cat.h"

namespace forecast {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// DDMMYY is a real day of some year (29 February is allowed: the century is unknown).
bool PlausibleDate(absl::string_view six) {
  const int day = (six[0] - '0') * 10 + (six[1] - '0');
  const int month = (six[2] - '0') * 10 + (six[3] - '0');
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month >= 1 && month <= 12 && day >= 1 && day <= kDays[month - 1];
}

}  // namespace

bool ContainsCprNumber(absl::string_view text) {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    if (!IsDigit(text[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < n && IsDigit(text[end])) ++end;
    const size_t run = end - i;
    if (run == 10 && PlausibleDate(text.substr(i, 6))) return true;
    // "DDMMYY-XXXX" or "DDMMYY XXXX": a run of six, one separator, a run of four.
    if (run == 6 && end + 5 <= n && (text[end] == '-' || text[end] == ' ')) {
      size_t tail = end + 1;
      size_t tail_end = tail;
      while (tail_end < n && IsDigit(text[tail_end])) ++tail_end;
      if (tail_end - tail == 4 && PlausibleDate(text.substr(i, 6))) return true;
    }
    i = end;
  }
  return false;
}

size_t Utf8Length(absl::string_view text) {
  size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

absl::Status CheckText(absl::string_view text, absl::string_view field, size_t min_chars,
                       size_t max_chars) {
  const size_t length = Utf8Length(text);
  if (length < min_chars) {
    return absl::InvalidArgumentError(
        min_chars == 1 ? absl::StrCat(field, ": is required")
                       : absl::StrCat(field, ": must be at least ", min_chars, " characters"));
  }
  if (length > max_chars) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": is ", length, " characters long, at most ", max_chars, " are allowed"));
  }
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t' && c != '\r') || u == 0x7F) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": contains a control character"));
    }
  }
  if (ContainsCprNumber(text)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field,
                     ": looks like it contains a CPR number; record case references only, never "
                     "personal ID numbers"));
  }
  return absl::OkStatus();
}

absl::Status CheckCaseRef(absl::string_view ref, absl::string_view field) {
  if (ref.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  bool well_formed = ref.size() <= 40 && std::isalnum(static_cast<unsigned char>(ref[0]));
  for (char c : ref) {
    if (!well_formed) break;
    well_formed =
        std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '.' || c == '-';
  }
  if (!well_formed) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", ref.substr(0, 40),
        "\" is not a case reference (1 to 40 of letters, digits, / _ . -, starting with a letter "
        "or digit)"));
  }
  if (ContainsCprNumber(ref)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": looks like a CPR number; use the case system's case reference instead"));
  }
  return absl::OkStatus();
}

absl::Status CheckCode(absl::string_view code, absl::string_view field) {
  if (code.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  bool ok = code.size() <= 32;
  for (char c : code) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", code.substr(0, 40),
                     "\" is not a valid code (1 to 32 of letters, digits, _ . -)"));
  }
  return absl::OkStatus();
}

absl::Status CheckToken(absl::string_view token, absl::string_view field, size_t max_chars) {
  bool ok = token.size() <= max_chars;
  for (char c : token) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' ||
                c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": is not a token (at most ", max_chars,
                                                   " of letters, digits, _ . : -)"));
  }
  return absl::OkStatus();
}

}  // namespace forecast
