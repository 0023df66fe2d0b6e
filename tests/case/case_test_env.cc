#include "tests/case/case_test_env.h"

#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"

namespace forecast::testing {
namespace {

void Must(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::cerr << "test set-up failed: " << what << ": " << status << "\n";
    std::abort();
  }
}

}  // namespace

std::unique_ptr<CaseEnv> CaseEnv::Create(bool serve) {
  std::unique_ptr<CaseEnv> env(new CaseEnv());
  auto db = TestDatabase::Create();
  Must(db.status(), "database");
  env->db_ = std::move(*db);
  env->pool_ = std::make_unique<PgPool>(env->db_->conninfo(), 12);
  OrgAdmin admin(*env->pool_);
  Must(admin.CreateJobCentre("JC1", "Jobcenter Et", "admin", "Admin One").status(), "JC1");
  Must(admin.AddUnit("JC1", "D1", "Department 1", "DEPARTMENT", ""), "D1");
  Must(admin.AddUnit("JC1", "T1", "Team 1", "TEAM", "D1"), "T1");
  Must(admin.AddUnit("JC1", "T2", "Team 2", "TEAM", "D1"), "T2");
  Must(admin.AddStaff("JC1", "cw1", "Caseworker One", "CASEWORKER", "T1", true), "cw1");
  Must(admin.AddStaff("JC1", "cw2", "Caseworker Two", "CASEWORKER", "T1", true), "cw2");
  Must(admin.AddStaff("JC1", "cw3", "Caseworker Three", "CASEWORKER", "T2", true), "cw3");
  Must(admin.AddStaff("JC1", "tl1", "Leader One", "TEAM_LEADER", "T1", true), "tl1");
  Must(admin.AddStaff("JC1", "tl2", "Leader Two", "TEAM_LEADER", "T2", true), "tl2");
  Must(admin.AddStaff("JC1", "mgr", "Manager", "MANAGER", "", true), "mgr");
  Must(admin.AddStaff("JC1", "gone", "Left", "CASEWORKER", "T1", false), "gone");
  Must(admin.CreateJobCentre("JC2", "Jobcenter To", "admin2", "").status(), "JC2");
  Must(admin.AddUnit("JC2", "X1", "Team X", "TEAM", ""), "X1");
  Must(admin.AddStaff("JC2", "cwx", "Other Centre", "CASEWORKER", "X1", true), "cwx");
  // The service's own code runs as the case service's role, with its grants only (0009).
  env->service_pool_ = std::make_unique<PgPool>(env->db_->conninfo_as(kCaseServiceRole), 12);
  env->store_ = std::make_unique<PgCaseStore>(*env->service_pool_);
  env->directory_ = std::make_unique<PgStaffDirectory>(*env->service_pool_);
  env->keeper_ = std::make_unique<CaseKeeper>(*env->store_, env->clock_);
  env->org_ = std::make_unique<OrgAdmin>(*env->service_pool_);
  if (serve) {
    env->reads_ = std::make_unique<audit::PgCaseReadLog>(*env->service_pool_);
    env->authenticator_ = std::make_unique<Authenticator>(Verifier(), *env->directory_);
    env->service_ = std::make_unique<CaseServiceImpl>(*env->keeper_, *env->org_,
                                                      *env->authenticator_, *env->reads_);
    auto running =
        StartGrpcServer({env->service_.get()}, "127.0.0.1", 0, ServerCredentials(), 64 << 20,
                        /*reflection=*/true);
    Must(running.status(), "server");
    env->server_ = std::move(running->server);
    env->port_ = running->port;
    env->channel_ = TlsChannel(env->port_);
    env->stub_ = v1::CaseService::NewStub(env->channel_);
  }
  return env;
}

CaseEnv::~CaseEnv() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
  }
  stub_.reset();
  channel_.reset();
  server_.reset();
  service_.reset();
  reads_.reset();
  authenticator_.reset();
  org_.reset();
  keeper_.reset();
  directory_.reset();
  store_.reset();
  service_pool_.reset();
  pool_.reset();
  db_.reset();
}

Caller CaseEnv::As(const std::string& staff, const std::string& centre) {
  auto caller = directory_->Find(centre, staff);
  Must(caller.status(), "caller");
  return *caller;
}

std::unique_ptr<grpc::ClientContext> CaseEnv::Context(const std::string& staff,
                                                      const std::string& centre) {
  return ContextAs(centre, staff);
}

std::string CaseEnv::Dump() {
  std::string dump;
  Must(RunTransaction(*pool_, Isolation::kRepeatableRead,
                      [&](pqxx::transaction_base& tx) {
                        for (const char* table :
                             {"cases", "expectation", "action", "action_follow_up", "assignment",
                              "status_change", "field_change", "case_event", "idempotency_key",
                              "catalogue_entry", "case_field", "org_unit", "staff"}) {
                          for (const pqxx::row& row : tx.exec(absl::StrCat(
                                   "SELECT t::text FROM ", table, " t ORDER BY t::text"))) {
                            absl::StrAppend(&dump, table, ": ", row[0].c_str(), "\n");
                          }
                        }
                        return absl::OkStatus();
                      }),
       "dump");
  return dump;
}

std::string CaseEnv::Scalar(const std::string& sql) {
  std::string value;
  Must(RunTransaction(*pool_, Isolation::kReadCommitted,
                      [&](pqxx::transaction_base& tx) {
                        value = tx.exec1(sql)[0].c_str();
                        return absl::OkStatus();
                      }),
       "scalar");
  return value;
}

}  // namespace forecast::testing
