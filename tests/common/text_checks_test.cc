#include "services/common/text_checks.h"

#include <gtest/gtest.h>

#include <string>

namespace forecast {
namespace {

TEST(CprDetection, FindsCprNumbersInText) {
  for (const char* text : {"010190-1234", "0101901234", "note 311299-0001 here", "x 010190 1234",
                           "ref:2902801234.", "290280-1234"}) {
    EXPECT_TRUE(ContainsCprNumber(text)) << text;
  }
}

TEST(CprDetection, LeavesOtherNumbersAlone) {
  for (const char* text :
       {"SAG-2024-000123", "12345678901", "123456789", "320190-1234", "011390-1234", "0013901234",
        "010190-12345", "phone 12345678", "2024-01-01", "010190-123", ""}) {
    EXPECT_FALSE(ContainsCprNumber(text)) << text;
  }
}

// Issue 8: every spelling a reader takes for a CPR number is refused, in free text and as a case
// reference; ordinary dates, times, phone numbers and amounts in notes are kept. One table.
struct CprCase {
  const char* text;
  bool cpr;
  const char* why;
};

TEST(CprDetection, SpellingsTable) {
  const CprCase cases[] = {
      {"010190-1234", true, "the canonical form"},
      {"0101901234", true, "ten digits"},
      {"010190 1234", true, "space"},
      {"010190/1234", true, "slash"},
      {"01.01.90-1234", true, "dots in the date"},
      {"01 01 90-1234", true, "spaces in the date"},
      {"01-01-90-1234", true, "dashes in the date"},
      {"01/01/90 1234", true, "slashes in the date"},
      {"010190 - 1234", true, "spaced dash"},
      {"010190\u20131234", true, "en dash"},
      {"010190\u20141234", true, "em dash"},
      {"010190\u20111234", true, "non-breaking hyphen"},
      {"010190\u22121234", true, "minus sign"},
      {"010190\u20101234", true, "hyphen"},
      {"010190\uFE631234", true, "small hyphen-minus"},
      {"010190\uFF0D1234", true, "full-width hyphen-minus"},
      {"010190\u00A01234", true, "no-break space"},
      {"010190\u202F1234", true, "narrow no-break space"},
      {"010190\u200B1234", true, "zero-width space"},
      {"0101\u200D90-12\u200C34", true, "zero-width joiners inside the groups"},
      {"01\u00AD01\u00AD90\u00AD1234", true, "soft hyphens"},
      {"\uFEFF010190-1234", true, "byte-order mark first"},
      {"\uFF10\uFF11\uFF10\uFF11\uFF19\uFF10-\uFF11\uFF12\uFF13\uFF14", true, "full-width digits"},
      {"\uFF10\uFF11\uFF10\uFF11\uFF19\uFF10\uFF11\uFF12\uFF13\uFF14", true, "full-width, no dash"},
      {"01\uFF0E01\uFF0E90\uFF0F1234", true, "full-width dot and slash"},
      {"\U0001D7CE\U0001D7CF\U0001D7CE\U0001D7CF\U0001D7D7\U0001D7CE-1234", true,
       "mathematical digits"},
      {"borger 311299-0001 ringede", true, "inside a sentence"},
      {"ref:2902801234.", true, "29 February"},
      {"S_010190_1234", true, "underscores"},
      {"møde 01-01-2027", false, "an ordinary date"},
      {"møde 01.01.2027 kl. 10.30", false, "date and time"},
      {"ring 12 34 56 78", false, "a phone number"},
      {"tlf. +45 12 34 56 78", false, "a phone number with country code"},
      {"beløb 1.234.567,89 kr", false, "an amount"},
      {"SAG-2024-000123", false, "a case system reference"},
      {"12345678901", false, "eleven digits"},
      {"123456789", false, "nine digits"},
      {"320190-1234", false, "day 32"},
      {"011390-1234", false, "month 13"},
      {"310490-1234", false, "31 April"},
      {"010190-12345", false, "five digits after"},
      {"010190-123", false, "three digits after"},
      {"010190    1234", false, "four spaces between"},
      {"uge 01 02 03 04", false, "week numbers"},
      {"2024-01-01", false, "ISO date"},
      {"", false, "empty"},
  };
  for (const CprCase& c : cases) {
    EXPECT_EQ(ContainsCprNumber(c.text), c.cpr)
        << c.why << ": " << c.text << " folds to " << FoldForCprCheck(c.text);
    EXPECT_EQ(CheckText(c.text, "note", 0, 2000).ok(), !c.cpr) << c.why << ": " << c.text;
  }
}

TEST(CprDetection, MalformedUtf8IsNotADigit) {
  EXPECT_FALSE(
      ContainsCprNumber("010190\xFF"
                        "1234x"));
  EXPECT_EQ(FoldForCprCheck("1\xE2\x80"), "1xx");
}

TEST(TextChecks, BoundsLengthInCharacters) {
  EXPECT_TRUE(CheckText("æøå", "note", 0, 3).ok());  // 3 characters, 6 bytes
  auto too_long = CheckText(std::string(2001, 'a'), "note", 0, 2000);
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("note: is 2001 characters"), std::string::npos);
  EXPECT_NE(CheckText("", "description", 1, 500).message().find("description: is required"),
            std::string::npos);
  EXPECT_FALSE(CheckText(std::string("a\x01"
                                     "b"),
                         "note", 0, 10)
                   .ok());
  EXPECT_TRUE(CheckText("line one\nline two", "note", 0, 100).ok());
  auto cpr = CheckText("citizen 010190-1234 called", "note", 0, 100);
  EXPECT_EQ(cpr.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(cpr.message().find("note: looks like it contains a CPR number"), std::string::npos);
}

TEST(TextChecks, CaseReferences) {
  for (const char* good : {"A", "SAG-2024/000123", "jc.12_3", "0000123456789"}) {
    EXPECT_TRUE(CheckCaseRef(good, "case_ref").ok()) << good;
  }
  for (const char* bad : {"", "-A", "has space", "æble", "x;DROP", "0101901234", "010190-1234",
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
    auto status = CheckCaseRef(bad, "case_ref");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(status.message().rfind("case_ref:", 0), 0u) << status.message();
  }
  EXPECT_NE(CheckCaseRef("010190-1234", "case_ref").message().find("CPR"), std::string::npos);
}

TEST(TextChecks, Codes) {
  EXPECT_TRUE(CheckCode("team-a_1", "team").ok());
  EXPECT_FALSE(CheckCode("", "team").ok());
  EXPECT_FALSE(CheckCode("with space", "team").ok());
  EXPECT_FALSE(CheckCode(std::string(33, 'a'), "team").ok());
}

}  // namespace
}  // namespace forecast
