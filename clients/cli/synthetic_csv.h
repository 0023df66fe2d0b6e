// Writes the synthetic job centre of forecasting/synthetic.h as the import CSVs, plus the
// organisation and staff listings the demo set-up feeds to forecast-admin.
#ifndef CLIENTS_CLI_SYNTHETIC_CSV_H_
#define CLIENTS_CLI_SYNTHETIC_CSV_H_

#include <filesystem>

#include "absl/status/status.h"
#include "forecasting/synthetic.h"

namespace forecast::cli {

// Writes into `dir` (created if needed):
//   cases.csv, expectations.csv, closures.csv, reassignments.csv   the import files
//   units.csv    code,name,kind,parent        departments, then teams
//   staff.csv    code,name,role,team          caseworkers, a team leader per team (TL + the
//                                             team's digits), a manager MGR1 and an admin ADM1
//   actions.csv  case_ref,description,owner,due_on   the open cases' next steps
// UNAVAILABLE when a file cannot be written. Thread-safe for distinct folders.
absl::Status WriteSyntheticCentre(const forecasting::SyntheticJobCentre& centre,
                                  const std::filesystem::path& dir);

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_SYNTHETIC_CSV_H_
