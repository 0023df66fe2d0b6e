// The monthly dialogue: what changed since the last one (change detection between two views of
// the history), the last dialogue of a caseworker or team, and dialogue records as messages.
// Plain functions; no I/O; thread-safe.
#ifndef SERVICES_FORECAST_DIALOGUES_H_
#define SERVICES_FORECAST_DIALOGUES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "forecast/v1/forecast_service.pb.h"
#include "services/forecast/snapshot.h"

namespace forecast::fsvc {

// What changed for the cases of `scope` between the end of `since` (as the service knew it then)
// and the view `until`. Per case, in this order: NEW (opened after since, held by the scope now),
// CLOSED, REASSIGNED_IN / REASSIGNED_OUT (the holder moved into / out of the scope), and for
// cases open at both times: MOVED_LATER / MOVED_EARLIER (expected month), OUTCOME_CHANGED,
// RISK_UP / RISK_DOWN (by the risk's probability: lower is riskier), FIRST_EXPECTATION. Counts
// per kind in that order (kinds with no change left out); changes sorted by kind, then case.
v1::Changes DetectChanges(const CentreHistory& history, const ScopeFilter& scope, Day since,
                          const ViewDays& until);

// The day of the latest finalised dialogue held on or before the view's day and known in it
// (drafts are not held yet), for a caseworker (caseworker_id != 0) or a team; nullopt when none.
std::optional<Day> LastDialogueOn(const CentreHistory& history, const ViewDays& view,
                                  int64_t caseworker_id, int64_t team_id);

// The latest finalised dialogue with the caseworker held on or before the view's day and known
// in it; nullptr when none.
const DialogueRecord* LastFinalDialogue(const CentreHistory& history, const ViewDays& view,
                                        int64_t caseworker_id);

// What became of each agreement of `dialogue` (per case, the last expectation recorded as agreed
// in it), as the view sees the case: the agreed actions' follow-up and whether the expectation
// held (see v1::AgreementFollowUp). Sorted by case ref.
std::vector<v1::AgreementFollowUp> FollowUpAgreements(const CentreHistory& history,
                                                      const ViewDays& view,
                                                      const DialogueRecord& dialogue);

// Per dialogue id, the cases with an expectation recorded as agreed in it and not taken off its
// list since (one pass over every expectation).
absl::flat_hash_map<int64_t, std::vector<std::string>> AgreedCases(const CentreHistory& history);

// The cases with an expectation recorded as agreed in `dialogue` and not taken off its list
// since (DialogueRecord::Counts), sorted (one pass over every expectation, for one dialogue).
std::vector<std::string> AgreedCaseRefs(const CentreHistory& history,
                                        const DialogueRecord& dialogue);

// A stored dialogue as a message with the given agreed_case_refs.
v1::Dialogue DialogueMessage(const CentreHistory& history, const DialogueRecord& dialogue,
                             const std::vector<std::string>& agreed_case_refs);
// The same, agreed_case_refs from `agreed` (see AgreedCases).
v1::Dialogue DialogueMessage(const CentreHistory& history, const DialogueRecord& dialogue,
                             const absl::flat_hash_map<int64_t, std::vector<std::string>>& agreed);

}  // namespace forecast::fsvc

#endif  // SERVICES_FORECAST_DIALOGUES_H_
