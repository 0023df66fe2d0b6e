#include "clients/cli/command_support.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "clients/cli/error_text.h"
#include "clients/cli/report_format.h"
#include "clients/cli/session.h"

namespace forecast::cli {

int Fail(const CommandEnv& env, const absl::Status& status) {
  *env.err << "forecastctl: " << PhraseError(status, UserSpeaksDanish()) << "\n";
  if (status.code() == absl::StatusCode::kAborted) {
    *env.err << "(the case changed since it was read; look at it again and repeat the change)\n";
  } else if (status.code() == absl::StatusCode::kUnavailable) {
    *env.err << "(is the service running at the address given at login?)\n";
  }
  return 1;
}

int Fail(const CommandEnv& env, const grpc::Status& status) { return Fail(env, FromGrpc(status)); }

std::unique_ptr<v1::CaseService::Stub> CaseStub(const CommandEnv& env) {
  return v1::CaseService::NewStub(OpenChannel(env.identity.server, env.identity));
}

std::unique_ptr<v1::ForecastService::Stub> ForecastStub(const CommandEnv& env) {
  return v1::ForecastService::NewStub(OpenChannel(
      env.identity.forecast.empty() ? env.identity.server : env.identity.forecast, env.identity));
}

std::unique_ptr<v1::IdentityService::Stub> IdentityStub(const CommandEnv& env) {
  return v1::IdentityService::NewStub(OpenChannel(env.identity.server, env.identity));
}

// One key per change the user asked for, so that a retried request applies once.
std::string NewIdempotencyKey() {
  thread_local std::mt19937_64 random(std::random_device{}());
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string key = "cli-";
  for (int i = 0; i < 26; ++i) key.push_back(kAlphabet[random() % (sizeof(kAlphabet) - 1)]);
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

absl::StatusOr<v1::CaseHistory> ReadWholeHistory(const CommandEnv& env, v1::CaseService::Stub& stub,
                                                 const std::string& case_ref) {
  // Pages run newest to oldest, each oldest first within: collect, then join from the last.
  std::vector<v1::CaseHistory> pages;
  v1::GetCaseHistoryRequest request;
  request.set_case_ref(case_ref);
  request.set_page_size(1000);
  do {
    grpc::ClientContext context;
    PrepareContext(&context, env.identity, kCallTimeout);
    grpc::Status status = stub.GetCaseHistory(&context, request, &pages.emplace_back());
    if (!status.ok()) return FromGrpc(status);
    request.set_page_token(pages.back().next_page_token());
  } while (!request.page_token().empty());
  v1::CaseHistory whole = pages.front();
  whole.clear_events();
  whole.clear_expectations();
  whole.clear_actions();
  for (auto page = pages.rbegin(); page != pages.rend(); ++page) {
    for (v1::CaseEvent& e : *page->mutable_events()) *whole.add_events() = std::move(e);
    for (v1::Expectation& e : *page->mutable_expectations()) {
      *whole.add_expectations() = std::move(e);
    }
    for (v1::Action& a : *page->mutable_actions()) *whole.add_actions() = std::move(a);
  }
  return whole;
}

// Prints a table with left-aligned columns separated by two spaces.
void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return;
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      absl::StrAppend(&line, row[c]);
      if (c + 1 < row.size())
        absl::StrAppend(&line, std::string(width[c] - row[c].size() + 2, ' '));
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

}  // namespace forecast::cli
