#include "clients/cli/csv.h"

#include "absl/strings/str_cat.h"

namespace forecast::cli {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool NeedsQuotes(std::string_view field) {
  if (field.empty()) return false;
  if (field.front() == ' ' || field.back() == ' ') return true;
  return field.find_first_of(",\"\r\n") != std::string_view::npos;
}

}  // namespace

std::string::size_type FindInvalidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned int min;  // smallest code point allowed for this length (refuses overlong forms)
    unsigned int cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, min = 0x10000, cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string::npos;
}

CsvReader::CsvReader(std::string_view text) : text_(text) {
  if (text_.substr(0, kBom.size()) == kBom) pos_ = kBom.size();
}

bool CsvReader::Next(CsvRecord* record) {
  const size_t n = text_.size();
  // Blank lines separate nothing; skip them.
  while (pos_ < n) {
    if (text_[pos_] == '\n') {
      ++pos_, ++line_;
    } else if (text_[pos_] == '\r' && pos_ + 1 < n && text_[pos_ + 1] == '\n') {
      pos_ += 2, ++line_;
    } else {
      break;
    }
  }
  if (pos_ >= n) return false;

  record->line = line_;
  record->fields.clear();
  record->problem.clear();
  const size_t start = pos_;
  auto note = [record](std::string message) {
    if (record->problem.empty()) record->problem = std::move(message);
  };

  bool end_of_record = false;
  while (!end_of_record) {
    std::string field;
    if (pos_ < n && text_[pos_] == '"') {
      ++pos_;
      bool closed = false;
      while (pos_ < n) {
        const char c = text_[pos_];
        if (c == '"') {
          if (pos_ + 1 < n && text_[pos_ + 1] == '"') {
            field.push_back('"');
            pos_ += 2;
            continue;
          }
          ++pos_;
          closed = true;
          break;
        }
        if (c == '\n') ++line_;
        field.push_back(c);
        ++pos_;
      }
      if (!closed) note("a quoted field starting on this line is never closed");
      // Anything between the closing quote and the next separator is malformed.
      if (pos_ < n && text_[pos_] != ',' && text_[pos_] != '\n' &&
          !(text_[pos_] == '\r' && pos_ + 1 < n && text_[pos_ + 1] == '\n') &&
          !(text_[pos_] == '\r' && pos_ + 1 == n)) {
        note("text after a closing quote (a quote inside a field must be doubled)");
        while (pos_ < n && text_[pos_] != ',' && text_[pos_] != '\n')
          field.push_back(text_[pos_++]);
        if (!field.empty() && field.back() == '\r') field.pop_back();
      }
    } else {
      while (pos_ < n && text_[pos_] != ',' && text_[pos_] != '\n') field.push_back(text_[pos_++]);
      if (!field.empty() && field.back() == '\r' && (pos_ >= n || text_[pos_] == '\n')) {
        field.pop_back();
      }
      if (field.find('"') != std::string::npos) {
        note("a quote inside an unquoted field (quote the whole field and double the quote)");
      }
    }
    record->fields.push_back(std::move(field));

    if (pos_ >= n) {
      end_of_record = true;
    } else if (text_[pos_] == ',') {
      ++pos_;
    } else if (text_[pos_] == '\r' && pos_ + 1 < n && text_[pos_ + 1] == '\n') {
      pos_ += 2, ++line_, end_of_record = true;
    } else if (text_[pos_] == '\n') {
      ++pos_, ++line_, end_of_record = true;
    } else {  // a lone CR at the very end
      ++pos_, end_of_record = true;
    }
  }

  const std::string::size_type bad = FindInvalidUtf8(text_.substr(start, pos_ - start));
  if (bad != std::string::npos) {
    record->problem =
        absl::StrCat("not valid UTF-8 (byte ", bad + 1, " of the record); save the file as UTF-8");
  }
  return true;
}

std::string CsvEscape(std::string_view field) {
  if (!NeedsQuotes(field)) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

void WriteCsvRow(std::ostream& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out << ',';
    out << CsvEscape(fields[i]);
  }
  out << '\n';
}

}  // namespace forecast::cli
