#include "services/forecast/centre_history.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace forecast::fsvc {
namespace {

const std::string kEmpty;

int Find(const absl::flat_hash_map<std::string, int>& index, const std::string& code) {
  auto it = index.find(code);
  return it == index.end() ? -1 : it->second;
}

}  // namespace

int Catalogue::CaseType(const std::string& code) const { return Find(case_type_index, code); }
int Catalogue::Outcome(const std::string& code) const { return Find(outcome_index, code); }
int Catalogue::Risk(const std::string& code) const { return Find(risk_index, code); }

const std::string& Catalogue::OutcomeCode(int index) const {
  return index < 0 || index >= static_cast<int>(outcomes.size()) ? kEmpty : outcomes[index];
}

const std::string& Catalogue::RiskCode(int index) const {
  return index < 0 || index >= static_cast<int>(risks.size()) ? kEmpty : risks[index];
}

int Catalogue::HighestRisk() const {
  int best = -1;
  for (int r = 0; r < static_cast<int>(risks.size()); ++r) {
    if (best < 0 || risk_probability[r] < risk_probability[best]) best = r;
  }
  return best;
}

bool FieldValue::IsSet(FieldType type) const {
  if (!present) return false;
  return type == FieldType::kBool ? bool_value : true;
}

const char* MetricKindName(MetricKind kind) {
  switch (kind) {
    case MetricKind::kClosures: return "CLOSURES";
    case MetricKind::kFieldTurnedTrue: return "FIELD_TURNED_TRUE";
    case MetricKind::kFieldSet: return "FIELD_SET";
    case MetricKind::kCaseload: return "CASELOAD";
  }
  return "";
}

void CentreHistory::ReindexSmall() {
  catalogue.case_type_index.clear();
  catalogue.outcome_index.clear();
  catalogue.risk_index.clear();
  for (size_t i = 0; i < catalogue.case_types.size(); ++i) {
    catalogue.case_type_index[catalogue.case_types[i]] = static_cast<int>(i);
  }
  for (size_t i = 0; i < catalogue.outcomes.size(); ++i) {
    catalogue.outcome_index[catalogue.outcomes[i]] = static_cast<int>(i);
  }
  for (size_t i = 0; i < catalogue.risks.size(); ++i) {
    catalogue.risk_index[catalogue.risks[i]] = static_cast<int>(i);
  }
  field_index.clear();
  for (size_t i = 0; i < fields.size(); ++i) field_index[fields[i].code] = static_cast<int>(i);
  unit_index.clear();
  unit_by_code.clear();
  for (size_t i = 0; i < units.size(); ++i) {
    unit_index[units[i].id] = static_cast<int>(i);
    unit_by_code[units[i].code] = units[i].id;
  }
  staff_index.clear();
  staff_by_code.clear();
  for (size_t i = 0; i < staff.size(); ++i) {
    staff_index[staff[i].id] = static_cast<int>(i);
    staff_by_code[staff[i].code] = staff[i].id;
  }
}

void CentreHistory::PutDialogue(DialogueRecord dialogue) {
  dialogues.erase(std::remove_if(dialogues.begin(), dialogues.end(),
                                 [&](const DialogueRecord& d) { return d.id == dialogue.id; }),
                  dialogues.end());
  auto at = std::upper_bound(dialogues.begin(), dialogues.end(), dialogue,
                             [](const DialogueRecord& a, const DialogueRecord& b) {
                               return std::tie(a.held_on, a.id) < std::tie(b.held_on, b.id);
                             });
  dialogues.insert(at, std::move(dialogue));
}

void CentreHistory::PutTarget(MilestoneTargetRecord target) {
  for (const MilestoneTargetRecord& t : targets) {
    if (t.order == target.order) return;  // already read
  }
  auto at = std::upper_bound(targets.begin(), targets.end(), target,
                             [](const MilestoneTargetRecord& a, const MilestoneTargetRecord& b) {
                               return a.order < b.order;
                             });
  targets.insert(at, std::move(target));
}

void CentreHistory::PutAdjustment(AdjustmentRecord adjustment) {
  auto at = std::lower_bound(adjustments.begin(), adjustments.end(), adjustment.id,
                             [](const AdjustmentRecord& a, int64_t id) { return a.id < id; });
  if (at != adjustments.end() && at->id == adjustment.id) return;  // already read
  adjustments.insert(at, std::move(adjustment));
}

void CentreHistory::ReindexCases() {
  auto index = std::make_shared<CaseIndex>();
  index->by_id.reserve(cases.size());
  index->by_ref.reserve(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    index->by_id[cases[i]->id] = static_cast<int>(i);
    index->by_ref[cases[i]->ref] = cases[i]->id;
  }
  case_index = std::move(index);
}

int CentreHistory::CasePosition(int64_t id) const {
  auto it = case_index->by_id.find(id);
  return it == case_index->by_id.end() ? -1 : it->second;
}

const OrgUnit* CentreHistory::Unit(int64_t id) const {
  auto it = unit_index.find(id);
  return it == unit_index.end() ? nullptr : &units[it->second];
}

const StaffMember* CentreHistory::Staff(int64_t id) const {
  auto it = staff_index.find(id);
  return it == staff_index.end() ? nullptr : &staff[it->second];
}

const OrgUnit* CentreHistory::UnitByCode(const std::string& code) const {
  auto it = unit_by_code.find(code);
  return it == unit_by_code.end() ? nullptr : Unit(it->second);
}

const StaffMember* CentreHistory::StaffByCode(const std::string& code) const {
  auto it = staff_by_code.find(code);
  return it == staff_by_code.end() ? nullptr : Staff(it->second);
}

const CaseTimeline* CentreHistory::CaseById(int64_t id) const {
  const int pos = CasePosition(id);
  return pos < 0 ? nullptr : cases[pos].get();
}

const CaseTimeline* CentreHistory::CaseByRef(const std::string& ref) const {
  auto it = case_index->by_ref.find(ref);
  return it == case_index->by_ref.end() ? nullptr : CaseById(it->second);
}

const MilestoneMetricDef* CentreHistory::Metric(const std::string& code) const {
  for (const MilestoneMetricDef& m : metrics) {
    if (m.code == code) return &m;
  }
  return nullptr;
}

const std::string& CentreHistory::StaffCode(int64_t id) const {
  const StaffMember* s = Staff(id);
  return s == nullptr ? kEmpty : s->code;
}

const std::string& CentreHistory::UnitCode(int64_t id) const {
  const OrgUnit* u = Unit(id);
  return u == nullptr ? kEmpty : u->code;
}

}  // namespace forecast::fsvc
