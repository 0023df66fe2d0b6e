// Issue 8: the whole authorisation matrix - RPC x role x (own case / own team / other team / other
// job centre) - written once, in kMatrix below, and compared cell by cell with the answers of the
// running services: both gRPC servers on port 0 over the real PostgreSQL, each service with its
// own database role. Every cell gets its own case, so writes do not disturb other cells.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "forecast/v1/case_service.grpc.pb.h"
#include "forecast/v1/forecast_service.grpc.pb.h"
#include "forecast/v1/identity_service.grpc.pb.h"
#include "services/case/case_keeper.h"
#include "services/case/case_service_impl.h"
#include "services/case/org_admin.h"
#include "services/case/pg_case_store.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/calendar.h"
#include "services/common/pg_pool.h"
#include "services/common/server.h"
#include "services/forecast/change_listener.h"
#include "services/forecast/forecast_engine.h"
#include "services/forecast/forecast_service_impl.h"
#include "services/forecast/history_store.h"
#include "services/identity/identity_keeper.h"
#include "services/identity/identity_service_impl.h"
#include "services/identity/oidc_sign_in.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast::testing {
namespace {

// Outcomes: O = OK, P = PERMISSION_DENIED, N = NOT_FOUND, I = INVALID_ARGUMENT naming the field
// (a staff code of another job centre is unknown in the caller's, exactly like one that does not
// exist); for lists V = OK and the case is listed, H = OK and it is not; '-' = the relation does
// not exist for that role (or for that RPC). Admin-only RPCs refuse everyone else before they
// look anything up, so those are P whatever the request names. A filter on the audit trails
// naming someone (or a case) of another job centre answers an empty list (O): nothing leaks.
// Roles: caseworker cw1 (team T1), team leader tl1 (T1), manager mgr, admin admin, all of JC1.
// The four relation columns, in this order, mean per kind of RPC (Aim):
//   kCase        the case in the request: the caller's own case, a case of the caller's team (its
//                holder cw2), of another team (cw3, T2), of another job centre (cwx, JC2).
//   kCaseworker  the staff member the request names (a caseworker view, a dialogue, a new case's
//                holder, a set-up code): the caller, a colleague of the own team (cw2), someone of
//                another team (cw3), someone of another job centre (cwx: unknown in JC1).
//   kTeam        the team the request names: column 2 the caller's team T1, column 3 T2, column 4
//                X1 of JC2 (unknown in JC1); column 1 is '-'.
//   kCentre      the caller's own job centre as a whole (catalogues, set-up, the organisation,
//                comparisons, the caller's own sessions and password): column 1 only. Another job
//                centre cannot be named: the token fixes the centre (identity_test proves a token
//                of another centre is refused).
//   kProof       RPCs that take their proof in the request (Login, RefreshSession, ...; the list
//                NeedsNoAccessToken): no caller, no role; identity_test covers them. All '-'.
// Log column: R = an answer of the RPC carries case references and each is recorded in case_read
// (checked for every OK cell: rows added == case references in the answer); W = a write that
// answers with the case it wrote (who wrote is in the case's history, so no read row: checked);
// A = the access log's own admin query (ListCaseReads): it names cases but reads none of their
// data, and logging it would grow the log with every audit (not logged: checked); '-' = the
// answer carries no case references (checked against the response's descriptor).
// The RPCs are enumerated from the three service descriptors: an RPC without a row fails the test.
enum class Aim { kCase, kCaseworker, kTeam, kCentre, kProof };
struct MatrixRow {
  const char* service;
  const char* rpc;
  Aim aim;
  char log;
  const char* caseworker;
  const char* team_leader;
  const char* manager;
  const char* admin;
};
constexpr Aim C = Aim::kCase, S = Aim::kCaseworker, T = Aim::kTeam, J = Aim::kCentre,
              X = Aim::kProof;
// clang-format off
const MatrixRow kMatrix[] = {
  //  service     rpc                            aim log  caseworker team_leader manager admin
  {"CaseService", "WhoAmI",                      J, '-', "O---",    "O---",     "O---", "O---"},
  {"CaseService", "GetOrganisation",             J, '-', "O---",    "O---",     "O---", "O---"},
  {"CaseService", "CreateCase",                  S, 'W', "OPPI",    "OOPI",     "--OI", "--PI"},
  {"CaseService", "GetCase",                     C, 'R', "OOPN",    "OOPN",     "--ON", "--PN"},
  {"CaseService", "ListCases",                   C, 'R', "VVHH",    "VVHH",     "--VH", "--PP"},
  {"CaseService", "GetCaseHistory",              C, 'R', "OOPN",    "OOPN",     "--ON", "--PN"},
  {"CaseService", "ListCaseActions",             C, 'R', "OOPN",    "OOPN",     "--ON", "--PN"},
  {"CaseService", "RecordExpectation",           C, 'W', "OPPN",    "OOPN",     "--ON", "--PN"},
  {"CaseService", "AddAction",                   C, 'W', "OPPN",    "OOPN",     "--ON", "--PN"},
  {"CaseService", "FollowUpAction",              C, 'W', "OPPN",    "OOPN",     "--ON", "--PN"},
  {"CaseService", "SetCaseFields",               C, 'W', "OPPN",    "OOPN",     "--ON", "--PN"},
  {"CaseService", "CloseCase",                   C, 'W', "OPPN",    "OOPN",     "--ON", "--PN"},
  {"CaseService", "ReopenCase",                  C, 'W', "OPPN",    "OOPN",     "--ON", "--PN"},
  {"CaseService", "ReassignCase",                C, 'W', "PPPN",    "OOPN",     "--ON", "--PN"},
  {"CaseService", "GetCatalogue",                J, '-', "O---",    "O---",     "O---", "O---"},
  {"CaseService", "UpsertCatalogueEntry",        J, '-', "P---",    "P---",     "P---", "O---"},
  {"CaseService", "UpsertCaseField",             J, '-', "P---",    "P---",     "P---", "O---"},
  {"CaseService", "UpsertOrgUnit",               J, '-', "P---",    "P---",     "P---", "O---"},
  {"CaseService", "UpsertStaff",                 J, '-', "P---",    "P---",     "P---", "O---"},
  {"CaseService", "ListMilestoneMetricSettings", J, '-', "P---",    "P---",     "P---", "O---"},
  {"CaseService", "UpsertMilestoneMetric",       J, '-', "P---",    "P---",     "P---", "O---"},
  {"CaseService", "ListAdminChanges",            J, '-', "P---",    "P---",     "P---", "O---"},
  {"CaseService", "ImportHistory",               J, '-', "P---",    "P---",     "O---", "O---"},
  {"ForecastService", "Project",                 S, '-', "OPPN",    "OOPN",     "--ON", "--ON"},
  {"ForecastService", "CompareTeams",            J, '-', "P---",    "P---",     "O---", "O---"},
  {"ForecastService", "GetCaseworkerDashboard",  S, 'R', "OPPN",    "OOPN",     "--ON", "--PN"},
  {"ForecastService", "GetTeamDashboard",        T, '-', "-OPN",    "-OPN",     "--ON", "--ON"},
  {"ForecastService", "WatchTeamDashboard",      T, '-', "-OPN",    "-OPN",     "--ON", "--ON"},
  {"ForecastService", "GetVariation",            T, '-', "-OPN",    "-OPN",     "--ON", "--ON"},
  {"ForecastService", "GetVariationCases",       S, 'R', "OPPN",    "OOPN",     "--ON", "--PN"},
  {"ForecastService", "GetTrend",                S, '-', "OPPN",    "OOPN",     "--ON", "--ON"},
  {"ForecastService", "GetAccuracy",             S, '-', "OPPN",    "OOPN",     "--ON", "--ON"},
  {"ForecastService", "ExplainCase",             C, 'R', "OOPN",    "OOPN",     "--ON", "--PN"},
  {"ForecastService", "ListMilestoneMetrics",    J, '-', "O---",    "O---",     "O---", "O---"},
  {"ForecastService", "SetMilestoneTarget",      T, '-', "-PPN",    "-OPN",     "--ON", "--PN"},
  {"ForecastService", "GetMilestones",           T, '-', "-OPN",    "-OPN",     "--ON", "--ON"},
  {"ForecastService", "RecordDialogue",          S, 'R', "PPPN",    "OOPN",     "--ON", "--PN"},
  {"ForecastService", "OpenDialogue",            S, 'R', "PPPN",    "OOPN",     "--ON", "--PN"},
  {"ForecastService", "SaveDialogueNotes",       S, 'R', "PPPN",    "OOPN",     "--ON", "--PN"},
  {"ForecastService", "FinaliseDialogue",        S, 'R', "PPPN",    "OOPN",     "--ON", "--PN"},
  {"ForecastService", "ListDialogues",           S, 'R', "OPPN",    "OOPN",     "--ON", "--PN"},
  {"ForecastService", "GetDialogueAgenda",       S, 'R', "OPPN",    "OOPN",     "--ON", "--PN"},
  {"ForecastService", "GetChangesSinceLastDialogue", S, 'R', "OPPN", "OOPN",    "--ON", "--PN"},
  {"ForecastService", "InspectPipeline",         S, 'R', "OPPN",    "OOPN",     "--ON", "--PN"},
  {"ForecastService", "SetForecastAdjustment",   T, '-', "-PPN",    "-OPN",     "--ON", "--PN"},
  {"ForecastService", "ListForecastAdjustments", T, '-', "-OPN",    "-OPN",     "--ON", "--ON"},
  {"IdentityService", "Login",                   X, '-', "----",    "----",     "----", "----"},
  {"IdentityService", "LoginWithIdToken",        X, '-', "----",    "----",     "----", "----"},
  {"IdentityService", "RefreshSession",          X, '-', "----",    "----",     "----", "----"},
  {"IdentityService", "Logout",                  X, '-', "----",    "----",     "----", "----"},
  {"IdentityService", "RedeemSetupCode",         X, '-', "----",    "----",     "----", "----"},
  {"IdentityService", "ListIdentityProviders",   X, '-', "----",    "----",     "----", "----"},
  {"IdentityService", "LogoutEverywhere",        J, '-', "O---",    "O---",     "O---", "O---"},
  {"IdentityService", "ChangePassword",          J, '-', "O---",    "O---",     "O---", "O---"},
  {"IdentityService", "IssueSetupCode",          S, '-', "PPPP",    "PPPP",     "--PP", "--ON"},
  {"IdentityService", "ListAuthEvents",          S, '-', "PPPP",    "PPPP",     "--PP", "--OO"},
  {"IdentityService", "ListCaseReads",           C, 'A', "PPPP",    "PPPP",     "--PP", "--OO"},
  {"IdentityService", "UpsertIdentityProvider",  J, '-', "P---",    "P---",     "P---", "O---"},
};
// clang-format on

const char* const kRelations[] = {"own", "own team", "other team", "other centre"};
struct RoleColumn {
  const char* name;
  const char* staff;
  const char* holders[4];  // the case holder / staff member of each relation ("" = none)
};
const RoleColumn kRoles[] = {
    {"caseworker", "cw1", {"cw1", "cw2", "cw3", "cwx"}},
    {"team leader", "tl1", {"tl1", "cw2", "cw3", "cwx"}},
    {"manager", "mgr", {"", "", "cw3", "cwx"}},
    {"admin", "admin", {"", "", "cw3", "cwx"}},
};
const char* const kTeams[] = {"", "T1", "T2", "X1"};  // kTeam: the team of each relation
const char* Expected(const MatrixRow& row, int role) {
  switch (role) {
    case 0: return row.caseworker;
    case 1: return row.team_leader;
    case 2: return row.manager;
    default: return row.admin;
  }
}

// Someone else in the holder's team, to re-assign to.
std::string Colleague(const std::string& holder) {
  static const std::map<std::string, std::string> kColleague = {
      {"cw1", "cw2"}, {"cw2", "cw1"}, {"tl1", "cw1"}, {"cw3", "tl2"}, {"cwx", "cwy"}};
  return kColleague.at(holder);
}

// True when a message of this type can carry a case reference (the fields CaseRefsIn reads).
bool CanCarryCaseRefs(const google::protobuf::Descriptor* type,
                      std::set<const google::protobuf::Descriptor*>& seen) {
  if (!seen.insert(type).second) return false;
  for (int i = 0; i < type->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = type->field(i);
    if (field->name() == "case_ref" || field->name() == "case_refs" ||
        field->name() == "agreed_case_refs") {
      return true;
    }
    if (field->message_type() != nullptr && CanCarryCaseRefs(field->message_type(), seen)) {
      return true;
    }
  }
  return false;
}

struct Outcome {
  grpc::Status status;
  std::shared_ptr<google::protobuf::Message> response;  // null for a stream
};

class AuthzMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    owner_pool_ = std::make_unique<PgPool>(db_->conninfo(), 2);
    OrgAdmin admin(*owner_pool_);
    ASSERT_TRUE(admin.CreateJobCentre("JC1", "Jobcenter Et", "admin", "Admin").ok());
    ASSERT_TRUE(admin.AddUnit("JC1", "D1", "Department", "DEPARTMENT", "").ok());
    ASSERT_TRUE(admin.AddUnit("JC1", "T1", "Team 1", "TEAM", "D1").ok());
    ASSERT_TRUE(admin.AddUnit("JC1", "T2", "Team 2", "TEAM", "D1").ok());
    for (const auto& [code, role, team] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"cw1", "CASEWORKER", "T1"},
             {"cw2", "CASEWORKER", "T1"},
             {"tl1", "TEAM_LEADER", "T1"},
             {"cw3", "CASEWORKER", "T2"},
             {"tl2", "TEAM_LEADER", "T2"},
             {"mgr", "MANAGER", ""}}) {
      ASSERT_TRUE(admin.AddStaff("JC1", code, code, role, team, true).ok()) << code;
    }
    ASSERT_TRUE(admin.CreateJobCentre("JC2", "Jobcenter To", "admin2", "").ok());
    ASSERT_TRUE(admin.AddUnit("JC2", "X1", "Team X", "TEAM", "").ok());
    ASSERT_TRUE(admin.AddStaff("JC2", "cwx", "cwx", "CASEWORKER", "X1", true).ok());
    ASSERT_TRUE(admin.AddStaff("JC2", "cwy", "cwy", "CASEWORKER", "X1", true).ok());
    ASSERT_TRUE(admin.AddStaff("JC2", "mgrx", "mgrx", "MANAGER", "", true).ok());
    {
      // A milestone metric in both centres (targets name one), and a case field (SetCaseFields).
      pqxx::connection conn(db_->conninfo());
      pqxx::work tx(conn);
      tx.exec(
          "INSERT INTO milestone_metric (job_centre_id, code, label_da, label_en, kind, "
          "outcome_group, field_code, choice, higher_is_better, sort_order) SELECT id, 'mx', 'X', "
          "'X', 'CLOSURES', '', '', '', true, 99 FROM job_centre ON CONFLICT DO NOTHING");
      tx.commit();
    }

    case_pool_ = std::make_unique<PgPool>(db_->conninfo_as(kCaseServiceRole), 8);
    forecast_pool_ = std::make_unique<PgPool>(db_->conninfo_as(kForecastServiceRole), 8);
    case_store_ = std::make_unique<PgCaseStore>(*case_pool_);
    case_directory_ = std::make_unique<PgStaffDirectory>(*case_pool_);
    keeper_ = std::make_unique<CaseKeeper>(*case_store_, clock_);
    case_reads_ = std::make_unique<audit::PgCaseReadLog>(*case_pool_);
    case_authenticator_ =
        std::make_unique<Authenticator>(forecast::testing::Verifier(), *case_directory_);
    case_org_ = std::make_unique<OrgAdmin>(*case_pool_);
    case_service_ =
        std::make_unique<CaseServiceImpl>(*keeper_, *case_org_, *case_authenticator_, *case_reads_);
    identity::IdentityOptions options;
    options.password_cost = {1, size_t{64} << 10};  // cheap hashes: not what is tested here
    identity_ = std::make_unique<identity::IdentityKeeper>(*case_pool_, clock_,
                                                           forecast::testing::Signer(), options);
    for (const char* staff : {"cw1", "tl1", "mgr", "admin"}) {
      ASSERT_TRUE(identity_->SetPassword("JC1", staff, kPassword).ok()) << staff;
    }
    providers_ = std::make_unique<identity::OidcProviderStore>(*case_pool_);
    provider_keys_ = std::make_unique<identity::OidcKeySource>(identity::HttpOptions{});
    sign_in_ = std::make_unique<identity::OidcSignIn>(*providers_, *provider_keys_,
                                                      *case_directory_, identity_->SignInHooks());
    read_query_ = std::make_unique<audit::CaseReadQuery>(*case_pool_);
    identity_service_ = std::make_unique<identity::IdentityServiceImpl>(
        *identity_, *case_authenticator_, sign_in_.get(), read_query_.get());
    Caller admin_caller = *case_directory_->Find("JC1", "admin");
    v1::UpsertCaseFieldRequest field;
    field.mutable_field()->set_code("has_cv");
    field.mutable_field()->set_label_da("Har CV");
    field.mutable_field()->set_label_en("Has a CV");
    field.mutable_field()->set_type(v1::CaseField::BOOL);
    field.mutable_field()->set_active(true);
    absl::StatusOr<v1::Catalogue> fields = keeper_->UpsertCaseField(admin_caller, field);
    ASSERT_TRUE(fields.ok()) << fields.status();
  }

  // Creates the case of one cell, held by `holder`, before the services start; with an open
  // action for FollowUpAction, closed for ReopenCase.
  void CreateCase(const std::string& ref, const std::string& holder, const std::string& rpc) {
    const bool other_centre = holder == "cwx";
    const Caller creator =
        *case_directory_->Find(other_centre ? "JC2" : "JC1", other_centre ? "mgrx" : "mgr");
    v1::CreateCaseRequest request;
    request.set_case_ref(ref);
    request.set_case_type("JAF");
    request.set_opened_on("2026-01-05");
    request.set_caseworker(holder);
    absl::StatusOr<v1::Case> created = keeper_->CreateCase(creator, request);
    ASSERT_TRUE(created.ok()) << ref << ": " << created.status();
    if (rpc == "FollowUpAction") {
      v1::AddActionRequest action;
      action.set_case_ref(ref);
      action.set_base_version(created->version());
      action.set_description("Ring borgeren op");
      action.set_owner(holder);
      action.set_due_on("2026-12-01");
      created = keeper_->AddAction(creator, action);
      ASSERT_TRUE(created.ok()) << ref << ": " << created.status();
      ASSERT_GT(created->open_actions_size(), 0);
      actions_[ref] = created->open_actions(0).id();
    } else if (rpc == "ReopenCase") {
      v1::CloseCaseRequest close;
      close.set_case_ref(ref);
      close.set_base_version(created->version());
      close.set_closed_on("2026-11-10");
      close.set_outcome("ORDINARY_JOB");
      created = keeper_->CloseCase(creator, close);
      ASSERT_TRUE(created.ok()) << ref << ": " << created.status();
    }
    versions_[ref] = created->version();
  }

  void StartServers() {
    auto cases = StartGrpcServer({case_service_.get(), identity_service_.get()}, "127.0.0.1", 0,
                                 forecast::testing::ServerCredentials());
    ASSERT_TRUE(cases.ok()) << cases.status();
    case_server_ = std::move(*cases);
    history_ = std::make_unique<fsvc::PgHistoryStore>(*forecast_pool_);
    engine_ = std::make_unique<fsvc::ForecastEngine>(*history_, clock_);
    forecast_directory_ = std::make_unique<PgStaffDirectory>(*forecast_pool_);
    forecast_reads_ = std::make_unique<audit::PgCaseReadLog>(*forecast_pool_);
    forecast_authenticator_ =
        std::make_unique<Authenticator>(forecast::testing::Verifier(), *forecast_directory_);
    forecast_service_ = std::make_unique<fsvc::ForecastServiceImpl>(
        *engine_, *forecast_authenticator_, *history_, *forecast_reads_);
    auto forecasts = StartGrpcServer({forecast_service_.get()}, "127.0.0.1", 0,
                                     forecast::testing::ServerCredentials());
    ASSERT_TRUE(forecasts.ok()) << forecasts.status();
    forecast_server_ = std::move(*forecasts);
    case_stub_ = v1::CaseService::NewStub(forecast::testing::TlsChannel(case_server_.port));
    identity_stub_ = v1::IdentityService::NewStub(forecast::testing::TlsChannel(case_server_.port));
    forecast_stub_ =
        v1::ForecastService::NewStub(forecast::testing::TlsChannel(forecast_server_.port));
    log_ = std::make_unique<pqxx::connection>(db_->conninfo());
  }

  void TearDown() override {
    if (case_server_.server) ShutdownGracefully(*case_server_.server, absl::Seconds(1));
    if (forecast_server_.server) ShutdownGracefully(*forecast_server_.server, absl::Seconds(1));
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& staff,
                                                 const std::string& centre = "JC1") {
    return forecast::testing::ContextAs(centre, staff, absl::Seconds(30));
  }

  // case_read rows of `staff` (JC1) through `call`.
  int64_t Reads(const std::string& staff, const std::string& call) {
    pqxx::work tx(*log_);
    return tx
        .exec_params1(
            "SELECT count(*) FROM case_read r JOIN staff s ON s.id = r.staff_id "
            "JOIN job_centre j ON j.id = s.job_centre_id WHERE j.code = 'JC1' AND s.code = $1 "
            "AND r.call = $2",
            staff, call)[0]
        .as<int64_t>();
  }

  // A draft dialogue with `holder`, opened by that centre's manager: {id, version}.
  std::pair<int64_t, int32_t> Draft(const std::string& holder) {
    const bool other_centre = holder == "cwx";
    v1::OpenDialogueRequest open;
    open.set_caseworker(holder);
    v1::Dialogue draft;
    const grpc::Status status = forecast_stub_->OpenDialogue(
        As(other_centre ? "mgrx" : "mgr", other_centre ? "JC2" : "JC1").get(), open, &draft);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {draft.id(), draft.version()};
  }

  // Calls `rpc` as `staff`: on the case `ref` held by `holder`, or naming `holder` / `team`.
  Outcome Call(const std::string& rpc, const std::string& staff, const std::string& ref,
               const std::string& holder, const std::string& team) {
    const int64_t version = versions_.count(ref) ? versions_.at(ref) : 0;
    const std::string unique = absl::StrCat("u", ++calls_);
#define AUTHZ_CALL(stub, Method, Response)                            \
  do {                                                                \
    auto out = std::make_shared<Response>();                          \
    return Outcome{stub->Method(As(staff).get(), r, out.get()), out}; \
  } while (false)
    if (rpc == "WhoAmI") {
      v1::WhoAmIRequest r;
      AUTHZ_CALL(case_stub_, WhoAmI, v1::StaffMember);
    } else if (rpc == "GetOrganisation") {
      v1::GetOrganisationRequest r;
      AUTHZ_CALL(case_stub_, GetOrganisation, v1::Organisation);
    } else if (rpc == "CreateCase") {
      v1::CreateCaseRequest r;
      r.set_case_ref(absl::StrCat("N-", unique));
      r.set_case_type("JAF");
      r.set_opened_on("2026-11-02");
      r.set_caseworker(holder);
      AUTHZ_CALL(case_stub_, CreateCase, v1::Case);
    } else if (rpc == "GetCase") {
      v1::GetCaseRequest r;
      r.set_case_ref(ref);
      AUTHZ_CALL(case_stub_, GetCase, v1::Case);
    } else if (rpc == "GetCaseHistory") {
      v1::GetCaseHistoryRequest r;
      r.set_case_ref(ref);
      AUTHZ_CALL(case_stub_, GetCaseHistory, v1::CaseHistory);
    } else if (rpc == "ListCaseActions") {
      v1::ListCaseActionsRequest r;
      r.set_case_ref(ref);
      r.set_include_closed(true);
      AUTHZ_CALL(case_stub_, ListCaseActions, v1::ListCaseActionsResponse);
    } else if (rpc == "ListCases") {
      v1::ListCasesRequest r;
      r.set_page_size(1000);
      AUTHZ_CALL(case_stub_, ListCases, v1::ListCasesResponse);
    } else if (rpc == "RecordExpectation") {
      v1::RecordExpectationRequest r;
      r.set_case_ref(ref);
      r.set_base_version(version);
      r.set_expected_outcome("EDUCATION");
      r.set_expected_month("2027-06");
      r.set_risk("HIGH");
      AUTHZ_CALL(case_stub_, RecordExpectation, v1::Case);
    } else if (rpc == "AddAction") {
      v1::AddActionRequest r;
      r.set_case_ref(ref);
      r.set_base_version(version);
      r.set_description("Ring borgeren op");
      r.set_due_on("2026-12-01");
      AUTHZ_CALL(case_stub_, AddAction, v1::Case);
    } else if (rpc == "FollowUpAction") {
      v1::FollowUpActionRequest r;
      r.set_case_ref(ref);
      r.set_base_version(version);
      r.set_action_id(actions_.at(ref));
      r.set_result(v1::FOLLOW_UP_DONE);
      AUTHZ_CALL(case_stub_, FollowUpAction, v1::Case);
    } else if (rpc == "SetCaseFields") {
      v1::SetCaseFieldsRequest r;
      r.set_case_ref(ref);
      r.set_base_version(version);
      (*r.mutable_fields())["has_cv"].set_bool_value(true);
      AUTHZ_CALL(case_stub_, SetCaseFields, v1::Case);
    } else if (rpc == "CloseCase") {
      v1::CloseCaseRequest r;
      r.set_case_ref(ref);
      r.set_base_version(version);
      r.set_closed_on("2026-11-10");
      r.set_outcome("ORDINARY_JOB");
      AUTHZ_CALL(case_stub_, CloseCase, v1::Case);
    } else if (rpc == "ReopenCase") {
      v1::ReopenCaseRequest r;
      r.set_case_ref(ref);
      r.set_base_version(version);
      r.set_reopened_on("2026-11-12");
      AUTHZ_CALL(case_stub_, ReopenCase, v1::Case);
    } else if (rpc == "ReassignCase") {
      v1::ReassignCaseRequest r;
      r.set_case_ref(ref);
      r.set_base_version(version);
      r.set_to_caseworker(Colleague(holder));
      r.set_on("2026-11-16");
      AUTHZ_CALL(case_stub_, ReassignCase, v1::Case);
    } else if (rpc == "GetCatalogue") {
      v1::GetCatalogueRequest r;
      AUTHZ_CALL(case_stub_, GetCatalogue, v1::Catalogue);
    } else if (rpc == "UpsertCatalogueEntry") {
      v1::UpsertCatalogueEntryRequest r;
      r.mutable_entry()->set_kind(v1::CatalogueEntry::CASE_TYPE);
      r.mutable_entry()->set_code(absl::StrCat("CT_", calls_));
      r.mutable_entry()->set_label_da("Sagstype");
      r.mutable_entry()->set_label_en("Case type");
      r.mutable_entry()->set_active(true);
      AUTHZ_CALL(case_stub_, UpsertCatalogueEntry, v1::Catalogue);
    } else if (rpc == "UpsertCaseField") {
      v1::UpsertCaseFieldRequest r;
      r.mutable_field()->set_code(absl::StrCat("f_", unique));
      r.mutable_field()->set_label_da("Felt");
      r.mutable_field()->set_label_en("Field");
      r.mutable_field()->set_type(v1::CaseField::BOOL);
      r.mutable_field()->set_active(true);
      AUTHZ_CALL(case_stub_, UpsertCaseField, v1::Catalogue);
    } else if (rpc == "UpsertOrgUnit") {
      v1::UpsertOrgUnitRequest r;
      r.mutable_unit()->set_code(absl::StrCat("T_", unique));
      r.mutable_unit()->set_name("Team");
      r.mutable_unit()->set_kind(v1::OrgUnit::TEAM);
      r.mutable_unit()->set_parent("D1");
      AUTHZ_CALL(case_stub_, UpsertOrgUnit, v1::Organisation);
    } else if (rpc == "UpsertStaff") {
      v1::UpsertStaffRequest r;
      r.mutable_staff()->set_code(absl::StrCat("s_", unique));
      r.mutable_staff()->set_display_name("Ny medarbejder");
      r.mutable_staff()->set_role(v1::CASEWORKER);
      r.mutable_staff()->set_team("T1");
      r.mutable_staff()->set_active(true);
      AUTHZ_CALL(case_stub_, UpsertStaff, v1::Organisation);
    } else if (rpc == "ListMilestoneMetricSettings") {
      v1::ListMilestoneMetricSettingsRequest r;
      AUTHZ_CALL(case_stub_, ListMilestoneMetricSettings, v1::MilestoneMetricSettings);
    } else if (rpc == "UpsertMilestoneMetric") {
      v1::UpsertMilestoneMetricRequest r;
      r.mutable_metric()->set_code(absl::StrCat("m_", unique));
      r.mutable_metric()->set_label_da("Afsluttede");
      r.mutable_metric()->set_label_en("Closed");
      r.mutable_metric()->set_kind("CLOSURES");
      r.mutable_metric()->set_higher_is_better(true);
      r.mutable_metric()->set_active(true);
      AUTHZ_CALL(case_stub_, UpsertMilestoneMetric, v1::MilestoneMetricSettings);
    } else if (rpc == "ListAdminChanges") {
      v1::ListAdminChangesRequest r;
      r.set_page_size(10);
      AUTHZ_CALL(case_stub_, ListAdminChanges, v1::ListAdminChangesResponse);
    } else if (rpc == "ImportHistory") {
      // A dry run of one case: authorised or not, it changes nothing.
      auto out = std::make_shared<v1::ImportReport>();
      auto context = As(staff);
      auto writer = case_stub_->ImportHistory(context.get(), out.get());
      v1::ImportChunk chunk;
      chunk.set_dry_run(true);
      v1::ImportCaseRow* row = chunk.add_cases();
      row->set_line(2);
      row->set_case_ref(absl::StrCat("I-", unique));
      row->set_case_type("JAF");
      row->set_opened_on("2026-01-05");
      row->set_team("T1");
      row->set_caseworker("cw1");
      writer->Write(chunk);
      writer->WritesDone();
      return Outcome{writer->Finish(), out};
    } else if (rpc == "Project") {
      v1::ProjectRequest r;
      r.mutable_scope()->set_kind(v1::Scope::CASEWORKER);
      r.mutable_scope()->set_code(holder);
      r.set_horizon_months(3);
      AUTHZ_CALL(forecast_stub_, Project, v1::Projection);
    } else if (rpc == "CompareTeams") {
      v1::CompareTeamsRequest r;
      r.set_department("D1");
      r.set_horizon_months(3);
      AUTHZ_CALL(forecast_stub_, CompareTeams, v1::TeamComparison);
    } else if (rpc == "GetCaseworkerDashboard") {
      v1::CaseworkerDashboardRequest r;
      r.set_caseworker(holder);
      AUTHZ_CALL(forecast_stub_, GetCaseworkerDashboard, v1::CaseworkerDashboard);
    } else if (rpc == "GetTeamDashboard") {
      v1::TeamDashboardRequest r;
      r.set_team(team);
      AUTHZ_CALL(forecast_stub_, GetTeamDashboard, v1::TeamDashboard);
    } else if (rpc == "WatchTeamDashboard") {
      // The first push answers; then the watch is cancelled.
      v1::TeamDashboardRequest r;
      r.set_team(team);
      auto context = As(staff);
      auto reader = forecast_stub_->WatchTeamDashboard(context.get(), r);
      auto first = std::make_shared<v1::TeamDashboard>();
      if (reader->Read(first.get())) {
        context->TryCancel();
        reader->Finish();
        return Outcome{grpc::Status::OK, first};
      }
      return Outcome{reader->Finish(), first};
    } else if (rpc == "GetVariation") {
      v1::VariationRequest r;
      r.set_team(team);
      AUTHZ_CALL(forecast_stub_, GetVariation, v1::Variation);
    } else if (rpc == "GetVariationCases") {
      v1::VariationCasesRequest r;
      r.set_caseworker(holder);
      AUTHZ_CALL(forecast_stub_, GetVariationCases, v1::VariationCases);
    } else if (rpc == "GetTrend") {
      v1::TrendRequest r;
      r.mutable_scope()->set_kind(v1::Scope::CASEWORKER);
      r.mutable_scope()->set_code(holder);
      r.set_points(2);
      AUTHZ_CALL(forecast_stub_, GetTrend, v1::Trend);
    } else if (rpc == "GetAccuracy") {
      v1::AccuracyRequest r;
      r.mutable_scope()->set_kind(v1::Scope::CASEWORKER);
      r.mutable_scope()->set_code(holder);
      AUTHZ_CALL(forecast_stub_, GetAccuracy, v1::Accuracy);
    } else if (rpc == "ExplainCase") {
      v1::ExplainCaseRequest r;
      r.set_case_ref(ref);
      AUTHZ_CALL(forecast_stub_, ExplainCase, v1::CaseExplanation);
    } else if (rpc == "ListMilestoneMetrics") {
      v1::ListMilestoneMetricsRequest r;
      AUTHZ_CALL(forecast_stub_, ListMilestoneMetrics, v1::MilestoneMetrics);
    } else if (rpc == "SetMilestoneTarget") {
      v1::SetMilestoneTargetRequest r;
      r.mutable_target()->set_team(team);
      r.mutable_target()->set_metric("mx");
      r.mutable_target()->set_month("2026-12");
      r.mutable_target()->set_target(5);
      AUTHZ_CALL(forecast_stub_, SetMilestoneTarget, v1::MilestoneTarget);
    } else if (rpc == "GetMilestones") {
      v1::MilestonesRequest r;
      r.set_team(team);
      AUTHZ_CALL(forecast_stub_, GetMilestones, v1::Milestones);
    } else if (rpc == "RecordDialogue") {
      v1::RecordDialogueRequest r;
      r.set_caseworker(holder);
      r.set_held_on("2026-11-16");
      if (!ref.empty()) r.add_case_refs(ref);
      r.set_idempotency_key(unique);
      AUTHZ_CALL(forecast_stub_, RecordDialogue, v1::Dialogue);
    } else if (rpc == "OpenDialogue") {
      v1::OpenDialogueRequest r;
      r.set_caseworker(holder);
      AUTHZ_CALL(forecast_stub_, OpenDialogue, v1::Dialogue);
    } else if (rpc == "SaveDialogueNotes") {
      const auto [id, draft_version] = Draft(holder);
      v1::SaveDialogueNotesRequest r;
      r.set_id(id);
      r.set_base_version(draft_version);
      if (!ref.empty()) r.add_case_refs(ref);
      r.mutable_notes()->set_status("Status");
      r.set_idempotency_key(unique);
      AUTHZ_CALL(forecast_stub_, SaveDialogueNotes, v1::Dialogue);
    } else if (rpc == "FinaliseDialogue") {
      const auto [id, draft_version] = Draft(holder);
      v1::FinaliseDialogueRequest r;
      r.set_id(id);
      r.set_base_version(draft_version);
      AUTHZ_CALL(forecast_stub_, FinaliseDialogue, v1::Dialogue);
    } else if (rpc == "ListDialogues") {
      v1::ListDialoguesRequest r;
      r.set_caseworker(holder);
      AUTHZ_CALL(forecast_stub_, ListDialogues, v1::ListDialoguesResponse);
    } else if (rpc == "GetDialogueAgenda") {
      v1::DialogueAgendaRequest r;
      r.set_caseworker(holder);
      AUTHZ_CALL(forecast_stub_, GetDialogueAgenda, v1::DialogueAgenda);
    } else if (rpc == "GetChangesSinceLastDialogue") {
      v1::ChangesRequest r;
      r.set_caseworker(holder);
      AUTHZ_CALL(forecast_stub_, GetChangesSinceLastDialogue, v1::Changes);
    } else if (rpc == "InspectPipeline") {
      v1::PipelineRequest r;
      r.set_caseworker(holder);
      AUTHZ_CALL(forecast_stub_, InspectPipeline, v1::PipelineInspection);
    } else if (rpc == "SetForecastAdjustment") {
      // Each cell its own month, so every allowed cell is a first version (base 0).
      v1::SetForecastAdjustmentRequest r;
      r.set_team(team);
      r.set_month(FormatMonth(absl::CivilMonth(2026, 11) + calls_ % 24));
      r.set_outcome("ALL");
      r.set_figure(12);
      r.set_reason("Kendt sæsonudsving");
      r.set_idempotency_key(unique);
      AUTHZ_CALL(forecast_stub_, SetForecastAdjustment, v1::ForecastAdjustment);
    } else if (rpc == "ListForecastAdjustments") {
      v1::ListForecastAdjustmentsRequest r;
      r.set_team(team);
      AUTHZ_CALL(forecast_stub_, ListForecastAdjustments, v1::ForecastAdjustments);
    } else if (rpc == "LogoutEverywhere") {
      v1::LogoutEverywhereRequest r;
      AUTHZ_CALL(identity_stub_, LogoutEverywhere, v1::LogoutResponse);
    } else if (rpc == "ChangePassword") {
      v1::ChangePasswordRequest r;
      r.set_current_password(kPassword);
      r.set_new_password("another correct horse");
      auto out = std::make_shared<v1::ChangePasswordResponse>();
      const grpc::Status status = identity_stub_->ChangePassword(As(staff).get(), r, out.get());
      EXPECT_TRUE(identity_->SetPassword("JC1", staff, kPassword).ok());  // for the next cell
      return Outcome{status, out};
    } else if (rpc == "IssueSetupCode") {
      v1::IssueSetupCodeRequest r;
      r.set_staff(holder);
      AUTHZ_CALL(identity_stub_, IssueSetupCode, v1::SetupCode);
    } else if (rpc == "ListAuthEvents") {
      v1::ListAuthEventsRequest r;
      r.set_staff(holder);
      r.set_page_size(10);
      AUTHZ_CALL(identity_stub_, ListAuthEvents, v1::ListAuthEventsResponse);
    } else if (rpc == "ListCaseReads") {
      v1::ListCaseReadsRequest r;
      r.set_case_ref(ref);
      r.set_page_size(10);
      AUTHZ_CALL(identity_stub_, ListCaseReads, v1::ListCaseReadsResponse);
    } else if (rpc == "UpsertIdentityProvider") {
      v1::IdentityProvider r;
      r.set_id(absl::StrCat("idp-", unique));
      r.set_display_name("Kommunens login");
      r.set_issuer(absl::StrCat("https://idp.example.org/", unique));
      r.set_client_id("forecast");
      r.set_staff_claim("staff_code");
      r.set_enabled(true);
      AUTHZ_CALL(identity_stub_, UpsertIdentityProvider, v1::IdentityProvider);
    }
#undef AUTHZ_CALL
    ADD_FAILURE() << "no call for " << rpc;
    return Outcome{grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no call"), nullptr};
  }

  static char Letter(const grpc::Status& status) {
    switch (status.error_code()) {
      case grpc::StatusCode::OK: return 'O';
      case grpc::StatusCode::PERMISSION_DENIED: return 'P';
      case grpc::StatusCode::NOT_FOUND: return 'N';
      case grpc::StatusCode::INVALID_ARGUMENT: return 'I';
      default: return '!';
    }
  }

  static constexpr char kPassword[] = "correct horse battery";
  FixedClock clock_{absl::CivilDay(2026, 11, 16)};
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<PgPool> owner_pool_, case_pool_, forecast_pool_;
  std::unique_ptr<PgCaseStore> case_store_;
  std::unique_ptr<PgStaffDirectory> case_directory_, forecast_directory_;
  std::unique_ptr<CaseKeeper> keeper_;
  std::unique_ptr<audit::PgCaseReadLog> case_reads_, forecast_reads_;
  std::unique_ptr<Authenticator> case_authenticator_;
  std::unique_ptr<OrgAdmin> case_org_;
  std::unique_ptr<CaseServiceImpl> case_service_;
  std::unique_ptr<identity::IdentityKeeper> identity_;
  std::unique_ptr<identity::OidcProviderStore> providers_;
  std::unique_ptr<identity::OidcKeySource> provider_keys_;
  std::unique_ptr<identity::OidcSignIn> sign_in_;
  std::unique_ptr<audit::CaseReadQuery> read_query_;
  std::unique_ptr<identity::IdentityServiceImpl> identity_service_;
  std::unique_ptr<fsvc::PgHistoryStore> history_;
  std::unique_ptr<fsvc::ForecastEngine> engine_;
  std::unique_ptr<Authenticator> forecast_authenticator_;
  std::unique_ptr<fsvc::ForecastServiceImpl> forecast_service_;
  RunningServer case_server_, forecast_server_;
  std::unique_ptr<v1::CaseService::Stub> case_stub_;
  std::unique_ptr<v1::IdentityService::Stub> identity_stub_;
  std::unique_ptr<v1::ForecastService::Stub> forecast_stub_;
  std::unique_ptr<pqxx::connection> log_;
  std::map<std::string, int64_t> versions_, actions_;
  int calls_ = 0;
};

// Every RPC of the three services has exactly one row; a new RPC fails here until it gets one.
TEST(AuthzMatrixTable, EveryRpcOfEveryServiceHasARow) {
  std::set<std::string> rows;
  for (const MatrixRow& row : kMatrix) {
    EXPECT_TRUE(rows.insert(absl::StrCat(row.service, "/", row.rpc)).second)
        << "two rows for " << row.rpc;
  }
  int rpcs = 0;
  for (const char* name : {"CaseService", "ForecastService", "IdentityService"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            absl::StrCat("forecast.v1.", name));
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i, ++rpcs) {
      const std::string key = absl::StrCat(name, "/", service->method(i)->name());
      EXPECT_EQ(rows.erase(key), 1u) << key << " has no row in kMatrix";
    }
  }
  EXPECT_TRUE(rows.empty()) << "rows for RPCs that do not exist: " << *rows.begin();
  std::printf("authorisation matrix: %d RPCs of 3 services, each with a row\n", rpcs);
}

// The table's other claims about each RPC, against the descriptors and the identity service's
// list: proof-in-request RPCs are exactly NeedsNoAccessToken's; an RPC whose answer can carry a
// case reference says whether it logs (R) or is a write (W); one whose answer cannot says '-'.
TEST(AuthzMatrixTable, KindsAndLogColumnsAgreeWithTheDescriptors) {
  for (const MatrixRow& row : kMatrix) {
    const std::string method = absl::StrCat("/forecast.v1.", row.service, "/", row.rpc);
    EXPECT_EQ(row.aim == Aim::kProof, identity::NeedsNoAccessToken(method)) << method;
    const google::protobuf::MethodDescriptor* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
            absl::StrCat("forecast.v1.", row.service, ".", row.rpc));
    ASSERT_NE(descriptor, nullptr) << method;
    std::set<const google::protobuf::Descriptor*> seen;
    const bool carries = CanCarryCaseRefs(descriptor->output_type(), seen);
    EXPECT_EQ(carries, row.log != '-') << method << ": log column '" << row.log << "'";
    for (int role = 0; role < 4; ++role) {
      const std::string expected = Expected(row, role);
      EXPECT_EQ(expected.size(), 4u) << method;
      if (row.aim == Aim::kProof) {
        EXPECT_EQ(expected, "----") << method;
      } else if (row.aim == Aim::kCentre) {
        EXPECT_EQ(expected.substr(1), "---") << method;
      } else if (row.aim == Aim::kTeam) {
        EXPECT_EQ(expected[0], '-') << method;
      }
    }
  }
}

TEST_F(AuthzMatrixTest, EveryCellAnswersAsTheTableSays) {
  struct Cell {
    const MatrixRow* row;
    int role;
    int relation;
    std::string ref;     // kCase: the cell's own case
    std::string holder;  // kCase, kCaseworker: the case's holder / the staff member named
    std::string team;    // kTeam
  };
  std::vector<Cell> cells;
  for (const MatrixRow& row : kMatrix) {
    if (row.aim == Aim::kProof) continue;
    for (int role = 0; role < 4; ++role) {
      const std::string expected = Expected(row, role);
      for (int relation = 0; relation < 4; ++relation) {
        if (expected[relation] == '-') continue;
        Cell cell{&row, role, relation, "", "", ""};
        if (row.aim == Aim::kCase || row.aim == Aim::kCaseworker) {
          cell.holder = kRoles[role].holders[relation];
          ASSERT_FALSE(cell.holder.empty())
              << row.rpc << " " << kRoles[role].name << " " << kRelations[relation];
        }
        if (row.aim == Aim::kTeam) cell.team = kTeams[relation];
        if (row.aim == Aim::kCase) {
          cell.ref = absl::StrCat("M-", cells.size(), "-", cell.holder);
          ASSERT_NO_FATAL_FAILURE(CreateCase(cell.ref, cell.holder, row.rpc));
        }
        cells.push_back(cell);
      }
    }
  }
  ASSERT_NO_FATAL_FAILURE(StartServers());
  int mismatches = 0;
  for (const Cell& cell : cells) {
    const RoleColumn& role = kRoles[cell.role];
    const char want = Expected(*cell.row, cell.role)[cell.relation];
    const std::string call = absl::StrCat("/forecast.v1.", cell.row->service, "/", cell.row->rpc);
    const std::string where =
        absl::StrCat(cell.row->rpc, " by the ", role.name, " (", role.staff, ") on ",
                     kRelations[cell.relation], " (", cell.ref, cell.holder, " ", cell.team, ")");
    const int64_t reads_before = Reads(role.staff, call);
    const Outcome outcome = Call(cell.row->rpc, role.staff, cell.ref, cell.holder, cell.team);
    char got = Letter(outcome.status);
    if (got == 'O' && cell.row->rpc == std::string("ListCases")) {
      bool listed = false;
      for (const v1::Case& c :
           static_cast<const v1::ListCasesResponse&>(*outcome.response).cases()) {
        listed = listed || c.case_ref() == cell.ref;
      }
      got = listed ? 'V' : 'H';
    }
    if (got != want) ++mismatches;
    EXPECT_EQ(got, want) << where << ": " << outcome.status.error_code() << " "
                         << outcome.status.error_message();
    // The case-read log: an answer's case references are recorded (R), a write's are not (W).
    if (outcome.status.ok() && outcome.response != nullptr) {
      const int64_t refs = static_cast<int64_t>(audit::CaseRefsIn(*outcome.response).size());
      const int64_t logged = Reads(role.staff, call) - reads_before;
      EXPECT_EQ(logged, cell.row->log == 'R' ? refs : 0)
          << where << ": " << refs << " case references in the answer";
    }
  }
  std::printf(
      "authorisation matrix: %zu cells from %zu rows x 4 roles x 4 relations, %d mismatches\n",
      cells.size(), std::size(kMatrix), mismatches);
}

}  // namespace
}  // namespace forecast::testing
