// Writes cases and their history back out as the four import CSVs (DESIGN.md, "Interchange
// formats"), so that what was imported can be exported again: import -> export gives the same
// rows (ordered by case reference and date).
#ifndef CLIENTS_CLI_CASE_EXPORT_H_
#define CLIENTS_CLI_CASE_EXPORT_H_

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "forecast/v1/case_service.pb.h"

namespace forecast::cli {

// A FieldValue as the import reads it: true/false, a number in its shortest exact form, the
// choice code or the date. Empty when unset. Thread-safe (pure).
std::string FieldValueText(const v1::FieldValue& value);

// Collects case histories and writes them as cases.csv, expectations.csv, closures.csv and
// reassignments.csv. Not thread-safe.
class CaseExportWriter {
 public:
  // `field_codes`: the job centre's own fields, written as extra columns of cases.csv in this
  // order.
  explicit CaseExportWriter(std::vector<std::string> field_codes);

  // Adds one case with its history (GetCaseHistory's answer).
  void Add(const v1::CaseHistory& history);

  // Each file's text, header row first, rows ordered by case reference then date.
  void WriteCases(std::ostream& out) const;
  void WriteExpectations(std::ostream& out) const;
  void WriteClosures(std::ostream& out) const;
  void WriteReassignments(std::ostream& out) const;

  // Cases that were ever reopened: the format cannot say so, so only their final state is kept.
  int64_t reopened_cases() const { return reopened_cases_; }

  // Writes the four files into `dir` (created if needed). UNAVAILABLE when a file cannot be
  // written.
  absl::Status WriteDirectory(const std::filesystem::path& dir) const;

 private:
  std::vector<std::string> field_codes_;
  std::vector<std::vector<std::string>> cases_, expectations_, closures_, reassignments_;
  bool reopened_ = false;
  int64_t reopened_cases_ = 0;
};

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_CASE_EXPORT_H_
