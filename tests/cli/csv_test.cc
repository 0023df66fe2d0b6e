// CsvReader and CsvEscape: RFC 4180 quoting, line numbers, BOM, CRLF and malformed records.
#include "clients/cli/csv.h"

#include <sstream>

#include <gtest/gtest.h>

namespace forecast::cli {
namespace {

std::vector<CsvRecord> ReadAll(std::string_view text) {
  CsvReader reader(text);
  std::vector<CsvRecord> records;
  CsvRecord record;
  while (reader.Next(&record)) records.push_back(record);
  return records;
}

TEST(CsvReader, PlainFieldsAndLineNumbers) {
  auto records = ReadAll("a,b,c\n1,2,3\n\n4,,6\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[2].line, 4);  // the blank line 3 is skipped but counted
  EXPECT_EQ(records[2].fields, (std::vector<std::string>{"4", "", "6"}));
  for (const auto& r : records) EXPECT_EQ(r.problem, "");
}

TEST(CsvReader, QuotedFieldsWithCommasQuotesAndNewlines) {
  auto records = ReadAll("x,y\n\"a,b\",\"say \"\"hi\"\"\"\n\"two\nlines\",z\nlast,row\n");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"a,b", "say \"hi\""}));
  EXPECT_EQ(records[2].fields, (std::vector<std::string>{"two\nlines", "z"}));
  EXPECT_EQ(records[2].line, 3);
  EXPECT_EQ(records[3].line, 5);  // the quoted newline moved the count on
}

TEST(CsvReader, ByteOrderMarkAndCrlf) {
  auto records = ReadAll(
      "\xEF\xBB\xBF"
      "case_ref,team\r\nS-1,T01\r\n\"S-2\",T02\r\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].fields[0], "case_ref");
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"S-1", "T01"}));
  EXPECT_EQ(records[2].fields, (std::vector<std::string>{"S-2", "T02"}));
  EXPECT_EQ(records[2].line, 3);
}

TEST(CsvReader, LastLineWithoutNewlineAndTrailingEmptyField) {
  auto records = ReadAll("a,b\n1,");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"1", ""}));
}

TEST(CsvReader, MalformedRecordsAreFlaggedAndReadingContinues) {
  auto records = ReadAll("a,b\nx\"y,1\n\"ok\"junk,2\ngood,3\n\"never closed,4\nmore\n");
  ASSERT_EQ(records.size(), 5u);
  EXPECT_NE(records[1].problem.find("quote inside an unquoted field"), std::string::npos);
  EXPECT_NE(records[2].problem.find("after a closing quote"), std::string::npos);
  EXPECT_EQ(records[3].problem, "");
  EXPECT_EQ(records[3].fields, (std::vector<std::string>{"good", "3"}));
  EXPECT_EQ(records[4].line, 5);
  EXPECT_NE(records[4].problem.find("never closed"), std::string::npos);
}

TEST(CsvReader, InvalidUtf8IsFlaggedWithItsLine) {
  auto records = ReadAll("a,b\nS-1,\xC3\xA6rlig\nS-2,\xFF\xFE\nS-3,\xC0\xAF\n");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].problem, "");  // "ærlig" is fine
  EXPECT_EQ(records[2].line, 3);
  EXPECT_NE(records[2].problem.find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(records[3].problem.find("not valid UTF-8"), std::string::npos);  // overlong form
}

TEST(FindInvalidUtf8, AcceptsValidAndFindsInvalid) {
  EXPECT_EQ(FindInvalidUtf8("plain"), std::string::npos);
  EXPECT_EQ(FindInvalidUtf8("\xC3\xB8\xE2\x82\xAC\xF0\x9F\x98\x80"), std::string::npos);
  EXPECT_EQ(FindInvalidUtf8("ab\x80"), 2u);
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\x80"), 0u);  // a surrogate
  EXPECT_EQ(FindInvalidUtf8("x\xE2\x82"), 1u);     // cut short
}

TEST(CsvEscape, QuotesOnlyWhenNeededAndRoundTrips) {
  EXPECT_EQ(CsvEscape("plain"), "plain");
  EXPECT_EQ(CsvEscape("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvEscape("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvEscape(" padded"), "\" padded\"");
  std::ostringstream out;
  const std::vector<std::string> row = {"a,b", "line\nbreak", "q\"", "", "plain"};
  WriteCsvRow(out, row);
  auto records = ReadAll(out.str());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, row);
}

}  // namespace
}  // namespace forecast::cli
