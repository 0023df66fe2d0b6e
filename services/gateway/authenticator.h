// Who is calling: sign-in, sessions and the credential every backend call carries.
//
// The product's implementation:
//  - IdentityAuthenticator: IdentityService (hosted by case-service) signs in and
//    keeps sessions in PostgreSQL; the browser's cookie holds only the opaque session token. The
//    gateway caches each session's short-lived access token in memory and calls RefreshSession
//    when it is about to expire or unknown (a restart, another replica), so every replica serves
//    every session. Backend calls carry "authorization: Bearer <access token>".
// (tests/gateway/stand_in_authenticator.h has a stand-in for tests whose backends are stand-ins.)
// All methods are asynchronous: `done` runs once, on a gRPC thread or the caller's.
#ifndef SERVICES_GATEWAY_AUTHENTICATOR_H_
#define SERVICES_GATEWAY_AUTHENTICATOR_H_

#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/gateway/rpc_transcoder.h"
#include "services/gateway/session_store.h"

namespace forecast::gateway {

// A signed-in caller, as every backend call presents them.
struct Caller {
  std::string job_centre;
  std::string staff_code;
  std::string staff_json;  // the StaffMember, as JSON
  Metadata metadata;       // the credential for backend calls
};

struct SignIn {
  std::string job_centre;
  std::string staff_code;
  std::string password;        // or, for RedeemSetupCode, the new password
  std::string setup_code;      // RedeemSetupCode only
  std::string client_address;  // the browser's address, for throttling and the audit
};

struct SignedIn {
  std::string session_token;   // goes into the cookie, nothing else does
  absl::Time session_expires;  // InfiniteFuture when the session has no absolute end
  Caller caller;
};

class Authenticator {
 public:
  template <typename T>
  using Done = std::function<void(absl::StatusOr<T>)>;

  virtual ~Authenticator() = default;
  // Password sign-in. UNAUTHENTICATED (one wording for every failure), RESOURCE_EXHAUSTED when
  // throttled. Thread-safe.
  virtual void Login(SignIn sign_in, Done<SignedIn> done) = 0;
  // The caller behind a session token; UNAUTHENTICATED when unknown or ended. Thread-safe.
  virtual void Authenticate(const std::string& session_token, Done<Caller> done) = 0;
  // Ends one session (idempotent): the number of sessions ended. Thread-safe.
  virtual void Logout(const std::string& session_token, Done<int> done) = 0;
  // Ends every session of the session's staff member. Thread-safe.
  virtual void LogoutEverywhere(const std::string& session_token, Done<int> done) = 0;
  // First password from a set-up code; signs in. Thread-safe.
  virtual void RedeemSetupCode(SignIn sign_in, Done<SignedIn> done) = 0;
  // The session's staff member changes their password. Thread-safe.
  virtual void ChangePassword(const std::string& session_token, std::string current_password,
                              std::string new_password, Done<int> done) = 0;
  // A sign-in made elsewhere (IdentityService.LoginWithIdToken, single sign-on): its
  // LoginResponse as JSON becomes a session here. Thread-safe.
  virtual absl::StatusOr<SignedIn> Adopt(const std::string& login_response_json) = 0;
};

class IdentityAuthenticator final : public Authenticator {
 public:
  // `transcoder` must have an IdentityService backend and outlive this. Access tokens are
  // renewed `margin` before they expire, and the session is checked with the identity service
  // again once its cached token is `recheck` old, so that a logout on another gateway ends the
  // session here within `recheck`. `now` is the clock.
  IdentityAuthenticator(const RpcTranscoder& transcoder, absl::Duration margin,
                        std::function<absl::Time()> now,
                        absl::Duration recheck = absl::Seconds(15));
  void Login(SignIn sign_in, Done<SignedIn> done) override;
  void Authenticate(const std::string& session_token, Done<Caller> done) override;
  void Logout(const std::string& session_token, Done<int> done) override;
  void LogoutEverywhere(const std::string& session_token, Done<int> done) override;
  void RedeemSetupCode(SignIn sign_in, Done<SignedIn> done) override;
  void ChangePassword(const std::string& session_token, std::string current_password,
                      std::string new_password, Done<int> done) override;

  absl::StatusOr<SignedIn> Adopt(const std::string& login_response_json) override;

  // Sessions whose access token is cached. Thread-safe.
  size_t cached_sessions();

 private:
  struct Cached {
    Caller caller;
    absl::Time access_expires;
    absl::Time fetched;  // when the identity service last confirmed the session
  };
  // Takes a LoginResponse into the cache. Thread-safe.
  absl::StatusOr<SignedIn> Remember(const std::string& known_token,
                                    const std::string& response_bytes);
  // Calls IdentityService.<method> with a serialized request; parses the LoginResponse into the
  // cache. Thread-safe.
  void CallForSession(const std::string& method, std::string request, const Metadata& metadata,
                      const std::string& known_token, Done<SignedIn> done);
  void WithCaller(const std::string& session_token, Done<Caller> done);

  const RpcTranscoder& transcoder_;
  const absl::Duration margin_;
  const absl::Duration recheck_;
  const std::function<absl::Time()> now_;
  absl::Mutex mu_;
  std::map<std::string, Cached> cache_ ABSL_GUARDED_BY(mu_);  // by session token
};

// Compares every byte of the longer string, so that the time taken does not tell where the
// strings differ. Thread-safe (pure).
bool ConstantTimeEquals(const std::string& given, const std::string& expected);

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_AUTHENTICATOR_H_
