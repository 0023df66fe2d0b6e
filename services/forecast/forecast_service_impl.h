// The gRPC face of the forecast service: resolves the caller from its access token (caller.h),
// parses `as_of`, hands the request to ForecastKeeper and converts the status; answers carrying
// case rows pass the case-read log (audit::ReleaseCaseRows) on the way out. No rules live here:
// scopes and access are the keeper's (forecast_keeper.h).
#ifndef SERVICES_FORECAST_FORECAST_SERVICE_IMPL_H_
#define SERVICES_FORECAST_FORECAST_SERVICE_IMPL_H_

#include "forecast/v1/forecast_service.grpc.pb.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/caller.h"
#include "services/forecast/adjustments.h"
#include "services/forecast/forecast_engine.h"
#include "services/forecast/forecast_keeper.h"
#include "services/forecast/history_store.h"

namespace forecast::fsvc {

// GetTeamDashboard, the hot read, is served through the callback API with raw bytes: the
// dashboard is cached serialised, so an answer costs no message copy or serialisation. The wire
// format is the same as every other method's. A cache miss builds the dashboard on gRPC's
// callback thread: a few ms, longer for a team's first backtest of the month, which the
// start-up warm-up (main.cc) does ahead of the first caller.
class ForecastServiceImpl final
    : public v1::ForecastService::WithRawCallbackMethod_GetTeamDashboard<
          v1::ForecastService::Service> {
 public:
  // All dependencies must outlive the service. Thread-safe.
  // `reads` records every answer that carries case rows (issue 8's access log).
  ForecastServiceImpl(ForecastEngine& engine, const Authenticator& authenticator,
                      HistoryStore& store, audit::CaseReadLog& reads)
      : keeper_(engine, store),
        adjustments_(engine, store),
        authenticator_(authenticator),
        reads_(reads) {}

  grpc::Status Project(grpc::ServerContext* context, const v1::ProjectRequest* request,
                       v1::Projection* response) override;
  grpc::Status CompareTeams(grpc::ServerContext* context, const v1::CompareTeamsRequest* request,
                            v1::TeamComparison* response) override;
  grpc::Status GetCaseworkerDashboard(grpc::ServerContext* context,
                                      const v1::CaseworkerDashboardRequest* request,
                                      v1::CaseworkerDashboard* response) override;
  grpc::ServerUnaryReactor* GetTeamDashboard(grpc::CallbackServerContext* context,
                                             const grpc::ByteBuffer* request,
                                             grpc::ByteBuffer* response) override;
  grpc::Status WatchTeamDashboard(grpc::ServerContext* context,
                                  const v1::TeamDashboardRequest* request,
                                  grpc::ServerWriter<v1::TeamDashboard>* writer) override;
  grpc::Status GetVariation(grpc::ServerContext* context, const v1::VariationRequest* request,
                            v1::Variation* response) override;
  grpc::Status GetVariationCases(grpc::ServerContext* context,
                                 const v1::VariationCasesRequest* request,
                                 v1::VariationCases* response) override;
  grpc::Status GetTrend(grpc::ServerContext* context, const v1::TrendRequest* request,
                        v1::Trend* response) override;
  grpc::Status GetAccuracy(grpc::ServerContext* context, const v1::AccuracyRequest* request,
                           v1::Accuracy* response) override;
  grpc::Status ExplainCase(grpc::ServerContext* context, const v1::ExplainCaseRequest* request,
                           v1::CaseExplanation* response) override;
  grpc::Status ListMilestoneMetrics(grpc::ServerContext* context,
                                    const v1::ListMilestoneMetricsRequest* request,
                                    v1::MilestoneMetrics* response) override;
  grpc::Status SetMilestoneTarget(grpc::ServerContext* context,
                                  const v1::SetMilestoneTargetRequest* request,
                                  v1::MilestoneTarget* response) override;
  grpc::Status GetMilestones(grpc::ServerContext* context, const v1::MilestonesRequest* request,
                             v1::Milestones* response) override;
  grpc::Status RecordDialogue(grpc::ServerContext* context,
                              const v1::RecordDialogueRequest* request,
                              v1::Dialogue* response) override;
  grpc::Status OpenDialogue(grpc::ServerContext* context, const v1::OpenDialogueRequest* request,
                            v1::Dialogue* response) override;
  grpc::Status SaveDialogueNotes(grpc::ServerContext* context,
                                 const v1::SaveDialogueNotesRequest* request,
                                 v1::Dialogue* response) override;
  grpc::Status FinaliseDialogue(grpc::ServerContext* context,
                                const v1::FinaliseDialogueRequest* request,
                                v1::Dialogue* response) override;
  grpc::Status ListDialogues(grpc::ServerContext* context, const v1::ListDialoguesRequest* request,
                             v1::ListDialoguesResponse* response) override;
  grpc::Status GetDialogueAgenda(grpc::ServerContext* context,
                                 const v1::DialogueAgendaRequest* request,
                                 v1::DialogueAgenda* response) override;
  grpc::Status GetChangesSinceLastDialogue(grpc::ServerContext* context,
                                           const v1::ChangesRequest* request,
                                           v1::Changes* response) override;
  grpc::Status InspectPipeline(grpc::ServerContext* context, const v1::PipelineRequest* request,
                               v1::PipelineInspection* response) override;
  grpc::Status SetForecastAdjustment(grpc::ServerContext* context,
                                     const v1::SetForecastAdjustmentRequest* request,
                                     v1::ForecastAdjustment* response) override;
  grpc::Status ListForecastAdjustments(grpc::ServerContext* context,
                                       const v1::ListForecastAdjustmentsRequest* request,
                                       v1::ForecastAdjustments* response) override;

 private:
  // Whether an answer carries case rows: those pass the case-read log (admins refused) first.
  enum class CaseRows { kNone, kLogged };
  // Resolves the caller, runs `call(caller)` (a keeper call returning StatusOr<Response>) and
  // moves its answer into `response`.
  template <typename Response, typename Call>
  grpc::Status Handle(const char* method, grpc::ServerContextBase& context, CaseRows rows,
                      Response* response, Call call);
  // The same with `as_of` parsed first (empty: now; else YYYY-MM-DD): `call(caller, as_of)`.
  template <typename Response, typename Call>
  grpc::Status HandleAsOf(const char* method, grpc::ServerContextBase& context, CaseRows rows,
                          const std::string& as_of, Response* response, Call call);

  ForecastKeeper keeper_;
  ForecastAdjustments adjustments_;
  const Authenticator& authenticator_;
  audit::CaseReadLog& reads_;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_FORECAST_SERVICE_IMPL_H_
