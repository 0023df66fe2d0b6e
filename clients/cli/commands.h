// The commands of forecastctl, one function each. main() parses the command line and calls
// these; they talk to the services and print. Each returns the process exit code:
// 0 done, 1 refused or failed (the reason printed on stderr), 2 bad usage. Each makes its own
// blocking gRPC calls; safe to run concurrently with distinct CommandEnv streams.
#ifndef CLIENTS_CLI_COMMANDS_H_
#define CLIENTS_CLI_COMMANDS_H_

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "clients/cli/import_files.h"
#include "clients/cli/session.h"

namespace forecast::cli {

// Where a command prints and whom it acts as. Not thread-safe (one command per process).
struct CommandEnv {
  Identity identity;
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;
  std::istream* in = &std::cin;  // passwords with --password-stdin (else the terminal, unechoed)
};

// Output format of list and export commands.
enum class Format { kTable, kCsv, kJson };

// Signing in and out (identity_commands.cc). The session is saved to `config` (mode 0600).
struct LoginInput {
  bool password_stdin =
      false;               // read the password (or with a set-up code, the new one) from env.in
  std::string setup_code;  // first sign-in: redeem this one-time code and choose a password
};
int Login(CommandEnv& env, const LoginInput& input, const std::filesystem::path& config);
// Ends this session (or, with `everywhere`, every session of the caller) and forgets the tokens.
int Logout(CommandEnv& env, bool everywhere, const std::filesystem::path& config);
// Changes the caller's password: current, then new twice (with --password-stdin: two lines,
// current and new).
int ChangePassword(CommandEnv& env, bool password_stdin, const std::filesystem::path& config);
// Admin: a one-time set-up code for a staff member.
int IssueSetupCode(const CommandEnv& env, const std::string& staff);
// Admin: the sign-in events of the job centre, newest first.
int ListAuthEvents(const CommandEnv& env, const std::string& staff, const std::string& since,
                   int limit, Format format);
// Renews env.identity's access token through RefreshSession when it is missing or about to
// expire, and saves the session to `config`. UNAUTHENTICATED when the session has ended.
absl::Status RenewAccessToken(CommandEnv& env, const std::filesystem::path& config);

// forecastctl audit reads: who read which case (IdentityService.ListCaseReads; admins only),
// newest first, as a table, CSV or JSON, or as CSV into `csv_file` when that is not empty.
struct CaseReadFilter {
  std::string case_ref, staff, since, until;  // since/until: RFC 3339, optional
};
int ListCaseReads(const CommandEnv& env, const CaseReadFilter& filter, Format format,
                  const std::string& csv_file);
int WhoAmI(const CommandEnv& env);

struct CaseFilter {
  std::string team, caseworker, case_type, status;  // status: open, closed or empty
};
int ListCases(const CommandEnv& env, const CaseFilter& filter, Format format);
int ShowCase(const CommandEnv& env, const std::string& case_ref, Format format);

struct ExpectationInput {
  std::string outcome, month, risk, note;
  bool agreed = false;
};
int RecordExpectation(const CommandEnv& env, const std::string& case_ref,
                      const ExpectationInput& in);

struct ActionInput {
  std::string description, due_on, owner;
  bool agreed = false;
};
int AddAction(const CommandEnv& env, const std::string& case_ref, const ActionInput& in);

// Adds one action per row of a CSV file (case_ref,description,owner,due_on), each as its own
// write on the case's current version. Rows that fail are reported with their line.
int ImportActions(const CommandEnv& env, const std::string& file);

struct FollowUpInput {
  int64_t action_id = 0;
  std::string result;  // done, not-done, postponed
  std::string postponed_to, note;
};
int FollowUpAction(const CommandEnv& env, const std::string& case_ref, const FollowUpInput& in);

int CloseCase(const CommandEnv& env, const std::string& case_ref, const std::string& on,
              const std::string& outcome);
int ReopenCase(const CommandEnv& env, const std::string& case_ref, const std::string& on);
int ReassignCase(const CommandEnv& env, const std::string& case_ref, const std::string& to,
                 const std::string& on);

// `progress`: draw the progress bar on stderr. `report_csv`: when not empty, also write every
// problem to this file as CSV (file,line,field,message).
int Import(const CommandEnv& env, const std::string& dir, const ImportOptions& options,
           bool progress, const std::string& report_csv = "");

struct ProjectionQuery {
  std::string scope = "ALL", model = "as_planned", as_of;
  int months = 12;
};
int PrintProjection(const CommandEnv& env, const ProjectionQuery& query);
int ExportProjection(const CommandEnv& env, const ProjectionQuery& query, Format format);
int ExportDashboard(const CommandEnv& env, const std::string& team, const std::string& as_of,
                    Format format);
int ExportMilestones(const CommandEnv& env, const std::string& team, const std::string& caseworker,
                     const std::string& from, const std::string& to, Format format);
// Writes the four import CSVs for every case the caller may see into `dir`.
int ExportCases(const CommandEnv& env, const std::string& dir);

// The administrator's catalogue and the job centre's own fields (admin_commands.cc).
struct CatalogueEntryInput {
  std::string kind;  // CASE_TYPE, OUTCOME or RISK
  std::string code, label_da, label_en, outcome_group;
  int sort_order = 0;
  double probability = 0;
  bool inactive = false;
};
struct CaseFieldInput {
  std::string code, label_da, label_en, type, choices;  // choices separated by ';'
  int sort_order = 0;
  bool inactive = false;
};
int ShowCatalogue(const CommandEnv& env);
int SetCatalogueEntry(const CommandEnv& env, const CatalogueEntryInput& in);
int SetCaseField(const CommandEnv& env, const CaseFieldInput& in);

// The organisation, staff, milestone metrics and set-up audit trail (org_commands.cc), through
// the case service's set-up RPCs; admins only (the service refuses everyone else).
int ShowOrganisation(const CommandEnv& env, Format format);
struct UnitInput {
  enum class Kind { kDepartment, kTeam, kRename, kMove };
  Kind kind = Kind::kTeam;
  std::string code, name, department;  // kMove: department empty = none
};
// Adds or updates a department or team; renames a unit; moves a team to another department.
int SetUnit(const CommandEnv& env, const UnitInput& in);
struct StaffInput {
  std::string code, name, role, team;
};
int AddStaff(const CommandEnv& env, const StaffInput& in);
// What to change about a staff member; what is not set stays as it is.
struct StaffEdit {
  std::optional<std::string> role, team, name;
  std::optional<bool> active;
};
int ChangeStaff(const CommandEnv& env, const std::string& code, const StaffEdit& edit);
struct MetricInput {
  std::string code, label_da, label_en, kind, outcome_group, field_code, choice;
  int sort_order = 0;
  bool lower_is_better = false, inactive = false;
};
int ListMetrics(const CommandEnv& env, Format format);
int SetMetric(const CommandEnv& env, const MetricInput& in);
// The set-up audit trail, newest first; `kind`/`code` filter when not empty; limit 0: all.
int ListAdminChanges(const CommandEnv& env, const std::string& kind, const std::string& code,
                     int limit, Format format);

// Writes a synthetic job centre as import CSVs (plus staff.csv) into `dir`; `with_fields`: with
// the own field has_cv in cases.csv (synthetic_csv.h).
int GenerateDemo(const CommandEnv& env, const std::string& dir, uint64_t seed,
                 const std::string& size, const std::string& today, bool with_fields = false);

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_COMMANDS_H_
