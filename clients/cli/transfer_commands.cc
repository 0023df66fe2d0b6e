// forecastctl's bulk transfers: importing the case system's CSV files and exporting them again.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/command_support.h"
#include "clients/cli/commands.h"
#include "clients/cli/csv.h"
#include "clients/cli/session.h"
#include "clients/cli/case_export.h"
#include "clients/cli/import_runner.h"
#include "clients/cli/progress_bar.h"

namespace forecast::cli {

int Import(const CommandEnv& env, const std::string& dir, const ImportOptions& options,
           bool progress, const std::string& report_csv) {
  absl::StatusOr<ImportFiles> plan = ImportFiles::FromDirectory(dir);
  if (!plan.ok()) return Fail(env, plan.status());
  for (const std::string& file : plan->absent_files()) {
    *env.err << "note: " << file << " not present; no rows of that kind are imported\n";
  }
  auto stub = CaseStub(env);
  ProgressBar bar(env.err, progress);
  ImportRunner runner(stub.get(), env.identity, [&](int64_t sent, int64_t total) {
    bar.Update(sent, total);
    if (progress && sent == total) {
      bar.Finish();
      *env.err << "every row sent; the case service is checking"
               << (options.dry_run ? "" : " and committing") << " them..." << std::endl;
    }
  });
  absl::StatusOr<ImportResult> result = runner.Run(*plan, options);
  bar.Finish();
  if (!result.ok()) {
    for (const ImportIssue& issue : plan->issues()) {
      *env.out << issue.file << ":" << issue.line << ": "
               << (issue.field.empty() ? "" : issue.field + ": ") << issue.message << "\n";
    }
    return Fail(env, result.status());
  }
  PrintImportReport(*result, options, *env.out);
  if (!report_csv.empty()) {
    std::ofstream out(report_csv, std::ios::binary | std::ios::trunc);
    WriteImportIssuesCsv(result->issues, out);
    out.flush();
    if (!out)
      return Fail(env, absl::UnavailableError(absl::StrCat(report_csv, ": cannot be written")));
  }
  const bool done = result->ok() && (options.dry_run || result->report.committed());
  return done ? 0 : 1;
}

int ExportCases(const CommandEnv& env, const std::string& dir) {
  auto stub = CaseStub(env);
  v1::Catalogue catalogue;
  {
    grpc::ClientContext context;
    PrepareContext(&context, env.identity, kCallTimeout);
    grpc::Status status = stub->GetCatalogue(&context, v1::GetCatalogueRequest(), &catalogue);
    if (!status.ok()) return Fail(env, status);
  }
  std::vector<v1::CaseField> fields(catalogue.fields().begin(), catalogue.fields().end());
  std::stable_sort(fields.begin(), fields.end(),
                   [](const v1::CaseField& a, const v1::CaseField& b) {
                     return a.sort_order() < b.sort_order();
                   });
  std::vector<std::string> codes;
  for (const v1::CaseField& field : fields) codes.push_back(field.code());
  CaseExportWriter writer(codes);

  std::vector<std::string> refs;
  v1::ListCasesRequest request;
  request.set_page_size(1000);
  do {
    grpc::ClientContext context;
    PrepareContext(&context, env.identity, kCallTimeout);
    v1::ListCasesResponse page;
    grpc::Status status = stub->ListCases(&context, request, &page);
    if (!status.ok()) return Fail(env, status);
    for (const v1::Case& c : page.cases()) refs.push_back(c.case_ref());
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());

  // One history per case, fetched in parallel over one channel.
  std::vector<absl::StatusOr<v1::CaseHistory>> histories(refs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < refs.size(); i = next++) {
      histories[i] = ReadWholeHistory(env, *stub, refs[i]);
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < kParallelWrites; ++w) workers.emplace_back(work);
  for (std::thread& worker : workers) worker.join();
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!histories[i].ok()) return Fail(env, histories[i].status());
    writer.Add(*histories[i]);
  }
  const size_t n = refs.size();
  absl::Status written = writer.WriteDirectory(dir);
  if (!written.ok()) return Fail(env, written);
  *env.out << "exported " << n << " case(s) with their history to " << dir << "\n";
  if (writer.reopened_cases() > 0) {
    *env.err << "note: " << writer.reopened_cases()
             << " case(s) were reopened at some time; the CSV format has no reopenings, so only "
                "their last closure (if closed now) is written\n";
  }
  return 0;
}

}  // namespace forecast::cli
