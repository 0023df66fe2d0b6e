// A one-line progress bar ("[#####.....]  12000/50000 rows  24%") redrawn in place on a
// terminal. Draws nothing when disabled, so callers need not check.
#ifndef CLIENTS_CLI_PROGRESS_BAR_H_
#define CLIENTS_CLI_PROGRESS_BAR_H_

#include <chrono>
#include <cstdint>
#include <ostream>

namespace forecast::cli {

// Not thread-safe (one bar per import).
class ProgressBar {
 public:
  // Draws on `out` when `enabled`; `out` must outlive the bar.
  ProgressBar(std::ostream* out, bool enabled) : out_(out), enabled_(enabled) {}

  // Shows `done` of `total` rows; redraws at most ten times a second, always at the end.
  void Update(int64_t done, int64_t total);
  // Ends the line if anything was drawn.
  void Finish();

 private:
  std::ostream* out_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_PROGRESS_BAR_H_
