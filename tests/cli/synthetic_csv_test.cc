// generate-demo's files: the synthetic job centre written as CSV reads back through the import
// plan without a shape problem, with every row.
#include "clients/cli/synthetic_csv.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "clients/cli/import_files.h"

namespace forecast::cli {
namespace {

TEST(WriteSyntheticCentre, ImportPlanReadsEveryRow) {
  forecasting::SyntheticSpec spec = forecasting::DemoSpec();
  spec.seed = 7;
  spec.teams = 2;
  spec.departments = 1;
  spec.caseworkers_per_team = 2;
  spec.history_months = 24;
  auto centre = forecasting::GenerateJobCentre(spec);
  ASSERT_TRUE(centre.ok()) << centre.status();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("forecastctl-synthetic-" + std::to_string(getpid()));
  ASSERT_TRUE(WriteSyntheticCentre(*centre, dir).ok());
  auto plan = ImportFiles::FromDirectory(dir);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->issues().empty());
  EXPECT_EQ(plan->cases().size(), centre->cases.size());
  EXPECT_EQ(plan->expectations().size(), centre->expectations.size());
  EXPECT_EQ(plan->closures().size(), centre->closures.size());
  EXPECT_EQ(plan->reassignments().size(), centre->reassignments.size());
  EXPECT_GT(centre->cases.size(), 0u);
  EXPECT_TRUE(std::filesystem::exists(dir / "staff.csv"));
  EXPECT_TRUE(std::filesystem::exists(dir / "units.csv"));
  std::filesystem::remove_all(dir);
}

// --with-fields: every case carries has_cv as the import reads own fields (an extra cases.csv
// column), "ja" or "nej", about 7 in 10 "ja", the same for the same case reference.
TEST(WriteSyntheticCentre, WithFieldsEveryCaseCarriesHasCv) {
  forecasting::SyntheticSpec spec = forecasting::DemoSpec();
  spec.seed = 11;
  spec.teams = 2;
  spec.departments = 1;
  spec.caseworkers_per_team = 3;
  spec.history_months = 24;
  auto centre = forecasting::GenerateJobCentre(spec);
  ASSERT_TRUE(centre.ok()) << centre.status();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("forecastctl-synthetic-fields-" + std::to_string(getpid()));
  ASSERT_TRUE(WriteSyntheticCentre(*centre, dir, /*with_fields=*/true).ok());
  auto plan = ImportFiles::FromDirectory(dir);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->issues().empty());
  ASSERT_EQ(plan->cases().size(), centre->cases.size());
  size_t yes = 0;
  for (const auto& row : plan->cases()) {
    auto it = row.extra().find("has_cv");
    ASSERT_NE(it, row.extra().end()) << row.case_ref();
    EXPECT_EQ(it->second, DemoHasCv(row.case_ref()));
    yes += it->second == "ja";
  }
  const double share = static_cast<double>(yes) / static_cast<double>(plan->cases().size());
  EXPECT_GT(share, 0.6);
  EXPECT_LT(share, 0.8);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace forecast::cli
