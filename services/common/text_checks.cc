#include "services/common/text_checks.h"

#include <cctype>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace forecast {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// DDMMYY is a real day of some year (29 February is allowed: the century is unknown).
bool PlausibleDate(char d1, char d2, char m1, char m2) {
  const int day = (d1 - '0') * 10 + (d2 - '0');
  const int month = (m1 - '0') * 10 + (m2 - '0');
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month >= 1 && month <= 12 && day >= 1 && day <= kDays[month - 1];
}

// Decodes the UTF-8 code point at `i` and moves `i` past it. A malformed byte decodes to U+FFFD
// on its own (and so counts as "other" text below).
char32_t NextCodePoint(absl::string_view text, size_t& i) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  int extra = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  if ((b0 & 0xE0) == 0xC0) {
    extra = 1;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3;
    cp = b0 & 0x07;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + extra >= text.size()) {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k <= extra; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += extra + 1;
  return cp;
}

// The ASCII digit a code point folds to under NFKC ('\0' when none): full-width digits,
// mathematical digits, superscript and subscript digits, circled digits 0-9 and segmented digits.
char FoldDigit(char32_t cp) {
  if (cp >= '0' && cp <= '9') return static_cast<char>(cp);
  if (cp >= 0xFF10 && cp <= 0xFF19) return static_cast<char>('0' + (cp - 0xFF10));
  if (cp >= 0x1D7CE && cp <= 0x1D7FF) return static_cast<char>('0' + (cp - 0x1D7CE) % 10);
  if (cp >= 0x1FBF0 && cp <= 0x1FBF9) return static_cast<char>('0' + (cp - 0x1FBF0));
  if (cp >= 0x2080 && cp <= 0x2089) return static_cast<char>('0' + (cp - 0x2080));
  if (cp == 0x2070) return '0';
  if (cp >= 0x2074 && cp <= 0x2079) return static_cast<char>('0' + (cp - 0x2070));
  if (cp == 0x00B9) return '1';
  if (cp == 0x00B2) return '2';
  if (cp == 0x00B3) return '3';
  if (cp >= 0x2460 && cp <= 0x2468) return static_cast<char>('1' + (cp - 0x2460));  // circled 1-9
  if (cp == 0x24EA) return '0';                                                     // circled 0
  return '\0';
}

// Characters a reader skips without noticing: zero-width spaces and joiners, word joiner,
// invisible operators, soft hyphen, byte-order mark, Mongolian vowel separator.
bool IsInvisible(char32_t cp) {
  return cp == 0x00AD || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF;
}

// Characters that may sit between the groups of a CPR number: every dash, dot, slash and space
// (NFKC forms included: full-width, small and compatibility variants).
bool IsSeparator(char32_t cp) {
  switch (cp) {
    case ' ':
    case '\t':
    case '-':
    case '.':
    case '/':
    case '\\':
    case '_':
    case 0x00A0:  // no-break space
    case 0x00B7:  // middle dot
    case 0x02D7:  // modifier letter minus sign
    case 0x1680:  // ogham space mark
    case 0x2024:
    case 0x2027:  // one dot leader, hyphenation point
    case 0x202F:
    case 0x205F:
    case 0x3000:  // narrow no-break, medium mathematical, ideographic space
    case 0x2043:  // hyphen bullet
    case 0x2044:  // fraction slash
    case 0x2212:  // minus sign
    case 0x2215:  // division slash
    case 0x2796:  // heavy minus sign
    case 0x29F8:  // big solidus
    case 0x3002:  // ideographic full stop
    case 0xFE52:
    case 0xFE58:
    case 0xFE63:  // small full stop, small em dash, small hyphen-minus
    case 0xFF0D:
    case 0xFF0E:
    case 0xFF0F:  // full-width hyphen-minus, full stop, solidus
    case 0xFF3C:
    case 0xFF3F:  // full-width reverse solidus, low line
      return true;
    default:
      return (cp >= 0x2000 && cp <= 0x200A) ||  // en quad .. hair space
             (cp >= 0x2010 &&
              cp <= 0x2015);  // hyphen, non-breaking hyphen, figure, en, em dash, bar
  }
}

// At most this many separator characters between two groups ("010190 - 1234" has three).
constexpr int kMaxSeparatorRun = 3;

// Skips up to kMaxSeparatorRun separators ('s') at `i`; returns false when there are more.
bool SkipSeparators(const std::string& folded, size_t& i) {
  int run = 0;
  while (i < folded.size() && folded[i] == 's') {
    ++i;
    if (++run > kMaxSeparatorRun) return false;
  }
  return true;
}

bool TwoDigits(const std::string& folded, size_t& i, char* out) {
  if (i + 2 > folded.size() || !IsDigit(folded[i]) || !IsDigit(folded[i + 1])) return false;
  out[0] = folded[i];
  out[1] = folded[i + 1];
  i += 2;
  return true;
}

// A CPR number starting at `start` (a digit not preceded by a digit): DD [sep] MM [sep] YY [sep]
// XXXX, the groups' own digits adjacent, DDMMYY a plausible date, no digit right after XXXX.
bool CprAt(const std::string& folded, size_t start) {
  size_t i = start;
  char dd[2], mm[2], yy[2];
  if (!TwoDigits(folded, i, dd) || !SkipSeparators(folded, i)) return false;
  if (!TwoDigits(folded, i, mm) || !SkipSeparators(folded, i)) return false;
  if (!TwoDigits(folded, i, yy) || !SkipSeparators(folded, i)) return false;
  for (int k = 0; k < 4; ++k, ++i) {
    if (i >= folded.size() || !IsDigit(folded[i])) return false;
  }
  if (i < folded.size() && IsDigit(folded[i])) return false;
  return PlausibleDate(dd[0], dd[1], mm[0], mm[1]);
}

}  // namespace

std::string FoldForCprCheck(absl::string_view text) {
  std::string folded;
  folded.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char32_t cp = NextCodePoint(text, i);
    if (IsInvisible(cp)) continue;
    if (const char digit = FoldDigit(cp); digit != '\0') {
      folded.push_back(digit);
    } else {
      folded.push_back(IsSeparator(cp) ? 's' : 'x');
    }
  }
  return folded;
}

bool ContainsCprNumber(absl::string_view text) {
  const std::string folded = FoldForCprCheck(text);
  for (size_t i = 0; i < folded.size(); ++i) {
    if (!IsDigit(folded[i]) || (i > 0 && IsDigit(folded[i - 1]))) continue;
    if (CprAt(folded, i)) return true;
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
    return min_chars == 1 ? FieldError(field, "REQUIRED", "is required")
                          : FieldError(field, "TOO_SHORT",
                                       absl::StrCat("must be at least ", min_chars, " characters"),
                                       {{"min", absl::StrCat(min_chars)}});
  }
  if (length > max_chars) {
    return FieldError(
        field, "TOO_LONG",
        absl::StrCat("is ", length, " characters long, at most ", max_chars, " are allowed"),
        {{"length", absl::StrCat(length)}, {"max", absl::StrCat(max_chars)}});
  }
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t' && c != '\r') || u == 0x7F) {
      return FieldError(field, "CONTROL_CHARACTER", "contains a control character");
    }
  }
  if (ContainsCprNumber(text)) {
    return FieldError(field, "CPR_NUMBER",
                      "looks like it contains a CPR number; record case references only, never "
                      "personal ID numbers");
  }
  return absl::OkStatus();
}

absl::Status CheckCaseRef(absl::string_view ref, absl::string_view field) {
  if (ref.empty()) return FieldError(field, "REQUIRED", "is required");
  bool well_formed = ref.size() <= 40 && std::isalnum(static_cast<unsigned char>(ref[0]));
  for (char c : ref) {
    if (!well_formed) break;
    well_formed =
        std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '.' || c == '-';
  }
  if (!well_formed) {
    return FieldError(
        field, "NOT_A_CASE_REF",
        absl::StrCat("\"", ref.substr(0, 40),
                     "\" is not a case reference (1 to 40 of letters, digits, / _ . -, "
                     "starting with a letter or digit)"),
        {{"value", std::string(ref.substr(0, 40))}});
  }
  if (ContainsCprNumber(ref)) {
    return FieldError(field, "CPR_NUMBER",
                      "looks like a CPR number; use the case system's case reference instead");
  }
  return absl::OkStatus();
}

absl::Status CheckCode(absl::string_view code, absl::string_view field) {
  if (code.empty()) return FieldError(field, "REQUIRED", "is required");
  bool ok = code.size() <= 32;
  for (char c : code) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
  }
  if (!ok) {
    return FieldError(field, "NOT_A_CODE",
                      absl::StrCat("\"", code.substr(0, 40),
                                   "\" is not a valid code (1 to 32 of letters, digits, _ . -)"),
                      {{"value", std::string(code.substr(0, 40))}});
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
    return FieldError(
        field, "NOT_A_TOKEN",
        absl::StrCat("is not a token (at most ", max_chars, " of letters, digits, _ . : -)"),
        {{"max", absl::StrCat(max_chars)}});
  }
  return absl::OkStatus();
}

}  // namespace forecast
