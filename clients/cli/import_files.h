// An import of cases and their history from a case system's CSV export (DESIGN.md,
// "Interchange formats"), checked for shape on the client before any row is sent:
//   cases.csv          case_ref,case_type,opened_on,team,caseworker[,own field codes...]
//   expectations.csv   case_ref,recorded_on,recorded_by,expected_outcome,expected_month,risk
//   closures.csv       case_ref,closed_on,outcome
//   reassignments.csv  case_ref,on,from,to
// The values themselves (dates, codes, references) are validated by the case service, which
// sees the catalogue and the organisation; the client only makes sure every row can be read.
#ifndef CLIENTS_CLI_IMPORT_PLAN_H_
#define CLIENTS_CLI_IMPORT_PLAN_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "forecast/v1/case_service.pb.h"

namespace forecast::cli {

inline constexpr char kCasesFile[] = "cases.csv";
inline constexpr char kExpectationsFile[] = "expectations.csv";
inline constexpr char kClosuresFile[] = "closures.csv";
inline constexpr char kReassignmentsFile[] = "reassignments.csv";

// The columns `file` (one of the four names above) must have, in the documented order (files may
// order them freely). Aborts for any other name: callers only pass the constants. Thread-safe.
const std::vector<std::string>& RequiredColumns(const std::string& file);

// A problem with one row (or a whole file when line is 0), as the report names it.
struct ImportIssue {
  std::string file;
  int64_t line = 0;
  std::string field;  // column name; empty when the problem is the row's shape
  std::string message;
};

// A chunk is closed once its rows reach this size, well below gRPC's 4 MiB message limit.
inline constexpr size_t kMaxChunkBytes = 1 << 20;

struct ImportOptions {
  bool dry_run = false;
  bool create_missing_staff = false;
  bool holder_at_opening = false;  // cases.csv names the caseworker at opening (older reading)
  int64_t rows_per_chunk = 2000;
};

// The readable rows of the four files plus every shape problem found. Immutable once built;
// safe to share between threads for reading.
class ImportFiles {
 public:
  // Reads the files from `dir`. cases.csv is required; the other three may be absent (no rows
  // of that kind). Errors: NOT_FOUND when `dir` or cases.csv is missing, UNAVAILABLE when a file
  // cannot be read. Shape problems are not errors: they are collected in issues().
  static absl::StatusOr<ImportFiles> FromDirectory(const std::filesystem::path& dir);

  // Builds the plan from file texts keyed by file name (cases.csv, ...); a name not in `texts`
  // is an absent file. Never fails: problems are collected in issues().
  static ImportFiles FromTexts(const std::map<std::string, std::string>& texts);

  // Shape problems (missing or duplicate columns, wrong number of fields, malformed quoting,
  // invalid UTF-8), ordered by file and line. Rows with problems are not in the plan.
  const std::vector<ImportIssue>& issues() const { return issues_; }
  // Files that were not present.
  const std::vector<std::string>& absent_files() const { return absent_files_; }

  // The readable rows, with their line numbers.
  const std::vector<v1::ImportCaseRow>& cases() const { return cases_; }
  const std::vector<v1::ImportExpectationRow>& expectations() const { return expectations_; }
  const std::vector<v1::ImportClosureRow>& closures() const { return closures_; }
  const std::vector<v1::ImportReassignmentRow>& reassignments() const { return reassignments_; }
  // Number of readable rows in all four files.
  int64_t row_count() const;

 private:
  void AddFile(const std::string& file, const std::string& text);

  std::vector<ImportIssue> issues_;
  std::vector<std::string> absent_files_;
  std::vector<v1::ImportCaseRow> cases_;
  std::vector<v1::ImportExpectationRow> expectations_;
  std::vector<v1::ImportClosureRow> closures_;
  std::vector<v1::ImportReassignmentRow> reassignments_;
};

// Cuts a plan into the chunks ImportHistory streams: cases first, then expectations, closures
// and reassignments, at most rows_per_chunk rows and about kMaxChunkBytes each (a row that starts
// below the limit is still added); the flags ride on the first chunk. An
// empty plan still yields one (empty) chunk. The plan must outlive the chunker. Not thread-safe.
class ImportChunker {
 public:
  ImportChunker(const ImportFiles& plan, const ImportOptions& options);

  // Fills `chunk` (cleared first) with the next rows and returns true, or returns false when
  // every row has been handed out.
  bool Next(v1::ImportChunk* chunk);
  // Rows handed out so far.
  int64_t rows_sent() const { return sent_; }

 private:
  const ImportFiles& plan_;
  ImportOptions options_;
  int64_t sent_ = 0;
  bool first_ = true;
};

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_IMPORT_PLAN_H_
