// What the gateway answers, independent of the transport (the Beast server feeds it; tests and
// fuzzers can call it directly). Routes:
//   GET  /healthz                                      -> {"status":"SERVING"}, no session needed
//   POST /api/login {job_centre, staff_code, password} -> StaffMember, sets the session cookie
//   POST /api/setup-code {job_centre, staff_code, setup_code, new_password}
//                                                      -> StaffMember, first password, signed in
//   POST /api/password {current_password, new_password} -> {}
//   POST /api/logout                                   -> {}, ends the session, clears the cookie
//   POST /api/logout-everywhere                        -> {sessions_ended}, every session of the
//   person GET  /api/session                                  -> StaffMember of the session, or 401
//   POST /api/<Service>/<Method> (JSON body)           -> the reply as JSON
//   GET  /api/<Service>/<Method>/stream?json=<request> -> text/event-stream (StreamHub)
//   GET  /auth/oidc/providers?job_centre=..           -> {providers: [{id, display_name}]}
//   GET  /auth/oidc/start?job_centre=..&provider=..   -> 302 to the job centre's identity provider
//   GET  /auth/oidc/callback                           -> 302 to / signed in, or /?sso=refused
//   GET  anything else                                 -> a file of the web app, else index.html
// Every POST must carry an allowed Origin and (except a bodiless logout) a JSON content type,
// else 403. Every error is {code, message, field?, request_id}; RESOURCE_EXHAUSTED adds a
// Retry-After header when the service said how long to wait.
#ifndef SERVICES_GATEWAY_API_HANDLER_H_
#define SERVICES_GATEWAY_API_HANDLER_H_

#include <map>
#include <memory>

#include <boost/asio/thread_pool.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/gateway/authenticator.h"
#include "services/gateway/exchange.h"
#include "services/gateway/oidc_relying_party.h"
#include "services/gateway/rpc_transcoder.h"
#include "services/gateway/stream_hub.h"

namespace forecast::gateway {

struct ApiOptions {
  std::string web_dir;  // the built web app (clients/web/dist); empty: none
  // Origins allowed on state-changing requests ("https://forecast.example.dk"); empty: the
  // gateway's own origin (scheme + Host header).
  std::vector<std::string> allowed_origins;
  // Browsers reach the gateway over HTTPS terminated by an ingress: the cookie gets Secure and
  // the expected origin is https. Over the gateway's own TLS both hold anyway.
  bool secure_cookie = false;
  // This gateway as browsers reach it (e.g. https://forecast.kommune.dk), for the single sign-on
  // callback address <public_url>/auth/oidc/callback; empty: <scheme>://<host>:<bound port>.
  std::string public_url;
  std::string oidc_ca_file;  // CA bundle for https identity providers; empty: the system's
};

class ApiHandler {
 public:
  // Reads the web app into memory. `transcoder`, `authenticator` and `hub` must outlive this.
  ApiHandler(ApiOptions options, const RpcTranscoder& transcoder, Authenticator& authenticator,
             StreamHub& hub);

  // Waits for single sign-on work still running.
  ~ApiHandler();

  // Answers `request` through `exchange`, at once or later from a gRPC thread. Thread-safe.
  void Handle(const HttpRequest& request, std::shared_ptr<Exchange> exchange);

  // Sets up single sign-on once the listening address is known (for the callback address when
  // no public_url is configured). Thread-safe.
  void SetListeningAddress(const std::string& host, int port, bool tls);

 private:
  struct StaticFile {
    std::string content;
    std::string content_type;
  };

  void HandleLogin(const HttpRequest& request, std::shared_ptr<Exchange> exchange, bool setup_code);
  void HandleLogout(const HttpRequest& request, std::shared_ptr<Exchange> exchange);
  void HandleLogoutEverywhere(const HttpRequest& request, std::shared_ptr<Exchange> exchange);
  void HandlePassword(const HttpRequest& request, std::shared_ptr<Exchange> exchange);
  void HandleSession(const HttpRequest& request, std::shared_ptr<Exchange> exchange);
  void HandleUnary(const HttpRequest& request, std::shared_ptr<Exchange> exchange,
                   const std::string& service, const std::string& method);
  void HandleStream(const HttpRequest& request, std::shared_ptr<Exchange> exchange,
                    const std::string& service, const std::string& method);
  void HandleWebApp(const HttpRequest& request, const std::shared_ptr<Exchange>& exchange);
  // Single sign-on: the relying party blocks (provider and identity calls), so these run on
  // blocking_, never on the event loop.
  void HandleOidc(const HttpRequest& request, std::shared_ptr<Exchange> exchange);
  IdentityCall IdentityCaller() const;
  // PERMISSION_DENIED unless the Origin is allowed and (when `need_json`) the body is JSON.
  absl::Status CheckStateChanging(const HttpRequest& request, bool need_json) const;
  std::string SessionCookie(const HttpRequest& request, const std::string& token) const;

  const ApiOptions options_;
  const RpcTranscoder& transcoder_;
  Authenticator& authenticator_;
  StreamHub& hub_;
  std::map<std::string, StaticFile> files_;  // by URL path; read-only after construction
  absl::Mutex oidc_mu_;
  std::shared_ptr<OidcRelyingParty> oidc_ ABSL_GUARDED_BY(oidc_mu_);
  boost::asio::thread_pool blocking_{4};
};

// The error answer for `status`: JSON {code, message, field?, request_id}, the mapped HTTP
// status, and Retry-After for RESOURCE_EXHAUSTED when known. Thread-safe (pure).
HttpResponse ErrorResponse(const absl::Status& status, const std::string& request_id,
                           int http_status = 0);

// The session token in the request's cookie, or "" when absent or not token-shaped.
std::string SessionToken(const HttpRequest& request);

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_API_HANDLER_H_
