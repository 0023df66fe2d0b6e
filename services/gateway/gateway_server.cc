#include "services/gateway/gateway_server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/gateway/http_status.h"

namespace forecast::gateway {
namespace {

constexpr char kSessionCookie[] = "forecast_session";
constexpr char kJson[] = "application/json";

void SendError(httplib::Response& response, const absl::Status& status) {
  response.status = HttpStatusFor(status.code());
  response.set_content(ErrorJson(status), kJson);
}

Metadata CallerMetadata(const SessionIdentity& identity) {
  return {{"x-job-centre", identity.job_centre}, {"x-staff", identity.staff_code}};
}

// Compares every byte of the longer string, so that the answer time does not tell where (or
// whether) the given password differs.
bool SamePassword(const std::string& given, const std::string& expected) {
  const size_t length = std::max(given.size(), expected.size());
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < length; ++i) {
    const auto a = static_cast<unsigned char>(i < given.size() ? given[i] : 0);
    const auto b = static_cast<unsigned char>(i < expected.size() ? expected[i] : 0);
    diff |= static_cast<unsigned char>(a ^ b);
  }
  return diff == 0;
}

absl::StatusOr<std::string> StringField(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string() || it->get<std::string>().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": required"));
  }
  return it->get<std::string>();
}

bool IsJsonRequest(const httplib::Request& request) {
  return absl::StartsWith(request.get_header_value("Content-Type"), kJson);
}

std::string SseEvent(const std::string& event, const std::string& data) {
  std::string frame;
  if (!event.empty()) absl::StrAppend(&frame, "event: ", event, "\n");
  // Data is single-line JSON (the printer escapes newlines inside strings).
  absl::StrAppend(&frame, "data: ", data, "\n\n");
  return frame;
}

}  // namespace

std::string CookieValue(const std::string& cookie_header, const std::string& name) {
  for (absl::string_view part : absl::StrSplit(cookie_header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, name) && absl::ConsumePrefix(&part, "=")) {
      return std::string(part);
    }
  }
  return "";
}

GatewayServer::GatewayServer(GatewayOptions options, const RpcTranscoder& transcoder,
                             SessionStore& sessions)
    : options_(std::move(options)), transcoder_(transcoder), sessions_(sessions),
      server_(std::make_unique<httplib::Server>()) {
  const int threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Requests are small JSON messages; bulk imports go through the CLI's gRPC stream instead.
  server_->set_payload_max_length(8 << 20);
  // Small JSON answers must not wait for Nagle's algorithm (about 40 ms per response otherwise).
  server_->set_tcp_nodelay(true);
  server_->set_default_headers({
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "same-origin"},
      // Everything the web app needs comes from this server; nothing from the internet.
      {"Content-Security-Policy",
       "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "frame-ancestors 'none'"},
  });
  // One line per failed API call (the services log the details); successful calls are quiet.
  server_->set_logger([](const httplib::Request& request, const httplib::Response& response) {
    if (response.status >= 500 && absl::StartsWith(request.path, "/api/")) {
      std::cerr << "gateway: " << request.method << " " << request.path << " -> " << response.status
                << " " << response.body << std::endl;
    }
  });
  RegisterRoutes();
}

GatewayServer::~GatewayServer() { Stop(); }

absl::StatusOr<int> GatewayServer::Start() {
  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.host);
  } else if (!server_->bind_to_port(options_.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind ", options_.host, ":", options_.port));
  }
  OidcRelyingParty::Options oidc;
  oidc.redirect_uri = absl::StrCat(
      options_.public_url.empty() ? absl::StrCat("http://", options_.host, ":", port)
                                  : std::string(absl::StripSuffix(options_.public_url, "/")),
      "/auth/oidc/callback");
  oidc.http.ca_file = options_.oidc_ca_file;
  oidc_ = std::make_unique<OidcRelyingParty>(oidc);
  serving_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() does nothing until the serving loop runs, so wait for it to start.
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return port;
}

void GatewayServer::Stop() {
  if (!serving_.joinable()) return;
  server_->stop();
  serving_.join();
}

void GatewayServer::RegisterRoutes() {
  using httplib::Request;
  using httplib::Response;
  // For load balancers and probes: the gateway itself answers (the services have their own
  // gRPC health checks).
  server_->Get("/healthz", [](const Request&, Response& r) {
    r.set_content(R"({"status":"SERVING"})", kJson);
  });
  server_->Post("/api/login", [this](const Request& q, Response& r) { HandleLogin(q, r); });
  server_->Post("/api/logout", [this](const Request& q, Response& r) { HandleLogout(q, r); });
  server_->Get("/api/session", [this](const Request& q, Response& r) { HandleSession(q, r); });
  server_->Post(R"(/api/([A-Za-z0-9_]+)/([A-Za-z0-9_]+))",
                [this](const Request& q, Response& r) { HandleUnary(q, r); });
  server_->Get(R"(/api/([A-Za-z0-9_]+)/([A-Za-z0-9_]+)/stream)",
               [this](const Request& q, Response& r) { HandleStream(q, r); });
  server_->Get("/auth/oidc/providers", [this](const Request& q, Response& r) {
    absl::StatusOr<std::string> listed = ListOidcProviders(IdentityCaller(), q.get_param_value("job_centre"));
    if (listed.ok()) r.set_content(*listed, kJson);
    else SendError(r, listed.status());
  });
  server_->Get("/auth/oidc/start", [this](const Request& q, Response& r) { HandleOidcStart(q, r); });
  server_->Get("/auth/oidc/callback",
               [this](const Request& q, Response& r) { HandleOidcCallback(q, r); });
  server_->Get(R"(/api(/.*)?)", [](const Request& q, Response& r) {
    SendError(r, absl::NotFoundError(absl::StrCat("no API route ", q.path)));
  });
  server_->Post(R"(.*)", [](const Request& q, Response& r) {
    SendError(r, absl::NotFoundError(absl::StrCat("no API route ", q.path)));
  });
  if (!options_.web_dir.empty()) {
    if (!server_->set_mount_point("/", options_.web_dir)) {
      std::cerr << "gateway: web app folder " << options_.web_dir << " not found" << std::endl;
    }
    // Built assets carry a content hash in their names and never change; the rest may.
    server_->set_file_request_handler([](const Request& q, Response& r) {
      r.set_header("Cache-Control", absl::StartsWith(q.path, "/assets/")
                                        ? "public, max-age=31536000, immutable"
                                        : "no-cache");
    });
  }
  server_->Get(R"(.*)", [this](const Request& q, Response& r) { HandleWebApp(q, r); });
}

std::optional<SessionIdentity> GatewayServer::RequireSession(const httplib::Request& request,
                                                             httplib::Response& response) {
  const std::string token = CookieValue(request.get_header_value("Cookie"), kSessionCookie);
  std::optional<SessionIdentity> identity;
  if (!token.empty()) identity = sessions_.Find(token);
  if (!identity) SendError(response, absl::UnauthenticatedError("log in first"));
  return identity;
}

void GatewayServer::HandleLogin(const httplib::Request& request, httplib::Response& response) {
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) {
    SendError(response, absl::InvalidArgumentError("body: a JSON object is required"));
    return;
  }
  absl::StatusOr<std::string> job_centre = StringField(body, "job_centre");
  absl::StatusOr<std::string> staff_code = StringField(body, "staff_code");
  absl::StatusOr<std::string> password = StringField(body, "password");
  for (const auto* field : {&job_centre, &staff_code, &password}) {
    if (!field->ok()) {
      SendError(response, field->status());
      return;
    }
  }
  // One answer for every kind of failure, so that the login form does not reveal which staff
  // codes exist.
  const absl::Status refused =
      absl::UnauthenticatedError("unknown job centre or staff code, or wrong password");
  if (!SamePassword(*password, options_.demo_password)) {
    SendError(response, refused);
    return;
  }
  SessionIdentity identity{*job_centre, *staff_code, ""};
  absl::StatusOr<MethodRoute> who_am_i = transcoder_.Resolve("CaseService", "WhoAmI");
  if (!who_am_i.ok()) {
    SendError(response, who_am_i.status());
    return;
  }
  absl::StatusOr<std::string> staff = transcoder_.CallUnary(*who_am_i, "{}", CallerMetadata(identity));
  if (!staff.ok()) {
    const absl::StatusCode code = staff.status().code();
    const bool unknown = code == absl::StatusCode::kUnauthenticated ||
                         code == absl::StatusCode::kNotFound ||
                         code == absl::StatusCode::kPermissionDenied;
    SendError(response, unknown ? refused : staff.status());
    return;
  }
  identity.staff_json = *staff;
  const std::string token = sessions_.Create(identity);
  response.set_header("Set-Cookie", SessionCookie(token));
  response.set_content(*staff, kJson);
}

// Single sign-on (OidcRelyingParty does the work): two redirects, the identity service decides.
void GatewayServer::HandleOidcStart(const httplib::Request& request, httplib::Response& response) {
  absl::StatusOr<OidcStart> start = StartOidcSignIn(
      *oidc_, IdentityCaller(), request.get_param_value("job_centre"),
      request.get_param_value("provider"));
  if (!start.ok()) {
    SendError(response, start.status());
    return;
  }
  response.set_header("Set-Cookie", OidcAttemptCookie(start->attempt, options_.secure_cookie));
  response.set_redirect(start->authorization_url);
}

void GatewayServer::HandleOidcCallback(const httplib::Request& request,
                                       httplib::Response& response) {
  std::map<std::string, std::string> query(request.params.begin(), request.params.end());
  absl::StatusOr<std::string> signed_in = FinishOidcSignIn(
      *oidc_, IdentityCaller(), CookieValue(request.get_header_value("Cookie"), kOidcAttemptCookie),
      query, request.remote_addr);
  response.set_header("Set-Cookie", ClearOidcAttemptCookie(options_.secure_cookie));
  nlohmann::json login = signed_in.ok() ? nlohmann::json::parse(*signed_in, nullptr, false)
                                        : nlohmann::json();
  if (!signed_in.ok() || !login.is_object() || !login.contains("staff")) {
    std::cerr << "gateway: single sign-on refused: " << signed_in.status().message() << std::endl;
    response.set_redirect("/?sso=refused");
    return;
  }
  const nlohmann::json& staff = login["staff"];
  SessionIdentity identity{staff.value("job_centre", ""), staff.value("code", ""), staff.dump()};
  response.set_header("Set-Cookie", SessionCookie(sessions_.Create(identity)));
  response.set_redirect("/");
}

IdentityCall GatewayServer::IdentityCaller() const {
  return [this](const std::string& method, const std::string& json) -> absl::StatusOr<std::string> {
    absl::StatusOr<MethodRoute> route = transcoder_.Resolve("IdentityService", method);
    if (!route.ok()) return route.status();
    return transcoder_.CallUnary(*route, json, {});
  };
}

std::string GatewayServer::SessionCookie(const std::string& token) const {
  return absl::StrCat(kSessionCookie, "=", token, "; Path=/; HttpOnly; SameSite=Strict",
                      options_.secure_cookie ? "; Secure" : "");
}

void GatewayServer::HandleLogout(const httplib::Request& request, httplib::Response& response) {
  const std::string token = CookieValue(request.get_header_value("Cookie"), kSessionCookie);
  if (!token.empty()) sessions_.Remove(token);
  response.set_header("Set-Cookie", absl::StrCat(kSessionCookie,
                                                 "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
  response.set_content("{}", kJson);
}

void GatewayServer::HandleSession(const httplib::Request& request, httplib::Response& response) {
  std::optional<SessionIdentity> identity = RequireSession(request, response);
  if (identity) response.set_content(identity->staff_json, kJson);
}

void GatewayServer::HandleUnary(const httplib::Request& request, httplib::Response& response) {
  std::optional<SessionIdentity> identity = RequireSession(request, response);
  if (!identity) return;
  if (!request.body.empty() && !IsJsonRequest(request)) {
    response.status = 415;
    response.set_content(
        ErrorJson(absl::InvalidArgumentError("Content-Type must be application/json")), kJson);
    return;
  }
  absl::StatusOr<MethodRoute> route =
      transcoder_.Resolve(request.matches[1].str(), request.matches[2].str());
  if (!route.ok()) {
    SendError(response, route.status());
    return;
  }
  absl::StatusOr<std::string> reply =
      transcoder_.CallUnary(*route, request.body, CallerMetadata(*identity));
  if (!reply.ok()) {
    SendError(response, reply.status());
    return;
  }
  response.set_content(*reply, kJson);
}

void GatewayServer::HandleStream(const httplib::Request& request, httplib::Response& response) {
  std::optional<SessionIdentity> identity = RequireSession(request, response);
  if (!identity) return;
  absl::StatusOr<MethodRoute> route =
      transcoder_.Resolve(request.matches[1].str(), request.matches[2].str());
  if (!route.ok()) {
    SendError(response, route.status());
    return;
  }
  absl::StatusOr<std::unique_ptr<ServerStream>> opened = transcoder_.OpenStream(
      *route, request.get_param_value("json"), CallerMetadata(*identity));
  if (!opened.ok()) {
    SendError(response, opened.status());
    return;
  }
  std::shared_ptr<ServerStream> stream = std::move(*opened);
  const MethodRoute method = *route;
  // Wait in short slices so that a stopping server ends the stream promptly, and send a
  // comment line after `stream_heartbeat` of silence: writing to a browser that went away
  // fails, which is how the stream learns to cancel the backend call.
  const absl::Duration slice = std::min(absl::Milliseconds(250), options_.stream_heartbeat);
  const absl::Duration heartbeat = options_.stream_heartbeat;
  auto idle = std::make_shared<absl::Duration>();
  response.set_header("Cache-Control", "no-cache");
  response.set_chunked_content_provider(
      "text/event-stream",
      [this, stream, method, slice, heartbeat, idle](size_t, httplib::DataSink& sink) {
        std::string bytes;
        std::string frame;
        switch (stream->Next(slice, &bytes)) {
          case ServerStream::Event::kMessage: {
            *idle = absl::ZeroDuration();
            absl::StatusOr<std::string> json = transcoder_.ReplyToJson(method, bytes);
            frame = json.ok() ? SseEvent("", *json) : SseEvent("rpc-error", ErrorJson(json.status()));
            break;
          }
          case ServerStream::Event::kIdle:
            *idle += slice;
            if (*idle < heartbeat) return true;
            *idle = absl::ZeroDuration();
            frame = ": keep-alive\n\n";
            break;
          case ServerStream::Event::kFinished: {
            const absl::Status status = stream->status();
            frame = status.ok() ? SseEvent("end", "{}") : SseEvent("rpc-error", ErrorJson(status));
            sink.write(frame.data(), frame.size());
            sink.done();
            return true;
          }
        }
        return sink.write(frame.data(), frame.size());
      },
      [stream](bool) { stream->Cancel(); });
}

void GatewayServer::HandleWebApp(const httplib::Request& request, httplib::Response& response) {
  if (options_.web_dir.empty()) {
    SendError(response, absl::NotFoundError("no web app is served"));
    return;
  }
  // Client-side routes (/team/T1, /case/C-1, ...) all load the app's index.html.
  std::ifstream file(options_.web_dir + "/index.html", std::ios::binary);
  if (!file) {
    SendError(response, absl::NotFoundError("the web app is not built (no index.html)"));
    return;
  }
  std::ostringstream content;
  content << file.rdbuf();
  (void)request;
  response.set_header("Cache-Control", "no-cache");
  response.set_content(content.str(), "text/html; charset=utf-8");
}

}  // namespace forecast::gateway
