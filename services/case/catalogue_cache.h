// The job centres' catalogues and case fields, kept in memory by the case service so that a write
// does not read them again. Entries are dropped when the catalogue changes: by the service's own
// edits at once, and by the 'reference_changed' notice (migrations 0004, 0085) for edits made
// elsewhere (see ReferenceDataListener); everything is dropped when that listener reconnects.
#ifndef SERVICES_CASE_CATALOGUE_CACHE_H_
#define SERVICES_CASE_CATALOGUE_CACHE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "services/case/case_rules.h"

namespace forecast {

// Thread-safe.
class CatalogueCache {
 public:
  using Loader = std::function<absl::StatusOr<v1::Catalogue>(int64_t job_centre_id)>;

  // The centre's catalogue, loaded through `load` when not held (or dropped since).
  absl::StatusOr<std::shared_ptr<const CatalogueView>> Get(int64_t job_centre_id,
                                                           const Loader& load) {
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = views_.find(job_centre_id);
      if (it != views_.end()) return it->second;
      generation = generation_;
    }
    absl::StatusOr<v1::Catalogue> catalogue = load(job_centre_id);
    if (!catalogue.ok()) return catalogue.status();
    auto view = std::make_shared<const CatalogueView>(std::move(*catalogue));
    std::lock_guard<std::mutex> lock(mu_);
    // A drop while loading may concern what was just read: answer it, but do not keep it.
    if (generation == generation_) views_[job_centre_id] = view;
    return view;
  }

  // Drops one centre's entry (0: every centre's).
  void Drop(int64_t job_centre_id) {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
    if (job_centre_id == 0) {
      views_.clear();
    } else {
      views_.erase(job_centre_id);
    }
  }

 private:
  std::mutex mu_;
  uint64_t generation_ = 0;
  std::map<int64_t, std::shared_ptr<const CatalogueView>> views_;
};

}  // namespace forecast

#endif  // SERVICES_CASE_CATALOGUE_CACHE_H_
