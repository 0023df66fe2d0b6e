#include "services/gateway/api_handler.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include <boost/asio/post.hpp>

#include "absl/strings/strip.h"
#include "services/gateway/http_status.h"
#include "services/gateway/request_checks.h"

namespace forecast::gateway {
namespace {

constexpr char kSessionCookie[] = "forecast_session";
constexpr size_t kMaxPassword = 1024;
constexpr int kMaxJsonDepth = 16;

HttpResponse JsonResponse(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  return response;
}

// The deepest nesting of [ and { outside strings; bounds the work of parsing and freeing.
int JsonDepth(absl::string_view text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_string) {
      if (ch == '\\') {
        ++i;
      } else if (ch == '"') {
        in_string = false;
      }
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (ch == ']' || ch == '}') {
      --depth;
    }
  }
  return deepest;
}

// The body as a JSON object, or INVALID_ARGUMENT naming "body".
absl::StatusOr<nlohmann::json> JsonObject(const std::string& body) {
  if (JsonDepth(body) > kMaxJsonDepth) {
    return absl::InvalidArgumentError("body: nested too deeply");
  }
  if (!IsValidUtf8(body)) return absl::InvalidArgumentError("body: not UTF-8");
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return absl::InvalidArgumentError("body: a JSON object is required");
  return parsed;
}

absl::StatusOr<std::string> StringField(const nlohmann::json& body, const char* name,
                                        size_t max_length) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": required"));
  }
  if (!it->is_string()) return absl::InvalidArgumentError(absl::StrCat(name, ": must be a string"));
  std::string value = it->get<std::string>();
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(name, ": required"));
  if (value.size() > max_length) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": at most ", max_length, " bytes"));
  }
  return value;
}

absl::StatusOr<std::string> CodeField(const nlohmann::json& body, const char* name) {
  absl::StatusOr<std::string> value = StringField(body, name, 1 << 20);
  if (!value.ok()) return value.status();
  absl::Status checked = CheckCode(name, *value);
  if (!checked.ok()) return checked;
  return value;
}

bool IsName(absl::string_view segment) {
  if (segment.empty() || segment.size() > 64) return false;
  for (char ch : segment) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != '_') return false;
  }
  return true;
}

std::string ContentTypeFor(const std::string& path) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  const std::string extension = std::filesystem::path(path).extension().string();
  auto it = kTypes.find(extension);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

}  // namespace

HttpResponse ErrorResponse(const absl::Status& status, const std::string& request_id,
                           int http_status) {
  HttpResponse response;
  response.status = http_status != 0 ? http_status : HttpStatusFor(status.code());
  response.body = ErrorJson(status, request_id);
  response.headers.emplace_back("Cache-Control", "no-store");
  if (status.code() == absl::StatusCode::kResourceExhausted) {
    auto seconds = status.GetPayload(kRetryAfterPayload);
    long value = 0;
    if (seconds && absl::SimpleAtoi(std::string(*seconds), &value) && value >= 0) {
      response.headers.emplace_back("Retry-After", std::to_string(value));
    }
  }
  return response;
}

std::string SessionToken(const HttpRequest& request) {
  std::string token = CookieValue(request.cookie, kSessionCookie);
  return IsSessionToken(token) ? token : "";
}

ApiHandler::ApiHandler(ApiOptions options, const RpcTranscoder& transcoder,
                       Authenticator& authenticator, StreamHub& hub)
    : options_(std::move(options)),
      transcoder_(transcoder),
      authenticator_(authenticator),
      hub_(hub) {
  if (options_.web_dir.empty()) return;
  std::error_code error;
  const std::filesystem::path root(options_.web_dir);
  if (!std::filesystem::is_directory(root, error)) {
    std::cerr << "gateway: web app folder " << options_.web_dir << " not found" << std::endl;
    return;
  }
  // The built app is small (a few hundred kB); serving it from memory keeps disk reads off the
  // event loop.
  for (auto it = std::filesystem::recursive_directory_iterator(root, error);
       it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (error || !it->is_regular_file()) continue;
    std::ifstream file(it->path(), std::ios::binary);
    std::ostringstream content;
    content << file.rdbuf();
    const std::string url = "/" + std::filesystem::relative(it->path(), root).generic_string();
    files_[url] = StaticFile{content.str(), ContentTypeFor(url)};
  }
}

ApiHandler::~ApiHandler() { blocking_.join(); }

void ApiHandler::SetListeningAddress(const std::string& host, int port, bool tls) {
  OidcRelyingParty::Options oidc;
  oidc.redirect_uri = absl::StrCat(options_.public_url.empty()
                                       ? absl::StrCat(tls ? "https://" : "http://", host, ":", port)
                                       : std::string(absl::StripSuffix(options_.public_url, "/")),
                                   "/auth/oidc/callback");
  oidc.http.ca_file = options_.oidc_ca_file;
  auto party = std::make_shared<OidcRelyingParty>(oidc);
  absl::MutexLock lock(&oidc_mu_);
  oidc_ = std::move(party);
}

IdentityCall ApiHandler::IdentityCaller() const {
  return [this](const std::string& method, const std::string& json) -> absl::StatusOr<std::string> {
    absl::StatusOr<MethodRoute> route = transcoder_.Resolve("IdentityService", method);
    if (!route.ok()) return route.status();
    return transcoder_.CallUnary(*route, json, {});
  };
}

void ApiHandler::HandleOidc(const HttpRequest& request, std::shared_ptr<Exchange> exchange) {
  const std::string id = request.request_id;
  std::shared_ptr<OidcRelyingParty> party;
  {
    absl::MutexLock lock(&oidc_mu_);
    party = oidc_;
  }
  if (!party) {
    return exchange->Respond(
        ErrorResponse(absl::UnavailableError("single sign-on is not set up yet"), id));
  }
  // Every query parameter decoded and UTF-8 before anything looks at it.
  std::map<std::string, std::string> query;
  for (absl::string_view part : absl::StrSplit(request.query, '&', absl::SkipEmpty())) {
    const size_t equals = part.find('=');
    absl::StatusOr<std::string> name = UrlDecode("query", part.substr(0, equals));
    absl::StatusOr<std::string> value =
        UrlDecode("query", equals == absl::string_view::npos ? "" : part.substr(equals + 1));
    if (!name.ok() || !value.ok()) {
      return exchange->Respond(ErrorResponse(name.ok() ? value.status() : name.status(), id));
    }
    query[*name] = *value;
  }
  const std::string path = request.path;
  if (path == "/auth/oidc/providers" || path == "/auth/oidc/start") {
    absl::Status checked = CheckCode("job_centre", query["job_centre"]);
    if (checked.ok() && path == "/auth/oidc/start")
      checked = CheckCode("provider", query["provider"]);
    if (!checked.ok()) return exchange->Respond(ErrorResponse(checked, id));
  } else if (path != "/auth/oidc/callback") {
    return exchange->Respond(ErrorResponse(absl::NotFoundError("path: no such route"), id));
  }
  const bool secure = request.tls || options_.secure_cookie;
  boost::asio::post(blocking_, [this, party, request, exchange, query, secure, id]() {
    const std::string& route = request.path;
    if (route == "/auth/oidc/providers") {
      absl::StatusOr<std::string> listed =
          ListOidcProviders(IdentityCaller(), query.at("job_centre"));
      if (!listed.ok()) return exchange->Respond(ErrorResponse(listed.status(), id));
      return exchange->Respond(JsonResponse(*listed));
    }
    if (route == "/auth/oidc/start") {
      absl::StatusOr<OidcStart> start =
          StartOidcSignIn(*party, IdentityCaller(), query.at("job_centre"), query.at("provider"));
      if (start.ok() && !IsHeaderSafe(start->authorization_url, 8192)) {
        start = absl::InternalError("identity provider: unusable authorization address");
      }
      if (!start.ok()) return exchange->Respond(ErrorResponse(start.status(), id));
      HttpResponse response = JsonResponse("{}");
      response.status = 302;
      response.headers.emplace_back("Location", start->authorization_url);
      response.headers.emplace_back("Set-Cookie", OidcAttemptCookie(start->attempt, secure));
      response.headers.emplace_back("Cache-Control", "no-store");
      return exchange->Respond(std::move(response));
    }
    absl::StatusOr<std::string> login =
        FinishOidcSignIn(*party, IdentityCaller(), CookieValue(request.cookie, kOidcAttemptCookie),
                         query, request.remote_address);
    absl::StatusOr<SignedIn> signed_in =
        login.ok() ? authenticator_.Adopt(*login) : absl::StatusOr<SignedIn>(login.status());
    HttpResponse response = JsonResponse("{}");
    response.status = 302;
    response.headers.emplace_back("Set-Cookie", ClearOidcAttemptCookie(secure));
    response.headers.emplace_back("Cache-Control", "no-store");
    if (!signed_in.ok()) {
      std::cerr << "gateway: request " << id
                << ": single sign-on refused: " << signed_in.status().message() << std::endl;
      response.headers.emplace_back("Location", "/?sso=refused");
    } else {
      response.headers.emplace_back("Set-Cookie", SessionCookie(request, signed_in->session_token));
      response.headers.emplace_back("Location", "/");
    }
    exchange->Respond(std::move(response));
  });
}

std::string ApiHandler::SessionCookie(const HttpRequest& request, const std::string& token) const {
  return absl::StrCat(kSessionCookie, "=", token, "; Path=/; HttpOnly; SameSite=Strict",
                      request.tls || options_.secure_cookie ? "; Secure" : "",
                      token.empty() ? "; Max-Age=0" : "");
}

absl::Status ApiHandler::CheckStateChanging(const HttpRequest& request, bool need_json) const {
  // Behind a TLS-terminating ingress (--secure-cookie) the browser's origin is https too.
  const bool https = request.tls || options_.secure_cookie;
  if (!OriginAllowed(request.origin, request.host, https, options_.allowed_origins)) {
    return absl::PermissionDeniedError(request.origin.empty()
                                           ? "origin: the Origin header is required"
                                           : "origin: requests from this origin are not accepted");
  }
  if (need_json && !IsJsonContentType(request.content_type)) {
    return absl::PermissionDeniedError("content_type: must be application/json");
  }
  return absl::OkStatus();
}

void ApiHandler::Handle(const HttpRequest& request, std::shared_ptr<Exchange> exchange) {
  const std::string& path = request.path;
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  const std::string& id = request.request_id;
  if (!get && !post) {
    HttpResponse response = ErrorResponse(
        absl::UnimplementedError(absl::StrCat(
            "method: ",
            request.method.size() <= 16 && IsHeaderSafe(request.method, 16) ? request.method
                                                                            : std::string("this"),
            " is not allowed; use GET or POST")),
        id, 405);
    response.headers.emplace_back("Allow", "GET, POST");
    exchange->Respond(std::move(response));
    return;
  }
  if (path == "/healthz") {
    exchange->Respond(JsonResponse(R"({"status":"SERVING"})"));
    return;
  }
  if (get && absl::StartsWith(path, "/auth/oidc/")) return HandleOidc(request, std::move(exchange));
  if (!absl::StartsWith(path, "/api/")) {
    if (post) {
      exchange->Respond(ErrorResponse(absl::NotFoundError("path: no such route"), id));
    } else {
      HandleWebApp(request, exchange);
    }
    return;
  }
  if (post && path == "/api/login") return HandleLogin(request, std::move(exchange), false);
  if (post && path == "/api/setup-code") return HandleLogin(request, std::move(exchange), true);
  if (post && path == "/api/logout") return HandleLogout(request, std::move(exchange));
  if (post && path == "/api/logout-everywhere") {
    return HandleLogoutEverywhere(request, std::move(exchange));
  }
  if (post && path == "/api/password") return HandlePassword(request, std::move(exchange));
  if (get && path == "/api/session") return HandleSession(request, std::move(exchange));

  std::vector<absl::string_view> parts = absl::StrSplit(absl::string_view(path).substr(5), '/');
  if (post && parts.size() == 2 && IsName(parts[0]) && IsName(parts[1])) {
    return HandleUnary(request, std::move(exchange), std::string(parts[0]), std::string(parts[1]));
  }
  if (get && parts.size() == 3 && IsName(parts[0]) && IsName(parts[1]) && parts[2] == "stream") {
    return HandleStream(request, std::move(exchange), std::string(parts[0]), std::string(parts[1]));
  }
  exchange->Respond(ErrorResponse(absl::NotFoundError("path: no such API route"), id));
}

void ApiHandler::HandleLogin(const HttpRequest& request, std::shared_ptr<Exchange> exchange,
                             bool setup_code) {
  const std::string id = request.request_id;
  absl::Status allowed = CheckStateChanging(request, true);
  if (!allowed.ok()) return exchange->Respond(ErrorResponse(allowed, id));
  absl::StatusOr<nlohmann::json> body = JsonObject(request.body);
  if (!body.ok()) return exchange->Respond(ErrorResponse(body.status(), id));
  SignIn sign_in;
  sign_in.client_address = request.remote_address;
  absl::StatusOr<std::string> job_centre = CodeField(*body, "job_centre");
  absl::StatusOr<std::string> staff_code = CodeField(*body, "staff_code");
  absl::StatusOr<std::string> password =
      StringField(*body, setup_code ? "new_password" : "password", kMaxPassword);
  absl::StatusOr<std::string> code =
      setup_code ? StringField(*body, "setup_code", 256) : absl::StatusOr<std::string>("");
  for (const auto* field : {&job_centre, &staff_code, &code, &password}) {
    if (!field->ok()) return exchange->Respond(ErrorResponse(field->status(), id));
  }
  sign_in.job_centre = *job_centre;
  sign_in.staff_code = *staff_code;
  sign_in.password = *password;
  sign_in.setup_code = *code;
  auto done = [this, request, exchange](absl::StatusOr<SignedIn> signed_in) {
    if (!signed_in.ok()) {
      return exchange->Respond(ErrorResponse(signed_in.status(), request.request_id));
    }
    HttpResponse response = JsonResponse(signed_in->caller.staff_json);
    response.headers.emplace_back("Set-Cookie", SessionCookie(request, signed_in->session_token));
    response.headers.emplace_back("Cache-Control", "no-store");
    exchange->Respond(std::move(response));
  };
  if (setup_code) {
    authenticator_.RedeemSetupCode(std::move(sign_in), std::move(done));
  } else {
    authenticator_.Login(std::move(sign_in), std::move(done));
  }
}

void ApiHandler::HandleLogout(const HttpRequest& request, std::shared_ptr<Exchange> exchange) {
  // No body is needed (and some clients send none, without Content-Length); a body that is
  // there must be JSON.
  absl::Status allowed = CheckStateChanging(request, !request.body.empty());
  if (!allowed.ok()) return exchange->Respond(ErrorResponse(allowed, request.request_id));
  const std::string token = SessionToken(request);
  auto cleared = [this, request]() {
    HttpResponse response = JsonResponse("{}");
    response.headers.emplace_back("Set-Cookie", SessionCookie(request, ""));
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
  };
  if (token.empty()) return exchange->Respond(cleared());
  authenticator_.Logout(token, [request, exchange, cleared](absl::StatusOr<int> ended) {
    if (!ended.ok() && ended.status().code() != absl::StatusCode::kUnauthenticated) {
      return exchange->Respond(ErrorResponse(ended.status(), request.request_id));
    }
    exchange->Respond(cleared());
  });
}

void ApiHandler::HandleLogoutEverywhere(const HttpRequest& request,
                                        std::shared_ptr<Exchange> exchange) {
  absl::Status allowed = CheckStateChanging(request, !request.body.empty());
  if (!allowed.ok()) return exchange->Respond(ErrorResponse(allowed, request.request_id));
  const std::string token = SessionToken(request);
  if (token.empty()) {
    return exchange->Respond(
        ErrorResponse(absl::UnauthenticatedError("log in first"), request.request_id));
  }
  authenticator_.LogoutEverywhere(token, [this, request, exchange](absl::StatusOr<int> ended) {
    if (!ended.ok()) return exchange->Respond(ErrorResponse(ended.status(), request.request_id));
    HttpResponse response = JsonResponse(nlohmann::json({{"sessions_ended", *ended}}).dump());
    response.headers.emplace_back("Set-Cookie", SessionCookie(request, ""));
    exchange->Respond(std::move(response));
  });
}

void ApiHandler::HandlePassword(const HttpRequest& request, std::shared_ptr<Exchange> exchange) {
  const std::string id = request.request_id;
  absl::Status allowed = CheckStateChanging(request, true);
  if (!allowed.ok()) return exchange->Respond(ErrorResponse(allowed, id));
  const std::string token = SessionToken(request);
  if (token.empty()) {
    return exchange->Respond(ErrorResponse(absl::UnauthenticatedError("log in first"), id));
  }
  absl::StatusOr<nlohmann::json> body = JsonObject(request.body);
  if (!body.ok()) return exchange->Respond(ErrorResponse(body.status(), id));
  absl::StatusOr<std::string> current = StringField(*body, "current_password", kMaxPassword);
  absl::StatusOr<std::string> next = StringField(*body, "new_password", kMaxPassword);
  for (const auto* field : {&current, &next}) {
    if (!field->ok()) return exchange->Respond(ErrorResponse(field->status(), id));
  }
  authenticator_.ChangePassword(token, *current, *next,
                                [id, exchange](absl::StatusOr<int> changed) {
                                  if (!changed.ok()) {
                                    return exchange->Respond(ErrorResponse(changed.status(), id));
                                  }
                                  exchange->Respond(JsonResponse("{}"));
                                });
}

void ApiHandler::HandleSession(const HttpRequest& request, std::shared_ptr<Exchange> exchange) {
  const std::string id = request.request_id;
  const std::string token = SessionToken(request);
  if (token.empty()) {
    return exchange->Respond(ErrorResponse(absl::UnauthenticatedError("log in first"), id));
  }
  authenticator_.Authenticate(token, [id, exchange](absl::StatusOr<Caller> caller) {
    if (!caller.ok()) return exchange->Respond(ErrorResponse(caller.status(), id));
    HttpResponse response = JsonResponse(caller->staff_json);
    response.headers.emplace_back("Cache-Control", "no-store");
    exchange->Respond(std::move(response));
  });
}

void ApiHandler::HandleUnary(const HttpRequest& request, std::shared_ptr<Exchange> exchange,
                             const std::string& service, const std::string& method) {
  const std::string id = request.request_id;
  absl::Status allowed = CheckStateChanging(request, true);
  if (!allowed.ok()) return exchange->Respond(ErrorResponse(allowed, id));
  const std::string token = SessionToken(request);
  if (token.empty()) {
    return exchange->Respond(ErrorResponse(absl::UnauthenticatedError("log in first"), id));
  }
  absl::StatusOr<MethodRoute> route = transcoder_.Resolve(service, method);
  if (!route.ok()) return exchange->Respond(ErrorResponse(route.status(), id));
  if (!IsValidUtf8(request.body)) {
    return exchange->Respond(ErrorResponse(absl::InvalidArgumentError("body: not UTF-8"), id));
  }
  authenticator_.Authenticate(token, [this, id, exchange, route = *route,
                                      body = request.body](absl::StatusOr<Caller> caller) {
    if (!caller.ok()) return exchange->Respond(ErrorResponse(caller.status(), id));
    Metadata metadata = caller->metadata;
    metadata.emplace_back("x-request-id", id);
    transcoder_.CallUnaryAsync(route, body, metadata,
                               [id, exchange](absl::StatusOr<std::string> reply) {
                                 if (!reply.ok()) {
                                   return exchange->Respond(ErrorResponse(reply.status(), id));
                                 }
                                 HttpResponse response = JsonResponse(std::move(*reply));
                                 response.headers.emplace_back("Cache-Control", "no-store");
                                 exchange->Respond(std::move(response));
                               });
  });
}

void ApiHandler::HandleStream(const HttpRequest& request, std::shared_ptr<Exchange> exchange,
                              const std::string& service, const std::string& method) {
  const std::string id = request.request_id;
  const std::string token = SessionToken(request);
  if (token.empty()) {
    return exchange->Respond(ErrorResponse(absl::UnauthenticatedError("log in first"), id));
  }
  absl::StatusOr<MethodRoute> route = transcoder_.Resolve(service, method);
  if (!route.ok()) return exchange->Respond(ErrorResponse(route.status(), id));
  if (route->method->client_streaming() || !route->method->server_streaming()) {
    return exchange->Respond(ErrorResponse(
        absl::FailedPreconditionError(absl::StrCat(method, " is not a server-streaming method")),
        id));
  }
  std::string json;
  if (std::optional<std::string> raw = QueryParameter(request.query, "json")) {
    absl::StatusOr<std::string> decoded = UrlDecode("json", *raw);
    if (!decoded.ok()) return exchange->Respond(ErrorResponse(decoded.status(), id));
    json = std::move(*decoded);
  }
  absl::StatusOr<std::string> bytes = transcoder_.RequestFromJson(*route, json);
  if (!bytes.ok()) return exchange->Respond(ErrorResponse(bytes.status(), id));
  authenticator_.Authenticate(token, [this, id, token, exchange, route = *route,
                                      bytes = *bytes](absl::StatusOr<Caller> caller) {
    if (!caller.ok()) return exchange->Respond(ErrorResponse(caller.status(), id));
    absl::Status watching = hub_.Watch(route, bytes, *caller, token, exchange);
    if (!watching.ok()) exchange->Respond(ErrorResponse(watching, id));
  });
}

void ApiHandler::HandleWebApp(const HttpRequest& request,
                              const std::shared_ptr<Exchange>& exchange) {
  const std::string& id = request.request_id;
  if (options_.web_dir.empty()) {
    return exchange->Respond(ErrorResponse(absl::NotFoundError("no web app is served"), id));
  }
  auto file = files_.find(request.path);
  const bool asset = file != files_.end() && request.path != "/index.html";
  if (!asset) file = files_.find("/index.html");  // client-side routes (/team/T1, ...)
  if (file == files_.end()) {
    return exchange->Respond(
        ErrorResponse(absl::NotFoundError("the web app is not built (no index.html)"), id));
  }
  HttpResponse response;
  response.content_type = file->second.content_type;
  response.body = file->second.content;
  // Built assets carry a content hash in their names and never change; the rest may.
  response.headers.emplace_back("Cache-Control", asset && absl::StartsWith(request.path, "/assets/")
                                                     ? "public, max-age=31536000, immutable"
                                                     : "no-cache");
  exchange->Respond(std::move(response));
}

}  // namespace forecast::gateway
