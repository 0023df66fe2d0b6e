// PrintImportReport: one line per problem naming file, line and field, then what was committed.
#include <sstream>

#include <gtest/gtest.h>

#include "clients/cli/import_runner.h"

namespace forecast::cli {
namespace {

TEST(PrintImportReport, NamesEveryBadRowAndSaysNothingWasCommitted) {
  ImportResult result;
  result.issues = {
      {"cases.csv", 3, "case_type", "case_type: \"XYZ\" is not a case type of this job centre"},
      {"cases.csv", 3, "opened_on", "not a date"},
      {"cases.csv", 6, "", "the row has 4 field(s), the header 5"},
      {"closures.csv", 2, "outcome", "outcome: \"LOTTERY\" is not an outcome"}};
  result.report.set_cases(4);
  std::ostringstream out;
  PrintImportReport(result, ImportOptions{}, out);
  EXPECT_EQ(
      out.str(),
      "cases.csv:3: case_type: \"XYZ\" is not a case type of this job centre\n"  // not doubled
      "cases.csv:3: opened_on: not a date\n"
      "cases.csv:6: the row has 4 field(s), the header 5\n"
      "closures.csv:2: outcome: \"LOTTERY\" is not an outcome\n"
      "import failed: 3 bad row(s) (cases.csv 2, closures.csv 1), 4 problem(s); nothing was committed\n");
}

TEST(PrintImportReport, DryRunAndCommit) {
  ImportResult result;
  result.report.set_cases(2);
  result.report.set_expectations(5);
  ImportOptions dry;
  dry.dry_run = true;
  std::ostringstream dry_out;
  PrintImportReport(result, dry, dry_out);
  EXPECT_EQ(
      dry_out.str(),
      "dry run: every row is good (2 case(s), 5 expectation(s), 0 closure(s), 0 reassignment(s)); "
      "nothing was committed\n");
  result.report.set_committed(true);
  result.report.set_created_staff(3);
  std::ostringstream out;
  PrintImportReport(result, ImportOptions{}, out);
  EXPECT_EQ(
      out.str(),
      "imported 2 case(s), 5 expectation(s), 0 closure(s), 0 reassignment(s); created 3 staff member(s)\n");
}

}  // namespace
}  // namespace forecast::cli
