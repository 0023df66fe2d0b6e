// Issue 8: the whole authorisation matrix - RPC x role x (own case / own team / other team / other
// job centre) - written once, in kMatrix below, and compared cell by cell with the answers of the
// running services: both gRPC servers on port 0 over the real PostgreSQL, each service with its
// own database role. Every cell gets its own case, so writes do not disturb other cells.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "forecast/v1/case_service.grpc.pb.h"
#include "forecast/v1/forecast_service.grpc.pb.h"
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
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast::testing {
namespace {

// Outcomes: O = OK, P = PERMISSION_DENIED, N = NOT_FOUND; for lists V = OK and the case is
// listed, H = OK and it is not; '-' = the relation does not exist for that role.
// Relations, in this order: the caller's own case, a case of the caller's team, a case of
// another team, a case of another job centre. Scope RPCs name the case's caseworker; those views
// are personal (services/forecast/access.h): a caseworker sees only the own ones.
// Roles: caseworker cw1 (team T1), team leader tl1 (T1), manager mgr, admin admin.
struct MatrixRow {
  const char* rpc;
  const char* caseworker;
  const char* team_leader;
  const char* manager;
  const char* admin;
};
// clang-format off
const MatrixRow kMatrix[] = {
  //  rpc                       caseworker team_leader manager admin
  {"GetCase",                   "OOPN",    "OOPN",     "--ON", "--PN"},
  {"GetCaseHistory",            "OOPN",    "OOPN",     "--ON", "--PN"},
  {"ListCases",                 "VVHH",    "VVHH",     "--VH", "--PP"},
  {"RecordExpectation",         "OPPN",    "OOPN",     "--ON", "--PN"},
  {"AddAction",                 "OPPN",    "OOPN",     "--ON", "--PN"},
  {"CloseCase",                 "OPPN",    "OOPN",     "--ON", "--PN"},
  {"ReassignCase",              "PPPN",    "OOPN",     "--ON", "--PN"},
  {"ExplainCase",               "OOPN",    "OOPN",     "--ON", "--PN"},
  {"GetCaseworkerDashboard",    "OPPN",    "OOPN",     "--ON", "--PN"},
  {"GetDialogueAgenda",         "OPPN",    "OOPN",     "--ON", "--PN"},
  {"Project",                   "OPPN",    "OOPN",     "--ON", "--ON"},
};
// clang-format on

const char* const kRelations[] = {"own", "own team", "other team", "other centre"};
struct RoleColumn {
  const char* name;
  const char* staff;
  const char* holders[4];  // who holds the case of each relation ("" = none)
};
const RoleColumn kRoles[] = {
    {"caseworker", "cw1", {"cw1", "cw2", "cw3", "cwx"}},
    {"team leader", "tl1", {"tl1", "cw2", "cw3", "cwx"}},
    {"manager", "mgr", {"", "", "cw3", "cwx"}},
    {"admin", "admin", {"", "", "cw3", "cwx"}},
};
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
  }

  // Creates the case of one cell, held by `holder`, with one expectation, before the services
  // start.
  void CreateCase(const std::string& ref, const std::string& holder) {
    const bool other_centre = holder == "cwx";
    Caller creator;
    if (other_centre) {
      creator = *case_directory_->Find("JC2", "cwx");
    } else {
      creator = *case_directory_->Find("JC1", "mgr");
    }
    v1::CreateCaseRequest request;
    request.set_case_ref(ref);
    request.set_case_type("JAF");
    request.set_opened_on("2026-01-05");
    request.set_caseworker(holder);
    absl::StatusOr<v1::Case> created = keeper_->CreateCase(creator, request);
    ASSERT_TRUE(created.ok()) << ref << ": " << created.status();
    versions_[ref] = created->version();
  }

  void StartServers() {
    auto cases = StartGrpcServer({case_service_.get()}, "127.0.0.1", 0,
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
    forecast_stub_ =
        v1::ForecastService::NewStub(forecast::testing::TlsChannel(forecast_server_.port));
  }

  void TearDown() override {
    if (case_server_.server) ShutdownGracefully(*case_server_.server, absl::Seconds(1));
    if (forecast_server_.server) ShutdownGracefully(*forecast_server_.server, absl::Seconds(1));
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& staff) {
    return forecast::testing::ContextAs("JC1", staff, absl::Seconds(30));
  }

  // Calls `rpc` as `staff` on the case `ref` held by `holder`; the outcome letter.
  char Call(const std::string& rpc, const std::string& staff, const std::string& ref,
            const std::string& holder) {
    const int64_t version = versions_.at(ref);
    grpc::Status status;
    bool listed = false;
    if (rpc == "GetCase") {
      v1::GetCaseRequest r;
      r.set_case_ref(ref);
      v1::Case out;
      status = case_stub_->GetCase(As(staff).get(), r, &out);
    } else if (rpc == "GetCaseHistory") {
      v1::GetCaseHistoryRequest r;
      r.set_case_ref(ref);
      v1::CaseHistory out;
      status = case_stub_->GetCaseHistory(As(staff).get(), r, &out);
    } else if (rpc == "ListCases") {
      v1::ListCasesRequest r;
      r.set_page_size(1000);
      v1::ListCasesResponse out;
      status = case_stub_->ListCases(As(staff).get(), r, &out);
      for (const v1::Case& c : out.cases()) listed = listed || c.case_ref() == ref;
      if (status.ok()) return listed ? 'V' : 'H';
    } else if (rpc == "RecordExpectation") {
      v1::RecordExpectationRequest r;
      r.set_case_ref(ref);
      r.set_base_version(version);
      r.set_expected_outcome("EDUCATION");
      r.set_expected_month("2027-06");
      r.set_risk("HIGH");
      v1::Case out;
      status = case_stub_->RecordExpectation(As(staff).get(), r, &out);
    } else if (rpc == "AddAction") {
      v1::AddActionRequest r;
      r.set_case_ref(ref);
      r.set_base_version(version);
      r.set_description("Ring borgeren op");
      r.set_due_on("2026-12-01");
      v1::Case out;
      status = case_stub_->AddAction(As(staff).get(), r, &out);
    } else if (rpc == "CloseCase") {
      v1::CloseCaseRequest r;
      r.set_case_ref(ref);
      r.set_base_version(version);
      r.set_closed_on("2026-11-10");
      r.set_outcome("ORDINARY_JOB");
      v1::Case out;
      status = case_stub_->CloseCase(As(staff).get(), r, &out);
    } else if (rpc == "ReassignCase") {
      v1::ReassignCaseRequest r;
      r.set_case_ref(ref);
      r.set_base_version(version);
      r.set_to_caseworker(Colleague(holder));
      r.set_on("2026-11-16");
      v1::Case out;
      status = case_stub_->ReassignCase(As(staff).get(), r, &out);
    } else if (rpc == "ExplainCase") {
      v1::ExplainCaseRequest r;
      r.set_case_ref(ref);
      v1::CaseExplanation out;
      status = forecast_stub_->ExplainCase(As(staff).get(), r, &out);
    } else if (rpc == "GetCaseworkerDashboard") {
      v1::CaseworkerDashboardRequest r;
      r.set_caseworker(holder);
      v1::CaseworkerDashboard out;
      status = forecast_stub_->GetCaseworkerDashboard(As(staff).get(), r, &out);
    } else if (rpc == "GetDialogueAgenda") {
      v1::DialogueAgendaRequest r;
      r.set_caseworker(holder);
      v1::DialogueAgenda out;
      status = forecast_stub_->GetDialogueAgenda(As(staff).get(), r, &out);
    } else if (rpc == "Project") {
      v1::ProjectRequest r;
      r.mutable_scope()->set_kind(v1::Scope::CASEWORKER);
      r.mutable_scope()->set_code(holder);
      r.set_horizon_months(3);
      v1::Projection out;
      status = forecast_stub_->Project(As(staff).get(), r, &out);
    } else {
      ADD_FAILURE() << "no call for " << rpc;
      return '?';
    }
    switch (status.error_code()) {
      case grpc::StatusCode::OK: return 'O';
      case grpc::StatusCode::PERMISSION_DENIED: return 'P';
      case grpc::StatusCode::NOT_FOUND: return 'N';
      default:
        last_error_ = absl::StrCat(status.error_code(), " ", status.error_message());
        return '!';
    }
  }

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
  std::unique_ptr<fsvc::PgHistoryStore> history_;
  std::unique_ptr<fsvc::ForecastEngine> engine_;
  std::unique_ptr<Authenticator> forecast_authenticator_;
  std::unique_ptr<fsvc::ForecastServiceImpl> forecast_service_;
  RunningServer case_server_, forecast_server_;
  std::unique_ptr<v1::CaseService::Stub> case_stub_;
  std::unique_ptr<v1::ForecastService::Stub> forecast_stub_;
  std::map<std::string, int64_t> versions_;
  std::string last_error_;
};

TEST_F(AuthzMatrixTest, EveryCellAnswersAsTheTableSays) {
  struct Cell {
    const MatrixRow* row;
    int role;
    int relation;
    std::string ref;
  };
  std::vector<Cell> cells;
  for (const MatrixRow& row : kMatrix) {
    for (int role = 0; role < 4; ++role) {
      const std::string expected = Expected(row, role);
      ASSERT_EQ(expected.size(), 4u) << row.rpc;
      for (int relation = 0; relation < 4; ++relation) {
        if (expected[relation] == '-') continue;
        const std::string holder = kRoles[role].holders[relation];
        ASSERT_FALSE(holder.empty())
            << row.rpc << " " << kRoles[role].name << " " << kRelations[relation];
        const std::string ref = absl::StrCat("M-", cells.size(), "-", holder);
        ASSERT_NO_FATAL_FAILURE(CreateCase(ref, holder));
        cells.push_back(Cell{&row, role, relation, ref});
      }
    }
  }
  ASSERT_NO_FATAL_FAILURE(StartServers());
  int mismatches = 0;
  for (const Cell& cell : cells) {
    const RoleColumn& role = kRoles[cell.role];
    const std::string holder = role.holders[cell.relation];
    const char want = Expected(*cell.row, cell.role)[cell.relation];
    last_error_.clear();
    const char got = Call(cell.row->rpc, role.staff, cell.ref, holder);
    if (got != want) ++mismatches;
    EXPECT_EQ(got, want) << cell.row->rpc << " by the " << role.name << " (" << role.staff
                         << ") on " << kRelations[cell.relation] << " (" << cell.ref << ") "
                         << last_error_;
  }
  std::printf(
      "authorisation matrix: %zu cells from %zu RPCs x 4 roles x 4 relations, %d mismatches\n",
      cells.size(), std::size(kMatrix), mismatches);
}

}  // namespace
}  // namespace forecast::testing
