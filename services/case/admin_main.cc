// forecast-admin: sets up job centres, units and staff directly in the database.
//   forecast-admin create-job-centre --db CONNINFO --code DEMO --name "Jobcenter Demo"
//       --admin-code admin [--admin-name "..."] [--migrations DIR]
//   forecast-admin add-unit  --db CONNINFO --job-centre DEMO --code SOUTH --name "..."
//       --kind DEPARTMENT|TEAM [--parent DEPT]
//   forecast-admin add-staff --db CONNINFO --job-centre DEMO --code kim --role
//   CASEWORKER|TEAM_LEADER|MANAGER|ADMIN
//       [--team T1] [--name "..."] [--inactive]
//   forecast-admin add-identity-provider --db CONNINFO --job-centre DEMO --code kommune
//       --name "Kommunens login" --issuer https://login.kommune.dk --client-id forecast
//       [--claim preferred_username] [--inactive]
//   forecast-admin set-password --db CONNINFO --job-centre DEMO --code kim   (the password on
//   stdin)
// (one command per line; shown wrapped). Every command is idempotent: re-running it leaves the same
// state.
#include <iostream>
#include <string>

#include "services/case/flags.h"
#include "services/case/org_admin.h"
#include "services/common/calendar.h"
#include "services/common/migrations.h"
#include "services/identity/oidc_sign_in.h"
#include "services/identity/identity_keeper.h"

namespace {

int Usage() {
  std::cerr
      << "usage:\n"
         "  forecast-admin create-job-centre --db CONNINFO --code CODE --name NAME --admin-code CODE "
         "[--admin-name NAME] [--migrations DIR]\n"
         "  forecast-admin add-unit --db CONNINFO --job-centre CODE --code CODE --name NAME "
         "--kind DEPARTMENT|TEAM [--parent CODE]\n"
         "  forecast-admin add-staff --db CONNINFO --job-centre CODE --code CODE --role ROLE [--team CODE] "
         "[--name NAME] [--inactive]\n"
         "  forecast-admin add-identity-provider --db CONNINFO --job-centre CODE --code ID --name NAME "
         "--issuer URL --client-id ID [--claim CLAIM] [--inactive]\n"
         "  forecast-admin set-password --db CONNINFO --job-centre CODE --code CODE   (password on stdin)\n";
  return 2;
}

int Report(const absl::Status& status, const std::string& done) {
  if (!status.ok()) {
    std::cerr << "forecast-admin: " << status.message() << "\n";
    return 1;
  }
  std::cout << done << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  absl::StatusOr<forecast::Flags> flags = forecast::ParseFlags(
      argc, argv, 2,
      {"db", "code", "name", "admin-code", "admin-name", "migrations", "job-centre", "kind",
       "parent", "role", "team", "issuer", "client-id", "claim"},
      {"inactive"});
  if (!flags.ok()) {
    std::cerr << "forecast-admin: " << flags.status().message() << "\n";
    return Usage();
  }
  if (!flags->Has("db") || !flags->Has("code")) return Usage();
  const std::string db = flags->Get("db");
  if (flags->Has("migrations")) {
    absl::StatusOr<int> applied = forecast::ApplyMigrations(db, flags->Get("migrations"));
    if (!applied.ok()) return Report(applied.status(), "");
  }
  forecast::PgPool pool(db, 1);
  forecast::OrgAdmin admin(pool);
  const std::string code = flags->Get("code");
  if (command == "create-job-centre") {
    if (!flags->Has("name") || !flags->Has("admin-code")) return Usage();
    absl::StatusOr<bool> created = admin.CreateJobCentre(
        code, flags->Get("name"), flags->Get("admin-code"), flags->Get("admin-name"));
    if (!created.ok()) return Report(created.status(), "");
    return Report(absl::OkStatus(), std::string(*created ? "created" : "kept existing") +
                                        " job centre " + code + " with admin " +
                                        flags->Get("admin-code"));
  }
  if (!flags->Has("job-centre")) return Usage();
  const std::string centre = flags->Get("job-centre");
  if (command == "add-unit") {
    if (!flags->Has("name") || !flags->Has("kind")) return Usage();
    return Report(
        admin.AddUnit(centre, code, flags->Get("name"), flags->Get("kind"), flags->Get("parent")),
        "unit " + code + " ready in " + centre);
  }
  if (command == "add-staff") {
    if (!flags->Has("role")) return Usage();
    return Report(admin.AddStaff(centre, code, flags->Get("name"), flags->Get("role"),
                                 flags->Get("team"), !flags->Has("inactive")),
                  "staff " + code + " ready in " + centre);
  }
  if (command == "add-identity-provider") {
    if (!flags->Has("name") || !flags->Has("issuer") || !flags->Has("client-id")) return Usage();
    forecast::v1::IdentityProvider provider;
    provider.set_id(code);
    provider.set_display_name(flags->Get("name"));
    provider.set_issuer(flags->Get("issuer"));
    provider.set_client_id(flags->Get("client-id"));
    provider.set_staff_claim(flags->Has("claim") ? flags->Get("claim") : "preferred_username");
    provider.set_enabled(!flags->Has("inactive"));
    absl::StatusOr<int64_t> centre_id = forecast::RunTransaction<int64_t>(
        pool, forecast::Isolation::kReadCommitted,
        [&](pqxx::transaction_base& tx) -> absl::StatusOr<int64_t> {
          pqxx::result row = tx.exec_params("SELECT id FROM job_centre WHERE code = $1", centre);
          if (row.empty()) return absl::NotFoundError("no job centre " + centre);
          return row[0][0].as<int64_t>();
        });
    if (!centre_id.ok()) return Report(centre_id.status(), "");
    forecast::identity::OidcProviderStore providers(pool);
    return Report(
        providers.Upsert(*centre_id, provider).status(),
        "identity provider " + code + " ready in " + centre + " (" + provider.issuer() + ")");
  }
  if (command == "set-password") {
    // The operator's way to give a first admin a password (others get set-up codes from an admin).
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    forecast::SystemClock clock;
    const forecast::AccessTokenSigner unused_signer(forecast::NewSigningKey());
    forecast::identity::IdentityKeeper identity(pool, clock, unused_signer);
    return Report(identity.SetPassword(centre, code, password),
                  "password set for " + code + " in " + centre);
  }
  return Usage();
}
