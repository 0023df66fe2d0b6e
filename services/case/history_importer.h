// ImportHistory's logic: validates every row of a case system's export (cases, expectations,
// closures, re-assignments), reports each bad row with its file, line and field, and hands a
// complete plan to the store only when there is no error and it is not a dry run.
#ifndef SERVICES_CASE_HISTORY_IMPORTER_H_
#define SERVICES_CASE_HISTORY_IMPORTER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "forecast/v1/case_service.pb.h"
#include "services/case/case_store.h"
#include "services/common/caller.h"
#include "services/common/calendar.h"

namespace forecast {

// At most this many row errors are listed; one more entry says how many were left out.
inline constexpr int kMaxReportedImportErrors = 5000;

// One import run. Not thread-safe; create one per import.
class HistoryImporter {
 public:
  HistoryImporter(CaseStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Validates and (when clean and not a dry run) commits. The caller is already authorised.
  // Row errors are in the report; an error status means the database failed.
  // Rules: every case_ref must be new to the job centre and unique in cases.csv; expectations,
  // closures and re-assignments must name a case of this cases.csv; dates lie between the
  // opening and today (and not after the closure); a case's re-assignments form one chain (each
  // `from` is the previous `to`) and cases.csv names either end of it: the current holder (as
  // case systems export it; for a closed case the holder at closure) or, the older reading, the
  // holder at opening; the case opens with the first `from`. With holder_at_opening on the first
  // chunk, cases.csv must name the holder at opening (the first `from`). A broken chain is
  // reported with the case and the reading assumed. Teams and staff must exist unless
  // create_missing_staff (then they are created: teams without a department, staff as caseworkers
  // in the case's team). Retired catalogue codes are accepted for history.
  absl::StatusOr<v1::ImportReport> Run(const Caller& caller,
                                       const std::vector<v1::ImportChunk>& chunks);

 private:
  CaseStore& store_;
  const Clock& clock_;
};

}  // namespace forecast

#endif  // SERVICES_CASE_HISTORY_IMPORTER_H_
