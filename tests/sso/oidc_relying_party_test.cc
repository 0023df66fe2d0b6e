// The gateway's relying party against a provider played on port 0: the authorization request
// carries state, nonce and an S256 challenge; the callback exchanges the code with the matching
// verifier; a replayed, foreign, mismatched, expired or refused callback goes no further.
#include "services/gateway/oidc_relying_party.h"

#include <httplib.h>

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

namespace forecast::gateway {
namespace {

std::map<std::string, std::string> QueryOf(const std::string& url) {
  std::map<std::string, std::string> out;
  httplib::Params params;
  httplib::detail::parse_query_text(url.substr(url.find('?') + 1), params);
  for (const auto& [k, v] : params) out[k] = v;
  return out;
}

class TokenEndpoint {
 public:
  TokenEndpoint() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    issuer_ = "http://127.0.0.1:" + std::to_string(port_);
    server_.Get("/.well-known/openid-configuration",
                [this](const httplib::Request&, httplib::Response& r) {
                  r.set_content(nlohmann::json{{"issuer", issuer_},
                                               {"authorization_endpoint", issuer_ + "/auth"},
                                               {"token_endpoint", issuer_ + "/token"},
                                               {"jwks_uri", issuer_ + "/jwks"}}
                                    .dump(),
                                "application/json");
                });
    server_.Post("/token", [this](const httplib::Request& q, httplib::Response& r) {
      std::lock_guard<std::mutex> lock(mu_);
      ++exchanges;
      const bool ok = q.get_param_value("grant_type") == "authorization_code" &&
                      q.get_param_value("code") == code && q.get_param_value("client_id") == "rp" &&
                      q.get_param_value("redirect_uri") == "http://gw/auth/oidc/callback" &&
                      PkceChallenge(q.get_param_value("code_verifier")) == challenge;
      code.clear();  // codes are single-use
      if (!ok) {
        r.status = 400;
        r.set_content(R"({"error":"invalid_grant"})", "application/json");
        return;
      }
      r.set_content(R"({"id_token":"the-id-token","token_type":"Bearer"})", "application/json");
    });
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~TokenEndpoint() {
    server_.stop();
    thread_.join();
  }
  // The provider's side of the authorization request: remembers the challenge, issues a code.
  std::string Authorize(const std::string& url) {
    std::lock_guard<std::mutex> lock(mu_);
    challenge = QueryOf(url)["code_challenge"];
    code = "code-" + std::to_string(++issued_);
    return code;
  }
  const std::string& issuer() const { return issuer_; }
  int exchanges = 0;

 private:
  httplib::Server server_;
  int port_ = 0;
  int issued_ = 0;
  std::string issuer_;
  std::mutex mu_;
  std::string challenge;
  std::string code;
  std::thread thread_;
};

class RelyingPartyTest : public ::testing::Test {
 protected:
  RelyingPartyTest() {
    OidcRelyingParty::Options options;
    options.redirect_uri = "http://gw/auth/oidc/callback";
    party_ = std::make_unique<OidcRelyingParty>(options, [this] { return now_; });
  }
  OidcProviderRef Ref() const { return {"JC1", "kommune", provider_.issuer(), "rp"}; }

  absl::Time now_ = absl::Now();
  TokenEndpoint provider_;
  std::unique_ptr<OidcRelyingParty> party_;
};

TEST_F(RelyingPartyTest, CodeFlowWithPkceYieldsTheIdTokenAndTheAttemptsNonce) {
  absl::StatusOr<OidcStart> start = party_->Start(Ref());
  ASSERT_TRUE(start.ok()) << start.status();
  EXPECT_EQ(start->authorization_url.rfind(provider_.issuer() + "/auth?", 0), 0u);
  std::map<std::string, std::string> request = QueryOf(start->authorization_url);
  EXPECT_EQ(request["response_type"], "code");
  EXPECT_EQ(request["client_id"], "rp");
  EXPECT_EQ(request["redirect_uri"], "http://gw/auth/oidc/callback");
  EXPECT_EQ(request["code_challenge_method"], "S256");
  EXPECT_EQ(request["scope"], "openid profile");
  EXPECT_GE(request["state"].size(), 43u);
  EXPECT_GE(request["nonce"].size(), 43u);
  EXPECT_NE(request["state"], request["nonce"]);

  const std::string code = provider_.Authorize(start->authorization_url);
  absl::StatusOr<OidcCallbackResult> result = party_->Finish(
      start->attempt, {{"code", code}, {"state", request["state"]}, {"iss", provider_.issuer()}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->id_token, "the-id-token");
  EXPECT_EQ(result->nonce, request["nonce"]);
  EXPECT_EQ(result->job_centre, "JC1");
  EXPECT_EQ(result->provider_id, "kommune");
  EXPECT_EQ(party_->pending(), 0u);

  // The same callback again (a replayed state) is refused before any code exchange.
  const int exchanges = provider_.exchanges;
  absl::StatusOr<OidcCallbackResult> replay =
      party_->Finish(start->attempt, {{"code", code}, {"state", request["state"]}});
  EXPECT_TRUE(absl::IsUnauthenticated(replay.status()));
  EXPECT_EQ(provider_.exchanges, exchanges);
}

TEST_F(RelyingPartyTest, RefusesForeignMismatchedExpiredAndRefusedCallbacks) {
  auto begin = [&] {
    absl::StatusOr<OidcStart> start = party_->Start(Ref());
    EXPECT_TRUE(start.ok());
    return std::make_pair(*start, QueryOf(start->authorization_url));
  };
  // Another browser (no or another attempt cookie) cannot finish this attempt.
  auto [a, qa] = begin();
  const std::string code = provider_.Authorize(a.authorization_url);
  EXPECT_TRUE(absl::IsUnauthenticated(
      party_->Finish("", {{"code", code}, {"state", qa["state"]}}).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(
      party_->Finish("someone-elses", {{"code", code}, {"state", qa["state"]}}).status()));
  // A state that is not the attempt's is refused, and uses the attempt up.
  EXPECT_TRUE(absl::IsUnauthenticated(
      party_->Finish(a.attempt, {{"code", code}, {"state", "x"}}).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(
      party_->Finish(a.attempt, {{"code", code}, {"state", qa["state"]}}).status()));

  auto [b, qb] = begin();
  absl::Status refused =
      party_->Finish(b.attempt, {{"error", "access_denied"}, {"state", qb["state"]}}).status();
  EXPECT_TRUE(absl::IsUnauthenticated(refused));
  EXPECT_NE(refused.message().find("access_denied"), absl::string_view::npos);

  auto [c, qc] = begin();
  EXPECT_TRUE(absl::IsUnauthenticated(
      party_
          ->Finish(c.attempt, {{"code", provider_.Authorize(c.authorization_url)},
                               {"state", qc["state"]},
                               {"iss", "https://mix-up.example"}})
          .status()));

  auto [d, qd] = begin();
  now_ += absl::Minutes(11);
  EXPECT_TRUE(absl::IsUnauthenticated(
      party_
          ->Finish(d.attempt,
                   {{"code", provider_.Authorize(d.authorization_url)}, {"state", qd["state"]}})
          .status()));
  EXPECT_EQ(provider_.exchanges, 0);

  // A code the provider did not issue for this verifier fails at the token endpoint.
  auto [e, qe] = begin();
  provider_.Authorize(e.authorization_url);
  EXPECT_TRUE(absl::IsUnauthenticated(
      party_->Finish(e.attempt, {{"code", "forged-code"}, {"state", qe["state"]}}).status()));
}

TEST_F(RelyingPartyTest, PendingAttemptsAreBounded) {
  OidcRelyingParty::Options options;
  options.redirect_uri = "http://gw/auth/oidc/callback";
  options.max_attempts = 3;
  OidcRelyingParty small(options);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(small.Start(Ref()).ok());
  EXPECT_EQ(small.pending(), 3u);
}

TEST(Pkce, S256MatchesRfc7636AppendixB) {
  EXPECT_EQ(PkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  EXPECT_EQ(QueryEscape("a b&c/é"), "a%20b%26c%2F%C3%A9");
}

}  // namespace
}  // namespace forecast::gateway
