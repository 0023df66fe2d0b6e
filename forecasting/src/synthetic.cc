#include "forecasting/synthetic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "forecasting/month.h"
#include "random.h"

namespace forecasting {

SyntheticSpec DemoSpec() { return SyntheticSpec{}; }

SyntheticSpec LargeSpec() {
  SyntheticSpec spec;
  spec.departments = 5;
  spec.teams = 40;
  spec.caseworkers_per_team = 10;
  spec.open_cases_per_caseworker = 38;
  spec.history_months = 60;
  return spec;
}

std::vector<SyntheticSpec> HarnessSpecs(int32_t count, bool small) {
  std::vector<SyntheticSpec> specs;
  static constexpr int32_t kTeams[] = {6, 4, 8, 5, 12, 6, 7, 4, 10, 6, 9, 5};
  static constexpr int32_t kWorkers[] = {8, 7, 8, 10, 8, 6, 9, 8, 7, 8, 6, 9};
  for (int32_t i = 0; i < count; ++i) {
    SyntheticSpec spec;
    spec.seed = 1000003ULL * static_cast<uint64_t>(i + 1) + 20261201ULL;
    spec.teams = small ? 3 + i % 2 : kTeams[i % 12];
    spec.departments = std::min(spec.teams, 1 + spec.teams / 4);
    spec.caseworkers_per_team = small ? 6 : kWorkers[i % 12];
    spec.history_months = 36;
    spec.end_month = 1 + (i * 5) % 12;  // "today" in different months of the year
    spec.closure_seasonality = i % 2 == 0 ? 1.0 : 0.35;
    specs.push_back(spec);
  }
  return specs;
}

namespace {

// Default catalogue positions.
enum Type { kSDP, kJAF, kRF, kKHJ, kKHA, kDP, kUDH, kINT, kNumTypes };
enum Outcome {
  kOrdinary,
  kSmall,
  kFlex,
  kEducation,
  kFit,
  kPension,
  kOtherBenefit,
  kOther,
  kNumOutcomes
};

struct TypeProfile {
  double mean_duration_months;
  double outcome_mix[kNumOutcomes];
  bool flex_eligible;
};

// Durations and outcome mixes by case type (stylised from the sources: sickness benefit cases
// are short and mostly end "declared fit"; resource courses are long and often end in flex job or
// disability pension).
constexpr TypeProfile kTypes[kNumTypes] = {
    /*SDP*/ {4.0, {0.14, 0.04, 0.05, 0.02, 0.55, 0.03, 0.12, 0.05}, true},
    /*JAF*/ {11.0, {0.15, 0.10, 0.25, 0.03, 0.10, 0.12, 0.15, 0.10}, true},
    /*RF*/ {20.0, {0.10, 0.10, 0.30, 0.02, 0.00, 0.25, 0.15, 0.08}, true},
    /*KHJ*/ {5.0, {0.50, 0.15, 0.00, 0.15, 0.00, 0.00, 0.10, 0.10}, false},
    /*KHA*/ {12.0, {0.15, 0.15, 0.10, 0.10, 0.00, 0.05, 0.30, 0.15}, true},
    /*DP*/ {4.0, {0.72, 0.10, 0.00, 0.06, 0.00, 0.00, 0.02, 0.10}, false},
    /*UDH*/ {7.0, {0.25, 0.05, 0.00, 0.55, 0.00, 0.00, 0.07, 0.08}, false},
    /*INT*/ {14.0, {0.35, 0.20, 0.00, 0.15, 0.00, 0.00, 0.15, 0.15}, false},
};

// Inflow mix of the two kinds of department: sickness and clarification, and employment.
constexpr double kSicknessMix[kNumTypes] = {0.60, 0.25, 0.15, 0, 0, 0, 0, 0};
constexpr double kEmploymentMix[kNumTypes] = {0, 0, 0, 0.30, 0.20, 0.30, 0.10, 0.10};

// Spread of the caseworker's belief about the closure month, by the case's real uncertainty
// (which the recorded risk reflects, imperfectly).
constexpr double kBeliefSd[3] = {0.6, 1.6, 3.2};
constexpr double kOutcomeAccuracy[3] = {0.92, 0.78, 0.55};
constexpr double kUncertaintyMix[3] = {0.35, 0.40, 0.25};

const char* const kTypeCodes[kNumTypes] = {"SDP", "JAF", "RF", "KHJ", "KHA", "DP", "UDH", "INT"};
const char* const kOutcomeCodes[kNumOutcomes] = {
    "ORDINARY_JOB", "SMALL_JOB",          "FLEX_JOB",      "EDUCATION",
    "DECLARED_FIT", "DISABILITY_PENSION", "OTHER_BENEFIT", "OTHER"};
const char* const kRiskCodes[3] = {"LOW", "MEDIUM", "HIGH"};
const char* const kFirstNames[] = {"Mette", "Lars",   "Anne",    "Jens",  "Hanne", "Søren",
                                   "Pia",   "Henrik", "Tina",    "Peter", "Lone",  "Mads",
                                   "Karen", "Niels",  "Susanne", "Ole",   "Maria", "Thomas"};
// The demo centre is Danish, as its users are: actions and names in Danish.
const char* const kActions[] = {"Opfølgningssamtale",
                                "Kontakt arbejdsgiver om praktik",
                                "Indhent lægeattest",
                                "Planlæg virksomhedspraktik",
                                "Forbered sagen til rehabiliteringsteamet",
                                "Opdatér CV og joblog",
                                "Trepartsmøde med arbejdsgiver",
                                "Vurdér om fleksjob er relevant"};

// Days since 1970-01-01 for a civil date, and back (H. Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp + (mp < 10 ? 3 : -9);
  return Date{static_cast<int32_t>(y + (m <= 2)), static_cast<int32_t>(m), static_cast<int32_t>(d)};
}

Date DateOf(MonthIndex m, int32_t day) { return Date{YearOf(m), MonthOfYear(m), day}; }
MonthIndex MonthOf(const Date& d) { return MakeMonth(d.year, d.month); }

struct SimCaseworker {
  int32_t team;
  double optimism;
  int32_t habit;  // outcome or -1
  double capacity;
  int32_t dialogue_day;
  int32_t open = 0;
};

struct SimCase {
  int32_t type;
  MonthIndex opened;
  MonthIndex true_close;
  int32_t close_day;
  int32_t outcome;
  int32_t caseworker;
  int32_t uncertainty;
  double persistent_noise;
  int32_t believed_outcome;
  bool wants_expectations;
  bool has_expectation = false;
  bool closed = false;
  size_t index;  // into centre.cases
};

std::string TwoDigits(int32_t v) {
  char b[16];
  std::snprintf(b, sizeof(b), "%02d", v);
  return b;
}

}  // namespace

absl::StatusOr<SyntheticJobCentre> GenerateJobCentre(const SyntheticSpec& spec) {
  if (spec.departments < 1 || spec.departments > 20) {
    return absl::InvalidArgumentError("spec.departments: must be 1..20");
  }
  if (spec.teams < spec.departments || spec.teams > 99) {
    return absl::InvalidArgumentError("spec.teams: must be departments..99");
  }
  if (spec.caseworkers_per_team < 1 || spec.caseworkers_per_team > 99) {
    return absl::InvalidArgumentError("spec.caseworkers_per_team: must be 1..99");
  }
  if (spec.open_cases_per_caseworker < 1 || spec.open_cases_per_caseworker > 200) {
    return absl::InvalidArgumentError("spec.open_cases_per_caseworker: must be 1..200");
  }
  if (spec.history_months < 1 || spec.history_months > 240) {
    return absl::InvalidArgumentError("spec.history_months: must be 1..240");
  }
  if (spec.end_month < 1 || spec.end_month > 12 || spec.end_day < 1 || spec.end_day > 28) {
    return absl::InvalidArgumentError("spec.end_month/end_day: month 1..12, day 1..28");
  }
  if (!(spec.closure_seasonality >= 0 && spec.closure_seasonality <= 1)) {
    return absl::InvalidArgumentError("spec.closure_seasonality: must be 0..1");
  }
  if (!(spec.reassignment_rate >= 0 && spec.reassignment_rate <= 0.5) ||
      !(spec.expectation_update_rate >= 0 && spec.expectation_update_rate <= 1)) {
    return absl::InvalidArgumentError(
        "spec.reassignment_rate / expectation_update_rate: out of range");
  }

  Random rng(spec.seed);
  SyntheticJobCentre centre;
  const MonthIndex end = MakeMonth(spec.end_year, spec.end_month);
  centre.today = DateOf(end, spec.end_day);
  const int32_t burn_in = 30;
  const MonthIndex window_start = end - spec.history_months;
  const MonthIndex start = window_start - burn_in;

  for (int32_t d = 0; d < spec.departments; ++d) {
    centre.departments.push_back(
        {absl::StrCat("D", d + 1), d % 2 == 0 ? absl::StrCat("Sygdom og afklaring ", d / 2 + 1)
                                              : absl::StrCat("Beskæftigelse ", d / 2 + 1)});
  }
  std::vector<SimCaseworker> workers;
  std::vector<std::vector<int32_t>> team_workers(spec.teams);
  for (int32_t t = 0; t < spec.teams; ++t) {
    const int32_t dept = t % spec.departments;
    centre.teams.push_back({absl::StrCat("T", TwoDigits(t + 1)), absl::StrCat("Team ", t + 1),
                            centre.departments[dept].code});
    for (int32_t w = 0; w < spec.caseworkers_per_team; ++w) {
      SimCaseworker sw;
      sw.team = t;
      sw.optimism = std::clamp(1.2 + 1.1 * rng.Normal(), -0.5, 3.5);
      sw.habit = rng.Bernoulli(1.0 / 6.0) ? kFlex : -1;
      sw.capacity = rng.Uniform(0.75, 1.25);
      sw.dialogue_day = static_cast<int32_t>(rng.Int(2, 26));
      team_workers[t].push_back(static_cast<int32_t>(workers.size()));
      SyntheticJobCentre::Caseworker cw;
      cw.code = absl::StrCat("CW", TwoDigits(t + 1), TwoDigits(w + 1));
      cw.name = absl::StrCat(kFirstNames[(t * 7 + w) % 18], " ",
                             std::string(1, static_cast<char>('A' + (t + w * 3) % 26)), ".");
      cw.team = centre.teams[t].code;
      cw.optimism_months = sw.optimism;
      cw.habit_outcome = sw.habit >= 0 ? kOutcomeCodes[sw.habit] : "";
      centre.caseworkers.push_back(cw);
      workers.push_back(sw);
    }
  }

  // Inflow per team and type that keeps the caseload near its target.
  std::vector<std::vector<double>> lambda(spec.teams, std::vector<double>(kNumTypes, 0));
  for (int32_t t = 0; t < spec.teams; ++t) {
    const double* mix = (t % spec.departments) % 2 == 0 ? kSicknessMix : kEmploymentMix;
    double mean_duration = 0;
    for (int32_t k = 0; k < kNumTypes; ++k)
      mean_duration += mix[k] * kTypes[k].mean_duration_months;
    const double target = spec.caseworkers_per_team * spec.open_cases_per_caseworker;
    for (int32_t k = 0; k < kNumTypes; ++k) lambda[t][k] = mix[k] * target / mean_duration;
  }

  std::vector<SimCase> open;
  int64_t next_ref = 1;

  auto record_expectation = [&](SimCase& c, MonthIndex t, int32_t day, bool closing_month) {
    const SimCaseworker& w = workers[c.caseworker];
    const int32_t remaining = c.true_close - t;
    int32_t expected;
    int32_t risk = c.uncertainty;
    if (closing_month) {
      expected = t;  // written as the case closes: says little about foresight
      risk = 0;
    } else {
      const double sd = kBeliefSd[c.uncertainty] * std::min(1.0, 0.3 + remaining / 6.0);
      const double belief = c.true_close - w.optimism +
                            c.persistent_noise * std::min(1.0, remaining / 4.0) +
                            0.7 * sd * rng.Normal();
      // A case system takes expected months at most 60 months after the recording.
      expected = std::clamp<int32_t>(static_cast<int32_t>(std::lround(belief)), t, t + 60);
      if (rng.Bernoulli(0.2)) risk = std::clamp(risk + (rng.Bernoulli(0.5) ? 1 : -1), 0, 2);
      if (remaining <= 1 && c.believed_outcome != c.outcome && rng.Bernoulli(0.5)) {
        c.believed_outcome = c.outcome;
      }
    }
    SyntheticJobCentre::ExpectationRow row;
    row.case_ref = centre.cases[c.index].case_ref;
    row.recorded_on = DateOf(t, day);
    row.recorded_by = centre.caseworkers[c.caseworker].code;
    row.expected_outcome = kOutcomeCodes[closing_month ? c.outcome : c.believed_outcome];
    row.expected_year = YearOf(expected);
    row.expected_month = MonthOfYear(expected);
    row.risk = kRiskCodes[risk];
    row.in_dialogue = day == w.dialogue_day;
    centre.expectations.push_back(row);
    c.has_expectation = true;
  };

  for (MonthIndex t = start; t <= end; ++t) {
    const int32_t last_day = t == end ? spec.end_day : 28;
    const double season = 1.0 + 0.22 * std::cos(6.283185307179586 * (MonthOfYear(t) - 1) / 12.0) +
                          (MonthOfYear(t) >= 3 && MonthOfYear(t) <= 5 ? 0.1 : 0.0);
    // The closure calendar: December and July slip, January education and spring jobs pull.
    const double cs = spec.closure_seasonality;
    const int32_t moy = MonthOfYear(t);
    const double slip = moy == 12 ? 0.22 * cs : (moy == 7 ? 0.28 * cs : 0.0);
    const double pull_education = moy == 1 ? 0.45 * cs : (moy == 8 ? 0.25 * cs : 0.0);
    const double pull_job = moy >= 3 && moy <= 5 ? 0.15 * cs : 0.0;
    // Existing cases: closure, re-assignment, expectation updates.
    for (SimCase& c : open) {
      SimCaseworker& w = workers[c.caseworker];
      if (cs > 0) {
        if (c.true_close == t && slip > 0 && rng.Bernoulli(slip)) {
          ++c.true_close;  // the closing step waits for the holidays to end
        } else if (c.true_close > t && c.true_close <= t + 2 && c.opened < t &&
                   ((c.outcome == kEducation && pull_education > 0 &&
                     rng.Bernoulli(pull_education)) ||
                    (c.outcome == kOrdinary && pull_job > 0 && rng.Bernoulli(pull_job)))) {
          c.true_close = t;  // the course starts now, or the season's job came early
        }
      }
      if (c.true_close == t) {
        if (c.close_day > last_day) continue;  // closes after "today"
        if (c.wants_expectations && rng.Bernoulli(0.45) && c.close_day > 1) {
          record_expectation(c, t, static_cast<int32_t>(rng.Int(1, c.close_day - 1)), true);
        }
        centre.closures.push_back(
            {centre.cases[c.index].case_ref, DateOf(t, c.close_day), kOutcomeCodes[c.outcome]});
        c.closed = true;
        --w.open;
        continue;
      }
      if (c.opened < t && rng.Bernoulli(spec.reassignment_rate)) {
        int32_t team = w.team;
        if (rng.Bernoulli(0.2) && spec.teams > spec.departments) {
          // Another team of the same department.
          std::vector<int32_t> same;
          for (int32_t o = 0; o < spec.teams; ++o) {
            if (o != team && o % spec.departments == team % spec.departments) same.push_back(o);
          }
          if (!same.empty()) team = same[rng.Int(0, static_cast<int64_t>(same.size()) - 1)];
        }
        const auto& candidates = team_workers[team];
        int32_t to = candidates[rng.Int(0, static_cast<int64_t>(candidates.size()) - 1)];
        if (to != c.caseworker) {
          const int32_t day = static_cast<int32_t>(rng.Int(1, last_day));
          centre.reassignments.push_back({centre.cases[c.index].case_ref, DateOf(t, day),
                                          centre.caseworkers[c.caseworker].code,
                                          centre.caseworkers[to].code});
          --w.open;
          c.caseworker = to;
          ++workers[to].open;
          centre.cases[c.index].current_caseworker = centre.caseworkers[to].code;
          centre.cases[c.index].current_team = centre.teams[workers[to].team].code;
        }
      }
      if (c.wants_expectations && c.opened < t &&
          (!c.has_expectation || rng.Bernoulli(spec.expectation_update_rate))) {
        const SimCaseworker& cw = workers[c.caseworker];
        const int32_t day =
            rng.Bernoulli(0.6) ? cw.dialogue_day : static_cast<int32_t>(rng.Int(1, 28));
        if (day <= last_day) record_expectation(c, t, day, false);
      }
    }
    open.erase(std::remove_if(open.begin(), open.end(), [](const SimCase& c) { return c.closed; }),
               open.end());

    // New cases.
    for (int32_t team = 0; team < spec.teams; ++team) {
      for (int32_t k = 0; k < kNumTypes; ++k) {
        const int64_t n = rng.Poisson(lambda[team][k] * season);
        for (int64_t i = 0; i < n; ++i) {
          const int32_t day = static_cast<int32_t>(rng.Int(1, 28));
          if (day > last_day) continue;
          // The caseworker with the most room for their capacity.
          int32_t best = team_workers[team][0];
          for (int32_t wi : team_workers[team]) {
            if (workers[wi].open / workers[wi].capacity <
                workers[best].open / workers[best].capacity) {
              best = wi;
            }
          }
          SimCase c;
          c.type = k;
          c.opened = t;
          const double log_mean = std::log(kTypes[k].mean_duration_months) - 0.15;
          c.true_close = t + std::max<int32_t>(1, static_cast<int32_t>(std::lround(
                                                      std::exp(log_mean + 0.55 * rng.Normal()))));
          c.close_day = static_cast<int32_t>(rng.Int(1, 28));
          std::vector<double> mix(kTypes[k].outcome_mix, kTypes[k].outcome_mix + kNumOutcomes);
          c.outcome = rng.Categorical(mix);
          if (workers[best].habit >= 0 && kTypes[k].flex_eligible && rng.Bernoulli(0.3)) {
            c.outcome = workers[best].habit;
          }
          c.caseworker = best;
          c.uncertainty =
              rng.Categorical({kUncertaintyMix[0], kUncertaintyMix[1], kUncertaintyMix[2]});
          c.persistent_noise = 0.7 * kBeliefSd[c.uncertainty] * rng.Normal();
          c.believed_outcome = c.outcome;
          if (!rng.Bernoulli(kOutcomeAccuracy[c.uncertainty])) {
            c.believed_outcome =
                workers[best].habit >= 0 && kTypes[k].flex_eligible && rng.Bernoulli(0.5)
                    ? workers[best].habit
                    : rng.Categorical(mix);
          }
          c.wants_expectations = rng.Bernoulli(0.95);
          ++workers[best].open;
          SyntheticJobCentre::Case row;
          char ref[32];
          std::snprintf(ref, sizeof(ref), "S-%06lld", static_cast<long long>(next_ref++));
          row.case_ref = ref;
          row.case_type = kTypeCodes[k];
          row.opened_on = DateOf(t, day);
          row.team = row.current_team = centre.teams[team].code;
          row.caseworker = row.current_caseworker = centre.caseworkers[best].code;
          c.index = centre.cases.size();
          centre.cases.push_back(row);
          open.push_back(c);
        }
      }
    }
  }

  // Next steps of the cases open today, some overdue.
  const int64_t today_days = DaysFromCivil(centre.today.year, centre.today.month, centre.today.day);
  for (const SimCase& c : open) {
    if (!rng.Bernoulli(0.85)) continue;
    SyntheticJobCentre::Action a;
    a.case_ref = centre.cases[c.index].case_ref;
    a.description = kActions[rng.Int(0, 7)];
    a.owner = centre.caseworkers[c.caseworker].code;
    const Date& opened = centre.cases[c.index].opened_on;  // never due before the case opened
    a.due_on = CivilFromDays(std::max(today_days + rng.Int(-40, 60),
                                      DaysFromCivil(opened.year, opened.month, opened.day)));
    centre.actions.push_back(a);
  }

  // Drop cases that closed before the history window (burn-in only), keep every record of the rest.
  absl::flat_hash_map<std::string, bool> dropped;
  for (const auto& cl : centre.closures) {
    if (MonthOf(cl.closed_on) < window_start) dropped[cl.case_ref] = true;
  }
  auto gone = [&](const std::string& ref) { return dropped.contains(ref); };
  centre.cases.erase(std::remove_if(centre.cases.begin(), centre.cases.end(),
                                    [&](const auto& r) { return gone(r.case_ref); }),
                     centre.cases.end());
  centre.expectations.erase(std::remove_if(centre.expectations.begin(), centre.expectations.end(),
                                           [&](const auto& r) { return gone(r.case_ref); }),
                            centre.expectations.end());
  centre.closures.erase(std::remove_if(centre.closures.begin(), centre.closures.end(),
                                       [&](const auto& r) { return gone(r.case_ref); }),
                        centre.closures.end());
  centre.reassignments.erase(
      std::remove_if(centre.reassignments.begin(), centre.reassignments.end(),
                     [&](const auto& r) { return gone(r.case_ref); }),
      centre.reassignments.end());
  auto by_date = [](const Date& a, const Date& b) {
    return std::tie(a.year, a.month, a.day) < std::tie(b.year, b.month, b.day);
  };
  std::stable_sort(
      centre.expectations.begin(), centre.expectations.end(),
      [&](const auto& a, const auto& b) { return by_date(a.recorded_on, b.recorded_on); });
  std::stable_sort(centre.closures.begin(), centre.closures.end(),
                   [&](const auto& a, const auto& b) { return by_date(a.closed_on, b.closed_on); });
  std::stable_sort(centre.reassignments.begin(), centre.reassignments.end(),
                   [&](const auto& a, const auto& b) { return by_date(a.on, b.on); });
  return centre;
}

absl::StatusOr<CompiledJobCentre> CompileJobCentre(const SyntheticJobCentre& centre,
                                                   MonthIndex as_of_month) {
  CompiledJobCentre out;
  out.catalogue = DefaultCatalogue();
  absl::flat_hash_map<std::string, int32_t> team_index, worker_index, type_index, outcome_index,
      risk_index, case_index;
  for (const auto& t : centre.teams) {
    team_index[t.code] = static_cast<int32_t>(out.team_codes.size());
    out.team_codes.push_back(t.code);
  }
  out.catalogue.num_teams = static_cast<int32_t>(out.team_codes.size());
  for (const auto& w : centre.caseworkers) {
    auto it = team_index.find(w.team);
    if (it == team_index.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("caseworker ", w.code, ": unknown team ", w.team));
    }
    worker_index[w.code] = static_cast<int32_t>(out.caseworker_codes.size());
    out.caseworker_codes.push_back(w.code);
    out.catalogue.caseworker_team.push_back(it->second);
  }
  for (int32_t i = 0; i < out.catalogue.num_case_types(); ++i)
    type_index[out.catalogue.case_types[i]] = i;
  for (int32_t i = 0; i < out.catalogue.num_outcomes(); ++i)
    outcome_index[out.catalogue.outcomes[i]] = i;
  for (int32_t i = 0; i < out.catalogue.num_risks(); ++i) risk_index[out.catalogue.risks[i]] = i;

  auto lookup = [](const absl::flat_hash_map<std::string, int32_t>& m, const std::string& key,
                   const char* what) -> absl::StatusOr<int32_t> {
    auto it = m.find(key);
    if (it == m.end()) return absl::InvalidArgumentError(absl::StrCat("unknown ", what, " ", key));
    return it->second;
  };

  for (const auto& c : centre.cases) {
    if (MonthOf(c.opened_on) >= as_of_month) continue;
    CaseRecord r;
    r.case_id = static_cast<int64_t>(out.case_refs.size());
    auto type = lookup(type_index, c.case_type, "case_type");
    auto worker = lookup(worker_index, c.caseworker, "caseworker");
    if (!type.ok()) return type.status();
    if (!worker.ok()) return worker.status();
    r.case_type = *type;
    r.caseworker = *worker;
    r.team = out.catalogue.caseworker_team[*worker];
    r.opened_month = MonthOf(c.opened_on);
    case_index[c.case_ref] = static_cast<int32_t>(out.case_refs.size());
    out.case_refs.push_back(c.case_ref);
    out.history.cases.push_back(std::move(r));
  }
  for (const auto& re : centre.reassignments) {
    if (MonthOf(re.on) >= as_of_month) continue;
    auto it = case_index.find(re.case_ref);
    if (it == case_index.end()) continue;
    auto worker = lookup(worker_index, re.to, "caseworker");
    if (!worker.ok()) return worker.status();
    CaseRecord& r = out.history.cases[it->second];
    r.caseworker = *worker;
    r.team = out.catalogue.caseworker_team[*worker];
  }
  for (const auto& cl : centre.closures) {
    if (MonthOf(cl.closed_on) >= as_of_month) continue;
    auto it = case_index.find(cl.case_ref);
    if (it == case_index.end()) continue;
    auto outcome = lookup(outcome_index, cl.outcome, "outcome");
    if (!outcome.ok()) return outcome.status();
    CaseRecord& r = out.history.cases[it->second];
    r.closed_month = MonthOf(cl.closed_on);
    r.outcome = *outcome;
  }
  for (const auto& e : centre.expectations) {
    if (MonthOf(e.recorded_on) >= as_of_month) continue;
    auto it = case_index.find(e.case_ref);
    if (it == case_index.end()) continue;
    auto outcome = lookup(outcome_index, e.expected_outcome, "expected_outcome");
    auto risk = lookup(risk_index, e.risk, "risk");
    auto worker = lookup(worker_index, e.recorded_by, "recorded_by");
    if (!outcome.ok()) return outcome.status();
    if (!risk.ok()) return risk.status();
    if (!worker.ok()) return worker.status();
    Expectation x;
    x.expected_outcome = *outcome;
    x.expected_month = MakeMonth(e.expected_year, e.expected_month);
    x.risk = *risk;
    x.recorded_month = MonthOf(e.recorded_on);
    x.recorded_by = *worker;
    out.history.cases[it->second].expectations.push_back(x);
  }
  MonthIndex first = as_of_month;
  for (const auto& r : out.history.cases) first = std::min(first, r.opened_month);
  out.history.inflow = InflowFromHistory(out.catalogue, out.history.cases, first, as_of_month - 1);
  if (auto s = ValidateHistory(out.catalogue, out.history); !s.ok()) return s;

  out.portfolio = SnapshotAt(out.history, as_of_month);
  absl::flat_hash_map<std::string, bool> overdue;
  for (const auto& a : centre.actions) {
    if (!a.done && MonthOf(a.due_on) < as_of_month) overdue[a.case_ref] = true;
  }
  for (OpenCase& oc : out.portfolio.cases) {
    oc.action_overdue = overdue.contains(out.case_refs[oc.case_id]);
  }
  return out;
}

}  // namespace forecasting
