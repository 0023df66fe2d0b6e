// The synthetic job centre: deterministic, realistic sizes and shapes, valid interchange codes.
#include "forecasting/synthetic.h"

#include <map>
#include <regex>
#include <set>
#include <tuple>

#include "gtest/gtest.h"

namespace forecasting {
namespace {

std::string Fingerprint(const SyntheticJobCentre& c) {
  std::string out;
  for (const auto& r : c.cases)
    out += r.case_ref + r.case_type + r.caseworker + std::to_string(r.opened_on.day);
  for (const auto& e : c.expectations)
    out += e.case_ref + e.expected_outcome + std::to_string(e.expected_month) + e.risk;
  for (const auto& cl : c.closures)
    out += cl.case_ref + cl.outcome + std::to_string(cl.closed_on.day);
  for (const auto& re : c.reassignments) out += re.case_ref + re.to;
  return out;
}

MonthIndex MonthOf(const Date& d) { return MakeMonth(d.year, d.month); }

TEST(SyntheticTest, SameSeedSameCentreOtherSeedOtherCentre) {
  auto a = GenerateJobCentre(DemoSpec());
  auto b = GenerateJobCentre(DemoSpec());
  SyntheticSpec other = DemoSpec();
  other.seed = 7;
  auto c = GenerateJobCentre(other);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(Fingerprint(*a), Fingerprint(*b));
  EXPECT_NE(Fingerprint(*a), Fingerprint(*c));
}

TEST(SyntheticTest, DemoCentreLooksLikeAJobCentre) {
  auto centre = GenerateJobCentre(DemoSpec());
  ASSERT_TRUE(centre.ok());
  const SyntheticJobCentre& c = *centre;
  EXPECT_EQ(c.teams.size(), 6u);
  EXPECT_EQ(c.caseworkers.size(), 48u);
  EXPECT_GE(c.departments.size(), 2u);
  const Catalogue catalogue = DefaultCatalogue();
  const std::set<std::string> types(catalogue.case_types.begin(), catalogue.case_types.end());
  const std::set<std::string> outcomes(catalogue.outcomes.begin(), catalogue.outcomes.end());
  const std::set<std::string> risks(catalogue.risks.begin(), catalogue.risks.end());
  std::set<std::string> workers, teams;
  for (const auto& w : c.caseworkers) workers.insert(w.code);
  for (const auto& t : c.teams) teams.insert(t.code);

  const std::regex ref("^S-[0-9]{6}$"), cpr("[0-9]{6}-[0-9]{4}");
  std::map<std::string, MonthIndex> opened;
  for (const auto& r : c.cases) {
    EXPECT_TRUE(std::regex_match(r.case_ref, ref)) << r.case_ref;
    EXPECT_FALSE(std::regex_search(r.case_ref, cpr));
    EXPECT_TRUE(types.count(r.case_type)) << r.case_type;
    EXPECT_TRUE(workers.count(r.caseworker) && teams.count(r.team));
    EXPECT_TRUE(r.opened_on.day >= 1 && r.opened_on.day <= 28);
    opened[r.case_ref] = MonthOf(r.opened_on);
  }
  std::map<std::string, MonthIndex> closed;
  std::map<std::string, int> outcome_count;
  for (const auto& cl : c.closures) {
    ASSERT_TRUE(opened.count(cl.case_ref));
    EXPECT_GT(MonthOf(cl.closed_on), opened[cl.case_ref]);
    EXPECT_TRUE(outcomes.count(cl.outcome)) << cl.outcome;
    closed[cl.case_ref] = MonthOf(cl.closed_on);
    ++outcome_count[cl.outcome];
  }
  for (const auto& e : c.expectations) {
    ASSERT_TRUE(opened.count(e.case_ref));
    EXPECT_TRUE(outcomes.count(e.expected_outcome) && risks.count(e.risk) &&
                workers.count(e.recorded_by));
    EXPECT_GE(MonthOf(e.recorded_on), opened[e.case_ref]);
    if (closed.count(e.case_ref)) {
      EXPECT_LE(MonthOf(e.recorded_on), closed[e.case_ref]);
    }
    EXPECT_GE(MakeMonth(e.expected_year, e.expected_month), MonthOf(e.recorded_on));
  }
  EXPECT_GT(c.reassignments.size(), 50u);
  for (const auto& re : c.reassignments) EXPECT_NE(re.from, re.to);
  EXPECT_GT(outcome_count["FLEX_JOB"], 100);
  EXPECT_GT(outcome_count["DECLARED_FIT"], 500);

  // Three years of history; caseloads of 30-50 today.
  const MonthIndex today = MonthOf(c.today);
  MonthIndex first_closure = today;
  for (const auto& [r, m] : closed) first_closure = std::min(first_closure, m);
  EXPECT_LE(first_closure, today - 35);
  std::map<std::string, int> caseload;
  for (const auto& r : c.cases) {
    if (!closed.count(r.case_ref)) ++caseload[r.current_caseworker];
  }
  int within = 0, total = 0;
  for (const auto& [w, n] : caseload) {
    within += n >= 28 && n <= 52;
    total += n;
  }
  EXPECT_GE(within, 44) << "caseloads outside 28..52";
  EXPECT_NEAR(total, 48 * 40, 48 * 40 * 0.12);

  // Winter inflow above summer inflow.
  std::map<int, int> by_month;
  for (const auto& r : c.cases) {
    if (MonthOf(r.opened_on) >= today - 36 && MonthOf(r.opened_on) < today)
      ++by_month[r.opened_on.month];
  }
  EXPECT_GT(by_month[1], by_month[7] * 1.2);

  int overdue = 0;
  for (const auto& a : c.actions) {
    overdue += MakeMonth(a.due_on.year, a.due_on.month) * 31 + a.due_on.day <
               MakeMonth(c.today.year, c.today.month) * 31 + c.today.day;
  }
  EXPECT_GT(overdue, 100);
  EXPECT_LT(overdue, static_cast<int>(c.actions.size()));

  // Optimism and habits differ between caseworkers.
  int optimistic = 0, realistic = 0, flex = 0;
  for (const auto& w : c.caseworkers) {
    optimistic += w.optimism_months >= 2.0;
    realistic += w.optimism_months <= 0.5;
    flex += w.habit_outcome == "FLEX_JOB";
  }
  EXPECT_GE(optimistic, 5);
  EXPECT_GE(realistic, 5);
  EXPECT_GE(flex, 3);
}

TEST(SyntheticTest, CompilesToValidModelInputs) {
  auto centre = GenerateJobCentre(DemoSpec());
  ASSERT_TRUE(centre.ok());
  const MonthIndex as_of = MakeMonth(2026, 6);
  auto compiled = CompileJobCentre(*centre, as_of);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_TRUE(ValidateHistory(compiled->catalogue, compiled->history).ok());
  EXPECT_TRUE(ValidatePortfolio(compiled->catalogue, compiled->portfolio).ok());
  EXPECT_EQ(compiled->portfolio.as_of_month, as_of);
  EXPECT_GT(compiled->portfolio.cases.size(), 1500u);
  int with_expectation = 0;
  for (const auto& oc : compiled->portfolio.cases) with_expectation += oc.expectation.has_value();
  // New cases get their first expectation the month after opening; a few never get one.
  EXPECT_GT(with_expectation, static_cast<int>(compiled->portfolio.cases.size() * 0.75));
  EXPECT_LT(with_expectation, static_cast<int>(compiled->portfolio.cases.size()));
  for (const auto& r : compiled->history.cases) {
    if (r.closed_month) {
      EXPECT_LT(*r.closed_month, as_of);
    }
    for (const auto& e : r.expectations) EXPECT_LT(e.recorded_month, as_of);
  }
  EXPECT_EQ(compiled->history.inflow.num_months(), as_of - compiled->history.inflow.first_month);
}

// What a case system would accept: expected months at most 60 months after their recording, and
// no action due before its case opened (the case service refuses both).
TEST(SyntheticTest, EveryRowIsOneACaseSystemAccepts) {
  for (const SyntheticSpec& spec : {DemoSpec(), LargeSpec()}) {
    auto centre = GenerateJobCentre(spec);
    ASSERT_TRUE(centre.ok());
    std::map<std::string, Date> opened;
    for (const auto& c : centre->cases) opened[c.case_ref] = c.opened_on;
    for (const auto& e : centre->expectations) {
      ASSERT_LE(MakeMonth(e.expected_year, e.expected_month), MonthOf(e.recorded_on) + 60)
          << e.case_ref;
    }
    for (const auto& a : centre->actions) {
      const Date& o = opened.at(a.case_ref);
      ASSERT_GE(std::make_tuple(a.due_on.year, a.due_on.month, a.due_on.day),
                std::make_tuple(o.year, o.month, o.day))
          << a.case_ref;
    }
  }
}

TEST(SyntheticTest, RejectsBadSpecs) {
  SyntheticSpec spec = DemoSpec();
  spec.teams = 0;
  auto bad = GenerateJobCentre(spec);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("teams"), std::string::npos);
  spec = DemoSpec();
  spec.end_day = 31;
  EXPECT_FALSE(GenerateJobCentre(spec).ok());
}

}  // namespace
}  // namespace forecasting
