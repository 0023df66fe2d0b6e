// ImportFiles: the shape checks made before any row is sent, and the chunking of the stream.
#include "clients/cli/import_files.h"

#include <gtest/gtest.h>

namespace forecast::cli {
namespace {

const char kCases[] =
    "case_ref,case_type,opened_on,team,caseworker,has_cv\n"
    "S-1,SDP,2025-01-02,T01,CW0101,true\n"
    "S-2,JAF,2025-02-03,T01,CW0102,\n";

TEST(ImportFiles, ReadsRowsWithLinesAndExtraFields) {
  ImportFiles plan = ImportFiles::FromTexts(
      {{"cases.csv", kCases},
       {"expectations.csv",
        "risk,case_ref,recorded_on,recorded_by,expected_outcome,expected_month\n"
        "LOW,S-1,2025-01-10,CW0101,ORDINARY_JOB,2025-06\n"},
       {"closures.csv", "case_ref,closed_on,outcome\nS-2,2025-05-01,EDUCATION\n"}});
  EXPECT_TRUE(plan.issues().empty());
  EXPECT_EQ(plan.absent_files(), (std::vector<std::string>{"reassignments.csv"}));
  ASSERT_EQ(plan.cases().size(), 2u);
  EXPECT_EQ(plan.cases()[0].line(), 2);
  EXPECT_EQ(plan.cases()[0].extra().at("has_cv"), "true");
  EXPECT_EQ(plan.cases()[1].extra().count("has_cv"), 0u);  // empty cell: no value
  ASSERT_EQ(plan.expectations().size(), 1u);
  // Columns are found by name, in any order.
  EXPECT_EQ(plan.expectations()[0].risk(), "LOW");
  EXPECT_EQ(plan.expectations()[0].expected_month(), "2025-06");
  EXPECT_EQ(plan.closures()[0].outcome(), "EDUCATION");
  EXPECT_EQ(plan.row_count(), 4);
}

TEST(ImportFiles, MissingColumnsNameTheColumnsAndSkipTheFile) {
  ImportFiles plan = ImportFiles::FromTexts(
      {{"cases.csv", kCases}, {"closures.csv", "case_ref,closed\nS-2,2025-05-01\n"}});
  ASSERT_EQ(plan.issues().size(), 2u);  // the missing columns, and "closed" is unknown
  const ImportIssue& issue = plan.issues()[0];
  EXPECT_EQ(issue.file, "closures.csv");
  EXPECT_EQ(issue.line, 1);
  EXPECT_EQ(issue.field, "closed_on,outcome");
  EXPECT_NE(issue.message.find("missing column(s) closed_on, outcome"), std::string::npos);
  EXPECT_EQ(plan.issues()[1].field, "closed");
  EXPECT_TRUE(plan.closures().empty());
}

TEST(ImportFiles, WrongFieldCountsAndBadUtf8NameEachRow) {
  ImportFiles plan =
      ImportFiles::FromTexts({{"cases.csv",
                               "case_ref,case_type,opened_on,team,caseworker\n"
                               "S-1,SDP,2025-01-02,T01\n"               // line 2: one short
                               "S-2,SDP,2025-01-02,T01,CW0101\n"        // line 3: good
                               "S-3,SDP,2025-01-02,T01,CW0101,extra\n"  // line 4: one too many
                               "S-4,SDP,2025-01-02,T\xFF,CW0101\n"}});  // line 5: not UTF-8
  ASSERT_EQ(plan.issues().size(), 3u);
  EXPECT_EQ(plan.issues()[0].line, 2);
  EXPECT_EQ(plan.issues()[0].message, "the row has 4 field(s), the header 5");
  EXPECT_EQ(plan.issues()[1].line, 4);
  EXPECT_EQ(plan.issues()[1].message, "the row has 6 field(s), the header 5");
  EXPECT_EQ(plan.issues()[2].line, 5);
  EXPECT_NE(plan.issues()[2].message.find("UTF-8"), std::string::npos);
  ASSERT_EQ(plan.cases().size(), 1u);
  EXPECT_EQ(plan.cases()[0].case_ref(), "S-2");
}

TEST(ImportFiles, HeaderProblems) {
  ImportFiles plan = ImportFiles::FromTexts(
      {{"cases.csv",
        "case_ref,case_type,opened_on,team,caseworker,Has CV\nS-1,SDP,2025-01-02,T01,CW1,x\n"},
       {"expectations.csv", ""},
       {"closures.csv", "case_ref,closed_on,outcome,comment\n"},
       {"reassignments.csv", "case_ref,on,from,to,to\n"}});
  ASSERT_EQ(plan.issues().size(), 4u);
  EXPECT_EQ(plan.issues()[0].file, "cases.csv");
  EXPECT_EQ(plan.issues()[0].field, "Has CV");
  EXPECT_NE(plan.issues()[0].message.find("not a field code"), std::string::npos);
  EXPECT_EQ(plan.issues()[1].file, "expectations.csv");
  EXPECT_NE(plan.issues()[1].message.find("empty"), std::string::npos);
  EXPECT_EQ(plan.issues()[2].field, "comment");
  EXPECT_NE(plan.issues()[2].message.find("only cases.csv"), std::string::npos);
  EXPECT_NE(plan.issues()[3].message.find("appears twice"), std::string::npos);
  EXPECT_EQ(plan.row_count(), 0);
}

TEST(ImportFiles, SemicolonSeparatedFilesAreRecognised) {
  ImportFiles plan = ImportFiles::FromTexts(
      {{"cases.csv",
        "case_ref;case_type;opened_on;team;caseworker\nS-1;SDP;2025-01-02;T01;CW0101\n"}});
  ASSERT_EQ(plan.issues().size(), 1u);
  EXPECT_NE(plan.issues()[0].message.find("separated by semicolons"), std::string::npos);
  EXPECT_EQ(plan.row_count(), 0);
}

TEST(ImportChunker, CasesFirstFlagsOnFirstChunkOnly) {
  ImportFiles plan = ImportFiles::FromTexts(
      {{"cases.csv", kCases},
       {"expectations.csv",
        "case_ref,recorded_on,recorded_by,expected_outcome,expected_month,risk\n"
        "S-1,2025-01-10,CW0101,ORDINARY_JOB,2025-06,LOW\n"
        "S-2,2025-02-10,CW0102,EDUCATION,2025-08,HIGH\n"}});
  ImportOptions options;
  options.dry_run = true;
  options.create_missing_staff = true;
  options.holder_at_opening = true;
  options.rows_per_chunk = 3;
  ImportChunker chunker(plan, options);
  v1::ImportChunk chunk;
  ASSERT_TRUE(chunker.Next(&chunk));
  EXPECT_TRUE(chunk.dry_run());
  EXPECT_TRUE(chunk.create_missing_staff());
  EXPECT_TRUE(chunk.holder_at_opening());
  EXPECT_EQ(chunk.cases_size(), 2);
  EXPECT_EQ(chunk.expectations_size(), 1);
  ASSERT_TRUE(chunker.Next(&chunk));
  EXPECT_FALSE(chunk.dry_run());
  EXPECT_FALSE(chunk.holder_at_opening());
  EXPECT_EQ(chunk.cases_size(), 0);
  EXPECT_EQ(chunk.expectations_size(), 1);
  EXPECT_EQ(chunk.expectations(0).case_ref(), "S-2");
  EXPECT_EQ(chunker.rows_sent(), 4);
  EXPECT_FALSE(chunker.Next(&chunk));
}

TEST(ImportChunker, WideRowsCloseAChunkByItsSize) {
  std::string text = "case_ref,case_type,opened_on,team,caseworker,note\n";
  const std::string wide(100000, 'x');  // 100 kB per row: 11 rows pass 1 MiB
  for (int i = 0; i < 30; ++i)
    text += "S-" + std::to_string(i) + ",SDP,2025-01-02,T01,CW0101," + wide + "\n";
  ImportFiles plan = ImportFiles::FromTexts({{"cases.csv", text}});
  ASSERT_TRUE(plan.issues().empty());
  ImportChunker chunker(plan, ImportOptions{});
  v1::ImportChunk chunk;
  ASSERT_TRUE(chunker.Next(&chunk));
  EXPECT_EQ(chunk.cases_size(), 11);
  EXPECT_LT(chunk.ByteSizeLong(), 4u << 20);
  int rows = chunk.cases_size();
  while (chunker.Next(&chunk)) rows += chunk.cases_size();
  EXPECT_EQ(rows, 30);
}

TEST(ImportChunker, EmptyPlanStillSendsOneChunk) {
  ImportFiles plan =
      ImportFiles::FromTexts({{"cases.csv", "case_ref,case_type,opened_on,team,caseworker\n"}});
  ImportChunker chunker(plan, ImportOptions{});
  v1::ImportChunk chunk;
  EXPECT_TRUE(chunker.Next(&chunk));
  EXPECT_FALSE(chunker.Next(&chunk));
}

TEST(ImportFiles, FromDirectoryRequiresCasesCsv) {
  auto missing = ImportFiles::FromDirectory("/nonexistent/forecastctl-test");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace forecast::cli
