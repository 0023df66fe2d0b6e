// ImportHistory's logic: validates every row of a case system's export (cases, expectations,
// closures, re-assignments), reports each bad row with its file, line and field, and commits the
// import only when there is no error and it is not a dry run.
//
// Memory does not grow with the import: chunks are staged in the database as they arrive
// (CaseStore::RunImport), then read back case by case in batches, checked and, when every row so
// far is good, written in the import's one transaction. Only the organisation, the staff codes
// the import creates and the listed errors (at most kMaxReportedImportErrors) are kept.
#ifndef SERVICES_CASE_HISTORY_IMPORTER_H_
#define SERVICES_CASE_HISTORY_IMPORTER_H_

#include <functional>

#include "absl/status/statusor.h"
#include "forecast/v1/case_service.pb.h"
#include "services/case/case_store.h"
#include "services/common/caller.h"
#include "services/common/calendar.h"

namespace forecast {

// At most this many row errors are listed (the first by file and line); one more entry says how
// many were left out.
inline constexpr int kMaxReportedImportErrors = 5000;

// Cases checked and written together; a batch also closes once it holds kImportBatchRows rows.
inline constexpr size_t kImportBatchCases = 2000;
inline constexpr size_t kImportBatchRows = 20000;
// Rows one case may have in one import by default (a case is checked whole, so this bounds the
// memory one case takes: about 200 bytes a row).
inline constexpr int64_t kDefaultMaxImportRowsPerCase = 100000;

// Fills `chunk` with the import stream's next chunk: true when there was one, false at the end
// of the stream. An error (too many rows, the client cancelled) ends the import.
using ImportChunkSource = std::function<absl::StatusOr<bool>(v1::ImportChunk* chunk)>;

// One import run. Not thread-safe; create one per import.
class HistoryImporter {
 public:
  // A case may have at most `max_case_rows` rows in one import (all files together).
  HistoryImporter(CaseStore& store, const Clock& clock, int64_t max_case_rows)
      : store_(store), clock_(clock), max_case_rows_(static_cast<size_t>(max_case_rows)) {}

  // Validates the stream (`first`, whose flags rule the import, then every chunk `next` gives)
  // and (when clean and not a dry run) commits. The caller is already authorised.
  // Row errors are in the report; an error status means the database or the stream failed.
  // Rules: every case_ref must be new to the job centre and unique in cases.csv; expectations,
  // closures and re-assignments must name a case of this cases.csv; dates lie between the
  // opening and today (and not after the closure); a case's re-assignments form one chain (each
  // `from` is the previous `to`) and cases.csv names either end of it: the current holder (as
  // case systems export it; for a closed case the holder at closure) or, the older reading, the
  // holder at opening; the case opens with the first `from`. With holder_at_opening on the first
  // chunk, cases.csv must name the holder at opening (the first `from`). A broken chain is
  // reported with the case and the reading assumed. Teams and staff must exist unless
  // create_missing_staff (then they are created: teams without a department, staff as caseworkers
  // in the team of the first row naming them). Retired catalogue codes are accepted for history.
  absl::StatusOr<v1::ImportReport> Run(const Caller& caller, const v1::ImportChunk& first,
                                       const ImportChunkSource& next);

 private:
  CaseStore& store_;
  const Clock& clock_;
  const size_t max_case_rows_;
};

}  // namespace forecast

#endif  // SERVICES_CASE_HISTORY_IMPORTER_H_
