#include "clients/cli/synthetic_csv.h"

#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cli/csv.h"
#include "clients/cli/import_files.h"

namespace forecast::cli {
namespace {

std::string Day(const forecasting::Date& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year, d.month, d.day);
}

// TL01 for team T01: the team leader's code.
std::string TeamLeaderCode(const std::string& team) {
  std::string digits;
  for (char c : team) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  return absl::StrCat("TL", digits.empty() ? team : digits);
}

}  // namespace

std::string DemoHasCv(const std::string& case_ref) {
  uint32_t hash = 2166136261u;  // FNV-1a: stable across platforms and runs
  for (unsigned char c : case_ref) hash = (hash ^ c) * 16777619u;
  return hash % 10 < 7 ? "ja" : "nej";
}

absl::Status WriteSyntheticCentre(const forecasting::SyntheticJobCentre& centre,
                                  const std::filesystem::path& dir, bool with_fields) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat(dir.string(), ": ", ec.message()));
  auto write = [&dir](const char* name, const std::vector<std::string>& header,
                      auto&& rows) -> absl::Status {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    WriteCsvRow(out, header);
    rows(out);
    out.flush();
    if (!out)
      return absl::UnavailableError(absl::StrCat((dir / name).string(), ": cannot be written"));
    return absl::OkStatus();
  };

  std::vector<std::string> case_columns = RequiredColumns(kCasesFile);
  if (with_fields) case_columns.push_back("has_cv");
  absl::Status status = write(kCasesFile, case_columns, [&](std::ostream& out) {
    for (const auto& c : centre.cases) {
      std::vector<std::string> row = {c.case_ref, c.case_type, Day(c.opened_on), c.current_team,
                                      c.current_caseworker};
      if (with_fields) row.push_back(DemoHasCv(c.case_ref));
      WriteCsvRow(out, row);
    }
  });
  if (!status.ok()) return status;
  status = write(kExpectationsFile, RequiredColumns(kExpectationsFile), [&](std::ostream& out) {
    for (const auto& e : centre.expectations) {
      WriteCsvRow(out, {e.case_ref, Day(e.recorded_on), e.recorded_by, e.expected_outcome,
                        absl::StrFormat("%04d-%02d", e.expected_year, e.expected_month), e.risk});
    }
  });
  if (!status.ok()) return status;
  status = write(kClosuresFile, RequiredColumns(kClosuresFile), [&](std::ostream& out) {
    for (const auto& c : centre.closures)
      WriteCsvRow(out, {c.case_ref, Day(c.closed_on), c.outcome});
  });
  if (!status.ok()) return status;
  status = write(kReassignmentsFile, RequiredColumns(kReassignmentsFile), [&](std::ostream& out) {
    for (const auto& r : centre.reassignments)
      WriteCsvRow(out, {r.case_ref, Day(r.on), r.from, r.to});
  });
  if (!status.ok()) return status;
  status = write("units.csv", {"code", "name", "kind", "parent"}, [&](std::ostream& out) {
    for (const auto& d : centre.departments) WriteCsvRow(out, {d.code, d.name, "DEPARTMENT", ""});
    for (const auto& t : centre.teams) WriteCsvRow(out, {t.code, t.name, "TEAM", t.department});
  });
  if (!status.ok()) return status;
  status = write("staff.csv", {"code", "name", "role", "team"}, [&](std::ostream& out) {
    for (const auto& t : centre.teams) {
      WriteCsvRow(out, {TeamLeaderCode(t.code), absl::StrCat("Teamleder, ", t.name), "TEAM_LEADER",
                        t.code});
    }
    for (const auto& cw : centre.caseworkers)
      WriteCsvRow(out, {cw.code, cw.name, "CASEWORKER", cw.team});
    WriteCsvRow(out, {"MGR1", "Centerchef", "MANAGER", ""});
    WriteCsvRow(out, {"ADM1", "Administrator", "ADMIN", ""});
  });
  if (!status.ok()) return status;
  return write("actions.csv", {"case_ref", "description", "owner", "due_on"},
               [&](std::ostream& out) {
                 for (const auto& a : centre.actions) {
                   if (a.done) continue;
                   WriteCsvRow(out, {a.case_ref, a.description, a.owner, Day(a.due_on)});
                 }
               });
}

}  // namespace forecast::cli
