#include "services/forecast/dialogues.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "services/common/calendar.h"
#include "services/common/codes.h"

namespace forecast::fsvc {
namespace {

constexpr const char* kKinds[] = {
    "NEW",           "CLOSED",          "REASSIGNED_IN", "REASSIGNED_OUT", "MOVED_LATER",
    "MOVED_EARLIER", "OUTCOME_CHANGED", "RISK_UP",       "RISK_DOWN",      "FIRST_EXPECTATION"};

int KindRank(const std::string& kind) {
  for (size_t i = 0; i < std::size(kKinds); ++i) {
    if (kind == kKinds[i]) return static_cast<int>(i);
  }
  return static_cast<int>(std::size(kKinds));
}

// Whether anything about the case became effective or known after `since`.
bool TouchedAfter(const CaseTimeline& r, Day since) {
  if (r.known_on > since || r.opened_on > since) return true;
  for (const auto& a : r.assignments)
    if (a.known_on > since) return true;
  for (const auto& e : r.expectations)
    if (e.known_on > since) return true;
  for (const auto& s : r.statuses)
    if (s.known_on > since) return true;
  return false;
}

}  // namespace

v1::Changes DetectChanges(const CentreHistory& history, const ScopeFilter& scope, Day since,
                          const ViewDays& until) {
  const ViewDays before_view{since, std::min(since, until.cutoff)};
  const Catalogue& cat = history.catalogue;
  std::vector<v1::CaseChange> changes;
  auto add = [&](const CaseTimeline& r, const char* kind, std::string before, std::string after,
                 int64_t caseworker) {
    v1::CaseChange c;
    c.set_case_ref(r.ref);
    c.set_kind(kind);
    c.set_before(std::move(before));
    c.set_after(std::move(after));
    c.set_caseworker(history.StaffCode(caseworker));
    changes.push_back(std::move(c));
  };
  for (const auto& ptr : history.cases) {
    const CaseTimeline& r = *ptr;
    if (!TouchedAfter(r, since)) continue;
    const CaseState after = StateOf(r, 0, until);
    if (after.record == nullptr) continue;
    const CaseState before = StateOf(r, 0, before_view);
    const bool existed = before.record != nullptr;
    const bool in_before =
        existed && before.open && scope.Covers(history, before.caseworker_id, before.team_id);
    const bool in_after = scope.Covers(history, after.caseworker_id, after.team_id);
    if (!existed) {
      if (in_after)
        add(r, "NEW", "",
            cat.case_types.empty() || r.case_type < 0 ? "" : cat.case_types[r.case_type],
            after.caseworker_id);
      continue;
    }
    if (!before.open) continue;  // closed before: a reopening is not one of the tracked kinds
    if (in_before && !after.open) {
      add(r, "CLOSED", "", cat.OutcomeCode(after.closure_outcome), before.caseworker_id);
      continue;
    }
    if (!after.open) continue;
    if (in_before && !in_after) {
      add(r, "REASSIGNED_OUT", history.StaffCode(before.caseworker_id),
          history.StaffCode(after.caseworker_id), before.caseworker_id);
      continue;
    }
    if (!in_before && in_after) {
      add(r, "REASSIGNED_IN", history.StaffCode(before.caseworker_id),
          history.StaffCode(after.caseworker_id), after.caseworker_id);
    }
    if (!in_after) continue;
    const ExpectationEvent* e0 = before.expectation;
    const ExpectationEvent* e1 = after.expectation;
    if (e1 == nullptr || e0 == e1) continue;
    if (e0 == nullptr) {
      add(r, "FIRST_EXPECTATION", "",
          cat.OutcomeCode(e1->outcome) + " " + FormatMonth(e1->expected_month) + " " +
              cat.RiskCode(e1->risk),
          after.caseworker_id);
      continue;
    }
    if (e1->expected_month > e0->expected_month) {
      add(r, "MOVED_LATER", FormatMonth(e0->expected_month), FormatMonth(e1->expected_month),
          after.caseworker_id);
    } else if (e1->expected_month < e0->expected_month) {
      add(r, "MOVED_EARLIER", FormatMonth(e0->expected_month), FormatMonth(e1->expected_month),
          after.caseworker_id);
    }
    if (e1->outcome != e0->outcome) {
      add(r, "OUTCOME_CHANGED", cat.OutcomeCode(e0->outcome), cat.OutcomeCode(e1->outcome),
          after.caseworker_id);
    }
    if (e0->risk >= 0 && e1->risk >= 0 && e0->risk != e1->risk) {
      const double p0 = cat.risk_probability[e0->risk], p1 = cat.risk_probability[e1->risk];
      if (p1 < p0) {
        add(r, "RISK_UP", cat.RiskCode(e0->risk), cat.RiskCode(e1->risk), after.caseworker_id);
      } else if (p1 > p0) {
        add(r, "RISK_DOWN", cat.RiskCode(e0->risk), cat.RiskCode(e1->risk), after.caseworker_id);
      }
    }
  }
  std::sort(changes.begin(), changes.end(), [](const v1::CaseChange& a, const v1::CaseChange& b) {
    const int ka = KindRank(a.kind()), kb = KindRank(b.kind());
    if (ka != kb) return ka < kb;
    return a.case_ref() < b.case_ref();
  });
  v1::Changes out;
  out.set_since(FormatDay(since));
  out.set_until(FormatDay(until.today));
  std::map<int, int64_t> counts;
  for (const v1::CaseChange& c : changes) ++counts[KindRank(c.kind())];
  for (const auto& [rank, count] : counts) {
    v1::Count* c = out.add_counts();
    c->set_key(kKinds[rank]);
    c->set_count(count);
  }
  for (v1::CaseChange& c : changes) *out.add_changes() = std::move(c);
  return out;
}

std::optional<Day> LastDialogueOn(const CentreHistory& history, const ViewDays& view,
                                  int64_t caseworker_id, int64_t team_id) {
  std::optional<Day> last;
  for (const DialogueRecord& d : history.dialogues) {
    if (!d.final || !view.Sees(d.held_on, d.known_on)) continue;
    if (caseworker_id != 0 ? d.caseworker_id != caseworker_id : d.team_id != team_id) continue;
    if (!last || d.held_on > *last) last = d.held_on;
  }
  return last;
}

const DialogueRecord* LastFinalDialogue(const CentreHistory& history, const ViewDays& view,
                                        int64_t caseworker_id) {
  const DialogueRecord* last = nullptr;
  for (const DialogueRecord& d : history.dialogues) {
    if (!d.final || !view.Sees(d.held_on, d.known_on) || d.caseworker_id != caseworker_id) continue;
    if (last == nullptr || d.held_on > last->held_on ||
        (d.held_on == last->held_on && d.id > last->id)) {
      last = &d;
    }
  }
  return last;
}

namespace {

// Worst first: the one the follow-up should talk about.
int ActionRank(const std::string& s) {
  static const char* const kOrder[] = {"NOT_DONE", "OVERDUE", "POSTPONED", "OPEN", "DONE"};
  for (size_t i = 0; i < std::size(kOrder); ++i) {
    if (s == kOrder[i]) return static_cast<int>(i);
  }
  return static_cast<int>(std::size(kOrder));
}

std::string ActionState(const ActionRecord& a, const ViewDays& view) {
  const FollowUpEvent* last = nullptr;
  for (const FollowUpEvent& f : a.follow_ups) {
    if (view.Knows(f.known_on) && f.known_on <= view.today) last = &f;
  }
  if (last == nullptr) return a.first_due < view.today ? "OVERDUE" : "OPEN";
  if (last->result == v1::FOLLOW_UP_DONE) return "DONE";
  if (last->result == v1::FOLLOW_UP_NOT_DONE) return "NOT_DONE";
  return last->postponed_to < view.today ? "OVERDUE" : "POSTPONED";
}

}  // namespace

std::vector<v1::AgreementFollowUp> FollowUpAgreements(const CentreHistory& history,
                                                      const ViewDays& view,
                                                      const DialogueRecord& d) {
  const Catalogue& cat = history.catalogue;
  const Day agreed_until = d.final ? d.finalised_on : kEndOfTime;
  std::vector<v1::AgreementFollowUp> out;
  for (const auto& ptr : history.cases) {
    const CaseTimeline& r = *ptr;
    const ExpectationEvent* agreed = nullptr;
    for (const ExpectationEvent& e : r.expectations) {
      if (e.agreed_in_dialogue && e.dialogue_id == d.id && view.Knows(e.known_on) &&
          d.Counts(r.id, e.id)) {
        agreed = &e;
      }
    }
    if (agreed == nullptr) continue;
    const CaseState state = StateOf(r, 0, view);
    if (state.record == nullptr) continue;
    v1::AgreementFollowUp f;
    f.set_case_ref(r.ref);
    f.set_agreed_outcome(cat.OutcomeCode(agreed->outcome));
    f.set_agreed_month(FormatMonth(agreed->expected_month));
    f.set_agreed_risk(cat.RiskCode(agreed->risk));
    f.set_caseworker(history.StaffCode(state.caseworker_id));
    std::string action = "NONE";
    for (const ActionRecord& a : r.actions) {
      if (!a.agreed_in_dialogue || !view.Knows(a.known_on)) continue;
      if (a.known_on < d.opened_on || a.known_on > agreed_until) continue;
      const std::string s = ActionState(a, view);
      if (action == "NONE" || ActionRank(s) < ActionRank(action)) action = s;
    }
    f.set_action(action);
    if (!state.open) {
      const Month closed(state.closed_on);
      f.set_current_outcome(cat.OutcomeCode(state.closure_outcome));
      f.set_current_month(FormatMonth(closed));
      f.set_expectation(state.closure_outcome == agreed->outcome &&
                                !(agreed->expected_month < closed)
                            ? "HELD"
                            : "CLOSED_OTHERWISE");
    } else {
      const ExpectationEvent* now = state.expectation;
      if (now != nullptr) {
        f.set_current_outcome(cat.OutcomeCode(now->outcome));
        f.set_current_month(FormatMonth(now->expected_month));
      }
      if (now != nullptr && now != agreed) {
        f.set_expectation("CHANGED");
      } else if (agreed->expected_month < Month(view.today)) {
        f.set_expectation("MISSED");
      } else {
        f.set_expectation("PENDING");
      }
    }
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(),
            [](const v1::AgreementFollowUp& a, const v1::AgreementFollowUp& b) {
              return a.case_ref() < b.case_ref();
            });
  return out;
}

absl::flat_hash_map<int64_t, std::vector<std::string>> AgreedCases(const CentreHistory& history) {
  absl::flat_hash_map<int64_t, const DialogueRecord*> dialogues;
  for (const DialogueRecord& d : history.dialogues) dialogues[d.id] = &d;
  absl::flat_hash_map<int64_t, std::vector<std::string>> out;
  for (const auto& ptr : history.cases) {
    int64_t last = 0;  // one entry per case and dialogue
    for (const ExpectationEvent& e : ptr->expectations) {
      if (!e.agreed_in_dialogue || e.dialogue_id == 0) continue;
      auto d = dialogues.find(e.dialogue_id);
      if (d != dialogues.end() && !d->second->Counts(ptr->id, e.id)) continue;
      if (e.dialogue_id != last) {
        out[e.dialogue_id].push_back(ptr->ref);
        last = e.dialogue_id;
      }
    }
  }
  for (auto& [id, refs] : out) {
    std::sort(refs.begin(), refs.end());
    refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  }
  return out;
}

std::vector<std::string> AgreedCaseRefs(const CentreHistory& history,
                                        const DialogueRecord& dialogue) {
  std::vector<std::string> refs;
  for (const auto& ptr : history.cases) {
    for (const ExpectationEvent& e : ptr->expectations) {
      if (e.agreed_in_dialogue && e.dialogue_id == dialogue.id && dialogue.Counts(ptr->id, e.id)) {
        refs.push_back(ptr->ref);
        break;
      }
    }
  }
  std::sort(refs.begin(), refs.end());
  return refs;
}

v1::Dialogue DialogueMessage(const CentreHistory& history, const DialogueRecord& d,
                             const absl::flat_hash_map<int64_t, std::vector<std::string>>& agreed) {
  static const std::vector<std::string> kNone;
  auto it = agreed.find(d.id);
  return DialogueMessage(history, d, it == agreed.end() ? kNone : it->second);
}

v1::Dialogue DialogueMessage(const CentreHistory& history, const DialogueRecord& d,
                             const std::vector<std::string>& agreed_case_refs) {
  v1::Dialogue out;
  out.set_id(d.id);
  out.set_team(history.UnitCode(d.team_id));
  out.set_team_leader(history.StaffCode(d.team_leader_id));
  out.set_caseworker(history.StaffCode(d.caseworker_id));
  out.set_held_on(FormatDay(d.held_on));
  for (int64_t id : d.case_ids) {
    if (const CaseTimeline* r = history.CaseById(id)) out.add_case_refs(r->ref);
  }
  out.mutable_notes()->set_status(d.status);
  out.mutable_notes()->set_knowledge(d.knowledge);
  out.mutable_notes()->set_learning(d.learning);
  out.mutable_notes()->set_adjustment(d.adjustment);
  out.set_recorded_at(d.recorded_at);
  out.set_state(
      std::string(DialogueStateName(d.final ? DialogueState::kFinal : DialogueState::kDraft)));
  out.set_version(d.version);
  if (d.final) {
    out.set_finalised_at(d.finalised_at);
    out.set_finalised_by(history.StaffCode(d.finalised_by));
  }
  for (const DialogueNotesVersionRecord& v : d.versions) {
    v1::DialogueNotesVersion* m = out.add_versions();
    m->set_version(v.version);
    m->set_held_on(FormatDay(v.held_on));
    m->mutable_notes()->set_status(v.status);
    m->mutable_notes()->set_knowledge(v.knowledge);
    m->mutable_notes()->set_learning(v.learning);
    m->mutable_notes()->set_adjustment(v.adjustment);
    m->set_recorded_by(history.StaffCode(v.recorded_by));
    m->set_recorded_at(v.recorded_at);
  }
  for (const std::string& ref : agreed_case_refs) out.add_agreed_case_refs(ref);
  return out;
}

}  // namespace forecast::fsvc
