// The gateway's HTTP side: login and sessions, /api/<Service>/<Method> as JSON over the gRPC
// services (via RpcTranscoder), server-streaming methods as server-sent events, and the built
// web app with index.html for client-side routes.
//
// Routes:
//   POST /api/login {job_centre, staff_code, password} -> StaffMember, sets the session cookie
//   POST /api/logout                                   -> {}, clears it
//   GET  /api/session                                  -> StaffMember of the session, or 401
//   POST /api/<Service>/<Method> (JSON body)           -> the reply as JSON, or {code, message}
//   GET  /api/<Service>/<Method>/stream?json=<request> -> text/event-stream, one `data:` per reply
//   GET  /auth/oidc/providers?job_centre=..           -> {providers: [{id, display_name}]}
//   GET  /auth/oidc/start?job_centre=..&provider=..   -> 302 to the job centre's identity provider
//   GET  /auth/oidc/callback                           -> 302 to / signed in, or /?sso=refused
//   GET  /healthz                                      -> {"status":"SERVING"}, no session needed
//   GET  anything else                                 -> a file of the web app, else index.html
#ifndef SERVICES_GATEWAY_GATEWAY_SERVER_H_
#define SERVICES_GATEWAY_GATEWAY_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/gateway/oidc_relying_party.h"
#include "services/gateway/rpc_transcoder.h"
#include "services/gateway/session_store.h"

namespace httplib {
class Server;
class Request;
class Response;
}  // namespace httplib

namespace forecast::gateway {

struct GatewayOptions {
  std::string host = "127.0.0.1";
  int port = 0;                       // 0: any free port
  std::string web_dir;                // the built web app (clients/web/dist); empty: none
  // Staff authenticate with a shared demo password until the product has real credentials
  // (issue 2 leaves passwords for later); the identity itself is checked by the case service.
  std::string demo_password = "demo";
  absl::Duration stream_heartbeat = absl::Seconds(10);  // SSE comment when idle; finds gone clients
  int threads = 64;                   // each open event stream holds one
  // Adds Secure to the session cookie; set it when browsers reach the gateway over HTTPS (an
  // ingress terminating TLS), so that the cookie never travels in clear text.
  bool secure_cookie = false;
  // This gateway as browsers reach it (e.g. https://forecast.kommune.dk), for the single sign-on
  // callback address <public_url>/auth/oidc/callback; empty: http://<host>:<bound port>.
  std::string public_url;
  std::string oidc_ca_file;  // CA bundle for https identity providers; empty: the system's
};

class GatewayServer {
 public:
  // `transcoder` and `sessions` must outlive the server.
  GatewayServer(GatewayOptions options, const RpcTranscoder& transcoder, SessionStore& sessions);
  // Stops the server if it is running.
  ~GatewayServer();
  GatewayServer(const GatewayServer&) = delete;
  GatewayServer& operator=(const GatewayServer&) = delete;

  // Binds and serves on a background thread; returns the bound port. Call once.
  absl::StatusOr<int> Start();

  // Stops accepting, ends open event streams and joins the serving thread. Idempotent.
  // Not to be called concurrently with Start.
  void Stop();

 private:
  void RegisterRoutes();
  void HandleLogin(const httplib::Request& request, httplib::Response& response);
  void HandleLogout(const httplib::Request& request, httplib::Response& response);
  void HandleSession(const httplib::Request& request, httplib::Response& response);
  void HandleUnary(const httplib::Request& request, httplib::Response& response);
  void HandleStream(const httplib::Request& request, httplib::Response& response);
  void HandleOidcStart(const httplib::Request& request, httplib::Response& response);
  void HandleOidcCallback(const httplib::Request& request, httplib::Response& response);
  void HandleWebApp(const httplib::Request& request, httplib::Response& response);
  // Calls IdentityService (hosted with the case service) for the single sign-on routes.
  IdentityCall IdentityCaller() const;
  // The Set-Cookie value for a new session token.
  std::string SessionCookie(const std::string& token) const;
  // The session behind the request's cookie; answers 401 and returns nullopt when none.
  std::optional<SessionIdentity> RequireSession(const httplib::Request& request,
                                                httplib::Response& response);

  const GatewayOptions options_;
  const RpcTranscoder& transcoder_;
  SessionStore& sessions_;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<OidcRelyingParty> oidc_;  // made in Start, once the callback address is known
  std::thread serving_;
};

// The value of cookie `name` in a Cookie header, or "" when absent. Thread-safe (pure).
std::string CookieValue(const std::string& cookie_header, const std::string& name);

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_GATEWAY_SERVER_H_
