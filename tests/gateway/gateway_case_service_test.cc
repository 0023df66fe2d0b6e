// The gateway in front of the real case and identity services (CaseServiceImpl and
// IdentityServiceImpl over PostgreSQL, TLS, on port 0): password login, sessions that live in
// PostgreSQL (a restarted gateway and a second gateway serve them), writes and their validation
// and version errors as HTTP+JSON.
#include <httplib.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <pqxx/pqxx>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/case/case_keeper.h"
#include "services/case/case_service_impl.h"
#include "services/case/org_admin.h"
#include "services/case/pg_case_store.h"
#include "services/common/calendar.h"
#include "services/common/caller.h"
#include "services/common/pg_pool.h"
#include "services/common/server.h"
#include "services/gateway/authenticator.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/rpc_transcoder.h"
#include "services/gateway/session_store.h"
#include "services/identity/identity_keeper.h"
#include "services/identity/identity_service_impl.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast::gateway {
namespace {

using nlohmann::json;

class GatewayWithCaseServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    pool_ = std::make_unique<PgPool>(db_->conninfo(), 4);
    OrgAdmin admin(*pool_);
    ASSERT_TRUE(admin.CreateJobCentre("JC", "Jobcenter Test", "adm", "Admin").ok());
    ASSERT_TRUE(admin.AddUnit("JC", "T1", "Team One", "TEAM", "").ok());
    ASSERT_TRUE(admin.AddUnit("JC", "T2", "Team Two", "TEAM", "").ok());
    ASSERT_TRUE(admin.AddStaff("JC", "cw1", "Caseworker One", "CASEWORKER", "T1", true).ok());
    ASSERT_TRUE(admin.AddStaff("JC", "cw2", "Caseworker Two", "CASEWORKER", "T2", true).ok());
    ASSERT_TRUE(admin.AddStaff("JC", "gone", "Former", "CASEWORKER", "T1", false).ok());

    store_ = std::make_unique<PgCaseStore>(*pool_);
    directory_ = std::make_unique<PgStaffDirectory>(*pool_);
    keeper_ = std::make_unique<CaseKeeper>(*store_, clock_);
    reads_ = std::make_unique<audit::PgCaseReadLog>(*pool_);
    authenticator_check_ =
        std::make_unique<forecast::Authenticator>(forecast::testing::Verifier(), *directory_);
    org_ = std::make_unique<OrgAdmin>(*pool_);
    service_ = std::make_unique<CaseServiceImpl>(*keeper_, *org_, *authenticator_check_, *reads_);
    identity::IdentityOptions options;
    options.password_cost = {1,
                             size_t{64} << 10};  // cheap hashes: this tests the gateway, not Argon2
    identity_keeper_ = std::make_unique<identity::IdentityKeeper>(
        *pool_, wall_, forecast::testing::Signer(), options);
    for (const char* staff : {"cw1", "cw2", "gone"}) {
      ASSERT_TRUE(identity_keeper_->SetPassword("JC", staff, "demo password 1").ok());
    }
    identity_service_ =
        std::make_unique<identity::IdentityServiceImpl>(*identity_keeper_, *authenticator_check_);
    auto server = StartGrpcServer({service_.get(), identity_service_.get()}, "127.0.0.1", 0,
                                  forecast::testing::ServerCredentials());
    ASSERT_TRUE(server.ok()) << server.status();
    backend_ = std::move(*server);

    auto channel = forecast::testing::TlsChannel(backend_.port, /*as_gateway=*/true);
    transcoder_ = std::make_unique<RpcTranscoder>(
        std::map<std::string, std::shared_ptr<grpc::Channel>>{{"CaseService", channel},
                                                              {"IdentityService", channel}},
        absl::Seconds(10));
    authenticator_ = std::make_unique<IdentityAuthenticator>(*transcoder_, absl::Seconds(30),
                                                             [] { return absl::Now(); });
    gateway_ = std::make_unique<GatewayServer>(GatewayOptions{}, *transcoder_, *authenticator_);
    auto port = gateway_->Start();
    ASSERT_TRUE(port.ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
    client_->set_read_timeout(60, 0);  // a busy machine may be slow to hash
    client_->set_default_headers({{"Origin", "http://127.0.0.1:" + std::to_string(*port)}});
  }

  void TearDown() override {
    gateway_.reset();
    if (backend_.server) backend_.server->Shutdown();
  }

  httplib::Result LoginAs(const std::string& staff) {
    json body = {{"job_centre", "JC"}, {"staff_code", staff}, {"password", "demo password 1"}};
    return client_->Post("/api/login", body.dump(), "application/json");
  }

  std::string CookieOf(const httplib::Result& login) {
    const std::string set_cookie = login->get_header_value("Set-Cookie");
    return set_cookie.substr(0, set_cookie.find(';'));
  }

  httplib::Result Post(const std::string& cookie, const std::string& method, const json& body) {
    return client_->Post(("/api/CaseService/" + method).c_str(), {{"Cookie", cookie}}, body.dump(),
                         "application/json");
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  FixedClock clock_{absl::CivilDay(2026, 11, 2)};
  std::unique_ptr<PgCaseStore> store_;
  std::unique_ptr<PgStaffDirectory> directory_;
  std::unique_ptr<forecast::Authenticator> authenticator_check_;
  SystemClock wall_;
  std::unique_ptr<identity::IdentityKeeper> identity_keeper_;
  std::unique_ptr<identity::IdentityServiceImpl> identity_service_;
  std::unique_ptr<CaseKeeper> keeper_;
  std::unique_ptr<audit::PgCaseReadLog> reads_;
  std::unique_ptr<OrgAdmin> org_;
  std::unique_ptr<CaseServiceImpl> service_;
  RunningServer backend_;
  std::unique_ptr<RpcTranscoder> transcoder_;
  SessionStore sessions_{absl::Hours(1), [] { return absl::UnixEpoch(); }};
  std::unique_ptr<IdentityAuthenticator> authenticator_;
  std::unique_ptr<GatewayServer> gateway_;
  std::unique_ptr<httplib::Client> client_;
  absl::Duration skew_;  // added to the clock of the gateway restarted in a test
};

TEST_F(GatewayWithCaseServiceTest, LoginIsCheckedByTheCaseService) {
  auto ok = LoginAs("cw1");
  ASSERT_EQ(ok->status, 200) << ok->body;
  const json me = json::parse(ok->body);
  EXPECT_EQ(me["code"], "cw1");
  EXPECT_EQ(me["role"], "CASEWORKER");
  EXPECT_EQ(me["team"], "T1");
  EXPECT_EQ(LoginAs("nobody")->status, 401);
  EXPECT_EQ(LoginAs("gone")->status, 401);  // inactive staff cannot log in
}

TEST_F(GatewayWithCaseServiceTest, WritesValidationAndVersionsOverHttp) {
  const std::string cookie = CookieOf(LoginAs("cw1"));
  auto created = Post(cookie, "CreateCase",
                      {{"case_ref", "S-1"}, {"case_type", "SDP"}, {"opened_on", "2026-09-01"}});
  ASSERT_EQ(created->status, 200) << created->body;
  const json c = json::parse(created->body);
  EXPECT_EQ(c["caseworker"], "cw1");  // defaults to the caller: the session's identity was used
  EXPECT_EQ(c["status"], "OPEN");
  const std::string version = c["version"];

  auto too_far = Post(cookie, "RecordExpectation",
                      {{"case_ref", "S-1"},
                       {"base_version", version},
                       {"expected_outcome", "ORDINARY_JOB"},
                       {"expected_month", "2099-01"},
                       {"risk", "LOW"}});
  EXPECT_EQ(too_far->status, 400);
  const json problem = json::parse(too_far->body);
  EXPECT_EQ(problem["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(problem["message"].get<std::string>().rfind("expected_month: ", 0), 0u)
      << problem["message"];
  // The service's details pass through for clients to phrase: field, reason and parameters.
  EXPECT_EQ(problem["field"], "expected_month");
  EXPECT_EQ(problem["reason"], "MONTH_TOO_FAR");
  EXPECT_EQ(problem["params"]["month"], "2099-01");
  EXPECT_EQ(problem["params"]["months"], "60");

  auto recorded = Post(cookie, "RecordExpectation",
                       {{"case_ref", "S-1"},
                        {"base_version", version},
                        {"expected_outcome", "ORDINARY_JOB"},
                        {"expected_month", "2027-02"},
                        {"risk", "LOW"}});
  ASSERT_EQ(recorded->status, 200) << recorded->body;
  EXPECT_EQ(json::parse(recorded->body)["expectation"]["expected_month"], "2027-02");

  auto stale = Post(cookie, "RecordExpectation",
                    {{"case_ref", "S-1"},
                     {"base_version", version},
                     {"expected_outcome", "EDUCATION"},
                     {"expected_month", "2027-03"},
                     {"risk", "LOW"}});
  EXPECT_EQ(stale->status, 409);
  EXPECT_EQ(json::parse(stale->body)["code"], "ABORTED");

  auto fetched = Post(cookie, "GetCase", {{"case_ref", "S-1"}});
  ASSERT_EQ(fetched->status, 200);
  EXPECT_EQ(json::parse(fetched->body)["expectation"]["expected_outcome"], "ORDINARY_JOB");

  // Another team's caseworker may not write to it.
  const std::string other = CookieOf(LoginAs("cw2"));
  auto denied = Post(other, "AddAction",
                     {{"case_ref", "S-1"},
                      {"base_version", json::parse(fetched->body)["version"]},
                      {"description", "call"},
                      {"due_on", "2026-12-01"}});
  EXPECT_EQ(denied->status, 403) << denied->body;
  EXPECT_EQ(Post(other, "GetCase", {{"case_ref", "NOPE"}})->status, 404);
}

// Sessions live in the identity service's PostgreSQL tables, not in a gateway: a second gateway
// (its own channel, transcoder and token cache, as another process would have) serves the same
// cookie, a restarted gateway still knows it, and logout on one ends it on all.
// Output and exit status of a shell command (curl: this build's HTTP client speaks no TLS).
std::pair<std::string, int> Shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {"", -1};
  std::array<char, 4096> buffer;
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  return {out, pclose(pipe)};
}

// Issue 8: a gateway given a certificate serves HTTPS only, and its session cookie is Secure
// (with HttpOnly and SameSite=Strict); the login needs the https Origin.
TEST_F(GatewayWithCaseServiceTest, OverTlsTheCookieIsSecureAndPlainHttpIsRefused) {
  if (Shell("command -v curl >/dev/null").second != 0) GTEST_SKIP() << "no curl";
  GatewayOptions options;
  options.http.tls_cert_file = forecast::testing::Pki().server_cert;
  options.http.tls_key_file = forecast::testing::Pki().server_key;
  GatewayServer tls_gateway(options, *transcoder_, *authenticator_);
  auto port = tls_gateway.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string base = "https://127.0.0.1:" + std::to_string(*port);
  const std::string login = absl::StrCat(
      "curl -s -D - -o /dev/null --max-time 60 --cacert '", forecast::testing::Pki().ca,
      "' -H 'Content-Type: application/json' -d "
      "'{\"job_centre\":\"JC\",\"staff_code\":\"cw1\",\"password\":\"demo password 1\"}' ");
  const auto [headers, status] =
      Shell(absl::StrCat(login, "-H 'Origin: ", base, "' ", base, "/api/login"));
  ASSERT_EQ(status, 0) << headers;
  EXPECT_NE(headers.find(" 200"), std::string::npos) << headers;
  std::string cookie;
  for (absl::string_view line : absl::StrSplit(headers, "\r\n")) {
    if (absl::StartsWithIgnoreCase(line, "set-cookie:")) cookie = std::string(line);
  }
  EXPECT_NE(cookie.find("forecast_session="), std::string::npos) << headers;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  // The plain-http Origin of the same address is another origin: 403.
  const auto [foreign, foreign_status] =
      Shell(absl::StrCat(login, "-H 'Origin: http://127.0.0.1:", *port, "' ", base, "/api/login"));
  EXPECT_NE(foreign.find(" 403"), std::string::npos) << foreign;
  // Plain HTTP to the TLS port gets no answer.
  httplib::Client plain("127.0.0.1", *port);
  plain.set_read_timeout(5, 0);
  auto refused = plain.Get("/api/session");
  EXPECT_TRUE(!refused || refused->status == 400) << (refused ? refused->body : "");
  tls_gateway.Stop();
}

TEST_F(GatewayWithCaseServiceTest, SessionsSurviveARestartAndAreSharedByTwoGateways) {
  auto login = LoginAs("cw1");
  ASSERT_EQ(login->status, 200) << login->body;
  const std::string cookie = CookieOf(login);
  const std::string token = cookie.substr(cookie.find('=') + 1);
  ASSERT_FALSE(token.empty());
  {
    // Only a hash of the token is stored.
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok());
    pqxx::work tx(**lease);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM session WHERE ended_at IS NULL")[0].as<int>(), 1);
    EXPECT_EQ(
        tx.exec1("SELECT count(*) FROM session WHERE token_hash = " + tx.quote(token))[0].as<int>(),
        0);
  }

  // A second gateway process: its own TLS channel to the services and an empty token cache.
  auto channel_b = forecast::testing::TlsChannel(backend_.port, /*as_gateway=*/true);
  RpcTranscoder transcoder_b(
      std::map<std::string, std::shared_ptr<grpc::Channel>>{{"CaseService", channel_b},
                                                            {"IdentityService", channel_b}},
      absl::Seconds(10));
  IdentityAuthenticator authenticator_b(transcoder_b, absl::Seconds(30),
                                        [] { return absl::Now(); });
  GatewayServer gateway_b(GatewayOptions{}, transcoder_b, authenticator_b);
  const int port_b = *gateway_b.Start();
  httplib::Client b("127.0.0.1", port_b);
  b.set_read_timeout(60, 0);
  b.set_default_headers({{"Origin", "http://127.0.0.1:" + std::to_string(port_b)}});
  auto session_b = b.Get("/api/session", {{"Cookie", cookie}});
  ASSERT_EQ(session_b->status, 200) << session_b->body;
  EXPECT_EQ(json::parse(session_b->body)["code"], "cw1");
  auto created =
      b.Post("/api/CaseService/CreateCase", {{"Cookie", cookie}},
             json({{"case_ref", "S-B"}, {"case_type", "SDP"}, {"opened_on", "2026-09-01"}}).dump(),
             "application/json");
  ASSERT_EQ(created->status, 200) << created->body;
  EXPECT_EQ(json::parse(created->body)["caseworker"], "cw1");

  // The first gateway restarts: a new process knows nothing, the session is still there.
  gateway_.reset();
  // (Its clock can be moved on, to show how long a logout elsewhere takes to reach it.)
  authenticator_ = std::make_unique<IdentityAuthenticator>(
      *transcoder_, absl::Seconds(30), [this] { return absl::Now() + skew_; }, absl::Seconds(15));
  gateway_ = std::make_unique<GatewayServer>(GatewayOptions{}, *transcoder_, *authenticator_);
  auto restarted = gateway_->Start();
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  EXPECT_EQ(authenticator_->cached_sessions(), 0u);
  client_ = std::make_unique<httplib::Client>("127.0.0.1", *restarted);
  client_->set_read_timeout(60, 0);
  client_->set_default_headers({{"Origin", "http://127.0.0.1:" + std::to_string(*restarted)}});
  auto listed = Post(cookie, "ListCases", json::object());
  ASSERT_EQ(listed->status, 200) << listed->body;
  EXPECT_NE(listed->body.find("S-B"), std::string::npos) << listed->body;

  // Logout on the second gateway ends the session there at once, and on the restarted one as soon
  // as it checks the session again (at the latest 15 s after it last did).
  EXPECT_EQ(b.Post("/api/logout", {{"Cookie", cookie}}, "{}", "application/json")->status, 200);
  EXPECT_EQ(b.Get("/api/session", {{"Cookie", cookie}})->status, 401);
  skew_ += absl::Seconds(16);
  EXPECT_EQ(client_->Get("/api/session", {{"Cookie", cookie}})->status, 401);

  // "Log out everywhere" on one gateway ends every session of the person, on both.
  const std::string first = CookieOf(LoginAs("cw1"));
  const std::string second = CookieOf(LoginAs("cw1"));
  ASSERT_EQ(b.Get("/api/session", {{"Cookie", first}})->status, 200);
  ASSERT_EQ(b.Get("/api/session", {{"Cookie", second}})->status, 200);
  EXPECT_EQ(client_->Post("/api/logout-everywhere", {{"Cookie", first}}, "{}", "application/json")
                ->status,
            200);
  EXPECT_EQ(client_->Get("/api/session", {{"Cookie", second}})->status, 401);
  // Gateway B confirmed both sessions just now; a new gateway process refuses them at once.
  RpcTranscoder transcoder_c(
      std::map<std::string, std::shared_ptr<grpc::Channel>>{{"CaseService", channel_b},
                                                            {"IdentityService", channel_b}},
      absl::Seconds(10));
  IdentityAuthenticator authenticator_c(transcoder_c, absl::Seconds(30),
                                        [] { return absl::Now(); });
  GatewayServer gateway_c(GatewayOptions{}, transcoder_c, authenticator_c);
  const int port_c = *gateway_c.Start();
  httplib::Client c("127.0.0.1", port_c);
  c.set_read_timeout(60, 0);
  EXPECT_EQ(c.Get("/api/session", {{"Cookie", first}})->status, 401);
  EXPECT_EQ(c.Get("/api/session", {{"Cookie", second}})->status, 401);
  gateway_c.Stop();
  gateway_b.Stop();
}

}  // namespace
}  // namespace forecast::gateway
