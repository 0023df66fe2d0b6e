// forecastctl audit reads: the case-read access log (issue 8) for data-protection requests.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "clients/cli/command_support.h"
#include "clients/cli/commands.h"
#include "clients/cli/csv.h"
#include "forecast/v1/identity_service.grpc.pb.h"

namespace forecast::cli {

int ListCaseReads(const CommandEnv& env, const CaseReadFilter& filter, Format format,
                  const std::string& csv_file) {
  if (filter.case_ref.empty() && filter.staff.empty()) {
    *env.err << "forecastctl: audit reads: name --case or --staff (or both)\n";
    return 2;
  }
  v1::ListCaseReadsRequest request;
  request.set_case_ref(filter.case_ref);
  request.set_staff(filter.staff);
  request.set_since(filter.since);
  request.set_until(filter.until);
  request.set_page_size(1000);
  auto stub = IdentityStub(env);
  v1::ListCaseReadsResponse all;
  do {
    grpc::ClientContext context;
    PrepareContext(&context, env.identity, kCallTimeout);
    v1::ListCaseReadsResponse page;
    grpc::Status s = stub->ListCaseReads(&context, request, &page);
    if (!s.ok()) return Fail(env, s);
    for (auto& read : *page.mutable_reads()) *all.add_reads() = std::move(read);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());

  std::vector<std::vector<std::string>> rows = {{"at", "staff", "case_ref", "call"}};
  for (const v1::CaseRead& read : all.reads())
    rows.push_back({read.at(), read.staff(), read.case_ref(), read.call()});
  if (!csv_file.empty()) {
    std::ofstream out(csv_file);
    for (const auto& row : rows) WriteCsvRow(out, row);
    if (!out) {
      *env.err << "forecastctl: cannot write " << csv_file << "\n";
      return 1;
    }
    *env.out << all.reads_size() << " read(s) written to " << csv_file << "\n";
    return 0;
  }
  if (format == Format::kJson) return PrintJson(env, all);
  if (format == Format::kCsv) {
    for (const auto& row : rows) WriteCsvRow(*env.out, row);
  } else {
    PrintTable(*env.out, rows);
    *env.out << all.reads_size() << " read(s)\n";
  }
  return 0;
}

}  // namespace forecast::cli
