// Calibration: person-month records of every expectation while it was in force.
#include <algorithm>
#include <cmath>

#include "calendar.h"
#include "forecasting/models.h"

namespace forecasting {

int32_t LeadBucket(int32_t lead) {
  if (lead <= kFirstBucketLead) return 0;
  if (lead <= 18) return lead - kFirstBucketLead;  // -5..18 -> 1..24
  if (lead < kLastBucketLead) return 25;
  return kNumLeadBuckets - 1;
}

int32_t OutcomeLeadBand(int32_t lead_at_closure) {
  if (lead_at_closure < 0) return 0;
  if (lead_at_closure == 0) return 1;
  return lead_at_closure <= 2 ? 2 : 3;
}

namespace {

// The coarser lead groups of the team and caseworker factors (their data is thinner):
// <=-4, -3..3, 4-5, 6-8, 9-12, >=13.
constexpr int32_t kNumFactorLeads = 12;
int32_t FactorLead(int32_t lead) {
  if (lead <= -4) return 0;
  if (lead <= 3) return lead + 4;  // -3..3 -> 1..7
  if (lead <= 5) return 8;
  if (lead <= 8) return 9;
  if (lead <= 12) return 10;
  return 11;
}

constexpr double kSlipPrior = 12.0;     // in-force months' worth of prior toward the team
constexpr double kOutcomePrior = 10.0;  // closures' worth of prior toward the broader stay chance
constexpr double kHabitPrior = 8.0;     // closures' worth of prior of a team's / caseworker's habit

// Steps followed ahead from each person-month (beyond the last slot they add little and cost).
constexpr int32_t kMaxAhead = 36;

// One month t of one case with an expectation in force at its start, and what followed.
struct PersonMonth {
  int32_t worker;
  int32_t month;  // t
  int16_t type;
  int8_t risk;
  int8_t bucket;         // lead bucket at t
  int16_t lead;          // expected month - t
  int16_t observed;      // months t, t+1, ... observed open at their start (>= 1)
  int16_t closed_ahead;  // closed in month t + closed_ahead, or -1 (censored)
  int16_t raw_lead;      // expected month - t, before the caseworker's shift
  int8_t actual;         // outcome when closed in month t, else -1
  int8_t expected;       // expected outcome
};

int32_t AheadSlot(int32_t k) { return std::min(k, kCalibrationAheadSlots - 1); }

// Caseworker and team factors are by (lead bucket, months-ahead band): the same strata as the
// centre hazard less risk and type, so observed / expected is compared like with like.
constexpr int32_t kAheadBands = 5;
int32_t AheadBand(int32_t k) { return k <= 2 ? std::max(k, 0) : (k <= 5 ? 3 : 4); }
constexpr int32_t kFactorCells = kNumFactorLeads * kAheadBands;
int32_t FactorCell(int32_t lead, int32_t k) {
  return FactorLead(lead) * kAheadBands + AheadBand(k);
}

// A caseworker's lead shift split into whole months and the chance of one more.
struct Shift {
  int32_t whole;
  double fraction;
};
Shift SplitShift(double shift) {
  const double f = std::floor(shift);
  return Shift{static_cast<int32_t>(f), shift - f};
}

}  // namespace

class CalibrationFitter {
 public:
  static absl::StatusOr<CalibrationModel> Fit(const Catalogue& catalogue, const History& history,
                                              MonthIndex as_of, const FitOptions& options) {
    if (auto s = ValidateCatalogue(catalogue); !s.ok()) return s;
    if (auto s = ValidateHistory(catalogue, history); !s.ok()) return s;
    CalibrationModel m;
    const int32_t T = catalogue.num_case_types(), R = catalogue.num_risks(),
                  K = catalogue.num_outcomes(), W = catalogue.num_caseworkers(),
                  G = catalogue.num_teams, B = kNumLeadBuckets;
    m.num_types_ = T;
    m.num_outcomes_ = K;
    m.num_risks_ = R;
    m.num_teams_ = G;
    m.num_caseworkers_ = W;

    // Pass 1: each caseworker's slip (actual closure month - expected month) over the months
    // each expectation was in force; still-open cases past their expected month give lower
    // bounds. Shrunk caseworker -> team -> centre.
    std::vector<double> type_outcomes(static_cast<size_t>(T) * K, 0.0);
    std::vector<double> slip_sum(W, 0.0), slip_w(W, 0.0);
    const MonthIndex observed_from = ObservedFrom(history);
    auto in_force = [&](const CaseRecord& r, size_t n_ex, size_t i, MonthIndex last) {
      const Expectation& e = r.expectations[i];
      const MonthIndex from = std::max({e.recorded_month + 1, r.opened_month, observed_from});
      const MonthIndex to =
          i + 1 < n_ex ? std::min(r.expectations[i + 1].recorded_month, last) : last;
      return std::make_pair(from, to);
    };
    auto worker_of = [](const CaseRecord& r, const Expectation& e) {
      return e.recorded_by >= 0 ? e.recorded_by : r.caseworker;
    };
    auto count_expectations = [as_of](const CaseRecord& r) {
      size_t n_ex = 0;
      while (n_ex < r.expectations.size() && r.expectations[n_ex].recorded_month < as_of) ++n_ex;
      return n_ex;
    };
    for (const CaseRecord& r : history.cases) {
      if (r.opened_month >= as_of) continue;
      const bool closed = r.closed_month.has_value() && *r.closed_month < as_of;
      const MonthIndex last = closed ? *r.closed_month : as_of - 1;
      if (closed) type_outcomes[static_cast<size_t>(r.case_type) * K + r.outcome] += 1.0;
      const size_t n_ex = count_expectations(r);
      for (size_t i = 0; i < n_ex; ++i) {
        const Expectation& e = r.expectations[i];
        const int32_t worker = worker_of(r, e);
        const auto [from, to] = in_force(r, n_ex, i, last);
        const double w = std::max(0, to - from + 1);
        if (w <= 0) continue;  // superseded within its month, or before the observed window
        if (closed) {
          slip_sum[worker] += w * (*r.closed_month - e.expected_month);
          slip_w[worker] += w;
        } else if (e.expected_month < as_of) {
          // Still open past its expected month: the slip is at least this (a lower bound).
          slip_sum[worker] += w * (as_of - e.expected_month);
          slip_w[worker] += w;
        }
      }
    }
    double centre_sum = 0, centre_w = 0;
    std::vector<double> team_sum(G, 0), team_w(G, 0);
    for (int32_t w = 0; w < W; ++w) {
      centre_sum += slip_sum[w];
      centre_w += slip_w[w];
      team_sum[catalogue.caseworker_team[w]] += slip_sum[w];
      team_w[catalogue.caseworker_team[w]] += slip_w[w];
    }
    const double centre_slip = centre_w > 0 ? centre_sum / centre_w : 0.0;
    m.team_slip_.assign(G, centre_slip);
    for (int32_t g = 0; g < G; ++g) {
      m.team_slip_[g] = (team_sum[g] + kSlipPrior * centre_slip) / (team_w[g] + kSlipPrior);
    }
    m.slip_.assign(W, 0);
    m.raw_slip_.assign(W, 0);
    m.slip_weight_ = slip_w;
    m.shift_.assign(W, 0.0);
    for (int32_t w = 0; w < W; ++w) {
      const double team = m.team_slip_[catalogue.caseworker_team[w]];
      m.raw_slip_[w] = slip_w[w] > 0 ? slip_sum[w] / slip_w[w] : team;
      m.slip_[w] = (slip_sum[w] + kSlipPrior * team) / (slip_w[w] + kSlipPrior);
      m.shift_[w] = options.slip_shift
                        ? std::clamp(m.slip_[w] - centre_slip, -kMaxLeadShift, kMaxLeadShift)
                        : 0.0;
    }

    // Pass 2: person-months, each at its lead shifted by its caseworker's slip beyond the
    // centre's (a fractional shift alternates whole months in proportion, deterministically).
    std::vector<PersonMonth> records;
    std::vector<double> carry(W, 0.0);
    for (const CaseRecord& r : history.cases) {
      if (r.opened_month >= as_of) continue;
      const bool closed = r.closed_month.has_value() && *r.closed_month < as_of;
      const MonthIndex last = closed ? *r.closed_month : as_of - 1;
      const size_t n_ex = count_expectations(r);
      for (size_t i = 0; i < n_ex; ++i) {
        const Expectation& e = r.expectations[i];
        const int32_t worker = worker_of(r, e);
        const auto [from, to] = in_force(r, n_ex, i, last);
        const Shift shift = SplitShift(m.shift_[worker]);
        for (MonthIndex t = from; t <= to; ++t) {
          carry[worker] += shift.fraction;
          const int32_t extra = carry[worker] >= 1.0 ? 1 : 0;
          carry[worker] -= extra;
          PersonMonth pm;
          pm.worker = worker;
          pm.month = t;
          pm.type = static_cast<int16_t>(r.case_type);
          pm.risk = static_cast<int8_t>(e.risk);
          pm.lead = static_cast<int16_t>(
              std::clamp(e.expected_month - t + shift.whole + extra, -1000, 1000));
          pm.bucket = static_cast<int8_t>(LeadBucket(pm.lead));
          pm.observed = static_cast<int16_t>(std::min(last - t + 1, kMaxAhead));
          pm.closed_ahead = static_cast<int16_t>(
              closed && *r.closed_month - t < kMaxAhead ? *r.closed_month - t : -1);
          pm.raw_lead = static_cast<int16_t>(std::clamp(e.expected_month - t, -1000, 1000));
          pm.actual = static_cast<int8_t>(closed && t == *r.closed_month ? r.outcome : -1);
          pm.expected = static_cast<int8_t>(e.expected_outcome);
          records.push_back(pm);
        }
      }
    }
    m.person_months_ = static_cast<int64_t>(records.size());

    // Hazard k months ahead by (risk, bucket, type, k) <- (risk, bucket, k) <- (bucket, k) <- all.
    const int32_t S = kCalibrationAheadSlots;
    const size_t cells_b = static_cast<size_t>(B) * S, cells_rb = cells_b * R,
                 cells_rbc = cells_rb * T;
    std::vector<double> n_b, d_b, n_rb, d_rb, n_rbc, d_rbc;
    n_b.assign(cells_b, 0.0);
    d_b.assign(cells_b, 0.0);
    n_rb.assign(cells_rb, 0.0);
    d_rb.assign(cells_rb, 0.0);
    n_rbc.assign(cells_rbc, 0.0);
    d_rbc.assign(cells_rbc, 0.0);
    double n_all = 0, d_all = 0;
    for (const PersonMonth& pm : records) {
      const size_t rb = static_cast<size_t>(pm.risk) * B + pm.bucket;
      for (int32_t k = 0; k < pm.observed; ++k) {
        const double closed = k == pm.closed_ahead ? 1.0 : 0.0;
        const int32_t slot = AheadSlot(k);
        n_all += 1;
        d_all += closed;
        n_b[static_cast<size_t>(pm.bucket) * S + slot] += 1;
        d_b[static_cast<size_t>(pm.bucket) * S + slot] += closed;
        n_rb[rb * S + slot] += 1;
        d_rb[rb * S + slot] += closed;
        n_rbc[(rb * T + pm.type) * S + slot] += 1;
        d_rbc[(rb * T + pm.type) * S + slot] += closed;
      }
    }
    const double kappa = options.hazard_pooling;
    const double h_all = (d_all + 0.1) / (n_all + 1.0);
    m.hazard_.assign(static_cast<size_t>(R) * B * T * S, h_all);
    for (int32_t b = 0; b < B; ++b) {
      for (int32_t k = 0; k < S; ++k) {
        const size_t bk = static_cast<size_t>(b) * S + k;
        const double hb = (d_b[bk] + kappa * h_all) / (n_b[bk] + kappa);
        for (int32_t r = 0; r < R; ++r) {
          const size_t rb = static_cast<size_t>(r) * B + b;
          const double hrb = (d_rb[rb * S + k] + kappa * hb) / (n_rb[rb * S + k] + kappa);
          for (int32_t c = 0; c < T; ++c) {
            const size_t i = (rb * T + c) * S + k;
            m.hazard_[i] = std::clamp((d_rbc[i] + kappa * hrb) / (n_rbc[i] + kappa), 1e-4, 0.95);
          }
        }
      }
    }

    // Calendar: observed / expected closures by the calendar month of the step, per type and
    // expected outcome (a season that pulls or delays one outcome's closures, such as
    // education starts, moves the cases expected to end in it).
    const int32_t TK = T * K;
    std::vector<double> cal_o(static_cast<size_t>(TK) * 12, 0.0),
        cal_e(static_cast<size_t>(TK) * 12, 0.0);
    if (options.calendar_pooling > 0) {
      for (const PersonMonth& pm : records) {
        const size_t cell = (static_cast<size_t>(pm.risk) * B + pm.bucket) * T + pm.type;
        const int32_t moy0 = MonthOfYear(pm.month) - 1;
        for (int32_t k = 0; k < pm.observed; ++k) {
          const size_t c = (static_cast<size_t>(pm.type) * K + pm.expected) * 12 + (moy0 + k) % 12;
          cal_e[c] += m.hazard_[cell * S + AheadSlot(k)];
          cal_o[c] += k == pm.closed_ahead ? 1.0 : 0.0;
        }
      }
    }
    {
      // A closure is seen from every earlier month of its case: scale the prior to match.
      double steps = 0, months = 0;
      for (const PersonMonth& pm : records) {
        steps += pm.closed_ahead >= 0 ? 1.0 : 0.0;
        months += pm.closed_ahead == 0 ? 1.0 : 0.0;
      }
      const double mult = months > 0 ? std::max(1.0, steps / months) : 1.0;
      m.calendar_ = CalendarFactors(cal_o, cal_e, TK, options.calendar_pooling * mult);
    }

    // Observed / expected closures per team and caseworker, by the lead the expectation has
    // reached in the month of the step, shrunk. A closure is seen from every earlier month of
    // its case, so the prior is scaled by that multiplicity to stay in units of closures.
    const int32_t F = kFactorCells;
    std::vector<double> o_team(static_cast<size_t>(G) * F, 0),
        e_team(static_cast<size_t>(G) * F, 0), o_w(static_cast<size_t>(W) * F, 0),
        e_w(static_cast<size_t>(W) * F, 0);
    double step_closures = 0, month_closures = 0;
    for (const PersonMonth& pm : records) {
      const size_t cell = (static_cast<size_t>(pm.risk) * B + pm.bucket) * T + pm.type;
      const int32_t team = catalogue.caseworker_team[pm.worker];
      month_closures += pm.closed_ahead == 0 ? 1.0 : 0.0;
      const int32_t moy0 = MonthOfYear(pm.month) - 1;
      for (int32_t k = 0; k < pm.observed; ++k) {
        const double h =
            m.hazard_[cell * S + AheadSlot(k)] *
            m.calendar_[(static_cast<size_t>(pm.type) * K + pm.expected) * 12 + (moy0 + k) % 12];
        const double closed = k == pm.closed_ahead ? 1.0 : 0.0;
        const int32_t b = FactorCell(pm.lead, k);
        step_closures += closed;
        o_team[static_cast<size_t>(team) * F + b] += closed;
        e_team[static_cast<size_t>(team) * F + b] += h;
        o_w[static_cast<size_t>(pm.worker) * F + b] += closed;
        e_w[static_cast<size_t>(pm.worker) * F + b] += h;
      }
    }
    const double multiplicity =
        month_closures > 0 ? std::max(1.0, step_closures / month_closures) : 1.0;
    const double kc = options.calibration_pooling * multiplicity;
    m.team_factor_.assign(static_cast<size_t>(G) * F, 1.0);
    for (size_t i = 0; i < m.team_factor_.size(); ++i) {
      m.team_factor_[i] = (o_team[i] + kc) / (e_team[i] + kc);
    }
    m.caseworker_factor_.assign(static_cast<size_t>(W) * F, 1.0);
    for (int32_t w = 0; w < W; ++w) {
      const int32_t team = catalogue.caseworker_team[w];
      for (int32_t b = 0; b < F; ++b) {
        const size_t i = static_cast<size_t>(w) * F + b;
        const double ft = m.team_factor_[static_cast<size_t>(team) * F + b];
        m.caseworker_factor_[i] = (o_w[i] + kc * ft) / (e_w[i] + kc);
      }
    }

    // Outcome habits, from closures with an expectation in force at the start of the closing
    // month: the chance of the expected outcome ("stay") by risk and lead band, pooled toward the
    // risk and that toward all; times a team's and a caseworker's factor (observed / expected
    // stays, shrunk: caseworker toward team, team toward 1). When not, where it ends: by type
    // and expected outcome (the type's mix without the expected outcome as prior), times a
    // team's and a caseworker's ratio per outcome (observed / expected, shrunk likewise).
    std::vector<double> mix(static_cast<size_t>(T) * K, 1.0 / K);
    for (int32_t c = 0; c < T; ++c) {
      double n = 0;
      for (int32_t o = 0; o < K; ++o) n += type_outcomes[static_cast<size_t>(c) * K + o];
      for (int32_t o = 0; o < K; ++o) {
        mix[static_cast<size_t>(c) * K + o] =
            (type_outcomes[static_cast<size_t>(c) * K + o] + 1.0 / K) / (n + 1.0);
      }
    }
    const int32_t LB = kOutcomeLeadBands;
    std::vector<double> n_rl(static_cast<size_t>(R) * LB, 0), k_rl(n_rl.size(), 0), n_r(R, 0),
        k_r(R, 0);
    std::vector<double> switched(static_cast<size_t>(T) * K * K, 0);
    double n_all_o = 0, k_all_o = 0;
    for (const PersonMonth& pm : records) {
      if (pm.actual < 0) continue;
      const bool stay = pm.actual == pm.expected;
      const size_t rl = static_cast<size_t>(pm.risk) * LB + OutcomeLeadBand(pm.raw_lead);
      n_rl[rl] += 1;
      k_rl[rl] += stay;
      n_r[pm.risk] += 1;
      k_r[pm.risk] += stay;
      n_all_o += 1;
      k_all_o += stay;
      if (!stay) switched[(static_cast<size_t>(pm.type) * K + pm.expected) * K + pm.actual] += 1;
    }
    const double stay_all = (k_all_o + 0.7 * kOutcomePrior) / (n_all_o + kOutcomePrior);
    m.stay_.assign(static_cast<size_t>(R) * LB, stay_all);
    m.expected_weight_.assign(R, stay_all);
    for (int32_t r = 0; r < R; ++r) {
      const double s_r = (k_r[r] + kOutcomePrior * stay_all) / (n_r[r] + kOutcomePrior);
      m.expected_weight_[r] = s_r;
      for (int32_t l = 0; l < LB; ++l) {
        const size_t i = static_cast<size_t>(r) * LB + l;
        m.stay_[i] =
            std::clamp((k_rl[i] + kOutcomePrior * s_r) / (n_rl[i] + kOutcomePrior), 0.0, 0.995);
      }
    }
    m.destination_.assign(static_cast<size_t>(T) * K * K, 0.0);
    for (int32_t c = 0; c < T; ++c) {
      for (int32_t e = 0; e < K; ++e) {
        const size_t row = (static_cast<size_t>(c) * K + e) * K;
        double n = 0, rest = 0;
        for (int32_t o = 0; o < K; ++o) {
          if (o == e) continue;
          n += switched[row + o];
          rest += mix[static_cast<size_t>(c) * K + o];
        }
        for (int32_t o = 0; o < K; ++o) {
          if (o == e) continue;
          const double prior = rest > 0 ? mix[static_cast<size_t>(c) * K + o] / rest : 0.0;
          m.destination_[row + o] =
              (switched[row + o] + kOutcomePrior * prior) / (n + kOutcomePrior);
        }
      }
    }
    // Team and caseworker habits: observed / expected stays, and per outcome of the switches.
    std::vector<double> so_g(G, 0), se_g(G, 0), so_w(W, 0), se_w(W, 0);
    std::vector<double> do_g(static_cast<size_t>(G) * K, 0), de_g(do_g.size(), 0),
        do_w(static_cast<size_t>(W) * K, 0), de_w(do_w.size(), 0);
    for (const PersonMonth& pm : records) {
      if (pm.actual < 0) continue;
      const int32_t g = catalogue.caseworker_team[pm.worker];
      const double s = m.stay_[static_cast<size_t>(pm.risk) * LB + OutcomeLeadBand(pm.raw_lead)];
      const bool stay = pm.actual == pm.expected;
      so_g[g] += stay;
      se_g[g] += s;
      so_w[pm.worker] += stay;
      se_w[pm.worker] += s;
      if (stay) continue;
      const size_t row = (static_cast<size_t>(pm.type) * K + pm.expected) * K;
      for (int32_t o = 0; o < K; ++o) {
        const double d = m.destination_[row + o];
        const double hit = o == pm.actual ? 1.0 : 0.0;
        do_g[static_cast<size_t>(g) * K + o] += hit;
        de_g[static_cast<size_t>(g) * K + o] += d;
        do_w[static_cast<size_t>(pm.worker) * K + o] += hit;
        de_w[static_cast<size_t>(pm.worker) * K + o] += d;
      }
    }
    m.stay_team_.assign(G, 1.0);
    m.habit_team_.assign(static_cast<size_t>(G) * K, 1.0);
    for (int32_t g = 0; g < G; ++g) {
      m.stay_team_[g] = (so_g[g] + kHabitPrior) / (se_g[g] + kHabitPrior);
      for (int32_t o = 0; o < K; ++o) {
        const size_t i = static_cast<size_t>(g) * K + o;
        m.habit_team_[i] = (do_g[i] + kHabitPrior) / (de_g[i] + kHabitPrior);
      }
    }
    m.stay_worker_.assign(W, 1.0);
    m.habit_worker_.assign(static_cast<size_t>(W) * K, 1.0);
    for (int32_t w = 0; w < W; ++w) {
      const int32_t g = catalogue.caseworker_team[w];
      m.stay_worker_[w] = (so_w[w] + kHabitPrior * m.stay_team_[g]) / (se_w[w] + kHabitPrior);
      for (int32_t o = 0; o < K; ++o) {
        const size_t i = static_cast<size_t>(w) * K + o;
        m.habit_worker_[i] =
            (do_w[i] + kHabitPrior * m.habit_team_[static_cast<size_t>(g) * K + o]) /
            (de_w[i] + kHabitPrior);
      }
    }

    return m;
  }
};

absl::StatusOr<CalibrationModel> CalibrationModel::Fit(const Catalogue& catalogue,
                                                       const History& history,
                                                       MonthIndex as_of_month,
                                                       const FitOptions& options) {
  return CalibrationFitter::Fit(catalogue, history, as_of_month, options);
}

double CalibrationModel::ShiftedHazard(CaseTypeIndex type, RiskIndex risk, int32_t lead,
                                       int32_t months_ahead, TeamIndex team,
                                       CaseworkerIndex caseworker) const {
  if (hazard_.empty()) return 0.0;  // an empty (unfitted) model
  const size_t cell =
      (static_cast<size_t>(risk) * kNumLeadBuckets + LeadBucket(lead)) * num_types_ + type;
  const double h = hazard_[cell * kCalibrationAheadSlots + AheadSlot(std::max(0, months_ahead))];
  const int32_t cellf = FactorCell(lead, months_ahead);
  double f = 1.0;
  if (caseworker >= 0 && caseworker < num_caseworkers_) {
    f = caseworker_factor_[static_cast<size_t>(caseworker) * kFactorCells + cellf];
  } else if (team >= 0 && team < num_teams_) {
    f = team_factor_[static_cast<size_t>(team) * kFactorCells + cellf];
  }
  return std::min(0.95, h * f);
}

double CalibrationModel::Hazard(CaseTypeIndex type, RiskIndex risk, int32_t lead,
                                int32_t months_ahead, TeamIndex team,
                                CaseworkerIndex caseworker) const {
  const int32_t shift = static_cast<int32_t>(std::lround(LeadShift(caseworker)));
  return ShiftedHazard(type, risk, lead + shift, months_ahead, team, caseworker);
}

double CalibrationModel::HazardIn(CaseTypeIndex type, RiskIndex risk, int32_t lead,
                                  int32_t months_ahead, TeamIndex team, CaseworkerIndex caseworker,
                                  OutcomeIndex expected, MonthIndex month) const {
  return std::min(0.95, Hazard(type, risk, lead, months_ahead, team, caseworker) *
                            CalendarFactor(type, expected, MonthOfYear(month)));
}

void CalibrationModel::ClosureCurve(CaseTypeIndex type, RiskIndex risk, int32_t lead,
                                    TeamIndex team, CaseworkerIndex caseworker,
                                    OutcomeIndex expected, MonthIndex first, int32_t horizon,
                                    double* q) const {
  const Shift shift = SplitShift(LeadShift(caseworker));
  std::fill(q, q + horizon, 0.0);
  for (int32_t side = 0; side < 2; ++side) {
    const double weight = side == 0 ? 1.0 - shift.fraction : shift.fraction;
    if (weight <= 0) continue;
    const int32_t shifted = lead + shift.whole + side;
    double survive = 1.0;
    for (int32_t h = 0; h < horizon; ++h) {
      const double hz = std::min(0.95, ShiftedHazard(type, risk, shifted, h, team, caseworker) *
                                           CalendarFactor(type, expected, MonthOfYear(first + h)));
      q[h] += weight * survive * hz;
      survive -= survive * hz;
    }
  }
}

double CalibrationModel::LeadShift(CaseworkerIndex caseworker) const {
  if (caseworker < 0 || caseworker >= static_cast<CaseworkerIndex>(shift_.size())) return 0.0;
  return shift_[caseworker];
}

double CalibrationModel::CalendarFactor(CaseTypeIndex type, OutcomeIndex expected,
                                        int calendar_month) const {
  if (calendar_.empty() || calendar_month < 1 || calendar_month > 12) return 1.0;
  if (type < 0 || type >= num_types_ || expected < 0 || expected >= num_outcomes_) return 1.0;
  return calendar_[(static_cast<size_t>(type) * num_outcomes_ + expected) * 12 + calendar_month -
                   1];
}

double CalibrationModel::OutcomeHabits(CaseTypeIndex type, RiskIndex risk, OutcomeIndex expected,
                                       int32_t lead_at_closure, TeamIndex team,
                                       CaseworkerIndex caseworker, double* destination) const {
  const int32_t K = num_outcomes_;
  if (stay_.empty() || type < 0 || type >= num_types_ || risk < 0 || risk >= num_risks_ ||
      expected < 0 || expected >= K) {
    for (int32_t o = 0; o < K; ++o) destination[o] = o == expected ? 0.0 : 1.0 / std::max(1, K - 1);
    return 0.0;
  }
  const double* habit = nullptr;
  double factor = 1.0;
  if (caseworker >= 0 && caseworker < num_caseworkers_) {
    factor = stay_worker_[caseworker];
    habit = &habit_worker_[static_cast<size_t>(caseworker) * K];
  } else if (team >= 0 && team < num_teams_) {
    factor = stay_team_[team];
    habit = &habit_team_[static_cast<size_t>(team) * K];
  }
  const double* row = &destination_[(static_cast<size_t>(type) * K + expected) * K];
  double sum = 0;
  for (int32_t o = 0; o < K; ++o) {
    destination[o] = o == expected ? 0.0 : row[o] * (habit != nullptr ? habit[o] : 1.0);
    sum += destination[o];
  }
  for (int32_t o = 0; o < K; ++o) destination[o] = sum > 0 ? destination[o] / sum : 0.0;
  const double stay =
      stay_[static_cast<size_t>(risk) * kOutcomeLeadBands + OutcomeLeadBand(lead_at_closure)];
  return std::clamp(stay * factor, 0.0, 0.995);
}

double CalibrationModel::ExpectedOutcomeWeight(RiskIndex risk) const {
  if (risk < 0 || risk >= static_cast<RiskIndex>(expected_weight_.size())) return 0.0;
  return expected_weight_[risk];
}

double CalibrationModel::CaseworkerFactor(CaseworkerIndex caseworker, int32_t lead) const {
  if (caseworker < 0 || caseworker >= num_caseworkers_) return 1.0;
  const int32_t shifted = lead + static_cast<int32_t>(std::lround(LeadShift(caseworker)));
  return caseworker_factor_[static_cast<size_t>(caseworker) * kFactorCells +
                            FactorCell(shifted, 0)];
}

double CalibrationModel::MeanSlip(CaseworkerIndex caseworker) const {
  if (caseworker < 0 || caseworker >= num_caseworkers_) return 0.0;
  return slip_[caseworker];
}
double CalibrationModel::RawMeanSlip(CaseworkerIndex caseworker) const {
  if (caseworker < 0 || caseworker >= num_caseworkers_) return 0.0;
  return raw_slip_[caseworker];
}
double CalibrationModel::SlipWeight(CaseworkerIndex caseworker) const {
  if (caseworker < 0 || caseworker >= num_caseworkers_) return 0.0;
  return slip_weight_[caseworker];
}
double CalibrationModel::TeamMeanSlip(TeamIndex team) const {
  if (team < 0 || team >= num_teams_) return 0.0;
  return team_slip_[team];
}

}  // namespace forecasting
