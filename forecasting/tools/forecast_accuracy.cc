// forecast_accuracy: the accuracy harness (see forecasting/accuracy.h) on synthetic centres,
// offline. Prints Markdown tables; exits 1 when the goals of issue 12 are not met.
//   forecast_accuracy [--centres N] [--origins N] [--step N] [--horizon N] [--small]
//                     [--no-caseworkers] [--shock-scale X] [--shock-floor X]
//                     [--calendar-pooling X] [--calibration-pooling X] [--hazard-pooling X]
//                     [--no-slip-shift]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "forecasting/accuracy.h"

int main(int argc, char** argv) {
  int centres = 10;
  bool small = false;
  forecasting::HarnessOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> int {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: needs a value\n", arg.c_str());
        std::exit(2);
      }
      return std::atoi(argv[++i]);
    };
    if (arg == "--centres") {
      centres = value();
    } else if (arg == "--origins") {
      options.origins = value();
    } else if (arg == "--step") {
      options.origin_step = value();
    } else if (arg == "--horizon") {
      options.horizon_months = value();
    } else if (arg == "--shock-scale") {
      options.fit.month_shock_scale = std::atof(argv[++i < argc ? i : i - 1]);
    } else if (arg == "--shock-floor") {
      options.fit.month_shock_floor = std::atof(argv[++i < argc ? i : i - 1]);
    } else if (arg == "--calendar-pooling") {
      options.fit.calendar_pooling = std::atof(argv[++i < argc ? i : i - 1]);
    } else if (arg == "--calibration-pooling") {
      options.fit.calibration_pooling = std::atof(argv[++i < argc ? i : i - 1]);
    } else if (arg == "--hazard-pooling") {
      options.fit.hazard_pooling = std::atof(argv[++i < argc ? i : i - 1]);
    } else if (arg == "--no-slip-shift") {
      options.fit.slip_shift = false;
    } else if (arg == "--small") {
      small = true;
    } else if (arg == "--no-caseworkers") {
      options.caseworker_level = false;
    } else {
      std::fprintf(stderr,
                   "usage: forecast_accuracy [--centres N] [--origins N] [--step N] [--horizon N] "
                   "[--small] [--no-caseworkers]\n");
      return 2;
    }
  }
  if (centres < 1 || centres > 100) {
    std::fprintf(stderr, "--centres: must be 1..100\n");
    return 2;
  }
  options.centres = forecasting::HarnessSpecs(centres, small);
  const auto start = std::chrono::steady_clock::now();
  auto result = forecasting::RunAccuracyHarness(options);
  if (!result.ok()) {
    std::fprintf(stderr, "forecast_accuracy: %s\n", std::string(result.status().message()).c_str());
    return 2;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s", forecasting::FormatHarness(*result).c_str());
  std::printf("\n%d centres, %d origins every %d months, %d-month horizon: %.1f s\n", centres,
              options.origins, options.origin_step, options.horizon_months, seconds);
  return forecasting::EvaluateGoals(*result).met ? 0 : 1;
}
