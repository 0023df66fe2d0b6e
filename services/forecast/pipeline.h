// Pipeline inspection: what changed for a team's or caseworker's cases between two days, who
// changed it, and what it did to the forecast, as a waterfall of expected closures from the
// figure then to the figure now. Plain functions over two views; no I/O; thread-safe.
//
// The figures are additive by construction: each is the sum over the scope's open cases of the
// case's expected closures in the window (calibrated model, the sum of its probabilities of
// closing in the window's months), so the difference splits exactly into per-case changes, and
// each case's change is counted under one cause:
//  - counted now, not then: REASSIGNED when it was open then (held outside the scope), else NEW
//    (opened, known or reopened since);
//  - counted then, not now: CLOSED when it is closed now, else REASSIGNED (moved out);
//  - counted in both, by priority: MOVED_EARLIER / MOVED_LATER (expected month), OUTCOME_CHANGED,
//    RISK_CHANGED, FIRST_EXPECTATION (none then), REASSIGNED (another holder in the scope), else
//    UNCHANGED: the residual of time passing and of models refitted for a new month.
// The month is first because it decides whether a case falls in the window at all.
#ifndef SERVICES_FORECAST_PIPELINE_H_
#define SERVICES_FORECAST_PIPELINE_H_

#include "absl/status/statusor.h"
#include "forecast/v1/forecast_service.pb.h"
#include "services/forecast/centre_view.h"

namespace forecast::fsvc {

// The waterfall's causes, in the order of its steps.
inline constexpr const char* kPipelineCauses[] = {
    "NEW",         "CLOSED",          "REASSIGNED",   "MOVED_EARLIER",
    "MOVED_LATER", "OUTCOME_CHANGED", "RISK_CHANGED", "FIRST_EXPECTATION",
    "UNCHANGED"};

// Compares `before` (the view as of the since-day: today = cut-off = since) with `after` (today's
// view, or as of a later day) for the cases of `scope`. Names, codes and case types come from
// `after`'s history. The caller fills the scope's code and since_basis. INTERNAL when the
// projector rejects a case.
absl::StatusOr<v1::PipelineInspection> InspectPipeline(const CentreView& before,
                                                       const CentreView& after,
                                                       const ScopeFilter& scope);

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_PIPELINE_H_
