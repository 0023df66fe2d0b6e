// CaseExportWriter: the four import CSVs written back from case histories, readable by the
// import again with the same rows.
#include "clients/cli/case_export.h"

#include <sstream>

#include <gtest/gtest.h>

#include "clients/cli/import_files.h"

namespace forecast::cli {
namespace {

v1::CaseHistory History(const std::string& ref) {
  v1::CaseHistory h;
  v1::Case* c = h.mutable_current();
  c->set_case_ref(ref);
  c->set_case_type("SDP");
  c->set_opened_on("2025-01-02");
  c->set_caseworker("CW0102");
  c->set_team("T01");
  c->set_status(v1::CLOSED);
  c->set_closed_on("2025-06-03");
  c->set_closure_outcome("ORDINARY_JOB");
  (*c->mutable_fields())["has_cv"].set_bool_value(true);
  (*c->mutable_fields())["hours"].set_number_value(12.5);
  v1::Expectation* e = h.add_expectations();
  e->set_recorded_at("2025-01-10T00:00:00Z");
  e->set_recorded_by("CW0101");
  e->set_expected_outcome("ORDINARY_JOB");
  e->set_expected_month("2025-05");
  e->set_risk("MEDIUM");
  v1::CaseEvent* opened = h.add_events();
  opened->set_kind("OPENED");
  opened->set_effective_on("2025-01-02");
  opened->set_summary_json(R"({"caseworker":"CW0101","team":"T01"})");
  v1::CaseEvent* moved = h.add_events();
  moved->set_kind("REASSIGNED");
  moved->set_effective_on("2025-03-01");
  moved->set_summary_json(R"({"from":"CW0101","to":"CW0102"})");
  v1::CaseEvent* closed = h.add_events();
  closed->set_kind("CLOSED");
  closed->set_effective_on("2025-06-03");
  closed->set_summary_json(R"({"outcome":"ORDINARY_JOB"})");
  return h;
}

TEST(FieldValueText, EveryType) {
  v1::FieldValue v;
  v.set_bool_value(false);
  EXPECT_EQ(FieldValueText(v), "false");
  v.set_number_value(0.1);
  EXPECT_EQ(FieldValueText(v), "0.1");
  v.set_number_value(37);
  EXPECT_EQ(FieldValueText(v), "37");
  v.set_choice_value("ready");
  EXPECT_EQ(FieldValueText(v), "ready");
  v.set_date_value("2025-02-03");
  EXPECT_EQ(FieldValueText(v), "2025-02-03");
  EXPECT_EQ(FieldValueText(v1::FieldValue()), "");
}

TEST(CaseExportWriter, WritesOpeningAssignmentHistoryAndSortsByReference) {
  CaseExportWriter writer({"has_cv", "hours", "segment"});
  writer.Add(History("S-2"));
  writer.Add(History("S-1"));
  std::ostringstream cases, expectations, closures, reassignments;
  writer.WriteCases(cases);
  writer.WriteExpectations(expectations);
  writer.WriteClosures(closures);
  writer.WriteReassignments(reassignments);
  EXPECT_EQ(cases.str(),
            "case_ref,case_type,opened_on,team,caseworker,has_cv,hours,segment\n"
            "S-1,SDP,2025-01-02,T01,CW0101,true,12.5,\n"
            "S-2,SDP,2025-01-02,T01,CW0101,true,12.5,\n");
  EXPECT_EQ(expectations.str(),
            "case_ref,recorded_on,recorded_by,expected_outcome,expected_month,risk\n"
            "S-1,2025-01-10,CW0101,ORDINARY_JOB,2025-05,MEDIUM\n"
            "S-2,2025-01-10,CW0101,ORDINARY_JOB,2025-05,MEDIUM\n");
  EXPECT_EQ(
      closures.str(),
      "case_ref,closed_on,outcome\nS-1,2025-06-03,ORDINARY_JOB\nS-2,2025-06-03,ORDINARY_JOB\n");
  EXPECT_EQ(reassignments.str(),
            "case_ref,on,from,to\nS-1,2025-03-01,CW0101,CW0102\nS-2,2025-03-01,CW0101,CW0102\n");

  // What the export writes, the import reads without a problem.
  ImportFiles plan = ImportFiles::FromTexts({{"cases.csv", cases.str()},
                                             {"expectations.csv", expectations.str()},
                                             {"closures.csv", closures.str()},
                                             {"reassignments.csv", reassignments.str()}});
  EXPECT_TRUE(plan.issues().empty());
  EXPECT_EQ(plan.row_count(), 8);
  EXPECT_EQ(plan.cases()[0].extra().at("hours"), "12.5");
}

TEST(CaseExportWriter, ReassignmentWithoutFromTakesThePreviousHolder) {
  v1::CaseHistory h = History("S-3");
  h.mutable_events(1)->set_summary_json(R"({"imported":true,"to":"CW0102"})");
  v1::CaseEvent* again = h.add_events();
  again->set_kind("REASSIGNED");
  again->set_effective_on("2025-04-01");
  again->set_summary_json(R"({"imported":true,"to":"CW0201"})");
  CaseExportWriter writer({});
  writer.Add(h);
  std::ostringstream out;
  writer.WriteReassignments(out);
  EXPECT_EQ(out.str(),
            "case_ref,on,from,to\nS-3,2025-03-01,CW0101,CW0102\nS-3,2025-04-01,CW0102,CW0201\n");
}

TEST(CaseExportWriter, ReopenedCasesKeepOnlyTheirFinalClosure) {
  v1::CaseHistory closed_again = History("S-5");
  v1::CaseEvent* reopened = closed_again.add_events();
  reopened->set_kind("REOPENED");
  reopened->set_effective_on("2025-07-01");
  v1::CaseEvent* closed = closed_again.add_events();
  closed->set_kind("CLOSED");
  closed->set_effective_on("2025-09-01");
  closed->set_summary_json(R"({"outcome":"EDUCATION"})");
  v1::CaseHistory open_again = History("S-6");
  *open_again.add_events() = *reopened;
  open_again.mutable_current()->set_status(v1::OPEN);
  CaseExportWriter writer({});
  writer.Add(closed_again);
  writer.Add(open_again);
  writer.Add(History("S-7"));
  std::ostringstream out;
  writer.WriteClosures(out);
  EXPECT_EQ(out.str(),
            "case_ref,closed_on,outcome\nS-5,2025-09-01,EDUCATION\nS-7,2025-06-03,ORDINARY_JOB\n");
  EXPECT_EQ(writer.reopened_cases(), 2);
}

}  // namespace
}  // namespace forecast::cli
