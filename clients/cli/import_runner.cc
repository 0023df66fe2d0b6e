#include "clients/cli/import_runner.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/csv.h"

namespace forecast::cli {
namespace {

// Large imports take a while to validate and commit on the server.
constexpr absl::Duration kImportTimeout = absl::Minutes(30);

int FileRank(const std::string& file) {
  static const std::map<std::string, int> rank = {
      {kCasesFile, 0}, {kExpectationsFile, 1}, {kClosuresFile, 2}, {kReassignmentsFile, 3}};
  auto it = rank.find(file);
  return it == rank.end() ? 4 : it->second;
}

}  // namespace

ImportRunner::ImportRunner(v1::CaseService::StubInterface* stub, const Identity& identity,
                           ImportProgress progress)
    : stub_(stub), identity_(identity), progress_(std::move(progress)) {}

absl::StatusOr<ImportResult> ImportRunner::Run(const ImportFiles& plan,
                                               const ImportOptions& options) {
  ImportResult result;
  result.issues = plan.issues();
  ImportOptions sent_options = options;
  if (!plan.issues().empty() && !options.dry_run) {
    sent_options.dry_run = true;
    result.forced_dry_run = true;
  }

  grpc::ClientContext context;
  PrepareContext(&context, identity_, kImportTimeout);
  std::unique_ptr<grpc::ClientWriterInterface<v1::ImportChunk>> writer =
      stub_->ImportHistory(&context, &result.report);
  ImportChunker chunker(plan, sent_options);
  v1::ImportChunk chunk;
  const int64_t total = plan.row_count();
  while (chunker.Next(&chunk)) {
    // A failed write means the server ended the call; Finish() tells why.
    if (!writer->Write(chunk)) break;
    if (progress_) progress_(chunker.rows_sent(), total);
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return FromGrpc(status);

  for (const v1::ImportRowError& error : result.report.errors()) {
    result.issues.push_back({error.file(), error.line(), error.field(), error.message()});
  }
  std::stable_sort(result.issues.begin(), result.issues.end(),
                   [](const ImportIssue& a, const ImportIssue& b) {
                     if (FileRank(a.file) != FileRank(b.file))
                       return FileRank(a.file) < FileRank(b.file);
                     return a.line < b.line;
                   });
  return result;
}

void PrintImportReport(const ImportResult& result, const ImportOptions& options,
                       std::ostream& out) {
  std::map<std::string, int> bad_rows;  // distinct bad lines per file
  std::string last_key;
  for (const ImportIssue& issue : result.issues) {
    out << issue.file << ":" << issue.line << ": ";
    // The case service's messages already begin with the field's name.
    if (!issue.field.empty() && !absl::StartsWith(issue.message, absl::StrCat(issue.field, ":"))) {
      out << issue.field << ": ";
    }
    out << issue.message << "\n";
    const std::string key = absl::StrCat(issue.file, ":", issue.line);
    if (key != last_key) ++bad_rows[issue.file];
    last_key = key;
  }
  const v1::ImportReport& r = result.report;
  const std::string counts =
      absl::StrCat(r.cases(), " case(s), ", r.expectations(), " expectation(s), ", r.closures(),
                   " closure(s), ", r.reassignments(), " reassignment(s)");
  if (!result.ok()) {
    int total = 0;
    std::string per_file;
    for (const auto& [file, n] : bad_rows) {
      total += n;
      absl::StrAppend(&per_file, per_file.empty() ? "" : ", ", file, " ", n);
    }
    out << "import failed: " << total << " bad row(s) (" << per_file << "), "
        << result.issues.size() << " problem(s); nothing was committed\n";
    if (result.forced_dry_run) {
      out << "(the files have rows that cannot be read, so the rest was only checked, as a dry run)\n";
    }
    return;
  }
  if (options.dry_run || !r.committed()) {
    out << "dry run: every row is good (" << counts << "); nothing was committed\n";
    return;
  }
  out << "imported " << counts;
  if (r.created_staff() > 0) out << "; created " << r.created_staff() << " staff member(s)";
  out << "\n";
}

void WriteImportIssuesCsv(const std::vector<ImportIssue>& issues, std::ostream& out) {
  WriteCsvRow(out, {"file", "line", "field", "message"});
  for (const ImportIssue& issue : issues) {
    WriteCsvRow(out, {issue.file, absl::StrCat(issue.line), issue.field, issue.message});
  }
}

}  // namespace forecast::cli
