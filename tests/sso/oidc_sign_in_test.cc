// Single sign-on, service side: ID token verification (unit), and LoginWithIdToken against a
// real PostgreSQL database and a provider played by an HTTP server on port 0 that publishes
// discovery and a JWK Set, with tokens minted by this test (and by forgers with other keys).
#include <httplib.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "services/identity/oidc_http.h"
#include "services/identity/oidc_jwt.h"
#include "services/identity/oidc_sign_in.h"
#include "tests/sso/jwt_minter.h"
#include "tests/support/test_database.h"

namespace forecast::identity {
namespace {

using forecast::testing::JwtMinter;

constexpr char kAudience[] = "forecast-client";

nlohmann::json Claims(const std::string& issuer, absl::Time now, const std::string& nonce,
                      const std::string& staff = "cw1") {
  const int64_t t = absl::ToUnixSeconds(now);
  return {{"iss", issuer},
          {"sub", "subject-" + staff},
          {"aud", kAudience},
          {"exp", t + 300},
          {"iat", t},
          {"nonce", nonce},
          {"preferred_username", staff}};
}

IdTokenExpectations Expect(const std::string& issuer, absl::Time now, const std::string& nonce) {
  IdTokenExpectations e;
  e.issuer = issuer;
  e.audience = kAudience;
  e.nonce = nonce;
  e.now = now;
  return e;
}

absl::Status Verify(const std::string& token, const Jwk& key) {
  absl::StatusOr<Jws> jws = ParseJws(token);
  if (!jws.ok()) return jws.status();
  return VerifySignature(*jws, key);
}

Jwk KeyOf(const JwtMinter& minter) {
  nlohmann::json set = {{"keys", {minter.PublicJwk()}}};
  absl::StatusOr<std::vector<Jwk>> keys = ParseJwks(set.dump());
  EXPECT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 1u);
  return keys->at(0);
}

TEST(OidcJwt, VerifiesEachAlgorithmAndRefusesOtherKeys) {
  const absl::Time now = absl::Now();
  for (const std::string alg : {"ES256", "RS256", "EdDSA"}) {
    SCOPED_TRACE(alg);
    JwtMinter provider(alg, "k1");
    JwtMinter forger(alg, "k1");
    const std::string token = provider.Mint(Claims("https://idp", now, "n"));
    EXPECT_TRUE(Verify(token, KeyOf(provider)).ok());
    EXPECT_TRUE(absl::IsUnauthenticated(
        Verify(forger.Mint(Claims("https://idp", now, "n")), KeyOf(provider))));
    // One changed payload byte breaks the signature.
    std::string tampered = token;
    const size_t dot = tampered.find('.');
    tampered[dot + 5] = tampered[dot + 5] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(Verify(tampered, KeyOf(provider)).ok());
  }
}

TEST(OidcJwt, RefusesNoneHmacAndMismatchedAlgorithms) {
  JwtMinter provider("ES256", "k1");
  const std::string token = provider.Mint(Claims("https://idp", absl::Now(), "n"));
  const std::string body = token.substr(0, token.rfind('.'));
  // alg "none": header rewritten, no signature.
  const std::string none =
      Base64UrlEncode(R"({"alg":"none"})") + body.substr(body.find('.')) + ".x";
  EXPECT_FALSE(Verify(none, KeyOf(provider)).ok());
  EXPECT_FALSE(
      Verify(provider.Mint(Claims("https://idp", absl::Now(), "n"), "HS256"), KeyOf(provider))
          .ok());
  // An ES256 key never verifies an "RS256" header.
  EXPECT_FALSE(
      Verify(provider.Mint(Claims("https://idp", absl::Now(), "n"), "RS256"), KeyOf(provider))
          .ok());
  EXPECT_FALSE(ParseJws("a.b").ok());
  EXPECT_FALSE(ParseJws("!!.??.**").ok());
}

TEST(OidcJwt, ChecksIssuerAudienceTimesAndNonce) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  const nlohmann::json good = Claims("https://idp", now, "n1");
  EXPECT_TRUE(CheckIdTokenClaims(good, Expect("https://idp", now, "n1")).ok());
  auto refused = [&](nlohmann::json claims, const std::string& why) {
    absl::Status status = CheckIdTokenClaims(claims, Expect("https://idp", now, "n1"));
    EXPECT_TRUE(absl::IsUnauthenticated(status)) << why;
    EXPECT_NE(status.message().find(why), absl::string_view::npos) << status;
  };
  auto with = [&](const char* name, nlohmann::json value) {
    nlohmann::json c = good;
    c[name] = std::move(value);
    return c;
  };
  refused(with("iss", "https://other"), "issuer");
  refused(with("aud", "someone-else"), "audience");
  refused(with("aud", nlohmann::json::array({"someone-else", kAudience})), "authorized party");
  refused(with("azp", "someone-else"), "authorized party");
  refused(with("exp", absl::ToUnixSeconds(now) - 61), "expired");
  refused(with("iat", absl::ToUnixSeconds(now) + 120), "future");
  refused(with("iat", absl::ToUnixSeconds(now) - 3600), "too long ago");
  refused(with("nonce", "n2"), "nonce");
  nlohmann::json no_nonce = good;
  no_nonce.erase("nonce");
  refused(no_nonce, "nonce");
  // Within the leeway, a slightly expired token still passes (clocks differ a little).
  EXPECT_TRUE(CheckIdTokenClaims(with("exp", absl::ToUnixSeconds(now) - 30),
                                 Expect("https://idp", now, "n1"))
                  .ok());
  EXPECT_TRUE(CheckIdTokenClaims(with("aud", nlohmann::json::array({kAudience})),
                                 Expect("https://idp", now, "n1"))
                  .ok());
}

// An OpenID provider's public side: discovery and a JWK Set that the test can change.
class FakeProvider {
 public:
  FakeProvider() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    issuer_ = "http://127.0.0.1:" + std::to_string(port_);
    server_.Get("/.well-known/openid-configuration",
                [this](const httplib::Request&, httplib::Response& r) {
                  nlohmann::json doc = {{"issuer", issuer_},
                                        {"authorization_endpoint", issuer_ + "/auth"},
                                        {"token_endpoint", issuer_ + "/token"},
                                        {"jwks_uri", issuer_ + "/jwks"}};
                  r.set_content(doc.dump(), "application/json");
                });
    server_.Get("/jwks", [this](const httplib::Request&, httplib::Response& r) {
      ++jwks_served;
      std::lock_guard<std::mutex> lock(mu_);
      r.set_content(jwks_.dump(), "application/json");
    });
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeProvider() {
    server_.stop();
    thread_.join();
  }
  void Publish(const std::vector<const JwtMinter*>& minters) {
    std::lock_guard<std::mutex> lock(mu_);
    jwks_ = {{"keys", nlohmann::json::array()}};
    for (const JwtMinter* m : minters) jwks_["keys"].push_back(m->PublicJwk());
  }
  const std::string& issuer() const { return issuer_; }
  std::atomic<int> jwks_served{0};

 private:
  httplib::Server server_;
  int port_ = 0;
  std::string issuer_;
  std::mutex mu_;
  nlohmann::json jwks_ = {{"keys", nlohmann::json::array()}};
  std::thread thread_;
};

struct Event {
  std::string staff, kind, detail;
};

class OidcSignInTest : public ::testing::Test {
 protected:
  // One database for the suite (creating one takes seconds); each test uses its own nonces,
  // and SetUp re-registers the provider.
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<forecast::testing::TestDatabase>> db =
        forecast::testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db).release();
    pool_ = new PgPool(db_->conninfo(), 4);
    pqxx::connection conn(db_->conninfo());
    pqxx::work tx(conn);
    centre_id_ =
        tx.exec1("INSERT INTO job_centre (code, name) VALUES ('JC1', 'Centre') RETURNING id")[0]
            .as<int64_t>();
    tx.exec1("INSERT INTO job_centre (code, name) VALUES ('JC2', 'Other centre') RETURNING id");
    tx.exec0(
        "INSERT INTO staff (job_centre_id, code, display_name, role) SELECT id, 'cw1', 'Anna', "
        "'CASEWORKER' FROM job_centre WHERE code = 'JC1'");
    tx.exec0(
        "INSERT INTO staff (job_centre_id, code, display_name, role, active) SELECT id, 'old1', "
        "'Gone', 'CASEWORKER', false FROM job_centre WHERE code = 'JC1'");
    tx.exec0(
        "INSERT INTO staff (job_centre_id, code, display_name, role) SELECT id, 'adm1', 'Admin', "
        "'ADMIN' FROM job_centre WHERE code = 'JC1'");
    tx.exec0(
        "INSERT INTO staff (job_centre_id, code, display_name, role) SELECT id, 'cw9', 'Other', "
        "'CASEWORKER' FROM job_centre WHERE code = 'JC2'");
    tx.commit();
  }
  static void TearDownTestSuite() {
    delete pool_;
    delete db_;
  }

  void SetUp() override {
    ASSERT_NE(pool_, nullptr);
    store_ = std::make_unique<OidcProviderStore>(*pool_);
    keys_ = std::make_unique<OidcKeySource>(HttpOptions{}, absl::Hours(1), absl::Seconds(10),
                                            [this] { return now_; });
    directory_ = std::make_unique<PgStaffDirectory>(*pool_);
    SignInHooks hooks;
    hooks.issue_session = [this](const Caller& staff, const std::string&) {
      {
        std::lock_guard<std::mutex> lock(events_mu_);
        events_.push_back({staff.staff_code, "SSO_LOGIN", ""});
      }
      v1::LoginResponse response;
      response.set_session_token("session-for-" + staff.staff_code);
      response.mutable_staff()->set_code(staff.staff_code);
      response.mutable_staff()->set_job_centre(staff.job_centre_code);
      return absl::StatusOr<v1::LoginResponse>(response);
    };
    hooks.record_event = [this](const std::string&, const std::string& staff,
                                const std::string& kind, const std::string&,
                                const std::string& detail) {
      std::lock_guard<std::mutex> lock(events_mu_);
      events_.push_back({staff, kind, detail});
    };
    sign_in_ =
        std::make_unique<OidcSignIn>(*store_, *keys_, *directory_, hooks, [this] { return now_; });
    provider_.Publish({&key1_});

    Caller admin;
    admin.job_centre_id = centre_id_;
    admin.role = Role::kAdmin;
    v1::IdentityProvider idp;
    idp.set_id("kommune");
    idp.set_display_name("Kommunens login");
    idp.set_issuer(provider_.issuer());
    idp.set_client_id(kAudience);
    idp.set_staff_claim("preferred_username");
    idp.set_enabled(true);
    ASSERT_TRUE(sign_in_->UpsertIdentityProvider(admin, idp).ok());
  }

  absl::StatusOr<v1::LoginResponse> Login(const std::string& token, const std::string& nonce,
                                          const std::string& centre = "JC1") {
    v1::IdTokenLoginRequest request;
    request.set_job_centre(centre);
    request.set_provider_id("kommune");
    request.set_id_token(token);
    request.set_nonce(nonce);
    return sign_in_->LoginWithIdToken(request, "127.0.0.1");
  }

  // Expects a refusal whose reason mentions `why`, recorded as SSO_REFUSED.
  void ExpectRefused(const absl::StatusOr<v1::LoginResponse>& result, const std::string& why) {
    ASSERT_FALSE(result.ok());
    EXPECT_TRUE(absl::IsUnauthenticated(result.status())) << result.status();
    EXPECT_NE(result.status().message().find(why), absl::string_view::npos) << result.status();
    std::lock_guard<std::mutex> lock(events_mu_);
    ASSERT_FALSE(events_.empty());
    EXPECT_EQ(events_.back().kind, "SSO_REFUSED");
    EXPECT_NE(events_.back().detail.find(why), std::string::npos) << events_.back().detail;
  }

  static inline forecast::testing::TestDatabase* db_ = nullptr;
  static inline PgPool* pool_ = nullptr;
  static inline int64_t centre_id_ = 0;
  absl::Time now_ = absl::Now();
  FakeProvider provider_;
  JwtMinter key1_{"ES256", "key-1"};
  std::unique_ptr<OidcProviderStore> store_;
  std::unique_ptr<OidcKeySource> keys_;
  std::unique_ptr<PgStaffDirectory> directory_;
  std::unique_ptr<OidcSignIn> sign_in_;
  std::mutex events_mu_;
  std::vector<Event> events_;
};

TEST_F(OidcSignInTest, AGenuineTokenStartsASessionForTheMappedStaffMember) {
  absl::StatusOr<v1::LoginResponse> session =
      Login(key1_.Mint(Claims(provider_.issuer(), now_, "nonce-1")), "nonce-1");
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(session->session_token(), "session-for-cw1");
  EXPECT_EQ(session->staff().code(), "cw1");
  std::lock_guard<std::mutex> lock(events_mu_);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].kind, "SSO_LOGIN");
  EXPECT_EQ(events_[0].staff, "cw1");
}

TEST_F(OidcSignInTest, EachNonceIsAcceptedOnce) {
  const std::string token = key1_.Mint(Claims(provider_.issuer(), now_, "nonce-2"));
  ASSERT_TRUE(Login(token, "nonce-2").ok());
  ExpectRefused(Login(token, "nonce-2"), "nonce used before");
  // A fresh token with the same nonce is a replay too.
  now_ += absl::Seconds(5);
  ExpectRefused(Login(key1_.Mint(Claims(provider_.issuer(), now_, "nonce-2")), "nonce-2"),
                "nonce used before");
  // The nonce the relying party sent must be the one in the token.
  ExpectRefused(Login(key1_.Mint(Claims(provider_.issuer(), now_, "nonce-3")), "nonce-4"),
                "wrong nonce");
}

TEST_F(OidcSignInTest, RefusesForgedExpiredAndMisaddressedTokens) {
  JwtMinter forger("ES256", "key-1");  // same key id, another key
  ExpectRefused(Login(forger.Mint(Claims(provider_.issuer(), now_, "f1")), "f1"),
                "signature does not verify");
  nlohmann::json expired = Claims(provider_.issuer(), now_ - absl::Minutes(10), "f2");
  ExpectRefused(Login(key1_.Mint(expired), "f2"), "expired");
  nlohmann::json audience = Claims(provider_.issuer(), now_, "f3");
  audience["aud"] = "another-client";
  ExpectRefused(Login(key1_.Mint(audience), "f3"), "wrong audience");
  ExpectRefused(Login(key1_.Mint(Claims("https://evil.example", now_, "f4")), "f4"),
                "wrong issuer");
  ExpectRefused(Login("not.a.token", "f5"), "id_token");
  // None of them used up its nonce: the genuine token for f1 still works.
  EXPECT_TRUE(Login(key1_.Mint(Claims(provider_.issuer(), now_, "f1")), "f1").ok());
}

TEST_F(OidcSignInTest, RefusesClaimsThatNameNoActiveStaffMemberOfTheCentre) {
  ExpectRefused(Login(key1_.Mint(Claims(provider_.issuer(), now_, "s1", "nobody")), "s1"),
                "names no active staff member");
  ExpectRefused(Login(key1_.Mint(Claims(provider_.issuer(), now_, "s2", "old1")), "s2"),
                "names no active staff member");
  // Staff of another job centre are not this centre's staff.
  ExpectRefused(Login(key1_.Mint(Claims(provider_.issuer(), now_, "s3", "cw9")), "s3"),
                "names no active staff member");
  nlohmann::json no_claim = Claims(provider_.issuer(), now_, "s4");
  no_claim.erase("preferred_username");
  ExpectRefused(Login(key1_.Mint(no_claim), "s4"), "no claim");
  // The provider belongs to JC1 only.
  ExpectRefused(Login(key1_.Mint(Claims(provider_.issuer(), now_, "s5", "cw9")), "s5", "JC2"),
                "unknown or disabled provider");
}

TEST_F(OidcSignInTest, FetchesRotatedKeysButNotForEveryUnknownKeyId) {
  ASSERT_TRUE(Login(key1_.Mint(Claims(provider_.issuer(), now_, "r1")), "r1").ok());
  EXPECT_EQ(provider_.jwks_served.load(), 1);
  ASSERT_TRUE(Login(key1_.Mint(Claims(provider_.issuer(), now_, "r2")), "r2").ok());
  EXPECT_EQ(provider_.jwks_served.load(), 1);  // cached

  // The provider rotates to key-2; a token with the new kid makes the cache refetch.
  JwtMinter key2("RS256", "key-2");
  provider_.Publish({&key1_, &key2});
  now_ += absl::Seconds(11);
  ASSERT_TRUE(Login(key2.Mint(Claims(provider_.issuer(), now_, "r3")), "r3").ok());
  EXPECT_EQ(provider_.jwks_served.load(), 2);

  // Made-up key ids do not make it fetch again within the refresh interval.
  JwtMinter stranger("ES256", "key-unknown");
  for (int i = 0; i < 5; ++i) {
    ExpectRefused(Login(stranger.Mint(Claims(provider_.issuer(), now_, "u" + std::to_string(i))),
                        "u" + std::to_string(i)),
                  "key the provider does not publish");
  }
  EXPECT_EQ(provider_.jwks_served.load(), 2);
}

TEST_F(OidcSignInTest, ProvidersAreListedPerCentreAndOnlyAdminsChangeThem) {
  absl::StatusOr<v1::ListIdentityProvidersResponse> listed = [&] {
    v1::ListIdentityProvidersRequest request;
    request.set_job_centre("JC1");
    return sign_in_->ListIdentityProviders(request);
  }();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->providers_size(), 1);
  EXPECT_EQ(listed->providers(0).display_name(), "Kommunens login");

  Caller caseworker;
  caseworker.job_centre_id = centre_id_;
  caseworker.role = Role::kCaseworker;
  v1::IdentityProvider idp = listed->providers(0);
  idp.set_enabled(false);
  EXPECT_TRUE(absl::IsPermissionDenied(sign_in_->UpsertIdentityProvider(caseworker, idp).status()));

  Caller admin = caseworker;
  admin.role = Role::kAdmin;
  v1::IdentityProvider bad = idp;
  bad.set_issuer("http://idp.example.com");  // plain http off the loopback
  absl::Status invalid = sign_in_->UpsertIdentityProvider(admin, bad).status();
  EXPECT_TRUE(absl::IsInvalidArgument(invalid));
  EXPECT_EQ(invalid.message().substr(0, 7), "issuer:");

  ASSERT_TRUE(sign_in_->UpsertIdentityProvider(admin, idp).ok());
  v1::ListIdentityProvidersRequest request;
  request.set_job_centre("JC1");
  EXPECT_EQ(sign_in_->ListIdentityProviders(request)->providers_size(), 0);
  ExpectRefused(Login(key1_.Mint(Claims(provider_.issuer(), now_, "d1")), "d1"),
                "unknown or disabled provider");
}

}  // namespace
}  // namespace forecast::identity
