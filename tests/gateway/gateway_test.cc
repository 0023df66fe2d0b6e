// The gateway in front of real gRPC servers (bound to port 0). The backends here are small
// implementations of the generated services that answer exactly what each test needs, so that
// the transcoding itself (JSON mapping, metadata, error codes, event streams) is what is tested.
#include <httplib.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forecast/v1/case_service.grpc.pb.h"
#include "forecast/v1/forecast_service.grpc.pb.h"
#include "forecast/v1/identity_service.grpc.pb.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "services/gateway/authenticator.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/http_status.h"
#include "services/gateway/request_checks.h"
#include "services/gateway/rpc_transcoder.h"
#include "services/gateway/session_store.h"
#include "tests/gateway/stand_in_authenticator.h"

namespace forecast::gateway {
namespace {

using nlohmann::json;
namespace v1 = ::forecast::v1;

std::string Metadata(const grpc::ServerContext* context, const std::string& key) {
  auto it = context->client_metadata().find(key);
  return it == context->client_metadata().end() ? ""
                                                : std::string(it->second.data(), it->second.size());
}

// Knows one job centre "JC" with caseworker "cw1"; records the last request it saw.
class TestCaseService final : public v1::CaseService::Service {
 public:
  grpc::Status WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest*,
                      v1::StaffMember* reply) override {
    if (Metadata(context, "x-job-centre") != "JC" || Metadata(context, "x-staff") != "cw1") {
      return {grpc::StatusCode::UNAUTHENTICATED, "unknown staff member"};
    }
    reply->set_code("cw1");
    reply->set_display_name("Caseworker One");
    reply->set_role(v1::CASEWORKER);
    reply->set_team("T1");
    reply->set_job_centre("JC");
    reply->set_active(true);
    return grpc::Status::OK;
  }

  grpc::Status ListCases(grpc::ServerContext* context, const v1::ListCasesRequest* request,
                         v1::ListCasesResponse* reply) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_list_ = *request;
      last_staff_ = Metadata(context, "x-staff");
      last_centre_ = Metadata(context, "x-job-centre");
      last_authorization_ = Metadata(context, "authorization");
    }
    v1::Case* c = reply->add_cases();
    c->set_case_ref("C-1");
    c->set_case_type("SDP");
    c->set_status(v1::OPEN);
    c->set_version(7);
    c->mutable_expectation()->set_expected_outcome("ORDINARY_JOB");
    c->mutable_expectation()->set_expected_month("2027-03");
    (*c->mutable_fields())["has_cv"].set_bool_value(true);
    return grpc::Status::OK;
  }

  grpc::Status RecordExpectation(grpc::ServerContext*, const v1::RecordExpectationRequest* request,
                                 v1::Case* reply) override {
    if (request->base_version() != 7) {
      return {grpc::StatusCode::ABORTED, "case_ref C-1: changed since version 7"};
    }
    if (request->expected_month().size() != 7) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "expected_month: must be YYYY-MM"};
    }
    reply->set_case_ref(request->case_ref());
    reply->set_version(8);
    return grpc::Status::OK;
  }

  grpc::Status GetCase(grpc::ServerContext*, const v1::GetCaseRequest* request,
                       v1::Case*) override {
    if (request->case_ref() == "SECRET") {
      return {grpc::StatusCode::PERMISSION_DENIED, "case_ref SECRET: not in your caseload"};
    }
    return {grpc::StatusCode::NOT_FOUND, "case_ref " + request->case_ref() + ": no such case"};
  }

  v1::ListCasesRequest last_list() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_list_;
  }
  std::pair<std::string, std::string> last_caller() {
    std::lock_guard<std::mutex> lock(mu_);
    return {last_centre_, last_staff_};
  }
  std::string last_authorization() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_authorization_;
  }

 private:
  std::mutex mu_;
  v1::ListCasesRequest last_list_;
  std::string last_staff_;
  std::string last_centre_;
  std::string last_authorization_;
};

// Pushes two dashboards, then holds the stream open until the caller goes away.
class TestForecastService final : public v1::ForecastService::Service {
 public:
  grpc::Status WatchTeamDashboard(grpc::ServerContext* context,
                                  const v1::TeamDashboardRequest* request,
                                  grpc::ServerWriter<v1::TeamDashboard>* writer) override {
    if (request->team() != "T1") return {grpc::StatusCode::NOT_FOUND, "team: no such team"};
    ++watch_calls_;
    for (int revision = 1; revision <= 2; ++revision) {
      v1::TeamDashboard dashboard;
      dashboard.set_team(request->team());
      dashboard.set_team_name("Team \"one\"\nline two");  // quotes and a newline must survive
      dashboard.set_revision(revision);
      writer->Write(dashboard);
    }
    int pushed = 2;
    while (!context->IsCancelled()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (push_.load() > pushed - 2) {  // Push() asks for one more revision
        ++pushed;
        v1::TeamDashboard dashboard;
        dashboard.set_team(request->team());
        dashboard.set_revision(pushed);
        writer->Write(dashboard);
      }
    }
    cancelled_ = true;
    --watch_calls_;
    return grpc::Status::CANCELLED;
  }
  grpc::Status GetTeamDashboard(grpc::ServerContext*, const v1::TeamDashboardRequest* request,
                                v1::TeamDashboard* reply) override {
    if (request->team() != "T1") return {grpc::StatusCode::NOT_FOUND, "team: no such team"};
    reply->set_team(request->team());
    return grpc::Status::OK;
  }
  void Push() { ++push_; }
  std::atomic<bool> cancelled_{false};
  std::atomic<int> watch_calls_{0};
  std::atomic<int> push_{0};
};

// Sessions as the identity service keeps them (in PostgreSQL there; in memory here): a session
// token maps to the staff member; every Login or RefreshSession answers a fresh access token.
// Password "throttled" gets RESOURCE_EXHAUSTED with a RetryInfo of 42 s.
class TestIdentityService final : public v1::IdentityService::Service {
 public:
  grpc::Status Login(grpc::ServerContext*, const v1::LoginRequest* request,
                     v1::LoginResponse* reply) override {
    if (request->password() == "throttled") {
      // google.rpc.Status{code: 8, details: [Any{RetryInfo{retry_delay: {seconds: 42}}}]}
      const std::string url = "type.googleapis.com/google.rpc.RetryInfo";
      std::string any = "\x0a" + std::string(1, static_cast<char>(url.size())) + url +
                        std::string("\x12\x04\x0a\x02\x08\x2a", 6);
      std::string details =
          std::string("\x08\x08\x1a", 3) + std::string(1, static_cast<char>(any.size())) + any;
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many attempts", details);
    }
    if (request->job_centre() != "JC" || request->staff() != "cw1" ||
        request->password() != "a good password") {
      return {grpc::StatusCode::UNAUTHENTICATED,
              "unknown job centre or staff code, or wrong password"};
    }
    std::lock_guard<std::mutex> lock(mu_);
    const std::string token = "session-" + std::to_string(++next_) + "-0123456789abcdef";
    sessions_[token] = "cw1";
    last_client_address_ = request->client_address();
    return Answer(token, true, reply);
  }
  grpc::Status RefreshSession(grpc::ServerContext*, const v1::RefreshSessionRequest* request,
                              v1::LoginResponse* reply) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++refreshes_;
    if (!sessions_.count(request->session_token())) {
      return {grpc::StatusCode::UNAUTHENTICATED, "the session has ended"};
    }
    return Answer(request->session_token(), false, reply);
  }
  grpc::Status Logout(grpc::ServerContext*, const v1::LogoutRequest* request,
                      v1::LogoutResponse* reply) override {
    std::lock_guard<std::mutex> lock(mu_);
    reply->set_sessions_ended(static_cast<int32_t>(sessions_.erase(request->session_token())));
    return grpc::Status::OK;
  }
  int refreshes() {
    std::lock_guard<std::mutex> lock(mu_);
    return refreshes_;
  }
  std::string last_client_address() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_client_address_;
  }

 private:
  grpc::Status Answer(const std::string& token, bool with_token, v1::LoginResponse* reply) {
    reply->set_access_token("access-" + std::to_string(++next_));
    reply->set_access_expires_at(
        absl::FormatTime(absl::RFC3339_full, absl::Now() + absl::Minutes(5), absl::UTCTimeZone()));
    if (with_token) reply->set_session_token(token);
    reply->mutable_staff()->set_code("cw1");
    reply->mutable_staff()->set_job_centre("JC");
    reply->mutable_staff()->set_role(v1::CASEWORKER);
    reply->mutable_staff()->set_team("T1");
    return grpc::Status::OK;
  }
  std::mutex mu_;
  std::map<std::string, std::string> sessions_;
  int next_ = 0;
  int refreshes_ = 0;
  std::string last_client_address_;
};

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);  // as the gateway binary does; clients here hang up early
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&case_service_);
    builder.RegisterService(&forecast_service_);
    builder.RegisterService(&identity_service_);
    backend_ = builder.BuildAndStart();
    ASSERT_NE(backend_, nullptr);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       grpc::InsecureChannelCredentials());
    transcoder_ = std::make_unique<RpcTranscoder>(
        std::map<std::string, std::shared_ptr<grpc::Channel>>{
            {"CaseService", channel}, {"ForecastService", channel}, {"IdentityService", channel}},
        absl::Seconds(10));
    authenticator_ = std::make_unique<StandInAuthenticator>(*transcoder_, sessions_, "demo");

    web_dir_ =
        std::filesystem::temp_directory_path() / ("gateway_test_web_" + std::to_string(::getpid()));
    std::filesystem::create_directories(web_dir_ / "assets");
    std::ofstream(web_dir_ / "index.html") << "<!doctype html><title>app</title>";
    std::ofstream(web_dir_ / "assets" / "app-123.js") << "console.log(1)";

    StartGateway([](GatewayOptions&) {});
  }

  void StartGateway(const std::function<void(GatewayOptions&)>& adjust) {
    gateway_.reset();
    GatewayOptions options;
    options.api.web_dir = web_dir_.string();
    options.http.stream_heartbeat = absl::Milliseconds(50);
    options.shutdown_grace = absl::Seconds(3);
    adjust(options);
    gateway_ = std::make_unique<GatewayServer>(options, *transcoder_, *authenticator_);
    absl::StatusOr<int> gateway_port = gateway_->Start();
    ASSERT_TRUE(gateway_port.ok()) << gateway_port.status();
    gateway_port_ = *gateway_port;
    client_ = NewClient();
  }

  // A client that sends the gateway's own origin, as a browser on the page would.
  std::unique_ptr<httplib::Client> NewClient() {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", gateway_port_);
    client->set_default_headers({{"Origin", Origin()}});
    return client;
  }
  std::string Origin() const { return "http://127.0.0.1:" + std::to_string(gateway_port_); }

  void TearDown() override {
    client_.reset();
    gateway_.reset();
    backend_->Shutdown();
    std::filesystem::remove_all(web_dir_);
  }

  // Logs in as cw1 and returns the Cookie header value.
  std::string Login() {
    auto result =
        client_->Post("/api/login", R"({"job_centre":"JC","staff_code":"cw1","password":"demo"})",
                      "application/json");
    EXPECT_TRUE(result);
    EXPECT_EQ(result->status, 200) << result->body;
    const std::string set_cookie = result->get_header_value("Set-Cookie");
    return set_cookie.substr(0, set_cookie.find(';'));
  }

  httplib::Result PostApi(const std::string& path, const std::string& body,
                          const std::string& cookie) {
    return client_->Post(path.c_str(), {{"Cookie", cookie}}, body, "application/json");
  }

  TestCaseService case_service_;
  TestForecastService forecast_service_;
  TestIdentityService identity_service_;
  std::unique_ptr<grpc::Server> backend_;
  std::unique_ptr<RpcTranscoder> transcoder_;
  SessionStore sessions_{absl::Hours(1), [] { return absl::UnixEpoch(); }};
  std::unique_ptr<StandInAuthenticator> authenticator_;
  std::filesystem::path web_dir_;
  std::unique_ptr<GatewayServer> gateway_;
  int gateway_port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(GatewayTest, ApiRequiresASession) {
  auto result = client_->Post("/api/CaseService/ListCases", "{}", "application/json");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 401);
  EXPECT_EQ(json::parse(result->body)["code"], "UNAUTHENTICATED");

  auto forged = PostApi("/api/CaseService/ListCases", "{}", "forecast_session=deadbeef");
  EXPECT_EQ(forged->status, 401);
  auto session = client_->Get("/api/session");
  EXPECT_EQ(session->status, 401);
}

TEST_F(GatewayTest, LoginChecksPasswordAndIdentityWithTheSameAnswer) {
  auto wrong_password =
      client_->Post("/api/login", R"({"job_centre":"JC","staff_code":"cw1","password":"nope"})",
                    "application/json");
  auto unknown_staff =
      client_->Post("/api/login", R"({"job_centre":"JC","staff_code":"who","password":"demo"})",
                    "application/json");
  EXPECT_EQ(wrong_password->status, 401);
  EXPECT_EQ(unknown_staff->status, 401);
  EXPECT_EQ(json::parse(wrong_password->body)["message"],
            json::parse(unknown_staff->body)["message"]);
  EXPECT_TRUE(wrong_password->get_header_value("Set-Cookie").empty());

  auto missing =
      client_->Post("/api/login", R"({"job_centre":"JC","password":"demo"})", "application/json");
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(json::parse(missing->body)["message"], "staff_code: required");

  auto ok =
      client_->Post("/api/login", R"({"job_centre":"JC","staff_code":"cw1","password":"demo"})",
                    "application/json");
  ASSERT_EQ(ok->status, 200);
  const std::string set_cookie = ok->get_header_value("Set-Cookie");
  EXPECT_NE(set_cookie.find("forecast_session="), std::string::npos);
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(json::parse(ok->body)["role"], "CASEWORKER");
  EXPECT_EQ(sessions_.Size(), 1u);

  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  auto session = client_->Get("/api/session", {{"Cookie", cookie}});
  ASSERT_EQ(session->status, 200);
  EXPECT_EQ(json::parse(session->body)["code"], "cw1");

  auto logout = client_->Post("/api/logout", {{"Cookie", cookie}}, "", "application/json");
  EXPECT_EQ(logout->status, 200);
  EXPECT_EQ(client_->Get("/api/session", {{"Cookie", cookie}})->status, 401);
  EXPECT_EQ(sessions_.Size(), 0u);
}

TEST_F(GatewayTest, TranscodesJsonBothWaysWithTheCallerInMetadata) {
  const std::string cookie = Login();
  auto result = PostApi("/api/CaseService/ListCases",
                        R"({"team":"T1","status":"OPEN","page_size":50})", cookie);
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");

  const v1::ListCasesRequest seen = case_service_.last_list();
  EXPECT_EQ(seen.team(), "T1");
  EXPECT_EQ(seen.status(), v1::OPEN);
  EXPECT_EQ(seen.page_size(), 50);
  EXPECT_EQ(case_service_.last_caller(), std::make_pair(std::string("JC"), std::string("cw1")));

  const json reply = json::parse(result->body);
  const json& c = reply["cases"][0];
  EXPECT_EQ(c["case_ref"], "C-1");  // proto field names, not lowerCamel
  EXPECT_EQ(c["status"], "OPEN");   // enums by name
  EXPECT_EQ(c["version"], "7");     // int64 as a string
  EXPECT_EQ(c["closed_on"], "");    // primitive fields printed even when empty
  EXPECT_EQ(c["expectation"]["expected_month"], "2027-03");
  EXPECT_EQ(c["fields"]["has_cv"]["bool_value"], true);
  EXPECT_EQ(reply["next_page_token"], "");
}

TEST_F(GatewayTest, BadRequestsAreAnsweredWithTheProblemNamed) {
  const std::string cookie = Login();
  auto unknown_field = PostApi("/api/CaseService/ListCases", R"({"teem":"T1"})", cookie);
  EXPECT_EQ(unknown_field->status, 400);
  EXPECT_EQ(json::parse(unknown_field->body)["code"], "INVALID_ARGUMENT");
  EXPECT_NE(json::parse(unknown_field->body)["message"].get<std::string>().find("teem"),
            std::string::npos);

  EXPECT_EQ(PostApi("/api/CaseService/ListCases", "not json", cookie)->status, 400);
  EXPECT_EQ(PostApi("/api/CaseService/ListCases", R"({"status":"NOPE"})", cookie)->status, 400);
  EXPECT_EQ(PostApi("/api/CaseService/NoSuchMethod", "{}", cookie)->status, 404);
  EXPECT_EQ(PostApi("/api/NoSuchService/ListCases", "{}", cookie)->status, 404);
  // Streaming methods are not callable as unary ones.
  EXPECT_EQ(PostApi("/api/ForecastService/WatchTeamDashboard", "{}", cookie)->status, 409);
  auto form = client_->Post("/api/CaseService/ListCases", {{"Cookie", cookie}}, "team=T1",
                            "application/x-www-form-urlencoded");
  EXPECT_EQ(form->status, 403);
  EXPECT_EQ(json::parse(form->body)["field"], "content_type");
}

TEST_F(GatewayTest, BackendErrorsBecomeHttpStatusesWithTheirMessages) {
  const std::string cookie = Login();
  auto invalid =
      PostApi("/api/CaseService/RecordExpectation",
              R"({"case_ref":"C-1","base_version":"7","expected_month":"2027-3"})", cookie);
  EXPECT_EQ(invalid->status, 400);
  const json invalid_body = json::parse(invalid->body);
  EXPECT_EQ(invalid_body["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(invalid_body["message"], "expected_month: must be YYYY-MM");
  EXPECT_EQ(invalid_body["field"], "expected_month");
  EXPECT_EQ(invalid_body["request_id"], invalid->get_header_value("X-Request-Id"));
  EXPECT_EQ(invalid_body["request_id"].get<std::string>().size(), 32u);

  // int64 accepted as a JSON number as well as a string.
  auto stale = PostApi("/api/CaseService/RecordExpectation",
                       R"({"case_ref":"C-1","base_version":6,"expected_month":"2027-03"})", cookie);
  EXPECT_EQ(stale->status, 409);
  EXPECT_EQ(json::parse(stale->body)["code"], "ABORTED");

  auto ok = PostApi("/api/CaseService/RecordExpectation",
                    R"({"case_ref":"C-1","base_version":7,"expected_month":"2027-03"})", cookie);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(json::parse(ok->body)["version"], "8");

  EXPECT_EQ(PostApi("/api/CaseService/GetCase", R"({"case_ref":"X"})", cookie)->status, 404);
  EXPECT_EQ(PostApi("/api/CaseService/GetCase", R"({"case_ref":"SECRET"})", cookie)->status, 403);
}

TEST_F(GatewayTest, HttpStatusMapping) {
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnavailable), 502);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnknown), 500);
}

TEST_F(GatewayTest, UnreachableBackendIsABadGateway) {
  auto dead = grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  RpcTranscoder transcoder({{"CaseService", dead}}, absl::Seconds(2));
  absl::StatusOr<MethodRoute> route = transcoder.Resolve("CaseService", "WhoAmI");
  ASSERT_TRUE(route.ok());
  absl::StatusOr<std::string> reply = transcoder.CallUnary(*route, "{}", {});
  EXPECT_EQ(HttpStatusFor(reply.status().code()), 502) << reply.status();
  EXPECT_EQ(transcoder.Resolve("ForecastService", "Project").status().code(),
            absl::StatusCode::kNotFound);  // no backend configured for it
}

std::string UrlEncode(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

// Reads the event stream until `frames` data events arrived, then hangs up.
std::vector<std::string> ReadEvents(httplib::Client& client, const std::string& path,
                                    const std::string& cookie, size_t frames, std::string* raw,
                                    int* status) {
  std::vector<std::string> events;
  auto result = client.Get(
      path.c_str(), {{"Cookie", cookie}},
      [&](const httplib::Response& response) {
        *status = response.status;
        return true;
      },
      [&](const char* data, size_t length) {
        raw->append(data, length);
        size_t end;
        while ((end = raw->find("\n\n")) != std::string::npos) {
          std::string frame = raw->substr(0, end);
          raw->erase(0, end + 2);
          if (frame.rfind("data: ", 0) == 0 || frame.find("\ndata: ") != std::string::npos) {
            events.push_back(frame);
          }
        }
        return events.size() < frames;
      });
  (void)result;
  return events;
}

TEST_F(GatewayTest, ServerStreamingBecomesServerSentEventsAndStopsWhenTheBrowserLeaves) {
  const std::string cookie = Login();
  const std::string path =
      "/api/ForecastService/WatchTeamDashboard/stream?json=" + UrlEncode(R"({"team":"T1"})");
  std::string raw;
  int status = 0;
  std::vector<std::string> events = ReadEvents(*client_, path, cookie, 2, &raw, &status);
  EXPECT_EQ(status, 200);
  ASSERT_EQ(events.size(), 2u);
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].rfind("data: ", 0), 0u) << events[i];
    EXPECT_EQ(events[i].find('\n'), std::string::npos) << "one line per event";
    const json dashboard = json::parse(events[i].substr(6));
    EXPECT_EQ(dashboard["revision"], std::to_string(i + 1));
    EXPECT_EQ(dashboard["team_name"], "Team \"one\"\nline two");
  }
  // The client hung up; the next heartbeat fails to write and the backend call is cancelled.
  for (int i = 0; i < 200 && !forecast_service_.cancelled_; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_TRUE(forecast_service_.cancelled_);
}

TEST_F(GatewayTest, StoppingTheGatewayEndsOpenStreams) {
  const std::string cookie = Login();
  const std::string path =
      "/api/ForecastService/WatchTeamDashboard/stream?json=" + UrlEncode(R"({"team":"T1"})");
  std::atomic<int> received{0};
  std::mutex seen_mu;
  std::string seen;
  std::thread reader([&] {
    httplib::Client client("127.0.0.1", gateway_port_);
    client.set_read_timeout(30, 0);
    client.Get(path.c_str(), {{"Cookie", cookie}}, [&](const char* data, size_t length) {
      ++received;
      std::lock_guard<std::mutex> lock(seen_mu);
      seen.append(data, length);
      return true;  // would read for ever
    });
  });
  for (int i = 0; i < 400 && received == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GT(received.load(), 0);
  const auto start = std::chrono::steady_clock::now();
  gateway_->Stop();
  reader.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  for (int i = 0; i < 400 && !forecast_service_.cancelled_; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(forecast_service_.cancelled_) << "the backend call ends with the stream";
  std::lock_guard<std::mutex> lock(seen_mu);
  EXPECT_NE(seen.find("event: shutdown\ndata: "), std::string::npos) << seen;
}

TEST_F(GatewayTest, StreamErrorsAreReportedAsAnEvent) {
  const std::string cookie = Login();
  std::string raw;
  int status = 0;
  std::vector<std::string> events = ReadEvents(
      *client_,
      "/api/ForecastService/WatchTeamDashboard/stream?json=" + UrlEncode(R"({"team":"NOPE"})"),
      cookie, 1, &raw, &status);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].rfind("event: rpc-error\ndata: ", 0), 0u) << events[0];
  EXPECT_EQ(json::parse(events[0].substr(events[0].find("data: ") + 6))["code"], "NOT_FOUND");

  auto unauthenticated = client_->Get("/api/ForecastService/WatchTeamDashboard/stream?json={}");
  EXPECT_EQ(unauthenticated->status, 401);
  auto bad_json = client_->Get("/api/ForecastService/WatchTeamDashboard/stream?json=%7Bx",
                               {{"Cookie", cookie}});
  EXPECT_EQ(bad_json->status, 400);
}

TEST_F(GatewayTest, ServesTheWebAppWithIndexFallback) {
  auto index = client_->Get("/");
  ASSERT_EQ(index->status, 200);
  EXPECT_NE(index->body.find("<title>app</title>"), std::string::npos);
  auto route = client_->Get("/team/T1/dialogue");
  ASSERT_EQ(route->status, 200);
  EXPECT_EQ(route->body, index->body);
  auto asset = client_->Get("/assets/app-123.js");
  ASSERT_EQ(asset->status, 200);
  EXPECT_EQ(asset->body, "console.log(1)");
  EXPECT_NE(asset->get_header_value("Cache-Control").find("immutable"), std::string::npos);
  EXPECT_NE(index->get_header_value("Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  auto health = client_->Get("/healthz");
  ASSERT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "SERVING");
  auto api = client_->Get("/api/nothing");
  EXPECT_EQ(api->status, 404);
  EXPECT_EQ(json::parse(api->body)["code"], "NOT_FOUND");
}

// A raw TCP connection to the gateway, for requests no well-behaved client would send.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Everything until the server closes (or 5 s pass).
  std::string ReadAll() {
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd_, buffer, sizeof(buffer), 0)) > 0)
      out.append(buffer, static_cast<size_t>(n));
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// The status code and JSON body of a raw HTTP answer.
std::pair<int, json> ParseRaw(const std::string& answer) {
  if (answer.size() < 12) return {0, json()};
  const int status = std::stoi(answer.substr(9, 3));
  const size_t body = answer.find("\r\n\r\n");
  json parsed = body == std::string::npos
                    ? json()
                    : json::parse(answer.substr(body + 4), nullptr, /*allow_exceptions=*/false);
  return {status, parsed};
}

TEST_F(GatewayTest, HostileLoginValuesAre400NamingTheFieldAndTheGatewayStaysUp) {
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"job_centre", "DÆMO"}, {"staff_code", "cw1"}, {"password", "demo"}}, "job_centre"},
      {{{"job_centre", "JC"}, {"staff_code", "SØREN"}, {"password", "demo"}}, "staff_code"},
      {{{"job_centre", "JC"}, {"staff_code", "cw1\r\nx-staff: adm"}, {"password", "demo"}},
       "staff_code"},
      {{{"job_centre", std::string(100000, 'J')}, {"staff_code", "cw1"}, {"password", "demo"}},
       "job_centre"},
      {{{"job_centre", "JC"}, {"staff_code", 7}, {"password", "demo"}}, "staff_code"},
      {{{"job_centre", "JC"}, {"staff_code", "cw1"}, {"password", std::string(5000, 'p')}},
       "password"},
  };
  for (const auto& [body, field] : cases) {
    auto result = client_->Post("/api/login", body.dump(), "application/json");
    ASSERT_TRUE(result) << field;
    EXPECT_EQ(result->status, 400) << body.dump().substr(0, 80);
    const json error = json::parse(result->body);
    EXPECT_EQ(error["code"], "INVALID_ARGUMENT");
    EXPECT_EQ(error["field"], field) << error.dump();
  }
  // Invalid UTF-8 is a bad request, not a server error.
  auto broken = client_->Post("/api/login", "{\"job_centre\":\"\xff\xfe\"}", "application/json");
  EXPECT_EQ(broken->status, 400);
  EXPECT_EQ(json::parse(broken->body)["field"], "body");
  // Still serving.
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
  Login();
}

TEST_F(GatewayTest, StateChangingRequestsNeedTheOriginAndJson) {
  httplib::Client bare("127.0.0.1", gateway_port_);
  const std::string login = R"({"job_centre":"JC","staff_code":"cw1","password":"demo"})";
  auto no_origin = bare.Post("/api/login", login, "application/json");
  EXPECT_EQ(no_origin->status, 403);
  EXPECT_EQ(json::parse(no_origin->body)["field"], "origin");
  auto foreign =
      bare.Post("/api/login", {{"Origin", "https://evil.example"}}, login, "application/json");
  EXPECT_EQ(foreign->status, 403);
  auto text = client_->Post("/api/login", login, "text/plain");
  EXPECT_EQ(text->status, 403);
  EXPECT_EQ(json::parse(text->body)["field"], "content_type");
  const std::string cookie = Login();
  auto foreign_write =
      bare.Post("/api/CaseService/ListCases",
                {{"Cookie", cookie}, {"Origin", "http://127.0.0.1:1"}}, "{}", "application/json");
  EXPECT_EQ(foreign_write->status, 403);
}

TEST_F(GatewayTest, EveryErrorIsJsonWithARequestId) {
  // 404, 405, 413, 400 (malformed HTTP), 431: each a JSON body with code, message, request_id.
  auto not_found = client_->Get("/api/nothing");
  auto method = client_->Delete("/api/CaseService/ListCases");
  auto too_big = client_->Post("/api/login", std::string(2 << 20, 'x'), "application/json");
  for (const auto* result : {&not_found, &method, &too_big}) {
    ASSERT_TRUE(*result);
    const json error = json::parse((*result)->body);
    EXPECT_TRUE(error.contains("code") && error.contains("message")) << (*result)->body;
    EXPECT_EQ(error["request_id"], (*result)->get_header_value("X-Request-Id"));
  }
  EXPECT_EQ(not_found->status, 404);
  EXPECT_EQ(method->status, 405);
  EXPECT_EQ(too_big->status, 413);
  EXPECT_FALSE(client_->Get("/healthz")->get_header_value("X-Request-Id").empty());

  RawConnection garbage(gateway_port_);
  garbage.Send("GARBAGE\x01\x02 / HTTP/9.9\r\n\r\n");
  auto [garbage_status, garbage_body] = ParseRaw(garbage.ReadAll());
  EXPECT_EQ(garbage_status, 400);
  EXPECT_EQ(garbage_body["code"], "INVALID_ARGUMENT");

  RawConnection huge(gateway_port_);
  huge.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n");
  auto [huge_status, huge_body] = ParseRaw(huge.ReadAll());
  EXPECT_EQ(huge_status, 431);
  EXPECT_FALSE(huge_body["request_id"].get<std::string>().empty());
}

TEST_F(GatewayTest, LogoutWithoutContentLengthEndsTheSession) {
  const std::string cookie = Login();
  RawConnection raw(gateway_port_);
  raw.Send("POST /api/logout HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(gateway_port_) +
           "\r\nOrigin: " + Origin() + "\r\nCookie: " + cookie + "\r\nConnection: close\r\n\r\n");
  auto [status, body] = ParseRaw(raw.ReadAll());
  EXPECT_EQ(status, 200);
  EXPECT_EQ(client_->Get("/api/session", {{"Cookie", cookie}})->status, 401);
}

TEST_F(GatewayTest, SlowClientsAreCutOffAndDoNotHoldBackOthers) {
  StartGateway([](GatewayOptions& options) {
    options.http.header_timeout = absl::Milliseconds(300);
    options.http.idle_timeout = absl::Milliseconds(600);
  });
  // 100 connections that send half a request and then nothing (a slowloris).
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 100; ++i) {
    slow.push_back(std::make_unique<RawConnection>(gateway_port_));
    slow.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  }
  const auto start = std::chrono::steady_clock::now();
  auto health = client_->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  // Each gets 408 with a JSON body once its header time is up.
  auto [status, body] = ParseRaw(slow.front()->ReadAll());
  EXPECT_EQ(status, 408);
  EXPECT_EQ(body["code"], "DEADLINE_EXCEEDED");
  // An idle connection (nothing sent) is closed quietly after the idle timeout.
  RawConnection idle(gateway_port_);
  EXPECT_EQ(idle.ReadAll(), "");
}

TEST_F(GatewayTest, ConnectionsPerAddressAreBounded) {
  StartGateway([](GatewayOptions& options) { options.http.max_connections_per_address = 5; });
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(std::make_unique<RawConnection>(gateway_port_));
    held.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // half a request
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  RawConnection refused(gateway_port_);
  refused.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(refused.ReadAll(), "") << "the sixth connection is closed unanswered";
  held.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

TEST_F(GatewayTest, ManyBrowsersShareOneUpstreamStreamAndHealthStaysFast) {
  StartGateway([](GatewayOptions& options) {
    options.streams.per_session = 1000;
    options.streams.per_user = 1000;
  });
  const std::string cookie = Login();
  const std::string path =
      "/api/ForecastService/WatchTeamDashboard/stream?json=" + UrlEncode(R"({"team":"T1"})");
  constexpr int kStreams = 60;
  std::vector<std::unique_ptr<RawConnection>> streams;
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(std::make_unique<RawConnection>(gateway_port_));
    streams.back()->Send("GET " + path + " HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n");
  }
  for (int i = 0; i < 400 && gateway_->hub().watchers() < kStreams; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(gateway_->hub().watchers(), static_cast<size_t>(kStreams));
  EXPECT_EQ(forecast_service_.watch_calls_.load(), 1) << "one upstream call for all watchers";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  // All leave: the upstream call is cancelled.
  streams.clear();
  for (int i = 0; i < 400 && forecast_service_.watch_calls_.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(forecast_service_.watch_calls_.load(), 0);
  EXPECT_EQ(gateway_->hub().watchers(), 0u);
}

TEST_F(GatewayTest, EveryWatcherGetsTheSamePush) {
  const std::string cookie = Login();
  const std::string path =
      "/api/ForecastService/WatchTeamDashboard/stream?json=" + UrlEncode(R"({"team":"T1"})");
  RawConnection first(gateway_port_);
  first.Send("GET " + path + " HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n");
  for (int i = 0; i < 200 && forecast_service_.watch_calls_.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  RawConnection second(gateway_port_);
  second.Send("GET " + path + " HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n");
  for (int i = 0; i < 200 && gateway_->hub().watchers() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  forecast_service_.Push();  // revision 3
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  gateway_->Stop();
  const std::string a = first.ReadAll();
  const std::string b = second.ReadAll();
  EXPECT_NE(a.find("\"revision\":\"3\""), std::string::npos) << a;
  EXPECT_NE(b.find("\"revision\":\"3\""), std::string::npos) << b;
  // The later watcher got the newest push at once, not the first two again.
  EXPECT_NE(b.find("\"revision\":\"2\""), std::string::npos) << b;
  EXPECT_EQ(b.find("\"revision\":\"1\""), std::string::npos) << b;
  for (int i = 0; i < 200 && forecast_service_.watch_calls_.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(forecast_service_.watch_calls_.load(), 0);
}

TEST_F(GatewayTest, StreamsPerSessionAreLimitedWith429) {
  StartGateway([](GatewayOptions& options) { options.streams.per_session = 2; });
  const std::string cookie = Login();
  const std::string path =
      "/api/ForecastService/WatchTeamDashboard/stream?json=" + UrlEncode(R"({"team":"T1"})");
  std::vector<std::unique_ptr<RawConnection>> streams;
  for (int i = 0; i < 2; ++i) {
    streams.push_back(std::make_unique<RawConnection>(gateway_port_));
    streams.back()->Send("GET " + path + " HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n");
  }
  for (int i = 0; i < 200 && gateway_->hub().watchers() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto third = client_->Get(path.c_str(), {{"Cookie", cookie}});
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 429);
  EXPECT_EQ(json::parse(third->body)["field"], "streams");
}

// Two replicas, each with its own access-token cache, sessions with the identity service: log in
// on one, use the session (API and events) on the other, stop the first, keep the session.
TEST_F(GatewayTest, SessionsWorkAcrossReplicasAndSurviveOneStopping) {
  IdentityAuthenticator identity_a(*transcoder_, absl::Seconds(30), [] { return absl::Now(); });
  IdentityAuthenticator identity_b(*transcoder_, absl::Seconds(30), [] { return absl::Now(); });
  GatewayOptions options;
  options.http.stream_heartbeat = absl::Milliseconds(50);
  options.shutdown_grace = absl::Seconds(2);
  auto replica_a = std::make_unique<GatewayServer>(options, *transcoder_, identity_a);
  GatewayServer replica_b(options, *transcoder_, identity_b);
  const int port_a = *replica_a->Start();
  const int port_b = *replica_b.Start();
  httplib::Client a("127.0.0.1", port_a);
  a.set_default_headers({{"Origin", "http://127.0.0.1:" + std::to_string(port_a)}});
  httplib::Client b("127.0.0.1", port_b);
  b.set_default_headers({{"Origin", "http://127.0.0.1:" + std::to_string(port_b)}});

  auto throttled =
      a.Post("/api/login", R"({"job_centre":"JC","staff_code":"cw1","password":"throttled"})",
             "application/json");
  EXPECT_EQ(throttled->status, 429);
  EXPECT_EQ(throttled->get_header_value("Retry-After"), "42");
  EXPECT_EQ(json::parse(throttled->body)["code"], "RESOURCE_EXHAUSTED");
  auto wrong = a.Post("/api/login", R"({"job_centre":"JC","staff_code":"cw1","password":"nope"})",
                      "application/json");
  EXPECT_EQ(wrong->status, 401);

  auto login =
      a.Post("/api/login", R"({"job_centre":"JC","staff_code":"cw1","password":"a good password"})",
             "application/json");
  ASSERT_EQ(login->status, 200) << login->body;
  EXPECT_EQ(identity_service_.last_client_address(), "127.0.0.1");
  const std::string set_cookie = login->get_header_value("Set-Cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  EXPECT_NE(cookie.find("session-"), std::string::npos)
      << "the cookie holds only the session token";
  EXPECT_EQ(json::parse(login->body)["code"], "cw1");

  // Replica B has never seen the session: it refreshes it with the identity service.
  const int refreshes = identity_service_.refreshes();
  auto session = b.Get("/api/session", {{"Cookie", cookie}});
  ASSERT_EQ(session->status, 200) << session->body;
  EXPECT_EQ(identity_service_.refreshes(), refreshes + 1);
  auto cases = b.Post("/api/CaseService/ListCases", {{"Cookie", cookie}}, "{}", "application/json");
  ASSERT_EQ(cases->status, 200) << cases->body;
  EXPECT_EQ(case_service_.last_authorization().rfind("Bearer access-", 0), 0u)
      << case_service_.last_authorization();
  EXPECT_EQ(identity_service_.refreshes(), refreshes + 1) << "the access token is cached";

  std::string raw;
  int status = 0;
  auto events = ReadEvents(
      b, "/api/ForecastService/WatchTeamDashboard/stream?json=" + UrlEncode(R"({"team":"T1"})"),
      cookie, 1, &raw, &status);
  EXPECT_EQ(status, 200);
  EXPECT_GE(events.size(), 1u);

  // Replica A stops (a deploy): the person keeps the session on B.
  replica_a->Stop();
  replica_a.reset();
  EXPECT_EQ(b.Get("/api/session", {{"Cookie", cookie}})->status, 200);

  // Logout on B ends it for every replica (the identity service forgets it).
  EXPECT_EQ(b.Post("/api/logout", {{"Cookie", cookie}}, "", "application/json")->status, 200);
  IdentityAuthenticator identity_c(*transcoder_, absl::Seconds(30), [] { return absl::Now(); });
  GatewayServer replica_c(options, *transcoder_, identity_c);
  httplib::Client c("127.0.0.1", *replica_c.Start());
  EXPECT_EQ(c.Get("/api/session", {{"Cookie", cookie}})->status, 401);
}

TEST(SessionStoreTest, ExpiresIdleSessionsAndTokensAreUnguessable) {
  absl::Time now = absl::UnixEpoch();
  SessionStore store(absl::Minutes(30), [&now] { return now; });
  const std::string token = store.Create({"JC", "cw1", "{}"});
  EXPECT_EQ(token.size(), 64u);
  EXPECT_NE(token, store.Create({"JC", "cw2", "{}"}));
  now += absl::Minutes(20);
  ASSERT_TRUE(store.Find(token).has_value());  // refreshes
  now += absl::Minutes(20);
  ASSERT_TRUE(store.Find(token).has_value());
  now += absl::Minutes(31);
  EXPECT_FALSE(store.Find(token).has_value());
  EXPECT_EQ(store.Size(), 0u);
}

TEST(RequestChecksTest, CodesAndTokens) {
  EXPECT_TRUE(CheckCode("staff_code", "CW0101").ok());
  EXPECT_FALSE(CheckCode("staff_code", "SØREN").ok());
  EXPECT_FALSE(CheckCode("staff_code", "a\r\nb").ok());
  EXPECT_FALSE(CheckCode("staff_code", "").ok());
  EXPECT_FALSE(CheckCode("staff_code", std::string(65, 'a')).ok());
  EXPECT_TRUE(IsValidUtf8("DÆMO"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // a surrogate
  EXPECT_TRUE(OriginAllowed("http://h:1", "h:1", false, {}));
  EXPECT_FALSE(OriginAllowed("https://h:1", "h:1", false, {}));
  EXPECT_TRUE(OriginAllowed("https://x", "h:1", false, {"https://x"}));
  EXPECT_EQ(FieldOfMessage("expected_month: must be YYYY-MM"), "expected_month");
  EXPECT_EQ(FieldOfMessage("no such case"), "");
}

TEST(CookieTest, FindsTheSessionCookieAmongOthers) {
  EXPECT_EQ(CookieValue("a=1; forecast_session=abc; b=2", "forecast_session"), "abc");
  EXPECT_EQ(CookieValue("forecast_session_x=1", "forecast_session"), "");
  EXPECT_EQ(CookieValue("", "forecast_session"), "");
}

}  // namespace
}  // namespace forecast::gateway
