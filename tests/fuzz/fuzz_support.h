// What the gateway's fuzzers share: an Exchange that records the answer and checks what every
// answer must be (a status, and for errors a JSON body with code, message and request_id), and
// an Authenticator that makes no calls and checks that nothing unsafe reaches it.
#ifndef TESTS_FUZZ_FUZZ_SUPPORT_H_
#define TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "services/gateway/api_handler.h"
#include "services/gateway/authenticator.h"
#include "services/gateway/exchange.h"
#include "services/gateway/request_checks.h"
#include "services/gateway/rpc_transcoder.h"
#include "services/gateway/stream_hub.h"

namespace forecast::gateway::fuzz {

inline void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

// Every answer: a known status; an error carries {code, message, request_id} as JSON; every
// header value is one a header can carry.
class CheckingExchange final : public Exchange {
 public:
  void Respond(HttpResponse response) override {
    Check(!answered, "answered twice");
    answered = true;
    Check(response.status >= 200 && response.status < 600, "status out of range");
    for (const auto& [name, value] : response.headers) {
      Check(IsHeaderSafe(name, 256) && IsHeaderSafe(value, 16384), "unsafe header");
    }
    if (response.status >= 400) {
      nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
      Check(body.is_object() && body.contains("code") && body.contains("message") &&
                body.contains("request_id"),
            "error without JSON {code, message, request_id}");
    }
  }
  void StartEvents() override { answered = true; }
  void SendEvent(std::string) override {}
  void EndEvents() override {}
  void OnClose(std::function<void()> on_close) override { on_close(); }
  bool answered = false;
};

// Signs anyone in whose values passed the gateway's checks; makes sure nothing else arrives.
class CheckingAuthenticator final : public Authenticator {
 public:
  void Login(SignIn sign_in, Done<SignedIn> done) override { SignInWith(sign_in, std::move(done)); }
  void RedeemSetupCode(SignIn sign_in, Done<SignedIn> done) override {
    SignInWith(sign_in, std::move(done));
  }
  void Authenticate(const std::string& token, Done<Caller> done) override {
    Check(IsSessionToken(token), "a session token that is not token-shaped reached Authenticate");
    done(absl::UnauthenticatedError("log in first"));
  }
  void Logout(const std::string& token, Done<int> done) override {
    Check(IsSessionToken(token), "bad token reached Logout");
    done(1);
  }
  void LogoutEverywhere(const std::string& token, Done<int> done) override {
    Check(IsSessionToken(token), "bad token reached LogoutEverywhere");
    done(1);
  }
  void ChangePassword(const std::string& token, std::string, std::string, Done<int> done) override {
    Check(IsSessionToken(token), "bad token reached ChangePassword");
    done(0);
  }
  absl::StatusOr<SignedIn> Adopt(const std::string&) override {
    return absl::UnauthenticatedError("no");
  }

 private:
  void SignInWith(const SignIn& sign_in, Done<SignedIn> done) {
    // These become gRPC metadata in the legacy sign-in: they must be codes.
    Check(CheckCode("job_centre", sign_in.job_centre).ok(), "unchecked job_centre");
    Check(CheckCode("staff_code", sign_in.staff_code).ok(), "unchecked staff_code");
    Check(IsValidUtf8(sign_in.password), "password not UTF-8");
    grpc::ClientContext context;  // what a backend call would do with them
    context.AddMetadata("x-job-centre", sign_in.job_centre);
    context.AddMetadata("x-staff", sign_in.staff_code);
    SignedIn signed_in;
    signed_in.session_token = std::string(64, 'a');
    signed_in.caller = Caller{sign_in.job_centre, sign_in.staff_code, "{}", {}};
    done(std::move(signed_in));
  }
};

// The gateway's handler over backends that are never reached (nothing connects to port 1
// unless a call is made, and the checking authenticator never lets one be made).
struct Harness {
  Harness()
      : channel(grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials())),
        transcoder(
            {{"CaseService", channel}, {"ForecastService", channel}, {"IdentityService", channel}},
            absl::Seconds(1)),
        hub(transcoder, StreamLimits{}),
        handler(ApiOptions{}, transcoder, authenticator, hub) {}
  std::shared_ptr<grpc::Channel> channel;
  RpcTranscoder transcoder;
  CheckingAuthenticator authenticator;
  StreamHub hub;
  ApiHandler handler;
};

inline Harness& TheHarness() {
  static Harness* harness = new Harness();
  return *harness;
}

}  // namespace forecast::gateway::fuzz

#endif  // TESTS_FUZZ_FUZZ_SUPPORT_H_
