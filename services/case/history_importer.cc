#include "services/case/history_importer.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

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

// The files in the order the report lists them.
int FileRank(const char* file) {
  const absl::string_view name(file);
  if (name == kCasesFile) return 0;
  if (name == kExpectationsFile) return 1;
  if (name == kClosuresFile) return 2;
  return 3;
}

// Counts row errors and keeps the first kMaxReportedImportErrors by file and line (bounded
// memory however many rows are bad). With keep false it only counts.
class Errors {
 public:
  explicit Errors(bool keep) : keep_(keep) {}
  void Add(const char* file, int64_t line, absl::string_view field, absl::string_view message) {
    ++total_;
    if (!keep_) return;
    Entry entry{FileRank(file), line, total_, {}};
    entry.error.set_file(file);
    entry.error.set_line(line);
    entry.error.set_field(std::string(field));
    entry.error.set_message(std::string(message));
    entries_.push_back(std::move(entry));
    if (entries_.size() >= 2 * static_cast<size_t>(kMaxReportedImportErrors)) Trim();
  }
  // Adds a status's message (which starts "field: ..."): the field part is given separately.
  void Add(const char* file, int64_t line, absl::string_view field, const absl::Status& status) {
    Add(file, line, field, status.message());
  }
  int64_t total() const { return total_; }
  void MoveTo(v1::ImportReport& report) {
    Trim();
    std::sort(entries_.begin(), entries_.end(), Before);
    for (Entry& entry : entries_) *report.add_errors() = std::move(entry.error);
    if (total_ > static_cast<int64_t>(entries_.size())) {
      v1::ImportRowError more;
      more.set_message(absl::StrCat(total_ - static_cast<int64_t>(entries_.size()),
                                    " more bad rows are not listed"));
      *report.add_errors() = std::move(more);
    }
    entries_.clear();
  }

 private:
  struct Entry {
    int rank;
    int64_t line;
    int64_t serial;  // order found, for a row with several errors
    v1::ImportRowError error;
  };
  static bool Before(const Entry& a, const Entry& b) {
    return std::tie(a.rank, a.line, a.serial) < std::tie(b.rank, b.line, b.serial);
  }
  void Trim() {
    const size_t cap = kMaxReportedImportErrors;
    if (entries_.size() <= cap) return;
    std::nth_element(entries_.begin(), entries_.begin() + cap, entries_.end(), Before);
    entries_.resize(cap);
  }

  const bool keep_;
  std::vector<Entry> entries_;
  int64_t total_ = 0;
};

// Where a staff code is first named, in the order the rows are read: cases.csv, then
// expectations.csv, then reassignments.csv (`from` before `to`), each as received. A created
// staff member joins the team of that first row.
struct Mention {
  int file = 0;
  int64_t seq = 0;
  int sub = 0;
  bool operator<(const Mention& o) const {
    return std::tie(file, seq, sub) < std::tie(o.file, o.seq, o.sub);
  }
};

struct NewStaff {
  Mention first;
  std::string team;
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

// Checks the rows of one case at a time against the catalogue and the organisation. The teams
// and staff to create (with create_missing_staff) are collected across cases. Not thread-safe.
class CaseChecker {
 public:
  CaseChecker(const Caller& caller, const CatalogueView& catalogue,
              const v1::Organisation& organisation, bool create_missing, bool holder_at_opening,
              absl::CivilDay today, Errors& errors)
      : caller_(caller),
        catalogue_(catalogue),
        create_missing_(create_missing),
        holder_at_opening_(holder_at_opening),
        today_(today),
        earliest_(today.year() - kMaxYearsBack, 1, 1),
        errors_(errors) {
    for (const v1::OrgUnit& unit : organisation.units()) {
      if (unit.kind() == v1::OrgUnit::TEAM) {
        teams_.insert(unit.code());
      } else {
        other_units_.insert(unit.code());  // departments: a code that cannot become a team
      }
    }
    for (const v1::StaffMember& member : organisation.staff())
      staff_[member.code()] = member.team();
  }

  // Checks every row of `group`; `taken` says its case_ref exists in the job centre already.
  // A case whose own row is good is appended to `plan` (meaningful only when no row has an error).
  void Check(ImportGroup& group, bool taken, ImportPlan& plan);

  std::set<std::string> new_teams;
  std::map<std::string, NewStaff> new_staff;  // code -> first mention and team

 private:
  bool ResolveTeam(const char* file, int64_t line, const char* field, const std::string& code);
  bool ResolveStaff(Mention mention, const char* file, int64_t line, const char* field,
                    const std::string& code, const std::string& team);
  std::string TeamOf(const std::string& code) const;
  std::optional<absl::CivilDay> CheckDay(const char* file, int64_t line, const char* field,
                                         const std::string& text, const Draft* draft);

  const Caller& caller_;
  const CatalogueView& catalogue_;
  const bool create_missing_;
  const bool holder_at_opening_;
  const absl::CivilDay today_;
  const absl::CivilDay earliest_;
  Errors& errors_;
  std::set<std::string> teams_;
  std::set<std::string> other_units_;
  std::unordered_map<std::string, std::string> staff_;  // code -> team code
};

// Resolves a team code, creating it when allowed. False (and an error) when unknown.
bool CaseChecker::ResolveTeam(const char* file, int64_t line, const char* field,
                              const std::string& code) {
  if (absl::Status s = CheckCode(code, field); !s.ok()) {
    errors_.Add(file, line, field, s);
    return false;
  }
  if (teams_.count(code) > 0 || new_teams.count(code) > 0) return true;
  if (other_units_.count(code) > 0) {
    errors_.Add(file, line, field,
                absl::StrCat(field, ": \"", code, "\" is a department, not a team"));
    return false;
  }
  if (!create_missing_) {
    errors_.Add(
        file, line, field,
        absl::StrCat(field, ": no team \"", code,
                     "\" in this job centre (an admin may import with create_missing_staff)"));
    return false;
  }
  new_teams.insert(code);
  return true;
}

// Resolves a staff code, creating the member in `team` when allowed; the first mention decides
// the team.
bool CaseChecker::ResolveStaff(Mention mention, const char* file, int64_t line, const char* field,
                               const std::string& code, const std::string& team) {
  if (absl::Status s = CheckCode(code, field); !s.ok()) {
    errors_.Add(file, line, field, s);
    return false;
  }
  if (staff_.count(code) > 0) return true;
  auto it = new_staff.find(code);
  if (it != new_staff.end()) {
    if (mention < it->second.first) it->second = {mention, team};
    return true;
  }
  if (!create_missing_) {
    errors_.Add(
        file, line, field,
        absl::StrCat(field, ": no staff member \"", code,
                     "\" in this job centre (an admin may import with create_missing_staff)"));
    return false;
  }
  new_staff[code] = {mention, team};
  return true;
}

std::string CaseChecker::TeamOf(const std::string& code) const {
  auto it = staff_.find(code);
  if (it != staff_.end()) return it->second;
  auto created = new_staff.find(code);
  return created != new_staff.end() ? created->second.team : std::string();
}

// A history row's day: parsed, and within the case's life.
std::optional<absl::CivilDay> CaseChecker::CheckDay(const char* file, int64_t line,
                                                    const char* field, const std::string& text,
                                                    const Draft* draft) {
  absl::StatusOr<absl::CivilDay> day = ParseDay(text, field);
  if (!day.ok()) {
    errors_.Add(file, line, field, day.status());
    return std::nullopt;
  }
  if (draft == nullptr || !draft->valid) return *day;
  const absl::CivilDay last = draft->closed_on.value_or(today_);
  if (absl::Status s =
          CheckDayWithin(*day, draft->plan.opened_on, "the day the case opened", last,
                         draft->closed_on ? "the day the case closed" : "today", field);
      !s.ok()) {
    errors_.Add(file, line, field, s);
    return std::nullopt;
  }
  return *day;
}

void CaseChecker::Check(ImportGroup& group, bool taken, ImportPlan& plan) {
  const std::string& ref = group.case_ref;
  std::optional<Draft> draft_storage;
  Draft* draft = nullptr;

  // A case with more rows than one case may have was read only in part: refuse it whole.
  if (group.rows_left_out > 0) {
    const int64_t line = group.cases.empty() ? 0 : group.cases.front().row.line();
    errors_.Add(kCasesFile, line, "case_ref",
                absl::StrCat("case_ref: case \"", ref, "\" has ",
                             static_cast<int64_t>(group.rows()) + group.rows_left_out,
                             " rows in this import, more than the ", group.rows(),
                             " one case may have (the case service's --max-import-rows-per-case)"));
    return;
  }

  // cases.csv
  for (const StagedRow<v1::ImportCaseRow>& staged : group.cases) {
    const v1::ImportCaseRow& row = staged.row;
    const int64_t line = row.line();
    const int64_t before = errors_.total();
    if (absl::Status s = CheckCaseRef(row.case_ref(), "case_ref"); !s.ok()) {
      errors_.Add(kCasesFile, line, "case_ref", s);
      continue;
    }
    if (draft != nullptr) {
      errors_.Add(kCasesFile, line, "case_ref",
                  absl::StrCat("case_ref: \"", ref, "\" appears twice in cases.csv (first on line ",
                               draft->line, ")"));
      continue;
    }
    draft = &draft_storage.emplace();
    draft->line = line;
    if (catalogue_.Find(CatalogueEntry::CASE_TYPE, row.case_type()) == nullptr) {
      errors_.Add(kCasesFile, line, "case_type",
                  catalogue_.CheckActive(CatalogueEntry::CASE_TYPE, row.case_type(), "case_type"));
    }
    absl::StatusOr<absl::CivilDay> opened = ParseDay(row.opened_on(), "opened_on");
    if (!opened.ok()) {
      errors_.Add(kCasesFile, line, "opened_on", opened.status());
    } else if (absl::Status s = CheckDayWithin(*opened, earliest_, "the earliest date accepted",
                                               today_, "today", "opened_on");
               !s.ok()) {
      errors_.Add(kCasesFile, line, "opened_on", s);
    }
    const bool team_ok = ResolveTeam(kCasesFile, line, "team", row.team());
    if (team_ok) {
      ResolveStaff({0, staged.seq, 0}, kCasesFile, line, "caseworker", row.caseworker(),
                   row.team());
    }
    nlohmann::json fields = nlohmann::json::object();
    std::map<std::string, std::string> extra(row.extra().begin(), row.extra().end());
    for (const auto& [code, text] : extra) {
      if (text.empty()) continue;
      const v1::CaseField* definition = catalogue_.FindField(code);
      if (definition == nullptr) {
        errors_.Add(kCasesFile, line, code,
                    absl::StrCat(code, ": is not a case field of this job centre"));
        continue;
      }
      absl::StatusOr<std::string> json = FieldTextToJson(*definition, text, code);
      if (!json.ok()) {
        errors_.Add(kCasesFile, line, code, json.status());
        continue;
      }
      fields[code] = nlohmann::json::parse(*json);
    }
    if (errors_.total() != before) continue;
    draft->valid = true;
    draft->plan.case_ref = row.case_ref();
    draft->plan.case_type = row.case_type();
    draft->plan.opened_on = *opened;
    draft->plan.caseworker_code = row.caseworker();
    draft->plan.team_code = row.team();
    draft->plan.fields_json = fields.dump();
  }
  if (draft != nullptr && taken) {
    errors_.Add(kCasesFile, draft->line, "case_ref",
                absl::StrCat("case_ref: case \"", ref, "\" already exists in this job centre"));
  }

  // The case a history row names; rows naming no case of cases.csv are reported. Rows of a case
  // whose own row was bad are checked but the case is not reported again.
  auto find_case = [&](const char* file, int64_t line) -> Draft* {
    if (draft == nullptr) {
      if (absl::Status s = CheckCaseRef(ref, "case_ref"); !s.ok()) {
        errors_.Add(file, line, "case_ref", s);
      } else {
        errors_.Add(file, line, "case_ref",
                    absl::StrCat("case_ref: \"", ref, "\" is not in cases.csv of this import"));
      }
    }
    return draft;
  };

  // closures.csv first: other rows must not come after the closure.
  for (const StagedRow<v1::ImportClosureRow>& staged : group.closures) {
    const v1::ImportClosureRow& row = staged.row;
    const int64_t line = row.line();
    Draft* d = find_case(kClosuresFile, line);
    absl::StatusOr<absl::CivilDay> on = ParseDay(row.closed_on(), "closed_on");
    if (!on.ok()) errors_.Add(kClosuresFile, line, "closed_on", on.status());
    const bool outcome_ok = catalogue_.Find(CatalogueEntry::OUTCOME, row.outcome()) != nullptr;
    if (!outcome_ok) {
      errors_.Add(kClosuresFile, line, "outcome",
                  catalogue_.CheckActive(CatalogueEntry::OUTCOME, row.outcome(), "outcome"));
    }
    if (d == nullptr || !on.ok()) continue;
    if (d->closure_line != 0) {
      errors_.Add(kClosuresFile, line, "case_ref",
                  absl::StrCat("case_ref: case \"", ref, "\" is closed twice (first on line ",
                               d->closure_line, ")"));
      continue;
    }
    d->closure_line = line;
    if (d->valid) {
      if (absl::Status s = CheckDayWithin(*on, d->plan.opened_on, "the day the case opened", today_,
                                          "today", "closed_on");
          !s.ok()) {
        errors_.Add(kClosuresFile, line, "closed_on", s);
        continue;
      }
    }
    if (!outcome_ok) continue;
    d->closed_on = *on;
    ImportPlan::Change change;
    change.kind = "CLOSED";
    change.on = *on;
    change.actor_code = caller_.staff_code;
    change.outcome = row.outcome();
    d->plan.changes.push_back(std::move(change));
  }

  for (const StagedRow<v1::ImportExpectationRow>& staged : group.expectations) {
    const v1::ImportExpectationRow& row = staged.row;
    const int64_t line = row.line();
    const int64_t before = errors_.total();
    Draft* d = find_case(kExpectationsFile, line);
    std::optional<absl::CivilDay> on =
        CheckDay(kExpectationsFile, line, "recorded_on", row.recorded_on(), d);
    ResolveStaff({1, staged.seq, 0}, kExpectationsFile, line, "recorded_by", row.recorded_by(),
                 d != nullptr ? d->plan.team_code : std::string());
    if (catalogue_.Find(CatalogueEntry::OUTCOME, row.expected_outcome()) == nullptr) {
      errors_.Add(kExpectationsFile, line, "expected_outcome",
                  catalogue_.CheckActive(CatalogueEntry::OUTCOME, row.expected_outcome(),
                                         "expected_outcome"));
    }
    absl::StatusOr<absl::CivilMonth> month = ParseMonth(row.expected_month(), "expected_month");
    if (!month.ok()) {
      errors_.Add(kExpectationsFile, line, "expected_month", month.status());
    } else if (d != nullptr && d->valid && on) {
      if (absl::Status s = CheckExpectedMonth(*month, d->plan.opened_on, *on, "expected_month");
          !s.ok()) {
        errors_.Add(kExpectationsFile, line, "expected_month", s);
      }
    }
    if (catalogue_.Find(CatalogueEntry::RISK, row.risk()) == nullptr) {
      errors_.Add(kExpectationsFile, line, "risk",
                  catalogue_.CheckActive(CatalogueEntry::RISK, row.risk(), "risk"));
    }
    if (d == nullptr) continue;
    if (errors_.total() != before) continue;
    ImportPlan::Change change;
    change.kind = "EXPECTATION";
    change.on = *on;
    change.actor_code = row.recorded_by();
    change.outcome = row.expected_outcome();
    change.month = *month;
    change.risk = row.risk();
    d->plan.changes.push_back(std::move(change));
  }

  // Re-assignments: checked in date order, so that `from` can be compared with the caseworker
  // holding the case on that day.
  struct Reassignment {
    int64_t line;
    absl::CivilDay on;
    std::string from, to;
  };
  std::vector<Reassignment> rows;
  for (const StagedRow<v1::ImportReassignmentRow>& staged : group.reassignments) {
    const v1::ImportReassignmentRow& row = staged.row;
    const int64_t line = row.line();
    const int64_t before = errors_.total();
    Draft* d = find_case(kReassignmentsFile, line);
    std::optional<absl::CivilDay> on = CheckDay(kReassignmentsFile, line, "on", row.on(), d);
    const std::string team = d != nullptr ? d->plan.team_code : std::string();
    ResolveStaff({2, staged.seq, 0}, kReassignmentsFile, line, "from", row.from(), team);
    ResolveStaff({2, staged.seq, 1}, kReassignmentsFile, line, "to", row.to(), team);
    if (row.from() == row.to() && !row.to().empty()) {
      errors_.Add(kReassignmentsFile, line, "to", "to: is the same caseworker as from");
    }
    if (d == nullptr) continue;
    if (errors_.total() != before) continue;
    rows.push_back({line, *on, row.from(), row.to()});
  }
  // Which caseworker cases.csv names: case systems export the current holder (for a closed case
  // the holder at closure), older files the holder at opening. With the chain of
  // re-assignments both are known ends of one chain: the holder at opening is the first `from`.
  // By default a file naming either end is accepted; with holder_at_opening (the older reading)
  // cases.csv must name the first `from`. When the chain breaks, the message names the case and
  // the reading assumed.
  if (!rows.empty()) {
    const char* const reading =
        holder_at_opening_ ? "cases.csv read as the caseworker at opening (--holder-at-opening)"
                           : "cases.csv read as the current caseworker";
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Reassignment& a, const Reassignment& b) { return a.on < b.on; });
    const std::string named = draft->plan.caseworker_code;
    bool broken = false;
    for (size_t i = 1; i < rows.size() && draft->valid; ++i) {
      if (rows[i].from != rows[i - 1].to) {
        errors_.Add(
            kReassignmentsFile, rows[i].line, "from",
            absl::StrCat("from: case \"", ref,
                         "\": the chain of re-assignments breaks: it was handed to \"",
                         rows[i - 1].to, "\" on ", FormatDay(rows[i - 1].on), " (line ",
                         rows[i - 1].line, "), so it is held by \"", rows[i - 1].to, "\" on ",
                         FormatDay(rows[i].on), ", not by \"", rows[i].from, "\" (", reading, ")"));
        broken = true;
      }
    }
    if (draft->valid && !broken && holder_at_opening_ && named != rows.front().from) {
      errors_.Add(
          kReassignmentsFile, rows.front().line, "from",
          absl::StrCat("from: case \"", ref, "\": cases.csv (line ", draft->line, ") names \"",
                       named,
                       "\", read as the caseworker at opening (--holder-at-opening), so the "
                       "first re-assignment, on ",
                       FormatDay(rows.front().on), ", would be from \"", named, "\", not \"",
                       rows.front().from, "\"",
                       named == rows.back().to ? "; it is the current caseworker: import without "
                                                 "--holder-at-opening"
                                               : ""));
      broken = true;
    }
    if (draft->valid && !broken && named != rows.back().to && named != rows.front().from) {
      errors_.Add(
          kReassignmentsFile, rows.front().line, "from",
          absl::StrCat(
              "from: case \"", ref, "\": cases.csv (line ", draft->line, ") names \"", named,
              "\", read as its current holder (as case systems export it; for a closed case the holder "
              "at closure), but the re-assignments hand it last to \"",
              rows.back().to, "\" on ", FormatDay(rows.back().on),
              "; read as the holder at opening, the first re-assignment "
              "would be from \"",
              named, "\", not \"", rows.front().from, "\""));
    }
    if (draft->valid && !broken) {
      // The holder at opening, and their team (the named team when the staff member is new).
      draft->plan.caseworker_code = rows.front().from;
      const std::string team = TeamOf(rows.front().from);
      if (!team.empty() && named != rows.front().from) draft->plan.team_code = team;
    }
    for (const Reassignment& row : rows) {
      ImportPlan::Change change;
      change.kind = "REASSIGNED";
      change.on = row.on;
      change.actor_code = caller_.staff_code;
      change.caseworker_code = row.to;
      const std::string team = TeamOf(row.to);
      change.team_code = team.empty() ? draft->plan.team_code : team;
      draft->plan.changes.push_back(std::move(change));
    }
  }

  if (draft == nullptr || !draft->valid) return;
  std::stable_sort(draft->plan.changes.begin(), draft->plan.changes.end(),
                   [](const ImportPlan::Change& a, const ImportPlan::Change& b) {
                     if (a.on != b.on) return a.on < b.on;
                     return KindOrder(a.kind) < KindOrder(b.kind);
                   });
  plan.cases.push_back(std::move(draft->plan));
}

}  // namespace

absl::StatusOr<v1::ImportReport> HistoryImporter::Run(const Caller& caller,
                                                      const v1::ImportChunk& first,
                                                      const ImportChunkSource& next) {
  const bool dry_run = first.dry_run();
  const bool create_missing = first.create_missing_staff();
  const bool holder_at_opening = first.holder_at_opening();
  const absl::CivilDay today = clock_.Today();

  absl::StatusOr<v1::Catalogue> catalogue_or = store_.LoadCatalogue(caller.job_centre_id);
  if (!catalogue_or.ok()) return catalogue_or.status();
  const CatalogueView catalogue(std::move(*catalogue_or));
  absl::StatusOr<v1::Organisation> organisation = store_.LoadOrganisation(caller.job_centre_id);
  if (!organisation.ok()) return organisation.status();

  v1::ImportReport report;
  Errors errors(/*keep=*/true);
  ImportCounts written;
  bool committed = false;
  int64_t new_staff_count = 0;
  absl::Status status =
      store_.RunImport(caller.job_centre_id, [&](ImportSession& session) -> absl::StatusOr<bool> {
        // Stage the stream as it arrives: only one chunk is held here at a time.
        auto stage = [&](const v1::ImportChunk& chunk) {
          report.set_cases(report.cases() + chunk.cases_size());
          report.set_expectations(report.expectations() + chunk.expectations_size());
          report.set_closures(report.closures() + chunk.closures_size());
          report.set_reassignments(report.reassignments() + chunk.reassignments_size());
          session.Stage(chunk);
        };
        stage(first);
        v1::ImportChunk chunk;
        for (;;) {
          chunk.Clear();
          absl::StatusOr<bool> more = next(&chunk);
          if (!more.ok()) return more.status();
          if (!*more) break;
          stage(chunk);
        }

        // A staff member the import creates joins the team of the first row naming them, which
        // may belong to any case: with create_missing_staff a first pass finds them all.
        std::set<std::string> new_teams;
        std::map<std::string, NewStaff> new_staff;
        if (create_missing) {
          Errors ignored(/*keep=*/false);
          CaseChecker finder(caller, catalogue, *organisation, create_missing, holder_at_opening,
                             today, ignored);
          session.ForEachBatch(kImportBatchCases, kImportBatchRows, max_case_rows_,
                               [&](std::vector<ImportGroup>& batch) {
                                 ImportPlan unused;
                                 for (ImportGroup& group : batch)
                                   finder.Check(group, false, unused);
                               });
          new_teams = std::move(finder.new_teams);
          new_staff = std::move(finder.new_staff);
        }
        new_staff_count = static_cast<int64_t>(new_staff.size());
        if (!dry_run && (!new_teams.empty() || !new_staff.empty())) {
          std::vector<ImportPlan::MissingStaff> missing;
          for (const auto& [code, created] : new_staff) missing.push_back({code, created.team});
          written.created_staff = session.CreateOrganisation(
              std::vector<std::string>(new_teams.begin(), new_teams.end()), missing);
        }

        CaseChecker checker(caller, catalogue, *organisation, create_missing, holder_at_opening,
                            today, errors);
        checker.new_teams = std::move(new_teams);
        checker.new_staff = std::move(new_staff);
        session.ForEachBatch(
            kImportBatchCases, kImportBatchRows, max_case_rows_,
            [&](std::vector<ImportGroup>& batch) {
              std::vector<std::string> refs;
              for (const ImportGroup& group : batch) {
                if (!group.cases.empty() && CheckCaseRef(group.case_ref, "case_ref").ok())
                  refs.push_back(group.case_ref);
              }
              const std::vector<std::string> existing = session.ExistingCaseRefs(refs);
              const std::unordered_set<std::string> taken(existing.begin(), existing.end());
              ImportPlan plan;
              plan.job_centre_id = caller.job_centre_id;
              plan.actor_id = caller.staff_id;
              for (ImportGroup& group : batch)
                checker.Check(group, taken.count(group.case_ref) > 0, plan);
              // Once a row is bad nothing will be committed: the rest is only checked.
              if (dry_run || errors.total() > 0) return;
              const ImportCounts counts = session.Write(plan);
              written.cases += counts.cases;
              written.expectations += counts.expectations;
              written.closures += counts.closures;
              written.reassignments += counts.reassignments;
            });
        if (errors.total() > 0 || dry_run) return false;
        session.Finish();
        committed = true;
        return true;
      });
  if (!status.ok()) return status;
  report.set_created_staff(committed ? written.created_staff : new_staff_count);
  if (errors.total() > 0) {
    errors.MoveTo(report);
    return report;
  }
  report.set_committed(committed);
  return report;
}

}  // namespace forecast
