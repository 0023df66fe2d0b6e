#include "services/forecast/history_store.h"

#include <algorithm>
#include <utility>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/codes.h"
#include "services/common/status.h"

namespace forecast::fsvc {
namespace {

const Day kEpoch(1970, 1, 1);

// Days since the epoch, so that dates cross the wire as integers.
#define DAY(expr) "((" expr ") - DATE '1970-01-01')"
#define UTC_DAY(ts) "((" ts " AT TIME ZONE 'UTC')::date)"
#define RFC3339(ts) "to_char(" ts " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

Day DayOf(const pqxx::field& f) { return kEpoch + f.as<long>(); }

// Which history rows a read takes: every row of the job centre, every row of some cases, or
// only the rows of some cases above the ids already read (CaseTimeline::last_ids).
class Selection {
 public:
  static Selection Centre() { return Selection(); }
  static Selection Cases(const std::vector<int64_t>& ids) {
    Selection s;
    s.cases_ = absl::StrCat("{", absl::StrJoin(ids, ","), "}");
    return s;
  }
  static Selection NewerThan(std::vector<const CaseTimeline*> records) {
    Selection s;
    s.newer_ = std::move(records);
    return s;
  }

  // The condition on a table with columns `case_id` and `id` (qualified as given), appended to
  // "WHERE job_centre_id = $1". `last` picks the table's mark. Literal ids only.
  template <typename Last>
  std::string Where(const char* case_column, const char* id_column, Last last) const {
    if (!cases_.empty()) return absl::StrCat(" AND ", case_column, " = ANY($2::bigint[])");
    if (newer_.empty()) return "";
    std::string sql = " AND (";
    for (size_t i = 0; i < newer_.size(); ++i) {
      absl::StrAppend(&sql, i == 0 ? "" : " OR ", "(", case_column, " = ", newer_[i]->id, " AND ",
                      id_column, " > ", last(newer_[i]->last_ids), ")");
    }
    return sql + ")";
  }
  // Runs `sql` with $1 = centre (and $2 = the case ids when selecting cases).
  pqxx::result Exec(pqxx::transaction_base& tx, const std::string& sql, int64_t centre) const {
    if (cases_.empty()) return tx.exec_params(sql, centre);
    return tx.exec_params(sql, centre, cases_);
  }

 private:
  std::string cases_;                       // bigint[] literal, or empty
  std::vector<const CaseTimeline*> newer_;  // the records whose newer rows are read
};

FieldType ParseFieldType(const std::string& text) {
  if (text == "NUMBER") return FieldType::kNumber;
  if (text == "CHOICE") return FieldType::kChoice;
  if (text == "DATE") return FieldType::kDate;
  return FieldType::kBool;
}

MetricKind ParseMetricKind(const std::string& text) {
  if (text == "FIELD_TURNED_TRUE") return MetricKind::kFieldTurnedTrue;
  if (text == "FIELD_SET") return MetricKind::kFieldSet;
  if (text == "CASELOAD") return MetricKind::kCaseload;
  return MetricKind::kClosures;
}

// Parses a PostgreSQL text[] literal of simple codes, e.g. {ready,close,"further from"}.
std::vector<std::string> ParseTextArray(const pqxx::field& f) {
  std::vector<std::string> out;
  pqxx::array_parser parser = f.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done;
       item = parser.get_next()) {
    if (item.first == pqxx::array_parser::string_value) out.push_back(item.second);
  }
  return out;
}

// The centre's dialogues (only `dialogue_id`'s when it is not 0) with their cases and notes
// versions, by held_on, then id.
std::vector<DialogueRecord> ReadDialogues(pqxx::transaction_base& tx, int64_t centre,
                                          int64_t dialogue_id) {
  std::vector<DialogueRecord> out;
  absl::flat_hash_map<int64_t, size_t> dialogue_pos;
  for (
      const auto& row : tx.exec_params(
          "SELECT id, team_id, team_leader_id, caseworker_id, " DAY("held_on") ", " DAY("greatest(held_on, " UTC_DAY(
              "coalesce(finalised_at, recorded_at)") ")") ", "
                                                          "notes_status, notes_knowledge, notes_learning, notes_adjustment, " RFC3339("recorded_at") ", state, version, coalesce(" RFC3339(
                                                              "finalised_at") ", ''), "
                                                                              "coalesce(finalised_by, 0), " DAY(
                                                                                  "coalesce(" UTC_DAY(
                                                                                      "finalised_at") ", held_on)") ", " DAY(UTC_DAY("recorded_at")) " "
                                                                                                                                                     "FROM dialogue WHERE job_centre_id = $1 AND ($2::bigint = 0 OR id = $2) ORDER BY held_on, id",
          centre, dialogue_id)) {
    DialogueRecord d;
    d.id = row[0].as<int64_t>();
    d.team_id = row[1].as<int64_t>();
    d.team_leader_id = row[2].as<int64_t>();
    d.caseworker_id = row[3].as<int64_t>();
    d.held_on = DayOf(row[4]);
    d.known_on = DayOf(row[5]);
    d.status = row[6].as<std::string>();
    d.knowledge = row[7].as<std::string>();
    d.learning = row[8].as<std::string>();
    d.adjustment = row[9].as<std::string>();
    d.recorded_at = row[10].as<std::string>();
    d.final = ParseDialogueState(row[11].as<std::string>()) == DialogueState::kFinal;
    d.version = row[12].as<int>();
    d.finalised_at = row[13].as<std::string>();
    d.finalised_by = row[14].as<int64_t>();
    d.finalised_on = DayOf(row[15]);
    d.opened_on = DayOf(row[16]);
    dialogue_pos[d.id] = out.size();
    out.push_back(std::move(d));
  }
  for (const auto& row :
       tx.exec_params("SELECT dc.dialogue_id, dc.case_id FROM dialogue_case dc "
                      "JOIN dialogue d ON d.id = dc.dialogue_id WHERE d.job_centre_id = $1 "
                      "AND ($2::bigint = 0 OR d.id = $2) ORDER BY dc.dialogue_id, dc.case_id",
                      centre, dialogue_id)) {
    auto it = dialogue_pos.find(row[0].as<int64_t>());
    if (it != dialogue_pos.end()) out[it->second].case_ids.push_back(row[1].as<int64_t>());
  }
  // Cases taken off (and put back on) the lists, in the order edited: the latest edit of a case
  // decides whether it is discussed; every removal withdraws the agreements made before it.
  absl::flat_hash_map<std::pair<int64_t, int64_t>, bool> removed;
  for (const auto& row : tx.exec_params(
           "SELECT dialogue_id, case_id, removed, up_to_expectation FROM dialogue_case_edit "
           "WHERE job_centre_id = $1 AND ($2::bigint = 0 OR dialogue_id = $2) ORDER BY id",
           centre, dialogue_id)) {
    auto it = dialogue_pos.find(row[0].as<int64_t>());
    if (it == dialogue_pos.end()) continue;
    const int64_t case_id = row[1].as<int64_t>();
    const bool is_removal = row[2].as<bool>();
    removed[{row[0].as<int64_t>(), case_id}] = is_removal;
    if (is_removal) out[it->second].withdrawn.emplace_back(case_id, row[3].as<int64_t>());
  }
  for (DialogueRecord& d : out) {
    d.case_ids.erase(std::remove_if(d.case_ids.begin(), d.case_ids.end(),
                                    [&](int64_t c) {
                                      auto it = removed.find({d.id, c});
                                      return it != removed.end() && it->second;
                                    }),
                     d.case_ids.end());
  }
  for (
      const auto& row : tx.exec_params(
          "SELECT dialogue_id, version, " DAY(
              "held_on") ", notes_status, notes_knowledge, "
                         "notes_learning, notes_adjustment, recorded_by, " RFC3339(
                             "recorded_at") " "
                                            "FROM dialogue_notes_version WHERE job_centre_id = $1 AND ($2::bigint = 0 OR dialogue_id = $2) ORDER BY dialogue_id, version",
          centre, dialogue_id)) {
    auto it = dialogue_pos.find(row[0].as<int64_t>());
    if (it == dialogue_pos.end()) continue;
    DialogueNotesVersionRecord v;
    v.version = row[1].as<int>();
    v.held_on = DayOf(row[2]);
    v.status = row[3].as<std::string>();
    v.knowledge = row[4].as<std::string>();
    v.learning = row[5].as<std::string>();
    v.adjustment = row[6].as<std::string>();
    v.recorded_by = row[7].as<int64_t>();
    v.recorded_at = row[8].as<std::string>();
    out[it->second].versions.push_back(std::move(v));
  }
  return out;
}

// One dialogue as stored, read in the transaction that wrote it.
absl::StatusOr<DialogueRecord> StoredDialogue(pqxx::transaction_base& tx, int64_t centre,
                                              int64_t dialogue_id) {
  std::vector<DialogueRecord> found = ReadDialogues(tx, centre, dialogue_id);
  if (found.empty()) {
    return absl::InternalError(absl::StrCat("dialogue ", dialogue_id, " was not stored"));
  }
  return std::move(found.front());
}

// The columns of a forecast adjustment row, as AdjustmentOf reads them.
constexpr char kAdjustmentColumns[] =
    "id, team_id, extract(year FROM month)::int, extract(month FROM month)::int, outcome, "
    "version, figure, previous_figure, reason, set_by, " DAY(UTC_DAY("set_at")) ", " RFC3339(
        "set_at") ", idempotency_key";

AdjustmentRecord AdjustmentOf(const pqxx::row& row) {
  AdjustmentRecord a;
  a.id = row[0].as<int64_t>();
  a.team_id = row[1].as<int64_t>();
  a.month = Month(row[2].as<int>(), row[3].as<int>());
  a.outcome = row[4].as<std::string>();
  a.version = row[5].as<int>();
  if (!row[6].is_null()) a.figure = row[6].as<double>();
  if (!row[7].is_null()) a.previous = row[7].as<double>();
  a.reason = row[8].as<std::string>();
  a.set_by = row[9].as<int64_t>();
  a.known_on = DayOf(row[10]);
  a.set_at = row[11].as<std::string>();
  a.idempotency_key = row[12].as<std::string>();
  return a;
}

// The centre's forecast adjustment rows, by id.
std::vector<AdjustmentRecord> ReadAdjustments(pqxx::transaction_base& tx, int64_t centre) {
  std::vector<AdjustmentRecord> out;
  for (const auto& row : tx.exec_params(
           absl::StrCat("SELECT ", kAdjustmentColumns,
                        " FROM forecast_adjustment WHERE job_centre_id = $1 ORDER BY id"),
           centre)) {
    out.push_back(AdjustmentOf(row));
  }
  return out;
}

// Catalogue, fields, organisation, metrics, targets and dialogues: small, read whole.
absl::Status ReadSmallTables(pqxx::transaction_base& tx, int64_t centre, CentreHistory& h) {
  pqxx::result jc =
      tx.exec_params("SELECT code, name FROM case_read_model.job_centre WHERE id = $1", centre);
  if (jc.empty())
    return absl::NotFoundError(absl::StrCat("job centre ", centre, " does not exist"));
  h.centre_id = centre;
  h.code = jc[0][0].as<std::string>();
  h.name = jc[0][1].as<std::string>();

  h.catalogue = Catalogue();
  for (const auto& row : tx.exec_params(
           "SELECT kind, code, outcome_group, probability FROM case_read_model.catalogue_entry "
           "WHERE job_centre_id = $1 ORDER BY kind, sort_order, code",
           centre)) {
    const std::string kind = row[0].as<std::string>();
    const std::string code = row[1].as<std::string>();
    if (kind == "CASE_TYPE") {
      h.catalogue.case_types.push_back(code);
    } else if (kind == "OUTCOME") {
      h.catalogue.outcomes.push_back(code);
      h.catalogue.outcome_groups.push_back(row[2].as<std::string>());
    } else {
      h.catalogue.risks.push_back(code);
      h.catalogue.risk_probability.push_back(row[3].as<double>());
    }
  }

  h.fields.clear();
  for (const auto& row : tx.exec_params(
           "SELECT code, label_da, label_en, field_type, choices FROM case_read_model.case_field "
           "WHERE job_centre_id = $1 ORDER BY sort_order, code",
           centre)) {
    FieldDef def;
    def.code = row[0].as<std::string>();
    def.label_da = row[1].as<std::string>();
    def.label_en = row[2].as<std::string>();
    def.type = ParseFieldType(row[3].as<std::string>());
    def.choices = ParseTextArray(row[4]);
    h.fields.push_back(std::move(def));
  }

  h.units.clear();
  for (const auto& row : tx.exec_params(
           "SELECT id, code, name, kind, coalesce(parent_id, 0) FROM case_read_model.org_unit "
           "WHERE job_centre_id = $1 ORDER BY code",
           centre)) {
    OrgUnit u;
    u.id = row[0].as<int64_t>();
    u.code = row[1].as<std::string>();
    u.name = row[2].as<std::string>();
    u.is_team = ParseOrgUnitKind(row[3].as<std::string>()) == v1::OrgUnit::TEAM;
    u.parent_id = row[4].as<int64_t>();
    h.units.push_back(std::move(u));
  }

  h.staff.clear();
  for (
      const auto& row : tx.exec_params(
          "SELECT id, code, display_name, role, coalesce(team_id, 0), active FROM case_read_model.staff "
          "WHERE job_centre_id = $1 ORDER BY code",
          centre)) {
    StaffMember s;
    s.id = row[0].as<int64_t>();
    s.code = row[1].as<std::string>();
    s.display_name = row[2].as<std::string>();
    s.role = row[3].as<std::string>();
    s.team_id = row[4].as<int64_t>();
    s.active = row[5].as<bool>();
    h.staff.push_back(std::move(s));
  }

  h.metrics.clear();
  for (
      const auto& row : tx.exec_params(
          "SELECT code, label_da, label_en, kind, outcome_group, field_code, choice, "
          "higher_is_better FROM case_read_model.milestone_metric WHERE job_centre_id = $1 AND active "
          "ORDER BY sort_order, code",
          centre)) {
    MilestoneMetricDef m;
    m.code = row[0].as<std::string>();
    m.label_da = row[1].as<std::string>();
    m.label_en = row[2].as<std::string>();
    m.kind = ParseMetricKind(row[3].as<std::string>());
    m.outcome_group = row[4].as<std::string>();
    m.field_code = row[5].as<std::string>();
    m.choice = row[6].as<std::string>();
    m.higher_is_better = row[7].as<bool>();
    h.metrics.push_back(std::move(m));
  }

  h.targets.clear();
  for (
      const auto& row : tx.exec_params(
          "SELECT team_id, coalesce(caseworker_id, 0), metric_code, "
          "extract(year FROM month)::int, extract(month FROM month)::int, target, set_by, " DAY(UTC_DAY(
              "set_at")) ", " RFC3339("set_at") ", id "
                                                "FROM milestone_target WHERE job_centre_id = $1 ORDER BY id",
          centre)) {
    MilestoneTargetRecord t;
    t.team_id = row[0].as<int64_t>();
    t.caseworker_id = row[1].as<int64_t>();
    t.metric = row[2].as<std::string>();
    t.month = Month(row[3].as<int>(), row[4].as<int>());
    t.target = row[5].as<double>();
    t.set_by = row[6].as<int64_t>();
    t.known_on = DayOf(row[7]);
    t.set_at = row[8].as<std::string>();
    t.order = row[9].as<int64_t>();
    h.targets.push_back(std::move(t));
  }

  h.dialogues = ReadDialogues(tx, centre, 0);
  h.adjustments = ReadAdjustments(tx, centre);
  h.ReindexSmall();
  return absl::OkStatus();
}

// Inserts `item` after every element not ordered after it by `key` (a later recorded row of an
// equal key goes last, as the full read's ORDER BY puts it).
template <typename T, typename Key>
void InsertInOrder(std::vector<T>& list, T item, Key key) {
  auto at = std::upper_bound(list.begin(), list.end(), key(item),
                             [&](const auto& k, const T& x) { return k < key(x); });
  list.insert(at, std::move(item));
}

// Reads the cases of `selection` with their history, in one query per table. Without `seeds`
// the case rows are read too; with them (copies of known cases, for Selection::NewerThan) only
// the newer history rows are read and added to the seeds.
std::vector<std::shared_ptr<CaseTimeline>> ReadCases(
    pqxx::transaction_base& tx, int64_t centre, const Selection& selection, const CentreHistory& h,
    std::vector<std::shared_ptr<CaseTimeline>> seeds = {}) {
  std::vector<std::shared_ptr<CaseTimeline>> out = std::move(seeds);
  absl::flat_hash_map<int64_t, CaseTimeline*> by_id;
  for (auto& record : out) by_id[record->id] = record.get();
  const auto where = [&](const char* case_column, const char* id_column, auto last) {
    return selection.Where(case_column, id_column, last);
  };
  const auto Exec = [&](pqxx::transaction_base& t, const std::string& sql, int64_t c,
                        const Selection&) { return selection.Exec(t, sql, c); };
  const bool seeded = !out.empty();
  if (!seeded)
    for (
        const auto& row : Exec(
            tx,
            // A case is known from its first assignment's recording (imports record history on
            // its own days; cases.created_at is the import's day).
            "SELECT c.id, c.case_ref, c.case_type, " DAY("c.opened_on") ", " DAY(
                "greatest(c.opened_on, " UTC_DAY(
                    "coalesce(a.first_recorded, c.created_at)") ")") " "
                                                                     "FROM case_read_model.cases c LEFT JOIN (SELECT case_id, min(recorded_at) AS first_recorded "
                                                                     "  FROM case_read_model.assignment WHERE job_centre_id = $1" +
                where("case_id", "id",
                      [](const CaseTimeline::LastIds& l) { return l.assignment; }) +
                "  GROUP BY case_id) a ON a.case_id = c.id "
                "WHERE c.job_centre_id = $1" +
                where("c.id", "c.id", [](const CaseTimeline::LastIds&) { return int64_t{0}; }) +
                " ORDER BY c.id",
            centre, selection)) {
      auto record = std::make_shared<CaseTimeline>();
      record->id = row[0].as<int64_t>();
      record->ref = row[1].as<std::string>();
      record->case_type = h.catalogue.CaseType(row[2].as<std::string>());
      record->opened_on = DayOf(row[3]);
      record->known_on = DayOf(row[4]);
      by_id[record->id] = record.get();
      out.push_back(std::move(record));
    }
  auto find = [&](const pqxx::field& f) -> CaseTimeline* {
    auto it = by_id.find(f.as<int64_t>());
    return it == by_id.end() ? nullptr : it->second;
  };

  for (const auto& row : Exec(
           tx,
           "SELECT case_id, " DAY("from_on") ", " DAY("greatest(from_on, " UTC_DAY(
               "recorded_at") ")") ", caseworker_id, team_id, id, recorded_by "
                                   "FROM case_read_model.assignment WHERE job_centre_id = $1" +
               where("case_id", "id", [](const CaseTimeline::LastIds& l) { return l.assignment; }) +
               " ORDER BY case_id, from_on, recorded_at, id",
           centre, selection)) {
    CaseTimeline* c = find(row[0]);
    if (c == nullptr) continue;
    AssignmentEvent a;
    a.from_on = DayOf(row[1]);
    a.known_on = DayOf(row[2]);
    a.caseworker_id = row[3].as<int64_t>();
    a.team_id = row[4].as<int64_t>();
    a.recorded_by = row[6].as<int64_t>();
    InsertInOrder(c->assignments, a, [](const AssignmentEvent& x) { return x.from_on; });
    c->last_ids.assignment = std::max(c->last_ids.assignment, row[5].as<int64_t>());
  }

  for (
      const auto& row : Exec(
          tx,
          "SELECT case_id, id, " DAY(UTC_DAY(
              "recorded_at")) ", expected_outcome, "
                              "extract(year FROM expected_month)::int, extract(month FROM expected_month)::int, "
                              "risk, agreed_in_dialogue, coalesce(dialogue_id, 0), recorded_by "
                              "FROM case_read_model.expectation WHERE job_centre_id = $1" +
              where("case_id", "id", [](const CaseTimeline::LastIds& l) { return l.expectation; }) +
              " ORDER BY case_id, recorded_at, id",
          centre, selection)) {
    CaseTimeline* c = find(row[0]);
    if (c == nullptr) continue;
    ExpectationEvent e;
    e.id = row[1].as<int64_t>();
    e.recorded_on = DayOf(row[2]);
    e.known_on = e.recorded_on;
    e.outcome = h.catalogue.Outcome(row[3].as<std::string>());
    e.expected_month = Month(row[4].as<int>(), row[5].as<int>());
    e.risk = h.catalogue.Risk(row[6].as<std::string>());
    e.agreed_in_dialogue = row[7].as<bool>();
    e.dialogue_id = row[8].as<int64_t>();
    e.recorded_by = row[9].as<int64_t>();
    c->expectations.push_back(e);  // recorded later than every expectation already read
    c->last_ids.expectation = std::max(c->last_ids.expectation, e.id);
  }

  for (
      const auto& row : Exec(
          tx,
          "SELECT case_id, " DAY("on_date") ", " DAY("greatest(on_date, " UTC_DAY(
              "recorded_at") ")") ", status, "
                                  "coalesce(outcome, ''), id, recorded_by FROM case_read_model.status_change WHERE job_centre_id = $1" +
              where("case_id", "id", [](const CaseTimeline::LastIds& l) { return l.status; }) +
              " ORDER BY case_id, on_date, recorded_at, id",
          centre, selection)) {
    CaseTimeline* c = find(row[0]);
    if (c == nullptr) continue;
    StatusEvent s;
    s.on = DayOf(row[1]);
    s.known_on = DayOf(row[2]);
    s.closed = ParseStatusChange(row[3].as<std::string>()) == StatusChange::kClosed;
    s.outcome = s.closed ? h.catalogue.Outcome(row[4].as<std::string>()) : -1;
    s.recorded_by = row[6].as<int64_t>();
    InsertInOrder(c->statuses, s, [](const StatusEvent& x) { return x.on; });
    c->last_ids.status = std::max(c->last_ids.status, row[5].as<int64_t>());
  }

  absl::flat_hash_map<int64_t, std::pair<CaseTimeline*, size_t>> action_pos;
  for (auto& record : out) {
    for (size_t i = 0; i < record->actions.size(); ++i) {
      action_pos[record->actions[i].id] = {record.get(), i};
    }
  }
  for (
      const auto& row : Exec(
          tx,
          "SELECT a.case_id, a.id, " DAY(UTC_DAY("a.created_at")) ", " DAY(
              "coalesce(f.previous_due_on, a.due_on)") ", a.agreed_in_dialogue FROM case_read_model.action a "
                                                       "LEFT JOIN (SELECT DISTINCT ON (action_id) action_id, previous_due_on "
                                                       "  FROM case_read_model.action_follow_up WHERE job_centre_id = $1" +
              where("case_id", "id", [](const CaseTimeline::LastIds& l) { return l.follow_up; }) +
              "  ORDER BY action_id, recorded_at, id) f ON f.action_id = a.id "
              "WHERE a.job_centre_id = $1" +
              where("a.case_id", "a.id", [](const CaseTimeline::LastIds& l) { return l.action; }) +
              " ORDER BY a.case_id, a.id",
          centre, selection)) {
    CaseTimeline* c = find(row[0]);
    if (c == nullptr) continue;
    ActionRecord a;
    a.id = row[1].as<int64_t>();
    a.known_on = DayOf(row[2]);
    a.first_due = DayOf(row[3]);
    a.agreed_in_dialogue = row[4].as<bool>();
    action_pos[a.id] = {c, c->actions.size()};
    c->last_ids.action = std::max(c->last_ids.action, a.id);
    c->actions.push_back(std::move(a));
  }
  for (
      const auto& row : Exec(
          tx,
          "SELECT action_id, " DAY(UTC_DAY("recorded_at")) ", result, " DAY(
              "coalesce(postponed_to, previous_due_on)") ", id FROM case_read_model.action_follow_up "
                                                         "WHERE job_centre_id = $1" +
              where("case_id", "id", [](const CaseTimeline::LastIds& l) { return l.follow_up; }) +
              " ORDER BY action_id, recorded_at, id",
          centre, selection)) {
    auto it = action_pos.find(row[0].as<int64_t>());
    if (it == action_pos.end()) continue;
    CaseTimeline::LastIds& last = it->second.first->last_ids;
    last.follow_up = std::max(last.follow_up, row[4].as<int64_t>());
    FollowUpEvent f;
    f.known_on = DayOf(row[1]);
    f.result = ParseFollowUpResult(row[2].as<std::string>()).value_or(v1::FOLLOW_UP_DONE);
    f.postponed_to = DayOf(row[3]);
    it->second.first->actions[it->second.second].follow_ups.push_back(f);
  }

  for (
      const auto& row : Exec(
          tx,
          "SELECT case_id, " DAY("effective_on") ", " DAY("greatest(effective_on, " UTC_DAY(
              "recorded_at") ")") ", field_code, "
                                  "coalesce(jsonb_typeof(value), 'null'), coalesce(value #>> '{}', ''), id "
                                  "FROM case_read_model.field_change WHERE job_centre_id = $1" +
              where("case_id", "id", [](const CaseTimeline::LastIds& l) { return l.field; }) +
              " ORDER BY case_id, effective_on, recorded_at, id",
          centre, selection)) {
    CaseTimeline* c = find(row[0]);
    if (c == nullptr) continue;
    c->last_ids.field = std::max(c->last_ids.field, row[6].as<int64_t>());
    auto field = h.field_index.find(row[3].as<std::string>());
    if (field == h.field_index.end()) continue;  // a field the centre no longer defines
    FieldEvent f;
    f.effective_on = DayOf(row[1]);
    f.known_on = DayOf(row[2]);
    f.field = field->second;
    const std::string type = row[4].as<std::string>();
    const std::string text = row[5].as<std::string>();
    if (type == "boolean") {
      f.value.present = true;
      f.value.bool_value = text == "true";
    } else if (type == "number") {
      f.value.present = true;
      f.value.number_value = std::strtod(text.c_str(), nullptr);
    } else if (type == "string") {
      f.value.present = true;
      f.value.text = text;
    }
    InsertInOrder(c->fields, std::move(f), [](const FieldEvent& x) { return x.effective_on; });
  }
  return out;
}

std::string ArrayLiteral(const std::vector<int64_t>& ids) {
  return absl::StrCat("{", absl::StrJoin(ids, ","), "}");
}

}  // namespace

absl::StatusOr<int64_t> PgHistoryStore::FindCentre(const std::string& code) {
  return RunReadTransaction<int64_t>(
      pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::StatusOr<int64_t> {
        pqxx::result r =
            tx.exec_params("SELECT id FROM case_read_model.job_centre WHERE code = $1", code);
        if (r.empty()) return absl::NotFoundError(absl::StrCat("job centre ", code, " not found"));
        return r[0][0].as<int64_t>();
      });
}

absl::StatusOr<std::vector<int64_t>> PgHistoryStore::ListCentres() {
  return RunReadTransaction<std::vector<int64_t>>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<std::vector<int64_t>> {
        std::vector<int64_t> ids;
        for (const auto& row : tx.exec("SELECT id FROM case_read_model.job_centre ORDER BY id")) {
          ids.push_back(row[0].as<int64_t>());
        }
        return ids;
      });
}

absl::StatusOr<std::shared_ptr<const CentreHistory>> PgHistoryStore::Load(int64_t centre_id) {
  using Result = std::shared_ptr<const CentreHistory>;
  return RunReadTransaction<Result>(
      pool_, Isolation::kRepeatableRead, [&](pqxx::transaction_base& tx) -> absl::StatusOr<Result> {
        auto h = std::make_shared<CentreHistory>();
        absl::Status small = ReadSmallTables(tx, centre_id, *h);
        if (!small.ok()) return small;
        for (auto& record : ReadCases(tx, centre_id, Selection::Centre(), *h)) {
          h->cases.push_back(std::move(record));
        }
        h->ReindexCases();
        return Result(std::move(h));
      });
}

absl::StatusOr<MissedCases> PgHistoryStore::CasesChangedAfter(int64_t centre_id,
                                                              const ChangeMark& mark) {
  return RunReadTransaction<MissedCases>(
      pool_, Isolation::kRepeatableRead,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<MissedCases> {
        // A row's xmin is the 32-bit transaction id: it is at or above the 64-bit floor when its
        // distance from the floor (modulo 2^32) is below the distance from the floor to the next
        // transaction id. Transaction ids continue across a failover (physical replication).
        pqxx::result rows = tx.exec_params(
            "WITH next AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xid) "
            "SELECT DISTINCT e.case_id FROM case_read_model.case_event e, next "
            "WHERE e.job_centre_id = $1 AND (e.id > $2 OR "
            "  (e.written_xid::text::bigint - ($3::bigint % 4294967296) + 4294967296) % 4294967296 "
            "    < least(next.xid - $3::bigint, 4294967295))",
            centre_id, mark.event_id, mark.xid_floor);
        MissedCases missed;
        missed.case_ids.reserve(rows.size());
        for (const auto& row : rows) missed.case_ids.push_back(row[0].as<int64_t>());
        missed.last_event_id =
            tx.exec_params1(
                  "SELECT coalesce(max(id), 0) FROM case_read_model.case_event WHERE job_centre_id = $1",
                  centre_id)[0]
                .as<int64_t>();
        return missed;
      });
}

absl::StatusOr<std::shared_ptr<const CentreHistory>> PgHistoryStore::Refresh(
    const CentreHistory& base, const std::vector<int64_t>& case_ids, bool small_tables) {
  using Result = std::shared_ptr<const CentreHistory>;
  // Known cases get only their newer rows, added to copies of their records; new cases are
  // read whole.
  std::vector<int64_t> new_ids;
  std::vector<const CaseTimeline*> known;
  for (int64_t id : case_ids) {
    const CaseTimeline* record = base.CaseById(id);
    if (record == nullptr) {
      new_ids.push_back(id);
    } else {
      known.push_back(record);
    }
  }
  return RunReadTransaction<Result>(
      pool_, Isolation::kRepeatableRead, [&](pqxx::transaction_base& tx) -> absl::StatusOr<Result> {
        auto h = std::make_shared<CentreHistory>();
        if (small_tables) {
          h->cases = base.cases;
          h->case_index = base.case_index;
          absl::Status small = ReadSmallTables(tx, base.centre_id, *h);
          if (!small.ok()) return small;
        } else {
          *h = base;  // shares the case records; copies the small tables
        }
        std::vector<std::shared_ptr<CaseTimeline>> read;
        if (!known.empty()) {
          // Fresh copies on every attempt (a serialization failure runs this again).
          std::vector<std::shared_ptr<CaseTimeline>> copies;
          for (const CaseTimeline* record : known)
            copies.push_back(std::make_shared<CaseTimeline>(*record));
          read = ReadCases(tx, base.centre_id, Selection::NewerThan(known), *h, std::move(copies));
        }
        if (!new_ids.empty()) {
          for (auto& record : ReadCases(tx, base.centre_id, Selection::Cases(new_ids), *h)) {
            read.push_back(std::move(record));
          }
        }
        bool added = false;
        for (auto& record : read) {
          const int pos = h->CasePosition(record->id);
          if (pos >= 0) {
            h->cases[pos] = std::move(record);  // same id, same ref: the index still holds
          } else {
            h->cases.push_back(std::move(record));
            added = true;
          }
        }
        if (added) h->ReindexCases();
        return Result(std::move(h));
      });
}

absl::StatusOr<MilestoneTargetRecord> PgHistoryStore::AddTarget(const NewMilestoneTarget& t) {
  return RunTransaction<MilestoneTargetRecord>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<MilestoneTargetRecord> {
        if (tx.exec_params(
                  "SELECT 1 FROM case_read_model.milestone_metric WHERE job_centre_id = $1 AND code = $2 "
                  "AND active",
                  t.centre_id, t.metric)
                .empty()) {
          return absl::NotFoundError(
              absl::StrCat("target.metric: \"", t.metric, "\" is not a metric of this job centre"));
        }
        const std::string month = absl::StrCat(t.month.year(), "-", t.month.month() < 10 ? "0" : "",
                                               t.month.month(), "-01");
        pqxx::result r = tx.exec_params(
            "INSERT INTO milestone_target (job_centre_id, team_id, caseworker_id, metric_code, "
            "month, target, set_by) VALUES ($1, $2, nullif($3, 0::bigint), $4, $5::date, $6, $7) "
            "RETURNING " DAY(UTC_DAY("set_at")) ", " RFC3339("set_at") ", id",
            t.centre_id, t.team_id, t.caseworker_id, t.metric, month, t.target, t.set_by);
        MilestoneTargetRecord out;
        out.team_id = t.team_id;
        out.caseworker_id = t.caseworker_id;
        out.metric = t.metric;
        out.month = t.month;
        out.target = t.target;
        out.set_by = t.set_by;
        out.known_on = DayOf(r[0][0]);
        out.set_at = r[0][1].as<std::string>();
        out.order = r[0][2].as<int64_t>();
        return out;
      });
}

absl::StatusOr<AdjustmentRecord> PgHistoryStore::AddAdjustment(const NewAdjustment& a) {
  return RunTransaction<AdjustmentRecord>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<AdjustmentRecord> {
        const std::string month = absl::StrCat(a.month.year(), "-", a.month.month() < 10 ? "0" : "",
                                               a.month.month(), "-01");
        // One writer at a time per team, month and outcome (and per key: a retry waits for the
        // first attempt's commit and then finds its row).
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                       absl::StrCat("forecast_adjustment:", a.centre_id, ":", a.team_id, ":", month,
                                    ":", a.outcome));
        tx.exec_params(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            absl::StrCat("forecast_adjustment_key:", a.centre_id, ":", a.idempotency_key));
        pqxx::result prior =
            tx.exec_params(absl::StrCat("SELECT ", kAdjustmentColumns,
                                        " FROM forecast_adjustment WHERE job_centre_id = $1 "
                                        "AND idempotency_key = $2"),
                           a.centre_id, a.idempotency_key);
        if (!prior.empty()) {
          AdjustmentRecord stored = AdjustmentOf(prior[0]);
          if (stored.team_id != a.team_id || stored.month != a.month ||
              stored.outcome != a.outcome) {
            return ReasonedError(absl::StatusCode::kAlreadyExists, "IDEMPOTENCY_KEY_REUSED",
                                 "already used for another adjustment", {}, "idempotency_key");
          }
          return stored;
        }
        pqxx::result latest = tx.exec_params(
            "SELECT version, figure FROM forecast_adjustment WHERE job_centre_id = $1 "
            "AND team_id = $2 AND month = $3::date AND outcome = $4 ORDER BY version DESC LIMIT 1",
            a.centre_id, a.team_id, month, a.outcome);
        const int version = latest.empty() ? 0 : latest[0][0].as<int>();
        std::optional<double> previous;
        if (!latest.empty() && !latest[0][1].is_null()) previous = latest[0][1].as<double>();
        if (version != a.base_version) {
          return ReasonedError(
              absl::StatusCode::kAborted, "ADJUSTMENT_CHANGED",
              absl::StrCat("the adjustment is at version ", version,
                           ", the edit was based on version ", a.base_version),
              {{"version", absl::StrCat(version)}, {"base_version", absl::StrCat(a.base_version)}},
              "base_version");
        }
        if (!a.figure && !previous) {
          return ReasonedError(absl::StatusCode::kFailedPrecondition, "NOTHING_TO_CLEAR",
                               "no adjustment is in force to clear", {}, "clear");
        }
        pqxx::result r = tx.exec_params(
            absl::StrCat("INSERT INTO forecast_adjustment (job_centre_id, team_id, month, outcome, "
                         "version, figure, previous_figure, reason, idempotency_key, set_by) "
                         "VALUES ($1, $2, $3::date, $4, $5, CASE WHEN $11 THEN $6::float8 END, "
                         "CASE WHEN $12 THEN $7::float8 END, $8, $9, $10) RETURNING ",
                         kAdjustmentColumns),
            a.centre_id, a.team_id, month, a.outcome, version + 1, a.figure.value_or(0),
            previous.value_or(0), a.reason, a.idempotency_key, a.set_by, a.figure.has_value(),
            previous.has_value());
        return AdjustmentOf(r[0]);
      });
}

absl::StatusOr<DialogueRecord> PgHistoryStore::AddDialogue(const NewDialogue& d) {
  return RunTransaction<DialogueRecord>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<DialogueRecord> {
        const long held = static_cast<long>(d.held_on - kEpoch);
        if (!d.idempotency_key.empty()) {
          pqxx::result prior = tx.exec_params(
              "SELECT id, caseworker_id, " DAY("held_on") " FROM dialogue "
              "WHERE job_centre_id = $1 AND idempotency_key = $2", d.centre_id, d.idempotency_key);
          if (!prior.empty()) {
            if (prior[0][1].as<int64_t>() != d.caseworker_id || prior[0][2].as<long>() != held) {
              return absl::AlreadyExistsError("idempotency_key: already used for another dialogue");
            }
            return StoredDialogue(tx, d.centre_id, prior[0][0].as<int64_t>());
          }
        }
        pqxx::result r = tx.exec_params(
            "INSERT INTO dialogue (job_centre_id, team_id, team_leader_id, caseworker_id, held_on, "
            "notes_status, notes_knowledge, notes_learning, notes_adjustment, idempotency_key, "
            "state, version, finalised_at, finalised_by) "
            "VALUES ($1, $2, $3, $4, DATE '1970-01-01' + $5::int, $6, $7, $8, $9, nullif($10, ''), "
            "'FINAL', 1, now(), $3) RETURNING id",
            d.centre_id, d.team_id, d.team_leader_id, d.caseworker_id, held, d.status, d.knowledge,
            d.learning, d.adjustment, d.idempotency_key);
        const int64_t id = r[0][0].as<int64_t>();
        tx.exec_params(
            "INSERT INTO dialogue_notes_version (dialogue_id, version, job_centre_id, held_on, "
            "notes_status, notes_knowledge, notes_learning, notes_adjustment, recorded_by) "
            "VALUES ($1, 1, $2, DATE '1970-01-01' + $3::int, $4, $5, $6, $7, $8)",
            id, d.centre_id, held, d.status, d.knowledge, d.learning, d.adjustment,
            d.team_leader_id);
        if (!d.case_ids.empty()) {
          tx.exec_params(
              "INSERT INTO dialogue_case (dialogue_id, case_id) "
              "SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
              id, ArrayLiteral(d.case_ids));
        }
        return StoredDialogue(tx, d.centre_id, id);
      });
}

absl::StatusOr<DialogueRecord> PgHistoryStore::OpenDialogue(const NewDialogue& d) {
  return RunTransaction<DialogueRecord>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<DialogueRecord> {
        const long held = static_cast<long>(d.held_on - kEpoch);
        // The partial unique index keeps one draft per caseworker; a concurrent open waits for
        // the other's commit and then finds its draft.
        tx.exec_params(
            "INSERT INTO dialogue (job_centre_id, team_id, team_leader_id, caseworker_id, held_on, "
            "state, version) VALUES ($1, $2, $3, $4, DATE '1970-01-01' + $5::int, 'DRAFT', 0) "
            "ON CONFLICT (job_centre_id, caseworker_id) WHERE state = 'DRAFT' DO NOTHING",
            d.centre_id, d.team_id, d.team_leader_id, d.caseworker_id, held);
        pqxx::result r = tx.exec_params(
            "SELECT id FROM dialogue WHERE job_centre_id = $1 AND caseworker_id = $2 "
            "AND state = 'DRAFT'",
            d.centre_id, d.caseworker_id);
        if (r.empty()) return absl::AbortedError("dialogue: the draft was finalised meanwhile");
        return StoredDialogue(tx, d.centre_id, r[0][0].as<int64_t>());
      });
}

namespace {

// The dialogue's state and version, locked for the transaction; NOT_FOUND when the centre has
// no such dialogue.
absl::StatusOr<std::pair<bool, int>> LockDialogue(pqxx::transaction_base& tx, int64_t centre,
                                                  int64_t id) {
  pqxx::result r = tx.exec_params(
      "SELECT state, version FROM dialogue WHERE job_centre_id = $1 AND id = $2 FOR UPDATE", centre,
      id);
  if (r.empty()) {
    return ReasonedError(absl::StatusCode::kNotFound, "DIALOGUE_NOT_FOUND",
                         absl::StrCat("dialogue ", id, " not found"), {{"value", absl::StrCat(id)}},
                         "id");
  }
  return std::make_pair(ParseDialogueState(r[0][0].as<std::string>()) == DialogueState::kFinal,
                        r[0][1].as<int>());
}

absl::Status DialogueStale(int version, int base_version) {
  return ReasonedError(
      absl::StatusCode::kAborted, "DIALOGUE_CHANGED",
      absl::StrCat("the dialogue is at version ", version, ", the edit was based on version ",
                   base_version),
      {{"version", absl::StrCat(version)}, {"base_version", absl::StrCat(base_version)}},
      "base_version");
}

}  // namespace

absl::StatusOr<DialogueRecord> PgHistoryStore::SaveDialogueNotes(const DialogueNotesEdit& e) {
  return RunTransaction<DialogueRecord>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<DialogueRecord> {
        pqxx::result prior = tx.exec_params(
            "SELECT dialogue_id, version FROM dialogue_notes_version "
            "WHERE job_centre_id = $1 AND idempotency_key = $2",
            e.centre_id, e.idempotency_key);
        if (!prior.empty()) {
          if (prior[0][0].as<int64_t>() != e.dialogue_id) {
            return ReasonedError(absl::StatusCode::kAlreadyExists, "IDEMPOTENCY_KEY_REUSED",
                                 "idempotency_key: already used for another dialogue", {},
                                 "idempotency_key");
          }
          return StoredDialogue(tx, e.centre_id, e.dialogue_id);
        }
        auto locked = LockDialogue(tx, e.centre_id, e.dialogue_id);
        if (!locked.ok()) return locked.status();
        const auto [is_final, version] = *locked;
        if (is_final) {
          return ReasonedError(
              absl::StatusCode::kFailedPrecondition, "DIALOGUE_FINAL",
              absl::StrCat("dialogue ", e.dialogue_id, " is finalised and can no longer be edited"),
              {}, "id");
        }
        if (version != e.base_version) return DialogueStale(version, e.base_version);
        const int next = version + 1;
        const long held = e.held_on ? static_cast<long>(*e.held_on - kEpoch) : -1;
        pqxx::result r = tx.exec_params(
            "UPDATE dialogue SET version = $3, notes_status = $4, notes_knowledge = $5, "
            "notes_learning = $6, notes_adjustment = $7, "
            "held_on = CASE WHEN $8::int < 0 THEN held_on ELSE DATE '1970-01-01' + $8::int END "
            "WHERE job_centre_id = $1 AND id = $2 RETURNING " DAY("held_on"),
            e.centre_id, e.dialogue_id, next, e.status, e.knowledge, e.learning, e.adjustment,
            held);
        tx.exec_params(
            "INSERT INTO dialogue_notes_version (dialogue_id, version, job_centre_id, held_on, "
            "notes_status, notes_knowledge, notes_learning, notes_adjustment, idempotency_key, "
            "recorded_by) VALUES ($1, $2, $3, DATE '1970-01-01' + $4::int, $5, $6, $7, $8, $9, $10)",
            e.dialogue_id, next, e.centre_id, r[0][0].as<long>(), e.status, e.knowledge, e.learning,
            e.adjustment, e.idempotency_key, e.recorded_by);
        if (!e.case_ids.empty()) {
          tx.exec_params(
              "INSERT INTO dialogue_case (dialogue_id, case_id) "
              "SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
              e.dialogue_id, ArrayLiteral(e.case_ids));
          // A case taken off earlier and named again is back on the list.
          tx.exec_params(
              "INSERT INTO dialogue_case_edit (job_centre_id, dialogue_id, case_id, version, "
              "removed, recorded_by) SELECT $1, $2, c, $3, false, $4 FROM unnest($5::bigint[]) c "
              "WHERE (SELECT x.removed FROM dialogue_case_edit x WHERE x.dialogue_id = $2 "
              "AND x.case_id = c ORDER BY x.id DESC LIMIT 1)",
              e.centre_id, e.dialogue_id, next, e.recorded_by, ArrayLiteral(e.case_ids));
        }
        if (!e.removed_case_ids.empty()) {
          // Off the discussed list, and the agreements recorded in the dialogue so far no longer
          // count (the dialogue row is locked, so none is added meanwhile: agreements hold it
          // FOR SHARE, migration 0070).
          tx.exec_params(
              "INSERT INTO dialogue_case_edit (job_centre_id, dialogue_id, case_id, version, "
              "removed, up_to_expectation, recorded_by) "
              "SELECT $1, $2, c, $3, true, coalesce((SELECT max(x.id) FROM case_read_model.expectation x "
              "WHERE x.case_id = c AND x.dialogue_id = $2), 0), $4 FROM unnest($5::bigint[]) c",
              e.centre_id, e.dialogue_id, next, e.recorded_by, ArrayLiteral(e.removed_case_ids));
        }
        return StoredDialogue(tx, e.centre_id, e.dialogue_id);
      });
}

absl::StatusOr<DialogueRecord> PgHistoryStore::FinaliseDialogue(int64_t centre_id,
                                                                int64_t dialogue_id,
                                                                int base_version,
                                                                int64_t finalised_by) {
  return RunTransaction<DialogueRecord>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<DialogueRecord> {
        auto locked = LockDialogue(tx, centre_id, dialogue_id);
        if (!locked.ok()) return locked.status();
        const auto [is_final, version] = *locked;
        if (version != base_version) return DialogueStale(version, base_version);
        if (!is_final) {  // else a retry: nothing changes
          tx.exec_params(
              "UPDATE dialogue SET state = 'FINAL', finalised_at = now(), finalised_by = $3 "
              "WHERE job_centre_id = $1 AND id = $2",
              centre_id, dialogue_id, finalised_by);
        }
        return StoredDialogue(tx, centre_id, dialogue_id);
      });
}

}  // namespace forecast::fsvc
