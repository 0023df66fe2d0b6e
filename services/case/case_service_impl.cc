#include "services/case/case_service_impl.h"

#include <iostream>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "absl/strings/str_cat.h"
#include "services/common/observability/observability.h"
#include "services/common/status.h"

namespace forecast {
namespace {

// Import progress: imports running, rows received so far, rows committed.
struct ImportMetrics {
  prometheus::Gauge& running;
  prometheus::Counter& rows_received;
  prometheus::Counter& rows_committed;
};

ImportMetrics& Metrics() {
  static ImportMetrics* metrics = new ImportMetrics{
      prometheus::BuildGauge()
          .Name("jobcentre_import_running")
          .Help("ImportHistory streams running in this process")
          .Register(obs::Registry())
          .Add({}),
      prometheus::BuildCounter()
          .Name("jobcentre_import_rows_received_total")
          .Help("Import rows received (cases, expectations, closures, re-assignments)")
          .Register(obs::Registry())
          .Add({}),
      prometheus::BuildCounter()
          .Name("jobcentre_import_rows_committed_total")
          .Help("Import rows committed (dry runs and refused imports excluded)")
          .Register(obs::Registry())
          .Add({}),
  };
  return *metrics;
}

grpc::Status Answer(const char* method, const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown ||
      status.code() == absl::StatusCode::kUnavailable) {
    std::cerr << "case-service: " << method << " failed: " << status << std::endl;
  }
  return ToGrpcStatus(status);
}

}  // namespace

template <typename Response, typename Call>
grpc::Status CaseServiceImpl::Handle(const char* method, grpc::ServerContext* context,
                                     Response* response, Call call) {
  absl::StatusOr<Caller> caller = ResolveCaller(*context, authenticator_);
  if (!caller.ok()) return Answer(method, caller.status());
  absl::StatusOr<Response> result = call(*caller);
  if (!result.ok()) return Answer(method, result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

template <typename Response, typename Call>
grpc::Status CaseServiceImpl::HandleRead(const char* method, grpc::ServerContext* context,
                                         Response* response, Call call) {
  absl::StatusOr<Caller> caller = ResolveCaller(*context, authenticator_);
  if (!caller.ok()) return Answer(method, caller.status());
  absl::StatusOr<Response> result = call(*caller);
  if (!result.ok()) return Answer(method, result.status());
  const absl::Status released = audit::ReleaseCaseRows(
      reads_, *caller, absl::StrCat("/forecast.v1.CaseService/", method), *result);
  if (!released.ok()) return Answer(method, released);
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status CaseServiceImpl::WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest*,
                                     v1::StaffMember* response) {
  return Handle("WhoAmI", context, response, [&](const Caller& c) { return keeper_.WhoAmI(c); });
}

grpc::Status CaseServiceImpl::GetOrganisation(grpc::ServerContext* context,
                                              const v1::GetOrganisationRequest*,
                                              v1::Organisation* response) {
  return Handle("GetOrganisation", context, response,
                [&](const Caller& c) { return keeper_.GetOrganisation(c); });
}

grpc::Status CaseServiceImpl::CreateCase(grpc::ServerContext* context,
                                         const v1::CreateCaseRequest* request, v1::Case* response) {
  return Handle("CreateCase", context, response,
                [&](const Caller& c) { return keeper_.CreateCase(c, *request); });
}

grpc::Status CaseServiceImpl::GetCase(grpc::ServerContext* context,
                                      const v1::GetCaseRequest* request, v1::Case* response) {
  return HandleRead("GetCase", context, response,
                    [&](const Caller& c) { return keeper_.GetCase(c, *request); });
}

grpc::Status CaseServiceImpl::ListCases(grpc::ServerContext* context,
                                        const v1::ListCasesRequest* request,
                                        v1::ListCasesResponse* response) {
  return HandleRead("ListCases", context, response,
                    [&](const Caller& c) { return keeper_.ListCases(c, *request); });
}

grpc::Status CaseServiceImpl::GetCaseHistory(grpc::ServerContext* context,
                                             const v1::GetCaseHistoryRequest* request,
                                             v1::CaseHistory* response) {
  return HandleRead("GetCaseHistory", context, response,
                    [&](const Caller& c) { return keeper_.GetCaseHistory(c, *request); });
}

grpc::Status CaseServiceImpl::ListCaseActions(grpc::ServerContext* context,
                                              const v1::ListCaseActionsRequest* request,
                                              v1::ListCaseActionsResponse* response) {
  return HandleRead("ListCaseActions", context, response,
                    [&](const Caller& c) { return keeper_.ListCaseActions(c, *request); });
}

grpc::ServerUnaryReactor* CaseServiceImpl::RecordExpectation(
    grpc::CallbackServerContext* context, const v1::RecordExpectationRequest* request,
    v1::Case* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = ResolveCaller(*context, authenticator_);
  if (!caller.ok()) {
    reactor->Finish(Answer("RecordExpectation", caller.status()));
    return reactor;
  }
  keeper_.RecordExpectation(*caller, *request,
                            [reactor, response](absl::StatusOr<v1::Case> written) {
                              if (!written.ok()) {
                                reactor->Finish(Answer("RecordExpectation", written.status()));
                                return;
                              }
                              *response = std::move(*written);
                              reactor->Finish(grpc::Status::OK);
                            });
  return reactor;
}

grpc::Status CaseServiceImpl::AddAction(grpc::ServerContext* context,
                                        const v1::AddActionRequest* request, v1::Case* response) {
  return Handle("AddAction", context, response,
                [&](const Caller& c) { return keeper_.AddAction(c, *request); });
}

grpc::Status CaseServiceImpl::FollowUpAction(grpc::ServerContext* context,
                                             const v1::FollowUpActionRequest* request,
                                             v1::Case* response) {
  return Handle("FollowUpAction", context, response,
                [&](const Caller& c) { return keeper_.FollowUpAction(c, *request); });
}

grpc::Status CaseServiceImpl::SetCaseFields(grpc::ServerContext* context,
                                            const v1::SetCaseFieldsRequest* request,
                                            v1::Case* response) {
  return Handle("SetCaseFields", context, response,
                [&](const Caller& c) { return keeper_.SetCaseFields(c, *request); });
}

grpc::Status CaseServiceImpl::CloseCase(grpc::ServerContext* context,
                                        const v1::CloseCaseRequest* request, v1::Case* response) {
  return Handle("CloseCase", context, response,
                [&](const Caller& c) { return keeper_.CloseCase(c, *request); });
}

grpc::Status CaseServiceImpl::ReopenCase(grpc::ServerContext* context,
                                         const v1::ReopenCaseRequest* request, v1::Case* response) {
  return Handle("ReopenCase", context, response,
                [&](const Caller& c) { return keeper_.ReopenCase(c, *request); });
}

grpc::Status CaseServiceImpl::ReassignCase(grpc::ServerContext* context,
                                           const v1::ReassignCaseRequest* request,
                                           v1::Case* response) {
  return Handle("ReassignCase", context, response,
                [&](const Caller& c) { return keeper_.ReassignCase(c, *request); });
}

grpc::Status CaseServiceImpl::GetCatalogue(grpc::ServerContext* context,
                                           const v1::GetCatalogueRequest*,
                                           v1::Catalogue* response) {
  return Handle("GetCatalogue", context, response,
                [&](const Caller& c) { return keeper_.GetCatalogue(c); });
}

grpc::Status CaseServiceImpl::UpsertCatalogueEntry(grpc::ServerContext* context,
                                                   const v1::UpsertCatalogueEntryRequest* request,
                                                   v1::Catalogue* response) {
  return Handle("UpsertCatalogueEntry", context, response,
                [&](const Caller& c) { return keeper_.UpsertCatalogueEntry(c, *request); });
}

grpc::Status CaseServiceImpl::UpsertCaseField(grpc::ServerContext* context,
                                              const v1::UpsertCaseFieldRequest* request,
                                              v1::Catalogue* response) {
  return Handle("UpsertCaseField", context, response,
                [&](const Caller& c) { return keeper_.UpsertCaseField(c, *request); });
}

grpc::Status CaseServiceImpl::UpsertOrgUnit(grpc::ServerContext* context,
                                            const v1::UpsertOrgUnitRequest* request,
                                            v1::Organisation* response) {
  return Handle("UpsertOrgUnit", context, response,
                [&](const Caller& c) -> absl::StatusOr<v1::Organisation> {
                  if (absl::Status s = org_.UpsertUnit(c, request->unit()); !s.ok()) return s;
                  return keeper_.GetOrganisation(c);
                });
}

grpc::Status CaseServiceImpl::UpsertStaff(grpc::ServerContext* context,
                                          const v1::UpsertStaffRequest* request,
                                          v1::Organisation* response) {
  return Handle("UpsertStaff", context, response,
                [&](const Caller& c) -> absl::StatusOr<v1::Organisation> {
                  if (absl::Status s = org_.UpsertStaff(c, request->staff()); !s.ok()) return s;
                  return keeper_.GetOrganisation(c);
                });
}

grpc::Status CaseServiceImpl::ListMilestoneMetricSettings(
    grpc::ServerContext* context, const v1::ListMilestoneMetricSettingsRequest*,
    v1::MilestoneMetricSettings* response) {
  return Handle("ListMilestoneMetricSettings", context, response,
                [&](const Caller& c) { return org_.ListMilestoneMetrics(c); });
}

grpc::Status CaseServiceImpl::UpsertMilestoneMetric(grpc::ServerContext* context,
                                                    const v1::UpsertMilestoneMetricRequest* request,
                                                    v1::MilestoneMetricSettings* response) {
  return Handle("UpsertMilestoneMetric", context, response,
                [&](const Caller& c) { return org_.UpsertMilestoneMetric(c, request->metric()); });
}

grpc::Status CaseServiceImpl::ListAdminChanges(grpc::ServerContext* context,
                                               const v1::ListAdminChangesRequest* request,
                                               v1::ListAdminChangesResponse* response) {
  return Handle("ListAdminChanges", context, response,
                [&](const Caller& c) { return org_.ListChanges(c, *request); });
}

grpc::Status CaseServiceImpl::ImportHistory(grpc::ServerContext* context,
                                            grpc::ServerReader<v1::ImportChunk>* reader,
                                            v1::ImportReport* response) {
  return Handle(
      "ImportHistory", context, response, [&](const Caller& c) -> absl::StatusOr<v1::ImportReport> {
        std::unique_ptr<ImportGuard::Ticket> ticket;  // one import per job centre at a time
        if (import_guard_ != nullptr) {
          absl::StatusOr<std::unique_ptr<ImportGuard::Ticket>> entered =
              import_guard_->Enter(c.job_centre_id);
          if (!entered.ok()) return entered.status();
          ticket = std::move(*entered);
        }
        ImportMetrics& metrics = Metrics();
        metrics.running.Increment();
        struct Done {
          ImportMetrics& m;
          ~Done() { m.running.Decrement(); }
        } done{metrics};
        // Chunks are handed on one at a time (the importer stages them in the database).
        int64_t rows = 0;
        ImportChunkSource next = [&](v1::ImportChunk* chunk) -> absl::StatusOr<bool> {
          if (!reader->Read(chunk)) {
            if (context->IsCancelled())
              return absl::CancelledError("the client cancelled the import");
            return false;
          }
          const int64_t chunk_rows = chunk->cases_size() + chunk->expectations_size() +
                                     chunk->closures_size() + chunk->reassignments_size();
          rows += chunk_rows;
          metrics.rows_received.Increment(static_cast<double>(chunk_rows));
          if (rows > max_import_rows_) {
            return absl::ResourceExhaustedError(
                absl::StrCat("the import has more than ", max_import_rows_,
                             " rows; split it into several imports"));
          }
          return true;
        };
        absl::StatusOr<v1::ImportReport> report = keeper_.ImportHistory(c, next);
        if (report.ok() && report->committed())
          metrics.rows_committed.Increment(static_cast<double>(rows));
        return report;
      });
}

}  // namespace forecast
