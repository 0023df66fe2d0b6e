// The job centre's set-up from the command line: departments and teams, staff, milestone metrics
// and the set-up audit trail - the same as the web app's /admin, through the case service's
// set-up RPCs (UpsertOrgUnit, UpsertStaff, UpsertMilestoneMetric, ListAdminChanges), which check,
// authorise (admins only) and audit every change. No database connection string is needed.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/command_support.h"
#include "clients/cli/commands.h"
#include "clients/cli/csv.h"
#include "services/common/status.h"

namespace forecast::cli {
namespace {

absl::StatusOr<v1::Organisation> ReadOrganisation(const CommandEnv& env,
                                                  v1::CaseService::Stub& stub) {
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::Organisation organisation;
  grpc::Status status = stub.GetOrganisation(&context, v1::GetOrganisationRequest(), &organisation);
  if (!status.ok()) return FromGrpcStatus(status);
  return organisation;
}

int SendUnit(const CommandEnv& env, v1::CaseService::Stub& stub, const v1::OrgUnit& unit,
             const std::string& done) {
  v1::UpsertOrgUnitRequest request;
  *request.mutable_unit() = unit;
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::Organisation organisation;
  grpc::Status status = stub.UpsertOrgUnit(&context, request, &organisation);
  if (!status.ok()) return Fail(env, status);
  *env.out << done << "\n";
  return 0;
}

int SendStaff(const CommandEnv& env, v1::CaseService::Stub& stub, const v1::StaffMember& staff,
              const std::string& done) {
  v1::UpsertStaffRequest request;
  *request.mutable_staff() = staff;
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::Organisation organisation;
  grpc::Status status = stub.UpsertStaff(&context, request, &organisation);
  if (!status.ok()) return Fail(env, status);
  *env.out << done << "\n";
  return 0;
}

// ROLE as typed (any case, '-' or '_'); ROLE_UNSPECIFIED when it names no role.
v1::Role ParseRoleArg(std::string text) {
  text = absl::AsciiStrToUpper(text);
  std::replace(text.begin(), text.end(), '-', '_');
  v1::Role role = v1::ROLE_UNSPECIFIED;
  if (!v1::Role_Parse(text, &role)) return v1::ROLE_UNSPECIFIED;
  return role;
}

const v1::OrgUnit* FindUnit(const v1::Organisation& org, const std::string& code) {
  for (const v1::OrgUnit& unit : org.units())
    if (unit.code() == code) return &unit;
  return nullptr;
}

}  // namespace

int ShowOrganisation(const CommandEnv& env, Format format) {
  auto stub = CaseStub(env);
  absl::StatusOr<v1::Organisation> org = ReadOrganisation(env, *stub);
  if (!org.ok()) return Fail(env, org.status());
  if (format == Format::kJson) return PrintJson(env, *org);
  std::vector<std::vector<std::string>> units = {{"kind", "code", "name", "department"}};
  for (const v1::OrgUnit& u : org->units())
    units.push_back({v1::OrgUnit::Kind_Name(u.kind()), u.code(), u.name(), u.parent()});
  std::vector<std::vector<std::string>> staff = {{"code", "name", "role", "team", "active"}};
  for (const v1::StaffMember& s : org->staff()) {
    staff.push_back(
        {s.code(), s.display_name(), v1::Role_Name(s.role()), s.team(), s.active() ? "yes" : "no"});
  }
  if (format == Format::kCsv) {
    for (const auto& row : staff) WriteCsvRow(*env.out, row);
    return 0;
  }
  *env.out << org->job_centre_name() << " (" << org->job_centre() << ")\n\n";
  PrintTable(*env.out, units);
  *env.out << "\n";
  PrintTable(*env.out, staff);
  return 0;
}

int SetUnit(const CommandEnv& env, const UnitInput& in) {
  auto stub = CaseStub(env);
  v1::OrgUnit unit;
  unit.set_code(in.code);
  unit.set_name(in.name);
  unit.set_parent(in.department);
  if (in.kind == UnitInput::Kind::kDepartment || in.kind == UnitInput::Kind::kTeam) {
    unit.set_kind(in.kind == UnitInput::Kind::kDepartment ? v1::OrgUnit::DEPARTMENT
                                                          : v1::OrgUnit::TEAM);
    return SendUnit(env, *stub, unit,
                    absl::StrCat("saved ", v1::OrgUnit::Kind_Name(unit.kind()), " ", in.code));
  }
  // Rename or move: the unit as it is, with the one change.
  absl::StatusOr<v1::Organisation> org = ReadOrganisation(env, *stub);
  if (!org.ok()) return Fail(env, org.status());
  const v1::OrgUnit* existing = FindUnit(*org, in.code);
  if (existing == nullptr) {
    *env.err << "forecastctl: --code: no department or team \"" << in.code << "\"\n";
    return 1;
  }
  unit = *existing;
  if (in.kind == UnitInput::Kind::kRename) {
    unit.set_name(in.name);
    return SendUnit(env, *stub, unit, absl::StrCat("renamed ", in.code, " to \"", in.name, "\""));
  }
  if (unit.kind() != v1::OrgUnit::TEAM) {
    *env.err << "forecastctl: --code: \"" << in.code << "\" is a department; only teams move\n";
    return 1;
  }
  unit.set_parent(in.department);
  return SendUnit(env, *stub, unit,
                  in.department.empty()
                      ? absl::StrCat("moved team ", in.code, " out of its department")
                      : absl::StrCat("moved team ", in.code, " to ", in.department));
}

int AddStaff(const CommandEnv& env, const StaffInput& in) {
  const v1::Role role = ParseRoleArg(in.role);
  if (role == v1::ROLE_UNSPECIFIED) {
    *env.err << "forecastctl: --role: \"" << in.role
             << "\" is not CASEWORKER, TEAM_LEADER, MANAGER or ADMIN\n";
    return 2;
  }
  v1::StaffMember staff;
  staff.set_code(in.code);
  staff.set_display_name(in.name);
  staff.set_role(role);
  staff.set_team(in.team);
  staff.set_active(true);
  auto stub = CaseStub(env);
  return SendStaff(
      env, *stub, staff,
      absl::StrCat("saved ", v1::Role_Name(role), " ", in.code,
                   in.team.empty() ? "" : absl::StrCat(" in team ", in.team),
                   "; issue a set-up code with: forecastctl staff setup-code ", in.code));
}

int ChangeStaff(const CommandEnv& env, const std::string& code, const StaffEdit& edit) {
  auto stub = CaseStub(env);
  absl::StatusOr<v1::Organisation> org = ReadOrganisation(env, *stub);
  if (!org.ok()) return Fail(env, org.status());
  const auto it = std::find_if(org->staff().begin(), org->staff().end(),
                               [&](const v1::StaffMember& s) { return s.code() == code; });
  if (it == org->staff().end()) {
    *env.err << "forecastctl: --code: no staff member \"" << code << "\" in " << org->job_centre()
             << "\n";
    return 1;
  }
  v1::StaffMember staff = *it;
  std::vector<std::string> changes;
  if (edit.role.has_value()) {
    const v1::Role role = ParseRoleArg(*edit.role);
    if (role == v1::ROLE_UNSPECIFIED) {
      *env.err << "forecastctl: --role: \"" << *edit.role
               << "\" is not CASEWORKER, TEAM_LEADER, MANAGER or ADMIN\n";
      return 2;
    }
    staff.set_role(role);
    changes.push_back(absl::StrCat("role ", v1::Role_Name(role)));
  }
  if (edit.team.has_value()) {
    staff.set_team(*edit.team);
    changes.push_back(edit.team->empty() ? "no team" : absl::StrCat("team ", *edit.team));
  }
  if (edit.name.has_value()) {
    staff.set_display_name(*edit.name);
    changes.push_back(absl::StrCat("name \"", *edit.name, "\""));
  }
  if (edit.active.has_value()) {
    staff.set_active(*edit.active);
    changes.push_back(*edit.active ? "active" : "deactivated");
  }
  std::string done = absl::StrCat("staff ", code, ":");
  for (const std::string& change : changes) absl::StrAppend(&done, " ", change);
  return SendStaff(env, *stub, staff, done);
}

int ListMetrics(const CommandEnv& env, Format format) {
  auto stub = CaseStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::MilestoneMetricSettings metrics;
  grpc::Status status = stub->ListMilestoneMetricSettings(
      &context, v1::ListMilestoneMetricSettingsRequest(), &metrics);
  if (!status.ok()) return Fail(env, status);
  if (format == Format::kJson) return PrintJson(env, metrics);
  std::vector<std::vector<std::string>> rows = {
      {"code", "label_da", "label_en", "kind", "counts", "better", "order", "active"}};
  for (const v1::MilestoneMetricSetting& m : metrics.metrics()) {
    std::string counts = m.kind() == "CLOSURES" ? (m.outcome_group().empty()
                                                       ? std::string("every outcome")
                                                       : absl::StrCat("group ", m.outcome_group()))
                                                : m.field_code();
    if (!m.choice().empty()) absl::StrAppend(&counts, " = ", m.choice());
    rows.push_back({m.code(), m.label_da(), m.label_en(), m.kind(), counts,
                    m.higher_is_better() ? "higher" : "lower", absl::StrCat(m.sort_order()),
                    m.active() ? "yes" : "no"});
  }
  if (format == Format::kCsv) {
    for (const auto& row : rows) WriteCsvRow(*env.out, row);
  } else {
    PrintTable(*env.out, rows);
  }
  return 0;
}

int SetMetric(const CommandEnv& env, const MetricInput& in) {
  v1::UpsertMilestoneMetricRequest request;
  v1::MilestoneMetricSetting* m = request.mutable_metric();
  m->set_code(in.code);
  m->set_label_da(in.label_da);
  m->set_label_en(in.label_en);
  m->set_kind(absl::AsciiStrToUpper(in.kind));
  m->set_outcome_group(in.outcome_group);
  m->set_field_code(in.field_code);
  m->set_choice(in.choice);
  m->set_higher_is_better(!in.lower_is_better);
  m->set_sort_order(in.sort_order);
  m->set_active(!in.inactive);
  auto stub = CaseStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::MilestoneMetricSettings metrics;
  grpc::Status status = stub->UpsertMilestoneMetric(&context, request, &metrics);
  if (!status.ok()) return Fail(env, status);
  *env.out << "saved milestone metric " << in.code << "\n";
  return 0;
}

int ListAdminChanges(const CommandEnv& env, const std::string& kind, const std::string& code,
                     int limit, Format format) {
  auto stub = CaseStub(env);
  v1::ListAdminChangesRequest request;
  request.set_target_kind(absl::AsciiStrToUpper(kind));
  request.set_target_code(code);
  v1::ListAdminChangesResponse all;
  while (limit <= 0 || all.changes_size() < limit) {
    request.set_page_size(limit <= 0 ? 500 : std::min(500, limit - all.changes_size()));
    grpc::ClientContext context;
    PrepareContext(&context, env.identity, kCallTimeout);
    v1::ListAdminChangesResponse page;
    grpc::Status status = stub->ListAdminChanges(&context, request, &page);
    if (!status.ok()) return Fail(env, status);
    for (v1::AdminChange& change : *page.mutable_changes()) *all.add_changes() = std::move(change);
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (format == Format::kJson) return PrintJson(env, all);
  std::vector<std::vector<std::string>> rows = {
      {"at", "by", "call", "kind", "code", "before", "after"}};
  for (const v1::AdminChange& c : all.changes()) {
    rows.push_back({c.changed_at(), c.changed_by().empty() ? "(forecast-admin)" : c.changed_by(),
                    c.call(), c.target_kind(), c.target_code(), c.before_json(), c.after_json()});
  }
  if (format == Format::kCsv) {
    for (const auto& row : rows) WriteCsvRow(*env.out, row);
  } else {
    PrintTable(*env.out, rows);
    *env.out << all.changes_size() << " change(s)\n";
  }
  return 0;
}

}  // namespace forecast::cli
