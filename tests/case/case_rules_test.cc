// The case service's validation rules, without a database.
#include "services/case/case_rules.h"

#include <gtest/gtest.h>

#include "forecast/v1/case_service.pb.h"

namespace forecast {
namespace {

using v1::CaseField;
using v1::CatalogueEntry;

v1::Catalogue SampleCatalogue() {
  v1::Catalogue catalogue;
  auto add = [](google::protobuf::RepeatedPtrField<CatalogueEntry>* list, CatalogueEntry::Kind kind,
                const char* code, bool active) {
    CatalogueEntry* entry = list->Add();
    entry->set_kind(kind);
    entry->set_code(code);
    entry->set_active(active);
  };
  add(catalogue.mutable_case_types(), CatalogueEntry::CASE_TYPE, "SDP", true);
  add(catalogue.mutable_case_types(), CatalogueEntry::CASE_TYPE, "OLD", false);
  add(catalogue.mutable_outcomes(), CatalogueEntry::OUTCOME, "FLEX_JOB", true);
  add(catalogue.mutable_risks(), CatalogueEntry::RISK, "LOW", true);
  CaseField* cv = catalogue.add_fields();
  cv->set_code("has_cv");
  cv->set_type(CaseField::BOOL);
  cv->set_active(true);
  CaseField* segment = catalogue.add_fields();
  segment->set_code("segment");
  segment->set_type(CaseField::CHOICE);
  segment->add_choices("READY");
  segment->add_choices("CLOSE");
  segment->set_active(true);
  CaseField* hours = catalogue.add_fields();
  hours->set_code("hours");
  hours->set_type(CaseField::NUMBER);
  hours->set_active(true);
  CaseField* since = catalogue.add_fields();
  since->set_code("since");
  since->set_type(CaseField::DATE);
  since->set_active(true);
  return catalogue;
}

TEST(CatalogueView, MembershipAndMessages) {
  const CatalogueView view(SampleCatalogue());
  EXPECT_TRUE(view.CheckActive(CatalogueEntry::CASE_TYPE, "SDP", "case_type").ok());
  absl::Status retired = view.CheckActive(CatalogueEntry::CASE_TYPE, "OLD", "case_type");
  EXPECT_EQ(retired.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(retired.message().rfind("case_type: \"OLD\" is no longer an active case type", 0), 0u)
      << retired;
  absl::Status unknown = view.CheckActive(CatalogueEntry::OUTCOME, "JOB", "expected_outcome");
  EXPECT_NE(unknown.message().find("expected_outcome: \"JOB\" is not an outcome"),
            std::string::npos)
      << unknown;
  EXPECT_NE(unknown.message().find("FLEX_JOB"), std::string::npos);  // lists the choices
  EXPECT_EQ(view.CheckActive(CatalogueEntry::RISK, "", "risk").message(),
            "risk: a risk level is required");
  // Codes of one kind are not accepted for another.
  EXPECT_FALSE(view.CheckActive(CatalogueEntry::RISK, "SDP", "risk").ok());
}

struct MonthCase {
  absl::CivilMonth month;
  bool ok;
};

TEST(ExpectedMonth, NotBeforeOpeningAtMostSixtyMonthsAhead) {
  const absl::CivilDay opened(2025, 3, 20), today(2026, 11, 16);
  const MonthCase cases[] = {
      {absl::CivilMonth(2025, 2), false},  {absl::CivilMonth(2025, 3), true},
      {absl::CivilMonth(2026, 11), true},  {absl::CivilMonth(2031, 11), true},
      {absl::CivilMonth(2031, 12), false},
  };
  for (const MonthCase& c : cases) {
    absl::Status status = CheckExpectedMonth(c.month, opened, today, "expected_month");
    EXPECT_EQ(status.ok(), c.ok) << c.month;
    if (!status.ok()) {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(status.message().rfind("expected_month: ", 0), 0u);
    }
  }
}

TEST(FieldValues, TypedPerField) {
  const CatalogueView view(SampleCatalogue());
  struct Row {
    const char* code;
    v1::FieldValue value;
    bool ok;
    const char* json;
  };
  auto b = [](bool x) {
    v1::FieldValue v;
    v.set_bool_value(x);
    return v;
  };
  auto n = [](double x) {
    v1::FieldValue v;
    v.set_number_value(x);
    return v;
  };
  auto c = [](const char* x) {
    v1::FieldValue v;
    v.set_choice_value(x);
    return v;
  };
  auto d = [](const char* x) {
    v1::FieldValue v;
    v.set_date_value(x);
    return v;
  };
  const Row rows[] = {
      {"has_cv", b(true), true, "true"},
      {"has_cv", n(1), false, ""},
      {"segment", c("READY"), true, "\"READY\""},
      {"segment", c("FAR"), false, ""},
      {"segment", b(true), false, ""},
      {"hours", n(12.5), true, "12.5"},
      {"hours", c("12"), false, ""},
      {"since", d("2026-02-01"), true, "\"2026-02-01\""},
      {"since", d("2026-02-30"), false, ""},
      {"since", c("2026-02-01"), false, ""},
  };
  for (const Row& row : rows) {
    const std::string name = std::string("fields[") + row.code + "]";
    auto json = FieldValueToJson(*view.FindField(row.code), row.value, name);
    EXPECT_EQ(json.ok(), row.ok) << name << " " << row.value.ShortDebugString();
    if (json.ok()) {
      EXPECT_EQ(*json, row.json);
      v1::FieldValue back;
      ASSERT_TRUE(FieldValueFromJson(view.FindField(row.code)->type(), *json, &back));
      EXPECT_EQ(back.SerializeAsString(), row.value.SerializeAsString());
    } else {
      EXPECT_EQ(json.status().message().rfind(name, 0), 0u) << json.status();
    }
  }
  google::protobuf::Map<std::string, v1::FieldValue> fields;
  fields["unknown"] = b(true);
  EXPECT_EQ(FieldsToJson(view, fields)
                .status()
                .message()
                .rfind("fields[unknown]: is not an active case field", 0),
            0u);
  fields.clear();
  fields["has_cv"] = b(false);
  fields["hours"] = n(3);
  EXPECT_EQ(*FieldsToJson(view, fields), R"({"has_cv":false,"hours":3.0})");
  // Import text.
  EXPECT_EQ(*FieldTextToJson(*view.FindField("has_cv"), "ja", "has_cv"), "true");
  EXPECT_FALSE(FieldTextToJson(*view.FindField("has_cv"), "maybe", "has_cv").ok());
  EXPECT_FALSE(FieldTextToJson(*view.FindField("hours"), "12h", "hours").ok());
}

TEST(PageTokens, RoundTripAndRejectForeignTokens) {
  const std::string token = EncodePageToken("SAG/2024-001");
  EXPECT_EQ(token.find('/'), std::string::npos);
  EXPECT_EQ(*DecodePageToken(token), "SAG/2024-001");
  EXPECT_EQ(DecodePageToken("not a token!").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodePageToken("eHl6").status().message().rfind("page_token:", 0), 0u);
}

TEST(PageTokens, ActionTokensRoundTripAndRejectCaseListTokens) {
  const std::string token = EncodeActionPageToken({"2026-12-01", 4711});
  absl::StatusOr<ActionPosition> position = DecodeActionPageToken(token);
  ASSERT_TRUE(position.ok()) << position.status();
  EXPECT_EQ(position->due_on, "2026-12-01");
  EXPECT_EQ(position->id, 4711);
  EXPECT_EQ(DecodeActionPageToken(EncodePageToken("SAG-1")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodePageToken(token).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeActionPageToken("eHl6").status().message().rfind("page_token:", 0), 0u);

  // A case lists its first open actions; the token points after the last listed.
  v1::Case view;
  view.add_open_actions()->set_id(1);
  view.mutable_open_actions(0)->set_due_on("2026-01-02");
  SetOpenActionsPage(1, view);
  EXPECT_EQ(view.open_action_count(), 1);
  EXPECT_TRUE(view.open_actions_page_token().empty());
  SetOpenActionsPage(70, view);
  EXPECT_EQ(view.open_action_count(), 70);
  ASSERT_FALSE(view.open_actions_page_token().empty());
  EXPECT_EQ(DecodeActionPageToken(view.open_actions_page_token())->id, 1);
}

TEST(RequestFingerprint, StableAndSensitive) {
  v1::RecordExpectationRequest a;
  a.set_case_ref("A1");
  a.set_risk("LOW");
  v1::RecordExpectationRequest b = a;
  EXPECT_EQ(RequestFingerprint("RecordExpectation", a), RequestFingerprint("RecordExpectation", b));
  EXPECT_EQ(RequestFingerprint("RecordExpectation", a).size(), 32u);
  b.set_risk("HIGH");
  EXPECT_NE(RequestFingerprint("RecordExpectation", a), RequestFingerprint("RecordExpectation", b));
  EXPECT_NE(RequestFingerprint("RecordExpectation", a), RequestFingerprint("CloseCase", a));
  // Map order does not matter (deterministic serialisation).
  v1::CreateCaseRequest m1, m2;
  (*m1.mutable_fields())["x"].set_bool_value(true);
  (*m1.mutable_fields())["y"].set_bool_value(false);
  (*m2.mutable_fields())["y"].set_bool_value(false);
  (*m2.mutable_fields())["x"].set_bool_value(true);
  EXPECT_EQ(RequestFingerprint("CreateCase", m1), RequestFingerprint("CreateCase", m2));
}

TEST(CatalogueEdits, EntriesAndFields) {
  CatalogueEntry entry;
  entry.set_kind(CatalogueEntry::RISK);
  entry.set_code("VERY_HIGH");
  entry.set_label_da("Meget høj");
  entry.set_label_en("Very high");
  entry.set_probability(0.2);
  EXPECT_TRUE(CheckCatalogueEntry(entry).ok());
  CatalogueEntry bad = entry;
  bad.set_code("very high");
  EXPECT_EQ(CheckCatalogueEntry(bad).message().rfind("entry.code:", 0), 0u);
  bad = entry;
  bad.set_probability(1.5);
  EXPECT_EQ(CheckCatalogueEntry(bad).message().rfind("entry.probability:", 0), 0u);
  bad = entry;
  bad.set_label_en("citizen 010190-1234");
  EXPECT_EQ(CheckCatalogueEntry(bad).message().rfind("entry.label_en:", 0), 0u);
  bad = entry;
  bad.set_kind(CatalogueEntry::OUTCOME);
  EXPECT_FALSE(CheckCatalogueEntry(bad).ok());  // outcomes need a group, and no probability

  CaseField field;
  field.set_code("segment");
  field.set_label_da("Segment");
  field.set_label_en("Segment");
  field.set_type(CaseField::CHOICE);
  EXPECT_EQ(CheckCaseFieldDefinition(field).message().rfind("field.choices:", 0), 0u);
  field.add_choices("READY");
  EXPECT_TRUE(CheckCaseFieldDefinition(field).ok());
  field.add_choices("READY");
  EXPECT_FALSE(CheckCaseFieldDefinition(field).ok());
  field.clear_choices();
  field.set_type(CaseField::BOOL);
  field.set_code("Has CV");
  EXPECT_EQ(CheckCaseFieldDefinition(field).message().rfind("field.code:", 0), 0u);
}

}  // namespace
}  // namespace forecast
