// IdentityService's single sign-on calls over OidcSignIn, one line each. Until the identity
// module's IdentityServiceImpl (passwords, sessions, audit) is served, case-service serves this
// adapter: the other IdentityService calls answer UNIMPLEMENTED, the session is the gateway's
// (as for password sign-in today), and refusals are logged. IdentityServiceImpl takes these three
// methods over by delegating to the same OidcSignIn (or to this class: one line per RPC), built
// with hooks over its own sessions and audit:
//   issue_session = [&](const Caller& s, const std::string& address) {
//     return keeper.OpenSession(s.staff_id, "SSO", "SSO_LOGIN", address); };
//   record_event  = an INSERT INTO auth_event (kind SSO_REFUSED, the reason as detail).
#ifndef SERVICES_IDENTITY_OIDC_SERVICE_H_
#define SERVICES_IDENTITY_OIDC_SERVICE_H_

#include "forecast/v1/identity_service.grpc.pb.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/caller.h"
#include "services/common/pg_pool.h"
#include "services/identity/oidc_sign_in.h"

namespace forecast::identity {

// Hooks for the interim service: the StaffMember as the answer (the gateway keeps the session),
// refusals and sign-ins written to stderr. `pool` must outlive them. Thread-safe.
SignInHooks StaffOnlySignInHooks(PgPool& pool);

// Thread-safe (OidcSignIn and the directory are).
class OidcIdentityService final : public v1::IdentityService::Service {
 public:
  // Keeps references; all must outlive the service. `case_reads` answers ListCaseReads (the
  // case-read log, issue 8; IdentityServiceImpl takes it over with the same one line).
  OidcIdentityService(OidcSignIn& sign_in, StaffDirectory& directory,
                      audit::CaseReadQuery& case_reads)
      : sign_in_(sign_in), directory_(directory), case_reads_(case_reads) {}

  grpc::Status LoginWithIdToken(grpc::ServerContext* context,
                                const v1::IdTokenLoginRequest* request,
                                v1::LoginResponse* response) override;
  grpc::Status ListIdentityProviders(grpc::ServerContext* context,
                                     const v1::ListIdentityProvidersRequest* request,
                                     v1::ListIdentityProvidersResponse* response) override;
  grpc::Status UpsertIdentityProvider(grpc::ServerContext* context,
                                      const v1::IdentityProvider* request,
                                      v1::IdentityProvider* response) override;
  grpc::Status ListCaseReads(grpc::ServerContext* context, const v1::ListCaseReadsRequest* request,
                             v1::ListCaseReadsResponse* response) override;

 private:
  OidcSignIn& sign_in_;
  StaffDirectory& directory_;
  audit::CaseReadQuery& case_reads_;
};

}  // namespace forecast::identity

#endif  // SERVICES_IDENTITY_OIDC_SERVICE_H_
