// forecastctl generate-demo: the synthetic job centre of forecasting/synthetic.h as CSV files.
#include <cstdio>

#include "clients/cli/command_support.h"
#include "clients/cli/commands.h"
#include "clients/cli/synthetic_csv.h"
#include "forecasting/synthetic.h"

namespace forecast::cli {

int GenerateDemo(const CommandEnv& env, const std::string& dir, uint64_t seed,
                 const std::string& size, const std::string& today, bool with_fields) {
  forecasting::SyntheticSpec spec =
      size == "large" ? forecasting::LargeSpec() : forecasting::DemoSpec();
  spec.seed = seed;
  int year = 0, month = 0, day = 0;
  if (std::sscanf(today.c_str(), "%4d-%2d-%2d", &year, &month, &day) != 3) {
    *env.err << "forecastctl: --today: \"" << today << "\" is not YYYY-MM-DD\n";
    return 2;
  }
  spec.end_year = year, spec.end_month = month, spec.end_day = day;
  absl::StatusOr<forecasting::SyntheticJobCentre> centre = forecasting::GenerateJobCentre(spec);
  if (!centre.ok()) return Fail(env, centre.status());
  absl::Status written = WriteSyntheticCentre(*centre, dir, with_fields);
  if (!written.ok()) return Fail(env, written);
  *env.out << "wrote " << centre->cases.size() << " cases, " << centre->expectations.size()
           << " expectations, " << centre->closures.size() << " closures, "
           << centre->reassignments.size() << " reassignments, " << centre->teams.size()
           << " teams and " << centre->caseworkers.size() << " caseworkers to " << dir << "\n";
  return 0;
}

}  // namespace forecast::cli
