// A stand-in Authenticator for gateway_test, whose backends are stand-in gRPC
// servers (not the real services): one shared password, the identity confirmed with
// CaseService.WhoAmI, in-memory sessions (SessionStore), and the caller passed to the stand-in
// backends as "x-job-centre"/"x-staff" metadata. The real services refuse such metadata; the
// product's gateway uses IdentityAuthenticator only (services/gateway/authenticator.h).
#ifndef TESTS_GATEWAY_STAND_IN_AUTHENTICATOR_H_
#define TESTS_GATEWAY_STAND_IN_AUTHENTICATOR_H_

#include <string>

#include "services/gateway/authenticator.h"
#include "services/gateway/rpc_transcoder.h"
#include "services/gateway/session_store.h"

namespace forecast::gateway {

class StandInAuthenticator final : public Authenticator {
 public:
  // `transcoder` (with a CaseService backend) and `sessions` must outlive this.
  StandInAuthenticator(const RpcTranscoder& transcoder, SessionStore& sessions,
                       std::string demo_password);
  void Login(SignIn sign_in, Done<SignedIn> done) override;
  void Authenticate(const std::string& session_token, Done<Caller> done) override;
  void Logout(const std::string& session_token, Done<int> done) override;
  void LogoutEverywhere(const std::string& session_token, Done<int> done) override;
  void RedeemSetupCode(SignIn sign_in, Done<SignedIn> done) override;
  void ChangePassword(const std::string& session_token, std::string current_password,
                      std::string new_password, Done<int> done) override;
  absl::StatusOr<SignedIn> Adopt(const std::string& login_response_json) override;

 private:
  const RpcTranscoder& transcoder_;
  SessionStore& sessions_;
  const std::string demo_password_;
};

}  // namespace forecast::gateway

#endif  // TESTS_GATEWAY_STAND_IN_AUTHENTICATOR_H_
