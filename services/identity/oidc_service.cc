#include "services/identity/oidc_service.h"

#include <iostream>

#include "services/common/status.h"

namespace forecast::identity {
namespace {

template <typename Response>
grpc::Status Answer(const absl::StatusOr<Response>& result, Response* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *result;
  return grpc::Status::OK;
}

v1::Role RoleOf(Role role) {
  switch (role) {
    case Role::kCaseworker: return v1::CASEWORKER;
    case Role::kTeamLeader: return v1::TEAM_LEADER;
    case Role::kManager: return v1::MANAGER;
    case Role::kAdmin: return v1::ADMIN;
  }
  return v1::ROLE_UNSPECIFIED;
}

}  // namespace

SignInHooks StaffOnlySignInHooks(PgPool& pool) {
  SignInHooks hooks;
  hooks.issue_session =
      [&pool](const Caller& staff,
              const std::string& client_address) -> absl::StatusOr<v1::LoginResponse> {
    absl::StatusOr<std::string> name = RunTransaction<std::string>(
        pool, Isolation::kReadCommitted,
        [&](pqxx::transaction_base& tx) -> absl::StatusOr<std::string> {
          return tx.exec_params1("SELECT display_name FROM staff WHERE id = $1", staff.staff_id)[0]
              .as<std::string>();
        });
    if (!name.ok()) return name.status();
    v1::LoginResponse response;
    v1::StaffMember* member = response.mutable_staff();
    member->set_code(staff.staff_code);
    member->set_display_name(*name);
    member->set_role(RoleOf(staff.role));
    member->set_team(staff.team_code);
    member->set_job_centre(staff.job_centre_code);
    member->set_active(true);
    std::cerr << "case-service: SSO_LOGIN " << staff.job_centre_code << "/" << staff.staff_code
              << " from " << client_address << std::endl;
    return response;
  };
  hooks.record_event = [](const std::string& job_centre, const std::string& staff_code,
                          const std::string& kind, const std::string& client_address,
                          const std::string& detail) {
    std::cerr << "case-service: " << kind << " " << job_centre << "/" << staff_code << " from "
              << client_address << ": " << detail << std::endl;
  };
  return hooks;
}

grpc::Status OidcIdentityService::LoginWithIdToken(grpc::ServerContext* context,
                                                   const v1::IdTokenLoginRequest* request,
                                                   v1::LoginResponse* response) {
  return Answer(sign_in_.LoginWithIdToken(*request, request->client_address().empty()
                                                        ? context->peer()
                                                        : request->client_address()),
                response);
}

grpc::Status OidcIdentityService::ListIdentityProviders(
    grpc::ServerContext*, const v1::ListIdentityProvidersRequest* request,
    v1::ListIdentityProvidersResponse* response) {
  return Answer(sign_in_.ListIdentityProviders(*request), response);
}

grpc::Status OidcIdentityService::UpsertIdentityProvider(grpc::ServerContext* context,
                                                         const v1::IdentityProvider* request,
                                                         v1::IdentityProvider* response) {
  absl::StatusOr<Caller> caller = ResolveCaller(*context, directory_);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Answer(sign_in_.UpsertIdentityProvider(*caller, *request), response);
}

grpc::Status OidcIdentityService::ListCaseReads(grpc::ServerContext* context,
                                                const v1::ListCaseReadsRequest* request,
                                                v1::ListCaseReadsResponse* response) {
  absl::StatusOr<Caller> caller = ResolveCaller(*context, directory_);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Answer(case_reads_.List(*caller, *request), response);
}

}  // namespace forecast::identity
