#include "clients/cli/case_export.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "clients/cli/csv.h"
#include "clients/cli/import_files.h"

namespace forecast::cli {
namespace {

// Reads a string member of an event's summary JSON; empty when absent.
std::string SummaryString(const std::string& summary_json, const char* key) {
  nlohmann::json json = nlohmann::json::parse(summary_json, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return "";
  auto it = json.find(key);
  return it != json.end() && it->is_string() ? it->get<std::string>() : "";
}

void WriteSorted(std::ostream& out, const std::vector<std::string>& header,
                 std::vector<std::vector<std::string>> rows) {
  std::stable_sort(rows.begin(), rows.end());
  WriteCsvRow(out, header);
  for (const auto& row : rows) WriteCsvRow(out, row);
}

}  // namespace

std::string FieldValueText(const v1::FieldValue& value) {
  switch (value.value_case()) {
    case v1::FieldValue::kBoolValue: return value.bool_value() ? "true" : "false";
    case v1::FieldValue::kNumberValue: {
      // The shortest form that reads back as the same double.
      char buffer[32];
      for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, value.number_value());
        if (std::strtod(buffer, nullptr) == value.number_value()) break;
      }
      return buffer;
    }
    case v1::FieldValue::kChoiceValue: return value.choice_value();
    case v1::FieldValue::kDateValue: return value.date_value();
    default: return "";
  }
}

CaseExportWriter::CaseExportWriter(std::vector<std::string> field_codes)
    : field_codes_(std::move(field_codes)) {}

void CaseExportWriter::Add(const v1::CaseHistory& history) {
  const v1::Case& c = history.current();
  // cases.csv names the caseworker and team at opening; reassignments move the case later.
  std::string caseworker = c.caseworker(), team = c.team();
  bool opening_known = false;
  for (const v1::CaseEvent& event : history.events()) {
    if (event.kind() == "OPENED") {
      const std::string cw = SummaryString(event.summary_json(), "caseworker");
      const std::string t = SummaryString(event.summary_json(), "team");
      if (!cw.empty()) caseworker = cw, opening_known = true;
      if (!t.empty()) team = t;
    }
  }
  // Walk the re-assignments in order; `from` is whoever held the case before (imported events
  // name only the new holder).
  std::vector<const v1::CaseEvent*> moves;
  for (const v1::CaseEvent& event : history.events()) {
    if (event.kind() == "REASSIGNED") moves.push_back(&event);
  }
  if (!opening_known && !moves.empty()) {
    const std::string from = SummaryString(moves.front()->summary_json(), "from");
    if (!from.empty()) caseworker = from;
  }
  std::string holder = caseworker;
  for (const v1::CaseEvent* event : moves) {
    std::string from = SummaryString(event->summary_json(), "from");
    if (from.empty()) from = holder;
    const std::string to = SummaryString(event->summary_json(), "to");
    reassignments_.push_back({c.case_ref(), event->effective_on(), from, to});
    holder = to;
  }
  // The interchange format has no reopenings: a closed case exports its last closure, a
  // reopened and still open case none.
  const v1::CaseEvent* last_closure = nullptr;
  for (const v1::CaseEvent& event : history.events()) {
    if (event.kind() == "CLOSED") last_closure = &event;
    if (event.kind() == "REOPENED") reopened_ = true;
  }
  if (c.status() == v1::CLOSED && last_closure != nullptr) {
    std::string outcome = SummaryString(last_closure->summary_json(), "outcome");
    if (outcome.empty()) outcome = c.closure_outcome();
    closures_.push_back({c.case_ref(), last_closure->effective_on(), outcome});
  }
  if (reopened_) ++reopened_cases_;
  reopened_ = false;
  std::vector<std::string> row = {c.case_ref(), c.case_type(), c.opened_on(), team, caseworker};
  for (const std::string& code : field_codes_) {
    auto it = c.fields().find(code);
    row.push_back(it == c.fields().end() ? "" : FieldValueText(it->second));
  }
  cases_.push_back(std::move(row));
  for (const v1::Expectation& e : history.expectations()) {
    expectations_.push_back({c.case_ref(), e.recorded_at().substr(0, 10), e.recorded_by(),
                             e.expected_outcome(), e.expected_month(), e.risk()});
  }
}

void CaseExportWriter::WriteCases(std::ostream& out) const {
  std::vector<std::string> header = RequiredColumns(kCasesFile);
  header.insert(header.end(), field_codes_.begin(), field_codes_.end());
  WriteSorted(out, header, cases_);
}

void CaseExportWriter::WriteExpectations(std::ostream& out) const {
  WriteSorted(out, RequiredColumns(kExpectationsFile), expectations_);
}

void CaseExportWriter::WriteClosures(std::ostream& out) const {
  WriteSorted(out, RequiredColumns(kClosuresFile), closures_);
}

void CaseExportWriter::WriteReassignments(std::ostream& out) const {
  WriteSorted(out, RequiredColumns(kReassignmentsFile), reassignments_);
}

absl::Status CaseExportWriter::WriteDirectory(const std::filesystem::path& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat(dir.string(), ": ", ec.message()));
  const std::vector<std::pair<const char*, void (CaseExportWriter::*)(std::ostream&) const>> files =
      {{kCasesFile, &CaseExportWriter::WriteCases},
       {kExpectationsFile, &CaseExportWriter::WriteExpectations},
       {kClosuresFile, &CaseExportWriter::WriteClosures},
       {kReassignmentsFile, &CaseExportWriter::WriteReassignments}};
  for (const auto& [name, write] : files) {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    (this->*write)(out);
    out.flush();
    if (!out)
      return absl::UnavailableError(absl::StrCat((dir / name).string(), ": cannot be written"));
  }
  return absl::OkStatus();
}

}  // namespace forecast::cli
