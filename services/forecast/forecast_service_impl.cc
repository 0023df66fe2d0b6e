#include "services/forecast/forecast_service_impl.h"

#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/calendar.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"

namespace forecast::fsvc {
namespace {

// The request's as_of: empty means now.
absl::StatusOr<AsOf> ParseAsOf(const std::string& text) {
  if (text.empty()) return AsOf();
  ASSIGN_OR_RETURN(const Day day, ParseDay(text, "as_of"));
  return AsOf(day);
}

}  // namespace

template <typename Response, typename Call>
grpc::Status ForecastServiceImpl::Handle(const char* method, grpc::ServerContextBase& context,
                                         CaseRows rows, Response* response, Call call) {
  const absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(context, authenticator_));
    ASSIGN_OR_RETURN(Response result, call(caller));
    if constexpr (std::is_base_of_v<google::protobuf::Message, Response>) {
      if (rows == CaseRows::kLogged) {
        RETURN_IF_ERROR(audit::ReleaseCaseRows(
            reads_, caller, absl::StrCat("/forecast.v1.ForecastService/", method), result));
      }
    }
    *response = std::move(result);
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status, method);
}

template <typename Response, typename Call>
grpc::Status ForecastServiceImpl::HandleAsOf(const char* method, grpc::ServerContextBase& context,
                                             CaseRows rows, const std::string& as_of,
                                             Response* response, Call call) {
  return Handle(method, context, rows, response,
                [&](const Caller& caller) -> absl::StatusOr<Response> {
                  ASSIGN_OR_RETURN(const AsOf day, ParseAsOf(as_of));
                  return call(caller, day);
                });
}

grpc::Status ForecastServiceImpl::Project(grpc::ServerContext* context,
                                          const v1::ProjectRequest* request,
                                          v1::Projection* response) {
  return HandleAsOf("Project", *context, CaseRows::kNone, request->as_of(), response,
                    [&](const Caller& c, AsOf d) { return keeper_.Project(c, *request, d); });
}

grpc::Status ForecastServiceImpl::CompareTeams(grpc::ServerContext* context,
                                               const v1::CompareTeamsRequest* request,
                                               v1::TeamComparison* response) {
  return HandleAsOf("CompareTeams", *context, CaseRows::kNone, request->as_of(), response,
                    [&](const Caller& c, AsOf d) { return keeper_.CompareTeams(c, *request, d); });
}

grpc::Status ForecastServiceImpl::GetCaseworkerDashboard(
    grpc::ServerContext* context, const v1::CaseworkerDashboardRequest* request,
    v1::CaseworkerDashboard* response) {
  return HandleAsOf(
      "GetCaseworkerDashboard", *context, CaseRows::kLogged, request->as_of(), response,
      [&](const Caller& c, AsOf d) { return keeper_.GetCaseworkerDashboard(c, *request, d); });
}

// The cached dashboard's bytes are the answer: no message copy or serialisation.
grpc::ServerUnaryReactor* ForecastServiceImpl::GetTeamDashboard(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  v1::TeamDashboardRequest req;
  grpc::ByteBuffer copy(*request);  // shares the slices
  if (!grpc::SerializationTraits<v1::TeamDashboardRequest>::Deserialize(&copy, &req).ok()) {
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError("request: not a TeamDashboardRequest"),
                                 "GetTeamDashboard"));
    return reactor;
  }
  std::shared_ptr<const std::string> wire;
  grpc::Status status = HandleAsOf(
      "GetTeamDashboard", *context, CaseRows::kNone, req.as_of(), &wire,
      [&](const Caller& c, AsOf d) { return keeper_.SerializedTeamDashboard(c, req, d); });
  if (status.ok()) {
    grpc::Slice slice(wire->data(), wire->size());
    *response = grpc::ByteBuffer(&slice, 1);
  }
  reactor->Finish(status);
  return reactor;
}

grpc::Status ForecastServiceImpl::WatchTeamDashboard(
    grpc::ServerContext* context, const v1::TeamDashboardRequest* request,
    grpc::ServerWriter<v1::TeamDashboard>* writer) {
  int64_t sent = 0;
  return HandleAsOf("WatchTeamDashboard", *context, CaseRows::kNone, request->as_of(), &sent,
                    [&](const Caller& c, AsOf d) {
                      return keeper_.WatchTeamDashboard(
                          c, *request, d,
                          [&](const v1::TeamDashboard& t) { return writer->Write(t); },
                          [&] { return context->IsCancelled(); });
                    });
}

grpc::Status ForecastServiceImpl::GetVariation(grpc::ServerContext* context,
                                               const v1::VariationRequest* request,
                                               v1::Variation* response) {
  return HandleAsOf("GetVariation", *context, CaseRows::kNone, request->as_of(), response,
                    [&](const Caller& c, AsOf d) { return keeper_.GetVariation(c, *request, d); });
}

grpc::Status ForecastServiceImpl::GetVariationCases(grpc::ServerContext* context,
                                                    const v1::VariationCasesRequest* request,
                                                    v1::VariationCases* response) {
  return HandleAsOf(
      "GetVariationCases", *context, CaseRows::kLogged, request->as_of(), response,
      [&](const Caller& c, AsOf d) { return keeper_.GetVariationCases(c, *request, d); });
}

grpc::Status ForecastServiceImpl::GetTrend(grpc::ServerContext* context,
                                           const v1::TrendRequest* request, v1::Trend* response) {
  return HandleAsOf("GetTrend", *context, CaseRows::kNone, request->as_of(), response,
                    [&](const Caller& c, AsOf d) { return keeper_.GetTrend(c, *request, d); });
}

grpc::Status ForecastServiceImpl::GetAccuracy(grpc::ServerContext* context,
                                              const v1::AccuracyRequest* request,
                                              v1::Accuracy* response) {
  return HandleAsOf("GetAccuracy", *context, CaseRows::kNone, request->as_of(), response,
                    [&](const Caller& c, AsOf d) { return keeper_.GetAccuracy(c, *request, d); });
}

grpc::Status ForecastServiceImpl::ExplainCase(grpc::ServerContext* context,
                                              const v1::ExplainCaseRequest* request,
                                              v1::CaseExplanation* response) {
  return HandleAsOf("ExplainCase", *context, CaseRows::kLogged, request->as_of(), response,
                    [&](const Caller& c, AsOf d) { return keeper_.ExplainCase(c, *request, d); });
}

grpc::Status ForecastServiceImpl::ListMilestoneMetrics(grpc::ServerContext* context,
                                                       const v1::ListMilestoneMetricsRequest*,
                                                       v1::MilestoneMetrics* response) {
  return Handle("ListMilestoneMetrics", *context, CaseRows::kNone, response,
                [&](const Caller& c) { return keeper_.ListMilestoneMetrics(c); });
}

grpc::Status ForecastServiceImpl::SetMilestoneTarget(grpc::ServerContext* context,
                                                     const v1::SetMilestoneTargetRequest* request,
                                                     v1::MilestoneTarget* response) {
  return Handle("SetMilestoneTarget", *context, CaseRows::kNone, response,
                [&](const Caller& c) { return keeper_.SetMilestoneTarget(c, *request); });
}

grpc::Status ForecastServiceImpl::GetMilestones(grpc::ServerContext* context,
                                                const v1::MilestonesRequest* request,
                                                v1::Milestones* response) {
  return HandleAsOf("GetMilestones", *context, CaseRows::kNone, request->as_of(), response,
                    [&](const Caller& c, AsOf d) { return keeper_.GetMilestones(c, *request, d); });
}

grpc::Status ForecastServiceImpl::RecordDialogue(grpc::ServerContext* context,
                                                 const v1::RecordDialogueRequest* request,
                                                 v1::Dialogue* response) {
  return Handle("RecordDialogue", *context, CaseRows::kLogged, response,
                [&](const Caller& c) { return keeper_.RecordDialogue(c, *request); });
}

grpc::Status ForecastServiceImpl::OpenDialogue(grpc::ServerContext* context,
                                               const v1::OpenDialogueRequest* request,
                                               v1::Dialogue* response) {
  return Handle("OpenDialogue", *context, CaseRows::kLogged, response,
                [&](const Caller& c) { return keeper_.OpenDialogue(c, *request); });
}

grpc::Status ForecastServiceImpl::SaveDialogueNotes(grpc::ServerContext* context,
                                                    const v1::SaveDialogueNotesRequest* request,
                                                    v1::Dialogue* response) {
  return Handle("SaveDialogueNotes", *context, CaseRows::kLogged, response,
                [&](const Caller& c) { return keeper_.SaveDialogueNotes(c, *request); });
}

grpc::Status ForecastServiceImpl::FinaliseDialogue(grpc::ServerContext* context,
                                                   const v1::FinaliseDialogueRequest* request,
                                                   v1::Dialogue* response) {
  return Handle("FinaliseDialogue", *context, CaseRows::kLogged, response,
                [&](const Caller& c) { return keeper_.FinaliseDialogue(c, *request); });
}

grpc::Status ForecastServiceImpl::ListDialogues(grpc::ServerContext* context,
                                                const v1::ListDialoguesRequest* request,
                                                v1::ListDialoguesResponse* response) {
  return Handle("ListDialogues", *context, CaseRows::kLogged, response,
                [&](const Caller& c) { return keeper_.ListDialogues(c, *request); });
}

grpc::Status ForecastServiceImpl::GetDialogueAgenda(grpc::ServerContext* context,
                                                    const v1::DialogueAgendaRequest* request,
                                                    v1::DialogueAgenda* response) {
  return HandleAsOf(
      "GetDialogueAgenda", *context, CaseRows::kLogged, request->as_of(), response,
      [&](const Caller& c, AsOf d) { return keeper_.GetDialogueAgenda(c, *request, d); });
}

grpc::Status ForecastServiceImpl::GetChangesSinceLastDialogue(grpc::ServerContext* context,
                                                              const v1::ChangesRequest* request,
                                                              v1::Changes* response) {
  return HandleAsOf(
      "GetChangesSinceLastDialogue", *context, CaseRows::kLogged, request->as_of(), response,
      [&](const Caller& c, AsOf d) { return keeper_.GetChangesSinceLastDialogue(c, *request, d); });
}

grpc::Status ForecastServiceImpl::InspectPipeline(grpc::ServerContext* context,
                                                  const v1::PipelineRequest* request,
                                                  v1::PipelineInspection* response) {
  return HandleAsOf(
      "InspectPipeline", *context, CaseRows::kLogged, request->as_of(), response,
      [&](const Caller& c, AsOf d) { return keeper_.InspectPipeline(c, *request, d); });
}

grpc::Status ForecastServiceImpl::SetForecastAdjustment(
    grpc::ServerContext* context, const v1::SetForecastAdjustmentRequest* request,
    v1::ForecastAdjustment* response) {
  return Handle("SetForecastAdjustment", *context, CaseRows::kNone, response,
                [&](const Caller& c) { return adjustments_.Set(c, *request); });
}

grpc::Status ForecastServiceImpl::ListForecastAdjustments(
    grpc::ServerContext* context, const v1::ListForecastAdjustmentsRequest* request,
    v1::ForecastAdjustments* response) {
  return HandleAsOf("ListForecastAdjustments", *context, CaseRows::kNone, request->as_of(),
                    response,
                    [&](const Caller& c, AsOf d) { return adjustments_.List(c, *request, d); });
}

}  // namespace forecast::fsvc
