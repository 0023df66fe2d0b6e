// Exports of forecast answers: the documented projection CSV, scope/model parsing, the table.
#include "clients/cli/report_format.h"

#include <sstream>

#include <gtest/gtest.h>

#include "clients/cli/csv.h"

namespace forecast::cli {
namespace {

v1::Projection TwoMonthProjection() {
  v1::Projection p;
  p.mutable_scope()->set_kind(v1::Scope::TEAM);
  p.mutable_scope()->set_code("T01");
  p.set_model(v1::AS_PLANNED);
  p.set_as_of("2026-11-15");
  p.set_open_cases(40);
  auto add = [&p](const char* month, const char* outcome, double e, double lo, double hi) {
    v1::OutcomeMonth* row = p.add_closures();
    row->set_month(month);
    row->set_outcome(outcome);
    row->mutable_closures()->set_expected(e);
    row->mutable_closures()->set_p10(lo);
    row->mutable_closures()->set_p90(hi);
  };
  add("2026-12", "ORDINARY_JOB", 3.456, 1, 6);
  add("2026-12", "FLEX_JOB", 0, 0, 0);
  add("2026-12", "ALL", 3.456, 1, 6);
  add("2027-01", "ORDINARY_JOB", 2.5, 1, 4);
  add("2027-01", "FLEX_JOB", 0, 0, 0);
  add("2027-01", "ALL", 2.5, 1, 4);
  v1::CaseloadMonth* open = p.add_caseload();
  open->set_month("2026-12");
  open->mutable_open()->set_expected(36.5);
  open->mutable_open()->set_p10(34);
  open->mutable_open()->set_p90(39);
  return p;
}

TEST(WriteProjectionCsv, DocumentedHeaderAndOneRowPerMonthAndOutcome) {
  std::ostringstream out;
  WriteProjectionCsv(TwoMonthProjection(), out);
  std::istringstream lines(out.str());
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "month,scope,outcome,expected,p10,p90");
  std::getline(lines, line);
  EXPECT_EQ(line, "2026-12,T01,ORDINARY_JOB,3.46,1.00,6.00");
  int rows = 1;
  std::string last;
  while (std::getline(lines, line)) {
    ++rows;
    last = line;
  }
  EXPECT_EQ(rows, 7);  // 2 months x 3 outcomes, then the open caseload per month
  EXPECT_EQ(last, "2026-12,T01,OPEN_CASELOAD,36.50,34.00,39.00");
}

TEST(WriteProjectionCsv, WholeCentreScopeIsAll) {
  v1::Projection p = TwoMonthProjection();
  p.mutable_scope()->set_kind(v1::Scope::JOB_CENTRE);
  p.mutable_scope()->clear_code();
  std::ostringstream out;
  WriteProjectionCsv(p, out);
  EXPECT_NE(out.str().find("\n2026-12,ALL,ALL,3.46,1.00,6.00\n"), std::string::npos);
}

TEST(ParseScope, AcceptsDocumentedFormsAndNamesTheFlag) {
  auto team = ParseScope("team:T01");
  ASSERT_TRUE(team.ok());
  EXPECT_EQ(team->kind(), v1::Scope::TEAM);
  EXPECT_EQ(team->code(), "T01");
  auto all = ParseScope("ALL");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->kind(), v1::Scope::JOB_CENTRE);
  EXPECT_EQ(ParseScope("department:D1")->kind(), v1::Scope::DEPARTMENT);
  auto bad = ParseScope("squad:7");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--scope"), std::string::npos);
  EXPECT_FALSE(ParseScope("team:").ok());
}

TEST(ParseModel, ThreeModels) {
  EXPECT_EQ(*ParseModel("as_planned"), v1::AS_PLANNED);
  EXPECT_EQ(*ParseModel("calibrated"), v1::CALIBRATED);
  EXPECT_EQ(*ParseModel("baseline"), v1::BASELINE);
  EXPECT_NE(ParseModel("magic").status().message().find("--model"), std::string::npos);
}

TEST(FormatProjectionTable, MonthsByOutcomesWithIntervalsAndCaseload) {
  const std::string table = FormatProjectionTable(TwoMonthProjection());
  EXPECT_NE(table.find("ORDINARY_JOB"), std::string::npos);
  EXPECT_EQ(table.find("FLEX_JOB"), std::string::npos);  // no expected closures: left out
  EXPECT_NE(table.find("3.5 (1-6)"), std::string::npos);
  EXPECT_NE(table.find("36.5 (34-39)"), std::string::npos);
  EXPECT_NE(table.find("2027-01"), std::string::npos);
  EXPECT_NE(table.find("as planned, scope T01"), std::string::npos);
}

TEST(WriteTeamDashboardCsv, RowPerCaseworkerAndTotal) {
  v1::TeamDashboard d;
  d.set_team("T01");
  auto* row = d.add_rows();
  row->set_caseworker("CW0101");
  row->set_open_cases(41);
  d.mutable_totals()->set_open_cases(41);
  std::ostringstream out;
  WriteTeamDashboardCsv(d, out);
  EXPECT_NE(out.str().find("T01,CW0101,,41,"), std::string::npos);
  EXPECT_NE(out.str().find("T01,TOTAL,,41,"), std::string::npos);
}

TEST(ToJson, UsesProtoFieldNamesAndEnumNames) {
  auto json = ToJson(TwoMonthProjection());
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"open_cases\": \"40\""), std::string::npos);
  EXPECT_NE(json->find("\"AS_PLANNED\""), std::string::npos);
}

}  // namespace
}  // namespace forecast::cli
