// CSV as case systems export it (RFC 4180): a header row, comma-separated fields, fields in
// double quotes when they hold commas, quotes or line breaks, UTF-8 text (an optional byte-order
// mark is dropped), lines ending in LF or CRLF.
#ifndef CLIENTS_CLI_CSV_H_
#define CLIENTS_CLI_CSV_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace forecast::cli {

// One record of a CSV text.
struct CsvRecord {
  int64_t line = 0;                 // 1-based line on which the record starts
  std::vector<std::string> fields;  // unquoted values
  std::string problem;              // non-empty when the record is malformed (fields unreliable)
};

// Reads the records of one CSV text in order. The text must outlive the reader.
// Not thread-safe (one reader per thread).
class CsvReader {
 public:
  // Reads from `text`; a leading UTF-8 byte-order mark is skipped.
  explicit CsvReader(std::string_view text);

  // Reads the next record into `record` and returns true, or returns false at the end of the
  // text. Blank lines are skipped. A malformed record (invalid UTF-8, a quote inside an unquoted
  // field, text after a closing quote, a quoted field never closed) comes back with `problem`
  // set; reading continues after it.
  bool Next(CsvRecord* record);

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

// Returns std::string::npos when `text` is valid UTF-8 (no overlong forms, no surrogates),
// else the byte offset of the first invalid sequence. Thread-safe (pure).
std::string::size_type FindInvalidUtf8(std::string_view text);

// Quotes `field` when it holds a comma, quote, CR or LF, or begins or ends with a space.
// Thread-safe (pure).
std::string CsvEscape(std::string_view field);

// Writes one record followed by "\n". Thread-safe as far as `out` is.
void WriteCsvRow(std::ostream& out, const std::vector<std::string>& fields);

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_CSV_H_
