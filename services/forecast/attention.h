// The dialogue agenda: open cases that need attention, ranked, each with its reasons. Plain
// functions over a CentreView; thread-safe.
//
// Reasons and their weights (a case's score is the sum over its reasons, so a case with several
// problems ranks above one with a single problem):
//   OVERDUE_ACTION     100 + up to 30 for days overdue (1 point per 3 days)
//   PASSED_HORIZON      80 + 5 per month past the expected month (up to 60)
//   NO_EXPECTATION      60 + 1 per month open (up to 12)
//   DEVIATING_OUTCOME   45  the expected outcome is one the caseworker over-uses against the
//                           team (flagged in the variation table)
//   HIGH_RISK           40  the highest risk on the centre's scale
//   STALE_EXPECTATION   30 + 2 per month beyond the 90 days (up to 24)
#ifndef SERVICES_FORECAST_ATTENTION_H_
#define SERVICES_FORECAST_ATTENTION_H_

#include <vector>

#include "forecast/v1/forecast_service.pb.h"
#include "services/forecast/centre_view.h"

namespace forecast::fsvc {

// An expectation recorded more than this many days ago is stale.
inline constexpr int kStaleDays = 90;

// The open cases of `scope` needing attention, highest score first (ties by case reference),
// at most `limit` (0: all). Thread-safe.
std::vector<v1::CaseAttention> RankAttention(const CentreView& view, const ScopeFilter& scope,
                                             int limit);

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_ATTENTION_H_
