#include "services/common/calendar.h"

#include <gtest/gtest.h>

namespace forecast {
namespace {

TEST(Calendar, ParsesDaysStrictly) {
  auto day = ParseDay("2024-02-29", "opened_on");
  ASSERT_TRUE(day.ok()) << day.status();
  EXPECT_EQ(*day, absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(FormatDay(*day), "2024-02-29");
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-1-01", "24-01-01", "2024/01/01",
                          "2024-01-32", "2024-00-10", "abcd-ef-gh", "2024-01-01T", "1800-01-01"}) {
    auto parsed = ParseDay(bad, "opened_on");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(parsed.status().message().find("opened_on"), std::string::npos) << bad;
  }
  EXPECT_NE(ParseDay("", "due_on").status().message().find("due_on: a date"), std::string::npos);
}

TEST(Calendar, ParsesMonthsStrictly) {
  auto month = ParseMonth("2026-07", "expected_month");
  ASSERT_TRUE(month.ok());
  EXPECT_EQ(*month, absl::CivilMonth(2026, 7));
  EXPECT_EQ(FormatMonth(*month), "2026-07");
  for (const char* bad : {"2026-7", "2026-13", "2026-07-01", "", "202607"}) {
    auto parsed = ParseMonth(bad, "expected_month");
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find("expected_month"), std::string::npos);
  }
}

TEST(Calendar, MonthsBetweenAndClock) {
  EXPECT_EQ(MonthsBetween(absl::CivilMonth(2026, 11), absl::CivilMonth(2031, 11)), 60);
  EXPECT_EQ(MonthsBetween(absl::CivilMonth(2026, 11), absl::CivilMonth(2026, 10)), -1);
  FixedClock clock(absl::CivilDay(2026, 3, 31));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2026, 3, 31));
  EXPECT_EQ(FormatTimestamp(clock.Now()), "2026-03-31T12:00:00Z");
  clock.Set(absl::FromUnixSeconds(0));
  EXPECT_EQ(clock.Today(), absl::CivilDay(1970, 1, 1));
}

}  // namespace
}  // namespace forecast
