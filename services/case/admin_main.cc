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
#include <optional>
#include <string>

#include "services/case/org_admin.h"
#include "services/common/calendar.h"
#include "services/common/command_line.h"
#include "services/common/migrations.h"
#include "services/identity/oidc_sign_in.h"
#include "services/identity/identity_keeper.h"

namespace {

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
  std::string db, migrations, code, name, admin_code, admin_name, centre, kind, parent, role, team,
      issuer, client_id, claim = "preferred_username";
  bool inactive = false;
  CLI::App app{"Sets up job centres, units, staff and identity providers in the database.",
               "forecast-admin"};
  app.require_subcommand(1);
  // Every command names the database and the code of what it sets up.
  auto command = [&](const char* command_name, const char* help) {
    CLI::App* sub = app.add_subcommand(command_name, help);
    sub->add_option("--db", db, "PostgreSQL connection string")->required();
    sub->add_option("--code", code, "code of the job centre, unit, staff member or provider")
        ->required();
    return sub;
  };
  auto in_centre = [&](CLI::App* sub) {
    sub->add_option("--job-centre", centre, "code of the job centre")->required();
    return sub;
  };
  CLI::App* create_centre = command("create-job-centre", "create a job centre and its admin");
  create_centre->add_option("--name", name, "the job centre's name")->required();
  create_centre->add_option("--admin-code", admin_code, "staff code of its admin")->required();
  create_centre->add_option("--admin-name", admin_name, "the admin's name");
  create_centre->add_option("--migrations", migrations, "apply the migrations here first");
  CLI::App* add_unit = in_centre(command("add-unit", "add a department or a team"));
  add_unit->add_option("--name", name, "the unit's name")->required();
  add_unit->add_option("--kind", kind, "DEPARTMENT or TEAM")
      ->required()
      ->check(CLI::IsMember({"DEPARTMENT", "TEAM"}));
  add_unit->add_option("--parent", parent, "code of the department a team belongs to");
  CLI::App* add_staff = in_centre(command("add-staff", "add a staff member"));
  add_staff->add_option("--role", role, "CASEWORKER, TEAM_LEADER, MANAGER or ADMIN")
      ->required()
      ->check(CLI::IsMember({"CASEWORKER", "TEAM_LEADER", "MANAGER", "ADMIN"}));
  add_staff->add_option("--team", team, "code of the team");
  add_staff->add_option("--name", name, "the staff member's name");
  add_staff->add_flag("--inactive", inactive, "added as inactive");
  CLI::App* add_provider =
      in_centre(command("add-identity-provider", "add the job centre's OpenID provider"));
  add_provider->add_option("--name", name, "the name on the login page")->required();
  add_provider->add_option("--issuer", issuer, "the provider's issuer URL")->required();
  add_provider->add_option("--client-id", client_id, "this product's client id there")->required();
  add_provider->add_option("--claim", claim, "the claim that holds the staff code")
      ->capture_default_str();
  add_provider->add_flag("--inactive", inactive, "added as disabled");
  CLI::App* set_password =
      in_centre(command("set-password", "set a staff member's password (read from stdin)"));
  if (std::optional<int> exit_code = forecast::ParseCommandLine(app, argc, argv)) return *exit_code;

  if (!migrations.empty()) {
    absl::StatusOr<int> applied = forecast::ApplyMigrations(db, migrations);
    if (!applied.ok()) return Report(applied.status(), "");
  }
  forecast::PgPool pool(db, 1);
  forecast::OrgAdmin admin(pool);
  if (create_centre->parsed()) {
    absl::StatusOr<bool> created = admin.CreateJobCentre(code, name, admin_code, admin_name);
    if (!created.ok()) return Report(created.status(), "");
    return Report(absl::OkStatus(), std::string(*created ? "created" : "kept existing") +
                                        " job centre " + code + " with admin " + admin_code);
  }
  if (add_unit->parsed()) {
    return Report(admin.AddUnit(centre, code, name, kind, parent),
                  "unit " + code + " ready in " + centre);
  }
  if (add_staff->parsed()) {
    return Report(admin.AddStaff(centre, code, name, role, team, !inactive),
                  "staff " + code + " ready in " + centre);
  }
  if (add_provider->parsed()) {
    forecast::v1::IdentityProvider provider;
    provider.set_id(code);
    provider.set_display_name(name);
    provider.set_issuer(issuer);
    provider.set_client_id(client_id);
    provider.set_staff_claim(claim);
    provider.set_enabled(!inactive);
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
  if (set_password->parsed()) {
    // The operator's way to give a first admin a password (others get set-up codes from an
    // admin).
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    forecast::SystemClock clock;
    const forecast::AccessTokenSigner unused_signer(forecast::NewSigningKey());
    forecast::identity::IdentityKeeper identity(pool, clock, unused_signer);
    return Report(identity.SetPassword(centre, code, password),
                  "password set for " + code + " in " + centre);
  }
  std::cerr << "forecast-admin: no command (see --help)\n";
  return 2;
}
