#include "services/common/caller.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace forecast {

absl::StatusOr<Caller> PgStaffDirectory::Find(absl::string_view job_centre_code,
                                              absl::string_view staff_code) {
  // Read on every call: retried once on a fresh connection when the connection breaks.
  return RunReadTransaction<Caller>(
      pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::StatusOr<Caller> {
        pqxx::result rows = tx.exec_params(
            "SELECT j.id, s.id, s.role, coalesce(s.team_id, 0), coalesce(u.code, ''), s.active "
            "FROM case_read_model.job_centre j JOIN case_read_model.staff s ON s.job_centre_id = j.id "
            "LEFT JOIN case_read_model.org_unit u ON u.id = s.team_id "
            "WHERE j.code = $1 AND s.code = $2",
            std::string(job_centre_code), std::string(staff_code));
        if (rows.empty()) {
          return absl::UnauthenticatedError(absl::StrCat("unknown caller: staff \"", staff_code,
                                                         "\" in job centre \"", job_centre_code,
                                                         "\""));
        }
        const pqxx::row row = rows[0];
        if (!row[5].as<bool>()) {
          return absl::UnauthenticatedError(absl::StrCat("staff \"", staff_code, "\" is inactive"));
        }
        std::optional<Role> role = ParseRole(row[2].as<std::string>());
        if (!role) return absl::InternalError("staff.role holds an unknown role");
        Caller caller;
        caller.job_centre_id = row[0].as<int64_t>();
        caller.job_centre_code = std::string(job_centre_code);
        caller.staff_id = row[1].as<int64_t>();
        caller.staff_code = std::string(staff_code);
        caller.role = *role;
        caller.team_id = row[3].as<int64_t>();
        caller.team_code = row[4].as<std::string>();
        return caller;
      });
}

absl::StatusOr<Caller> ResolveCaller(absl::string_view job_centre_code,
                                     absl::string_view staff_code, StaffDirectory& directory) {
  if (job_centre_code.empty()) return absl::UnauthenticatedError("missing job centre code");
  if (staff_code.empty()) return absl::UnauthenticatedError("missing staff code");
  return directory.Find(job_centre_code, staff_code);
}

absl::StatusOr<Caller> Authenticator::ResolveToken(absl::string_view token) const {
  absl::StatusOr<AccessClaims> claims = verifier_.Verify(token);
  if (!claims.ok()) return claims.status();
  absl::StatusOr<Caller> caller = directory_.Find(claims->job_centre, claims->staff);
  if (!caller.ok()) {
    if (caller.status().code() == absl::StatusCode::kUnauthenticated) {
      return absl::UnauthenticatedError(
          "access token refused: the staff member is unknown or inactive");
    }
    return caller.status();
  }
  caller->session_id = claims->session_id;
  return caller;
}

absl::StatusOr<Caller> Authenticator::Resolve(const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kAuthorizationHeader);
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "missing credential: \"authorization: Bearer <access token>\"");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, "Bearer ") || value.empty()) {
    return absl::UnauthenticatedError("authorization: expected \"Bearer <access token>\"");
  }
  return ResolveToken(value);
}

absl::StatusOr<Caller> ResolveCaller(const grpc::ServerContextBase& context,
                                     const Authenticator& authenticator) {
  return authenticator.Resolve(context);
}

}  // namespace forecast
