// A snapshot of a job centre mapped to the forecasting library: its catalogue with teams and
// caseworkers as indices, the history of every case known in the view, the portfolio of open
// cases, the models fitted as of the view's month and a projector over them.
//
// Immutable after Build, except for memoised per-scope results guarded by a mutex; every member
// function is thread-safe.
#ifndef SERVICES_FORECAST_CENTRE_VIEW_H_
#define SERVICES_FORECAST_CENTRE_VIEW_H_

#include <cstdint>
#include <map>
#include <tuple>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "forecasting/inputs.h"
#include "forecasting/models.h"
#include "forecasting/projector.h"
#include "forecasting/variation.h"
#include "services/forecast/snapshot.h"

namespace forecast::fsvc {

// Below this many cases a figure is flagged as a small sample.
inline constexpr int64_t kSmallSample = 20;

// The library's month index of a civil month, and back. Thread-safe (pure).
forecasting::MonthIndex ToModelMonth(Month month);
Month FromModelMonth(forecasting::MonthIndex month);

// Maps the history's staff and teams to the library's dense indices.
struct ModelIndex {
  absl::flat_hash_map<int64_t, int32_t> team, caseworker;  // database id -> index
  std::vector<int64_t> team_ids, caseworker_ids;           // index -> database id
};

// What the models learn from: every case known in the view with its history, and each case's
// first holder (for the inflow of a scope). Shared by every view that uses the same fitted
// models: it only matters for months before the view's month, which today's changes leave alone
// (back-dated ones trigger a refit, see forecast_engine.h). Memoises per-scope inflow models.
class PastInputs {
 public:
  forecasting::History history;
  std::vector<std::pair<int64_t, int64_t>> first_holder;  // per history case: caseworker, team

  // The inflow model fitted on the scope's own new cases as of `as_of`; with a type mask (bit t:
  // case type t) only the new cases of those types. Thread-safe.
  const forecasting::InflowModel& ScopeInflow(const CentreHistory& centre,
                                              const forecasting::Catalogue& catalogue,
                                              const ScopeFilter& scope,
                                              forecasting::MonthIndex as_of,
                                              uint64_t type_mask = ~uint64_t{0}) const;

 private:
  mutable std::mutex mu_;
  mutable std::map<std::tuple<int, int64_t, uint64_t>, std::shared_ptr<forecasting::InflowModel>>
      inflow_;
};

// The library's inputs for a snapshot. Thread-safe (immutable once built).
struct ModelInputs {
  ModelIndex index;
  forecasting::Catalogue catalogue;
  std::shared_ptr<const PastInputs> past;
  forecasting::Portfolio portfolio;
  std::vector<int32_t> portfolio_snapshot_pos;  // portfolio position -> snapshot case position
};

// Maps the snapshot: catalogue, indices and portfolio always; the past inputs unless `past` is
// given to share. Thread-safe (pure).
ModelInputs BuildModelInputs(const CentreSnapshot& snapshot,
                             std::shared_ptr<const PastInputs> past = nullptr);

class CentreView {
 public:
  // Maps the snapshot and fits the models as of its month, or reuses the models and past inputs
  // of `previous` (may be null) when they were fitted for the same catalogue and month.
  // INTERNAL when the library rejects the inputs. Thread-safe.
  static absl::StatusOr<std::shared_ptr<const CentreView>> Build(
      std::shared_ptr<const CentreSnapshot> snapshot, const CentreView* previous, int64_t revision);

  const CentreSnapshot& snapshot() const { return *snapshot_; }
  const std::shared_ptr<const CentreSnapshot>& snapshot_ptr() const { return snapshot_; }
  const CentreHistory& history() const { return snapshot_->history(); }
  const ModelInputs& inputs() const { return inputs_; }
  const forecasting::FittedModels& models() const { return *models_; }
  const std::shared_ptr<const forecasting::FittedModels>& models_ptr() const { return models_; }
  const forecasting::Projector& projector() const { return *projector_; }
  // Increases with every change the service has seen (0 for views as of a past day).
  int64_t revision() const { return revision_; }
  Day today() const { return snapshot_->today(); }
  Month month() const { return Month(snapshot_->today()); }

  // Portfolio positions of the open cases in a scope, in portfolio order.
  std::vector<int32_t> Positions(const ScopeFilter& scope) const;
  // The snapshot state of an open case by portfolio position.
  const CaseState& OpenCase(int32_t position) const;
  // Portfolio position of a case; -1 when it is not open in the view.
  int32_t PositionOf(int64_t case_id) const;

  // The inflow model fitted on the scope's own new cases (memoised per scope and type mask, see
  // PastInputs::ScopeInflow).
  const forecasting::InflowModel& ScopeInflow(const ScopeFilter& scope,
                                              uint64_t type_mask = ~uint64_t{0}) const;
  // The caseworker variation among a team's open cases (memoised per team).
  absl::StatusOr<forecasting::Variation> TeamVariation(int64_t team_id) const;

 private:
  CentreView() = default;
  std::shared_ptr<const CentreSnapshot> snapshot_;
  ModelInputs inputs_;
  std::shared_ptr<const forecasting::FittedModels> models_;
  std::optional<forecasting::Projector> projector_;
  int64_t revision_ = 0;
  absl::flat_hash_map<int64_t, int32_t> position_of_;

  mutable std::mutex mu_;
  mutable std::map<int64_t, std::shared_ptr<forecasting::Variation>> variation_;
};

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_CENTRE_VIEW_H_
