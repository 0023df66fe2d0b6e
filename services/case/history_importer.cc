#include "services/case/history_importer.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "services/case/case_rules.h"
#include "services/common/text_checks.h"

namespace forecast {
namespace {

using v1::CatalogueEntry;

constexpr char kCasesFile[] = "cases.csv";
constexpr char kExpectationsFile[] = "expectations.csv";
constexpr char kClosuresFile[] = "closures.csv";
constexpr char kReassignmentsFile[] = "reassignments.csv";
constexpr int kMaxYearsBack = 50;

// Collects row errors; each row reports its first problem per field.
class Errors {
 public:
  void Add(const char* file, int64_t line, absl::string_view field, absl::string_view message) {
    ++total_;
    if (static_cast<int>(report_.size()) >= kMaxReportedImportErrors) return;
    v1::ImportRowError error;
    error.set_file(file);
    error.set_line(line);
    error.set_field(std::string(field));
    error.set_message(std::string(message));
    report_.push_back(std::move(error));
  }
  // Adds a status's message (which starts "field: ..."): the field part is given separately.
  void Add(const char* file, int64_t line, absl::string_view field, const absl::Status& status) {
    Add(file, line, field, status.message());
  }
  int64_t total() const { return total_; }
  void MoveTo(v1::ImportReport& report) {
    for (v1::ImportRowError& error : report_) *report.add_errors() = std::move(error);
    if (total_ > static_cast<int64_t>(report_.size())) {
      v1::ImportRowError more;
      more.set_message(absl::StrCat(total_ - static_cast<int64_t>(report_.size()),
                                    " more bad rows are not listed"));
      *report.add_errors() = std::move(more);
    }
  }

 private:
  std::vector<v1::ImportRowError> report_;
  int64_t total_ = 0;
};

struct KnownStaff {
  std::string team_code;
};

// The case as the import builds it.
struct Draft {
  bool valid = false;  // the case's own row was good: its dates can anchor the other rows' checks
  int64_t line = 0;
  ImportPlan::Case plan;
  std::optional<absl::CivilDay> closed_on;
  int64_t closure_line = 0;
};

int KindOrder(const std::string& kind) {
  if (kind == "REASSIGNED") return 0;
  if (kind == "EXPECTATION") return 1;
  return 2;  // CLOSED last on its day
}

}  // namespace

absl::StatusOr<v1::ImportReport> HistoryImporter::Run(const Caller& caller,
                                                      const std::vector<v1::ImportChunk>& chunks) {
  const bool dry_run = !chunks.empty() && chunks.front().dry_run();
  const bool create_missing = !chunks.empty() && chunks.front().create_missing_staff();
  const bool holder_at_opening = !chunks.empty() && chunks.front().holder_at_opening();
  const absl::CivilDay today = clock_.Today();
  const absl::CivilDay earliest(today.year() - kMaxYearsBack, 1, 1);

  absl::StatusOr<v1::Catalogue> catalogue_or = store_.LoadCatalogue(caller.job_centre_id);
  if (!catalogue_or.ok()) return catalogue_or.status();
  const CatalogueView catalogue(std::move(*catalogue_or));
  absl::StatusOr<v1::Organisation> organisation = store_.LoadOrganisation(caller.job_centre_id);
  if (!organisation.ok()) return organisation.status();
  std::set<std::string> teams;
  for (const v1::OrgUnit& unit : organisation->units()) {
    if (unit.kind() == v1::OrgUnit::TEAM) teams.insert(unit.code());
  }
  std::set<std::string> other_units;  // departments: a code that cannot become a team
  for (const v1::OrgUnit& unit : organisation->units()) {
    if (unit.kind() != v1::OrgUnit::TEAM) other_units.insert(unit.code());
  }
  std::unordered_map<std::string, KnownStaff> staff;
  for (const v1::StaffMember& member : organisation->staff())
    staff[member.code()] = {member.team()};

  Errors errors;
  ImportPlan plan;
  plan.job_centre_id = caller.job_centre_id;
  plan.actor_id = caller.staff_id;
  std::set<std::string> new_teams;
  std::map<std::string, std::string> new_staff;  // code -> team

  // Resolves a team code, creating it when allowed. False (and an error) when unknown.
  auto resolve_team = [&](const char* file, int64_t line, const char* field,
                          const std::string& code) {
    if (absl::Status s = CheckCode(code, field); !s.ok()) {
      errors.Add(file, line, field, s);
      return false;
    }
    if (teams.count(code) > 0 || new_teams.count(code) > 0) return true;
    if (other_units.count(code) > 0) {
      errors.Add(file, line, field,
                 absl::StrCat(field, ": \"", code, "\" is a department, not a team"));
      return false;
    }
    if (!create_missing) {
      errors.Add(
          file, line, field,
          absl::StrCat(field, ": no team \"", code,
                       "\" in this job centre (an admin may import with create_missing_staff)"));
      return false;
    }
    new_teams.insert(code);
    return true;
  };
  // Resolves a staff code, creating the member in `team` when allowed.
  auto resolve_staff = [&](const char* file, int64_t line, const char* field,
                           const std::string& code, const std::string& team) {
    if (absl::Status s = CheckCode(code, field); !s.ok()) {
      errors.Add(file, line, field, s);
      return false;
    }
    if (staff.count(code) > 0 || new_staff.count(code) > 0) return true;
    if (!create_missing) {
      errors.Add(
          file, line, field,
          absl::StrCat(field, ": no staff member \"", code,
                       "\" in this job centre (an admin may import with create_missing_staff)"));
      return false;
    }
    new_staff[code] = team;
    return true;
  };
  auto team_of = [&](const std::string& code) -> std::string {
    auto it = staff.find(code);
    if (it != staff.end()) return it->second.team_code;
    auto created = new_staff.find(code);
    return created != new_staff.end() ? created->second : std::string();
  };

  // cases.csv
  std::unordered_map<std::string, Draft> drafts;
  std::vector<std::string> order;  // case_refs in file order
  int64_t case_rows = 0, expectation_rows = 0, closure_rows = 0, reassignment_rows = 0;
  for (const v1::ImportChunk& chunk : chunks) {
    for (const v1::ImportCaseRow& row : chunk.cases()) {
      ++case_rows;
      const int64_t line = row.line();
      const int64_t before = errors.total();
      if (absl::Status s = CheckCaseRef(row.case_ref(), "case_ref"); !s.ok()) {
        errors.Add(kCasesFile, line, "case_ref", s);
        continue;
      }
      auto [it, inserted] = drafts.try_emplace(row.case_ref());
      if (!inserted) {
        errors.Add(
            kCasesFile, line, "case_ref",
            absl::StrCat("case_ref: \"", row.case_ref(),
                         "\" appears twice in cases.csv (first on line ", it->second.line, ")"));
        continue;
      }
      Draft& draft = it->second;
      draft.line = line;
      order.push_back(row.case_ref());
      if (catalogue.Find(CatalogueEntry::CASE_TYPE, row.case_type()) == nullptr) {
        errors.Add(kCasesFile, line, "case_type",
                   catalogue.CheckActive(CatalogueEntry::CASE_TYPE, row.case_type(), "case_type"));
      }
      absl::StatusOr<absl::CivilDay> opened = ParseDay(row.opened_on(), "opened_on");
      if (!opened.ok()) {
        errors.Add(kCasesFile, line, "opened_on", opened.status());
      } else if (absl::Status s = CheckDayWithin(*opened, earliest, "the earliest date accepted",
                                                 today, "today", "opened_on");
                 !s.ok()) {
        errors.Add(kCasesFile, line, "opened_on", s);
      }
      const bool team_ok = resolve_team(kCasesFile, line, "team", row.team());
      if (team_ok) resolve_staff(kCasesFile, line, "caseworker", row.caseworker(), row.team());
      nlohmann::json fields = nlohmann::json::object();
      std::map<std::string, std::string> extra(row.extra().begin(), row.extra().end());
      for (const auto& [code, text] : extra) {
        if (text.empty()) continue;
        const v1::CaseField* definition = catalogue.FindField(code);
        if (definition == nullptr) {
          errors.Add(kCasesFile, line, code,
                     absl::StrCat(code, ": is not a case field of this job centre"));
          continue;
        }
        absl::StatusOr<std::string> json = FieldTextToJson(*definition, text, code);
        if (!json.ok()) {
          errors.Add(kCasesFile, line, code, json.status());
          continue;
        }
        fields[code] = nlohmann::json::parse(*json);
      }
      if (errors.total() != before) continue;
      draft.valid = true;
      draft.plan.case_ref = row.case_ref();
      draft.plan.case_type = row.case_type();
      draft.plan.opened_on = *opened;
      draft.plan.caseworker_code = row.caseworker();
      draft.plan.team_code = row.team();
      draft.plan.fields_json = fields.dump();
    }
  }
  {
    std::vector<std::string> refs;
    for (const auto& [ref, draft] : drafts) refs.push_back(ref);
    absl::StatusOr<std::vector<std::string>> taken =
        store_.ExistingCaseRefs(caller.job_centre_id, refs);
    if (!taken.ok()) return taken.status();
    for (const std::string& ref : *taken) {
      Draft& draft = drafts[ref];
      errors.Add(kCasesFile, draft.line, "case_ref",
                 absl::StrCat("case_ref: case \"", ref, "\" already exists in this job centre"));
    }
  }

  // Looks up the case a history row names; reports rows naming no case of cases.csv. Rows of a
  // case whose own row was bad are checked but the case is not reported again.
  auto find_case = [&](const char* file, int64_t line, const std::string& ref) -> Draft* {
    auto it = drafts.find(ref);
    if (it == drafts.end()) {
      if (absl::Status s = CheckCaseRef(ref, "case_ref"); !s.ok()) {
        errors.Add(file, line, "case_ref", s);
      } else {
        errors.Add(file, line, "case_ref",
                   absl::StrCat("case_ref: \"", ref, "\" is not in cases.csv of this import"));
      }
      return nullptr;
    }
    return &it->second;
  };

  // closures.csv first: other rows must not come after the closure.
  for (const v1::ImportChunk& chunk : chunks) {
    for (const v1::ImportClosureRow& row : chunk.closures()) {
      ++closure_rows;
      const int64_t line = row.line();
      Draft* draft = find_case(kClosuresFile, line, row.case_ref());
      absl::StatusOr<absl::CivilDay> on = ParseDay(row.closed_on(), "closed_on");
      if (!on.ok()) errors.Add(kClosuresFile, line, "closed_on", on.status());
      const bool outcome_ok = catalogue.Find(CatalogueEntry::OUTCOME, row.outcome()) != nullptr;
      if (!outcome_ok) {
        errors.Add(kClosuresFile, line, "outcome",
                   catalogue.CheckActive(CatalogueEntry::OUTCOME, row.outcome(), "outcome"));
      }
      if (draft == nullptr || !on.ok()) continue;
      if (draft->closure_line != 0) {
        errors.Add(kClosuresFile, line, "case_ref",
                   absl::StrCat("case_ref: case \"", row.case_ref(),
                                "\" is closed twice (first on line ", draft->closure_line, ")"));
        continue;
      }
      draft->closure_line = line;
      if (draft->valid) {
        if (absl::Status s = CheckDayWithin(*on, draft->plan.opened_on, "the day the case opened",
                                            today, "today", "closed_on");
            !s.ok()) {
          errors.Add(kClosuresFile, line, "closed_on", s);
          continue;
        }
      }
      if (!outcome_ok) continue;
      draft->closed_on = *on;
      ImportPlan::Change change;
      change.kind = "CLOSED";
      change.on = *on;
      change.actor_code = caller.staff_code;
      change.outcome = row.outcome();
      draft->plan.changes.push_back(std::move(change));
    }
  }
  // A history row's day: parsed, and within the case's life.
  auto check_day = [&](const char* file, int64_t line, const char* field, const std::string& text,
                       const Draft* draft) -> std::optional<absl::CivilDay> {
    absl::StatusOr<absl::CivilDay> day = ParseDay(text, field);
    if (!day.ok()) {
      errors.Add(file, line, field, day.status());
      return std::nullopt;
    }
    if (draft == nullptr || !draft->valid)
      return day.ok() ? std::optional<absl::CivilDay>(*day) : std::nullopt;
    const absl::CivilDay last = draft->closed_on.value_or(today);
    if (absl::Status s =
            CheckDayWithin(*day, draft->plan.opened_on, "the day the case opened", last,
                           draft->closed_on ? "the day the case closed" : "today", field);
        !s.ok()) {
      errors.Add(file, line, field, s);
      return std::nullopt;
    }
    return *day;
  };

  for (const v1::ImportChunk& chunk : chunks) {
    for (const v1::ImportExpectationRow& row : chunk.expectations()) {
      ++expectation_rows;
      const int64_t line = row.line();
      const int64_t before = errors.total();
      Draft* draft = find_case(kExpectationsFile, line, row.case_ref());
      std::optional<absl::CivilDay> on =
          check_day(kExpectationsFile, line, "recorded_on", row.recorded_on(), draft);
      resolve_staff(kExpectationsFile, line, "recorded_by", row.recorded_by(),
                    draft != nullptr ? draft->plan.team_code : std::string());
      if (catalogue.Find(CatalogueEntry::OUTCOME, row.expected_outcome()) == nullptr) {
        errors.Add(kExpectationsFile, line, "expected_outcome",
                   catalogue.CheckActive(CatalogueEntry::OUTCOME, row.expected_outcome(),
                                         "expected_outcome"));
      }
      absl::StatusOr<absl::CivilMonth> month = ParseMonth(row.expected_month(), "expected_month");
      if (!month.ok()) {
        errors.Add(kExpectationsFile, line, "expected_month", month.status());
      } else if (draft != nullptr && draft->valid && on) {
        if (absl::Status s =
                CheckExpectedMonth(*month, draft->plan.opened_on, *on, "expected_month");
            !s.ok()) {
          errors.Add(kExpectationsFile, line, "expected_month", s);
        }
      }
      if (catalogue.Find(CatalogueEntry::RISK, row.risk()) == nullptr) {
        errors.Add(kExpectationsFile, line, "risk",
                   catalogue.CheckActive(CatalogueEntry::RISK, row.risk(), "risk"));
      }
      if (draft == nullptr) continue;
      if (errors.total() != before) continue;
      ImportPlan::Change change;
      change.kind = "EXPECTATION";
      change.on = *on;
      change.actor_code = row.recorded_by();
      change.outcome = row.expected_outcome();
      change.month = *month;
      change.risk = row.risk();
      draft->plan.changes.push_back(std::move(change));
    }
  }

  // Re-assignments: checked per case in date order, so that `from` can be compared with the
  // caseworker holding the case on that day.
  struct Reassignment {
    int64_t line;
    absl::CivilDay on;
    std::string from, to;
  };
  std::unordered_map<std::string, std::vector<Reassignment>> reassignments;
  for (const v1::ImportChunk& chunk : chunks) {
    for (const v1::ImportReassignmentRow& row : chunk.reassignments()) {
      ++reassignment_rows;
      const int64_t line = row.line();
      const int64_t before = errors.total();
      Draft* draft = find_case(kReassignmentsFile, line, row.case_ref());
      std::optional<absl::CivilDay> on = check_day(kReassignmentsFile, line, "on", row.on(), draft);
      resolve_staff(kReassignmentsFile, line, "from", row.from(),
                    draft != nullptr ? draft->plan.team_code : std::string());
      resolve_staff(kReassignmentsFile, line, "to", row.to(),
                    draft != nullptr ? draft->plan.team_code : std::string());
      if (row.from() == row.to() && !row.to().empty()) {
        errors.Add(kReassignmentsFile, line, "to", "to: is the same caseworker as from");
      }
      if (draft == nullptr) continue;
      if (errors.total() != before) continue;
      reassignments[row.case_ref()].push_back({line, *on, row.from(), row.to()});
    }
  }
  // Which caseworker cases.csv names: case systems export the current holder (for a closed case
  // the holder at closure), older files the holder at opening. With the chain of
  // re-assignments both are known ends of one chain: the holder at opening is the first `from`.
  // By default a file naming either end is accepted; with holder_at_opening (the older reading)
  // cases.csv must name the first `from`. When the chain breaks, the message names the case and
  // the reading assumed.
  const char* const reading =
      holder_at_opening ? "cases.csv read as the caseworker at opening (--holder-at-opening)"
                        : "cases.csv read as the current caseworker";
  for (auto& [ref, rows] : reassignments) {
    Draft& draft = drafts[ref];
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Reassignment& a, const Reassignment& b) { return a.on < b.on; });
    const std::string named = draft.plan.caseworker_code;
    bool broken = false;
    for (size_t i = 1; i < rows.size() && draft.valid; ++i) {
      if (rows[i].from != rows[i - 1].to) {
        errors.Add(
            kReassignmentsFile, rows[i].line, "from",
            absl::StrCat("from: case \"", ref,
                         "\": the chain of re-assignments breaks: it was handed to \"",
                         rows[i - 1].to, "\" on ", FormatDay(rows[i - 1].on), " (line ",
                         rows[i - 1].line, "), so it is held by \"", rows[i - 1].to, "\" on ",
                         FormatDay(rows[i].on), ", not by \"", rows[i].from, "\" (", reading, ")"));
        broken = true;
      }
    }
    if (draft.valid && !broken && holder_at_opening && named != rows.front().from) {
      errors.Add(kReassignmentsFile, rows.front().line, "from",
                 absl::StrCat(
                     "from: case \"", ref, "\": cases.csv (line ", draft.line, ") names \"", named,
                     "\", read as the caseworker at opening (--holder-at-opening), so the "
                     "first re-assignment, on ",
                     FormatDay(rows.front().on), ", would be from \"", named, "\", not \"",
                     rows.front().from, "\"",
                     named == rows.back().to ? "; it is the current caseworker: import without "
                                               "--holder-at-opening"
                                             : ""));
      broken = true;
    }
    if (draft.valid && !broken && named != rows.back().to && named != rows.front().from) {
      errors.Add(
          kReassignmentsFile, rows.front().line, "from",
          absl::StrCat(
              "from: case \"", ref, "\": cases.csv (line ", draft.line, ") names \"", named,
              "\", read as its current holder (as case systems export it; for a closed case the holder "
              "at closure), but the re-assignments hand it last to \"",
              rows.back().to, "\" on ", FormatDay(rows.back().on),
              "; read as the holder at opening, the first re-assignment "
              "would be from \"",
              named, "\", not \"", rows.front().from, "\""));
    }
    if (draft.valid && !broken) {
      // The holder at opening, and their team (the named team when the staff member is new).
      draft.plan.caseworker_code = rows.front().from;
      const std::string team = team_of(rows.front().from);
      if (!team.empty() && named != rows.front().from) draft.plan.team_code = team;
    }
    for (const Reassignment& row : rows) {
      ImportPlan::Change change;
      change.kind = "REASSIGNED";
      change.on = row.on;
      change.actor_code = caller.staff_code;
      change.caseworker_code = row.to;
      std::string team = team_of(row.to);
      change.team_code = team.empty() ? draft.plan.team_code : team;
      draft.plan.changes.push_back(std::move(change));
    }
  }

  v1::ImportReport report;
  report.set_cases(case_rows);
  report.set_expectations(expectation_rows);
  report.set_closures(closure_rows);
  report.set_reassignments(reassignment_rows);
  report.set_created_staff(static_cast<int64_t>(new_staff.size()));
  if (errors.total() > 0) {
    errors.MoveTo(report);
    return report;
  }
  if (dry_run) return report;

  for (const std::string& ref : order) {
    Draft& draft = drafts[ref];
    std::stable_sort(draft.plan.changes.begin(), draft.plan.changes.end(),
                     [](const ImportPlan::Change& a, const ImportPlan::Change& b) {
                       if (a.on != b.on) return a.on < b.on;
                       return KindOrder(a.kind) < KindOrder(b.kind);
                     });
    plan.cases.push_back(std::move(draft.plan));
  }
  plan.new_teams.assign(new_teams.begin(), new_teams.end());
  for (const auto& [code, team] : new_staff) plan.new_staff.push_back({code, team});
  absl::StatusOr<ImportCounts> counts = store_.Import(plan);
  if (!counts.ok()) return counts.status();
  report.set_committed(true);
  report.set_created_staff(counts->created_staff);
  return report;
}

}  // namespace forecast
