// Nobody acts as anybody without proof: the identity, case and forecast services together on one
// TLS port (real PostgreSQL, port 0), as the case-service and forecast-service binaries wire
// them. The identity service's clock and the token verifier share one FixedClock, so delays,
// lockouts, idle timeouts and expiries are tested by moving it, never by sleeping.
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "forecast/v1/case_service.grpc.pb.h"
#include "forecast/v1/forecast_service.grpc.pb.h"
#include "forecast/v1/identity_service.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "services/case/case_keeper.h"
#include "services/case/case_service_impl.h"
#include "services/case/org_admin.h"
#include "services/case/pg_case_store.h"
#include "services/common/access_token.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/calendar.h"
#include "services/common/caller.h"
#include "services/common/pg_pool.h"
#include "services/common/server.h"
#include "services/forecast/forecast_engine.h"
#include "services/forecast/forecast_service_impl.h"
#include "services/forecast/history_store.h"
#include "services/identity/identity_keeper.h"
#include "services/identity/identity_service_impl.h"
#include "services/identity/password.h"
#include "services/identity/throttle.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast::identity {
namespace {

namespace t = ::forecast::testing;

constexpr char kPassword[] = "correct horse battery";
constexpr char kNewPassword[] = "staple battery horse correct";

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = t::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    pool_ = std::make_unique<PgPool>(db_->conninfo(), 8);
    OrgAdmin admin(*pool_);
    ASSERT_TRUE(admin.CreateJobCentre("JC1", "Jobcenter Et", "admin", "Admin One").ok());
    ASSERT_TRUE(admin.AddUnit("JC1", "T1", "Team 1", "TEAM", "").ok());
    ASSERT_TRUE(admin.AddStaff("JC1", "cw1", "Caseworker One", "CASEWORKER", "T1", true).ok());
    ASSERT_TRUE(admin.AddStaff("JC1", "tl1", "Leader One", "TEAM_LEADER", "T1", true).ok());
    ASSERT_TRUE(admin.AddStaff("JC1", "gone", "Left", "CASEWORKER", "T1", false).ok());
    ASSERT_TRUE(admin.CreateJobCentre("JC2", "Jobcenter To", "admin2", "").ok());

    options_.account.free_failures = 3;
    options_.account.base_delay = absl::Seconds(2);
    options_.account.max_delay = absl::Minutes(1);
    options_.account.lockout_after = 6;
    options_.account.lockout = absl::Minutes(15);
    options_.account.window = absl::Minutes(15);
    options_.address = options_.account;
    options_.address.free_failures = 8;
    options_.address.lockout_after = 12;
    // Cheap hashes keep these tests fast on a busy machine; Passwords.PolicyAndHashes checks the
    // production cost.
    options_.password_cost = {1, size_t{64} << 10};
    Serve();
    for (const char* staff : {"admin", "cw1", "tl1", "gone"}) {
      ASSERT_TRUE(keeper_->SetPassword("JC1", staff, kPassword).ok()) << staff;
    }
    ASSERT_TRUE(keeper_->SetPassword("JC2", "admin2", kPassword).ok());
  }

  void Serve() {
    verifier_ =
        std::make_unique<AccessTokenVerifier>(PublicKeyOf(t::SigningKey()), kTokenIssuer,
                                              kTokenAudience, [this] { return clock_.Now(); });
    directory_ = std::make_unique<PgStaffDirectory>(*pool_);
    authenticator_ = std::make_unique<Authenticator>(*verifier_, *directory_);
    case_store_ = std::make_unique<PgCaseStore>(*pool_);
    case_keeper_ = std::make_unique<CaseKeeper>(*case_store_, clock_);
    reads_ = std::make_unique<audit::PgCaseReadLog>(*pool_);
    case_org_ = std::make_unique<OrgAdmin>(*pool_);
    case_service_ =
        std::make_unique<CaseServiceImpl>(*case_keeper_, *case_org_, *authenticator_, *reads_);
    history_ = std::make_unique<fsvc::PgHistoryStore>(*pool_);
    engine_ = std::make_unique<fsvc::ForecastEngine>(*history_, clock_);
    forecast_service_ =
        std::make_unique<fsvc::ForecastServiceImpl>(*engine_, *authenticator_, *history_, *reads_);
    keeper_ = std::make_unique<IdentityKeeper>(*pool_, clock_, t::Signer(), options_);
    identity_service_ = std::make_unique<IdentityServiceImpl>(*keeper_, *authenticator_);
    auto server =
        StartGrpcServer({case_service_.get(), forecast_service_.get(), identity_service_.get()},
                        "127.0.0.1", 0, t::ServerCredentials());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server->server);
    port_ = server->port;
    channel_ = t::TlsChannel(port_);
    identity_ = v1::IdentityService::NewStub(channel_);
    cases_ = v1::CaseService::NewStub(channel_);
    forecasts_ = v1::ForecastService::NewStub(channel_);
  }

  void TearDown() override {
    if (server_) ShutdownGracefully(*server_, absl::Seconds(1));
  }

  std::unique_ptr<grpc::ClientContext> Context(const std::string& token = "") {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) t::AddBearer(context.get(), token);
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    return context;
  }

  grpc::Status Login(const std::string& staff, const std::string& password, v1::LoginResponse* out,
                     v1::IdentityService::Stub* stub = nullptr,
                     const std::string& claimed_address = "", const std::string& centre = "JC1") {
    v1::LoginRequest request;
    request.set_job_centre(centre);
    request.set_staff(staff);
    request.set_password(password);
    request.set_client_address(claimed_address);
    return (stub != nullptr ? stub : identity_.get())->Login(Context().get(), request, out);
  }

  grpc::Status Refresh(const std::string& session_token, v1::LoginResponse* out = nullptr) {
    v1::RefreshSessionRequest request;
    request.set_session_token(session_token);
    v1::LoginResponse ignored;
    return identity_->RefreshSession(Context().get(), request, out != nullptr ? out : &ignored);
  }

  grpc::Status WhoAmI(const std::string& token, v1::StaffMember* me = nullptr) {
    v1::StaffMember ignored;
    return cases_->WhoAmI(Context(token).get(), v1::WhoAmIRequest(), me != nullptr ? me : &ignored);
  }

  // A token signed with the test key, issued now by the shared clock.
  std::string Token(const std::string& staff, absl::Duration lifetime = absl::Minutes(5),
                    const std::string& audience = kTokenAudience,
                    const std::string& issuer = kTokenIssuer, const std::string& centre = "JC1") {
    const absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now()));
    return t::Signer().Sign({issuer, audience, staff, centre, 0, now, now + lifetime, "test"});
  }

  void Advance(absl::Duration by) { clock_.Set(clock_.Now() + by); }

  // Every row of every table, as text: "nothing changed" means this is equal before and after.
  std::string Dump() {
    std::string dump;
    pqxx::connection conn(db_->conninfo());
    pqxx::read_transaction tx(conn);
    for (const pqxx::row& table :
         tx.exec("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                 "AND table_type = 'BASE TABLE' ORDER BY table_name")) {
      const std::string name = table[0].as<std::string>();
      for (const pqxx::row& row :
           tx.exec(absl::StrCat("SELECT t::text FROM ", tx.quote_name(name), " t ORDER BY 1"))) {
        absl::StrAppend(&dump, name, ": ", row[0].c_str(), "\n");
      }
    }
    return dump;
  }

  int64_t Count(const std::string& sql) {
    pqxx::connection conn(db_->conninfo());
    pqxx::read_transaction tx(conn);
    return tx.exec1(sql)[0].as<int64_t>();
  }

  static absl::Duration RetryDelay(const grpc::Status& status) {
    google::rpc::Status details;
    if (!details.ParseFromString(status.error_details())) return absl::ZeroDuration();
    for (const auto& any : details.details()) {
      google::rpc::RetryInfo retry;
      if (any.UnpackTo(&retry)) return absl::Seconds(retry.retry_delay().seconds());
    }
    return absl::ZeroDuration();
  }

  FixedClock clock_{absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))};
  IdentityOptions options_;
  std::unique_ptr<t::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<audit::PgCaseReadLog> reads_;
  std::unique_ptr<AccessTokenVerifier> verifier_;
  std::unique_ptr<PgStaffDirectory> directory_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<PgCaseStore> case_store_;
  std::unique_ptr<CaseKeeper> case_keeper_;
  std::unique_ptr<OrgAdmin> case_org_;
  std::unique_ptr<CaseServiceImpl> case_service_;
  std::unique_ptr<fsvc::PgHistoryStore> history_;
  std::unique_ptr<fsvc::ForecastEngine> engine_;
  std::unique_ptr<fsvc::ForecastServiceImpl> forecast_service_;
  std::unique_ptr<IdentityKeeper> keeper_;
  std::unique_ptr<IdentityServiceImpl> identity_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::IdentityService::Stub> identity_;
  std::unique_ptr<v1::CaseService::Stub> cases_;
  std::unique_ptr<v1::ForecastService::Stub> forecasts_;
};

// Any method, by its full name, with an empty request message and the given metadata; streaming
// methods get the one empty message and the end of the client's stream.
grpc::Status CallAnyMethod(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                           const std::vector<std::pair<std::string, std::string>>& metadata) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, method, &queue);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  queue.Next(&tag, &ok);
  grpc::Slice empty("", 0);
  grpc::ByteBuffer request(&empty, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  queue.Next(&tag, &ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  queue.Next(&tag, &ok);
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(4));
  queue.Next(&tag, &ok);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return status;
}

TEST_F(IdentityTest, ForgedMetadataIsRefusedOnEveryRpcOfEveryServiceAndChangesNothing) {
  const std::vector<std::pair<std::string, std::string>> forged = {
      {"x-job-centre", "JC1"}, {"x-staff", "admin"}, {"x-role", "ADMIN"}};
  const std::string before = Dump();
  int checked = 0;
  for (const char* name :
       {"forecast.v1.CaseService", "forecast.v1.ForecastService", "forecast.v1.IdentityService"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string method = absl::StrCat("/", name, "/", service->method(i)->name());
      const grpc::Status status = CallAnyMethod(channel_, method, forged);
      if (NeedsNoAccessToken(method)) {
        // Callable without a token, but an empty request proves nothing: never an answer that
        // grants anything (Logout of no session is the idempotent no-op).
        if (method == "/forecast.v1.IdentityService/Logout") {
          EXPECT_TRUE(status.ok()) << method << ": " << status.error_message();
        } else {
          EXPECT_NE(status.error_code(), grpc::StatusCode::OK) << method;
        }
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << method << ": " << status.error_message();
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 40);
  EXPECT_EQ(Dump(), before);
  // The same with a token that does not verify, in place of the metadata.
  for (const char* name : {"forecast.v1.CaseService", "forecast.v1.ForecastService"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string method = absl::StrCat("/", name, "/", service->method(i)->name());
      EXPECT_EQ(CallAnyMethod(channel_, method,
                              {{"authorization", "Bearer " + Token("admin", -absl::Seconds(1))}})
                    .error_code(),
                grpc::StatusCode::UNAUTHENTICATED)
          << method;
    }
  }
  EXPECT_EQ(Dump(), before);
}

TEST_F(IdentityTest, BadTokensAreRefusedByEveryServiceAndGoodOnesAccepted) {
  const auto forecast_call = [&](const std::string& token) {
    v1::ProjectRequest request;
    request.mutable_scope()->set_kind(v1::Scope::JOB_CENTRE);
    v1::Projection projection;
    return forecasts_->Project(Context(token).get(), request, &projection);
  };
  EXPECT_TRUE(WhoAmI(Token("admin")).ok());
  EXPECT_NE(forecast_call(Token("admin")).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  std::string tampered = Token("cw1");
  {
    // The payload claims another staff member; the signature no longer fits.
    const size_t dot = tampered.find('.');
    const size_t second = tampered.find('.', dot + 1);
    std::string payload;
    ASSERT_TRUE(absl::WebSafeBase64Unescape(tampered.substr(dot + 1, second - dot - 1), &payload));
    payload.replace(payload.find("\"cw1\""), 5, "\"tl1\"");
    tampered =
        tampered.substr(0, dot + 1) + absl::WebSafeBase64Escape(payload) + tampered.substr(second);
  }
  const std::string other_key = AccessTokenSigner(NewSigningKey())
                                    .Sign({kTokenIssuer, kTokenAudience, "admin", "JC1", 0,
                                           clock_.Now(), clock_.Now() + absl::Minutes(5), "x"});
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"expired", Token("admin", -absl::Seconds(1))},
      {"tampered", tampered},
      {"wrong audience", Token("admin", absl::Minutes(5), "another-api")},
      {"wrong issuer", Token("admin", absl::Minutes(5), kTokenAudience, "someone-else")},
      {"other key", other_key},
      {"inactive staff", Token("gone")},
      {"unknown staff", Token("nobody")},
      {"other centre's staff", Token("cw1", absl::Minutes(5), kTokenAudience, kTokenIssuer, "JC2")},
      {"not a token", "hello"},
      {"empty", ""}};
  for (const auto& [why, token] : refused) {
    EXPECT_EQ(WhoAmI(token.empty() ? "x" : token).error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << why;
    EXPECT_EQ(forecast_call(token.empty() ? "x" : token).error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << why;
  }
  // A token issued before the staff member was deactivated stops working at once.
  const std::string token = Token("tl1");
  ASSERT_TRUE(WhoAmI(token).ok());
  ASSERT_TRUE(
      OrgAdmin(*pool_).AddStaff("JC1", "tl1", "Leader One", "TEAM_LEADER", "T1", false).ok());
  EXPECT_EQ(WhoAmI(token).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // A token expires with the clock.
  const std::string short_lived = Token("cw1", absl::Minutes(5));
  ASSERT_TRUE(WhoAmI(short_lived).ok());
  Advance(absl::Minutes(5));
  EXPECT_EQ(WhoAmI(short_lived).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(IdentityTest, LoginGivesTokensThatWorkAndRefusesAlikeWhetherOrNotTheStaffExists) {
  v1::LoginResponse login;
  ASSERT_TRUE(Login("cw1", kPassword, &login).ok());
  EXPECT_EQ(login.staff().code(), "cw1");
  EXPECT_EQ(login.staff().role(), v1::CASEWORKER);
  EXPECT_EQ(login.staff().team(), "T1");
  EXPECT_FALSE(login.session_token().empty());
  v1::StaffMember me;
  ASSERT_TRUE(WhoAmI(login.access_token(), &me).ok());
  EXPECT_EQ(me.code(), "cw1");
  auto claims = verifier_->Verify(login.access_token());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->expires_at - claims->issued_at, options_.access_token_lifetime);
  EXPECT_GT(claims->session_id, 0);

  v1::LoginResponse refused;
  const grpc::Status wrong = Login("tl1", "not the password!", &refused);
  const grpc::Status unknown = Login("nobody", "not the password!", &refused);
  const grpc::Status inactive = Login("gone", kPassword, &refused);
  const grpc::Status no_centre = Login("cw1", kPassword, &refused, nullptr, "", "NOWHERE");
  for (const grpc::Status& status : {wrong, unknown, inactive, no_centre}) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(status.error_message(), wrong.error_message());
  }
  // Secrets are stored hashed only and never written to the audit trail.
  EXPECT_EQ(
      Count(absl::StrCat("SELECT count(*) FROM credential WHERE password_hash LIKE '$argon2id$%' "
                         "AND strpos(password_hash, '",
                         kPassword, "') = 0")),
      5);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM session WHERE token_hash = '",
                               Sha256Hex(login.session_token()), "'")),
            1);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM session WHERE token_hash = '",
                               login.session_token(), "'")),
            0);
  EXPECT_EQ(
      Count(
          "SELECT count(*) FROM auth_event WHERE detail LIKE '%password!%' OR detail LIKE '%horse%'"),
      0);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_event WHERE kind = 'LOGIN'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_event WHERE kind = 'LOGIN_FAILED'"), 4);
}

TEST_F(IdentityTest, BruteForceIsDelayedThenLockedOutAndTheRightPasswordWorksAfterwards) {
  v1::LoginResponse out;
  const auto wrong = [&] { return Login("cw1", "wrong password guess", &out); };
  for (int i = 1; i <= 4; ++i)
    ASSERT_EQ(wrong().error_code(), grpc::StatusCode::UNAUTHENTICATED) << i;
  // The fourth failure (three are free) makes the next attempt wait.
  grpc::Status throttled = Login("cw1", kPassword, &out);
  ASSERT_EQ(throttled.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << throttled.error_message();
  EXPECT_EQ(RetryDelay(throttled), absl::Seconds(2));
  EXPECT_NE(throttled.error_message().find("try again in 2 s"), std::string::npos)
      << throttled.error_message();
  // Delays grow: 2 s, then 4 s.
  Advance(absl::Seconds(2));
  ASSERT_EQ(wrong().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(RetryDelay(wrong()), absl::Seconds(4));
  Advance(absl::Seconds(4));
  // The sixth failure locks the account.
  ASSERT_EQ(wrong().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  throttled = Login("cw1", kPassword, &out);
  ASSERT_EQ(throttled.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(RetryDelay(throttled), absl::Minutes(15));
  EXPECT_NE(throttled.error_message().find("locked"), std::string::npos);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_event WHERE kind = 'LOCKED_OUT'"), 1);
  // Other accounts are not affected.
  ASSERT_TRUE(Login("tl1", kPassword, &out).ok());
  // Once the lockout ends, the right password works again.
  Advance(absl::Minutes(15) - absl::Seconds(1));
  EXPECT_EQ(Login("cw1", kPassword, &out).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  Advance(absl::Seconds(1));
  ASSERT_TRUE(Login("cw1", kPassword, &out).ok());
  EXPECT_TRUE(WhoAmI(out.access_token()).ok());
}

TEST_F(IdentityTest, FailuresFromOneAddressAreThrottledAndOnlyTheGatewayMayNameAnotherAddress) {
  v1::LoginResponse out;
  // Many accounts (each below its own limit) from one address: the address is throttled.
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(Login(absl::StrCat("guess", i), "some password guess", &out).error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << i;
  }
  ASSERT_EQ(Login("guess8", "some password guess", &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Login("cw1", kPassword, &out).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // A client without the gateway's certificate cannot escape by claiming another address...
  EXPECT_EQ(Login("cw1", kPassword, &out, nullptr, "203.0.113.9").error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // ...but the gateway (mutual TLS) speaks for its browsers, each with its own address.
  auto gateway = v1::IdentityService::NewStub(t::TlsChannel(port_, /*as_gateway=*/true));
  ASSERT_TRUE(Login("cw1", kPassword, &out, gateway.get(), "203.0.113.9").ok());
  EXPECT_EQ(
      Count(
          "SELECT count(*) FROM auth_event WHERE kind = 'LOGIN' AND client_address = '203.0.113.9'"),
      1);
  EXPECT_EQ(
      Count(
          "SELECT count(*) FROM auth_event WHERE kind = 'LOGIN_FAILED' AND client_address = '127.0.0.1'"),
      9);
}

TEST_F(IdentityTest, SetupCodesAreIssuedByAdminsOnlyAndWorkOnceBeforeTheyExpire) {
  v1::IssueSetupCodeRequest issue;
  issue.set_staff("cw1");
  v1::SetupCode code;
  EXPECT_EQ(identity_->IssueSetupCode(Context(Token("tl1")).get(), issue, &code).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  issue.set_staff("cwx");
  EXPECT_EQ(identity_->IssueSetupCode(Context(Token("admin")).get(), issue, &code).error_code(),
            grpc::StatusCode::NOT_FOUND);
  issue.set_staff("cw1");
  ASSERT_TRUE(identity_->IssueSetupCode(Context(Token("admin")).get(), issue, &code).ok());
  EXPECT_EQ(code.setup_code().size(), 19u);  // XXXX-XXXX-XXXX-XXXX
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM setup_code WHERE code_hash LIKE '%",
                               code.setup_code(), "%'")),
            0);

  v1::RedeemSetupCodeRequest redeem;
  redeem.set_job_centre("JC1");
  redeem.set_staff("cw1");
  redeem.set_setup_code(code.setup_code());
  redeem.set_new_password("too short");
  v1::LoginResponse session;
  EXPECT_EQ(identity_->RedeemSetupCode(Context().get(), redeem, &session).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  redeem.set_new_password(kNewPassword);
  ASSERT_TRUE(identity_->RedeemSetupCode(Context().get(), redeem, &session).ok());
  EXPECT_TRUE(WhoAmI(session.access_token()).ok());
  // Once only.
  EXPECT_EQ(identity_->RedeemSetupCode(Context().get(), redeem, &session).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::LoginResponse out;
  EXPECT_EQ(Login("cw1", kPassword, &out).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Login("cw1", kNewPassword, &out).ok());

  // A code expires.
  issue.set_staff("tl1");
  ASSERT_TRUE(identity_->IssueSetupCode(Context(Token("admin")).get(), issue, &code).ok());
  Advance(options_.setup_code_lifetime + absl::Seconds(1));
  redeem.set_staff("tl1");
  redeem.set_setup_code(code.setup_code());
  EXPECT_EQ(identity_->RedeemSetupCode(Context().get(), redeem, &session).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_event WHERE kind = 'SETUP_CODE_ISSUED'"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_event WHERE kind = 'SETUP_CODE_REDEEMED'"), 1);
}

TEST_F(IdentityTest, PasswordChangeNeedsTheCurrentPasswordAndEndsTheOtherSessions) {
  v1::LoginResponse here, elsewhere;
  ASSERT_TRUE(Login("cw1", kPassword, &here).ok());
  ASSERT_TRUE(Login("cw1", kPassword, &elsewhere).ok());
  v1::ChangePasswordRequest change;
  change.set_current_password("not my password");
  change.set_new_password(kNewPassword);
  v1::ChangePasswordResponse changed;
  EXPECT_EQ(
      identity_->ChangePassword(Context(here.access_token()).get(), change, &changed).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  change.set_current_password(kPassword);
  change.set_new_password("short");
  EXPECT_EQ(
      identity_->ChangePassword(Context(here.access_token()).get(), change, &changed).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  change.set_new_password(kNewPassword);
  ASSERT_TRUE(identity_->ChangePassword(Context(here.access_token()).get(), change, &changed).ok());
  EXPECT_TRUE(Refresh(here.session_token()).ok());
  EXPECT_EQ(Refresh(elsewhere.session_token()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::LoginResponse out;
  EXPECT_EQ(Login("cw1", kPassword, &out).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Login("cw1", kNewPassword, &out).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM auth_event e JOIN staff s ON s.id = e.staff_id "
                  "WHERE e.kind = 'PASSWORD_CHANGED' AND s.code = 'cw1'"),
            2);  // the operator's, then the staff member's
}

TEST_F(IdentityTest, LogoutAndLogoutEverywhereEndSessions) {
  v1::LoginResponse a, b, c;
  ASSERT_TRUE(Login("cw1", kPassword, &a).ok());
  ASSERT_TRUE(Login("cw1", kPassword, &b).ok());
  ASSERT_TRUE(Login("cw1", kPassword, &c).ok());
  v1::LogoutRequest logout;
  logout.set_session_token(a.session_token());
  v1::LogoutResponse ended;
  ASSERT_TRUE(identity_->Logout(Context().get(), logout, &ended).ok());
  EXPECT_EQ(ended.sessions_ended(), 1);
  EXPECT_EQ(Refresh(a.session_token()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(identity_->Logout(Context().get(), logout, &ended).ok());  // idempotent
  EXPECT_EQ(ended.sessions_ended(), 0);
  v1::LoginResponse renewed;
  ASSERT_TRUE(Refresh(b.session_token(), &renewed).ok());
  EXPECT_TRUE(renewed.session_token().empty());
  EXPECT_TRUE(WhoAmI(renewed.access_token()).ok());

  ASSERT_TRUE(
      identity_
          ->LogoutEverywhere(Context(b.access_token()).get(), v1::LogoutEverywhereRequest(), &ended)
          .ok());
  EXPECT_EQ(ended.sessions_ended(), 2);
  EXPECT_EQ(Refresh(b.session_token()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Refresh(c.session_token()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(identity_->LogoutEverywhere(Context().get(), v1::LogoutEverywhereRequest(), &ended)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(IdentityTest, SessionsEndWhenIdleAndAtTheirAbsoluteLifetime) {
  v1::LoginResponse idle, busy;
  ASSERT_TRUE(Login("cw1", kPassword, &idle).ok());
  ASSERT_TRUE(Login("tl1", kPassword, &busy).ok());
  absl::Duration elapsed;
  for (elapsed = absl::ZeroDuration(); elapsed + absl::Minutes(20) < options_.session_lifetime;
       elapsed += absl::Minutes(20)) {
    Advance(absl::Minutes(20));
    v1::LoginResponse renewed;
    ASSERT_TRUE(Refresh(busy.session_token(), &renewed).ok()) << absl::FormatDuration(elapsed);
    auto claims = verifier_->Verify(renewed.access_token());
    ASSERT_TRUE(claims.ok()) << claims.status();
    if (elapsed == absl::Minutes(20)) {
      // 40 minutes without a refresh: past the 30-minute idle timeout.
      EXPECT_EQ(Refresh(idle.session_token()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
    }
  }
  Advance(options_.session_lifetime - elapsed);
  EXPECT_EQ(Refresh(busy.session_token()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(IdentityTest, AdminsReadTheirJobCentresSignInEvents) {
  v1::LoginResponse out;
  ASSERT_TRUE(Login("cw1", kPassword, &out).ok());
  ASSERT_EQ(Login("cw1", "wrong password guess", &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_EQ(Login("ghost", "wrong password guess", &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::ListAuthEventsRequest request;
  v1::ListAuthEventsResponse events;
  EXPECT_EQ(identity_->ListAuthEvents(Context(Token("cw1")).get(), request, &events).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(identity_->ListAuthEvents(Context(Token("admin")).get(), request, &events).ok());
  std::multiset<std::string> kinds;
  for (const auto& e : events.events()) kinds.insert(e.kind() + ":" + e.staff());
  EXPECT_EQ(kinds.count("LOGIN:cw1"), 1u);
  EXPECT_EQ(kinds.count("LOGIN_FAILED:cw1"), 1u);
  EXPECT_EQ(kinds.count("LOGIN_FAILED:"), 1u);  // the unknown account, not named
  EXPECT_EQ(kinds.count("PASSWORD_CHANGED:admin"), 1u);
  request.set_staff("cw1");
  request.set_page_size(1);
  ASSERT_TRUE(identity_->ListAuthEvents(Context(Token("admin")).get(), request, &events).ok());
  ASSERT_EQ(events.events_size(), 1);
  EXPECT_EQ(events.events(0).kind(), "LOGIN_FAILED");  // newest first
  ASSERT_FALSE(events.next_page_token().empty());
  request.set_page_token(events.next_page_token());
  ASSERT_TRUE(identity_->ListAuthEvents(Context(Token("admin")).get(), request, &events).ok());
  ASSERT_EQ(events.events_size(), 1);
  EXPECT_EQ(events.events(0).kind(), "LOGIN");
  // Another job centre's admin sees none of it.
  v1::ListAuthEventsRequest all;
  ASSERT_TRUE(
      identity_
          ->ListAuthEvents(
              Context(Token("admin2", absl::Minutes(5), kTokenAudience, kTokenIssuer, "JC2")).get(),
              all, &events)
          .ok());
  for (const auto& e : events.events()) EXPECT_NE(e.staff(), "cw1");
}

TEST_F(IdentityTest, PlainTextConnectionsAreRefused) {
  auto plain = v1::CaseService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  t::AddBearer(&context, Token("admin"));
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::StaffMember me;
  const grpc::Status status = plain->WhoAmI(&context, v1::WhoAmIRequest(), &me);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

// Pure pieces.
TEST(AccessTokens, ARememberedTokenIsStillRefusedOnceExpiredAndAForgedOneIsNeverTaken) {
  const Ed25519Seed seed = NewSigningKey();
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  AccessTokenVerifier verifier(PublicKeyOf(seed), kTokenIssuer, kTokenAudience,
                               [&now] { return now; });
  AccessClaims claims{kTokenIssuer, kTokenAudience,         "cw1",  "JC1", 7,
                      now,          now + absl::Minutes(5), "jti-1"};
  const std::string token = AccessTokenSigner(seed).Sign(claims);
  ASSERT_TRUE(verifier.Verify(token).ok());
  auto again = verifier.Verify(token);  // remembered
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->staff, "cw1");
  EXPECT_EQ(again->session_id, 7);
  // The same claims signed by another key, and the remembered token with its signature altered.
  const std::string forged = AccessTokenSigner(NewSigningKey()).Sign(claims);
  EXPECT_EQ(verifier.Verify(forged).status().code(), absl::StatusCode::kUnauthenticated);
  std::string altered = token;  // inside the signature (the last character is partly padding)
  char& c = altered[altered.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_EQ(verifier.Verify(altered).status().code(), absl::StatusCode::kUnauthenticated);
  now += absl::Minutes(5);  // expiry: refused although remembered
  const absl::Status expired = verifier.Verify(token).status();
  EXPECT_EQ(expired.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(expired.message().find("expired"), absl::string_view::npos) << expired;
  // Many tokens: the memory stays bounded and every one still verifies.
  for (size_t i = 0; i < AccessTokenVerifier::kRememberedTokens + 10; ++i) {
    claims.issued_at = now;
    claims.expires_at = now + absl::Minutes(5);
    claims.token_id = absl::StrCat("jti-", i);
    ASSERT_TRUE(verifier.Verify(AccessTokenSigner(seed).Sign(claims)).ok()) << i;
  }
}

TEST(AccessTokens, KeysFromTheOpensslFilesRoundTripAndSignaturesVerify) {
  auto seed = ReadSigningKeyFile(t::Pki().token_signing_key);
  ASSERT_TRUE(seed.ok()) << seed.status();
  auto key = ReadPublicKeyFile(t::Pki().token_public_key);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(PublicKeyOf(*seed), *key);
  EXPECT_EQ(*ParseSigningKeyPem(SigningKeyPem(*seed)), *seed);
  EXPECT_EQ(*ParsePublicKeyPem(PublicKeyPem(*key)), *key);
  EXPECT_FALSE(ParsePublicKeyPem(SigningKeyPem(*seed)).ok());
  EXPECT_FALSE(ReadSigningKeyFile(t::Pki().server_key).ok());  // an EC key is not an Ed25519 key
}

TEST(Passwords, PolicyAndHashes) {
  EXPECT_EQ(CheckPasswordPolicy("eleven char", "kim", "password").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckPasswordPolicy("twelve chars", "kim", "password").ok());
  EXPECT_TRUE(
      CheckPasswordPolicy("æøåæøåæøåæøå", "kim", "password").ok());  // characters, not bytes
  EXPECT_EQ(CheckPasswordPolicy("longstaffcode1", "longstaffcode1", "password").code(),
            absl::StatusCode::kInvalidArgument);
  auto hash = HashPassword(kPassword);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword(kPassword, *hash));
  EXPECT_FALSE(VerifyPassword("correct horse batterY", *hash));
  EXPECT_FALSE(VerifyPassword(kPassword, "not a hash"));
  EXPECT_NE(*HashPassword(kPassword), *hash);  // salted
  // The production cost is OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
  EXPECT_NE(hash->find("$m=19456,t=2,p=1$"), std::string::npos) << *hash;
  EXPECT_FALSE(NeedsRehash(*hash, PasswordCost{}));
  EXPECT_TRUE(NeedsRehash(*hash, PasswordCost{2, size_t{64} << 20}));
  EXPECT_TRUE(NeedsRehash("not a hash", PasswordCost{}));
}

TEST_F(IdentityTest, ALoginStoresAPasswordHashedAtAnotherCostAgainAtTodaysCost) {
  auto stored = [this] {
    pqxx::connection conn(db_->conninfo());
    pqxx::nontransaction tx(conn);
    return tx
        .exec1(
            "SELECT c.password_hash FROM credential c JOIN staff s ON s.id = c.staff_id "
            "WHERE s.code = 'cw1'")[0]
        .as<std::string>();
  };
  const std::string before = stored();  // at the fixture's cheap cost
  EXPECT_NE(before.find("$m=64,t=1,"), std::string::npos) << before;
  IdentityOptions changed = options_;  // the operator changed the cost
  changed.password_cost = {2, size_t{1} << 20};
  IdentityKeeper keeper(*pool_, clock_, t::Signer(), changed);
  v1::LoginRequest request;
  request.set_job_centre("JC1");
  request.set_staff("cw1");
  request.set_password("not the password");
  EXPECT_EQ(keeper.Login(request, "10.0.0.1").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(stored(), before);  // a failed login changes nothing
  request.set_password(kPassword);
  ASSERT_TRUE(keeper.Login(request, "10.0.0.1").ok());
  const std::string after = stored();
  EXPECT_NE(after.find("$m=1024,t=2,"), std::string::npos) << after;
  EXPECT_TRUE(VerifyPassword(kPassword, after));
  ASSERT_TRUE(keeper.Login(request, "10.0.0.1").ok());  // the new hash works
  EXPECT_EQ(stored(), after);                           // and is kept
  EXPECT_EQ(Count("SELECT count(*) FROM auth_event e JOIN staff s ON s.id = e.staff_id "
                  "WHERE e.kind = 'PASSWORD_CHANGED' AND s.code = 'cw1'"),
            1);  // not a password change: only the fixture's
}

TEST(Throttle, DelaysDoubleThenLockAndAreForgottenLater) {
  ThrottlePolicy policy;
  policy.free_failures = 2;
  policy.base_delay = absl::Seconds(1);
  policy.max_delay = absl::Seconds(3);
  policy.lockout_after = 5;
  policy.lockout = absl::Minutes(10);
  policy.window = absl::Minutes(10);
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  ThrottleState state;
  bool locked = false;
  std::vector<absl::Duration> waits;
  for (int i = 0; i < 5; ++i) {
    state = AfterFailure(state, policy, t0, &locked);
    waits.push_back(WaitBeforeAttempt(state, t0));
  }
  EXPECT_EQ(waits,
            (std::vector<absl::Duration>{absl::ZeroDuration(), absl::ZeroDuration(),
                                         absl::Seconds(1), absl::Seconds(2), absl::Minutes(10)}));
  EXPECT_TRUE(locked);
  EXPECT_EQ(WaitBeforeAttempt(state, t0 + absl::Minutes(10)), absl::ZeroDuration());
  state = AfterFailure(state, policy, t0 + absl::Minutes(10),
                       &locked);  // a fresh count after a lockout
  EXPECT_EQ(state.failures, 1);
  EXPECT_FALSE(state.locked);
  state =
      AfterFailure(state, policy, t0 + absl::Hours(1), &locked);  // stale failures are forgotten
  EXPECT_EQ(state.failures, 1);
}

}  // namespace
}  // namespace forecast::identity
