#include "services/forecast/attention.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/calendar.h"

namespace forecast::fsvc {
namespace {

struct Reason {
  const char* code;
  double score;
  std::string detail;
};

// (caseworker id, outcome) pairs over-used against the team, from each team's variation table.
absl::flat_hash_set<std::pair<int64_t, int>> OverusedOutcomes(
    const CentreView& view, const std::vector<int32_t>& positions) {
  absl::flat_hash_set<int64_t> teams;
  for (int32_t p : positions) teams.insert(view.OpenCase(p).team_id);
  absl::flat_hash_set<std::pair<int64_t, int>> out;
  for (int64_t team : teams) {
    absl::StatusOr<forecasting::Variation> v = view.TeamVariation(team);
    if (!v.ok()) continue;  // no comparison possible: no deviation reason
    for (const forecasting::OutcomeShare& s : v->shares) {
      if (s.flagged && s.share > s.expected_share) {  // within case type
        out.insert({view.inputs().index.caseworker_ids[s.caseworker], s.outcome});
      }
    }
  }
  return out;
}

}  // namespace

std::vector<v1::CaseAttention> RankAttention(const CentreView& view, const ScopeFilter& scope,
                                             int limit) {
  const std::vector<int32_t> positions = view.Positions(scope);
  const auto overused = OverusedOutcomes(view, positions);
  const Catalogue& cat = view.history().catalogue;
  const int high_risk = cat.HighestRisk();
  const Day today = view.today();
  const Month month(today);

  std::vector<v1::CaseAttention> items;
  for (int32_t pos : positions) {
    const CaseState& s = view.OpenCase(pos);
    const ExpectationEvent* e = s.expectation;
    std::vector<Reason> reasons;
    if (s.overdue_actions > 0) {
      reasons.push_back({"OVERDUE_ACTION", 100.0 + std::min(s.max_days_overdue / 3, 30),
                         absl::StrCat(s.overdue_actions, " action(s) overdue, the oldest by ",
                                      s.max_days_overdue, " days")});
    }
    if (e == nullptr) {
      const long months_open = std::max<long>(0, (today - s.record->opened_on) / 30);
      reasons.push_back(
          {"NO_EXPECTATION", 60.0 + std::min<long>(months_open, 12),
           absl::StrCat("no expectation recorded; open since ", FormatDay(s.record->opened_on))});
    } else {
      const long past = MonthsBetween(e->expected_month, month);
      if (past > 0) {
        reasons.push_back({"PASSED_HORIZON", 80.0 + 5 * std::min<long>(past, 12),
                           absl::StrCat("expected to close in ", FormatMonth(e->expected_month),
                                        "; still open ", past, " month(s) later")});
      }
      if (overused.contains({s.caseworker_id, e->outcome})) {
        reasons.push_back({"DEVIATING_OUTCOME", 45.0,
                           absl::StrCat("expected ", cat.OutcomeCode(e->outcome),
                                        ", an outcome this caseworker expects markedly more often "
                                        "than the team")});
      }
      if (e->risk == high_risk && high_risk >= 0) {
        reasons.push_back(
            {"HIGH_RISK", 40.0,
             absl::StrCat("risk ", cat.RiskCode(e->risk), " on ", cat.OutcomeCode(e->outcome),
                          " in ", FormatMonth(e->expected_month))});
      }
      const long age = today - e->recorded_on;
      if (age > kStaleDays) {
        reasons.push_back({"STALE_EXPECTATION",
                           30.0 + 2 * std::min<long>((age - kStaleDays) / 30, 12),
                           absl::StrCat("expectation last recorded on ", FormatDay(e->recorded_on),
                                        " (", age, " days ago)")});
      }
    }
    if (reasons.empty()) continue;
    std::stable_sort(reasons.begin(), reasons.end(),
                     [](const Reason& a, const Reason& b) { return a.score > b.score; });
    v1::CaseAttention item;
    item.set_case_ref(s.record->ref);
    item.set_caseworker(view.history().StaffCode(s.caseworker_id));
    item.set_reason(reasons.front().code);
    double score = 0;
    std::string detail;
    for (const Reason& r : reasons) {
      score += r.score;
      item.add_reasons(r.code);
      absl::StrAppend(&detail, detail.empty() ? "" : "; ", r.detail);
    }
    item.set_detail(detail);
    item.set_score(score);
    if (s.record->case_type >= 0) item.set_case_type(cat.case_types[s.record->case_type]);
    if (e != nullptr) {
      item.set_expected_outcome(cat.OutcomeCode(e->outcome));
      item.set_expected_month(FormatMonth(e->expected_month));
      item.set_risk(cat.RiskCode(e->risk));
    }
    items.push_back(std::move(item));
  }
  std::sort(items.begin(), items.end(), [](const v1::CaseAttention& a, const v1::CaseAttention& b) {
    if (a.score() != b.score()) return a.score() > b.score();
    return a.case_ref() < b.case_ref();
  });
  if (limit > 0 && static_cast<int>(items.size()) > limit) items.resize(limit);
  return items;
}

}  // namespace forecast::fsvc
