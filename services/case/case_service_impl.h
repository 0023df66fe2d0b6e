// The gRPC face of the case service: resolves the caller from its access token (caller.h), hands
// the request to CaseKeeper and converts the status. No rules live here.
#ifndef SERVICES_CASE_CASE_SERVICE_IMPL_H_
#define SERVICES_CASE_CASE_SERVICE_IMPL_H_

#include "forecast/v1/case_service.grpc.pb.h"
#include "services/case/case_keeper.h"
#include "services/case/import_guard.h"
#include "services/case/org_admin.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/caller.h"

namespace forecast {

// Thread-safe (gRPC calls it from many threads; keeper and authenticator are thread-safe).
// RecordExpectation is served on gRPC's callback API: the write waits for its batch's commit
// (group commit) without holding a thread, and is answered from the thread that committed it.
class CaseServiceImpl final
    : public v1::CaseService::WithCallbackMethod_RecordExpectation<v1::CaseService::Service> {
 public:
  // Keeps references; all must outlive the service. `reads` records every case read (GetCase,
  // ListCases: one row per listed case, GetCaseHistory) before the answer leaves. `org` serves
  // the job centre's set-up (organisation, staff, milestone metrics, the set-up audit trail).
  CaseServiceImpl(CaseKeeper& keeper, OrgAdmin& org, const Authenticator& authenticator,
                  audit::CaseReadLog& reads)
      : keeper_(keeper), org_(org), authenticator_(authenticator), reads_(reads) {}

  // Bounds ImportHistory: `guard` (not owned; may be null) admits one import per job centre and a
  // few per process; an import stream of more than `max_rows` rows is refused. Call before
  // serving. Not thread-safe.
  void LimitImports(ImportGuard* guard, int64_t max_rows) {
    import_guard_ = guard;
    max_import_rows_ = max_rows;
  }

  grpc::Status WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest* request,
                      v1::StaffMember* response) override;
  grpc::Status GetOrganisation(grpc::ServerContext* context,
                               const v1::GetOrganisationRequest* request,
                               v1::Organisation* response) override;
  grpc::Status CreateCase(grpc::ServerContext* context, const v1::CreateCaseRequest* request,
                          v1::Case* response) override;
  grpc::Status GetCase(grpc::ServerContext* context, const v1::GetCaseRequest* request,
                       v1::Case* response) override;
  grpc::Status ListCases(grpc::ServerContext* context, const v1::ListCasesRequest* request,
                         v1::ListCasesResponse* response) override;
  grpc::Status GetCaseHistory(grpc::ServerContext* context,
                              const v1::GetCaseHistoryRequest* request,
                              v1::CaseHistory* response) override;
  grpc::Status ListCaseActions(grpc::ServerContext* context,
                               const v1::ListCaseActionsRequest* request,
                               v1::ListCaseActionsResponse* response) override;
  grpc::ServerUnaryReactor* RecordExpectation(grpc::CallbackServerContext* context,
                                              const v1::RecordExpectationRequest* request,
                                              v1::Case* response) override;
  grpc::Status AddAction(grpc::ServerContext* context, const v1::AddActionRequest* request,
                         v1::Case* response) override;
  grpc::Status FollowUpAction(grpc::ServerContext* context,
                              const v1::FollowUpActionRequest* request,
                              v1::Case* response) override;
  grpc::Status SetCaseFields(grpc::ServerContext* context, const v1::SetCaseFieldsRequest* request,
                             v1::Case* response) override;
  grpc::Status CloseCase(grpc::ServerContext* context, const v1::CloseCaseRequest* request,
                         v1::Case* response) override;
  grpc::Status ReopenCase(grpc::ServerContext* context, const v1::ReopenCaseRequest* request,
                          v1::Case* response) override;
  grpc::Status ReassignCase(grpc::ServerContext* context, const v1::ReassignCaseRequest* request,
                            v1::Case* response) override;
  grpc::Status GetCatalogue(grpc::ServerContext* context, const v1::GetCatalogueRequest* request,
                            v1::Catalogue* response) override;
  grpc::Status UpsertCatalogueEntry(grpc::ServerContext* context,
                                    const v1::UpsertCatalogueEntryRequest* request,
                                    v1::Catalogue* response) override;
  grpc::Status UpsertCaseField(grpc::ServerContext* context,
                               const v1::UpsertCaseFieldRequest* request,
                               v1::Catalogue* response) override;
  grpc::Status UpsertOrgUnit(grpc::ServerContext* context, const v1::UpsertOrgUnitRequest* request,
                             v1::Organisation* response) override;
  grpc::Status UpsertStaff(grpc::ServerContext* context, const v1::UpsertStaffRequest* request,
                           v1::Organisation* response) override;
  grpc::Status ListMilestoneMetricSettings(grpc::ServerContext* context,
                                           const v1::ListMilestoneMetricSettingsRequest* request,
                                           v1::MilestoneMetricSettings* response) override;
  grpc::Status UpsertMilestoneMetric(grpc::ServerContext* context,
                                     const v1::UpsertMilestoneMetricRequest* request,
                                     v1::MilestoneMetricSettings* response) override;
  grpc::Status ListAdminChanges(grpc::ServerContext* context,
                                const v1::ListAdminChangesRequest* request,
                                v1::ListAdminChangesResponse* response) override;
  grpc::Status ImportHistory(grpc::ServerContext* context,
                             grpc::ServerReader<v1::ImportChunk>* reader,
                             v1::ImportReport* response) override;

 private:
  template <typename Response, typename Call>
  grpc::Status Handle(const char* method, grpc::ServerContext* context, Response* response,
                      Call call);
  // As Handle, for answers carrying case rows: they pass audit::ReleaseCaseRows first.
  template <typename Response, typename Call>
  grpc::Status HandleRead(const char* method, grpc::ServerContext* context, Response* response,
                          Call call);

  CaseKeeper& keeper_;
  OrgAdmin& org_;
  const Authenticator& authenticator_;
  audit::CaseReadLog& reads_;
  ImportGuard* import_guard_ = nullptr;
  int64_t max_import_rows_ = 3'000'000;  // rows are staged in the database, not held here
};

}  // namespace forecast

#endif  // SERVICES_CASE_CASE_SERVICE_IMPL_H_
