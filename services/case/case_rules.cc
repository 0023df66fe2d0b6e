#include "services/case/case_rules.h"

#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/common/calendar.h"
#include "services/common/status.h"
#include "services/common/text_checks.h"

namespace forecast {
namespace {

using v1::CaseField;
using v1::CatalogueEntry;

constexpr char kPageTokenPrefix[] = "cr1:";
constexpr char kActionPageTokenPrefix[] = "ac1:";
constexpr char kHistoryPageTokenPrefix[] = "ch1:";

// A request field's problem: the English wording plus a reason code and parameters that clients
// phrase in the user's language (services/common/status.h).
absl::Status Invalid(absl::string_view field, absl::string_view problem,
                     absl::string_view reason = "INVALID", const ErrorParams& params = {}) {
  return FieldError(field, reason, problem, params);
}

std::string KindNoun(CatalogueEntry::Kind kind) {
  switch (kind) {
    case CatalogueEntry::CASE_TYPE: return "case type";
    case CatalogueEntry::OUTCOME: return "outcome";
    case CatalogueEntry::RISK: return "risk level";
    default: return "catalogue entry";
  }
}

bool IsUpperCode(absl::string_view code) {
  if (code.empty() || code.size() > 32) return false;
  for (char c : code) {
    if (!(absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_')) return false;
  }
  return true;
}

bool IsLowerCode(absl::string_view code) {
  if (code.empty() || code.size() > 32) return false;
  for (char c : code) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) return false;
  }
  return true;
}

uint64_t Fnv1a(absl::string_view bytes, uint64_t basis) {
  uint64_t hash = basis;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

}  // namespace

CatalogueView::CatalogueView(v1::Catalogue catalogue) : catalogue_(std::move(catalogue)) {
  for (const auto* list : {&catalogue_.case_types(), &catalogue_.outcomes(), &catalogue_.risks()}) {
    for (const CatalogueEntry& entry : *list) {
      entries_[{static_cast<int>(entry.kind()), entry.code()}] = &entry;
    }
  }
  for (const CaseField& field : catalogue_.fields()) fields_[field.code()] = &field;
}

const CatalogueEntry* CatalogueView::Find(CatalogueEntry::Kind kind, absl::string_view code) const {
  auto it = entries_.find({static_cast<int>(kind), std::string(code)});
  return it == entries_.end() ? nullptr : it->second;
}

const CaseField* CatalogueView::FindField(absl::string_view code) const {
  auto it = fields_.find(code);
  return it == fields_.end() ? nullptr : it->second;
}

absl::Status CatalogueView::CheckActive(CatalogueEntry::Kind kind, absl::string_view code,
                                        absl::string_view field) const {
  if (code.empty()) {
    return Invalid(field,
                   absl::StrCat(kind == CatalogueEntry::OUTCOME ? "an " : "a ", KindNoun(kind),
                                " is required"),
                   "REQUIRED");
  }
  const CatalogueEntry* entry = Find(kind, code);
  if (entry != nullptr && entry->active()) return absl::OkStatus();
  std::vector<std::string> active;
  for (const auto& [key, candidate] : entries_) {
    if (key.first == static_cast<int>(kind) && candidate->active())
      active.push_back(candidate->code());
  }
  return Invalid(
      field,
      absl::StrCat("\"", code.substr(0, 40), "\" is ",
                   entry == nullptr ? (kind == CatalogueEntry::OUTCOME ? "not an " : "not a ")
                                    : "no longer an active ",
                   KindNoun(kind),
                   " in this job centre's catalogue (one of: ", absl::StrJoin(active, ", "), ")"),
      entry == nullptr ? "UNKNOWN_CODE" : "INACTIVE_CODE",
      {{"value", std::string(code.substr(0, 40))}});
}

absl::Status CheckExpectedMonth(absl::CivilMonth month, absl::CivilDay opened_on,
                                absl::CivilDay today, absl::string_view field) {
  const absl::CivilMonth opened(opened_on);
  if (month < opened) {
    return Invalid(field,
                   absl::StrCat(FormatMonth(month), " is before the month the case opened (",
                                FormatMonth(opened), ")"),
                   "MONTH_BEFORE_OPENED",
                   {{"month", FormatMonth(month)}, {"opened", FormatMonth(opened)}});
  }
  const absl::CivilMonth limit = absl::CivilMonth(today) + kMaxMonthsAhead;
  if (month > limit) {
    return Invalid(field,
                   absl::StrCat(FormatMonth(month), " is more than ", kMaxMonthsAhead,
                                " months ahead (the latest allowed is ", FormatMonth(limit), ")"),
                   "MONTH_TOO_FAR",
                   {{"month", FormatMonth(month)},
                    {"months", absl::StrCat(kMaxMonthsAhead)},
                    {"latest", FormatMonth(limit)}});
  }
  return absl::OkStatus();
}

absl::Status CheckDayWithin(absl::CivilDay day, absl::CivilDay not_before,
                            absl::string_view before_what, absl::CivilDay not_after,
                            absl::string_view after_what, absl::string_view field) {
  if (day < not_before) {
    return Invalid(
        field,
        absl::StrCat(FormatDay(day), " is before ", before_what, " (", FormatDay(not_before), ")"),
        "DATE_TOO_EARLY", {{"date", FormatDay(day)}, {"limit", FormatDay(not_before)}});
  }
  if (day > not_after) {
    return Invalid(
        field,
        absl::StrCat(FormatDay(day), " is after ", after_what, " (", FormatDay(not_after), ")"),
        "DATE_TOO_LATE", {{"date", FormatDay(day)}, {"limit", FormatDay(not_after)}});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> FieldValueToJson(const CaseField& definition,
                                             const v1::FieldValue& value, absl::string_view field) {
  switch (definition.type()) {
    case CaseField::BOOL:
      if (value.value_case() != v1::FieldValue::kBoolValue)
        return Invalid(field, "expects a yes/no value (bool_value)", "WRONG_TYPE");
      return nlohmann::json(value.bool_value()).dump();
    case CaseField::NUMBER:
      if (value.value_case() != v1::FieldValue::kNumberValue)
        return Invalid(field, "expects a number (number_value)", "NOT_A_NUMBER");
      if (!std::isfinite(value.number_value()))
        return Invalid(field, "expects a finite number", "NOT_A_NUMBER");
      return nlohmann::json(value.number_value()).dump();
    case CaseField::CHOICE: {
      if (value.value_case() != v1::FieldValue::kChoiceValue)
        return Invalid(field, "expects one of its choices (choice_value)", "NOT_A_CHOICE");
      for (const std::string& choice : definition.choices()) {
        if (choice == value.choice_value()) return nlohmann::json(choice).dump();
      }
      return Invalid(
          field,
          absl::StrCat("\"", absl::string_view(value.choice_value()).substr(0, 40),
                       "\" is not one of ", absl::StrJoin(definition.choices(), ", ")),
          "NOT_A_CHOICE",
          {{"value", std::string(absl::string_view(value.choice_value()).substr(0, 40))}});
    }
    case CaseField::DATE: {
      if (value.value_case() != v1::FieldValue::kDateValue)
        return Invalid(field, "expects a date (date_value, YYYY-MM-DD)", "NOT_A_DATE");
      absl::StatusOr<absl::CivilDay> day = ParseDay(value.date_value(), field);
      if (!day.ok()) return day.status();
      return nlohmann::json(FormatDay(*day)).dump();
    }
    default:
      return absl::InternalError(absl::StrCat("case field ", definition.code(), " has no type"));
  }
}

absl::StatusOr<std::string> FieldTextToJson(const CaseField& definition, absl::string_view text,
                                            absl::string_view field) {
  v1::FieldValue value;
  const std::string lower = absl::AsciiStrToLower(text);
  switch (definition.type()) {
    case CaseField::BOOL:
      if (lower == "true" || lower == "yes" || lower == "1" || lower == "ja") {
        value.set_bool_value(true);
      } else if (lower == "false" || lower == "no" || lower == "0" || lower == "nej") {
        value.set_bool_value(false);
      } else {
        return Invalid(
            field,
            absl::StrCat("\"", text.substr(0, 40), "\" is not yes/no (true, false, yes, no, 1, 0)"),
            "NOT_YES_NO", {{"value", std::string(text.substr(0, 40))}});
      }
      break;
    case CaseField::NUMBER: {
      double number = 0;
      if (!absl::SimpleAtod(text, &number))
        return Invalid(field, absl::StrCat("\"", text.substr(0, 40), "\" is not a number"),
                       "NOT_A_NUMBER", {{"value", std::string(text.substr(0, 40))}});
      value.set_number_value(number);
      break;
    }
    case CaseField::CHOICE: value.set_choice_value(std::string(text)); break;
    case CaseField::DATE: value.set_date_value(std::string(text)); break;
    default: break;
  }
  return FieldValueToJson(definition, value, field);
}

bool FieldValueFromJson(CaseField::Type type, absl::string_view json, v1::FieldValue* value) {
  const nlohmann::json parsed = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (parsed.is_discarded()) return false;
  switch (type) {
    case CaseField::BOOL:
      if (!parsed.is_boolean()) return false;
      value->set_bool_value(parsed.get<bool>());
      return true;
    case CaseField::NUMBER:
      if (!parsed.is_number()) return false;
      value->set_number_value(parsed.get<double>());
      return true;
    case CaseField::CHOICE:
      if (!parsed.is_string()) return false;
      value->set_choice_value(parsed.get<std::string>());
      return true;
    case CaseField::DATE:
      if (!parsed.is_string()) return false;
      value->set_date_value(parsed.get<std::string>());
      return true;
    default: return false;
  }
}

absl::StatusOr<std::string> FieldsToJson(
    const CatalogueView& catalogue,
    const google::protobuf::Map<std::string, v1::FieldValue>& fields) {
  nlohmann::json object = nlohmann::json::object();
  // Sorted, so that errors come in a stable order.
  std::map<std::string, const v1::FieldValue*> sorted;
  for (const auto& [code, value] : fields) sorted[code] = &value;
  for (const auto& [code, value] : sorted) {
    const std::string name = absl::StrCat("fields[", absl::string_view(code).substr(0, 40), "]");
    const CaseField* definition = catalogue.FindField(code);
    if (definition == nullptr || !definition->active()) {
      return Invalid(name, "is not an active case field of this job centre", "UNKNOWN_FIELD",
                     {{"value", code}});
    }
    absl::StatusOr<std::string> json = FieldValueToJson(*definition, *value, name);
    if (!json.ok()) return json.status();
    object[code] = nlohmann::json::parse(*json);
  }
  return object.dump();
}

std::string EncodePageToken(absl::string_view last_case_ref) {
  return absl::WebSafeBase64Escape(absl::StrCat(kPageTokenPrefix, last_case_ref));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token) {
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(token, &decoded) ||
      !absl::StartsWith(decoded, kPageTokenPrefix)) {
    return Invalid("page_token", "is not a token this service issued");
  }
  return decoded.substr(sizeof(kPageTokenPrefix) - 1);
}

std::string EncodeActionPageToken(const ActionPosition& last) {
  return absl::WebSafeBase64Escape(absl::StrCat(kActionPageTokenPrefix, last.due_on, "/", last.id));
}

absl::StatusOr<ActionPosition> DecodeActionPageToken(absl::string_view token) {
  std::string decoded;
  ActionPosition position;
  const absl::Status bad = Invalid("page_token", "is not a token this service issued");
  if (!absl::WebSafeBase64Unescape(token, &decoded) ||
      !absl::StartsWith(decoded, kActionPageTokenPrefix)) {
    return bad;
  }
  const std::vector<std::string> parts =
      absl::StrSplit(decoded.substr(sizeof(kActionPageTokenPrefix) - 1), '/');
  if (parts.size() != 2 || !ParseDay(parts[0], "page_token").ok() ||
      !absl::SimpleAtoi(parts[1], &position.id) || position.id <= 0) {
    return bad;
  }
  position.due_on = parts[0];
  return position;
}

std::string EncodeHistoryPageToken(absl::string_view case_ref, const HistoryPosition& next) {
  return absl::WebSafeBase64Escape(absl::StrCat(kHistoryPageTokenPrefix, next.event_version, "/",
                                                next.expectation_id, "/", next.action_id, "/",
                                                case_ref));
}

absl::StatusOr<HistoryPosition> DecodeHistoryPageToken(absl::string_view token,
                                                       absl::string_view case_ref) {
  std::string decoded;
  const absl::Status bad = Invalid("page_token", "is not a token this service issued");
  if (!absl::WebSafeBase64Unescape(token, &decoded) ||
      !absl::StartsWith(decoded, kHistoryPageTokenPrefix)) {
    return bad;
  }
  const std::vector<std::string> parts =
      absl::StrSplit(decoded.substr(sizeof(kHistoryPageTokenPrefix) - 1), absl::MaxSplits('/', 3));
  HistoryPosition next;
  if (parts.size() != 4 || !absl::SimpleAtoi(parts[0], &next.event_version) ||
      !absl::SimpleAtoi(parts[1], &next.expectation_id) ||
      !absl::SimpleAtoi(parts[2], &next.action_id)) {
    return bad;
  }
  for (int64_t position : {next.event_version, next.expectation_id, next.action_id}) {
    // A token marks a list either done or at a row already answered (0 is the first page's).
    if (position != HistoryPosition::kHistoryListDone && position <= 0) return bad;
  }
  if (parts[3] != case_ref) {
    return Invalid("page_token", "belongs to another case");
  }
  return next;
}

void SetOpenActionsPage(int32_t open_action_count, v1::Case& view) {
  view.set_open_action_count(open_action_count);
  view.clear_open_actions_page_token();
  if (open_action_count > view.open_actions_size() && view.open_actions_size() > 0) {
    const v1::Action& last = view.open_actions(view.open_actions_size() - 1);
    view.set_open_actions_page_token(EncodeActionPageToken({last.due_on(), last.id()}));
  }
}

std::string RequestFingerprint(absl::string_view method, const google::protobuf::Message& request) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  const std::string input = absl::StrCat(method, "\n", bytes);
  return absl::StrFormat("%016x%016x", Fnv1a(input, 14695981039346656037ULL),
                         Fnv1a(input, 0x6c62272e07bb0142ULL));
}

absl::Status CheckAgreedInDialogue(Role role, bool agreed, int64_t dialogue_id) {
  if (!agreed || dialogue_id > 0 || role == Role::kTeamLeader || role == Role::kManager) {
    return absl::OkStatus();
  }
  return ReasonedError(absl::StatusCode::kPermissionDenied, "AGREED_NEEDS_TEAM_LEADER",
                       "only a team leader marks an expectation or action as agreed in dialogue",
                       {{"role", std::string(RoleName(role))}}, "agreed_in_dialogue");
}

absl::Status DialogueFinalError(int64_t dialogue_id) {
  return ReasonedError(absl::StatusCode::kFailedPrecondition, "DIALOGUE_FINAL",
                       absl::StrCat("dialogue ", dialogue_id,
                                    " is finalised: agreements can no longer be recorded in it"),
                       {{"value", absl::StrCat(dialogue_id)}}, "dialogue_id");
}

absl::Status CheckCatalogueEntry(const CatalogueEntry& entry) {
  if (entry.kind() != CatalogueEntry::CASE_TYPE && entry.kind() != CatalogueEntry::OUTCOME &&
      entry.kind() != CatalogueEntry::RISK) {
    return Invalid("entry.kind", "must be CASE_TYPE, OUTCOME or RISK");
  }
  if (!IsUpperCode(entry.code())) {
    return Invalid("entry.code", "must be 1 to 32 of A-Z, 0-9 and _", "CODE_UPPER");
  }
  if (absl::Status s = CheckText(entry.label_da(), "entry.label_da", 1, kMaxLabelChars); !s.ok())
    return s;
  if (absl::Status s = CheckText(entry.label_en(), "entry.label_en", 1, kMaxLabelChars); !s.ok())
    return s;
  if (entry.kind() == CatalogueEntry::OUTCOME) {
    if (!IsUpperCode(entry.outcome_group())) {
      return Invalid("entry.outcome_group",
                     "an outcome needs a group of 1 to 32 of A-Z, 0-9 and _ (e.g. JOB)",
                     "CODE_UPPER");
    }
  } else if (!entry.outcome_group().empty()) {
    return Invalid("entry.outcome_group", "applies to outcomes only");
  }
  if (!(entry.probability() >= 0.0 && entry.probability() <= 1.0)) {
    return Invalid("entry.probability", "must be between 0 and 1", "OUT_OF_RANGE",
                   {{"min", "0"}, {"max", "1"}});
  }
  if (entry.kind() == CatalogueEntry::RISK && entry.probability() <= 0.0) {
    return Invalid("entry.probability",
                   "a risk level needs the chance (0 < p <= 1) that the expectation holds",
                   "OUT_OF_RANGE", {{"min", "0"}, {"max", "1"}});
  }
  if (entry.kind() != CatalogueEntry::RISK && entry.probability() != 0.0) {
    return Invalid("entry.probability", "applies to risk levels only");
  }
  return absl::OkStatus();
}

absl::Status CheckCaseFieldDefinition(const CaseField& field) {
  if (!IsLowerCode(field.code()))
    return Invalid("field.code", "must be 1 to 32 of a-z, 0-9 and _", "CODE_LOWER");
  if (absl::Status s = CheckText(field.label_da(), "field.label_da", 1, kMaxLabelChars); !s.ok())
    return s;
  if (absl::Status s = CheckText(field.label_en(), "field.label_en", 1, kMaxLabelChars); !s.ok())
    return s;
  if (field.type() == CaseField::TYPE_UNSPECIFIED || !CaseField::Type_IsValid(field.type())) {
    return Invalid("field.type", "must be BOOL, NUMBER, CHOICE or DATE");
  }
  if (field.type() == CaseField::CHOICE) {
    if (field.choices().empty())
      return Invalid("field.choices", "a CHOICE field needs at least one choice",
                     "CHOICES_REQUIRED");
    std::set<std::string> seen;
    for (const std::string& choice : field.choices()) {
      if (absl::Status s = CheckText(choice, "field.choices", 1, 64); !s.ok()) return s;
      if (!seen.insert(choice).second)
        return Invalid("field.choices", absl::StrCat("\"", choice, "\" appears twice"));
    }
  } else if (!field.choices().empty()) {
    return Invalid("field.choices", "only CHOICE fields have choices");
  }
  return absl::OkStatus();
}

std::string EntryKindName(CatalogueEntry::Kind kind) {
  switch (kind) {
    case CatalogueEntry::CASE_TYPE: return "CASE_TYPE";
    case CatalogueEntry::OUTCOME: return "OUTCOME";
    case CatalogueEntry::RISK: return "RISK";
    default: return "";
  }
}

std::string FieldTypeName(CaseField::Type type) {
  switch (type) {
    case CaseField::BOOL: return "BOOL";
    case CaseField::NUMBER: return "NUMBER";
    case CaseField::CHOICE: return "CHOICE";
    case CaseField::DATE: return "DATE";
    default: return "";
  }
}

CaseField::Type ParseFieldType(absl::string_view name) {
  if (name == "BOOL") return CaseField::BOOL;
  if (name == "NUMBER") return CaseField::NUMBER;
  if (name == "CHOICE") return CaseField::CHOICE;
  if (name == "DATE") return CaseField::DATE;
  return CaseField::TYPE_UNSPECIFIED;
}

}  // namespace forecast
