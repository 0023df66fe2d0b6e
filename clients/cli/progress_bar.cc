#include "clients/cli/progress_bar.h"

#include <string>

namespace forecast::cli {

void ProgressBar::Update(int64_t done, int64_t total) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  constexpr int kWidth = 30;
  const double share = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int filled = static_cast<int>(share * kWidth);
  *out_ << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] " << done
        << "/" << total << " rows " << static_cast<int>(share * 100) << "%" << std::flush;
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (drawn_) *out_ << "\n" << std::flush;
  drawn_ = false;
}

}  // namespace forecast::cli
