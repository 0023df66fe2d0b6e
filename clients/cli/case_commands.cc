// forecastctl's case commands: login, list, show, and the writes on one case (each carrying the
// version it was based on).
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
#include "clients/cli/report_format.h"
#include "clients/cli/session.h"

namespace forecast::cli {
namespace {

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
  absl::StatusOr<v1::CaseHistory> whole = ReadWholeHistory(env, *stub, case_ref);
  if (!whole.ok()) return Fail(env, whole.status());
  const v1::CaseHistory& history = *whole;
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
      value.erase(std::remove_if(value.begin(), value.end(), [](char ch) { return ch == '\n'; }),
                  value.end());
      out << " " << code << "=" << value;
    }
    out << "\n";
  }
  out << "\nExpectations (oldest first)\n";
  std::vector<std::vector<std::string>> rows = {
      {"recorded_at", "by", "outcome", "month", "risk", "agreed", "note"}};
  for (const v1::Expectation& e : history.expectations()) {
    rows.push_back({e.recorded_at(), e.recorded_by(), e.expected_outcome(), e.expected_month(),
                    e.risk(), e.agreed_in_dialogue() ? "yes" : "", e.note()});
  }
  PrintTable(out, rows);
  out << "\nActions\n";
  rows = {{"id", "due_on", "owner", "status", "description"}};
  for (const v1::Action& a : history.actions()) {
    rows.push_back(
        {absl::StrCat(a.id()), a.due_on(), a.owner(),
         absl::StrCat(v1::ActionStatus_Name(a.status()), a.overdue() ? " (overdue)" : ""),
         a.description()});
    for (const v1::FollowUp& f : a.follow_ups()) {
      rows.push_back(
          {"", f.recorded_at().substr(0, 10), f.recorded_by(), v1::FollowUpResult_Name(f.result()),
           absl::StrCat(f.postponed_to().empty() ? "" : absl::StrCat("to ", f.postponed_to(), " "),
                        f.note())});
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
  return WriteCase(env, case_ref,
                   [&](v1::CaseService::Stub& stub, grpc::ClientContext& context, int64_t version,
                       const std::string& key, v1::Case* updated) {
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
  return WriteCase(env, case_ref,
                   [&](v1::CaseService::Stub& stub, grpc::ClientContext& context, int64_t version,
                       const std::string& key, v1::Case* updated) {
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
    *env.err << "forecastctl: " << file
             << ": the header must be case_ref,description,owner,due_on\n";
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
    *env.err << "forecastctl: --result: \"" << in.result
             << "\" is not done, not-done or postponed\n";
    return 2;
  }
  return WriteCase(env, case_ref,
                   [&](v1::CaseService::Stub& stub, grpc::ClientContext& context, int64_t version,
                       const std::string& key, v1::Case* updated) {
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
  return WriteCase(env, case_ref,
                   [&](v1::CaseService::Stub& stub, grpc::ClientContext& context, int64_t version,
                       const std::string& key, v1::Case* updated) {
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
  return WriteCase(env, case_ref,
                   [&](v1::CaseService::Stub& stub, grpc::ClientContext& context, int64_t version,
                       const std::string& key, v1::Case* updated) {
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
  return WriteCase(env, case_ref,
                   [&](v1::CaseService::Stub& stub, grpc::ClientContext& context, int64_t version,
                       const std::string& key, v1::Case* updated) {
                     v1::ReassignCaseRequest request;
                     request.set_case_ref(case_ref);
                     request.set_base_version(version);
                     request.set_to_caseworker(to);
                     request.set_on(on);
                     request.set_idempotency_key(key);
                     return stub.ReassignCase(&context, request, updated);
                   });
}

}  // namespace forecast::cli
