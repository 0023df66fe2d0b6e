// One import per job centre at a time, across processes (a PostgreSQL advisory lock), and a cap
// on imports per process; released when an import ends.
#include "services/case/import_guard.h"

#include <gtest/gtest.h>

#include "tests/support/test_database.h"

namespace forecast {
namespace {

TEST(ImportGuardTest, OneImportPerJobCentreAcrossProcessesAndACapPerProcess) {
  auto db = testing::TestDatabase::Create();
  ASSERT_TRUE(db.ok()) << db.status();
  ImportGuard here((*db)->conninfo(), 2);
  ImportGuard elsewhere((*db)->conninfo(), 2);  // another case-service process

  auto first = here.Enter(7);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = elsewhere.Enter(7);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.status().message(),
            "an import for this job centre is already running; try again when it has finished");
  EXPECT_EQ(here.Enter(7).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(here.running(), 1);

  auto other_centre = here.Enter(8);
  ASSERT_TRUE(other_centre.ok()) << other_centre.status();
  EXPECT_EQ(here.Enter(9).status().code(), absl::StatusCode::kResourceExhausted);

  first->reset();  // the import ends: its lock goes with its connection
  auto after = elsewhere.Enter(7);
  EXPECT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(here.running(), 1);
}

}  // namespace
}  // namespace forecast
