#include "services/identity/identity_service_impl.h"

#include <algorithm>
#include <iostream>

#include "services/common/status.h"
#include "services/common/tls.h"

namespace forecast::identity {
namespace {

grpc::Status Answer(const char* method, const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown ||
      status.code() == absl::StatusCode::kUnavailable) {
    std::cerr << "case-service: IdentityService." << method << " failed: " << status << std::endl;
  }
  return ToGrpcStatus(status);
}

}  // namespace

bool NeedsNoAccessToken(absl::string_view full_method) {
  return std::find(kNoAccessTokenMethods.begin(), kNoAccessTokenMethods.end(), full_method) !=
         kNoAccessTokenMethods.end();
}

std::string ClientAddress(const grpc::ServerContextBase& context, const std::string& claimed) {
  if (!claimed.empty() && claimed.size() <= 128 &&
      PeerCertificateName(context) == kGatewayCertificateName) {
    return claimed;
  }
  return PeerAddress(context);
}

template <typename Response, typename Call>
grpc::Status IdentityServiceImpl::Authenticated(const char* method, grpc::ServerContext* context,
                                                Response* response, Call call) {
  absl::StatusOr<Caller> caller = ResolveCaller(*context, authenticator_);
  if (!caller.ok()) return Answer(method, caller.status());
  absl::StatusOr<Response> result = call(*caller);
  if (!result.ok()) return Answer(method, result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

template <typename Response, typename Call>
grpc::Status IdentityServiceImpl::Open(const char* method, Response* response, Call call) {
  absl::StatusOr<Response> result = call();
  if (!result.ok()) return Answer(method, result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status IdentityServiceImpl::Login(grpc::ServerContext* context,
                                        const v1::LoginRequest* request,
                                        v1::LoginResponse* response) {
  return Open("Login", response, [&] {
    return keeper_.Login(*request, ClientAddress(*context, request->client_address()));
  });
}

grpc::Status IdentityServiceImpl::RefreshSession(grpc::ServerContext*,
                                                 const v1::RefreshSessionRequest* request,
                                                 v1::LoginResponse* response) {
  return Open("RefreshSession", response, [&] { return keeper_.RefreshSession(*request); });
}

grpc::Status IdentityServiceImpl::Logout(grpc::ServerContext* context,
                                         const v1::LogoutRequest* request,
                                         v1::LogoutResponse* response) {
  return Open("Logout", response,
              [&] { return keeper_.Logout(*request, ClientAddress(*context, "")); });
}

grpc::Status IdentityServiceImpl::LogoutEverywhere(grpc::ServerContext* context,
                                                   const v1::LogoutEverywhereRequest*,
                                                   v1::LogoutResponse* response) {
  return Authenticated("LogoutEverywhere", context, response, [&](const Caller& c) {
    return keeper_.LogoutEverywhere(c, ClientAddress(*context, ""));
  });
}

grpc::Status IdentityServiceImpl::RedeemSetupCode(grpc::ServerContext* context,
                                                  const v1::RedeemSetupCodeRequest* request,
                                                  v1::LoginResponse* response) {
  return Open("RedeemSetupCode", response, [&] {
    return keeper_.RedeemSetupCode(*request, ClientAddress(*context, request->client_address()));
  });
}

grpc::Status IdentityServiceImpl::ChangePassword(grpc::ServerContext* context,
                                                 const v1::ChangePasswordRequest* request,
                                                 v1::ChangePasswordResponse* response) {
  return Authenticated("ChangePassword", context, response, [&](const Caller& c) {
    return keeper_.ChangePassword(c, *request, ClientAddress(*context, ""));
  });
}

grpc::Status IdentityServiceImpl::IssueSetupCode(grpc::ServerContext* context,
                                                 const v1::IssueSetupCodeRequest* request,
                                                 v1::SetupCode* response) {
  return Authenticated("IssueSetupCode", context, response, [&](const Caller& c) {
    return keeper_.IssueSetupCode(c, *request, ClientAddress(*context, ""));
  });
}

grpc::Status IdentityServiceImpl::ListAuthEvents(grpc::ServerContext* context,
                                                 const v1::ListAuthEventsRequest* request,
                                                 v1::ListAuthEventsResponse* response) {
  return Authenticated("ListAuthEvents", context, response,
                       [&](const Caller& c) { return keeper_.ListAuthEvents(c, *request); });
}

grpc::Status IdentityServiceImpl::ListCaseReads(grpc::ServerContext* context,
                                                const v1::ListCaseReadsRequest* request,
                                                v1::ListCaseReadsResponse* response) {
  return Authenticated("ListCaseReads", context, response,
                       [&](const Caller& caller) -> absl::StatusOr<v1::ListCaseReadsResponse> {
                         if (case_reads_ == nullptr) {
                           return absl::UnimplementedError("the case-read log is not served here");
                         }
                         return case_reads_->List(caller, *request);
                       });
}

grpc::Status IdentityServiceImpl::LoginWithIdToken(grpc::ServerContext* context,
                                                   const v1::IdTokenLoginRequest* request,
                                                   v1::LoginResponse* response) {
  if (sso_ == nullptr)
    return Answer("LoginWithIdToken", absl::UnimplementedError("single sign-on is not configured"));
  return Open("LoginWithIdToken", response, [&] {
    return sso_->LoginWithIdToken(*request, ClientAddress(*context, request->client_address()));
  });
}

grpc::Status IdentityServiceImpl::ListIdentityProviders(
    grpc::ServerContext*, const v1::ListIdentityProvidersRequest* request,
    v1::ListIdentityProvidersResponse* response) {
  if (sso_ == nullptr) {
    return Answer("ListIdentityProviders",
                  absl::UnimplementedError("single sign-on is not configured"));
  }
  return Open("ListIdentityProviders", response,
              [&] { return sso_->ListIdentityProviders(*request); });
}

grpc::Status IdentityServiceImpl::UpsertIdentityProvider(grpc::ServerContext* context,
                                                         const v1::IdentityProvider* request,
                                                         v1::IdentityProvider* response) {
  return Authenticated("UpsertIdentityProvider", context, response,
                       [&](const Caller& c) -> absl::StatusOr<v1::IdentityProvider> {
                         if (sso_ == nullptr)
                           return absl::UnimplementedError("single sign-on is not configured");
                         return sso_->UpsertIdentityProvider(c, *request);
                       });
}

}  // namespace forecast::identity
