// Loads a synthetic job centre (forecasting/synthetic.h) into PostgreSQL in the shape the case
// service writes: organisation and staff through OrgAdmin, cases and their history through the
// case store's bulk import, and each open case's next action as an action row.
#ifndef TESTS_BENCH_FORECAST_SERVICE_BENCHMARK_LOADER_H_
#define TESTS_BENCH_FORECAST_SERVICE_BENCHMARK_LOADER_H_

#include <string>

#include "absl/status/status.h"
#include "forecasting/synthetic.h"

namespace forecast::bench {

// Creates job centre `code` with the centre's departments, teams, caseworkers, one team leader
// per team ("TL" + team code) and a manager ("manager"), and imports every case. Thread-safe
// (own connections); the job centre must not exist yet.
absl::Status LoadSyntheticCentre(const std::string& conninfo, const std::string& code,
                                 const forecasting::SyntheticJobCentre& centre);

}  // namespace forecast::bench

#endif  // TESTS_BENCH_FORECAST_SERVICE_BENCHMARK_LOADER_H_
