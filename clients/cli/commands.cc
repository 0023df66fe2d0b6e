#include "clients/cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "clients/cli/case_export.h"
#include "clients/cli/csv.h"
#include "clients/cli/import_runner.h"
#include "clients/cli/progress_bar.h"
#include "clients/cli/report_format.h"
#include "forecast/v1/case_service.grpc.pb.h"
#include "forecast/v1/forecast_service.grpc.pb.h"

namespace forecast::cli {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(30);
// Concurrent calls of a bulk command (distinct cases, so they do not contend).
constexpr int kParallelWrites = 8;

// Prints a failed call and returns exit code 1.
int Fail(const CommandEnv& env, const absl::Status& status) {
  *env.err << "forecastctl: " << absl::StatusCodeToString(status.code()) << ": "
           << status.message() << "\n";
  if (status.code() == absl::StatusCode::kAborted) {
    *env.err << "(the case changed since it was read; look at it again and repeat the change)\n";
  } else if (status.code() == absl::StatusCode::kUnavailable) {
    *env.err << "(is the service running at the address given at login?)\n";
  }
  return 1;
}

int Fail(const CommandEnv& env, const grpc::Status& status) { return Fail(env, FromGrpc(status)); }

std::unique_ptr<v1::CaseService::Stub> CaseStub(const CommandEnv& env) {
  return v1::CaseService::NewStub(OpenChannel(env.identity.server));
}

std::unique_ptr<v1::ForecastService::Stub> ForecastStub(const CommandEnv& env) {
  return v1::ForecastService::NewStub(OpenChannel(
      env.identity.forecast.empty() ? env.identity.server : env.identity.forecast));
}

// One key per change the user asked for, so that a retried request applies once. Letters only:
// the services refuse any text with a run of digits that could be a CPR number.
std::string NewIdempotencyKey() {
  thread_local std::mt19937_64 random(std::random_device{}());
  std::string key = "cli-";
  for (int i = 0; i < 26; ++i) key.push_back(static_cast<char>('a' + random() % 26));
  return key;
}

// Reads the case's current version; writes carry it as base_version.
absl::StatusOr<v1::Case> ReadCase(const CommandEnv& env, v1::CaseService::Stub& stub,
                                  const std::string& case_ref) {
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::GetCaseRequest request;
  request.set_case_ref(case_ref);
  v1::Case found;
  grpc::Status status = stub.GetCase(&context, request, &found);
  if (!status.ok()) return FromGrpc(status);
  return found;
}

std::string StatusName(v1::CaseStatus status) {
  return status == v1::OPEN ? "open" : status == v1::CLOSED ? "closed" : "";
}

std::string ExpectationText(const v1::Case& c) {
  if (!c.has_expectation()) return "(no expectation)";
  const v1::Expectation& e = c.expectation();
  return absl::StrCat(e.expected_outcome(), " in ", e.expected_month(), ", risk ", e.risk(),
                      e.agreed_in_dialogue() ? ", agreed in dialogue" : "");
}

void PrintCaseLine(const CommandEnv& env, const v1::Case& c) {
  *env.out << c.case_ref() << " (version " << c.version() << "): " << c.case_type() << ", "
           << StatusName(c.status()) << ", caseworker " << c.caseworker() << " (team " << c.team()
           << "); expectation: " << ExpectationText(c) << "\n";
}

// Prints a table with left-aligned columns separated by two spaces.
void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return;
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      absl::StrAppend(&line, row[c]);
      if (c + 1 < row.size()) absl::StrAppend(&line, std::string(width[c] - row[c].size() + 2, ' '));
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

int PrintJson(const CommandEnv& env, const google::protobuf::Message& message) {
  absl::StatusOr<std::string> json = ToJson(message);
  if (!json.ok()) return Fail(env, json.status());
  *env.out << *json << "\n";
  return 0;
}

// Runs one write on a case: reads the version, lets `call` send the request with it.
template <typename Call>
int WriteCase(const CommandEnv& env, const std::string& case_ref, Call call) {
  auto stub = CaseStub(env);
  absl::StatusOr<v1::Case> current = ReadCase(env, *stub, case_ref);
  if (!current.ok()) return Fail(env, current.status());
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::Case updated;
  grpc::Status status = call(*stub, context, current->version(), NewIdempotencyKey(), &updated);
  if (!status.ok()) return Fail(env, status);
  PrintCaseLine(env, updated);
  return 0;
}

}  // namespace

int Login(const CommandEnv& env) {
  auto stub = CaseStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::StaffMember me;
  grpc::Status status = stub->WhoAmI(&context, v1::WhoAmIRequest(), &me);
  if (!status.ok()) return Fail(env, status);
  absl::Status saved = SaveIdentity(ConfigPath(), env.identity);
  if (!saved.ok()) return Fail(env, saved);
  *env.out << "logged in as " << me.code() << " (" << v1::Role_Name(me.role())
           << (me.team().empty() ? "" : absl::StrCat(", team ", me.team())) << ") at job centre "
           << me.job_centre() << "; saved in " << ConfigPath().string() << "\n";
  return 0;
}

int WhoAmI(const CommandEnv& env) {
  auto stub = CaseStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::StaffMember me;
  grpc::Status status = stub->WhoAmI(&context, v1::WhoAmIRequest(), &me);
  if (!status.ok()) return Fail(env, status);
  *env.out << me.code() << " " << v1::Role_Name(me.role()) << " team=" << me.team()
           << " job_centre=" << me.job_centre() << " server=" << env.identity.server << "\n";
  return 0;
}

int ListCases(const CommandEnv& env, const CaseFilter& filter, Format format) {
  v1::ListCasesRequest request;
  request.set_team(filter.team);
  request.set_caseworker(filter.caseworker);
  request.set_case_type(filter.case_type);
  const std::string status = absl::AsciiStrToLower(filter.status);
  if (status == "open") {
    request.set_status(v1::OPEN);
  } else if (status == "closed") {
    request.set_status(v1::CLOSED);
  } else if (!status.empty() && status != "any") {
    *env.err << "forecastctl: --status: \"" << filter.status << "\" is not open, closed or any\n";
    return 2;
  }
  request.set_page_size(1000);
  auto stub = CaseStub(env);
  v1::ListCasesResponse all;
  do {
    grpc::ClientContext context;
    PrepareContext(&context, env.identity, kCallTimeout);
    v1::ListCasesResponse page;
    grpc::Status s = stub->ListCases(&context, request, &page);
    if (!s.ok()) return Fail(env, s);
    for (auto& c : *page.mutable_cases()) *all.add_cases() = std::move(c);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());

  if (format == Format::kJson) return PrintJson(env, all);
  std::vector<std::vector<std::string>> rows = {{"case_ref", "type", "opened_on", "caseworker",
                                                 "team", "status", "expected_outcome",
                                                 "expected_month", "risk", "version"}};
  for (const v1::Case& c : all.cases()) {
    rows.push_back({c.case_ref(), c.case_type(), c.opened_on(), c.caseworker(), c.team(),
                    StatusName(c.status()), c.expectation().expected_outcome(),
                    c.expectation().expected_month(), c.expectation().risk(),
                    absl::StrCat(c.version())});
  }
  if (format == Format::kCsv) {
    for (const auto& row : rows) WriteCsvRow(*env.out, row);
  } else {
    PrintTable(*env.out, rows);
    *env.out << all.cases_size() << " case(s)\n";
  }
  return 0;
}

int ShowCase(const CommandEnv& env, const std::string& case_ref, Format format) {
  auto stub = CaseStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::GetCaseHistoryRequest request;
  request.set_case_ref(case_ref);
  v1::CaseHistory history;
  grpc::Status status = stub->GetCaseHistory(&context, request, &history);
  if (!status.ok()) return Fail(env, status);
  if (format == Format::kJson) return PrintJson(env, history);

  const v1::Case& c = history.current();
  std::ostream& out = *env.out;
  out << "Case " << c.case_ref() << " (version " << c.version() << ")\n"
      << "  type        " << c.case_type() << "\n"
      << "  opened      " << c.opened_on() << "\n"
      << "  caseworker  " << c.caseworker() << " (team " << c.team() << ")\n"
      << "  status      " << StatusName(c.status());
  if (c.status() == v1::CLOSED) out << " on " << c.closed_on() << " to " << c.closure_outcome();
  out << "\n  expectation " << ExpectationText(c) << "\n";
  if (!c.fields().empty()) {
    std::vector<std::string> codes;
    for (const auto& [code, value] : c.fields()) codes.push_back(code);
    std::sort(codes.begin(), codes.end());
    out << "  fields     ";
    for (const std::string& code : codes) {
      absl::StatusOr<std::string> json = ToJson(c.fields().at(code));
      std::string value = json.ok() ? *json : "?";
      value.erase(std::remove_if(value.begin(), value.end(), [](char ch) { return ch == '\n'; }), value.end());
      out << " " << code << "=" << value;
    }
    out << "\n";
  }
  out << "\nExpectations (oldest first)\n";
  std::vector<std::vector<std::string>> rows = {{"recorded_at", "by", "outcome", "month", "risk", "agreed", "note"}};
  for (const v1::Expectation& e : history.expectations()) {
    rows.push_back({e.recorded_at(), e.recorded_by(), e.expected_outcome(), e.expected_month(),
                    e.risk(), e.agreed_in_dialogue() ? "yes" : "", e.note()});
  }
  PrintTable(out, rows);
  out << "\nActions\n";
  rows = {{"id", "due_on", "owner", "status", "description"}};
  for (const v1::Action& a : history.actions()) {
    rows.push_back({absl::StrCat(a.id()), a.due_on(), a.owner(),
                    absl::StrCat(v1::ActionStatus_Name(a.status()), a.overdue() ? " (overdue)" : ""),
                    a.description()});
    for (const v1::FollowUp& f : a.follow_ups()) {
      rows.push_back({"", f.recorded_at().substr(0, 10), f.recorded_by(),
                      v1::FollowUpResult_Name(f.result()),
                      absl::StrCat(f.postponed_to().empty() ? "" : absl::StrCat("to ", f.postponed_to(), " "), f.note())});
    }
  }
  PrintTable(out, rows);
  out << "\nHistory (oldest first)\n";
  rows = {{"version", "effective_on", "recorded_at", "actor", "change", "details"}};
  for (const v1::CaseEvent& e : history.events()) {
    rows.push_back({absl::StrCat(e.case_version()), e.effective_on(), e.recorded_at(), e.actor(),
                    e.kind(), e.summary_json()});
  }
  PrintTable(out, rows);
  return 0;
}

int RecordExpectation(const CommandEnv& env, const std::string& case_ref,
                      const ExpectationInput& in) {
  return WriteCase(env, case_ref, [&](v1::CaseService::Stub& stub, grpc::ClientContext& context,
                                      int64_t version, const std::string& key, v1::Case* updated) {
    v1::RecordExpectationRequest request;
    request.set_case_ref(case_ref);
    request.set_base_version(version);
    request.set_expected_outcome(in.outcome);
    request.set_expected_month(in.month);
    request.set_risk(in.risk);
    request.set_note(in.note);
    request.set_agreed_in_dialogue(in.agreed);
    request.set_idempotency_key(key);
    return stub.RecordExpectation(&context, request, updated);
  });
}

int AddAction(const CommandEnv& env, const std::string& case_ref, const ActionInput& in) {
  return WriteCase(env, case_ref, [&](v1::CaseService::Stub& stub, grpc::ClientContext& context,
                                      int64_t version, const std::string& key, v1::Case* updated) {
    v1::AddActionRequest request;
    request.set_case_ref(case_ref);
    request.set_base_version(version);
    request.set_description(in.description);
    request.set_due_on(in.due_on);
    request.set_owner(in.owner);
    request.set_agreed_in_dialogue(in.agreed);
    request.set_idempotency_key(key);
    return stub.AddAction(&context, request, updated);
  });
}

int ImportActions(const CommandEnv& env, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail(env, absl::NotFoundError(absl::StrCat(file, ": cannot be read")));
  std::stringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  CsvReader reader(content);
  CsvRecord header;
  const std::vector<std::string> columns = {"case_ref", "description", "owner", "due_on"};
  if (!reader.Next(&header) || header.fields != columns) {
    *env.err << "forecastctl: " << file << ": the header must be case_ref,description,owner,due_on\n";
    return 1;
  }
  std::vector<CsvRecord> rows;
  for (CsvRecord record; reader.Next(&record);) rows.push_back(record);
  // Each row is its own write on its own case, so rows go out in parallel over one channel.
  auto stub = CaseStub(env);
  std::vector<std::string> problems(rows.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < rows.size(); i = next++) {
      const CsvRecord& record = rows[i];
      if (!record.problem.empty() || record.fields.size() != columns.size()) {
        problems[i] = record.problem.empty() ? "wrong number of fields" : record.problem;
        continue;
      }
      absl::StatusOr<v1::Case> current = ReadCase(env, *stub, record.fields[0]);
      if (!current.ok()) {
        problems[i] = std::string(current.status().message());
        continue;
      }
      grpc::ClientContext context;
      PrepareContext(&context, env.identity, kCallTimeout);
      v1::AddActionRequest request;
      request.set_case_ref(record.fields[0]);
      request.set_base_version(current->version());
      request.set_description(record.fields[1]);
      request.set_owner(record.fields[2]);
      request.set_due_on(record.fields[3]);
      request.set_idempotency_key(NewIdempotencyKey());
      v1::Case updated;
      grpc::Status status = stub->AddAction(&context, request, &updated);
      if (!status.ok()) problems[i] = status.error_message();
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < kParallelWrites; ++w) workers.emplace_back(work);
  for (std::thread& worker : workers) worker.join();
  int64_t added = 0, failed = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (problems[i].empty()) {
      ++added;
    } else {
      *env.out << file << ":" << rows[i].line << ": " << problems[i] << "\n";
      ++failed;
    }
  }
  *env.out << "added " << added << " action(s)";
  if (failed > 0) *env.out << "; " << failed << " row(s) failed";
  *env.out << "\n";
  return failed == 0 ? 0 : 1;
}

int FollowUpAction(const CommandEnv& env, const std::string& case_ref, const FollowUpInput& in) {
  const std::string result = absl::AsciiStrToLower(in.result);
  v1::FollowUpResult value;
  if (result == "done") {
    value = v1::FOLLOW_UP_DONE;
  } else if (result == "not-done" || result == "not_done") {
    value = v1::FOLLOW_UP_NOT_DONE;
  } else if (result == "postponed") {
    value = v1::FOLLOW_UP_POSTPONED;
  } else {
    *env.err << "forecastctl: --result: \"" << in.result << "\" is not done, not-done or postponed\n";
    return 2;
  }
  return WriteCase(env, case_ref, [&](v1::CaseService::Stub& stub, grpc::ClientContext& context,
                                      int64_t version, const std::string& key, v1::Case* updated) {
    v1::FollowUpActionRequest request;
    request.set_case_ref(case_ref);
    request.set_base_version(version);
    request.set_action_id(in.action_id);
    request.set_result(value);
    request.set_postponed_to(in.postponed_to);
    request.set_note(in.note);
    request.set_idempotency_key(key);
    return stub.FollowUpAction(&context, request, updated);
  });
}

int CloseCase(const CommandEnv& env, const std::string& case_ref, const std::string& on,
              const std::string& outcome) {
  return WriteCase(env, case_ref, [&](v1::CaseService::Stub& stub, grpc::ClientContext& context,
                                      int64_t version, const std::string& key, v1::Case* updated) {
    v1::CloseCaseRequest request;
    request.set_case_ref(case_ref);
    request.set_base_version(version);
    request.set_closed_on(on);
    request.set_outcome(outcome);
    request.set_idempotency_key(key);
    return stub.CloseCase(&context, request, updated);
  });
}

int ReopenCase(const CommandEnv& env, const std::string& case_ref, const std::string& on) {
  return WriteCase(env, case_ref, [&](v1::CaseService::Stub& stub, grpc::ClientContext& context,
                                      int64_t version, const std::string& key, v1::Case* updated) {
    v1::ReopenCaseRequest request;
    request.set_case_ref(case_ref);
    request.set_base_version(version);
    request.set_reopened_on(on);
    request.set_idempotency_key(key);
    return stub.ReopenCase(&context, request, updated);
  });
}

int ReassignCase(const CommandEnv& env, const std::string& case_ref, const std::string& to,
                 const std::string& on) {
  return WriteCase(env, case_ref, [&](v1::CaseService::Stub& stub, grpc::ClientContext& context,
                                      int64_t version, const std::string& key, v1::Case* updated) {
    v1::ReassignCaseRequest request;
    request.set_case_ref(case_ref);
    request.set_base_version(version);
    request.set_to_caseworker(to);
    request.set_on(on);
    request.set_idempotency_key(key);
    return stub.ReassignCase(&context, request, updated);
  });
}

int Import(const CommandEnv& env, const std::string& dir, const ImportOptions& options,
           bool progress, const std::string& report_csv) {
  absl::StatusOr<ImportPlan> plan = ImportPlan::FromDirectory(dir);
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
    if (!out) return Fail(env, absl::UnavailableError(absl::StrCat(report_csv, ": cannot be written")));
  }
  const bool done = result->ok() && (options.dry_run || result->report.committed());
  return done ? 0 : 1;
}

namespace {

absl::StatusOr<v1::Projection> FetchProjection(const CommandEnv& env, const ProjectionQuery& query) {
  absl::StatusOr<v1::Scope> scope = ParseScope(query.scope);
  if (!scope.ok()) return scope.status();
  absl::StatusOr<v1::Model> model = ParseModel(query.model);
  if (!model.ok()) return model.status();
  if (query.months < 1 || query.months > 24) {
    return absl::InvalidArgumentError("--months: must be between 1 and 24");
  }
  v1::ProjectRequest request;
  *request.mutable_scope() = *scope;
  request.set_model(*model);
  request.set_horizon_months(query.months);
  request.set_as_of(query.as_of);
  auto stub = ForecastStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::Projection projection;
  grpc::Status status = stub->Project(&context, request, &projection);
  if (!status.ok()) return FromGrpc(status);
  // The CSV's scope column must say what was asked even if the server leaves scope unset.
  if (!projection.has_scope()) *projection.mutable_scope() = *scope;
  return projection;
}

}  // namespace

int PrintProjection(const CommandEnv& env, const ProjectionQuery& query) {
  absl::StatusOr<v1::Projection> projection = FetchProjection(env, query);
  if (!projection.ok()) return Fail(env, projection.status());
  *env.out << FormatProjectionTable(*projection);
  return 0;
}

int ExportProjection(const CommandEnv& env, const ProjectionQuery& query, Format format) {
  absl::StatusOr<v1::Projection> projection = FetchProjection(env, query);
  if (!projection.ok()) return Fail(env, projection.status());
  if (format == Format::kJson) return PrintJson(env, *projection);
  WriteProjectionCsv(*projection, *env.out);
  return 0;
}

int ExportDashboard(const CommandEnv& env, const std::string& team, const std::string& as_of,
                    Format format) {
  auto stub = ForecastStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::TeamDashboardRequest request;
  request.set_team(team);
  request.set_as_of(as_of);
  v1::TeamDashboard dashboard;
  grpc::Status status = stub->GetTeamDashboard(&context, request, &dashboard);
  if (!status.ok()) return Fail(env, status);
  if (format == Format::kJson) return PrintJson(env, dashboard);
  WriteTeamDashboardCsv(dashboard, *env.out);
  return 0;
}

int ExportMilestones(const CommandEnv& env, const std::string& team, const std::string& caseworker,
                     const std::string& from, const std::string& to, Format format) {
  auto stub = ForecastStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::MilestonesRequest request;
  request.set_team(team);
  request.set_caseworker(caseworker);
  request.set_from_month(from);
  request.set_to_month(to);
  v1::Milestones milestones;
  grpc::Status status = stub->GetMilestones(&context, request, &milestones);
  if (!status.ok()) return Fail(env, status);
  if (format == Format::kJson) return PrintJson(env, milestones);
  WriteMilestonesCsv(milestones, *env.out);
  return 0;
}

}  // namespace forecast::cli

namespace forecast::cli {

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
  std::stable_sort(fields.begin(), fields.end(), [](const v1::CaseField& a, const v1::CaseField& b) {
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
  std::vector<v1::CaseHistory> histories(refs.size());
  std::vector<grpc::Status> results(refs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < refs.size(); i = next++) {
      grpc::ClientContext context;
      PrepareContext(&context, env.identity, kCallTimeout);
      v1::GetCaseHistoryRequest history_request;
      history_request.set_case_ref(refs[i]);
      results[i] = stub->GetCaseHistory(&context, history_request, &histories[i]);
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < kParallelWrites; ++w) workers.emplace_back(work);
  for (std::thread& worker : workers) worker.join();
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!results[i].ok()) return Fail(env, results[i]);
    writer.Add(histories[i]);
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
