#include "forecasting/month.h"

#include <cstdio>

namespace forecasting {

std::string FormatMonth(MonthIndex m) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d", YearOf(m), MonthOfYear(m));
  return buffer;
}

}  // namespace forecasting
