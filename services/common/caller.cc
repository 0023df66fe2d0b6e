#include "services/common/caller.h"

#include "absl/strings/str_cat.h"

namespace forecast {

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kCaseworker: return "CASEWORKER";
    case Role::kTeamLeader: return "TEAM_LEADER";
    case Role::kManager: return "MANAGER";
    case Role::kAdmin: return "ADMIN";
  }
  return "CASEWORKER";
}

std::optional<Role> ParseRole(absl::string_view name) {
  if (name == "CASEWORKER") return Role::kCaseworker;
  if (name == "TEAM_LEADER") return Role::kTeamLeader;
  if (name == "MANAGER") return Role::kManager;
  if (name == "ADMIN") return Role::kAdmin;
  return std::nullopt;
}

absl::StatusOr<Caller> PgStaffDirectory::Find(absl::string_view job_centre_code,
                                              absl::string_view staff_code) {
  // Read on every call: retried once on a fresh connection when the connection breaks.
  return RunReadTransaction<Caller>(
      pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::StatusOr<Caller> {
        pqxx::result rows = tx.exec_params(
            "SELECT j.id, s.id, s.role, coalesce(s.team_id, 0), coalesce(u.code, ''), s.active "
            "FROM job_centre j JOIN staff s ON s.job_centre_id = j.id "
            "LEFT JOIN org_unit u ON u.id = s.team_id "
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
  if (job_centre_code.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat("missing caller metadata \"", kJobCentreHeader, "\""));
  }
  if (staff_code.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat("missing caller metadata \"", kStaffHeader, "\""));
  }
  return directory.Find(job_centre_code, staff_code);
}

absl::StatusOr<Caller> ResolveCaller(const grpc::ServerContext& context,
                                     StaffDirectory& directory) {
  const auto& metadata = context.client_metadata();
  auto value = [&](const char* key) -> absl::string_view {
    auto it = metadata.find(key);
    if (it == metadata.end()) return {};
    return absl::string_view(it->second.data(), it->second.size());
  };
  return ResolveCaller(value(kJobCentreHeader), value(kStaffHeader), directory);
}

}  // namespace forecast
