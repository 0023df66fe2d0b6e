// forecastctl's sign-in commands: login (password or one-time set-up code), logout, password
// change, set-up codes and the sign-in audit, over forecast.v1.IdentityService.
#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/cli/command_support.h"
#include "clients/cli/commands.h"
#include "clients/cli/session.h"

namespace forecast::cli {
namespace {

// One line from env.in (--password-stdin, or input that is not a terminal), else from the
// terminal with echo off. Empty on end of input.
std::string ReadSecret(CommandEnv& env, const std::string& prompt, bool from_stdin) {
  std::string line;
  if (!from_stdin && env.in == &std::cin && isatty(STDIN_FILENO) == 1) {
    std::ifstream tty("/dev/tty");
    std::ofstream tty_out("/dev/tty");
    termios saved{};
    const bool terminal = tty && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (terminal) {
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    tty_out << prompt << std::flush;
    std::getline(std::cin, line);
    if (terminal) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    tty_out << "\n" << std::flush;
  } else {
    std::getline(*env.in, line);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

void KeepTokens(Identity& identity, const v1::LoginResponse& response) {
  if (!response.session_token().empty()) identity.session_token = response.session_token();
  identity.session_expires_at = response.session_expires_at();
  identity.access_token = response.access_token();
  identity.access_expires_at = response.access_expires_at();
}

std::string Describe(const v1::StaffMember& me) {
  return absl::StrCat(me.code(), " (", v1::Role_Name(me.role()),
                      me.team().empty() ? "" : absl::StrCat(", team ", me.team()),
                      ") at job centre ", me.job_centre());
}

}  // namespace

int Login(CommandEnv& env, const LoginInput& input, const std::filesystem::path& config) {
  auto stub = IdentityStub(env);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  v1::LoginResponse response;
  grpc::Status status;
  if (!input.setup_code.empty()) {
    const std::string password =
        ReadSecret(env, "New password (at least 12 characters): ", input.password_stdin);
    if (!input.password_stdin && isatty(STDIN_FILENO) == 1 &&
        ReadSecret(env, "Repeat the new password: ", false) != password) {
      *env.err << "forecastctl: the two passwords differ\n";
      return 1;
    }
    v1::RedeemSetupCodeRequest request;
    request.set_job_centre(env.identity.job_centre);
    request.set_staff(env.identity.staff);
    request.set_setup_code(input.setup_code);
    request.set_new_password(password);
    status = stub->RedeemSetupCode(&context, request, &response);
  } else {
    v1::LoginRequest request;
    request.set_job_centre(env.identity.job_centre);
    request.set_staff(env.identity.staff);
    request.set_password(ReadSecret(env, "Password: ", input.password_stdin));
    status = stub->Login(&context, request, &response);
  }
  if (!status.ok()) return Fail(env, status);
  KeepTokens(env.identity, response);
  absl::Status saved = SaveIdentity(config, env.identity);
  if (!saved.ok()) return Fail(env, saved);
  *env.out << "logged in as " << Describe(response.staff()) << "; session until "
           << response.session_expires_at() << ", saved in " << config.string() << "\n";
  return 0;
}

absl::Status RenewAccessToken(CommandEnv& env, const std::filesystem::path& config) {
  if (!AccessTokenStale(env.identity, absl::Now())) return absl::OkStatus();
  if (env.identity.session_token.empty()) {
    return absl::UnauthenticatedError("not logged in: run `forecastctl login`");
  }
  auto stub = IdentityStub(env);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  v1::RefreshSessionRequest request;
  request.set_session_token(env.identity.session_token);
  v1::LoginResponse response;
  grpc::Status status = stub->RefreshSession(&context, request, &response);
  if (!status.ok()) {
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      return absl::UnauthenticatedError(
          absl::StrCat(status.error_message(), " (run `forecastctl login`)"));
    }
    return FromGrpc(status);
  }
  KeepTokens(env.identity, response);
  return SaveIdentity(config, env.identity);
}

int Logout(CommandEnv& env, bool everywhere, const std::filesystem::path& config) {
  auto stub = IdentityStub(env);
  grpc::ClientContext context;
  v1::LogoutResponse response;
  grpc::Status status;
  if (everywhere) {
    if (absl::Status renewed = RenewAccessToken(env, config); !renewed.ok())
      return Fail(env, renewed);
    PrepareContext(&context, env.identity, kCallTimeout);
    status = stub->LogoutEverywhere(&context, v1::LogoutEverywhereRequest(), &response);
  } else {
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    v1::LogoutRequest request;
    request.set_session_token(env.identity.session_token);
    status = stub->Logout(&context, request, &response);
  }
  if (!status.ok()) return Fail(env, status);
  env.identity.session_token.clear();
  env.identity.session_expires_at.clear();
  env.identity.access_token.clear();
  env.identity.access_expires_at.clear();
  absl::Status saved = SaveIdentity(config, env.identity);
  if (!saved.ok()) return Fail(env, saved);
  *env.out << "logged out (" << response.sessions_ended() << " session(s) ended)\n";
  return 0;
}

int ChangePassword(CommandEnv& env, bool password_stdin, const std::filesystem::path& config) {
  if (absl::Status renewed = RenewAccessToken(env, config); !renewed.ok())
    return Fail(env, renewed);
  v1::ChangePasswordRequest request;
  request.set_current_password(ReadSecret(env, "Current password: ", password_stdin));
  request.set_new_password(
      ReadSecret(env, "New password (at least 12 characters): ", password_stdin));
  if (!password_stdin && isatty(STDIN_FILENO) == 1 &&
      ReadSecret(env, "Repeat the new password: ", false) != request.new_password()) {
    *env.err << "forecastctl: the two passwords differ\n";
    return 1;
  }
  auto stub = IdentityStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::ChangePasswordResponse response;
  grpc::Status status = stub->ChangePassword(&context, request, &response);
  if (!status.ok()) return Fail(env, status);
  *env.out << "password changed; your other sessions have ended\n";
  return 0;
}

int IssueSetupCode(const CommandEnv& env, const std::string& staff) {
  auto stub = IdentityStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::IssueSetupCodeRequest request;
  request.set_staff(staff);
  v1::SetupCode code;
  grpc::Status status = stub->IssueSetupCode(&context, request, &code);
  if (!status.ok()) return Fail(env, status);
  *env.out << "set-up code for " << code.staff() << ": " << code.setup_code() << " (valid until "
           << code.expires_at() << "; shown once)\n"
           << "they sign in with: forecastctl --server " << env.identity.server << " --job-centre "
           << env.identity.job_centre << " --staff " << code.staff()
           << " login --setup-code CODE\n";
  return 0;
}

int ListAuthEvents(const CommandEnv& env, const std::string& staff, const std::string& since,
                   int limit, Format format) {
  auto stub = IdentityStub(env);
  v1::ListAuthEventsResponse all;
  v1::ListAuthEventsRequest request;
  request.set_staff(staff);
  request.set_since(since);
  while (limit <= 0 || all.events_size() < limit) {
    request.set_page_size(limit <= 0 ? 500 : std::min(500, limit - all.events_size()));
    grpc::ClientContext context;
    PrepareContext(&context, env.identity, kCallTimeout);
    v1::ListAuthEventsResponse page;
    grpc::Status status = stub->ListAuthEvents(&context, request, &page);
    if (!status.ok()) return Fail(env, status);
    for (const v1::AuthEvent& event : page.events()) *all.add_events() = event;
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (format == Format::kJson) return PrintJson(env, all);
  std::vector<std::vector<std::string>> rows = {
      {"at", "staff", "kind", "client_address", "detail"}};
  for (const v1::AuthEvent& e : all.events())
    rows.push_back({e.at(), e.staff(), e.kind(), e.client_address(), e.detail()});
  if (format == Format::kCsv) {
    for (const auto& row : rows) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        std::string field = row[i];
        if (field.find_first_of(",\"\n") != std::string::npos) {
          std::string quoted = "\"";
          for (char c : field) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
          field = quoted + "\"";
        }
        absl::StrAppend(&line, i == 0 ? "" : ",", field);
      }
      *env.out << line << "\n";
    }
    return 0;
  }
  PrintTable(*env.out, rows);
  return 0;
}

}  // namespace forecast::cli
