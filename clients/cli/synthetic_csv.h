// Writes the synthetic job centre of forecasting/synthetic.h as the import CSVs, plus the
// organisation and staff listings the demo set-up feeds to forecastctl's org and staff commands.
#ifndef CLIENTS_CLI_SYNTHETIC_CSV_H_
#define CLIENTS_CLI_SYNTHETIC_CSV_H_

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "forecasting/synthetic.h"

namespace forecast::cli {

// Writes into `dir` (created if needed):
//   cases.csv, expectations.csv, closures.csv, reassignments.csv   the import files
//   units.csv    code,name,kind,parent        departments, then teams
//   staff.csv    code,name,role,team          caseworkers, a team leader per team (TL + the
//                                             team's digits), a manager MGR1 and an admin ADM1
//   actions.csv  case_ref,description,owner,due_on   the open cases' next steps
// With `with_fields`, cases.csv also carries the job centre's own yes/no field has_cv ("Har CV"),
// which the job centre must have set up before the import: "ja" for about 7 cases in 10, chosen
// by the case reference alone (so the same seed gives the same values). The model library's
// synthetic centre has no fields; this is the demo's illustration of them, not a simulation.
// UNAVAILABLE when a file cannot be written. Thread-safe for distinct folders.
absl::Status WriteSyntheticCentre(const forecasting::SyntheticJobCentre& centre,
                                  const std::filesystem::path& dir, bool with_fields = false);

// The demo's has_cv value of a case: "ja" or "nej". Thread-safe (pure).
std::string DemoHasCv(const std::string& case_ref);

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_SYNTHETIC_CSV_H_
