// The gRPC face of the identity service: one line per RPC over IdentityKeeper. Methods that take
// their proof in the request (kNoAccessTokenMethods) run without an access token; every other
// method resolves the caller from its token first (caller.h), like every RPC of every service.
#ifndef SERVICES_IDENTITY_IDENTITY_SERVICE_IMPL_H_
#define SERVICES_IDENTITY_IDENTITY_SERVICE_IMPL_H_

#include <array>

#include "absl/strings/string_view.h"
#include "forecast/v1/identity_service.grpc.pb.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/caller.h"
#include "services/identity/identity_keeper.h"
#include "services/identity/oidc_sign_in.h"

namespace forecast::identity {

// The one list of RPCs (of any service) callable without an access token: each carries its own
// proof (a password, a set-up code, a session token, a provider's ID token) or reveals nothing.
inline constexpr std::array<absl::string_view, 6> kNoAccessTokenMethods = {
    "/forecast.v1.IdentityService/Login",
    "/forecast.v1.IdentityService/LoginWithIdToken",
    "/forecast.v1.IdentityService/RefreshSession",
    "/forecast.v1.IdentityService/Logout",
    "/forecast.v1.IdentityService/RedeemSetupCode",
    "/forecast.v1.IdentityService/ListIdentityProviders"};

// True for a full method name ("/package.Service/Method") in kNoAccessTokenMethods. Thread-safe.
bool NeedsNoAccessToken(absl::string_view full_method);

// The certificate common name that marks the gateway (mutual TLS): only its claimed
// client_address is believed.
inline constexpr char kGatewayCertificateName[] = "gateway";

// Thread-safe (keeper and authenticator are).
class IdentityServiceImpl final : public v1::IdentityService::Service {
 public:
  // Keeps references; all must outlive the service. `single_sign_on` (may be null: those calls
  // answer UNIMPLEMENTED) serves LoginWithIdToken and the identity providers.
  // `case_reads` (may be null: ListCaseReads then answers UNIMPLEMENTED) answers the case-read
  // log's admin query (services/common/audit).
  IdentityServiceImpl(IdentityKeeper& keeper, const Authenticator& authenticator,
                      OidcSignIn* single_sign_on = nullptr,
                      audit::CaseReadQuery* case_reads = nullptr)
      : keeper_(keeper),
        authenticator_(authenticator),
        sso_(single_sign_on),
        case_reads_(case_reads) {}

  grpc::Status Login(grpc::ServerContext* context, const v1::LoginRequest* request,
                     v1::LoginResponse* response) override;
  grpc::Status RefreshSession(grpc::ServerContext* context,
                              const v1::RefreshSessionRequest* request,
                              v1::LoginResponse* response) override;
  grpc::Status Logout(grpc::ServerContext* context, const v1::LogoutRequest* request,
                      v1::LogoutResponse* response) override;
  grpc::Status LogoutEverywhere(grpc::ServerContext* context,
                                const v1::LogoutEverywhereRequest* request,
                                v1::LogoutResponse* response) override;
  grpc::Status RedeemSetupCode(grpc::ServerContext* context,
                               const v1::RedeemSetupCodeRequest* request,
                               v1::LoginResponse* response) override;
  grpc::Status ChangePassword(grpc::ServerContext* context,
                              const v1::ChangePasswordRequest* request,
                              v1::ChangePasswordResponse* response) override;
  grpc::Status IssueSetupCode(grpc::ServerContext* context,
                              const v1::IssueSetupCodeRequest* request,
                              v1::SetupCode* response) override;
  grpc::Status ListAuthEvents(grpc::ServerContext* context,
                              const v1::ListAuthEventsRequest* request,
                              v1::ListAuthEventsResponse* response) override;

  // The case-read log (another module's) answers UNIMPLEMENTED until it lands; single sign-on is
  // OidcSignIn's (services/identity/oidc_*).
  grpc::Status ListCaseReads(grpc::ServerContext* context, const v1::ListCaseReadsRequest* request,
                             v1::ListCaseReadsResponse* response) override;
  grpc::Status LoginWithIdToken(grpc::ServerContext* context,
                                const v1::IdTokenLoginRequest* request,
                                v1::LoginResponse* response) override;
  grpc::Status ListIdentityProviders(grpc::ServerContext* context,
                                     const v1::ListIdentityProvidersRequest* request,
                                     v1::ListIdentityProvidersResponse* response) override;
  grpc::Status UpsertIdentityProvider(grpc::ServerContext* context,
                                      const v1::IdentityProvider* request,
                                      v1::IdentityProvider* response) override;

 private:
  template <typename Response, typename Call>
  grpc::Status Authenticated(const char* method, grpc::ServerContext* context, Response* response,
                             Call call);
  template <typename Response, typename Call>
  grpc::Status Open(const char* method, Response* response, Call call);

  IdentityKeeper& keeper_;
  const Authenticator& authenticator_;
  OidcSignIn* const sso_;
  audit::CaseReadQuery* const case_reads_;
};

// The end user's address for throttling and the audit trail: `claimed` when the peer presented
// the gateway's client certificate and claimed one, else the peer's own address. Thread-safe.
std::string ClientAddress(const grpc::ServerContextBase& context, const std::string& claimed);

}  // namespace forecast::identity

#endif  // SERVICES_IDENTITY_IDENTITY_SERVICE_IMPL_H_
