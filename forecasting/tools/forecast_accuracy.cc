// forecast_accuracy: the accuracy harness (see forecasting/accuracy.h) on synthetic centres,
// offline. Prints Markdown tables; exits 1 when the goals of issue 12 are not met.
//   forecast_accuracy [--centres N] [--origins N] [--step N] [--horizon N] [--small]
//                     [--no-caseworkers] [--shock-scale X] [--shock-floor X]
//                     [--calendar-pooling X] [--calibration-pooling X] [--hazard-pooling X]
//                     [--no-slip-shift] [--seasonality X]
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "forecasting/accuracy.h"
#include "services/common/command_line.h"

int main(int argc, char** argv) {
  int centres = 10;
  bool small = false;
  forecasting::HarnessOptions options;
  bool no_slip_shift = false, no_caseworkers = false;
  std::optional<double> seasonality;
  CLI::App app{"The accuracy harness on synthetic centres (offline).", "forecast_accuracy"};
  app.add_option("--centres", centres, "synthetic job centres")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--origins", options.origins, "forecast origins per centre")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--step", options.origin_step, "months between origins")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--horizon", options.horizon_months, "months projected from each origin")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--shock-scale", options.fit.month_shock_scale, "month-shock scale")
      ->capture_default_str();
  app.add_option("--shock-floor", options.fit.month_shock_floor, "month-shock floor")
      ->capture_default_str();
  app.add_option("--calendar-pooling", options.fit.calendar_pooling, "calendar pooling strength")
      ->capture_default_str();
  app.add_option("--calibration-pooling", options.fit.calibration_pooling,
                 "calibration pooling strength")
      ->capture_default_str();
  app.add_option("--hazard-pooling", options.fit.hazard_pooling, "hazard pooling strength")
      ->capture_default_str();
  app.add_option("--seasonality", seasonality,
                 "every centre's closure calendar strength (0: none; default: 1 and 0.35 "
                 "alternately)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--no-slip-shift", no_slip_shift, "leave out the caseworkers' slip shift");
  app.add_flag("--small", small, "small centres (quick)");
  app.add_flag("--no-caseworkers", no_caseworkers, "leave out caseworker-level habits");
  if (std::optional<int> exit_code = forecast::ParseCommandLine(app, argc, argv)) return *exit_code;
  if (no_slip_shift) options.fit.slip_shift = false;
  if (no_caseworkers) options.caseworker_level = false;
  options.centres = forecasting::HarnessSpecs(centres, small);
  if (seasonality.has_value()) {
    for (forecasting::SyntheticSpec& spec : options.centres)
      spec.closure_seasonality = *seasonality;
  }
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
