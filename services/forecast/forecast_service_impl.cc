#include "services/forecast/forecast_service_impl.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/authorization.h"
#include "services/common/calendar.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/text_checks.h"
#include "services/forecast/access.h"
#include "services/forecast/attention.h"
#include "services/forecast/dashboards.h"
#include "services/forecast/dialogues.h"
#include "services/forecast/milestones.h"
#include "services/forecast/projections.h"

namespace forecast::fsvc {
namespace {

using audit::ReleaseCaseRows;

constexpr size_t kMaxNoteChars = 4000;
constexpr int kDefaultAgendaItems = 20;
constexpr int kMaxAgendaItems = 500;
constexpr int kMaxLookback = 36;

template <typename F>
grpc::Status Run(F&& body) {
  return ToGrpcStatus(body());
}

// The dialogue `id` of the caller's job centre that the caller may edit (the team leader of its
// team, or a manager); NOT_FOUND for another centre's or no dialogue, worded alike.
absl::StatusOr<const DialogueRecord*> WritableDialogue(const CentreHistory& h, const Caller& caller,
                                                       int64_t id) {
  for (const DialogueRecord& d : h.dialogues) {
    if (d.id != id) continue;
    RETURN_IF_ERROR(AuthorizeDialogueWrite(caller, d.team_id));
    return &d;
  }
  return ReasonedError(absl::StatusCode::kNotFound, "DIALOGUE_NOT_FOUND",
                       absl::StrCat("dialogue ", id, " not found"), {{"value", absl::StrCat(id)}},
                       "id");
}

absl::Status CheckNotes(const v1::DialogueNotes& notes) {
  RETURN_IF_ERROR(CheckText(notes.status(), "notes.status", 0, kMaxNoteChars));
  RETURN_IF_ERROR(CheckText(notes.knowledge(), "notes.knowledge", 0, kMaxNoteChars));
  RETURN_IF_ERROR(CheckText(notes.learning(), "notes.learning", 0, kMaxNoteChars));
  return CheckText(notes.adjustment(), "notes.adjustment", 0, kMaxNoteChars);
}

}  // namespace

grpc::Status ForecastServiceImpl::Project(grpc::ServerContext* context,
                                          const v1::ProjectRequest* request,
                                          v1::Projection* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(const forecasting::ModelKind model, ToModelKind(request->model(), "model"));
    ASSIGN_OR_RETURN(const int horizon, CheckHorizon(request->horizon_months(), "horizon_months"));
    ASSIGN_OR_RETURN(auto view, engine_.View(caller.job_centre_id, request->as_of(), "as_of"));
    ASSIGN_OR_RETURN(const ScopeFilter scope,
                     ReadableScope(view->history(), caller, request->scope(), "scope"));
    ASSIGN_OR_RETURN(auto accuracy, engine_.Accuracy(*view, scope, 0));
    const v1::ModelAccuracy* mine = nullptr;
    for (const v1::ModelAccuracy& a : accuracy) {
      if (a.model() == static_cast<v1::Model>(model)) mine = &a;
    }
    ASSIGN_OR_RETURN(*response,
                     BuildProjection(*view, scope, request->scope(), model, horizon, mine,
                                     std::vector<std::string>(request->case_types().begin(),
                                                              request->case_types().end())));
    return absl::OkStatus();
  });
}

grpc::Status ForecastServiceImpl::CompareTeams(grpc::ServerContext* context,
                                               const v1::CompareTeamsRequest* request,
                                               v1::TeamComparison* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(const forecasting::ModelKind model, ToModelKind(request->model(), "model"));
    ASSIGN_OR_RETURN(const int horizon, CheckHorizon(request->horizon_months(), "horizon_months"));
    ASSIGN_OR_RETURN(auto view, engine_.View(caller.job_centre_id, request->as_of(), "as_of"));
    v1::Scope scope;
    scope.set_kind(request->department().empty() ? v1::Scope::JOB_CENTRE : v1::Scope::DEPARTMENT);
    scope.set_code(request->department());
    ASSIGN_OR_RETURN(const ScopeFilter filter,
                     ReadableScope(view->history(), caller, scope, "department"));
    ASSIGN_OR_RETURN(*response, BuildTeamComparison(*view, filter.id, model, horizon));
    return absl::OkStatus();
  });
}

grpc::Status ForecastServiceImpl::GetCaseworkerDashboard(
    grpc::ServerContext* context, const v1::CaseworkerDashboardRequest* request,
    v1::CaseworkerDashboard* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(auto view, engine_.View(caller.job_centre_id, request->as_of(), "as_of"));
    ASSIGN_OR_RETURN(
        const ScopeFilter scope,
        ReadableCaseworker(view->history(), caller, request->caseworker(), "caseworker"));
    ASSIGN_OR_RETURN(*response, BuildCaseworkerDashboard(*view, scope.id));
    RETURN_IF_ERROR(ReleaseCaseRows(
        reads_, caller, "/forecast.v1.ForecastService/GetCaseworkerDashboard", *response));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ForecastServiceImpl::GetTeamDashboard(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(Run([&]() -> absl::Status {
    v1::TeamDashboardRequest req;
    grpc::ByteBuffer copy(*request);  // shares the slices
    if (!grpc::SerializationTraits<v1::TeamDashboardRequest>::Deserialize(&copy, &req).ok()) {
      return absl::InvalidArgumentError("request: not a TeamDashboardRequest");
    }
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(auto view, engine_.View(caller.job_centre_id, req.as_of(), "as_of"));
    ASSIGN_OR_RETURN(const ScopeFilter scope,
                     ReadableTeam(view->history(), caller, req.team(), "team"));
    ASSIGN_OR_RETURN(auto wire, engine_.SerializedTeamDashboard(view, scope.id));
    grpc::Slice slice(wire->data(), wire->size());
    *response = grpc::ByteBuffer(&slice, 1);
    return absl::OkStatus();
  }));
  return reactor;
}

grpc::Status ForecastServiceImpl::WatchTeamDashboard(
    grpc::ServerContext* context, const v1::TeamDashboardRequest* request,
    grpc::ServerWriter<v1::TeamDashboard>* writer) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(auto first_view,
                     engine_.View(caller.job_centre_id, request->as_of(), "as_of"));
    ASSIGN_OR_RETURN(const ScopeFilter scope,
                     ReadableTeam(first_view->history(), caller, request->team(), "team"));
    if (!request->as_of().empty() && first_view->revision() == 0) {
      // A past day never changes: one answer, then the stream ends.
      ASSIGN_OR_RETURN(auto dashboard, engine_.TeamDashboard(first_view, scope.id));
      writer->Write(*dashboard);
      return absl::OkStatus();
    }
    int64_t sent = -1;
    while (!context->IsCancelled()) {
      // A new day is a change too: Now() rebuilds the view when the day turns.
      ASSIGN_OR_RETURN(auto current, engine_.Now(caller.job_centre_id));
      (void)current;
      const int64_t revision = engine_.TeamRevision(caller.job_centre_id, scope.id);
      if (revision > sent) {
        ASSIGN_OR_RETURN(auto view, engine_.Now(caller.job_centre_id));
        ASSIGN_OR_RETURN(auto dashboard, engine_.TeamDashboard(view, scope.id));
        if (!writer->Write(*dashboard)) break;  // the client went away
        sent = revision;
      }
      // Wakes at once on a change to the team; the timeout only bounds how long a cancelled
      // call lingers.
      engine_.WaitForTeamChange(caller.job_centre_id, scope.id, sent, absl::Milliseconds(500));
    }
    return absl::OkStatus();
  });
}

grpc::Status ForecastServiceImpl::GetVariation(grpc::ServerContext* context,
                                               const v1::VariationRequest* request,
                                               v1::Variation* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(auto view, engine_.View(caller.job_centre_id, request->as_of(), "as_of"));
    ASSIGN_OR_RETURN(const ScopeFilter scope,
                     ReadableTeam(view->history(), caller, request->team(), "team"));
    ASSIGN_OR_RETURN(*response, BuildVariation(*view, scope.id));
    return absl::OkStatus();
  });
}

grpc::Status ForecastServiceImpl::GetAccuracy(grpc::ServerContext* context,
                                              const v1::AccuracyRequest* request,
                                              v1::Accuracy* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    const int lookback = request->lookback_months();
    if (lookback < 0 || lookback > kMaxLookback) {
      return absl::InvalidArgumentError(
          absl::StrCat("lookback_months: ", lookback, " is outside 0..", kMaxLookback));
    }
    ASSIGN_OR_RETURN(auto view, engine_.View(caller.job_centre_id, request->as_of(), "as_of"));
    ASSIGN_OR_RETURN(const ScopeFilter scope,
                     ReadableScope(view->history(), caller, request->scope(), "scope"));
    ASSIGN_OR_RETURN(auto models, engine_.Accuracy(*view, scope, lookback));
    *response->mutable_scope() = request->scope();
    int64_t n = 0;
    for (v1::ModelAccuracy& m : models) {
      n = std::max(n, m.n_cases());
      *response->add_models() = std::move(m);
    }
    v1::Explanation* e = response->mutable_explanation();
    e->set_method_key("accuracy.backtest");
    e->set_method(
        "Backtest: as of earlier months in the look-back (every quarter of it), each model was "
        "fitted with only what was known then and projected three months ahead; the figures "
        "compare those projections with the closures that followed: mean absolute error of "
        "monthly closures, the share of months inside the 80% interval, and the Brier score of "
        "each case's probability of having closed by each month.");
    e->set_n(n);
    e->set_small_sample(n < kSmallSample);
    return absl::OkStatus();
  });
}

grpc::Status ForecastServiceImpl::ExplainCase(grpc::ServerContext* context,
                                              const v1::ExplainCaseRequest* request,
                                              v1::CaseExplanation* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    RETURN_IF_ERROR(CheckCaseRef(request->case_ref(), "case_ref"));
    ASSIGN_OR_RETURN(const forecasting::ModelKind model, ToModelKind(request->model(), "model"));
    ASSIGN_OR_RETURN(auto view, engine_.View(caller.job_centre_id, request->as_of(), "as_of"));
    const CaseRecord* record = view->history().CaseByRef(request->case_ref());
    const CaseState* state = record == nullptr ? nullptr : view->snapshot().Case(record->id);
    if (state == nullptr) {
      return CaseNotFound(request->case_ref());
    }
    RETURN_IF_ERROR(AuthorizeCase(
        caller, CaseOwnership{view->history().centre_id, state->team_id, state->caseworker_id},
        CaseAccess::kRead, request->case_ref()));
    ASSIGN_OR_RETURN(*response, BuildCaseExplanation(*view, record->id, model, kDefaultHorizon));
    RETURN_IF_ERROR(
        ReleaseCaseRows(reads_, caller, "/forecast.v1.ForecastService/ExplainCase", *response));
    return absl::OkStatus();
  });
}

grpc::Status ForecastServiceImpl::ListMilestoneMetrics(grpc::ServerContext* context,
                                                       const v1::ListMilestoneMetricsRequest*,
                                                       v1::MilestoneMetrics* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(auto view, engine_.Now(caller.job_centre_id));
    for (const MilestoneMetricDef& m : view->history().metrics) {
      v1::MilestoneMetric* out = response->add_metrics();
      out->set_code(m.code);
      out->set_label_da(m.label_da);
      out->set_label_en(m.label_en);
      out->set_kind(MetricKindName(m.kind));
      out->set_outcome_group(m.outcome_group);
      out->set_field_code(m.field_code);
      out->set_choice(m.choice);
      out->set_higher_is_better(m.higher_is_better);
    }
    return absl::OkStatus();
  });
}

grpc::Status ForecastServiceImpl::SetMilestoneTarget(grpc::ServerContext* context,
                                                     const v1::SetMilestoneTargetRequest* request,
                                                     v1::MilestoneTarget* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    const v1::MilestoneTarget& t = request->target();
    ASSIGN_OR_RETURN(auto view, engine_.Now(caller.job_centre_id));
    const CentreHistory& h = view->history();
    const OrgUnit* team = h.UnitByCode(t.team());
    if (team == nullptr || !team->is_team) {
      return absl::NotFoundError(absl::StrCat("target.team: team \"", t.team(), "\" not found"));
    }
    RETURN_IF_ERROR(AuthorizeTargetWrite(caller, team->id));
    int64_t caseworker_id = 0;
    if (!t.caseworker().empty()) {
      const StaffMember* staff = h.StaffByCode(t.caseworker());
      if (staff == nullptr) {
        return absl::NotFoundError(
            absl::StrCat("target.caseworker: \"", t.caseworker(), "\" not found"));
      }
      if (staff->team_id != team->id) {
        return absl::InvalidArgumentError(
            absl::StrCat("target.caseworker: ", t.caseworker(), " is not in team ", t.team()));
      }
      caseworker_id = staff->id;
    }
    if (h.Metric(t.metric()) == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("target.metric: \"", t.metric(), "\" is not a metric of this job centre"));
    }
    ASSIGN_OR_RETURN(const Month month, ParseMonth(t.month(), "target.month"));
    if (!std::isfinite(t.target()) || t.target() < 0 || t.target() > 1e6) {
      return FieldError("target.target", "OUT_OF_RANGE", "must be a number from 0 to 1000000",
                        {{"min", "0"}, {"max", "1000000"}});
    }
    NewMilestoneTarget target;
    target.centre_id = caller.job_centre_id;
    target.team_id = team->id;
    target.caseworker_id = caseworker_id;
    target.metric = t.metric();
    target.month = month;
    target.target = t.target();
    target.set_by = caller.staff_id;
    ASSIGN_OR_RETURN(const MilestoneTargetRecord stored, store_.AddTarget(target));
    RETURN_IF_ERROR(engine_.RefreshNow(caller.job_centre_id));
    *response = t;
    response->set_set_by(caller.staff_code);
    response->set_set_at(stored.set_at);
    return absl::OkStatus();
  });
}

grpc::Status ForecastServiceImpl::GetMilestones(grpc::ServerContext* context,
                                                const v1::MilestonesRequest* request,
                                                v1::Milestones* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(auto view, engine_.View(caller.job_centre_id, request->as_of(), "as_of"));
    const CentreHistory& h = view->history();
    ASSIGN_OR_RETURN(const ScopeFilter team, ReadableTeam(h, caller, request->team(), "team"));
    int64_t caseworker_id = 0;
    if (!request->caseworker().empty()) {
      ASSIGN_OR_RETURN(const ScopeFilter cw,
                       ReadableCaseworker(h, caller, request->caseworker(), "caseworker"));
      caseworker_id = cw.id;
    }
    const Month now = view->month();
    Month from = now - 2, to = now + 3;
    if (!request->from_month().empty()) {
      ASSIGN_OR_RETURN(from, ParseMonth(request->from_month(), "from_month"));
    }
    if (!request->to_month().empty()) {
      ASSIGN_OR_RETURN(to, ParseMonth(request->to_month(), "to_month"));
    }
    ASSIGN_OR_RETURN(*response, BuildMilestones(*view, team.id, caseworker_id, from, to));
    return absl::OkStatus();
  });
}

grpc::Status ForecastServiceImpl::RecordDialogue(grpc::ServerContext* context,
                                                 const v1::RecordDialogueRequest* request,
                                                 v1::Dialogue* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(auto view, engine_.Now(caller.job_centre_id));
    const CentreHistory& h = view->history();
    if (request->caseworker().empty()) {
      return absl::InvalidArgumentError("caseworker: required");
    }
    const StaffMember* caseworker = h.StaffByCode(request->caseworker());
    if (caseworker == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("caseworker: \"", request->caseworker(), "\" not found"));
    }
    if (caseworker->team_id == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("caseworker: ", caseworker->code, " belongs to no team"));
    }
    RETURN_IF_ERROR(AuthorizeDialogueWrite(caller, caseworker->team_id));
    ASSIGN_OR_RETURN(const Day held_on, ParseDay(request->held_on(), "held_on"));
    if (held_on > engine_.clock().Today()) {
      return absl::InvalidArgumentError(
          absl::StrCat("held_on: ", request->held_on(), " is in the future"));
    }
    const v1::DialogueNotes& notes = request->notes();
    RETURN_IF_ERROR(CheckNotes(notes));
    RETURN_IF_ERROR(CheckToken(request->idempotency_key(), "idempotency_key", 100));
    NewDialogue d;
    d.centre_id = caller.job_centre_id;
    d.team_id = caseworker->team_id;
    d.team_leader_id = caller.staff_id;
    d.caseworker_id = caseworker->id;
    d.held_on = held_on;
    for (int i = 0; i < request->case_refs_size(); ++i) {
      const std::string field = absl::StrCat("case_refs[", i, "]");
      RETURN_IF_ERROR(CheckCaseRef(request->case_refs(i), field));
      const CaseRecord* record = h.CaseByRef(request->case_refs(i));
      if (record == nullptr) {
        return absl::NotFoundError(absl::StrCat(field, ": ", request->case_refs(i), " not found"));
      }
      d.case_ids.push_back(record->id);
    }
    d.status = notes.status();
    d.knowledge = notes.knowledge();
    d.learning = notes.learning();
    d.adjustment = notes.adjustment();
    d.idempotency_key = request->idempotency_key();
    ASSIGN_OR_RETURN(const int64_t id, store_.AddDialogue(d));
    return AnswerDialogue(caller.job_centre_id, id, response);
  });
}

absl::Status ForecastServiceImpl::AnswerDialogue(int64_t centre_id, int64_t id,
                                                 v1::Dialogue* response) {
  RETURN_IF_ERROR(engine_.RefreshNow(centre_id));
  ASSIGN_OR_RETURN(auto fresh, engine_.Now(centre_id));
  for (const DialogueRecord& stored : fresh->history().dialogues) {
    if (stored.id == id) {
      *response = DialogueMessage(fresh->history(), stored, AgreedCases(fresh->history()));
      return absl::OkStatus();
    }
  }
  return absl::InternalError("the recorded dialogue was not read back");
}

grpc::Status ForecastServiceImpl::OpenDialogue(grpc::ServerContext* context,
                                               const v1::OpenDialogueRequest* request,
                                               v1::Dialogue* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(auto view, engine_.Now(caller.job_centre_id));
    const CentreHistory& h = view->history();
    if (request->caseworker().empty()) {
      return FieldError("caseworker", "REQUIRED", "caseworker: required");
    }
    const StaffMember* caseworker = h.StaffByCode(request->caseworker());
    if (caseworker == nullptr) {
      return ReasonedError(absl::StatusCode::kNotFound, "CASEWORKER_NOT_FOUND",
                           absl::StrCat("caseworker \"", request->caseworker(), "\" not found"),
                           {{"value", request->caseworker()}}, "caseworker");
    }
    if (caseworker->team_id == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("caseworker: ", caseworker->code, " belongs to no team"));
    }
    RETURN_IF_ERROR(AuthorizeDialogueWrite(caller, caseworker->team_id));
    Day held_on = engine_.clock().Today();
    if (!request->held_on().empty()) {
      ASSIGN_OR_RETURN(held_on, ParseDay(request->held_on(), "held_on"));
      if (held_on > engine_.clock().Today()) {
        return absl::InvalidArgumentError(
            absl::StrCat("held_on: ", request->held_on(), " is in the future"));
      }
    }
    NewDialogue d;
    d.centre_id = caller.job_centre_id;
    d.team_id = caseworker->team_id;
    d.team_leader_id = caller.staff_id;
    d.caseworker_id = caseworker->id;
    d.held_on = held_on;
    ASSIGN_OR_RETURN(const int64_t id, store_.OpenDialogue(d));
    return AnswerDialogue(caller.job_centre_id, id, response);
  });
}

grpc::Status ForecastServiceImpl::SaveDialogueNotes(grpc::ServerContext* context,
                                                    const v1::SaveDialogueNotesRequest* request,
                                                    v1::Dialogue* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(auto view, engine_.Now(caller.job_centre_id));
    const CentreHistory& h = view->history();
    ASSIGN_OR_RETURN(const DialogueRecord* d, WritableDialogue(h, caller, request->id()));
    if (request->base_version() < 0) {
      return FieldError("base_version", "OUT_OF_RANGE", "base_version: must not be negative");
    }
    if (request->idempotency_key().empty()) {
      return FieldError("idempotency_key", "REQUIRED", "idempotency_key: required");
    }
    RETURN_IF_ERROR(CheckToken(request->idempotency_key(), "idempotency_key", 100));
    RETURN_IF_ERROR(CheckNotes(request->notes()));
    DialogueNotesEdit edit;
    edit.centre_id = caller.job_centre_id;
    edit.dialogue_id = d->id;
    edit.base_version = request->base_version();
    if (!request->held_on().empty()) {
      ASSIGN_OR_RETURN(const Day held_on, ParseDay(request->held_on(), "held_on"));
      if (held_on > engine_.clock().Today()) {
        return absl::InvalidArgumentError(
            absl::StrCat("held_on: ", request->held_on(), " is in the future"));
      }
      edit.held_on = held_on;
    }
    for (int i = 0; i < request->case_refs_size(); ++i) {
      const std::string field = absl::StrCat("case_refs[", i, "]");
      RETURN_IF_ERROR(CheckCaseRef(request->case_refs(i), field));
      const CaseRecord* record = h.CaseByRef(request->case_refs(i));
      if (record == nullptr) {
        return absl::NotFoundError(absl::StrCat(field, ": ", request->case_refs(i), " not found"));
      }
      edit.case_ids.push_back(record->id);
    }
    edit.status = request->notes().status();
    edit.knowledge = request->notes().knowledge();
    edit.learning = request->notes().learning();
    edit.adjustment = request->notes().adjustment();
    edit.idempotency_key = request->idempotency_key();
    edit.recorded_by = caller.staff_id;
    RETURN_IF_ERROR(store_.SaveDialogueNotes(edit).status());
    return AnswerDialogue(caller.job_centre_id, d->id, response);
  });
}

grpc::Status ForecastServiceImpl::FinaliseDialogue(grpc::ServerContext* context,
                                                   const v1::FinaliseDialogueRequest* request,
                                                   v1::Dialogue* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(auto view, engine_.Now(caller.job_centre_id));
    ASSIGN_OR_RETURN(const DialogueRecord* d,
                     WritableDialogue(view->history(), caller, request->id()));
    if (request->base_version() < 0) {
      return FieldError("base_version", "OUT_OF_RANGE", "base_version: must not be negative");
    }
    RETURN_IF_ERROR(store_.FinaliseDialogue(caller.job_centre_id, d->id, request->base_version(),
                                            caller.staff_id));
    return AnswerDialogue(caller.job_centre_id, d->id, response);
  });
}

grpc::Status ForecastServiceImpl::ListDialogues(grpc::ServerContext* context,
                                                const v1::ListDialoguesRequest* request,
                                                v1::ListDialoguesResponse* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    ASSIGN_OR_RETURN(auto view, engine_.Now(caller.job_centre_id));
    const CentreHistory& h = view->history();
    ScopeFilter scope;
    if (caller.role == Role::kCaseworker && !request->team().empty()) {
      // Dialogues are between the leader and one caseworker: colleagues do not read them.
      return ReasonedError(
          absl::StatusCode::kPermissionDenied, "NOT_ALLOWED",
          absl::StrCat(caller.staff_code, " (CASEWORKER) may not read the team's dialogues"),
          {{"role", "CASEWORKER"}}, "team");
    }
    if (!request->caseworker().empty() ||
        (request->team().empty() && caller.role == Role::kCaseworker)) {
      ASSIGN_OR_RETURN(scope, ReadableCaseworker(h, caller, request->caseworker(), "caseworker"));
    } else if (!request->team().empty() || caller.team_id != 0) {
      ASSIGN_OR_RETURN(scope, ReadableTeam(h, caller, request->team(), "team"));
    } else {
      ASSIGN_OR_RETURN(scope, ReadableScope(h, caller, v1::Scope(), "team"));
    }
    const auto agreed = AgreedCases(h);
    for (const DialogueRecord& d : h.dialogues) {
      const bool match = scope.kind == ScopeFilter::Kind::kCaseworker ? d.caseworker_id == scope.id
                         : scope.kind == ScopeFilter::Kind::kTeam     ? d.team_id == scope.id
                                                                      : true;
      if (match) *response->add_dialogues() = DialogueMessage(h, d, agreed);
    }
    RETURN_IF_ERROR(
        ReleaseCaseRows(reads_, caller, "/forecast.v1.ForecastService/ListDialogues", *response));
    return absl::OkStatus();
  });
}

grpc::Status ForecastServiceImpl::GetDialogueAgenda(grpc::ServerContext* context,
                                                    const v1::DialogueAgendaRequest* request,
                                                    v1::DialogueAgenda* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    const int limit = request->limit() == 0 ? kDefaultAgendaItems : request->limit();
    if (limit < 1 || limit > kMaxAgendaItems) {
      return absl::InvalidArgumentError(
          absl::StrCat("limit: ", request->limit(), " is outside 1..", kMaxAgendaItems));
    }
    ASSIGN_OR_RETURN(auto view, engine_.View(caller.job_centre_id, request->as_of(), "as_of"));
    ASSIGN_OR_RETURN(
        const ScopeFilter scope,
        ReadableCaseworker(view->history(), caller, request->caseworker(), "caseworker"));
    response->set_caseworker(view->history().StaffCode(scope.id));
    response->set_as_of(FormatDay(view->today()));
    std::optional<Day> last = LastDialogueOn(view->history(), view->snapshot().view(), scope.id, 0);
    if (last) response->set_last_dialogue_on(FormatDay(*last));
    if (const DialogueRecord* previous =
            LastFinalDialogue(view->history(), view->snapshot().view(), scope.id)) {
      response->set_previous_dialogue_id(previous->id);
      for (v1::AgreementFollowUp& f :
           FollowUpAgreements(view->history(), view->snapshot().view(), *previous)) {
        *response->add_previous_agreements() = std::move(f);
      }
    }
    for (v1::CaseAttention& item : RankAttention(*view, scope, limit)) {
      *response->add_items() = std::move(item);
    }
    RETURN_IF_ERROR(ReleaseCaseRows(reads_, caller,
                                    "/forecast.v1.ForecastService/GetDialogueAgenda", *response));
    return absl::OkStatus();
  });
}

grpc::Status ForecastServiceImpl::GetChangesSinceLastDialogue(grpc::ServerContext* context,
                                                              const v1::ChangesRequest* request,
                                                              v1::Changes* response) {
  return Run([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(*context, authenticator_));
    if (!request->caseworker().empty() && !request->team().empty()) {
      return absl::InvalidArgumentError("caseworker: give either caseworker or team, not both");
    }
    ASSIGN_OR_RETURN(auto view, engine_.View(caller.job_centre_id, request->as_of(), "as_of"));
    const CentreHistory& h = view->history();
    ScopeFilter scope;
    if (!request->team().empty()) {
      ASSIGN_OR_RETURN(scope, ReadableTeam(h, caller, request->team(), "team"));
    } else {
      ASSIGN_OR_RETURN(scope, ReadableCaseworker(h, caller, request->caseworker(), "caseworker"));
    }
    const ViewDays& until = view->snapshot().view();
    Day since;
    if (!request->since().empty()) {
      ASSIGN_OR_RETURN(since, ParseDay(request->since(), "since"));
      if (since > until.today) {
        return absl::InvalidArgumentError(
            absl::StrCat("since: ", request->since(), " is after as_of"));
      }
    } else {
      const bool per_caseworker = scope.kind == ScopeFilter::Kind::kCaseworker;
      std::optional<Day> last =
          LastDialogueOn(h, until, per_caseworker ? scope.id : 0, per_caseworker ? 0 : scope.id);
      // Otherwise the same day a month earlier (the month's last day when it is shorter).
      const Day today = until.today;
      const Day first = Day(Month(today) - 1);
      Day month_ago = first + (today.day() - 1);
      if (Month(month_ago) != Month(first)) month_ago = Day(Month(today)) - 1;
      since = last ? *last : month_ago;
    }
    *response = DetectChanges(h, scope, since, until);
    RETURN_IF_ERROR(ReleaseCaseRows(
        reads_, caller, "/forecast.v1.ForecastService/GetChangesSinceLastDialogue", *response));
    return absl::OkStatus();
  });
}

}  // namespace forecast::fsvc
