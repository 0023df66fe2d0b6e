#include "services/case/pg_case_store.h"

#include <algorithm>
#include <functional>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/case/admin_audit.h"
#include "services/case/case_rules.h"
#include "services/common/calendar.h"
#include "services/common/codes.h"
#include "services/common/status.h"

namespace forecast {
namespace {

using v1::CaseField;
using v1::CatalogueEntry;

#define TS(column) "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

// A PostgreSQL array literal ("{...}") built element by element, for unnest()-based bulk writes
// and ANY($n) filters.
class ArrayLiteral {
 public:
  void Add(const std::string& value) {
    Separator();
    text_ += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') text_ += '\\';
      text_ += c;
    }
    text_ += '"';
  }
  void Add(int64_t value) {
    Separator();
    absl::StrAppend(&text_, value);
  }
  void Add(bool value) {
    Separator();
    text_ += value ? "t" : "f";
  }
  void AddNull() {
    Separator();
    text_ += "NULL";
  }
  std::string str() const { return text_ + "}"; }

 private:
  void Separator() {
    if (text_.size() > 1) text_ += ',';
  }
  std::string text_ = "{";
};

v1::Role ProtoRole(const std::string& role) {
  std::optional<Role> parsed = ParseRole(role);
  return parsed ? ToProto(*parsed) : v1::ROLE_UNSPECIFIED;
}

constexpr char kCaseColumns[] =
    "SELECT c.id, c.job_centre_id, c.team_id, c.caseworker_id, c.case_ref, c.case_type, "
    "c.opened_on::text, s.code, u.code, c.status, coalesce(c.closed_on::text, ''), "
    "coalesce(c.closure_outcome, ''), c.version, c.fields::text, " TS("c.updated_at") ", "
    "coalesce(e.id, 0), coalesce(e.expected_outcome, ''), coalesce(to_char(e.expected_month, 'YYYY-MM'), ''), "
    "coalesce(e.risk, ''), coalesce(e.agreed_in_dialogue, false), coalesce(e.dialogue_id, 0), "
    "coalesce(e.note, ''), coalesce(es.code, ''), coalesce(" TS("e.recorded_at") ", ''), "
    "coalesce((SELECT max(a.from_on) FROM assignment a WHERE a.case_id = c.id), c.opened_on)::text, "
    "coalesce((SELECT max(sc.on_date) FROM status_change sc WHERE sc.case_id = c.id)::text, '') "
    "FROM cases c JOIN staff s ON s.id = c.caseworker_id JOIN org_unit u ON u.id = c.team_id "
    "LEFT JOIN expectation e ON e.id = c.current_expectation_id "
    "LEFT JOIN staff es ON es.id = e.recorded_by ";

std::map<std::string, CaseField::Type> FieldTypes(pqxx::transaction_base& tx,
                                                  int64_t job_centre_id) {
  std::map<std::string, CaseField::Type> types;
  for (const pqxx::row& row : tx.exec_params(
           "SELECT code, field_type FROM case_field WHERE job_centre_id = $1", job_centre_id)) {
    types[row[0].as<std::string>()] = ParseFieldType(row[1].as<std::string>());
  }
  return types;
}

void FillFields(const std::string& json_text, const std::map<std::string, CaseField::Type>& types,
                v1::Case& view) {
  const nlohmann::json fields = nlohmann::json::parse(json_text, nullptr, false);
  if (!fields.is_object()) return;
  for (const auto& [code, value] : fields.items()) {
    auto type = types.find(code);
    if (type == types.end()) continue;  // a field since removed from the catalogue
    v1::FieldValue field_value;
    if (FieldValueFromJson(type->second, value.dump(), &field_value)) {
      (*view.mutable_fields())[code] = std::move(field_value);
    }
  }
}

// The columns ActionFromRow reads, from `action a` joined to its owner `o` and creator `cb`.
#define ACTION_COLUMNS                                                              \
  "a.id, a.case_id, a.description, o.code, a.due_on::text, a.status, cb.code, " TS( \
      "a.created_at") ", a.agreed_in_dialogue"
#define ACTION_JOINS " JOIN staff o ON o.id = a.owner_id JOIN staff cb ON cb.id = a.created_by "

v1::Action ActionFromRow(const pqxx::row& row) {
  v1::Action action;
  action.set_id(row[0].as<int64_t>());
  action.set_description(row[2].as<std::string>());
  action.set_owner(row[3].as<std::string>());
  action.set_due_on(row[4].as<std::string>());
  action.set_status(ParseActionStatus(row[5].as<std::string>()).value_or(v1::ACTION_OPEN));
  action.set_created_by(row[6].as<std::string>());
  action.set_created_at(row[7].as<std::string>());
  action.set_agreed_in_dialogue(row[8].as<bool>());
  return action;
}

// Fills in the follow-ups of `actions` (pointers stay valid meanwhile).
void AddFollowUps(pqxx::transaction_base& tx, const std::vector<v1::Action*>& actions) {
  if (actions.empty()) return;
  std::unordered_map<int64_t, v1::Action*> by_id;
  ArrayLiteral ids;
  for (v1::Action* action : actions) {
    by_id[action->id()] = action;
    ids.Add(action->id());
  }
  for (
      const pqxx::row& row : tx.exec_params(
          "SELECT f.action_id, f.result, coalesce(f.postponed_to::text, ''), f.note, s.code, " TS(
              "f.recorded_at") " FROM action_follow_up f JOIN staff s ON s.id = f.recorded_by "
                               "WHERE f.action_id = ANY($1::bigint[]) ORDER BY f.action_id, f.recorded_at, f.id",
          ids.str())) {
    v1::FollowUp* follow_up = by_id[row[0].as<int64_t>()]->add_follow_ups();
    follow_up->set_result(
        ParseFollowUpResult(row[1].as<std::string>()).value_or(v1::FOLLOW_UP_POSTPONED));
    follow_up->set_postponed_to(row[2].as<std::string>());
    follow_up->set_note(row[3].as<std::string>());
    follow_up->set_recorded_by(row[4].as<std::string>());
    follow_up->set_recorded_at(row[5].as<std::string>());
  }
}

// Actions of the given cases with their follow-ups, by case id: every action oldest first, or
// (open_only) the first kCaseOpenActions open ones soonest due first, with each case's count of
// open actions in `open_counts`.
std::unordered_map<int64_t, std::vector<v1::Action>> LoadActions(
    pqxx::transaction_base& tx, const std::string& case_ids, bool open_only,
    std::unordered_map<int64_t, int32_t>* open_counts = nullptr) {
  std::unordered_map<int64_t, std::vector<v1::Action>> by_case;
  pqxx::result actions =
      open_only
          ? tx.exec_params(
                "SELECT " ACTION_COLUMNS
                ", a.n FROM (SELECT a.*, row_number() OVER (PARTITION BY "
                "a.case_id ORDER BY a.due_on, a.id) AS rn, count(*) OVER (PARTITION BY a.case_id) "
                "AS n FROM action a WHERE a.case_id = ANY($1::bigint[]) AND a.status = 'OPEN') a" ACTION_JOINS
                "WHERE a.rn <= $2 ORDER BY a.case_id, a.due_on, a.id",
                case_ids, kCaseOpenActions)
          : tx.exec_params("SELECT " ACTION_COLUMNS " FROM action a" ACTION_JOINS
                           "WHERE a.case_id = ANY($1::bigint[]) ORDER BY a.case_id, a.id",
                           case_ids);
  if (actions.empty()) return by_case;
  for (const pqxx::row& row : actions) {
    const int64_t case_id = row[1].as<int64_t>();
    by_case[case_id].push_back(ActionFromRow(row));
    if (open_counts != nullptr) (*open_counts)[case_id] = row[9].as<int32_t>();
  }
  std::vector<v1::Action*> all;
  for (auto& [case_id, list] : by_case) {
    for (v1::Action& action : list) all.push_back(&action);
  }
  AddFollowUps(tx, all);
  return by_case;
}

// Cases selected by `where` (appended to kCaseColumns), with current expectation, open actions
// and typed fields.
template <typename... Args>
std::vector<StoredCase> LoadCases(pqxx::transaction_base& tx, int64_t job_centre_id,
                                  const std::string& where, Args&&... args) {
  std::vector<StoredCase> cases;
  pqxx::result rows =
      tx.exec_params(std::string(kCaseColumns) + where, std::forward<Args>(args)...);
  if (rows.empty()) return cases;
  const std::map<std::string, CaseField::Type> types = FieldTypes(tx, job_centre_id);
  ArrayLiteral ids;
  for (const pqxx::row& row : rows) {
    StoredCase c;
    c.id = row[0].as<int64_t>();
    c.owner = CaseOwnership{row[1].as<int64_t>(), row[2].as<int64_t>(), row[3].as<int64_t>()};
    v1::Case& view = c.view;
    view.set_case_ref(row[4].as<std::string>());
    view.set_case_type(row[5].as<std::string>());
    view.set_opened_on(row[6].as<std::string>());
    view.set_caseworker(row[7].as<std::string>());
    view.set_team(row[8].as<std::string>());
    view.set_status(ParseCaseStatus(row[9].as<std::string>()).value_or(v1::OPEN));
    view.set_closed_on(row[10].as<std::string>());
    view.set_closure_outcome(row[11].as<std::string>());
    view.set_version(row[12].as<int64_t>());
    FillFields(row[13].as<std::string>(), types, view);
    view.set_updated_at(row[14].as<std::string>());
    if (row[15].as<int64_t>() != 0) {
      v1::Expectation* e = view.mutable_expectation();
      e->set_id(row[15].as<int64_t>());
      e->set_expected_outcome(row[16].as<std::string>());
      e->set_expected_month(row[17].as<std::string>());
      e->set_risk(row[18].as<std::string>());
      e->set_agreed_in_dialogue(row[19].as<bool>());
      e->set_dialogue_id(row[20].as<int64_t>());
      e->set_note(row[21].as<std::string>());
      e->set_recorded_by(row[22].as<std::string>());
      e->set_recorded_at(row[23].as<std::string>());
    }
    c.held_since = row[24].as<std::string>();
    c.status_since = row[25].as<std::string>();
    ids.Add(c.id);
    cases.push_back(std::move(c));
  }
  std::unordered_map<int64_t, int32_t> open_counts;
  auto actions = LoadActions(tx, ids.str(), /*open_only=*/true, &open_counts);
  for (StoredCase& c : cases) {
    auto it = actions.find(c.id);
    if (it != actions.end()) {
      for (v1::Action& action : it->second) *c.view.add_open_actions() = std::move(action);
    }
    auto count = open_counts.find(c.id);
    SetOpenActionsPage(count == open_counts.end() ? 0 : count->second, c.view);
  }
  return cases;
}

absl::StatusOr<v1::Case> LoadCaseById(pqxx::transaction_base& tx, int64_t job_centre_id,
                                      int64_t case_id) {
  std::vector<StoredCase> cases = LoadCases(tx, job_centre_id, "WHERE c.id = $1", case_id);
  if (cases.empty()) return absl::InternalError("a case written in this transaction is missing");
  return std::move(cases.front().view);
}

// The case as case_answer_document() (migration 0115) shapes it; `type_of(code)` gives the type
// of a custom field, or nullopt for a field since removed from the catalogue.
template <typename TypeOf>
v1::Case CaseFromAnswerJson(const nlohmann::json& j, TypeOf type_of) {
  v1::Case view;
  view.set_case_ref(j.value("case_ref", ""));
  view.set_case_type(j.value("case_type", ""));
  view.set_opened_on(j.value("opened_on", ""));
  view.set_caseworker(j.value("caseworker", ""));
  view.set_team(j.value("team", ""));
  view.set_status(ParseCaseStatus(j.value("status", "")).value_or(v1::OPEN));
  view.set_closed_on(j.value("closed_on", ""));
  view.set_closure_outcome(j.value("closure_outcome", ""));
  view.set_version(j.value("version", int64_t{0}));
  view.set_updated_at(j.value("updated_at", ""));
  if (auto fields = j.find("fields"); fields != j.end() && fields->is_object()) {
    for (const auto& [code, value] : fields->items()) {
      const std::optional<CaseField::Type> type = type_of(code);
      if (!type) continue;
      v1::FieldValue field_value;
      if (FieldValueFromJson(*type, value.dump(), &field_value)) {
        (*view.mutable_fields())[code] = std::move(field_value);
      }
    }
  }
  if (auto e = j.find("expectation"); e != j.end() && e->is_object()) {
    v1::Expectation* out = view.mutable_expectation();
    out->set_id(e->value("id", int64_t{0}));
    out->set_expected_outcome(e->value("expected_outcome", ""));
    out->set_expected_month(e->value("expected_month", ""));
    out->set_risk(e->value("risk", ""));
    out->set_agreed_in_dialogue(e->value("agreed_in_dialogue", false));
    out->set_dialogue_id(e->value("dialogue_id", int64_t{0}));
    out->set_note(e->value("note", ""));
    out->set_recorded_by(e->value("recorded_by", ""));
    out->set_recorded_at(e->value("recorded_at", ""));
  }
  if (auto actions = j.find("open_actions"); actions != j.end() && actions->is_array()) {
    for (const nlohmann::json& a : *actions) {
      v1::Action* action = view.add_open_actions();
      action->set_id(a.value("id", int64_t{0}));
      action->set_description(a.value("description", ""));
      action->set_owner(a.value("owner", ""));
      action->set_due_on(a.value("due_on", ""));
      action->set_status(ParseActionStatus(a.value("status", "")).value_or(v1::ACTION_OPEN));
      action->set_created_by(a.value("created_by", ""));
      action->set_created_at(a.value("created_at", ""));
      action->set_agreed_in_dialogue(a.value("agreed_in_dialogue", false));
      for (const nlohmann::json& f : a.value("follow_ups", nlohmann::json::array())) {
        v1::FollowUp* follow_up = action->add_follow_ups();
        follow_up->set_result(
            ParseFollowUpResult(f.value("result", "")).value_or(v1::FOLLOW_UP_POSTPONED));
        follow_up->set_postponed_to(f.value("postponed_to", ""));
        follow_up->set_note(f.value("note", ""));
        follow_up->set_recorded_by(f.value("recorded_by", ""));
        follow_up->set_recorded_at(f.value("recorded_at", ""));
      }
    }
  }
  // Answers stored before migration 0055 list every open action and carry no count.
  SetOpenActionsPage(j.value("open_action_count", view.open_actions_size()), view);
  return view;
}

// A stored answer: the serialised case (written by this store) or the case as JSON (written by
// a SQL function, migration 0013), as serialised bytes either way.
absl::StatusOr<std::string> StoredAnswerBytes(pqxx::transaction_base& tx, int64_t job_centre_id,
                                              const pqxx::field& bytes, const pqxx::field& json) {
  if (json.is_null()) return pqxx::binarystring(bytes).str();
  const nlohmann::json parsed = nlohmann::json::parse(json.as<std::string>(), nullptr, false);
  if (!parsed.is_object()) return absl::InternalError("stored answer does not parse");
  const std::map<std::string, CaseField::Type> types = FieldTypes(tx, job_centre_id);
  const v1::Case answer =
      CaseFromAnswerJson(parsed, [&](const std::string& code) -> std::optional<CaseField::Type> {
        auto it = types.find(code);
        if (it == types.end()) return std::nullopt;
        return it->second;
      });
  return answer.SerializeAsString();
}

// Reads a stored answer by writing its row again (same values). A replayed answer must be as
// durable as a fresh one: after a crash, a primary's recovery can make visible a write that had
// committed locally but never reached the synchronous standby, and a failover then drops it. A
// transaction that only read the answer would commit without waiting for the standby and
// acknowledge that write; this one writes WAL, so its commit (whose WAL follows the stored
// answer's) waits until the standby has both, and a node that lost its standby never answers.
constexpr const char* kTouchStoredAnswer =
    "UPDATE idempotency_key SET response = response WHERE job_centre_id = $1 AND key = $2 "
    "RETURNING method, request_hash, response, response_json::text";

// Reserves the idempotency key in this transaction. Returns the earlier answer when a
// (committed) write already holds the key, nullopt when the key is now ours (or no key).
absl::StatusOr<std::optional<v1::Case>> ReserveKey(pqxx::transaction_base& tx,
                                                   int64_t job_centre_id,
                                                   const IdempotencyTicket& ticket) {
  if (ticket.key.empty()) return std::optional<v1::Case>();
  pqxx::result reserved = tx.exec_params(
      "INSERT INTO idempotency_key (job_centre_id, key, method, request_hash, response) "
      "VALUES ($1, $2, $3, $4, ''::bytea) ON CONFLICT DO NOTHING RETURNING 1",
      job_centre_id, ticket.key, ticket.method, ticket.request_hash);
  if (!reserved.empty()) return std::optional<v1::Case>();
  pqxx::row row = tx.exec_params1(kTouchStoredAnswer, job_centre_id, ticket.key);
  if (row[0].as<std::string>() != ticket.method ||
      row[1].as<std::string>() != ticket.request_hash) {
    return absl::InvalidArgumentError(
        "idempotency_key: was already used for a different request; use a new key");
  }
  absl::StatusOr<std::string> bytes = StoredAnswerBytes(tx, job_centre_id, row[2], row[3]);
  if (!bytes.ok()) return bytes.status();
  v1::Case answer;
  if (!answer.ParseFromString(*bytes)) return absl::InternalError("stored answer does not parse");
  return std::optional<v1::Case>(std::move(answer));
}

void StoreAnswer(pqxx::transaction_base& tx, int64_t job_centre_id, const IdempotencyTicket& ticket,
                 const v1::Case& answer) {
  if (ticket.key.empty()) return;
  const std::string bytes = answer.SerializeAsString();
  tx.exec_params("UPDATE idempotency_key SET response = $3 WHERE job_centre_id = $1 AND key = $2",
                 job_centre_id, ticket.key, pqxx::binarystring(bytes.data(), bytes.size()));
}

void InsertEvent(pqxx::transaction_base& tx, int64_t job_centre_id, int64_t case_id,
                 int64_t version, const std::string& kind, int64_t actor_id,
                 absl::CivilDay effective_on, const std::string& summary) {
  tx.exec_params(
      "INSERT INTO case_event (job_centre_id, case_id, case_version, kind, actor_id, effective_on, summary) "
      "VALUES ($1, $2, $3, $4, $5, $6::date, $7::jsonb)",
      job_centre_id, case_id, version, kind, actor_id, FormatDay(effective_on), summary);
}

// The body of one change: history rows plus the current-state columns it moves.
struct BodyWriter {
  pqxx::transaction_base& tx;
  const CaseChange& change;

  absl::Status operator()(const NewExpectation& e) const {
    const int64_t id =
        tx.exec_params1(
              "INSERT INTO expectation (job_centre_id, case_id, expected_outcome, expected_month, risk, "
              "agreed_in_dialogue, dialogue_id, note, recorded_by) "
              "VALUES ($1, $2, $3, $4::date, $5, $6, nullif($7, 0), $8, $9) RETURNING id",
              change.job_centre_id, change.case_id, e.outcome, FirstOfMonth(e.month), e.risk,
              e.agreed_in_dialogue, e.dialogue_id, e.note, change.actor_id)[0]
            .as<int64_t>();
    if (e.dialogue_id > 0) {
      // The insert's foreign key check locked the dialogue row until commit (migration 0070), so
      // a finalisation is either visible now (refused, rolled back) or waits for this agreement.
      pqxx::result d = tx.exec_params("SELECT state FROM dialogue WHERE id = $1", e.dialogue_id);
      if (!d.empty() && ParseDialogueState(d[0][0].as<std::string>()) == DialogueState::kFinal) {
        return DialogueFinalError(e.dialogue_id);
      }
    }
    tx.exec_params("UPDATE cases SET current_expectation_id = $2 WHERE id = $1", change.case_id,
                   id);
    return absl::OkStatus();
  }
  absl::Status operator()(const NewAction& a) const {
    tx.exec_params(
        "INSERT INTO action (job_centre_id, case_id, description, owner_id, due_on, agreed_in_dialogue, created_by) "
        "VALUES ($1, $2, $3, $4, $5::date, $6, $7)",
        change.job_centre_id, change.case_id, a.description, a.owner_id, FormatDay(a.due_on),
        a.agreed_in_dialogue, change.actor_id);
    return absl::OkStatus();
  }
  absl::Status operator()(const NewFollowUp& f) const {
    const std::string status(ActionStatusName(
        ActionStatusAfter(ParseFollowUpResult(f.result).value_or(v1::FOLLOW_UP_POSTPONED))));
    const std::string due = FormatDay(f.postponed_to.value_or(f.previous_due_on));
    pqxx::result updated = tx.exec_params(
        "UPDATE action SET status = $3, due_on = $4::date WHERE id = $1 AND case_id = $2 AND status = 'OPEN' "
        "RETURNING id",
        f.action_id, change.case_id, status, due);
    if (updated.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("action_id: action ", f.action_id, " is not open"));
    }
    tx.exec_params(
        "INSERT INTO action_follow_up (job_centre_id, action_id, case_id, result, postponed_to, "
        "previous_due_on, note, recorded_by) VALUES ($1, $2, $3, $4, nullif($5, '')::date, $6::date, $7, $8)",
        change.job_centre_id, f.action_id, change.case_id, f.result,
        f.postponed_to ? FormatDay(*f.postponed_to) : std::string(), FormatDay(f.previous_due_on),
        f.note, change.actor_id);
    return absl::OkStatus();
  }
  absl::Status operator()(const FieldUpdates& u) const {
    for (const auto& [code, value] : u.values) {
      if (value) {
        tx.exec_params(
            "UPDATE cases SET fields = fields || jsonb_build_object($2::text, $3::jsonb) WHERE id = $1",
            change.case_id, code, *value);
      } else {
        tx.exec_params("UPDATE cases SET fields = fields - $2::text WHERE id = $1", change.case_id,
                       code);
      }
      tx.exec_params(
          "INSERT INTO field_change (job_centre_id, case_id, field_code, value, effective_on, recorded_by) "
          "VALUES ($1, $2, $3, nullif($4, '')::jsonb, $5::date, $6)",
          change.job_centre_id, change.case_id, code, value.value_or(std::string()),
          FormatDay(change.effective_on), change.actor_id);
    }
    return absl::OkStatus();
  }
  absl::Status operator()(const NewStatus& s) const {
    if (s.status == StatusChange::kClosed) {
      tx.exec_params(
          "UPDATE cases SET status = 'CLOSED', closed_on = $2::date, closure_outcome = $3 WHERE id = $1",
          change.case_id, FormatDay(s.on), s.outcome);
    } else {
      tx.exec_params(
          "UPDATE cases SET status = 'OPEN', closed_on = NULL, closure_outcome = NULL WHERE id = $1",
          change.case_id);
    }
    tx.exec_params(
        "INSERT INTO status_change (job_centre_id, case_id, status, on_date, outcome, recorded_by) "
        "VALUES ($1, $2, $3, $4::date, nullif($5, ''), $6)",
        change.job_centre_id, change.case_id, std::string(StatusChangeName(s.status)),
        FormatDay(s.on), s.outcome, change.actor_id);
    return absl::OkStatus();
  }
  absl::Status operator()(const NewAssignment& a) const {
    tx.exec_params("UPDATE cases SET caseworker_id = $2, team_id = $3 WHERE id = $1",
                   change.case_id, a.caseworker_id, a.team_id);
    tx.exec_params(
        "INSERT INTO assignment (job_centre_id, case_id, caseworker_id, team_id, from_on, recorded_by) "
        "VALUES ($1, $2, $3, $4, $5::date, $6)",
        change.job_centre_id, change.case_id, a.caseworker_id, a.team_id, FormatDay(a.from_on),
        change.actor_id);
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<v1::Catalogue> PgCaseStore::LoadCatalogue(int64_t job_centre_id) {
  return RunReadTransaction<v1::Catalogue>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::Catalogue> {
        v1::Catalogue catalogue;
        for (
            const pqxx::row& row : tx.exec_params(
                "SELECT kind, code, label_da, label_en, sort_order, active, outcome_group, probability "
                "FROM catalogue_entry WHERE job_centre_id = $1 ORDER BY kind, sort_order, code",
                job_centre_id)) {
          const std::string kind = row[0].as<std::string>();
          CatalogueEntry* entry = kind == "CASE_TYPE" ? catalogue.add_case_types()
                                  : kind == "OUTCOME" ? catalogue.add_outcomes()
                                                      : catalogue.add_risks();
          entry->set_kind(kind == "CASE_TYPE" ? CatalogueEntry::CASE_TYPE
                          : kind == "OUTCOME" ? CatalogueEntry::OUTCOME
                                              : CatalogueEntry::RISK);
          entry->set_code(row[1].as<std::string>());
          entry->set_label_da(row[2].as<std::string>());
          entry->set_label_en(row[3].as<std::string>());
          entry->set_sort_order(row[4].as<int>());
          entry->set_active(row[5].as<bool>());
          entry->set_outcome_group(row[6].as<std::string>());
          entry->set_probability(row[7].as<double>());
        }
        for (
            const pqxx::row& row : tx.exec_params(
                "SELECT code, label_da, label_en, field_type, array_to_json(choices)::text, sort_order, active "
                "FROM case_field WHERE job_centre_id = $1 ORDER BY sort_order, code",
                job_centre_id)) {
          CaseField* field = catalogue.add_fields();
          field->set_code(row[0].as<std::string>());
          field->set_label_da(row[1].as<std::string>());
          field->set_label_en(row[2].as<std::string>());
          field->set_type(ParseFieldType(row[3].as<std::string>()));
          for (const auto& choice : nlohmann::json::parse(row[4].as<std::string>())) {
            field->add_choices(choice.get<std::string>());
          }
          field->set_sort_order(row[5].as<int>());
          field->set_active(row[6].as<bool>());
        }
        return catalogue;
      });
}

absl::StatusOr<v1::Organisation> PgCaseStore::LoadOrganisation(int64_t job_centre_id) {
  return RunReadTransaction<v1::Organisation>(
      pool_, Isolation::kRepeatableRead,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::Organisation> {
        v1::Organisation organisation;
        pqxx::result centre =
            tx.exec_params("SELECT code, name FROM job_centre WHERE id = $1", job_centre_id);
        if (centre.empty()) return absl::NotFoundError("job centre not found");
        organisation.set_job_centre(centre[0][0].as<std::string>());
        organisation.set_job_centre_name(centre[0][1].as<std::string>());
        for (
            const pqxx::row& row : tx.exec_params(
                "SELECT u.code, u.name, u.kind, coalesce(p.code, '') FROM org_unit u "
                "LEFT JOIN org_unit p ON p.id = u.parent_id WHERE u.job_centre_id = $1 ORDER BY u.kind, u.code",
                job_centre_id)) {
          v1::OrgUnit* unit = organisation.add_units();
          unit->set_code(row[0].as<std::string>());
          unit->set_name(row[1].as<std::string>());
          unit->set_kind(
              ParseOrgUnitKind(row[2].as<std::string>()).value_or(v1::OrgUnit::DEPARTMENT));
          unit->set_parent(row[3].as<std::string>());
        }
        for (
            const pqxx::row& row : tx.exec_params(
                "SELECT s.code, s.display_name, s.role, coalesce(u.code, ''), s.active FROM staff s "
                "LEFT JOIN org_unit u ON u.id = s.team_id WHERE s.job_centre_id = $1 ORDER BY s.code",
                job_centre_id)) {
          v1::StaffMember* member = organisation.add_staff();
          member->set_code(row[0].as<std::string>());
          member->set_display_name(row[1].as<std::string>());
          member->set_role(ProtoRole(row[2].as<std::string>()));
          member->set_team(row[3].as<std::string>());
          member->set_job_centre(organisation.job_centre());
          member->set_active(row[4].as<bool>());
        }
        return organisation;
      });
}

absl::StatusOr<std::optional<DialogueRef>> PgCaseStore::FindDialogue(int64_t job_centre_id,
                                                                     int64_t dialogue_id) {
  return RunTransaction<std::optional<DialogueRef>>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<std::optional<DialogueRef>> {
        pqxx::result rows = tx.exec_params(
            "SELECT caseworker_id, state = 'FINAL' FROM dialogue WHERE job_centre_id = $1 AND id = $2",
            job_centre_id, dialogue_id);
        if (rows.empty()) return std::optional<DialogueRef>();
        return std::optional<DialogueRef>(
            DialogueRef{rows[0][0].as<int64_t>(), rows[0][1].as<bool>()});
      });
}

absl::StatusOr<std::optional<StaffRecord>> PgCaseStore::FindStaff(int64_t job_centre_id,
                                                                  const std::string& code) {
  return RunReadTransaction<std::optional<StaffRecord>>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<std::optional<StaffRecord>> {
        pqxx::result rows = tx.exec_params(
            "SELECT s.id, s.code, s.display_name, s.role, coalesce(s.team_id, 0), coalesce(u.code, ''), s.active "
            "FROM staff s LEFT JOIN org_unit u ON u.id = s.team_id WHERE s.job_centre_id = $1 AND s.code = $2",
            job_centre_id, code);
        if (rows.empty()) return std::optional<StaffRecord>();
        StaffRecord staff;
        staff.id = rows[0][0].as<int64_t>();
        staff.code = rows[0][1].as<std::string>();
        staff.display_name = rows[0][2].as<std::string>();
        std::optional<Role> role = ParseRole(rows[0][3].as<std::string>());
        if (!role) return absl::InternalError("staff.role holds an unknown role");
        staff.role = *role;
        staff.team_id = rows[0][4].as<int64_t>();
        staff.team_code = rows[0][5].as<std::string>();
        staff.active = rows[0][6].as<bool>();
        return std::optional<StaffRecord>(std::move(staff));
      });
}

absl::StatusOr<std::optional<UnitRecord>> PgCaseStore::FindUnit(int64_t job_centre_id,
                                                                const std::string& code) {
  return RunReadTransaction<std::optional<UnitRecord>>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<std::optional<UnitRecord>> {
        pqxx::result rows = tx.exec_params(
            "SELECT id, code, kind, coalesce(parent_id, 0) FROM org_unit WHERE job_centre_id = $1 AND code = $2",
            job_centre_id, code);
        if (rows.empty()) return std::optional<UnitRecord>();
        return std::optional<UnitRecord>(
            UnitRecord{rows[0][0].as<int64_t>(), rows[0][1].as<std::string>(),
                       rows[0][2].as<std::string>(), rows[0][3].as<int64_t>()});
      });
}

absl::StatusOr<std::vector<std::string>> PgCaseStore::ExistingCaseRefs(
    int64_t job_centre_id, const std::vector<std::string>& refs) {
  if (refs.empty()) return std::vector<std::string>();
  ArrayLiteral array;
  for (const std::string& ref : refs) array.Add(ref);
  return RunReadTransaction<std::vector<std::string>>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<std::vector<std::string>> {
        std::vector<std::string> taken;
        for (
            const pqxx::row& row : tx.exec_params(
                "SELECT case_ref FROM cases WHERE job_centre_id = $1 AND case_ref = ANY($2::text[]) ORDER BY case_ref",
                job_centre_id, array.str())) {
          taken.push_back(row[0].as<std::string>());
        }
        return taken;
      });
}

absl::StatusOr<StoredCase> PgCaseStore::LoadCase(int64_t job_centre_id,
                                                 const std::string& case_ref) {
  return RunReadTransaction<StoredCase>(
      pool_, Isolation::kRepeatableRead,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<StoredCase> {
        std::vector<StoredCase> cases =
            LoadCases(tx, job_centre_id, "WHERE c.job_centre_id = $1 AND c.case_ref = $2",
                      job_centre_id, case_ref);
        if (cases.empty()) return CaseNotFound(case_ref);
        return std::move(cases.front());
      });
}

absl::StatusOr<std::vector<v1::Case>> PgCaseStore::ListCases(const CaseQuery& q) {
  return RunReadTransaction<std::vector<v1::Case>>(
      pool_, Isolation::kRepeatableRead,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<std::vector<v1::Case>> {
        std::vector<StoredCase> cases = LoadCases(
            tx, q.job_centre_id,
            "WHERE c.job_centre_id = $1 AND ($2::bigint = 0 OR c.caseworker_id = $2) "
            "AND ($3::bigint = 0 OR c.team_id = $3) AND ($4::text = '' OR c.case_type = $4) "
            "AND ($5::text = '' OR c.status = $5) "
            "AND (NOT $6::boolean OR c.team_id = $7 OR c.caseworker_id = $8) "
            "AND c.case_ref > $9 ORDER BY c.case_ref LIMIT $10",
            q.job_centre_id, q.caseworker_id, q.team_id, q.case_type, q.status, q.restricted,
            q.visible_team_id, q.visible_staff_id, q.after_case_ref, q.limit);
        std::vector<v1::Case> views;
        views.reserve(cases.size());
        for (StoredCase& c : cases) views.push_back(std::move(c.view));
        return views;
      });
}

// Keeps the `limit` newest of `rows` (fetched newest first, one more than a page) and says
// where the next page starts: the oldest kept row's key, or the list is done.
namespace {
template <typename Row, typename Key>
int64_t TrimHistoryList(std::vector<Row>& rows, int limit, Key key) {
  if (static_cast<int>(rows.size()) <= limit) {
    std::reverse(rows.begin(), rows.end());
    return HistoryPosition::kHistoryListDone;
  }
  rows.resize(limit);
  const int64_t next = key(rows.back());
  std::reverse(rows.begin(), rows.end());
  return next;
}
}  // namespace

absl::StatusOr<HistoryPage> PgCaseStore::LoadHistory(int64_t case_id, const HistoryPosition& before,
                                                     int limit) {
  return RunReadTransaction<HistoryPage>(
      pool_, Isolation::kRepeatableRead,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<HistoryPage> {
        HistoryPage page;
        v1::CaseHistory& history = page.history;
        const pqxx::row counts = tx.exec_params1(
            "SELECT (SELECT count(*) FROM case_event WHERE case_id = $1), "
            "(SELECT count(*) FROM expectation WHERE case_id = $1), "
            "(SELECT count(*) FROM action WHERE case_id = $1)",
            case_id);
        history.set_event_count(counts[0].as<int32_t>());
        history.set_expectation_count(counts[1].as<int32_t>());
        history.set_action_count(counts[2].as<int32_t>());

        // Each list newest first from its position, one row more than a page.
        std::vector<v1::CaseEvent> events;
        if (before.event_version != HistoryPosition::kHistoryListDone) {
          for (
              const pqxx::row& row : tx.exec_params(
                  "SELECT e.id, e.case_version, e.kind, s.code, " TS(
                      "e.recorded_at") ", "
                                       "e.effective_on::text, e.summary::text FROM case_event e "
                                       "JOIN staff s ON s.id = e.actor_id WHERE e.case_id = $1 AND "
                                       "($2 = 0 OR e.case_version < $2) ORDER BY e.case_version DESC LIMIT $3",
                  case_id, before.event_version, limit + 1)) {
            v1::CaseEvent& event = events.emplace_back();
            event.set_id(row[0].as<int64_t>());
            event.set_case_version(row[1].as<int64_t>());
            event.set_kind(row[2].as<std::string>());
            event.set_actor(row[3].as<std::string>());
            event.set_recorded_at(row[4].as<std::string>());
            event.set_effective_on(row[5].as<std::string>());
            event.set_summary_json(row[6].as<std::string>());
          }
        }
        page.next.event_version =
            TrimHistoryList(events, limit, [](const v1::CaseEvent& e) { return e.case_version(); });
        for (v1::CaseEvent& event : events) *history.add_events() = std::move(event);

        // Expectations sort by the time recorded (an import back-dates them), then id.
        std::vector<v1::Expectation> expectations;
        if (before.expectation_id != HistoryPosition::kHistoryListDone) {
          for (
              const pqxx::row& row : tx.exec_params(
                  "SELECT e.id, e.expected_outcome, to_char(e.expected_month, 'YYYY-MM'), "
                  "e.risk, e.agreed_in_dialogue, coalesce(e.dialogue_id, 0), e.note, s.code, " TS(
                      "e.recorded_at") " FROM expectation e JOIN staff s ON s.id = e.recorded_by "
                                       "WHERE e.case_id = $1 AND ($2 = 0 OR (e.recorded_at, e.id) < "
                                       "(SELECT p.recorded_at, p.id FROM expectation p WHERE p.id = $2 AND "
                                       "p.case_id = $1)) ORDER BY e.recorded_at DESC, e.id DESC LIMIT $3",
                  case_id, before.expectation_id, limit + 1)) {
            v1::Expectation& e = expectations.emplace_back();
            e.set_id(row[0].as<int64_t>());
            e.set_expected_outcome(row[1].as<std::string>());
            e.set_expected_month(row[2].as<std::string>());
            e.set_risk(row[3].as<std::string>());
            e.set_agreed_in_dialogue(row[4].as<bool>());
            e.set_dialogue_id(row[5].as<int64_t>());
            e.set_note(row[6].as<std::string>());
            e.set_recorded_by(row[7].as<std::string>());
            e.set_recorded_at(row[8].as<std::string>());
          }
        }
        page.next.expectation_id =
            TrimHistoryList(expectations, limit, [](const v1::Expectation& e) { return e.id(); });
        for (v1::Expectation& e : expectations) *history.add_expectations() = std::move(e);

        std::vector<v1::Action> actions;
        if (before.action_id != HistoryPosition::kHistoryListDone) {
          for (const pqxx::row& row :
               tx.exec_params("SELECT " ACTION_COLUMNS " FROM action a" ACTION_JOINS
                              "WHERE a.case_id = $1 AND ($2 = 0 OR a.id < $2) "
                              "ORDER BY a.id DESC LIMIT $3",
                              case_id, before.action_id, limit + 1)) {
            actions.push_back(ActionFromRow(row));
          }
        }
        page.next.action_id =
            TrimHistoryList(actions, limit, [](const v1::Action& a) { return a.id(); });
        for (v1::Action& action : actions) *history.add_actions() = std::move(action);
        std::vector<v1::Action*> with_follow_ups;
        for (v1::Action& action : *history.mutable_actions()) with_follow_ups.push_back(&action);
        AddFollowUps(tx, with_follow_ups);
        return page;
      });
}

absl::StatusOr<ActionPage> PgCaseStore::ListActions(int64_t case_id, bool include_closed,
                                                    const std::optional<ActionPosition>& after,
                                                    int limit) {
  return RunReadTransaction<ActionPage>(
      pool_, Isolation::kRepeatableRead,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<ActionPage> {
        ActionPage page;
        const std::string status = include_closed ? "" : "OPEN";
        page.total = tx.exec_params1(
                           "SELECT count(*) FROM action WHERE case_id = $1 AND "
                           "($2 = '' OR status = $2)",
                           case_id, status)[0]
                         .as<int32_t>();
        for (const pqxx::row& row :
             tx.exec_params("SELECT " ACTION_COLUMNS " FROM action a" ACTION_JOINS
                            "WHERE a.case_id = $1 AND ($2 = '' OR a.status = $2) AND "
                            "(a.due_on, a.id) > ($3::date, $4) ORDER BY a.due_on, a.id LIMIT $5",
                            case_id, status, after ? after->due_on : std::string("0001-01-01"),
                            after ? after->id : int64_t{0}, limit)) {
          page.actions.push_back(ActionFromRow(row));
        }
        std::vector<v1::Action*> actions;
        for (v1::Action& action : page.actions) actions.push_back(&action);
        AddFollowUps(tx, actions);
        return page;
      });
}

absl::StatusOr<std::optional<v1::Action>> PgCaseStore::FindOpenAction(int64_t case_id,
                                                                      int64_t action_id) {
  return RunReadTransaction<std::optional<v1::Action>>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<std::optional<v1::Action>> {
        pqxx::result rows =
            tx.exec_params("SELECT " ACTION_COLUMNS " FROM action a" ACTION_JOINS
                           "WHERE a.case_id = $1 AND a.id = $2 AND a.status = 'OPEN'",
                           case_id, action_id);
        if (rows.empty()) return std::optional<v1::Action>();
        return std::optional<v1::Action>(ActionFromRow(rows[0]));
      });
}

absl::StatusOr<std::optional<StoredAnswer>> PgCaseStore::FindAnswer(int64_t job_centre_id,
                                                                    const std::string& key) {
  // A write transaction (see kTouchStoredAnswer): its commit waits for the synchronous standby.
  return RunTransaction<std::optional<StoredAnswer>>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<std::optional<StoredAnswer>> {
        pqxx::result rows = tx.exec_params(kTouchStoredAnswer, job_centre_id, key);
        if (rows.empty()) return std::optional<StoredAnswer>();
        absl::StatusOr<std::string> bytes =
            StoredAnswerBytes(tx, job_centre_id, rows[0][2], rows[0][3]);
        if (!bytes.ok()) return bytes.status();
        return std::optional<StoredAnswer>(StoredAnswer{
            rows[0][0].as<std::string>(), rows[0][1].as<std::string>(), *std::move(bytes)});
      });
}

void PgCaseStore::Announce(int64_t job_centre_id, int64_t case_id, int64_t version,
                           const std::string& kind) {
  announcer_.Announce(CaseChangeNotice::ForCase(job_centre_id, case_id, version, kind));
}

absl::StatusOr<v1::Case> PgCaseStore::ApplyChange(const CaseChange& change) {
  absl::StatusOr<v1::Case> applied = RunTransaction<v1::Case>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::Case> {
        absl::StatusOr<std::optional<v1::Case>> earlier =
            ReserveKey(tx, change.job_centre_id, change.idempotency);
        if (!earlier.ok()) return earlier.status();
        if (earlier->has_value()) return std::move(**earlier);
        // The conditional update takes the row lock; a concurrent writer on the same version
        // waits here and then finds the version moved on.
        pqxx::result bumped = tx.exec_params(
            "UPDATE cases SET version = version + 1, updated_at = now() "
            "WHERE id = $1 AND job_centre_id = $2 AND version = $3 RETURNING version",
            change.case_id, change.job_centre_id, change.base_version);
        if (bumped.empty()) {
          pqxx::result current =
              tx.exec_params("SELECT version FROM cases WHERE id = $1", change.case_id);
          if (current.empty()) return CaseNotFound(change.case_ref);
          return StaleVersion(change.case_ref, current[0][0].as<int64_t>(), change.base_version);
        }
        const int64_t version = bumped[0][0].as<int64_t>();
        if (absl::Status s = std::visit(BodyWriter{tx, change}, change.body); !s.ok()) return s;
        InsertEvent(tx, change.job_centre_id, change.case_id, version, change.kind, change.actor_id,
                    change.effective_on, change.summary_json);
        absl::StatusOr<v1::Case> after = LoadCaseById(tx, change.job_centre_id, change.case_id);
        if (!after.ok()) return after.status();
        StoreAnswer(tx, change.job_centre_id, change.idempotency, *after);
        return after;
      });
  if (applied.ok()) {
    Announce(change.job_centre_id, change.case_id, applied->version(), change.kind);
  }
  return applied;
}

absl::StatusOr<std::optional<v1::Case>> PgCaseStore::TryRecordExpectation(
    const ExpectationWrite& w) {
  // One statement, shared with the writes that arrive meanwhile (expectation_batcher.h); a
  // refusal ('fallback: ...', a key already stored, a deadlock) sends the write to the general
  // path, which decides (replays, or words the error).
  return Answered(w, batcher_.Write(w));
}

void PgCaseStore::TryRecordExpectationAsync(std::shared_ptr<const ExpectationWrite> write,
                                            ExpectationAnswer done) {
  const ExpectationWrite& w = *write;
  batcher_.WriteAsync(
      w, [this, write = std::move(write), done = std::move(done)](
             ExpectationBatcher::Result written) { done(Answered(*write, std::move(written))); });
}

absl::StatusOr<std::optional<v1::Case>> PgCaseStore::Answered(const ExpectationWrite& w,
                                                              ExpectationBatcher::Result written) {
  if (!written.ok()) return written.status();
  if (!written->has_value()) return std::optional<v1::Case>();
  const std::string& answer = **written;
  const nlohmann::json parsed = nlohmann::json::parse(answer, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("case_id")) {
    return absl::InternalError("case_record_expectation answered no case");
  }
  Announce(w.job_centre_id, parsed["case_id"].get<int64_t>(), parsed.value("version", int64_t{0}),
           "EXPECTATION");
  return std::optional<v1::Case>(
      CaseFromAnswerJson(parsed, [&](const std::string& code) -> std::optional<CaseField::Type> {
        const CaseField* field = w.catalogue == nullptr ? nullptr : w.catalogue->FindField(code);
        if (field == nullptr) return std::nullopt;
        return field->type();
      }));
}

absl::StatusOr<v1::Case> PgCaseStore::CreateCase(const NewCase& c) {
  int64_t created_id = 0;
  absl::StatusOr<v1::Case> created = RunTransaction<v1::Case>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::Case> {
        absl::StatusOr<std::optional<v1::Case>> earlier =
            ReserveKey(tx, c.job_centre_id, c.idempotency);
        if (!earlier.ok()) return earlier.status();
        if (earlier->has_value()) return std::move(**earlier);
        pqxx::result inserted = tx.exec_params(
            "INSERT INTO cases (job_centre_id, case_ref, case_type, opened_on, caseworker_id, team_id, fields) "
            "VALUES ($1, $2, $3, $4::date, $5, $6, $7::jsonb) ON CONFLICT (job_centre_id, case_ref) DO NOTHING "
            "RETURNING id",
            c.job_centre_id, c.case_ref, c.case_type, FormatDay(c.opened_on), c.caseworker_id,
            c.team_id, c.fields_json);
        if (inserted.empty()) {
          return absl::AlreadyExistsError(
              absl::StrCat("case_ref: case \"", c.case_ref, "\" already exists"));
        }
        const int64_t id = inserted[0][0].as<int64_t>();
        created_id = id;
        tx.exec_params(
            "INSERT INTO assignment (job_centre_id, case_id, caseworker_id, team_id, from_on, recorded_by) "
            "VALUES ($1, $2, $3, $4, $5::date, $6)",
            c.job_centre_id, id, c.caseworker_id, c.team_id, FormatDay(c.opened_on), c.actor_id);
        tx.exec_params(
            "INSERT INTO field_change (job_centre_id, case_id, field_code, value, effective_on, recorded_by) "
            "SELECT $1, $2, f.key, f.value, $3::date, $4 FROM jsonb_each($5::jsonb) f",
            c.job_centre_id, id, FormatDay(c.opened_on), c.actor_id, c.fields_json);
        InsertEvent(tx, c.job_centre_id, id, 1, "OPENED", c.actor_id, c.opened_on, c.summary_json);
        absl::StatusOr<v1::Case> after = LoadCaseById(tx, c.job_centre_id, id);
        if (!after.ok()) return after.status();
        StoreAnswer(tx, c.job_centre_id, c.idempotency, *after);
        return after;
      });
  if (created.ok() && created_id != 0) Announce(c.job_centre_id, created_id, 1, "OPENED");
  return created;
}

absl::Status PgCaseStore::UpsertCatalogueEntry(int64_t job_centre_id, int64_t staff_id,
                                               const CatalogueEntry& e) {
  return RunTransaction(pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) {
    const std::string kind = EntryKindName(e.kind());
    const std::optional<std::string> before =
        SetUpSnapshot(tx, job_centre_id, SetUpTarget::kCatalogueEntry, e.code(), kind);
    tx.exec_params(
        "INSERT INTO catalogue_entry (job_centre_id, kind, code, label_da, label_en, sort_order, active, "
        "outcome_group, probability) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (job_centre_id, kind, code) DO UPDATE SET label_da = EXCLUDED.label_da, "
        "label_en = EXCLUDED.label_en, sort_order = EXCLUDED.sort_order, active = EXCLUDED.active, "
        "outcome_group = EXCLUDED.outcome_group, probability = EXCLUDED.probability",
        job_centre_id, EntryKindName(e.kind()), e.code(), e.label_da(), e.label_en(),
        e.sort_order(), e.active(), e.outcome_group(), e.probability());
    RecordSetUpChange(tx, job_centre_id, staff_id, "UpsertCatalogueEntry",
                      SetUpTarget::kCatalogueEntry, e.code(), before, kind);
    return absl::OkStatus();
  });
}

absl::Status PgCaseStore::UpsertCaseField(int64_t job_centre_id, int64_t staff_id,
                                          const CaseField& field) {
  return RunTransaction(
      pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::Status {
        pqxx::result existing = tx.exec_params(
            "SELECT field_type FROM case_field WHERE job_centre_id = $1 AND code = $2 FOR UPDATE",
            job_centre_id, field.code());
        const std::string type = FieldTypeName(field.type());
        if (!existing.empty() && existing[0][0].as<std::string>() != type) {
          return absl::FailedPreconditionError(absl::StrCat(
              "field.type: field ", field.code(), " is ", existing[0][0].as<std::string>(),
              "; its type cannot change once recorded"));
        }
        ArrayLiteral choices;
        for (const std::string& choice : field.choices()) choices.Add(choice);
        const std::optional<std::string> before =
            SetUpSnapshot(tx, job_centre_id, SetUpTarget::kCaseField, field.code());
        tx.exec_params(
            "INSERT INTO case_field (job_centre_id, code, label_da, label_en, field_type, choices, sort_order, active) "
            "VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8) ON CONFLICT (job_centre_id, code) DO UPDATE SET "
            "label_da = EXCLUDED.label_da, label_en = EXCLUDED.label_en, choices = EXCLUDED.choices, "
            "sort_order = EXCLUDED.sort_order, active = EXCLUDED.active",
            job_centre_id, field.code(), field.label_da(), field.label_en(), type, choices.str(),
            field.sort_order(), field.active());
        RecordSetUpChange(tx, job_centre_id, staff_id, "UpsertCaseField", SetUpTarget::kCaseField,
                          field.code(), before);
        return absl::OkStatus();
      });
}

namespace {

// The staged rows' kinds, in the order a case's rows are checked (closures before the rest).
enum StagedKind : int {
  kStagedCase = 0,
  kStagedClosure = 1,
  kStagedExpectation = 2,
  kStagedReassignment = 3
};

// ImportSession on one transaction: rows go to a temporary table (dropped with the transaction)
// as serialised messages, one INSERT per chunk, and come back through a cursor sorted by
// case_ref; events wait in a second temporary table until Finish. Not thread-safe.
class PgImportSession final : public ImportSession {
 public:
  PgImportSession(pqxx::transaction_base& tx, int64_t job_centre_id)
      : tx_(tx), centre_(job_centre_id) {
    tx_.exec(
        "CREATE TEMPORARY TABLE import_row (seq bigint NOT NULL, kind smallint NOT NULL, "
        "case_ref text COLLATE \"C\" NOT NULL, row_b64 text NOT NULL) ON COMMIT DROP");
    tx_.exec(
        "CREATE TEMPORARY TABLE import_event (ord bigint NOT NULL, case_id bigint NOT NULL, "
        "version bigint NOT NULL, kind text NOT NULL, actor bigint NOT NULL, on_day date NOT NULL, "
        "summary jsonb NOT NULL) ON COMMIT DROP");
  }

  void Stage(const v1::ImportChunk& chunk) override {
    ArrayLiteral seq, kind, ref, row;
    auto add = [&](StagedKind k, const std::string& case_ref, const google::protobuf::Message& m) {
      seq.Add(next_seq_++);
      kind.Add(static_cast<int64_t>(k));
      ref.Add(case_ref);
      std::string encoded;
      absl::Base64Escape(m.SerializeAsString(), &encoded);
      row.Add(encoded);
    };
    for (const auto& r : chunk.cases()) add(kStagedCase, r.case_ref(), r);
    for (const auto& r : chunk.expectations()) add(kStagedExpectation, r.case_ref(), r);
    for (const auto& r : chunk.closures()) add(kStagedClosure, r.case_ref(), r);
    for (const auto& r : chunk.reassignments()) add(kStagedReassignment, r.case_ref(), r);
    tx_.exec_params(
        "INSERT INTO import_row (seq, kind, case_ref, row_b64) "
        "SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::text[])",
        seq.str(), kind.str(), ref.str(), row.str());
  }

  void ForEachBatch(size_t max_groups, size_t max_rows, size_t max_case_rows,
                    const std::function<void(std::vector<ImportGroup>&)>& visit) override {
    const std::string cursor = absl::StrCat("import_rows_", ++cursors_);
    tx_.exec(absl::StrCat("DECLARE ", cursor,
                          " NO SCROLL CURSOR FOR SELECT kind, seq, case_ref, row_b64 "
                          "FROM import_row ORDER BY case_ref, kind, seq"));
    std::vector<ImportGroup> batch;
    size_t batch_rows = 0;
    ImportGroup group;
    bool open = false;
    auto close_group = [&] {
      batch_rows += group.rows();
      batch.push_back(std::move(group));
      group = ImportGroup();
      if (batch.size() >= max_groups || batch_rows >= max_rows) {
        visit(batch);
        batch.clear();
        batch_rows = 0;
      }
    };
    for (;;) {
      const pqxx::result rows = tx_.exec(absl::StrCat("FETCH 5000 FROM ", cursor));
      if (rows.empty()) break;
      for (const pqxx::row& row : rows) {
        const pqxx::field ref = row[2];
        if (!open || group.case_ref != ref.c_str()) {
          if (open) close_group();
          group.case_ref = ref.as<std::string>();
          open = true;
        }
        if (group.rows() >= max_case_rows) {
          ++group.rows_left_out;
          continue;
        }
        const int64_t seq = row[1].as<int64_t>();
        std::string bytes;
        if (!absl::Base64Unescape(row[3].c_str(), &bytes))
          throw std::runtime_error("a staged import row does not decode");
        switch (row[0].as<int>()) {
          case kStagedCase: Decode(seq, bytes, group.cases); break;
          case kStagedClosure: Decode(seq, bytes, group.closures); break;
          case kStagedExpectation: Decode(seq, bytes, group.expectations); break;
          default: Decode(seq, bytes, group.reassignments); break;
        }
      }
    }
    if (open) close_group();
    if (!batch.empty()) visit(batch);
    tx_.exec(absl::StrCat("CLOSE ", cursor));
  }

  std::vector<std::string> ExistingCaseRefs(const std::vector<std::string>& refs) override {
    std::vector<std::string> taken;
    if (refs.empty()) return taken;
    ArrayLiteral array;
    for (const std::string& ref : refs) array.Add(ref);
    for (const pqxx::row& row : tx_.exec_params(
             "SELECT case_ref FROM cases WHERE job_centre_id = $1 AND case_ref = ANY($2::text[]) "
             "ORDER BY case_ref",
             centre_, array.str())) {
      taken.push_back(row[0].as<std::string>());
    }
    return taken;
  }

  int64_t CreateOrganisation(const std::vector<std::string>& teams,
                             const std::vector<ImportPlan::MissingStaff>& staff) override {
    for (const std::string& team : teams) {
      tx_.exec_params(
          "INSERT INTO org_unit (job_centre_id, code, name, kind) VALUES ($1, $2, $2, 'TEAM') "
          "ON CONFLICT (job_centre_id, code) DO NOTHING",
          centre_, team);
    }
    LoadIds();
    int64_t created_staff = 0;
    for (const ImportPlan::MissingStaff& member : staff) {
      auto team = team_ids_.find(member.team_code);
      pqxx::result created = tx_.exec_params(
          "INSERT INTO staff (job_centre_id, code, display_name, role, team_id) "
          "VALUES ($1, $2, $2, 'CASEWORKER', nullif($3, 0)) ON CONFLICT (job_centre_id, code) DO NOTHING "
          "RETURNING id",
          centre_, member.code, team == team_ids_.end() ? int64_t{0} : team->second);
      created_staff += static_cast<int64_t>(created.size());
    }
    ids_loaded_ = false;
    return created_staff;
  }

  ImportCounts Write(const ImportPlan& plan) override;

  void Finish() override {
    tx_.exec_params(
        "INSERT INTO case_event (job_centre_id, case_id, case_version, kind, actor_id, effective_on, recorded_at, summary) "
        "SELECT $1, case_id, version, kind, actor, on_day, on_day::timestamp AT TIME ZONE 'UTC', summary "
        "FROM import_event ORDER BY ord",
        centre_);
  }

 private:
  template <typename Row>
  static void Decode(int64_t seq, const std::string& bytes, std::vector<StagedRow<Row>>& into) {
    StagedRow<Row> staged;
    staged.seq = seq;
    if (!staged.row.ParseFromString(bytes))
      throw std::runtime_error("a staged import row does not parse");
    into.push_back(std::move(staged));
  }

  void LoadIds() {
    team_ids_.clear();
    staff_ids_.clear();
    for (const pqxx::row& row : tx_.exec_params(
             "SELECT code, id FROM org_unit WHERE job_centre_id = $1 AND kind = 'TEAM'", centre_)) {
      team_ids_[row[0].as<std::string>()] = row[1].as<int64_t>();
    }
    for (const pqxx::row& row :
         tx_.exec_params("SELECT code, id FROM staff WHERE job_centre_id = $1", centre_)) {
      staff_ids_[row[0].as<std::string>()] = row[1].as<int64_t>();
    }
    ids_loaded_ = true;
  }

  pqxx::transaction_base& tx_;
  const int64_t centre_;
  int64_t next_seq_ = 0;
  int cursors_ = 0;
  int64_t next_event_ = 0;
  bool ids_loaded_ = false;
  std::unordered_map<std::string, int64_t> team_ids_, staff_ids_;  // the centre's, by code
};

ImportCounts PgImportSession::Write(const ImportPlan& plan) {
  ImportCounts counts;
  if (plan.cases.empty()) return counts;
  if (!ids_loaded_) LoadIds();
  pqxx::transaction_base& tx = tx_;
  const int64_t centre = centre_;
  auto staff_id = [&](const std::string& code) -> int64_t {
    auto it = staff_ids_.find(code);
    if (it == staff_ids_.end()) std::abort();  // the importer resolved every code
    return it->second;
  };
  auto team_id = [&](const std::string& code) -> int64_t {
    auto it = team_ids_.find(code);
    if (it == team_ids_.end()) std::abort();
    return it->second;
  };
  int64_t expectation_total = 0;
  for (const ImportPlan::Case& c : plan.cases) {
    for (const ImportPlan::Change& change : c.changes)
      expectation_total += change.kind == "EXPECTATION";
  }
  auto allocate = [&](const char* table, int64_t n) {
    std::vector<int64_t> ids;
    if (n == 0) return ids;
    ids.reserve(n);
    for (const pqxx::row& row : tx.exec_params(
             "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)", table,
             n)) {
      ids.push_back(row[0].as<int64_t>());
    }
    return ids;
  };
  const std::vector<int64_t> case_ids = allocate("cases", static_cast<int64_t>(plan.cases.size()));
  const std::vector<int64_t> expectation_ids = allocate("expectation", expectation_total);

  struct Columns {
    std::vector<ArrayLiteral> arrays;
    explicit Columns(size_t n) : arrays(n) {}
    ArrayLiteral& operator[](size_t i) { return arrays[i]; }
  };
  Columns cases(11), expectations(7), current(2), assignments(6), closures(5), events(7);
  size_t next_expectation = 0;
  for (size_t i = 0; i < plan.cases.size(); ++i) {
    const ImportPlan::Case& c = plan.cases[i];
    const int64_t id = case_ids[i];
    int64_t caseworker = staff_id(c.caseworker_code), team = team_id(c.team_code);
    std::string status = "OPEN", closed_on, outcome;
    int64_t version = 1;
    int64_t latest_expectation = 0;
    assignments[0].Add(id);
    assignments[1].Add(caseworker);
    assignments[2].Add(team);
    assignments[3].Add(FormatDay(c.opened_on));
    assignments[4].Add(plan.actor_id);
    assignments[5].Add(FormatDay(c.opened_on));
    events[6].Add(next_event_++);
    events[0].Add(id);
    events[1].Add(version);
    events[2].Add(std::string("OPENED"));
    events[3].Add(plan.actor_id);
    events[4].Add(FormatDay(c.opened_on));
    events[5].Add(nlohmann::json{{"imported", true},
                                 {"case_type", c.case_type},
                                 {"opened_on", FormatDay(c.opened_on)},
                                 {"caseworker", c.caseworker_code},
                                 {"team", c.team_code},
                                 {"fields", nlohmann::json::parse(c.fields_json)}}
                      .dump());
    for (const ImportPlan::Change& change : c.changes) {
      ++version;
      const std::string on = FormatDay(change.on);
      nlohmann::json summary{{"imported", true}};
      int64_t actor = plan.actor_id;
      if (change.kind == "EXPECTATION") {
        actor = staff_id(change.actor_code);
        latest_expectation = expectation_ids[next_expectation++];
        expectations[0].Add(latest_expectation);
        expectations[1].Add(id);
        expectations[2].Add(change.outcome);
        expectations[3].Add(FirstOfMonth(change.month));
        expectations[4].Add(change.risk);
        expectations[5].Add(actor);
        expectations[6].Add(on);
        summary.update({{"expected_outcome", change.outcome},
                        {"expected_month", FormatMonth(change.month)},
                        {"risk", change.risk},
                        {"agreed_in_dialogue", false}});
        ++counts.expectations;
      } else if (change.kind == "REASSIGNED") {
        caseworker = staff_id(change.caseworker_code);
        team = team_id(change.team_code);
        assignments[0].Add(id);
        assignments[1].Add(caseworker);
        assignments[2].Add(team);
        assignments[3].Add(on);
        assignments[4].Add(plan.actor_id);
        assignments[5].Add(on);
        summary.update({{"to", change.caseworker_code}, {"to_team", change.team_code}, {"on", on}});
        ++counts.reassignments;
      } else {
        status = "CLOSED";
        closed_on = on;
        outcome = change.outcome;
        closures[0].Add(id);
        closures[1].Add(on);
        closures[2].Add(change.outcome);
        closures[3].Add(plan.actor_id);
        closures[4].Add(on);
        summary.update({{"closed_on", on}, {"outcome", change.outcome}});
        ++counts.closures;
      }
      events[6].Add(next_event_++);
      events[0].Add(id);
      events[1].Add(version);
      events[2].Add(change.kind);
      events[3].Add(actor);
      events[4].Add(on);
      events[5].Add(summary.dump());
    }
    cases[0].Add(id);
    cases[1].Add(c.case_ref);
    cases[2].Add(c.case_type);
    cases[3].Add(FormatDay(c.opened_on));
    cases[4].Add(caseworker);
    cases[5].Add(team);
    cases[6].Add(status);
    if (closed_on.empty()) {
      cases[7].AddNull();
      cases[8].AddNull();
    } else {
      cases[7].Add(closed_on);
      cases[8].Add(outcome);
    }
    cases[9].Add(c.fields_json);
    cases[10].Add(version);
    if (latest_expectation != 0) {
      current[0].Add(id);
      current[1].Add(latest_expectation);
    }
    ++counts.cases;
  }
  // Bulk writes: one statement per table, rows passed as arrays and unnested.
  tx.exec_params(
      "INSERT INTO cases (id, job_centre_id, case_ref, case_type, opened_on, caseworker_id, team_id, status, "
      "closed_on, closure_outcome, fields, version) "
      "SELECT t.id, $1, t.ref, t.type, t.opened::date, t.cw, t.team, t.status, t.closed::date, t.outcome, "
      "t.fields::jsonb, t.version FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], "
      "$7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[]) "
      "AS t(id, ref, type, opened, cw, team, status, closed, outcome, fields, version)",
      centre, cases[0].str(), cases[1].str(), cases[2].str(), cases[3].str(), cases[4].str(),
      cases[5].str(), cases[6].str(), cases[7].str(), cases[8].str(), cases[9].str(),
      cases[10].str());
  tx.exec_params(
      "INSERT INTO expectation (id, job_centre_id, case_id, expected_outcome, expected_month, risk, "
      "recorded_by, recorded_at) "
      "SELECT t.id, $1, t.case_id, t.outcome, t.month::date, t.risk, t.by, t.day::date::timestamp AT TIME ZONE 'UTC' "
      "FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[]) "
      "AS t(id, case_id, outcome, month, risk, by, day)",
      centre, expectations[0].str(), expectations[1].str(), expectations[2].str(),
      expectations[3].str(), expectations[4].str(), expectations[5].str(), expectations[6].str());
  tx.exec_params(
      "UPDATE cases c SET current_expectation_id = t.e FROM unnest($1::bigint[], $2::bigint[]) AS t(c, e) "
      "WHERE c.id = t.c",
      current[0].str(), current[1].str());
  tx.exec_params(
      "INSERT INTO assignment (job_centre_id, case_id, caseworker_id, team_id, from_on, recorded_by, recorded_at) "
      "SELECT $1, t.case_id, t.cw, t.team, t.on_day::date, t.by, t.day::date::timestamp AT TIME ZONE 'UTC' "
      "FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::text[]) "
      "AS t(case_id, cw, team, on_day, by, day)",
      centre, assignments[0].str(), assignments[1].str(), assignments[2].str(),
      assignments[3].str(), assignments[4].str(), assignments[5].str());
  tx.exec_params(
      "INSERT INTO status_change (job_centre_id, case_id, status, on_date, outcome, recorded_by, recorded_at) "
      "SELECT $1, t.case_id, 'CLOSED', t.on_day::date, t.outcome, t.by, t.day::date::timestamp AT TIME ZONE 'UTC' "
      "FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[]) "
      "AS t(case_id, on_day, outcome, by, day)",
      centre, closures[0].str(), closures[1].str(), closures[2].str(), closures[3].str(),
      closures[4].str());
  tx.exec_params(
      "INSERT INTO field_change (job_centre_id, case_id, field_code, value, effective_on, recorded_by, recorded_at) "
      "SELECT c.job_centre_id, c.id, f.key, f.value, c.opened_on, $2, c.opened_on::timestamp AT TIME ZONE 'UTC' "
      "FROM cases c, jsonb_each(c.fields) f WHERE c.id = ANY($1::bigint[])",
      cases[0].str(), plan.actor_id);
  tx.exec_params(
      "INSERT INTO import_event (ord, case_id, version, kind, actor, on_day, summary) "
      "SELECT t.ord, t.case_id, t.version, t.kind, t.actor, t.on_day::date, t.summary::jsonb "
      "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], "
      "$7::text[]) AS t(ord, case_id, version, kind, actor, on_day, summary)",
      events[6].str(), events[0].str(), events[1].str(), events[2].str(), events[3].str(),
      events[4].str(), events[5].str());
  return counts;
}

}  // namespace

absl::Status PgCaseStore::RunImport(
    int64_t job_centre_id, const std::function<absl::StatusOr<bool>(ImportSession&)>& body) {
  bool rolled_back = false;  // on purpose: a dry run or bad rows
  absl::Status status = RunTransaction(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::Status {
        PgImportSession session(tx, job_centre_id);
        absl::StatusOr<bool> commit = body(session);
        if (!commit.ok()) return commit.status();
        if (*commit) return absl::OkStatus();
        rolled_back = true;
        return absl::AbortedError("the import is rolled back");
      },
      /*attempts=*/1);
  if (status.ok()) {
    CaseChangeNotice notice;
    notice.scope = CaseChangeNotice::Scope::kBulk;
    notice.centre_id = job_centre_id;
    notice.written_at = absl::Now();
    announcer_.Announce(std::move(notice));
  }
  return rolled_back ? absl::OkStatus() : status;
}

}  // namespace forecast
