// forecastctl: the command-line client of the job centre forecast services.
// Argument parsing only; the commands live in commands.cc. CLI11 (Debian's libcli11-dev) gives
// nested subcommands, generated --help and checked choices without hand-written parsing.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/cli/commands.h"
#include "clients/cli/session.h"

namespace {

using forecast::cli::Format;

Format ParseFormat(const std::string& text) {
  if (text == "csv") return Format::kCsv;
  if (text == "json") return Format::kJson;
  return Format::kTable;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "forecastctl: cases, expectations, imports and projections of the job centre forecast"};
  app.require_subcommand(1);
  app.fallthrough();

  forecast::cli::Identity flags;
  app.add_option("--server", flags.server, "case service address host:port");
  app.add_option("--forecast", flags.forecast,
                 "forecast service address host:port (default: --server)");
  app.add_option("--job-centre", flags.job_centre, "job centre code");
  app.add_option("--staff", flags.staff, "your staff code");
  app.add_option("--ca", flags.ca_file,
                 "PEM file of the CA that signed the services' certificates "
                 "(default: $FORECAST_CA, else the stored one, else the system's CAs)");

  forecast::cli::LoginInput login_input;
  auto* login = app.add_subcommand(
      "login", "sign in (asks for the password) and store the session (mode 0600)");
  login->add_flag("--password-stdin", login_input.password_stdin,
                  "read the password from standard input");
  login->add_option("--setup-code", login_input.setup_code,
                    "first sign-in: a one-time set-up code from an admin; then choose a password");
  bool everywhere = false;
  auto* logout = app.add_subcommand("logout", "end the stored session and forget its tokens");
  logout->add_flag("--everywhere", everywhere, "end every session of yours, on every device");
  auto* password = app.add_subcommand("password", "your password");
  password->require_subcommand(1);
  bool password_stdin = false;
  auto* password_change =
      password->add_subcommand("change", "change your password (ends your other sessions)");
  password_change->add_flag(
      "--password-stdin", password_stdin,
      "read the current and the new password from standard input, one per line");
  auto* admin = app.add_subcommand("admin", "administration (admins only)");
  admin->require_subcommand(1);
  std::string setup_staff;
  auto* setup_code =
      admin->add_subcommand("setup-code", "issue a one-time set-up code for a staff member");
  setup_code->add_option("staff", setup_staff, "staff code")->required();
  auto* audit = app.add_subcommand(
      "audit", "audit trails: sign-ins, and who read which case (data protection; admins only)");
  audit->require_subcommand(1);
  std::string audit_staff, audit_since, audit_format = "table";
  int audit_limit = 100;
  auto* audit_logins = audit->add_subcommand(
      "logins", "sign-in events: logins, failures, lockouts, password changes");
  audit_logins->add_option("--staff", audit_staff, "only this staff member");
  audit_logins->add_option("--since", audit_since, "only events from this instant on (RFC 3339)");
  audit_logins->add_option("--limit", audit_limit, "at most this many events (0: all)");
  audit_logins->add_option("--format", audit_format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  app.add_subcommand("whoami", "show the stored identity as the case service sees it");

  forecast::cli::CaseReadFilter read_filter;
  std::string reads_csv;
  std::string reads_format = "table";
  auto* audit_reads = audit->add_subcommand(
      "reads", "who looked at a case (--case), what a staff member looked at (--staff)");
  audit_reads->add_option("--case", read_filter.case_ref, "case reference, e.g. S-001");
  audit_reads->add_option("--staff", read_filter.staff, "staff code, e.g. CW0101");
  audit_reads->add_option("--since", read_filter.since, "from this time (RFC 3339)");
  audit_reads->add_option("--until", read_filter.until, "before this time (RFC 3339)");
  audit_reads->add_option("--format", reads_format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  audit_reads->add_option("--csv", reads_csv, "write the reads as CSV to this file");

  auto* cases = app.add_subcommand("cases", "list and show cases");
  cases->require_subcommand(1);
  forecast::cli::CaseFilter filter;
  std::string table_format = "table", export_format = "csv";
  auto* list = cases->add_subcommand("list", "list the cases you may see");
  list->add_option("--team", filter.team, "team code");
  list->add_option("--caseworker", filter.caseworker, "staff code");
  list->add_option("--type", filter.case_type, "case type code");
  list->add_option("--status", filter.status, "open, closed or any")
      ->check(CLI::IsMember({"open", "closed", "any"}));
  list->add_option("--format", table_format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  std::string case_ref;
  auto* show = cases->add_subcommand("show", "show a case with its full history");
  show->add_option("case_ref", case_ref, "case reference")->required();
  show->add_option("--format", table_format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));

  forecast::cli::ExpectationInput expectation;
  auto* expect = app.add_subcommand("expect", "record a new expectation for a case");
  expect->add_option("case_ref", case_ref, "case reference")->required();
  expect->add_option("--outcome", expectation.outcome, "expected outcome code, e.g. ORDINARY_JOB")
      ->required();
  expect->add_option("--month", expectation.month, "expected closure month YYYY-MM")->required();
  expect->add_option("--risk", expectation.risk, "risk code: LOW, MEDIUM or HIGH")->required();
  expect->add_option("--note", expectation.note, "note (no personal data)");
  expect->add_flag("--agreed", expectation.agreed, "agreed in a dialogue with the team leader");

  auto* action = app.add_subcommand("action", "add and follow up actions");
  action->require_subcommand(1);
  forecast::cli::ActionInput action_in;
  auto* action_add = action->add_subcommand("add", "add an action to a case");
  action_add->add_option("case_ref", case_ref, "case reference")->required();
  action_add->add_option("--description", action_in.description, "what is to be done")->required();
  action_add->add_option("--due", action_in.due_on, "due date YYYY-MM-DD")->required();
  action_add->add_option("--owner", action_in.owner, "staff code (default: you)");
  action_add->add_flag("--agreed", action_in.agreed, "agreed in a dialogue");
  std::string actions_file;
  auto* action_import =
      action->add_subcommand("import", "add actions from a CSV: case_ref,description,owner,due_on");
  action_import->add_option("--file", actions_file, "the CSV file")->required();
  forecast::cli::FollowUpInput follow;
  auto* follow_up = action->add_subcommand("follow-up", "record the follow-up of an action");
  follow_up->add_option("case_ref", case_ref, "case reference")->required();
  follow_up->add_option("--action", follow.action_id, "action id (see `cases show`)")->required();
  follow_up->add_option("--result", follow.result, "done, not-done or postponed")
      ->required()
      ->check(CLI::IsMember({"done", "not-done", "postponed"}));
  follow_up->add_option("--to", follow.postponed_to, "new due date YYYY-MM-DD when postponed");
  follow_up->add_option("--note", follow.note, "note");

  std::string on, outcome, to;
  auto* close = app.add_subcommand("close", "close a case with its outcome");
  close->add_option("case_ref", case_ref, "case reference")->required();
  close->add_option("--on", on, "closing date YYYY-MM-DD")->required();
  close->add_option("--outcome", outcome, "outcome code")->required();
  auto* reopen = app.add_subcommand("reopen", "reopen a closed case");
  reopen->add_option("case_ref", case_ref, "case reference")->required();
  reopen->add_option("--on", on, "reopening date YYYY-MM-DD")->required();
  auto* reassign = app.add_subcommand("reassign", "move a case to another caseworker");
  reassign->add_option("case_ref", case_ref, "case reference")->required();
  reassign->add_option("--to", to, "staff code")->required();
  reassign->add_option("--on", on, "date YYYY-MM-DD")->required();

  std::string dir;
  forecast::cli::ImportOptions import_options;
  bool progress = false;
  auto* import = app.add_subcommand(
      "import",
      "import cases.csv, expectations.csv, closures.csv and reassignments.csv, all or nothing");
  import->add_option("--dir", dir, "folder with the CSV files")->required();
  import->add_flag("--dry-run", import_options.dry_run, "check every row, commit nothing");
  import->add_flag("--create-missing-staff", import_options.create_missing_staff,
                   "admin: create unknown teams and caseworkers");
  import->add_flag("--holder-at-opening", import_options.holder_at_opening,
                   "cases.csv names the caseworker at opening (the older reading), not the "
                   "current one");
  import->add_flag("--progress", progress,
                   "draw the progress bar even when stderr is not a terminal");
  std::string report_csv;
  import->add_option("--report-csv", report_csv,
                     "also write every problem to this CSV file (file,line,field,message)");
  import->add_option("--chunk-rows", import_options.rows_per_chunk, "rows per streamed chunk")
      ->check(CLI::Range(1, 100000));

  forecast::cli::ProjectionQuery query;
  auto add_projection_options = [&](CLI::App* sub) {
    sub->add_option("--scope", query.scope, "team:CODE, department:CODE, caseworker:CODE or ALL");
    sub->add_option("--model", query.model, "as_planned, calibrated or baseline")
        ->check(CLI::IsMember({"as_planned", "calibrated", "baseline"}));
    sub->add_option("--months", query.months, "horizon in months (1-24)")->check(CLI::Range(1, 24));
    sub->add_option("--as-of", query.as_of, "compute as of a past date YYYY-MM-DD");
  };
  auto* projection = app.add_subcommand("projection", "print the projection as a table");
  add_projection_options(projection);

  auto* export_cmd =
      app.add_subcommand("export", "export projections, dashboards, milestones or cases");
  export_cmd->require_subcommand(1);
  auto* export_projection =
      export_cmd->add_subcommand("projection", "month,scope,outcome,expected,p10,p90");
  add_projection_options(export_projection);
  export_projection->add_option("--format", export_format, "csv or json")
      ->check(CLI::IsMember({"csv", "json"}));
  std::string team, caseworker, as_of, from_month, to_month;
  auto* export_dashboard = export_cmd->add_subcommand("dashboard", "the team dashboard");
  export_dashboard->add_option("--team", team, "team code")->required();
  export_dashboard->add_option("--as-of", as_of, "YYYY-MM-DD");
  export_dashboard->add_option("--format", export_format, "csv or json")
      ->check(CLI::IsMember({"csv", "json"}));
  auto* export_milestones = export_cmd->add_subcommand("milestones", "monthly milestones");
  export_milestones->add_option("--team", team, "team code")->required();
  export_milestones->add_option("--caseworker", caseworker, "staff code (default: the whole team)");
  export_milestones->add_option("--from", from_month, "first month YYYY-MM");
  export_milestones->add_option("--to", to_month, "last month YYYY-MM");
  export_milestones->add_option("--format", export_format, "csv or json")
      ->check(CLI::IsMember({"csv", "json"}));
  auto* export_cases =
      export_cmd->add_subcommand("cases", "write the four import CSVs for every case you may see");
  export_cases->add_option("--out", dir, "folder to write into")->required();

  // The administrator's catalogue and fields (the web app's /admin).
  auto* catalogue_cmd = app.add_subcommand("catalogue", "show or change the catalogue (admin)");
  auto* catalogue_show =
      catalogue_cmd->add_subcommand("show", "case types, outcomes, risks and fields");
  forecast::cli::CatalogueEntryInput entry_in;
  auto* catalogue_set =
      catalogue_cmd->add_subcommand("set", "add or change a case type, outcome or risk level");
  catalogue_set->add_option("--kind", entry_in.kind, "CASE_TYPE, OUTCOME or RISK")->required();
  catalogue_set->add_option("--code", entry_in.code, "code, e.g. FLEX_JOB")->required();
  catalogue_set->add_option("--label-da", entry_in.label_da, "Danish label")->required();
  catalogue_set->add_option("--label-en", entry_in.label_en, "English label");
  catalogue_set->add_option("--order", entry_in.sort_order, "position in lists");
  catalogue_set->add_option("--group", entry_in.outcome_group, "outcomes: group, e.g. JOB");
  catalogue_set->add_option("--probability", entry_in.probability,
                            "risks: chance the expectation holds (0..1)");
  catalogue_set->add_flag("--inactive", entry_in.inactive,
                          "no longer offered for new expectations");
  forecast::cli::CaseFieldInput field_in;
  auto* field_cmd = app.add_subcommand("field", "the job centre's own case fields (admin)");
  auto* field_set = field_cmd->add_subcommand("set", "add or change a field");
  field_set->add_option("--code", field_in.code, "code, e.g. has_cv")->required();
  field_set->add_option("--label-da", field_in.label_da, "Danish label")->required();
  field_set->add_option("--label-en", field_in.label_en, "English label");
  field_set->add_option("--type", field_in.type, "BOOL, NUMBER, CHOICE or DATE")->required();
  field_set->add_option("--choices", field_in.choices, "CHOICE: the choices, separated by ;");
  field_set->add_option("--order", field_in.sort_order, "position in lists");
  field_set->add_flag("--inactive", field_in.inactive, "no longer filled in");

  // The organisation, staff and milestone metrics (admin; the web app's /admin), over gRPC.
  std::string org_format = "table";
  auto* org_cmd = app.add_subcommand("org", "departments and teams (admin)");
  org_cmd->require_subcommand(1);
  auto* org_show = org_cmd->add_subcommand("show", "departments, teams and staff");
  org_show->add_option("--format", org_format, "table, csv (staff) or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  forecast::cli::UnitInput unit_in;
  auto* org_add_department =
      org_cmd->add_subcommand("add-department", "add a department (or rename it)");
  org_add_department->add_option("--code", unit_in.code, "code, e.g. NORD")->required();
  org_add_department->add_option("--name", unit_in.name, "name, e.g. \"Afdeling Nord\"")
      ->required();
  auto* org_add_team = org_cmd->add_subcommand("add-team", "add a team (or change it)");
  org_add_team->add_option("--code", unit_in.code, "code, e.g. T7")->required();
  org_add_team->add_option("--name", unit_in.name, "name, e.g. \"Team 7\"")->required();
  org_add_team->add_option("--department", unit_in.department, "the department's code");
  auto* org_rename = org_cmd->add_subcommand("rename", "rename a department or team");
  org_rename->add_option("--code", unit_in.code, "the unit's code")->required();
  org_rename->add_option("--name", unit_in.name, "the new name")->required();
  auto* org_move = org_cmd->add_subcommand("move-team", "move a team to another department");
  org_move->add_option("--code", unit_in.code, "the team's code")->required();
  org_move
      ->add_option("--department", unit_in.department,
                   "the department's code (\"\": no department)")
      ->required();

  auto* staff_cmd = app.add_subcommand("staff", "staff members and their sign-in (admin)");
  staff_cmd->require_subcommand(1);
  auto* staff_list = staff_cmd->add_subcommand("list", "every staff member");
  staff_list->add_option("--format", org_format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  forecast::cli::StaffInput staff_in;
  auto* staff_add = staff_cmd->add_subcommand("add", "add a staff member (or change them)");
  staff_add->add_option("--code", staff_in.code, "staff code, e.g. CW0701")->required();
  staff_add->add_option("--name", staff_in.name, "name");
  staff_add->add_option("--role", staff_in.role, "CASEWORKER, TEAM_LEADER, MANAGER or ADMIN")
      ->required();
  staff_add->add_option("--team", staff_in.team, "team code (caseworkers and team leaders)");
  std::string staff_code, staff_value, staff_team;
  auto* staff_deactivate =
      staff_cmd->add_subcommand("deactivate", "a staff member who left: no more sign-ins");
  staff_deactivate->add_option("--code", staff_code, "staff code")->required();
  auto* staff_activate = staff_cmd->add_subcommand("activate", "reactivate a staff member");
  staff_activate->add_option("--code", staff_code, "staff code")->required();
  auto* staff_set_role = staff_cmd->add_subcommand("set-role", "change a staff member's role");
  staff_set_role->add_option("--code", staff_code, "staff code")->required();
  staff_set_role->add_option("--role", staff_value, "CASEWORKER, TEAM_LEADER, MANAGER or ADMIN")
      ->required();
  auto* staff_role_team =
      staff_set_role->add_option("--team", staff_team, "the team too (\"\": no team)");
  auto* staff_set_team = staff_cmd->add_subcommand("set-team", "move a staff member to a team");
  staff_set_team->add_option("--code", staff_code, "staff code")->required();
  staff_set_team->add_option("--team", staff_value, "team code (\"\": no team)")->required();
  auto* staff_rename = staff_cmd->add_subcommand("rename", "change a staff member's name");
  staff_rename->add_option("--code", staff_code, "staff code")->required();
  staff_rename->add_option("--name", staff_value, "the new name")->required();
  auto* staff_setup_code = staff_cmd->add_subcommand(
      "setup-code", "a one-time set-up code: the staff member's first sign-in");
  staff_setup_code->add_option("--code", staff_code, "staff code")->required();

  auto* metric_cmd = app.add_subcommand("metric", "milestone metrics (admin)");
  metric_cmd->require_subcommand(1);
  auto* metric_list = metric_cmd->add_subcommand("list", "every milestone metric");
  metric_list->add_option("--format", org_format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  forecast::cli::MetricInput metric_in;
  auto* metric_set = metric_cmd->add_subcommand("set", "add or change a milestone metric");
  metric_set->add_option("--code", metric_in.code, "code, e.g. internships")->required();
  metric_set->add_option("--label-da", metric_in.label_da, "Danish label")->required();
  metric_set->add_option("--label-en", metric_in.label_en, "English label (default: Danish)");
  metric_set
      ->add_option("--kind", metric_in.kind, "CLOSURES, FIELD_TURNED_TRUE, FIELD_SET or CASELOAD")
      ->required();
  metric_set->add_option("--group", metric_in.outcome_group,
                         "CLOSURES: only this outcome group (default: every outcome)");
  metric_set->add_option("--field", metric_in.field_code, "FIELD_*: the case field's code");
  metric_set->add_option("--choice", metric_in.choice, "FIELD_SET on a choice field: the choice");
  metric_set->add_option("--order", metric_in.sort_order, "position in lists");
  metric_set->add_flag("--lower-is-better", metric_in.lower_is_better,
                       "on track means at or below target (e.g. caseload)");
  metric_set->add_flag("--inactive", metric_in.inactive, "no longer counted");

  std::string changes_kind, changes_code, changes_format = "table";
  int changes_limit = 100;
  auto* audit_changes = audit->add_subcommand(
      "changes", "set-up changes: organisation, staff, catalogue, fields, metrics (admins only)");
  audit_changes->add_option("--kind", changes_kind,
                            "ORG_UNIT, STAFF, CATALOGUE_ENTRY, CASE_FIELD or MILESTONE_METRIC");
  audit_changes->add_option("--code", changes_code, "only this target (catalogue: KIND/CODE)");
  audit_changes->add_option("--limit", changes_limit, "at most this many changes (0: all)");
  audit_changes->add_option("--format", changes_format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));

  uint64_t seed = 20261122;
  std::string size = "demo", today;
  auto* generate =
      app.add_subcommand("generate-demo", "write a synthetic job centre as import CSVs");
  generate->add_option("--out", dir, "folder to write into")->required();
  generate->add_option("--seed", seed, "random seed (same seed, same job centre)");
  generate->add_option("--size", size, "demo or large")->check(CLI::IsMember({"demo", "large"}));
  bool with_fields = false;
  generate->add_flag("--with-fields", with_fields,
                     "cases.csv also carries the yes/no field has_cv (set it up before importing)");
  generate->add_option("--today", today,
                       "the generated history ends on this date YYYY-MM-DD (default: today)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  forecast::cli::CommandEnv env;
  if (generate->parsed()) {
    if (today.empty()) today = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
    return forecast::cli::GenerateDemo(env, dir, seed, size, today, with_fields);
  }

  // The identity: flags override what `login` stored. The stored tokens belong to the stored
  // staff member only.
  const std::filesystem::path config = forecast::cli::ConfigPath();
  absl::StatusOr<forecast::cli::Identity> stored = forecast::cli::LoadIdentity(config);
  if (stored.ok()) {
    env.identity = *stored;
  } else if (!login->parsed() &&
             (flags.server.empty() || flags.job_centre.empty() || flags.staff.empty())) {
    std::cerr << "forecastctl: " << stored.status().message() << "\n";
    return 2;
  }
  const bool someone_else =
      (!flags.job_centre.empty() && flags.job_centre != env.identity.job_centre) ||
      (!flags.staff.empty() && flags.staff != env.identity.staff);
  if (someone_else || login->parsed()) {
    env.identity.session_token.clear();
    env.identity.session_expires_at.clear();
    env.identity.access_token.clear();
    env.identity.access_expires_at.clear();
  }
  if (!flags.server.empty()) env.identity.server = flags.server;
  if (!flags.forecast.empty()) env.identity.forecast = flags.forecast;
  if (!flags.job_centre.empty()) env.identity.job_centre = flags.job_centre;
  if (!flags.staff.empty()) env.identity.staff = flags.staff;
  if (const char* ca = std::getenv("FORECAST_CA"); ca != nullptr && *ca != '\0')
    env.identity.ca_file = ca;
  if (!flags.ca_file.empty()) env.identity.ca_file = flags.ca_file;
  if (!env.identity.ca_file.empty() && access(env.identity.ca_file.c_str(), R_OK) != 0) {
    std::cerr << "forecastctl: --ca: cannot read " << env.identity.ca_file << "\n";
    return 2;
  }
  if (env.identity.server.empty() || env.identity.job_centre.empty() ||
      env.identity.staff.empty()) {
    std::cerr << "forecastctl: --server, --job-centre and --staff are required\n";
    return 2;
  }
  if (login->parsed()) return forecast::cli::Login(env, login_input, config);
  if (logout->parsed()) return forecast::cli::Logout(env, everywhere, config);
  if (password_change->parsed()) return forecast::cli::ChangePassword(env, password_stdin, config);
  // Every other command acts with the stored session's access token, renewed when it expires.
  if (absl::Status renewed = forecast::cli::RenewAccessToken(env, config); !renewed.ok()) {
    std::cerr << "forecastctl: " << absl::StatusCodeToString(renewed.code()) << ": "
              << renewed.message() << "\n";
    return 1;
  }

  const Format f = ParseFormat(table_format);
  const Format ef = ParseFormat(export_format);
  if (setup_code->parsed()) return forecast::cli::IssueSetupCode(env, setup_staff);
  if (audit_logins->parsed()) {
    return forecast::cli::ListAuthEvents(env, audit_staff, audit_since, audit_limit,
                                         ParseFormat(audit_format));
  }
  if (app.got_subcommand("whoami")) return forecast::cli::WhoAmI(env);
  if (list->parsed()) return forecast::cli::ListCases(env, filter, f);
  if (audit_reads->parsed()) {
    return forecast::cli::ListCaseReads(env, read_filter, ParseFormat(reads_format), reads_csv);
  }
  if (show->parsed()) return forecast::cli::ShowCase(env, case_ref, f);
  if (expect->parsed()) return forecast::cli::RecordExpectation(env, case_ref, expectation);
  if (action_add->parsed()) return forecast::cli::AddAction(env, case_ref, action_in);
  if (action_import->parsed()) return forecast::cli::ImportActions(env, actions_file);
  if (follow_up->parsed()) return forecast::cli::FollowUpAction(env, case_ref, follow);
  if (close->parsed()) return forecast::cli::CloseCase(env, case_ref, on, outcome);
  if (reopen->parsed()) return forecast::cli::ReopenCase(env, case_ref, on);
  if (reassign->parsed()) return forecast::cli::ReassignCase(env, case_ref, to, on);
  if (import->parsed()) {
    return forecast::cli::Import(env, dir, import_options, progress || isatty(STDERR_FILENO) == 1,
                                 report_csv);
  }
  if (projection->parsed()) return forecast::cli::PrintProjection(env, query);
  if (export_projection->parsed()) return forecast::cli::ExportProjection(env, query, ef);
  if (export_dashboard->parsed()) return forecast::cli::ExportDashboard(env, team, as_of, ef);
  if (export_milestones->parsed()) {
    return forecast::cli::ExportMilestones(env, team, caseworker, from_month, to_month, ef);
  }
  if (export_cases->parsed()) return forecast::cli::ExportCases(env, dir);
  if (catalogue_show->parsed()) return forecast::cli::ShowCatalogue(env);
  if (catalogue_set->parsed()) return forecast::cli::SetCatalogueEntry(env, entry_in);
  if (field_set->parsed()) return forecast::cli::SetCaseField(env, field_in);
  const Format of = ParseFormat(org_format);
  if (org_show->parsed() || staff_list->parsed()) return forecast::cli::ShowOrganisation(env, of);
  if (org_add_department->parsed() || org_add_team->parsed() || org_rename->parsed() ||
      org_move->parsed()) {
    using Kind = forecast::cli::UnitInput::Kind;
    unit_in.kind = org_add_department->parsed() ? Kind::kDepartment
                   : org_add_team->parsed()     ? Kind::kTeam
                   : org_rename->parsed()       ? Kind::kRename
                                                : Kind::kMove;
    return forecast::cli::SetUnit(env, unit_in);
  }
  if (staff_add->parsed()) return forecast::cli::AddStaff(env, staff_in);
  if (staff_setup_code->parsed()) return forecast::cli::IssueSetupCode(env, staff_code);
  if (staff_deactivate->parsed() || staff_activate->parsed() || staff_set_role->parsed() ||
      staff_set_team->parsed() || staff_rename->parsed()) {
    forecast::cli::StaffEdit edit;
    if (staff_deactivate->parsed()) edit.active = false;
    if (staff_activate->parsed()) edit.active = true;
    if (staff_set_role->parsed()) {
      edit.role = staff_value;
      if (staff_role_team->count() > 0) edit.team = staff_team;
    }
    if (staff_set_team->parsed()) edit.team = staff_value;
    if (staff_rename->parsed()) edit.name = staff_value;
    return forecast::cli::ChangeStaff(env, staff_code, edit);
  }
  if (metric_list->parsed()) return forecast::cli::ListMetrics(env, of);
  if (metric_set->parsed()) return forecast::cli::SetMetric(env, metric_in);
  if (audit_changes->parsed()) {
    return forecast::cli::ListAdminChanges(env, changes_kind, changes_code, changes_limit,
                                           ParseFormat(changes_format));
  }
  std::cerr << app.help();
  return 2;
}
