#include "clients/cli/import_files.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cli/csv.h"

namespace forecast::cli {
namespace {

const std::vector<std::string> kFiles = {kCasesFile, kExpectationsFile, kClosuresFile,
                                         kReassignmentsFile};

// An own-field code as the case service spells it (case_field.code).
bool IsFieldCode(const std::string& name) {
  if (name.empty() || name.size() > 32) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

const std::vector<std::string>& RequiredColumns(const std::string& file) {
  static const auto* columns = new std::map<std::string, std::vector<std::string>>{
      {kCasesFile, {"case_ref", "case_type", "opened_on", "team", "caseworker"}},
      {kExpectationsFile,
       {"case_ref", "recorded_on", "recorded_by", "expected_outcome", "expected_month", "risk"}},
      {kClosuresFile, {"case_ref", "closed_on", "outcome"}},
      {kReassignmentsFile, {"case_ref", "on", "from", "to"}},
  };
  auto it = columns->find(file);
  if (it == columns->end()) abort();  // callers only name the four files
  return it->second;
}

absl::StatusOr<ImportFiles> ImportFiles::FromDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat(dir.string(), ": no such directory"));
  }
  std::map<std::string, std::string> texts;
  for (const std::string& file : kFiles) {
    const std::filesystem::path path = dir / file;
    if (!std::filesystem::exists(path, ec)) {
      if (file == kCasesFile) {
        return absl::NotFoundError(
            absl::StrCat(path.string(), ": not found (cases.csv is required)"));
      }
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in.good() && !in.eof()) {
      return absl::UnavailableError(absl::StrCat(path.string(), ": cannot be read"));
    }
    texts[file] = buffer.str();
  }
  return FromTexts(texts);
}

ImportFiles ImportFiles::FromTexts(const std::map<std::string, std::string>& texts) {
  ImportFiles plan;
  for (const std::string& file : kFiles) {
    auto it = texts.find(file);
    if (it == texts.end()) {
      plan.absent_files_.push_back(file);
      continue;
    }
    plan.AddFile(file, it->second);
  }
  return plan;
}

void ImportFiles::AddFile(const std::string& file, const std::string& text) {
  CsvReader reader(text);
  CsvRecord header;
  if (!reader.Next(&header)) {
    issues_.push_back({file, 1, "", "the file is empty: a header row is required"});
    return;
  }
  if (!header.problem.empty()) {
    issues_.push_back({file, header.line, "", absl::StrCat("header row: ", header.problem)});
    return;
  }

  // Excel with Danish settings saves "CSV" with semicolons; say so rather than "missing columns".
  if (header.fields.size() == 1 && header.fields[0].find(';') != std::string::npos) {
    issues_.push_back({file, header.line, "",
                       "header row: the file is separated by semicolons; save it as \"CSV UTF-8 "
                       "(comma-separated)\" or replace the separators with commas"});
    return;
  }

  // Column positions by name; every required column must be there exactly once.
  std::map<std::string, size_t> position;
  std::vector<std::string> names;
  bool header_ok = true;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    std::string name(absl::StripAsciiWhitespace(header.fields[i]));
    if (name.empty()) {
      issues_.push_back(
          {file, header.line, "", absl::StrCat("header row: column ", i + 1, " has no name")});
      header_ok = false;
    } else if (!position.emplace(name, i).second) {
      issues_.push_back({file, header.line, name,
                         absl::StrCat("header row: column \"", name, "\" appears twice")});
      header_ok = false;
    }
    names.push_back(name);
  }
  const std::vector<std::string>& required = RequiredColumns(file);
  std::vector<std::string> missing;
  for (const std::string& column : required) {
    if (position.count(column) == 0) missing.push_back(column);
  }
  if (!missing.empty()) {
    issues_.push_back({file, header.line, absl::StrJoin(missing, ","),
                       absl::StrCat("header row: missing column(s) ", absl::StrJoin(missing, ", "),
                                    "; expected ", absl::StrJoin(required, ","))});
    header_ok = false;
  }
  // Extra columns carry the job centre's own fields, and only in cases.csv.
  std::vector<std::pair<std::string, size_t>> extra;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (name.empty() || std::find(required.begin(), required.end(), name) != required.end())
      continue;
    if (file != kCasesFile) {
      issues_.push_back(
          {file, header.line, name,
           absl::StrCat("header row: unknown column \"", name,
                        "\" (only cases.csv may carry the job centre's own fields)")});
      header_ok = false;
    } else if (!IsFieldCode(name)) {
      issues_.push_back({file, header.line, name,
                         absl::StrCat("header row: column \"", name,
                                      "\" is not a field code (a-z, 0-9 and _, at most 32)")});
      header_ok = false;
    } else {
      extra.emplace_back(name, i);
    }
  }
  if (!header_ok) return;  // rows cannot be read without knowing their columns

  auto at = [&position](const CsvRecord& r, const char* column) -> const std::string& {
    return r.fields[position.at(column)];
  };
  CsvRecord record;
  while (reader.Next(&record)) {
    if (!record.problem.empty()) {
      issues_.push_back({file, record.line, "", record.problem});
      continue;
    }
    if (record.fields.size() != names.size()) {
      issues_.push_back({file, record.line, "",
                         absl::StrCat("the row has ", record.fields.size(),
                                      " field(s), the header ", names.size())});
      continue;
    }
    if (file == kCasesFile) {
      v1::ImportCaseRow& row = cases_.emplace_back();
      row.set_line(record.line);
      row.set_case_ref(at(record, "case_ref"));
      row.set_case_type(at(record, "case_type"));
      row.set_opened_on(at(record, "opened_on"));
      row.set_team(at(record, "team"));
      row.set_caseworker(at(record, "caseworker"));
      for (const auto& [code, i] : extra) {
        if (!record.fields[i].empty()) (*row.mutable_extra())[code] = record.fields[i];
      }
    } else if (file == kExpectationsFile) {
      v1::ImportExpectationRow& row = expectations_.emplace_back();
      row.set_line(record.line);
      row.set_case_ref(at(record, "case_ref"));
      row.set_recorded_on(at(record, "recorded_on"));
      row.set_recorded_by(at(record, "recorded_by"));
      row.set_expected_outcome(at(record, "expected_outcome"));
      row.set_expected_month(at(record, "expected_month"));
      row.set_risk(at(record, "risk"));
    } else if (file == kClosuresFile) {
      v1::ImportClosureRow& row = closures_.emplace_back();
      row.set_line(record.line);
      row.set_case_ref(at(record, "case_ref"));
      row.set_closed_on(at(record, "closed_on"));
      row.set_outcome(at(record, "outcome"));
    } else {
      v1::ImportReassignmentRow& row = reassignments_.emplace_back();
      row.set_line(record.line);
      row.set_case_ref(at(record, "case_ref"));
      row.set_on(at(record, "on"));
      row.set_from(at(record, "from"));
      row.set_to(at(record, "to"));
    }
  }
}

int64_t ImportFiles::row_count() const {
  return static_cast<int64_t>(cases_.size() + expectations_.size() + closures_.size() +
                              reassignments_.size());
}

ImportChunker::ImportChunker(const ImportFiles& plan, const ImportOptions& options)
    : plan_(plan), options_(options) {
  if (options_.rows_per_chunk < 1) options_.rows_per_chunk = 1;
}

bool ImportChunker::Next(v1::ImportChunk* chunk) {
  const int64_t total = plan_.row_count();
  if (sent_ >= total && !first_) return false;
  chunk->Clear();
  if (first_) {
    chunk->set_dry_run(options_.dry_run);
    chunk->set_create_missing_staff(options_.create_missing_staff);
    chunk->set_holder_at_opening(options_.holder_at_opening);
    first_ = false;
  }
  // Walk the four row lists as one sequence; sent_ is the position in it.
  const int64_t n_cases = static_cast<int64_t>(plan_.cases().size());
  const int64_t n_expectations = static_cast<int64_t>(plan_.expectations().size());
  const int64_t n_closures = static_cast<int64_t>(plan_.closures().size());
  int64_t room = options_.rows_per_chunk;
  // gRPC refuses messages over 4 MiB by default; wide rows (many own fields) fill a chunk sooner.
  size_t bytes = 0;
  while (room > 0 && sent_ < total && bytes < kMaxChunkBytes) {
    int64_t i = sent_;
    if (i < n_cases) {
      bytes += (*chunk->add_cases() = plan_.cases()[i]).ByteSizeLong();
    } else if ((i -= n_cases) < n_expectations) {
      bytes += (*chunk->add_expectations() = plan_.expectations()[i]).ByteSizeLong();
    } else if ((i -= n_expectations) < n_closures) {
      bytes += (*chunk->add_closures() = plan_.closures()[i]).ByteSizeLong();
    } else {
      bytes += (*chunk->add_reassignments() = plan_.reassignments()[i - n_closures]).ByteSizeLong();
    }
    ++sent_;
    --room;
  }
  return true;
}

}  // namespace forecast::cli
