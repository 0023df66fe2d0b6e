// Streams an ImportFiles through CaseService.ImportHistory and puts the local shape problems and
// the server's report together into the one report the user reads.
#ifndef CLIENTS_CLI_IMPORT_RUNNER_H_
#define CLIENTS_CLI_IMPORT_RUNNER_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/cli/import_files.h"
#include "clients/cli/session.h"
#include "forecast/v1/case_service.grpc.pb.h"

namespace forecast::cli {

// Called after each chunk is written: rows sent so far and rows in total.
using ImportProgress = std::function<void(int64_t sent, int64_t total)>;

// The outcome of an import as the user sees it.
struct ImportResult {
  v1::ImportReport report;          // the server's answer
  std::vector<ImportIssue> issues;  // local shape problems, then the server's, by file and line
  bool forced_dry_run = false;      // the plan had shape problems, so nothing could be committed
  bool ok() const { return issues.empty(); }
};

// Runs imports against one case service. Not thread-safe (one import at a time).
class ImportRunner {
 public:
  // `stub` and `identity` must outlive the runner; `progress` may be empty.
  ImportRunner(v1::CaseService::StubInterface* stub, const Identity& identity,
               ImportProgress progress);

  // Sends every readable row of `plan`. When the plan has shape problems the import is sent as
  // a dry run, so the report still names the server's findings but nothing is committed.
  // Errors: the RPC's status (e.g. PERMISSION_DENIED, UNAVAILABLE) when the server did not report.
  absl::StatusOr<ImportResult> Run(const ImportFiles& plan, const ImportOptions& options);

 private:
  v1::CaseService::StubInterface* stub_;
  const Identity& identity_;
  ImportProgress progress_;
};

// Writes the human-readable report: one line per bad row ("file:line: field: message"), then a
// summary saying what was (or was not) committed. Thread-safe as far as `out` is.
void PrintImportReport(const ImportResult& result, const ImportOptions& options, std::ostream& out);

// Writes the problems as CSV (file,line,field,message), for a spreadsheet. Thread-safe as far as
// `out` is.
void WriteImportIssuesCsv(const std::vector<ImportIssue>& issues, std::ostream& out);

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_IMPORT_RUNNER_H_
