#include "services/forecast/milestones.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "forecasting/count_distribution.h"
#include "services/common/calendar.h"

namespace forecast::fsvc {
namespace {

Day LastDay(Month m) { return Day(m + 1) - 1; }

bool FieldMatches(const MilestoneMetricDef& metric, const FieldDef& def, const FieldValue& v) {
  if (!metric.choice.empty()) return v.present && v.text == metric.choice;
  return v.IsSet(def.type);
}

v1::Estimate Exact(double value) {
  v1::Estimate e;
  e.set_expected(value);
  e.set_p10(value);
  e.set_p90(value);
  return e;
}

v1::Estimate FromSum(const forecasting::CountSum& sum) {
  const forecasting::CountSummary s = sum.Summarise();
  v1::Estimate e;
  e.set_expected(s.mean);
  e.set_p10(s.p10);
  e.set_p90(s.p90);
  return e;
}

std::string Method(const MilestoneMetricDef& m) {
  switch (m.kind) {
    case MetricKind::kClosures:
      return absl::StrCat(
          "Actual: closures recorded in the month",
          m.outcome_group.empty() ? "" : " to outcomes of group ", m.outcome_group,
          ", on cases held by the scope on the closing day. Projected: the actual "
          "so far plus the calibrated model's closures of today's open cases in the rest of the "
          "month, plus the closures of cases still to open (inflow and baseline) (80% interval).");
    case MetricKind::kFieldTurnedTrue:
      return absl::StrCat(
          "Actual: cases whose field '", m.field_code,
          "' turned true in the month. Projected: "
          "the actual so far plus the mean of the last three full months, pro rata for the rest "
          "of the month (Poisson 80% interval).");
    case MetricKind::kFieldSet:
      return absl::StrCat(
          "Actual: open cases with '", m.field_code, m.choice.empty() ? "" : "' = '", m.choice,
          "' set at the month's end (or today). Projected: today's such cases still open at the "
          "month's end (calibrated model, 80% interval).");
    case MetricKind::kCaseload:
      return "Actual: open cases at the month's end (or today). Projected: today's cases still "
             "open plus new cases still open (calibrated model with the scope's seasonal inflow, "
             "80% interval). Lower is better.";
  }
  return "";
}

}  // namespace

absl::StatusOr<v1::Milestones> BuildMilestones(const CentreView& view, int64_t team_id,
                                               int64_t caseworker_id, Month from, Month to) {
  if (to < from) return absl::InvalidArgumentError("to_month: before from_month");
  if (MonthsBetween(from, to) + 1 > kMaxMilestoneMonths) {
    return absl::InvalidArgumentError(
        absl::StrCat("to_month: at most ", kMaxMilestoneMonths, " months from from_month"));
  }
  const CentreHistory& h = view.history();
  const ViewDays& vd = view.snapshot().view();
  const Day today = view.today();
  const Month now(today);
  const ScopeFilter scope = caseworker_id != 0
                                ? ScopeFilter{ScopeFilter::Kind::kCaseworker, caseworker_id}
                                : ScopeFilter{ScopeFilter::Kind::kTeam, team_id};
  const std::vector<MilestoneMetricDef>& metrics = h.metrics;
  const bool projects = to >= now;
  // Months counted: the requested ones, plus the three full months before this one when the
  // run rate of a flow metric is needed.
  const Month start = projects ? std::min(from, now - 3) : from;
  const int num_months = static_cast<int>(MonthsBetween(start, to)) + 1;
  const Day range_start(start);
  const Day range_end = std::min(LastDay(to), today);
  std::vector<std::vector<double>> actual(metrics.size(), std::vector<double>(num_months, 0.0));
  bool any_flow_field = false, any_stock = false;
  for (const MilestoneMetricDef& m : metrics) {
    any_flow_field |= m.kind == MetricKind::kFieldTurnedTrue;
    any_stock |= m.kind == MetricKind::kFieldSet || m.kind == MetricKind::kCaseload;
  }
  auto in_scope_on = [&](const CaseTimeline& r, Day day) {
    const AssignmentEvent* holder = HolderOn(r, day, vd);
    return holder != nullptr && scope.Covers(h, holder->caseworker_id, holder->team_id);
  };
  auto field_def = [&](const std::string& code) -> const FieldDef* {
    auto it = h.field_index.find(code);
    return it == h.field_index.end() ? nullptr : &h.fields[it->second];
  };

  for (const CaseState& s : view.snapshot().cases()) {
    const CaseTimeline& r = *s.record;
    for (const StatusEvent& st : r.statuses) {
      if (!st.closed || st.on < range_start || st.on > range_end || !vd.Sees(st.on, st.known_on)) {
        continue;
      }
      if (!in_scope_on(r, st.on)) continue;
      const int m = static_cast<int>(MonthsBetween(start, Month(st.on)));
      const std::string& group =
          st.outcome >= 0 ? h.catalogue.outcome_groups[st.outcome] : std::string();
      for (size_t k = 0; k < metrics.size(); ++k) {
        if (metrics[k].kind == MetricKind::kClosures &&
            (metrics[k].outcome_group.empty() || metrics[k].outcome_group == group)) {
          actual[k][m] += 1;
        }
      }
    }
    if (any_flow_field && !r.fields.empty()) {
      std::vector<bool> was_true(h.fields.size(), false);
      for (const FieldEvent& f : r.fields) {
        if (f.effective_on > range_end) break;
        if (!vd.Sees(f.effective_on, f.known_on)) continue;
        const bool now_true =
            h.fields[f.field].type == FieldType::kBool && f.value.present && f.value.bool_value;
        if (now_true && !was_true[f.field] && f.effective_on >= range_start &&
            in_scope_on(r, f.effective_on)) {
          const int m = static_cast<int>(MonthsBetween(start, Month(f.effective_on)));
          for (size_t k = 0; k < metrics.size(); ++k) {
            if (metrics[k].kind == MetricKind::kFieldTurnedTrue &&
                metrics[k].field_code == h.fields[f.field].code) {
              actual[k][m] += 1;
            }
          }
        }
        was_true[f.field] = now_true;
      }
    }
    if (any_stock && !(!s.open && s.closed_on < range_start) && r.opened_on <= range_end) {
      for (Month month = std::max(start, Month(r.opened_on)); month <= std::min(to, now); ++month) {
        const Day end = std::min(LastDay(month), today);
        if (!OpenOn(r, end, vd) || !in_scope_on(r, end)) continue;
        const int m = static_cast<int>(MonthsBetween(start, month));
        std::optional<std::vector<FieldValue>> fields;
        for (size_t k = 0; k < metrics.size(); ++k) {
          if (metrics[k].kind == MetricKind::kCaseload) {
            actual[k][m] += 1;
          } else if (metrics[k].kind == MetricKind::kFieldSet) {
            const FieldDef* def = field_def(metrics[k].field_code);
            if (def == nullptr) continue;
            if (!fields) fields = FieldsOn(r, h.fields.size(), end, vd);
            if (FieldMatches(metrics[k], *def, (*fields)[h.field_index.at(def->code)])) {
              actual[k][m] += 1;
            }
          }
        }
      }
    }
  }

  // The model's view of the months from now on.
  const std::vector<int32_t> positions = view.Positions(scope);
  const int horizon =
      projects ? std::min<int>(static_cast<int>(MonthsBetween(now, to)) + 1, 24) : 0;
  Eigen::MatrixXd dist;
  std::optional<forecasting::Projection> caseload;
  const int num_outcomes = view.inputs().catalogue.num_outcomes();
  if (horizon > 0) {
    absl::StatusOr<Eigen::MatrixXd> d =
        view.projector().Distributions(positions, forecasting::ModelKind::kCalibrated, horizon);
    if (!d.ok()) return d.status();
    dist = std::move(*d);
    forecasting::ProjectionRequest request;
    request.model = forecasting::ModelKind::kCalibrated;
    request.horizon_months = horizon;
    request.inflow = &view.ScopeInflow(scope);
    absl::StatusOr<forecasting::Projection> p = view.projector().Project(positions, request);
    if (!p.ok()) return p.status();
    caseload = std::move(*p);
  }
  // P(still open at the end of month offset h) per case column.
  auto open_at = [&](int col, int hh) {
    double closed = 0;
    for (int x = 0; x <= hh; ++x) {
      for (int o = 0; o < num_outcomes; ++o) closed += dist(x * num_outcomes + o, col);
    }
    return std::max(0.0, 1.0 - closed);
  };

  v1::Milestones out;
  out.set_team(h.UnitCode(team_id));
  out.set_caseworker(caseworker_id != 0 ? h.StaffCode(caseworker_id) : "");
  out.set_as_of(FormatDay(today));
  // Fields some case has had a value for, as the view knows it.
  std::vector<bool> field_used(h.fields.size(), false);
  for (const auto& ptr : h.cases) {
    for (const FieldEvent& f : ptr->fields) {
      if (f.field >= 0 && vd.Knows(f.known_on)) field_used[f.field] = true;
    }
  }
  for (size_t k = 0; k < metrics.size(); ++k) {
    const MilestoneMetricDef& metric = metrics[k];
    const FieldDef* def = metric.field_code.empty() ? nullptr : field_def(metric.field_code);
    double run_rate = 0;
    if (projects) {
      for (int back = 1; back <= 3; ++back) {
        run_rate += actual[k][MonthsBetween(start, now - back)] / 3.0;
      }
    }
    for (Month month = from; month <= to; ++month) {
      const int m = static_cast<int>(MonthsBetween(start, month));
      const double act = month <= now ? actual[k][m] : 0.0;
      v1::MilestoneRow* row = out.add_rows();
      row->set_metric(metric.code);
      row->set_metric_label_da(metric.label_da);
      row->set_metric_label_en(metric.label_en);
      row->set_kind(MetricKindName(metric.kind));
      row->set_higher_is_better(metric.higher_is_better);
      row->set_month(FormatMonth(month));
      row->set_actual(act);
      if (metric.kind == MetricKind::kFieldTurnedTrue || metric.kind == MetricKind::kFieldSet) {
        row->set_field_missing(def == nullptr || !field_used[h.field_index.at(def->code)]);
      }
      const MilestoneTargetRecord* target = nullptr;
      for (const MilestoneTargetRecord& t : h.targets) {
        if (t.team_id == team_id && t.caseworker_id == caseworker_id && t.metric == metric.code &&
            t.month == month && vd.Knows(t.known_on) && t.known_on <= today) {
          target = &t;
        }
      }
      row->set_has_target(target != nullptr);
      row->set_target(target != nullptr ? target->target : 0.0);

      const int hh = static_cast<int>(MonthsBetween(now, month));
      if (month < now || hh >= horizon) {
        *row->mutable_projected() = Exact(act);
      } else {
        forecasting::CountSum sum;
        switch (metric.kind) {
          case MetricKind::kClosures:
            sum.AddConstant(act);
            for (int col = 0; col < dist.cols(); ++col) {
              double p = 0;
              for (int o = 0; o < num_outcomes; ++o) {
                if (metric.outcome_group.empty() ||
                    h.catalogue.outcome_groups[o] == metric.outcome_group) {
                  p += dist(hh * num_outcomes + o, col);
                }
              }
              sum.AddBernoulli(std::clamp(p, 0.0, 1.0));
            }
            if (caseload.has_value() && !caseload->new_closures_by_outcome.empty()) {
              // Cases opening from now on close too (inflow x baseline; this month pro rata).
              const double days = static_cast<double>(LastDay(month).day());
              const double rest = hh == 0 ? (days - today.day()) / days : 1.0;
              double mean = 0;
              for (int o = 0; o < num_outcomes; ++o) {
                if (metric.outcome_group.empty() ||
                    h.catalogue.outcome_groups[o] == metric.outcome_group) {
                  mean +=
                      caseload->new_closures_by_outcome[static_cast<size_t>(hh) * num_outcomes + o];
                }
              }
              sum.AddPoisson(mean * rest);
            }
            *row->mutable_projected() = FromSum(sum);
            break;
          case MetricKind::kFieldTurnedTrue: {
            const double days = static_cast<double>(LastDay(month).day());
            const double rest = hh == 0 ? (days - today.day()) / days : 1.0;
            sum.AddConstant(act);
            sum.AddPoisson(run_rate * rest);
            *row->mutable_projected() = FromSum(sum);
            break;
          }
          case MetricKind::kFieldSet:
            for (int col = 0; col < static_cast<int>(positions.size()) && def != nullptr; ++col) {
              const CaseState& s = view.OpenCase(positions[col]);
              if (FieldMatches(metric, *def, s.fields[h.field_index.at(def->code)])) {
                sum.AddBernoulli(open_at(col, hh));
              }
            }
            *row->mutable_projected() = FromSum(sum);
            break;
          case MetricKind::kCaseload: {
            v1::Estimate* e = row->mutable_projected();
            e->set_expected(caseload->open[hh].expected);
            e->set_p10(caseload->open[hh].p10);
            e->set_p90(caseload->open[hh].p90);
            break;
          }
        }
      }
      if (target != nullptr) {
        const double expected = row->projected().expected();
        row->set_on_track(metric.higher_is_better ? expected >= target->target
                                                  : expected <= target->target);
        const double short_by =
            metric.higher_is_better ? target->target - act : act - target->target;
        row->set_gap(std::ceil(std::max(0.0, short_by) - 1e-9));
      }
      v1::Explanation* e = row->mutable_explanation();
      e->set_method_key(absl::StrCat("milestone.", MetricKindName(metric.kind)));
      e->set_method(Method(metric));
      e->set_n(static_cast<int64_t>(positions.size()));
      e->set_small_sample(static_cast<int64_t>(positions.size()) < kSmallSample);
    }
  }
  return out;
}

}  // namespace forecast::fsvc
