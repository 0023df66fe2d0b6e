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
