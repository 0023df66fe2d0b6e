#include "forecasting/projector.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace forecasting {
namespace {

constexpr int32_t kChunk = 1024;  // profiles per column block

// The calibration reads today's lead shifted by the caseworker's shift (at most kMaxLeadShift
// months either way), then its bucket. Leads so far out that every shift keeps them in the first
// (<= -6) or the last (>= 25) bucket behave alike and are clamped; the others are kept as they
// are, since one representative per bucket would be shifted from the wrong lead.
constexpr int32_t kShiftReach = static_cast<int32_t>(kMaxLeadShift) + 1;
constexpr int32_t kLowestLead = kFirstBucketLead - kShiftReach;
constexpr int32_t kHighestLead = kLastBucketLead + kShiftReach;
constexpr int32_t kCalibratedLeadSlots = kHighestLead - kLowestLead + 1;

// What determines one case's distribution under a model; cases with equal profiles have equal
// distributions, so each profile is computed once.
struct Profile {
  bool planned = false;  // has an expectation used by the model; else the baseline is used
  CaseTypeIndex type = 0;
  RiskIndex risk = 0;
  int32_t lead = 0;  // expected month - first month (clamped per model)
  OutcomeIndex outcome = 0;
  CaseworkerIndex caseworker = -1;
  TeamIndex team = -1;
  int32_t duration = 0;  // months since opening at the first month (clamped)
  int32_t category = 0;  // ForecastCategory: fixed by risk when planned, else part of the key
};

// Rows of the per-profile block: closures per month x outcome, closures per month (all
// outcomes), cumulative closures by month end, still open at month end, and closures per month
// again (to which the new cases' closures are added as a Poisson part).
struct RowLayout {
  int32_t K, H;
  int32_t rows() const { return (K + 4) * H; }
  int32_t cell(int32_t h, int32_t o) const { return h * K + o; }
  int32_t all(int32_t h) const { return K * H + h; }
  int32_t cumulative(int32_t h) const { return K * H + H + h; }
  int32_t open(int32_t h) const { return K * H + 2 * H + h; }
  int32_t total(int32_t h) const { return K * H + 3 * H + h; }
};

class ProfileBuilder {
 public:
  ProfileBuilder(const FittedModels& models, MonthIndex first, ModelKind kind, int32_t horizon)
      : m_(models), first_(first), kind_(kind), H_(horizon) {
    const Catalogue& c = models.catalogue;
    T_ = c.num_case_types();
    R_ = c.num_risks();
    K_ = c.num_outcomes();
    W_ = c.num_caseworkers();
    D_ = models.baseline.max_duration() + 1;
    // As planned: passed, 0..H-1, beyond the horizon. Calibrated: kLowestLead..kHighestLead.
    lead_slots_ = kind == ModelKind::kAsPlanned ? H_ + 2 : kCalibratedLeadSlots;
    const uint64_t planned_space = static_cast<uint64_t>(T_) * R_ * lead_slots_ * K_ *
                                   (kind == ModelKind::kCalibrated ? std::max(W_, 1) : 1);
    planned_space_ = kind == ModelKind::kBaseline ? 0 : planned_space;
    // Unplanned profiles are keyed by category too: under the baseline, cases of one type and
    // duration may carry different risks.
    key_space_ = planned_space_ + static_cast<uint64_t>(T_) * D_ * kNumCategories;
    calendar_outcome_.resize(static_cast<size_t>(H_) * K_);
    for (int32_t h = 0; h < H_; ++h) {
      for (int32_t o = 0; o < K_; ++o) {
        calendar_outcome_[static_cast<size_t>(h) * K_ + o] =
            models.baseline.CalendarOutcomeFactor(MonthOfYear(first + h), o);
      }
    }
  }

  uint64_t key_space() const { return key_space_; }
  uint64_t planned_space() const { return planned_space_; }
  // Calibrated keys start with the caseworker: per_caseworker_space() keys each.
  bool caseworker_keyed() const { return kind_ == ModelKind::kCalibrated; }
  uint64_t per_caseworker_space() const {
    return static_cast<uint64_t>(T_) * R_ * lead_slots_ * K_;
  }
  int32_t num_caseworkers() const { return W_; }

  Profile Make(const OpenCase& oc) const {
    Profile p;
    p.type = oc.case_type;
    p.caseworker = oc.caseworker;
    p.team = oc.team;
    p.duration = std::clamp(first_ - oc.opened_month, 0, D_ - 1);
    p.category = static_cast<int32_t>(CategoryOf(m_.catalogue, oc));
    if (kind_ == ModelKind::kBaseline || !oc.expectation.has_value()) return p;
    const Expectation& e = *oc.expectation;
    p.planned = true;
    p.risk = e.risk;
    p.outcome = e.expected_outcome;
    const int32_t lead = e.expected_month - first_;
    if (kind_ == ModelKind::kAsPlanned) {
      p.lead = lead < 0 ? -1 : std::min(lead, H_);
    } else {
      p.lead = std::clamp(lead, kLowestLead, kHighestLead);
    }
    return p;
  }

  uint64_t Key(const Profile& p) const {
    if (!p.planned) {
      return planned_space_ + (static_cast<uint64_t>(p.type) * D_ + p.duration) * kNumCategories +
             p.category;
    }
    const int32_t slot = kind_ == ModelKind::kAsPlanned ? p.lead + 1 : p.lead - kLowestLead;
    uint64_t key = static_cast<uint64_t>(kind_ == ModelKind::kCalibrated ? p.caseworker : 0);
    key = key * T_ + p.type;
    key = key * R_ + p.risk;
    key = key * lead_slots_ + slot;
    return key * K_ + p.outcome;
  }

  // Fills the K*H + 1 entries of the case distribution (last: still open after the horizon).
  void Fill(const Profile& p, double* out) const {
    std::fill(out, out + static_cast<size_t>(K_) * H_ + 1, 0.0);
    const BaselineModel& base = m_.baseline;
    double survive = 1.0;
    if (!p.planned) {
      std::vector<double> shares(K_);
      for (int32_t h = 0; h < H_; ++h) {
        const double hz = base.HazardIn(p.type, p.duration + h, first_ + h);
        const double closing = survive * hz;
        base.OutcomeSharesIn(p.type, p.duration + h, first_ + h, shares.data());
        for (int32_t o = 0; o < K_; ++o) out[h * K_ + o] = closing * shares[o];
        survive -= closing;
      }
    } else if (kind_ == ModelKind::kAsPlanned) {
      // The planned month gets the risk's probability (the current month when the expected
      // month has passed: as planned, the overdue step is carried out now); the rest closes
      // geometrically from the month after, at the type's mean hazard and outcome mix.
      const double planned = m_.catalogue.risk_probability[p.risk];
      const int32_t month = std::max(p.lead, 0);
      if (month >= H_) {
        out[static_cast<size_t>(K_) * H_] = 1.0;
        return;
      }
      out[month * K_ + p.outcome] = planned;
      survive = 1.0 - planned;
      const double g = base.TypeHazard(p.type);
      for (int32_t h = month + 1; h < H_; ++h) {
        const double closing = survive * g;
        for (int32_t o = 0; o < K_; ++o) out[h * K_ + o] = closing * base.OutcomeMix(p.type, o);
        survive -= closing;
      }
    } else {
      // Calibrated: the closure curve, and each month's outcomes by the outcome habits at that
      // month's lead (read once per lead band), the other outcomes with the calendar's factors.
      std::vector<double> q(H_), dest(K_);
      FillClosure(p, q.data());
      const CalibrationModel& cal = m_.calibration;
      int32_t band = -1;
      double stay = 0;
      for (int32_t h = 0; h < H_; ++h) {
        const int32_t lead = p.lead - h;
        if (OutcomeLeadBand(lead) != band) {
          band = OutcomeLeadBand(lead);
          stay =
              cal.OutcomeHabits(p.type, p.risk, p.outcome, lead, p.team, p.caseworker, dest.data());
        }
        const double* factor = &calendar_outcome_[static_cast<size_t>(h) * K_];
        double sum = 0;
        for (int32_t o = 0; o < K_; ++o) sum += dest[o] * factor[o];
        const double scale = sum > 0 ? q[h] * (1.0 - stay) / sum : 0.0;
        for (int32_t o = 0; o < K_; ++o) out[h * K_ + o] = scale * dest[o] * factor[o];
        out[h * K_ + p.outcome] += q[h] * stay;
        survive -= q[h];
      }
    }
    out[static_cast<size_t>(K_) * H_] = std::max(0.0, survive);
  }

  // q_h = P(closes in month h), h < H: the learned hazards from today's lead.
  void FillClosure(const Profile& p, double* q) const {
    m_.calibration.ClosureCurve(p.type, p.risk, p.lead, p.team, p.caseworker, p.outcome, first_, H_,
                                q);
  }

  // The full block column: the distribution plus derived rows (see RowLayout).
  void FillBlock(const Profile& p, double* col, std::vector<double>& scratch) const {
    const RowLayout L{K_, H_};
    scratch.resize(static_cast<size_t>(K_) * H_ + 1);
    Fill(p, scratch.data());
    std::copy(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(K_) * H_, col);
    double cumulative = 0;
    for (int32_t h = 0; h < H_; ++h) {
      double all = 0;
      for (int32_t o = 0; o < K_; ++o) all += scratch[static_cast<size_t>(h) * K_ + o];
      cumulative += all;
      col[L.all(h)] = all;
      col[L.total(h)] = all;
      col[L.cumulative(h)] = std::min(1.0, cumulative);
      col[L.open(h)] = std::max(0.0, 1.0 - cumulative);
    }
  }

  std::vector<std::string> Reasons(const OpenCase& oc, const Profile& p,
                                   std::vector<CaseDistribution::Reason>* details) const;

 private:
  const FittedModels& m_;
  MonthIndex first_;
  ModelKind kind_;
  int32_t H_, T_ = 0, R_ = 0, K_ = 0, W_ = 0, D_ = 0, lead_slots_ = 0;
  uint64_t planned_space_ = 0, key_space_ = 0;
  std::vector<double> calendar_outcome_;  // [h][outcome]: the calendar's outcome factors
};

std::string Code(const std::vector<std::string>& codes, int32_t i) {
  if (i >= 0 && i < static_cast<int32_t>(codes.size()) && !codes[i].empty()) return codes[i];
  return absl::StrCat("#", i);
}

std::string Percent(double p) { return absl::StrFormat("%.0f%%", 100.0 * p); }

std::string Share(double p) { return absl::StrFormat("%.4f", p); }

std::vector<std::string> ProfileBuilder::Reasons(
    const OpenCase& oc, const Profile& p, std::vector<CaseDistribution::Reason>* details) const {
  const Catalogue& c = m_.catalogue;
  std::vector<std::string> reasons;
  auto detail = [details](std::string code,
                          std::vector<std::pair<std::string, std::string>> params) {
    details->push_back({std::move(code), std::move(params)});
  };
  const std::string type = Code(c.case_types, oc.case_type);
  if (!oc.expectation.has_value()) {
    reasons.push_back(
        "No expectation recorded: projected by the baseline for its case type and "
        "duration.");
    detail("NO_EXPECTATION", {});
  }
  if (!p.planned) {
    reasons.push_back(absl::StrCat(type, " cases open ", p.duration, " months close at ",
                                   Percent(m_.baseline.Hazard(p.type, p.duration)),
                                   " a month (competing risks by case type and duration, from ",
                                   static_cast<int64_t>(m_.baseline.Exposure(p.type, p.duration)),
                                   " case-months)."));
    detail("BASELINE",
           {{"case_type", type},
            {"months_open", absl::StrCat(p.duration)},
            {"monthly_share", Share(m_.baseline.Hazard(p.type, p.duration))},
            {"case_months",
             absl::StrCat(static_cast<int64_t>(m_.baseline.Exposure(p.type, p.duration)))}});
  } else {
    const Expectation& e = *oc.expectation;
    const std::string outcome = Code(c.outcomes, e.expected_outcome);
    const std::string risk = Code(c.risks, e.risk);
    const bool passed = e.expected_month < first_;
    reasons.push_back(absl::StrCat("Expected ", outcome, " in ", FormatMonth(e.expected_month),
                                   " with ", risk, " risk (recorded ",
                                   FormatMonth(e.recorded_month), ")."));
    detail("EXPECTED", {{"outcome", outcome},
                        {"month", FormatMonth(e.expected_month)},
                        {"risk", risk},
                        {"recorded", FormatMonth(e.recorded_month)}});
    if (passed) {
      reasons.push_back(absl::StrCat("The expected month has passed and the case is still open (",
                                     first_ - e.expected_month, " months)."));
      detail("PASSED", {{"months", absl::StrCat(first_ - e.expected_month)}});
    }
    if (kind_ == ModelKind::kAsPlanned) {
      const double planned = c.risk_probability[e.risk];
      reasons.push_back(absl::StrCat(
          "As planned: ", Percent(planned), " to close ", passed ? "this month" : "in that month",
          passed ? " (the overdue step is assumed carried out now)" : "",
          "; otherwise it closes at ", Percent(m_.baseline.TypeHazard(p.type)),
          " a month with the outcome mix of ", type, " cases."));
      detail("AS_PLANNED", {{"share", Share(planned)},
                            {"passed", passed ? "1" : "0"},
                            {"monthly_share", Share(m_.baseline.TypeHazard(p.type))},
                            {"case_type", type}});
    } else {
      const CalibrationModel& cal = m_.calibration;
      const int32_t lead = e.expected_month - first_;
      reasons.push_back(absl::StrCat(
          "Calibrated on ", cal.person_months(),
          " case-months of past expectations: at this lead (", lead, " months) such cases close ",
          Percent(cal.Hazard(p.type, p.risk, lead, 0, -1, -1)),
          " this month at the centre; this caseworker's factor is ",
          absl::StrFormat("%.2f", cal.CaseworkerFactor(oc.caseworker, lead)), "."));
      detail("CALIBRATED",
             {{"case_months", absl::StrCat(cal.person_months())},
              {"lead", absl::StrCat(lead)},
              {"monthly_share", Share(cal.Hazard(p.type, p.risk, lead, 0, -1, -1))},
              {"factor", absl::StrFormat("%.2f", cal.CaseworkerFactor(oc.caseworker, lead))}});
      reasons.push_back(absl::StrCat("The caseworker's expectations slip ",
                                     absl::StrFormat("%+.1f", cal.MeanSlip(oc.caseworker)),
                                     " months on average (shrunk toward the team); ",
                                     Percent(cal.ExpectedOutcomeWeight(e.risk)),
                                     " of closures follow the expected outcome."));
      detail("SLIP", {{"months", absl::StrFormat("%.1f", cal.MeanSlip(oc.caseworker))},
                      {"share", Share(cal.ExpectedOutcomeWeight(e.risk))}});
    }
  }
  if (oc.action_overdue) {
    reasons.push_back("Its next action is overdue.");
    detail("ACTION_OVERDUE", {});
  }
  return reasons;
}

// Groups the cases into profiles: a dense table when the key space is small, else a hash map.
struct Grouping {
  std::vector<Profile> profiles;
  std::vector<double> counts;
};

// Rows of the block that the categories split: all outcomes per month, then cumulative.
struct CategoryRows {
  int32_t H;
  int32_t rows() const { return 2 * H; }
  int32_t index(int32_t c, int32_t row) const { return c * rows() + row; }
};

// Groups the cases into profiles. `on_case` sees every case once (for counts). Keys are dense:
// as planned and baseline in one table; calibrated keys include the caseworker, so cases are
// first bucketed by caseworker (a counting sort) and each caseworker's keys use a small table.
template <typename ForEachCase, typename OnCase>
Grouping GroupCases(const ProfileBuilder& builder, ForEachCase&& for_each, OnCase&& on_case) {
  Grouping g;
  if (!builder.caseworker_keyed()) {
    // Count per key in one table (one random access per case), keep the first case of each.
    std::vector<uint32_t> count(builder.key_space(), 0);
    std::vector<const OpenCase*> first(builder.key_space(), nullptr);
    for_each([&](const OpenCase& oc) {
      on_case(oc);
      const uint64_t key = builder.Key(builder.Make(oc));
      if (count[key]++ == 0) first[key] = &oc;
    });
    for (size_t key = 0; key < count.size(); ++key) {
      if (count[key] == 0) continue;
      g.profiles.push_back(builder.Make(*first[key]));
      g.counts.push_back(count[key]);
    }
    return g;
  }
  const int32_t W = builder.num_caseworkers();
  std::vector<uint32_t> start(static_cast<size_t>(W) + 1, 0);
  size_t n = 0;
  for_each([&](const OpenCase& oc) {
    on_case(oc);
    ++start[static_cast<size_t>(oc.caseworker) + 1];
    ++n;
  });
  for (int32_t w = 0; w < W; ++w) start[w + 1] += start[w];
  std::vector<const OpenCase*> order(n);
  {
    std::vector<uint32_t> next(start.begin(), start.end() - 1);
    for_each([&](const OpenCase& oc) { order[next[oc.caseworker]++] = &oc; });
  }
  const uint64_t per = builder.per_caseworker_space();
  std::vector<int32_t> local(per, -1), shared(builder.key_space() - builder.planned_space(), -1);
  std::vector<uint64_t> touched;
  auto add = [&](const Profile& p, int32_t& index) {
    if (index < 0) {
      index = static_cast<int32_t>(g.profiles.size());
      g.profiles.push_back(p);
      g.counts.push_back(0.0);
    }
    g.counts[index] += 1.0;
  };
  for (int32_t w = 0; w < W; ++w) {
    const uint64_t base = static_cast<uint64_t>(w) * per;
    for (uint32_t i = start[w]; i < start[w + 1]; ++i) {
      const Profile p = builder.Make(*order[i]);
      const uint64_t key = builder.Key(p);
      if (key >= builder.planned_space()) {
        add(p, shared[key - builder.planned_space()]);
        continue;
      }
      if (local[key - base] < 0) touched.push_back(key - base);
      add(p, local[key - base]);
    }
    for (uint64_t k : touched) local[k] = -1;
    touched.clear();
  }
  return g;
}

absl::Status CheckHorizon(int32_t horizon) {
  if (horizon < 1 || horizon > kMaxHorizonMonths) {
    return absl::InvalidArgumentError(
        absl::StrCat("horizon_months: ", horizon, " is not in 1..", kMaxHorizonMonths));
  }
  return absl::OkStatus();
}

}  // namespace

ForecastCategory RiskCategory(double risk_probability) {
  if (risk_probability >= kSafeRiskProbability) return ForecastCategory::kSafe;
  if (risk_probability >= kLikelyRiskProbability) return ForecastCategory::kLikely;
  return ForecastCategory::kPossible;
}

ForecastCategory CategoryOf(const Catalogue& catalogue, const OpenCase& c) {
  if (!c.expectation.has_value()) return ForecastCategory::kPossible;
  return RiskCategory(catalogue.risk_probability[c.expectation->risk]);
}

absl::StatusOr<Projector> Projector::Create(const Portfolio& portfolio,
                                            const FittedModels& models) {
  if (auto s = ValidateCatalogue(models.catalogue); !s.ok()) return s;
  if (auto s = ValidatePortfolio(models.catalogue, portfolio); !s.ok()) return s;
  if (models.baseline.num_outcomes() != models.catalogue.num_outcomes()) {
    return absl::FailedPreconditionError("models: not fitted (use FittedModels::Fit)");
  }
  return Projector(&portfolio, &models);
}

namespace {

struct ProjectInputs {
  const Portfolio* portfolio;
  const FittedModels* models;
  bool all;  // every case (positions ignored)
  const int32_t* positions;
  size_t n;
};

absl::StatusOr<Projection> ProjectImpl(const ProjectInputs& in, const ProjectionRequest& request) {
  if (auto s = CheckHorizon(request.horizon_months); !s.ok()) return s;
  const Portfolio& portfolio = *in.portfolio;
  const FittedModels& models = *in.models;
  const int32_t K = models.catalogue.num_outcomes(), H = request.horizon_months;
  const MonthIndex first = portfolio.as_of_month;
  const int64_t total = static_cast<int64_t>(portfolio.cases.size());
  if (!in.all) {
    for (size_t i = 0; i < in.n; ++i) {
      if (in.positions[i] < 0 || in.positions[i] >= total) {
        return absl::InvalidArgumentError(
            absl::StrCat("case_positions[", i, "]: ", in.positions[i], " is out of range"));
      }
    }
  }

  Projection out;
  out.model = request.model;
  out.first_month = first;
  out.horizon_months = H;
  out.num_outcomes = K;
  ProfileBuilder builder(models, first, request.model, H);
  auto for_each = [&](auto&& f) {
    if (in.all) {
      for (const OpenCase& oc : portfolio.cases) f(oc);
    } else {
      for (size_t i = 0; i < in.n; ++i) f(portfolio.cases[in.positions[i]]);
    }
  };
  const bool categories = request.categories;
  const Grouping groups = GroupCases(builder, for_each, [&](const OpenCase& oc) {
    ++out.open_cases;
    if (categories) ++out.category_cases[static_cast<int32_t>(CategoryOf(models.catalogue, oc))];
    if (oc.expectation.has_value()) {
      ++out.cases_with_expectation;
      if (oc.expectation->expected_month < first) ++out.passed_horizon;
    }
  });
  out.cases_without_expectation = out.open_cases - out.cases_with_expectation;

  // Inflow and the new cases still open at each month end (Poisson thinned by baseline survival).
  std::vector<double> inflow(H, 0.0), inflow_open(H, 0.0), inflow_closing(H, 0.0);
  std::vector<double> inflow_closing_by_outcome(static_cast<size_t>(H) * K, 0.0), shares(K);
  if (request.inflow != nullptr) {
    const int32_t T = models.catalogue.num_case_types();
    if (request.inflow->num_case_types() != T) {
      return absl::InvalidArgumentError("inflow: fitted for a different number of case types");
    }
    for (int32_t t = 0; t < T; ++t) {
      for (int32_t j = 0; j < H; ++j) {
        const double lambda = request.inflow->Expected(t, first + j);
        inflow[j] += lambda;
        double survive = 1.0;
        for (int32_t h = j; h < H; ++h) {
          const double hazard = models.baseline.HazardIn(t, h - j, first + h);
          inflow_closing[h] += lambda * survive * hazard;
          models.baseline.OutcomeSharesIn(t, h - j, first + h, shares.data());
          for (int32_t o = 0; o < K; ++o) {
            inflow_closing_by_outcome[static_cast<size_t>(h) * K + o] +=
                lambda * survive * hazard * shares[o];
          }
          survive *= 1.0 - hazard;
          inflow_open[h] += lambda * survive;
        }
      }
    }
  }

  // Pass 1: cumulants of every row, one block of profile columns at a time, reduced column-wise
  // with the profiles' multiplicities.
  const RowLayout L{K, H};
  const int32_t R = L.rows();
  std::vector<int32_t> generic(groups.profiles.size());
  for (size_t j = 0; j < generic.size(); ++j) generic[j] = static_cast<int32_t>(j);
  const bool intervals = request.with_intervals;
  Eigen::VectorXd k1 = Eigen::VectorXd::Zero(R), k2 = Eigen::VectorXd::Zero(R),
                  k3 = Eigen::VectorXd::Zero(R);
  Eigen::MatrixXd block(R, kChunk);
  Eigen::VectorXd c_block(kChunk);
  std::vector<double> scratch;
  auto fill_generic = [&](size_t begin, size_t end) {
    for (size_t j = begin; j < end; ++j) {
      builder.FillBlock(groups.profiles[generic[j]],
                        block.col(static_cast<Eigen::Index>(j - begin)).data(), scratch);
      c_block[static_cast<Eigen::Index>(j - begin)] = groups.counts[generic[j]];
    }
  };
  // Adds the cumulants of Bernoulli(P) columns weighted by c to rows [row, row + P.rows()).
  auto add_cumulants = [&](const auto& P, const auto& c, int32_t row) {
    const Eigen::Index rows = P.rows();
    k1.segment(row, rows).noalias() += P.matrix() * c;
    if (!intervals) return;
    const Eigen::ArrayXXd v = P * (1.0 - P);
    k2.segment(row, rows).noalias() += v.matrix() * c;
    k3.segment(row, rows).noalias() += (v * (1.0 - 2.0 * P)).matrix() * c;
  };
  // The categories' cumulants of the all-outcomes and cumulative rows: the same columns, each
  // weighted by its multiplicity when its profile is in the category, else 0.
  const CategoryRows C{H};
  const int32_t CR = C.rows();
  const Eigen::Index category_size = categories ? kNumCategories * CR : 0;
  Eigen::VectorXd ck1 = Eigen::VectorXd::Zero(category_size),
                  ck2 = Eigen::VectorXd::Zero(category_size),
                  ck3 = Eigen::VectorXd::Zero(category_size);
  Eigen::VectorXd c_masked(kChunk);
  auto in_category = [&](size_t j, int32_t c) { return groups.profiles[generic[j]].category == c; };
  auto add_category_cumulants = [&](size_t begin, Eigen::Index n) {
    const Eigen::ArrayXXd P = block.block(L.all(0), 0, CR, n).array();
    Eigen::ArrayXXd v, skew;
    if (intervals) {
      v = P * (1.0 - P);
      skew = v * (1.0 - 2.0 * P);
    }
    for (int32_t c = 0; c < kNumCategories; ++c) {
      bool any = false;
      for (Eigen::Index j = 0; j < n; ++j) {
        const bool in = in_category(begin + static_cast<size_t>(j), c);
        c_masked[j] = in ? c_block[j] : 0.0;
        any = any || in;
      }
      if (!any) continue;
      ck1.segment(C.index(c, 0), CR).noalias() += P.matrix() * c_masked.head(n);
      if (!intervals) continue;
      ck2.segment(C.index(c, 0), CR).noalias() += v.matrix() * c_masked.head(n);
      ck3.segment(C.index(c, 0), CR).noalias() += skew.matrix() * c_masked.head(n);
    }
  };
  for (size_t begin = 0; begin < generic.size(); begin += kChunk) {
    const size_t end = std::min(generic.size(), begin + kChunk);
    const auto n = static_cast<Eigen::Index>(end - begin);
    fill_generic(begin, end);
    add_cumulants(block.leftCols(n).array(), c_block.head(n), 0);
    if (categories) add_category_cumulants(begin, n);
  }

  // Rows with small variance get their exact (or binned) distribution in pass 2.
  std::vector<double> extra_poisson(R, 0.0);
  for (int32_t h = 0; h < H; ++h) {
    extra_poisson[L.open(h)] = inflow_open[h];
    extra_poisson[L.total(h)] = inflow_closing[h];
  }
  // Shared monthly shocks: variance (sd x figure)^2 per month, growing with the months ahead
  // (parameter uncertainty); cumulative and open figures add up the months so far. Cumulative
  // closures are today's cases' only, so they add up today's cases' shocks: the figure is the
  // same with or without inflow (the team dashboard projects none, the team comparison and the
  // projection do). The open caseload includes the new cases, so it adds up all closures'.
  std::vector<double> noise(R, 0.0);
  std::vector<double> category_noise(static_cast<size_t>(category_size), 0.0);
  if (intervals && request.honest_intervals) {
    const double shock = models.baseline.MonthShockVariance();
    double running = 0, running_today = 0;
    std::vector<double> running_category(kNumCategories, 0.0);
    for (int32_t h = 0; h < H; ++h) {
      const double v = shock * (1.0 + h / 6.0);
      for (int32_t o = 0; o < K; ++o) noise[L.cell(h, o)] = v * k1[L.cell(h, o)] * k1[L.cell(h, o)];
      noise[L.all(h)] = v * k1[L.all(h)] * k1[L.all(h)];
      const double all_closures = k1[L.total(h)] + extra_poisson[L.total(h)];
      noise[L.total(h)] = v * all_closures * all_closures;
      running += v * all_closures * all_closures;
      running_today += noise[L.all(h)];
      noise[L.cumulative(h)] = running_today;
      noise[L.open(h)] = running;
      if (!categories) continue;
      for (int32_t c = 0; c < kNumCategories; ++c) {
        const double month = ck1[C.index(c, h)];
        category_noise[C.index(c, h)] = v * month * month;
        running_category[c] += v * month * month;
        category_noise[C.index(c, H + h)] = running_category[c];
      }
    }
  }
  std::vector<int32_t> small_rows;
  if (intervals) {
    for (int32_t r = 0; r < R; ++r) {
      if (k2[r] + extra_poisson[r] + noise[r] <= kExactVarianceLimit) small_rows.push_back(r);
    }
  }
  std::vector<CountSum> sums(small_rows.size());
  for (size_t s = 0; s < small_rows.size(); ++s) {
    sums[s].AddNoiseVariance(noise[small_rows[s]]);
    sums[s].set_nearest_coverage(request.honest_intervals);
  }
  // The same for the categories' rows (index C.index(category, row)).
  std::vector<int32_t> small_category_rows;
  if (intervals) {
    for (int32_t i = 0; i < category_size; ++i) {
      if (ck2[i] + category_noise[i] <= kExactVarianceLimit) small_category_rows.push_back(i);
    }
  }
  std::vector<CountSum> category_sums(small_category_rows.size());
  for (size_t s = 0; s < small_category_rows.size(); ++s) {
    category_sums[s].AddNoiseVariance(category_noise[small_category_rows[s]]);
    category_sums[s].set_nearest_coverage(request.honest_intervals);
  }
  if (!small_rows.empty() || !small_category_rows.empty()) {
    for (size_t begin = 0; begin < generic.size(); begin += kChunk) {
      const size_t end = std::min(generic.size(), begin + kChunk);
      fill_generic(begin, end);
      for (size_t s = 0; s < small_rows.size(); ++s) {
        for (size_t j = 0; j < end - begin; ++j) {
          const auto col = static_cast<Eigen::Index>(j);
          sums[s].AddBernoulli(block(small_rows[s], col), c_block[col]);
        }
      }
      for (size_t s = 0; s < small_category_rows.size(); ++s) {
        const int32_t c = small_category_rows[s] / CR;
        const int32_t row = L.all(0) + small_category_rows[s] % CR;
        for (size_t j = 0; j < end - begin; ++j) {
          if (!in_category(begin + j, c)) continue;
          const auto col = static_cast<Eigen::Index>(j);
          category_sums[s].AddBernoulli(block(row, col), c_block[col]);
        }
      }
    }
  }
  std::vector<CountSummary> summary(R);
  for (int32_t r = 0; r < R; ++r) {
    summary[r].mean = k1[r] + extra_poisson[r];
    summary[r].p10 = summary[r].p90 = summary[r].mean;
  }
  if (request.with_intervals) {
    std::vector<bool> done(R, false);
    for (size_t s = 0; s < small_rows.size(); ++s) {
      const int32_t r = small_rows[s];
      sums[s].AddPoisson(extra_poisson[r]);
      summary[r] = sums[s].Summarise();
      done[r] = true;
    }
    for (int32_t r = 0; r < R; ++r) {
      if (done[r]) continue;
      const double e = extra_poisson[r];
      summary[r] = SkewNormalSummary(0.0, k1[r] + e, k2[r] + e + noise[r], k3[r] + e);
    }
    for (int32_t r = 0; r < R; ++r) ++out.method_counts[static_cast<int>(summary[r].method)];
  }

  auto estimate = [](const CountSummary& s) { return Estimate{s.mean, s.p10, s.p90}; };
  out.closures.resize(static_cast<size_t>(H) * (K + 1));
  out.cumulative_closures.resize(H);
  out.open.resize(H);
  out.inflow.resize(H);
  out.new_closures.resize(H);
  out.new_closures_by_outcome = std::move(inflow_closing_by_outcome);
  out.total_closures.resize(H);
  for (int32_t h = 0; h < H; ++h) {
    out.total_closures[h] = estimate(summary[L.total(h)]);
    Estimate new_closing{inflow_closing[h], inflow_closing[h], inflow_closing[h]};
    if (request.with_intervals && inflow_closing[h] > 0) {
      CountSum s;
      s.AddPoisson(inflow_closing[h]);
      const CountSummary cs = s.Summarise();
      new_closing = Estimate{cs.mean, cs.p10, cs.p90};
    }
    out.new_closures[h] = new_closing;
    for (int32_t o = 0; o < K; ++o)
      out.closures[static_cast<size_t>(h) * (K + 1) + o] = estimate(summary[L.cell(h, o)]);
    out.closures[static_cast<size_t>(h) * (K + 1) + K] = estimate(summary[L.all(h)]);
    out.cumulative_closures[h] = estimate(summary[L.cumulative(h)]);
    out.open[h] = estimate(summary[L.open(h)]);
    Estimate in_flow{inflow[h], inflow[h], inflow[h]};
    if (request.with_intervals && inflow[h] > 0) {
      CountSum s;
      s.AddPoisson(inflow[h]);
      const CountSummary cs = s.Summarise();
      in_flow = Estimate{cs.mean, cs.p10, cs.p90};
    }
    out.inflow[h] = in_flow;
  }
  out.still_open_at_horizon = k1[L.open(H - 1)];
  if (categories) {
    std::vector<CountSummary> category_summary(static_cast<size_t>(category_size));
    for (int32_t i = 0; i < category_size; ++i) {
      category_summary[i].mean = ck1[i];
      category_summary[i].p10 = category_summary[i].p90 = ck1[i];
    }
    if (intervals) {
      std::vector<bool> done(static_cast<size_t>(category_size), false);
      for (size_t s = 0; s < small_category_rows.size(); ++s) {
        category_summary[small_category_rows[s]] = category_sums[s].Summarise();
        done[small_category_rows[s]] = true;
      }
      for (int32_t i = 0; i < category_size; ++i) {
        if (!done[i]) {
          category_summary[i] = SkewNormalSummary(0.0, ck1[i], ck2[i] + category_noise[i], ck3[i]);
        }
      }
    }
    out.category_closures.resize(static_cast<size_t>(H) * kNumCategories);
    out.category_cumulative.resize(static_cast<size_t>(H) * kNumCategories);
    for (int32_t h = 0; h < H; ++h) {
      for (int32_t c = 0; c < kNumCategories; ++c) {
        out.category_closures[static_cast<size_t>(h) * kNumCategories + c] =
            estimate(category_summary[C.index(c, h)]);
        out.category_cumulative[static_cast<size_t>(h) * kNumCategories + c] =
            estimate(category_summary[C.index(c, H + h)]);
      }
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<Projection> Projector::Project(absl::Span<const int32_t> case_positions,
                                              const ProjectionRequest& request) const {
  return ProjectImpl({portfolio_, models_, false, case_positions.data(), case_positions.size()},
                     request);
}

absl::StatusOr<Projection> Projector::ProjectAll(const ProjectionRequest& request) const {
  return ProjectImpl({portfolio_, models_, true, nullptr, 0}, request);
}

absl::StatusOr<Eigen::MatrixXd> Projector::Distributions(absl::Span<const int32_t> case_positions,
                                                         ModelKind model,
                                                         int32_t horizon_months) const {
  if (auto s = CheckHorizon(horizon_months); !s.ok()) return s;
  const int32_t K = models_->catalogue.num_outcomes();
  ProfileBuilder builder(*models_, portfolio_->as_of_month, model, horizon_months);
  Eigen::MatrixXd out(static_cast<Eigen::Index>(K) * horizon_months + 1,
                      static_cast<Eigen::Index>(case_positions.size()));
  for (size_t i = 0; i < case_positions.size(); ++i) {
    const int32_t pos = case_positions[i];
    if (pos < 0 || pos >= static_cast<int32_t>(portfolio_->cases.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("case_positions[", i, "]: ", pos, " is out of range"));
    }
    builder.Fill(builder.Make(portfolio_->cases[pos]),
                 out.col(static_cast<Eigen::Index>(i)).data());
  }
  return out;
}

absl::StatusOr<CaseDistribution> Projector::Explain(int32_t case_position, ModelKind model,
                                                    int32_t horizon_months) const {
  if (auto s = CheckHorizon(horizon_months); !s.ok()) return s;
  if (case_position < 0 || case_position >= static_cast<int32_t>(portfolio_->cases.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("case_position: ", case_position, " is out of range"));
  }
  const OpenCase& oc = portfolio_->cases[case_position];
  const int32_t K = models_->catalogue.num_outcomes();
  ProfileBuilder builder(*models_, portfolio_->as_of_month, model, horizon_months);
  const Profile p = builder.Make(oc);
  CaseDistribution d;
  d.case_id = oc.case_id;
  d.model = model;
  d.first_month = portfolio_->as_of_month;
  d.horizon_months = horizon_months;
  d.num_outcomes = K;
  std::vector<double> column(static_cast<size_t>(K) * horizon_months + 1);
  builder.Fill(p, column.data());
  d.still_open_at_horizon = column.back();
  column.pop_back();
  d.probability = std::move(column);
  d.reasons = builder.Reasons(oc, p, &d.reason_details);
  return d;
}

}  // namespace forecasting
