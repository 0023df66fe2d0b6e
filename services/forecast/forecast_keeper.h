// The forecast service's logic: which scope a request names and whether the caller may read it,
// what a valid target or dialogue is, and how a request becomes an answer from the centre's view
// or one stored change. Plain class over ForecastEngine (views, dashboards, backtests, changes)
// and HistoryStore (the writes); the gRPC adapter (forecast_service_impl.h) only resolves the
// caller, parses `as_of` and converts statuses, as CaseServiceImpl does over CaseKeeper.
//
// Every call: resolves the codes it names in the caller's job centre (scopes.h; another centre's
// codes do not exist for the caller: NOT_FOUND), authorises with the rules of
// services/common/authorization.h (no rule lives in services/forecast), validates
// (INVALID_ARGUMENT naming the field), then answers. Reads `as_of` a past day use the view of that
// day (nullopt: today's view). Writes store the change, apply it to the centre's view as stored
// (no re-read of the centre), and answer from what the write returned. Invalid input changes
// nothing.
#ifndef SERVICES_FORECAST_FORECAST_KEEPER_H_
#define SERVICES_FORECAST_FORECAST_KEEPER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "forecast/v1/forecast_service.pb.h"
#include "services/common/calendar.h"
#include "services/common/caller.h"
#include "services/forecast/forecast_engine.h"
#include "services/forecast/history_store.h"

namespace forecast::fsvc {

// The day a read is asked as of, parsed by the adapter; nullopt: now.
using AsOf = std::optional<Day>;

// Thread-safe (the engine and store are).
class ForecastKeeper {
 public:
  // Keeps references; both must outlive the keeper.
  ForecastKeeper(ForecastEngine& engine, HistoryStore& store) : engine_(engine), store_(store) {}

  // Projection of a scope's open cases (model default CALIBRATED, horizon default 12), with the
  // model's backtested accuracy.
  absl::StatusOr<v1::Projection> Project(const Caller& caller, const v1::ProjectRequest& request,
                                         AsOf as_of);
  // One summary per team of a department (empty: the whole job centre).
  absl::StatusOr<v1::TeamComparison> CompareTeams(const Caller& caller,
                                                  const v1::CompareTeamsRequest& request,
                                                  AsOf as_of);
  // A caseworker's own dashboard (empty code: the caller's); personal to the caseworker.
  absl::StatusOr<v1::CaseworkerDashboard> GetCaseworkerDashboard(
      const Caller& caller, const v1::CaseworkerDashboardRequest& request, AsOf as_of);
  // A team's dashboard (empty code: the caller's team), serialised as cached: answering it
  // costs no copy.
  absl::StatusOr<std::shared_ptr<const std::string>> SerializedTeamDashboard(
      const Caller& caller, const v1::TeamDashboardRequest& request, AsOf as_of);
  // Sends the team's dashboard through `send`, then again on every change to the team (a new
  // day counts as one) until `send` returns false or `cancelled` returns true; a past day is
  // sent once. Returns how many were sent. Blocks the calling thread; wakes at least every
  // 500 ms to check `cancelled`.
  absl::StatusOr<int64_t> WatchTeamDashboard(
      const Caller& caller, const v1::TeamDashboardRequest& request, AsOf as_of,
      const std::function<bool(const v1::TeamDashboard&)>& send,
      const std::function<bool()>& cancelled);
  // Each caseworker's share of expected outcomes against the team.
  absl::StatusOr<v1::Variation> GetVariation(const Caller& caller,
                                             const v1::VariationRequest& request, AsOf as_of);
  // The open cases behind a caseworker's share (request.outcome; empty: every outcome) in the
  // variation of the caseworker's team; AuthorizeVariationCases.
  absl::StatusOr<v1::VariationCases> GetVariationCases(const Caller& caller,
                                                       const v1::VariationCasesRequest& request,
                                                       AsOf as_of);
  // How a scope's projected closures evolved over the last month-ends or weeks (each earlier
  // day's projection as Project answers it as of that day), and for past months the projection
  // at the start of the month against the closures. Readable as Project's scope.
  absl::StatusOr<v1::Trend> GetTrend(const Caller& caller, const v1::TrendRequest& request,
                                     AsOf as_of);
  // Backtested accuracy of every model for a scope (lookback 0..36 months, 0: 12).
  absl::StatusOr<v1::Accuracy> GetAccuracy(const Caller& caller, const v1::AccuracyRequest& request,
                                           AsOf as_of);
  // One open case's outcome-by-month probabilities and reasons; read access to the case needed.
  absl::StatusOr<v1::CaseExplanation> ExplainCase(const Caller& caller,
                                                  const v1::ExplainCaseRequest& request,
                                                  AsOf as_of);

  // The job centre's milestone metrics. Any role.
  absl::StatusOr<v1::MilestoneMetrics> ListMilestoneMetrics(const Caller& caller);
  // Appends a target (the team's leader or a manager); returns it as stored.
  absl::StatusOr<v1::MilestoneTarget> SetMilestoneTarget(
      const Caller& caller, const v1::SetMilestoneTargetRequest& request);
  // A team's (or one of its caseworkers') milestones, from two months back to three ahead by
  // default.
  absl::StatusOr<v1::Milestones> GetMilestones(const Caller& caller,
                                               const v1::MilestonesRequest& request, AsOf as_of);

  // Dialogue writes (the caseworker's team leader or a manager) return the dialogue as stored.
  // RecordDialogue stores a FINAL dialogue in one call (idempotent by key).
  absl::StatusOr<v1::Dialogue> RecordDialogue(const Caller& caller,
                                              const v1::RecordDialogueRequest& request);
  // Opens the caseworker's DRAFT (or returns the open one).
  absl::StatusOr<v1::Dialogue> OpenDialogue(const Caller& caller,
                                            const v1::OpenDialogueRequest& request);
  // A new version of a draft's notes, from `base_version` (stale: ABORTED).
  absl::StatusOr<v1::Dialogue> SaveDialogueNotes(const Caller& caller,
                                                 const v1::SaveDialogueNotesRequest& request);
  // Locks a draft (FINAL); a retry at the same version is OK.
  absl::StatusOr<v1::Dialogue> FinaliseDialogue(const Caller& caller,
                                                const v1::FinaliseDialogueRequest& request);
  // The dialogues of a caseworker (a caseworker: only the own) or of a team.
  absl::StatusOr<v1::ListDialoguesResponse> ListDialogues(const Caller& caller,
                                                          const v1::ListDialoguesRequest& request);
  // The agenda of the next dialogue with a caseworker: cases needing attention, ranked, and what
  // became of the last finalised dialogue's agreements.
  absl::StatusOr<v1::DialogueAgenda> GetDialogueAgenda(const Caller& caller,
                                                       const v1::DialogueAgendaRequest& request,
                                                       AsOf as_of);
  // What changed for a caseworker's or team's cases since the last finalised dialogue (or
  // `since`; otherwise a month back).
  absl::StatusOr<v1::Changes> GetChangesSinceLastDialogue(const Caller& caller,
                                                          const v1::ChangesRequest& request,
                                                          AsOf as_of);
  // Pipeline inspection of a caseworker's or team's cases since a day (default: the last
  // finalised dialogue, else the last day of the previous month): changed cases and the
  // waterfall of expected closures (pipeline.h). Needs the view as of that day too.
  absl::StatusOr<v1::PipelineInspection> InspectPipeline(const Caller& caller,
                                                         const v1::PipelineRequest& request,
                                                         AsOf as_of);

 private:
  // The caller's centre as of the day (nullopt: now); INVALID_ARGUMENT "as_of" for a future day.
  absl::StatusOr<std::shared_ptr<const CentreView>> ViewAt(const Caller& caller, AsOf as_of);
  // Applies a stored dialogue to the centre and answers it.
  absl::StatusOr<v1::Dialogue> AnswerDialogue(const Caller& caller, const CentreView& view,
                                              absl::StatusOr<DialogueRecord> stored);

  ForecastEngine& engine_;
  HistoryStore& store_;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_FORECAST_KEEPER_H_
