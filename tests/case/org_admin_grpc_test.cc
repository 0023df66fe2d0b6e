// Issue 13: the job centre's set-up over gRPC - departments and teams, staff, milestone metrics
// and the set-up audit trail - against the real server on port 0 and the real database, as the
// case service's role. Admin only; bad input is refused naming the field with a reason and
// changes nothing; every change is recorded once, with who, when and what.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "services/common/status.h"
#include "tests/case/case_test_env.h"

namespace forecast::testing {
namespace {

class OrgAdminGrpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_ = CaseEnv::Create(/*serve=*/true).release(); }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }

  static grpc::Status Unit(const std::string& as, const std::string& code, const std::string& name,
                           v1::OrgUnit::Kind kind, const std::string& parent,
                           v1::Organisation* out = nullptr) {
    v1::UpsertOrgUnitRequest request;
    request.mutable_unit()->set_code(code);
    request.mutable_unit()->set_name(name);
    request.mutable_unit()->set_kind(kind);
    request.mutable_unit()->set_parent(parent);
    v1::Organisation ignored;
    return env_->stub().UpsertOrgUnit(CaseEnv::Context(as).get(), request,
                                      out != nullptr ? out : &ignored);
  }

  static grpc::Status Staff(const std::string& as, const std::string& code, v1::Role role,
                            const std::string& team, bool active = true,
                            const std::string& name = "", const std::string& centre = "JC1") {
    v1::UpsertStaffRequest request;
    request.mutable_staff()->set_code(code);
    request.mutable_staff()->set_display_name(name.empty() ? code : name);
    request.mutable_staff()->set_role(role);
    request.mutable_staff()->set_team(team);
    request.mutable_staff()->set_active(active);
    v1::Organisation ignored;
    return env_->stub().UpsertStaff(CaseEnv::Context(as, centre).get(), request, &ignored);
  }

  static grpc::Status Metric(const std::string& as, const v1::MilestoneMetricSetting& metric,
                             v1::MilestoneMetricSettings* out = nullptr) {
    v1::UpsertMilestoneMetricRequest request;
    *request.mutable_metric() = metric;
    v1::MilestoneMetricSettings ignored;
    return env_->stub().UpsertMilestoneMetric(CaseEnv::Context(as).get(), request,
                                              out != nullptr ? out : &ignored);
  }

  // Every set-up row and the audit trail, for "changes nothing".
  static std::string SetUpDump() {
    return env_->Scalar(
        "SELECT concat_ws('|', (SELECT string_agg(concat_ws(',', code, name, kind, "
        "coalesce(parent_id::text, '')), ';' ORDER BY code) FROM org_unit), "
        "(SELECT string_agg(concat_ws(',', code, display_name, role, coalesce(team_id::text, ''), "
        "active::text), ';' ORDER BY code) FROM staff), "
        "(SELECT string_agg(concat_ws(',', code, kind, field_code, choice, active::text), ';' "
        "ORDER BY code) FROM milestone_metric), (SELECT count(*) FROM admin_change))");
  }

  static void ExpectField(const grpc::Status& status, grpc::StatusCode code,
                          const std::string& field, const std::string& reason) {
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    const ErrorDetail detail = DetailOf(FromGrpcStatus(status));
    EXPECT_EQ(detail.field, field) << status.error_message();
    EXPECT_EQ(detail.reason, reason) << status.error_message();
  }

  static CaseEnv* env_;
};

CaseEnv* OrgAdminGrpcTest::env_ = nullptr;

TEST_F(OrgAdminGrpcTest, AdminAddsRenamesAndMovesUnitsAndEachChangeIsAuditedOnce) {
  const std::string changes_before = env_->Scalar("SELECT count(*) FROM admin_change");
  ASSERT_TRUE(Unit("admin", "D2", "Afdeling Syd", v1::OrgUnit::DEPARTMENT, "").ok());
  v1::Organisation org;
  ASSERT_TRUE(Unit("admin", "T7", "Team 7", v1::OrgUnit::TEAM, "D1", &org).ok());
  bool listed = false;
  for (const v1::OrgUnit& u : org.units())
    if (u.code() == "T7") listed = u.parent() == "D1" && u.name() == "Team 7";
  EXPECT_TRUE(listed);
  // Rename and move; the same values again is no change and no audit row.
  ASSERT_TRUE(Unit("admin", "T7", "Team Syv", v1::OrgUnit::TEAM, "D2").ok());
  ASSERT_TRUE(Unit("admin", "T7", "Team Syv", v1::OrgUnit::TEAM, "D2").ok());
  EXPECT_EQ(env_->Scalar("SELECT p.code || '/' || u.name FROM org_unit u JOIN org_unit p ON "
                         "p.id = u.parent_id WHERE u.code = 'T7'"),
            "D2/Team Syv");
  EXPECT_EQ(
      std::stoi(env_->Scalar("SELECT count(*) FROM admin_change")) - std::stoi(changes_before), 3);

  v1::ListAdminChangesRequest request;
  request.set_target_kind("ORG_UNIT");
  request.set_target_code("T7");
  v1::ListAdminChangesResponse changes;
  ASSERT_TRUE(
      env_->stub().ListAdminChanges(CaseEnv::Context("admin").get(), request, &changes).ok());
  ASSERT_EQ(changes.changes_size(), 2);  // newest first
  EXPECT_EQ(changes.changes(0).changed_by(), "admin");
  EXPECT_EQ(changes.changes(0).call(), "UpsertOrgUnit");
  EXPECT_NE(changes.changes(0).before_json().find("\"parent\": \"D1\""), std::string::npos)
      << changes.changes(0).before_json();
  EXPECT_NE(changes.changes(0).after_json().find("\"name\": \"Team Syv\""), std::string::npos)
      << changes.changes(0).after_json();
  EXPECT_TRUE(changes.changes(1).before_json().empty());
  EXPECT_FALSE(changes.changes(0).changed_at().empty());

  // Pages: one change at a time, newest first.
  request.set_page_size(1);
  v1::ListAdminChangesResponse page;
  ASSERT_TRUE(env_->stub().ListAdminChanges(CaseEnv::Context("admin").get(), request, &page).ok());
  ASSERT_EQ(page.changes_size(), 1);
  ASSERT_FALSE(page.next_page_token().empty());
  request.set_page_token(page.next_page_token());
  ASSERT_TRUE(env_->stub().ListAdminChanges(CaseEnv::Context("admin").get(), request, &page).ok());
  ASSERT_EQ(page.changes_size(), 1);
  EXPECT_EQ(page.changes(0).id(), changes.changes(1).id());
  EXPECT_TRUE(page.next_page_token().empty());
}

TEST_F(OrgAdminGrpcTest, BadUnitsAreRefusedNamingTheFieldAndChangeNothing) {
  const std::string before = SetUpDump();
  ExpectField(Unit("admin", "bad code", "X", v1::OrgUnit::TEAM, ""),
              grpc::StatusCode::INVALID_ARGUMENT, "unit.code", "NOT_A_CODE");
  ExpectField(Unit("admin", "T.9", "X", v1::OrgUnit::TEAM, ""), grpc::StatusCode::INVALID_ARGUMENT,
              "unit.code", "NOT_A_CODE");
  ExpectField(Unit("admin", "T9", "", v1::OrgUnit::TEAM, ""), grpc::StatusCode::INVALID_ARGUMENT,
              "unit.name", "REQUIRED");
  ExpectField(Unit("admin", "T9", "Team 9", v1::OrgUnit::KIND_UNSPECIFIED, ""),
              grpc::StatusCode::INVALID_ARGUMENT, "unit.kind", "REQUIRED");
  ExpectField(Unit("admin", "T9", "Team 9", v1::OrgUnit::TEAM, "NOPE"),
              grpc::StatusCode::INVALID_ARGUMENT, "unit.parent", "DEPARTMENT_NOT_FOUND");
  ExpectField(Unit("admin", "T9", "Team 9", v1::OrgUnit::TEAM, "T1"),
              grpc::StatusCode::INVALID_ARGUMENT, "unit.parent", "DEPARTMENT_NOT_FOUND");
  ExpectField(Unit("admin", "D9", "Afdeling 9", v1::OrgUnit::DEPARTMENT, "D1"),
              grpc::StatusCode::INVALID_ARGUMENT, "unit.parent", "DEPARTMENT_PARENT");
  ExpectField(Unit("admin", "T1", "Team 1", v1::OrgUnit::DEPARTMENT, ""),
              grpc::StatusCode::FAILED_PRECONDITION, "unit.kind", "UNIT_KIND_FIXED");
  EXPECT_EQ(SetUpDump(), before);
}

TEST_F(OrgAdminGrpcTest, OnlyAdminsSetUpAndOtherCentresAreUntouched) {
  const std::string before = SetUpDump();
  for (const char* who : {"cw1", "tl1", "mgr"}) {
    SCOPED_TRACE(who);
    ExpectField(Unit(who, "T8", "Team 8", v1::OrgUnit::TEAM, "D1"),
                grpc::StatusCode::PERMISSION_DENIED, "", "NOT_ALLOWED");
    ExpectField(Staff(who, "cw9", v1::CASEWORKER, "T1"), grpc::StatusCode::PERMISSION_DENIED, "",
                "NOT_ALLOWED");
    v1::MilestoneMetricSetting metric;
    metric.set_code("x");
    metric.set_label_da("X");
    metric.set_kind("CASELOAD");
    ExpectField(Metric(who, metric), grpc::StatusCode::PERMISSION_DENIED, "", "NOT_ALLOWED");
    v1::MilestoneMetricSettings metrics;
    EXPECT_EQ(env_->stub()
                  .ListMilestoneMetricSettings(CaseEnv::Context(who).get(),
                                               v1::ListMilestoneMetricSettingsRequest(), &metrics)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::ListAdminChangesResponse changes;
    EXPECT_EQ(
        env_->stub()
            .ListAdminChanges(CaseEnv::Context(who).get(), v1::ListAdminChangesRequest(), &changes)
            .error_code(),
        grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(SetUpDump(), before);
  // JC2's admin works in JC2 only: naming JC1's team finds nothing there.
  ExpectField(Staff("admin2", "cw1", v1::CASEWORKER, "T1", true, "", "JC2"),
              grpc::StatusCode::INVALID_ARGUMENT, "staff.team", "TEAM_NOT_FOUND");
  v1::ListAdminChangesResponse theirs;
  ASSERT_TRUE(env_->stub()
                  .ListAdminChanges(CaseEnv::Context("admin2", "JC2").get(),
                                    v1::ListAdminChangesRequest(), &theirs)
                  .ok());
  for (const v1::AdminChange& c : theirs.changes()) EXPECT_NE(c.changed_by(), "admin");
}

TEST_F(OrgAdminGrpcTest, StaffAreAddedMovedPromotedAndDeactivatedAndDeactivationStopsCalls) {
  ASSERT_TRUE(Staff("admin", "cw7", v1::CASEWORKER, "T1", true, "Sagsbehandler Syv").ok());
  v1::StaffMember me;
  ASSERT_TRUE(env_->stub().WhoAmI(CaseEnv::Context("cw7").get(), v1::WhoAmIRequest(), &me).ok());
  EXPECT_EQ(me.team(), "T1");
  ASSERT_TRUE(Staff("admin", "cw7", v1::TEAM_LEADER, "T2").ok());
  ASSERT_TRUE(env_->stub().WhoAmI(CaseEnv::Context("cw7").get(), v1::WhoAmIRequest(), &me).ok());
  EXPECT_EQ(me.role(), v1::TEAM_LEADER);
  EXPECT_EQ(me.team(), "T2");
  ASSERT_TRUE(Staff("admin", "cw7", v1::TEAM_LEADER, "T2", /*active=*/false).ok());
  EXPECT_EQ(
      env_->stub().WhoAmI(CaseEnv::Context("cw7").get(), v1::WhoAmIRequest(), &me).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      env_->Scalar("SELECT count(*) FROM admin_change a JOIN staff s ON s.id = a.staff_id "
                   "WHERE a.target_kind = 'STAFF' AND a.target_code = 'cw7' AND s.code = 'admin'"),
      "3");

  const std::string before = SetUpDump();
  ExpectField(Staff("admin", "cw8", v1::CASEWORKER, ""), grpc::StatusCode::INVALID_ARGUMENT,
              "staff.team", "TEAM_REQUIRED");
  ExpectField(Staff("admin", "cw8", v1::CASEWORKER, "D1"), grpc::StatusCode::INVALID_ARGUMENT,
              "staff.team", "TEAM_NOT_FOUND");
  ExpectField(Staff("admin", "cw8", v1::ROLE_UNSPECIFIED, "T1"), grpc::StatusCode::INVALID_ARGUMENT,
              "staff.role", "REQUIRED");
  ExpectField(Staff("admin", "cw 8", v1::CASEWORKER, "T1"), grpc::StatusCode::INVALID_ARGUMENT,
              "staff.code", "NOT_A_CODE");
  // The only admin may not demote or deactivate themselves: nobody could set up the centre.
  ExpectField(Staff("admin", "admin", v1::MANAGER, ""), grpc::StatusCode::FAILED_PRECONDITION,
              "staff.role", "LAST_ADMIN");
  ExpectField(Staff("admin", "admin", v1::ADMIN, "", /*active=*/false),
              grpc::StatusCode::FAILED_PRECONDITION, "staff.role", "LAST_ADMIN");
  EXPECT_EQ(SetUpDump(), before);
}

TEST_F(OrgAdminGrpcTest, MilestoneMetricsAreCheckedAgainstFieldsAndOutcomeGroups) {
  v1::UpsertCaseFieldRequest field;
  field.mutable_field()->set_code("in_internship");
  field.mutable_field()->set_label_da("I virksomhedspraktik");
  field.mutable_field()->set_label_en("In internship");
  field.mutable_field()->set_type(v1::CaseField::BOOL);
  field.mutable_field()->set_active(true);
  v1::Catalogue catalogue;
  ASSERT_TRUE(
      env_->stub().UpsertCaseField(CaseEnv::Context("admin").get(), field, &catalogue).ok());
  field.mutable_field()->set_code("segment");
  field.mutable_field()->set_label_da("Segment");
  field.mutable_field()->set_type(v1::CaseField::CHOICE);
  field.mutable_field()->add_choices("A");
  field.mutable_field()->add_choices("B");
  ASSERT_TRUE(
      env_->stub().UpsertCaseField(CaseEnv::Context("admin").get(), field, &catalogue).ok());
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM admin_change WHERE target_kind = 'CASE_FIELD'"),
            "2");

  v1::MilestoneMetricSetting m;
  m.set_code("internships");
  m.set_label_da("Nye praktikker");
  m.set_kind("FIELD_TURNED_TRUE");
  m.set_field_code("in_internship");
  m.set_higher_is_better(true);
  m.set_sort_order(5);
  m.set_active(true);
  v1::MilestoneMetricSettings metrics;
  ASSERT_TRUE(Metric("admin", m, &metrics).ok());
  bool found = false;
  for (const v1::MilestoneMetricSetting& x : metrics.metrics()) {
    if (x.code() != "internships") continue;
    found = true;
    EXPECT_EQ(x.label_en(), "Nye praktikker");  // the Danish label when none is given
    EXPECT_TRUE(x.active());
  }
  EXPECT_TRUE(found);
  // Deactivated metrics are still listed for the admin, marked inactive.
  m.set_active(false);
  ASSERT_TRUE(Metric("admin", m).ok());
  ASSERT_TRUE(env_->stub()
                  .ListMilestoneMetricSettings(CaseEnv::Context("admin").get(),
                                               v1::ListMilestoneMetricSettingsRequest(), &metrics)
                  .ok());
  found = false;
  for (const v1::MilestoneMetricSetting& x : metrics.metrics())
    if (x.code() == "internships") found = !x.active();
  EXPECT_TRUE(found);
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM admin_change WHERE target_kind = "
                         "'MILESTONE_METRIC' AND target_code = 'internships'"),
            "2");

  const std::string before = SetUpDump();
  v1::MilestoneMetricSetting bad = m;
  bad.set_code("Bad-Code");
  ExpectField(Metric("admin", bad), grpc::StatusCode::INVALID_ARGUMENT, "metric.code",
              "METRIC_CODE");
  bad = m;
  bad.set_kind("SOMETHING");
  ExpectField(Metric("admin", bad), grpc::StatusCode::INVALID_ARGUMENT, "metric.kind",
              "NOT_A_CHOICE");
  bad = m;
  bad.set_field_code("nope");
  ExpectField(Metric("admin", bad), grpc::StatusCode::INVALID_ARGUMENT, "metric.field_code",
              "UNKNOWN_FIELD");
  bad = m;
  bad.set_field_code("segment");
  ExpectField(Metric("admin", bad), grpc::StatusCode::INVALID_ARGUMENT, "metric.field_code",
              "FIELD_NOT_BOOL");
  bad = m;
  bad.set_kind("FIELD_SET");
  bad.set_field_code("segment");
  bad.set_choice("C");
  ExpectField(Metric("admin", bad), grpc::StatusCode::INVALID_ARGUMENT, "metric.choice",
              "NOT_A_CHOICE");
  bad = m;
  bad.set_kind("CLOSURES");
  bad.set_outcome_group("NO_SUCH_GROUP");
  ExpectField(Metric("admin", bad), grpc::StatusCode::INVALID_ARGUMENT, "metric.outcome_group",
              "UNKNOWN_CODE");
  bad = m;
  bad.set_label_da("");
  ExpectField(Metric("admin", bad), grpc::StatusCode::INVALID_ARGUMENT, "metric.label_da",
              "REQUIRED");
  EXPECT_EQ(SetUpDump(), before);

  // A choice metric on a known choice is accepted.
  v1::MilestoneMetricSetting segment = m;
  segment.set_code("segment_a");
  segment.set_kind("FIELD_SET");
  segment.set_field_code("segment");
  segment.set_choice("A");
  segment.set_active(true);
  EXPECT_TRUE(Metric("admin", segment).ok());
}

TEST_F(OrgAdminGrpcTest, CatalogueEditsAreAuditedWithBeforeAndAfter) {
  v1::UpsertCatalogueEntryRequest entry;
  entry.mutable_entry()->set_kind(v1::CatalogueEntry::RISK);
  entry.mutable_entry()->set_code("HIGH");
  entry.mutable_entry()->set_label_da("Høj");
  entry.mutable_entry()->set_label_en("High");
  entry.mutable_entry()->set_probability(0.33);
  entry.mutable_entry()->set_sort_order(3);
  entry.mutable_entry()->set_active(true);
  v1::Catalogue catalogue;
  ASSERT_TRUE(
      env_->stub().UpsertCatalogueEntry(CaseEnv::Context("admin").get(), entry, &catalogue).ok());
  v1::ListAdminChangesRequest request;
  request.set_target_kind("CATALOGUE_ENTRY");
  request.set_target_code("RISK/HIGH");
  v1::ListAdminChangesResponse changes;
  ASSERT_TRUE(
      env_->stub().ListAdminChanges(CaseEnv::Context("admin").get(), request, &changes).ok());
  ASSERT_EQ(changes.changes_size(), 1);
  EXPECT_FALSE(changes.changes(0).before_json().empty());
  EXPECT_NE(changes.changes(0).after_json().find("0.33"), std::string::npos)
      << changes.changes(0).after_json();
}

}  // namespace
}  // namespace forecast::testing
