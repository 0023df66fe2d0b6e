// forecastctl's forecast commands: the projection table and the CSV/JSON exports of
// projections, dashboards and milestones.
#include "clients/cli/command_support.h"
#include "clients/cli/commands.h"
#include "clients/cli/report_format.h"
#include "clients/cli/session.h"

namespace forecast::cli {
namespace {

absl::StatusOr<v1::Projection> FetchProjection(const CommandEnv& env,
                                               const ProjectionQuery& query) {
  absl::StatusOr<v1::Scope> scope = ParseScope(query.scope);
  if (!scope.ok()) return scope.status();
  absl::StatusOr<v1::Model> model = ParseModel(query.model);
  if (!model.ok()) return model.status();
  if (query.months < 1 || query.months > 24) {
    return absl::InvalidArgumentError("--months: must be between 1 and 24");
  }
  v1::ProjectRequest request;
  *request.mutable_scope() = *scope;
  request.set_model(*model);
  request.set_horizon_months(query.months);
  request.set_as_of(query.as_of);
  auto stub = ForecastStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::Projection projection;
  grpc::Status status = stub->Project(&context, request, &projection);
  if (!status.ok()) return FromGrpc(status);
  // The CSV's scope column must say what was asked even if the server leaves scope unset.
  if (!projection.has_scope()) *projection.mutable_scope() = *scope;
  return projection;
}

}  // namespace

int PrintProjection(const CommandEnv& env, const ProjectionQuery& query) {
  absl::StatusOr<v1::Projection> projection = FetchProjection(env, query);
  if (!projection.ok()) return Fail(env, projection.status());
  *env.out << FormatProjectionTable(*projection);
  return 0;
}

int ExportProjection(const CommandEnv& env, const ProjectionQuery& query, Format format) {
  absl::StatusOr<v1::Projection> projection = FetchProjection(env, query);
  if (!projection.ok()) return Fail(env, projection.status());
  if (format == Format::kJson) return PrintJson(env, *projection);
  WriteProjectionCsv(*projection, *env.out);
  return 0;
}

int ExportDashboard(const CommandEnv& env, const std::string& team, const std::string& as_of,
                    Format format) {
  auto stub = ForecastStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::TeamDashboardRequest request;
  request.set_team(team);
  request.set_as_of(as_of);
  v1::TeamDashboard dashboard;
  grpc::Status status = stub->GetTeamDashboard(&context, request, &dashboard);
  if (!status.ok()) return Fail(env, status);
  if (format == Format::kJson) return PrintJson(env, dashboard);
  WriteTeamDashboardCsv(dashboard, *env.out);
  return 0;
}

int ExportMilestones(const CommandEnv& env, const std::string& team, const std::string& caseworker,
                     const std::string& from, const std::string& to, Format format) {
  auto stub = ForecastStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::MilestonesRequest request;
  request.set_team(team);
  request.set_caseworker(caseworker);
  request.set_from_month(from);
  request.set_to_month(to);
  v1::Milestones milestones;
  grpc::Status status = stub->GetMilestones(&context, request, &milestones);
  if (!status.ok()) return Fail(env, status);
  if (format == Format::kJson) return PrintJson(env, milestones);
  WriteMilestonesCsv(milestones, *env.out);
  return 0;
}

}  // namespace forecast::cli
