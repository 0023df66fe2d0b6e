#include "services/case/case_keeper.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "services/case/history_importer.h"
#include "services/common/authorization.h"
#include "services/common/codes.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/text_checks.h"

namespace forecast {
namespace {

using v1::CatalogueEntry;

constexpr int kMaxYearsBack = 50;

absl::Status Invalid(absl::string_view field, absl::string_view problem,
                     absl::string_view reason = "INVALID", const ErrorParams& params = {}) {
  return FieldError(field, reason, problem, params);
}

absl::Status CheckIdempotencyKey(const std::string& key) {
  return CheckToken(key, "idempotency_key", kMaxIdempotencyKeyChars);
}

// The caller is part of the fingerprint: a key replayed by someone else is a different request,
// so a stored answer is only ever returned to the staff member who caused it.
std::string Fingerprint(const Caller& caller, absl::string_view method,
                        const google::protobuf::Message& request) {
  return RequestFingerprint(absl::StrCat(method, "/", caller.staff_id), request);
}

// Idempotency keys are kept per caller: the stored key is "<staff id>:<client key>", so a key
// another caller already used is simply a different key (its existence never shows), and only
// the staff member who caused an answer ever gets it replayed.
// case_record_expectation() (migration 0035) stores its keys the same way.
IdempotencyTicket Ticket(const Caller& caller, const char* method,
                         const google::protobuf::Message& request, const std::string& key) {
  if (key.empty()) return IdempotencyTicket{"", method, ""};
  return IdempotencyTicket{absl::StrCat(caller.staff_id, ":", key), method,
                           Fingerprint(caller, method, request)};
}

absl::Status CaseMustBeOpen(const StoredCase& c, absl::string_view doing) {
  if (c.view.status() == v1::OPEN) return absl::OkStatus();
  return ReasonedError(
      absl::StatusCode::kFailedPrecondition, "CASE_CLOSED",
      absl::StrCat("case ", c.view.case_ref(), " is closed; reopen it before ", doing),
      {{"case_ref", c.view.case_ref()}});
}

// Stored dates are always well-formed; a failure here is a broken invariant.
absl::CivilDay StoredDay(const std::string& text) {
  absl::StatusOr<absl::CivilDay> day = ParseDay(text, "stored date");
  if (!day.ok()) std::abort();
  return *day;
}

absl::CivilDay OpenedOn(const StoredCase& c) { return StoredDay(c.view.opened_on()); }

}  // namespace

absl::StatusOr<std::shared_ptr<const CatalogueView>> CaseKeeper::Catalogue(int64_t job_centre_id) {
  auto load = [this](int64_t centre) { return store_.LoadCatalogue(centre); };
  if (catalogues_ != nullptr) return catalogues_->Get(job_centre_id, load);
  absl::StatusOr<v1::Catalogue> catalogue = load(job_centre_id);
  if (!catalogue.ok()) return catalogue.status();
  return std::make_shared<const CatalogueView>(std::move(*catalogue));
}

void CaseKeeper::MarkOverdue(v1::Case& c) const {
  const std::string today = FormatDay(clock_.Today());
  for (v1::Action& action : *c.mutable_open_actions()) {
    action.set_overdue(action.status() == v1::ACTION_OPEN && action.due_on() < today);
  }
}

absl::StatusOr<v1::StaffMember> CaseKeeper::WhoAmI(const Caller& caller) {
  absl::StatusOr<std::optional<StaffRecord>> staff =
      store_.FindStaff(caller.job_centre_id, caller.staff_code);
  if (!staff.ok()) return staff.status();
  if (!staff->has_value()) return absl::UnauthenticatedError("the caller is no longer known");
  v1::StaffMember member;
  member.set_code((*staff)->code);
  member.set_display_name((*staff)->display_name);
  member.set_role(ToProto((*staff)->role));
  member.set_team((*staff)->team_code);
  member.set_job_centre(caller.job_centre_code);
  member.set_active((*staff)->active);
  return member;
}

absl::StatusOr<v1::Organisation> CaseKeeper::GetOrganisation(const Caller& caller) {
  return store_.LoadOrganisation(caller.job_centre_id);
}

absl::StatusOr<StaffRecord> CaseKeeper::FindActiveStaff(const Caller& caller,
                                                        const std::string& code,
                                                        const char* field) {
  if (absl::Status s = CheckCode(code, field); !s.ok()) return s;
  absl::StatusOr<std::optional<StaffRecord>> staff = store_.FindStaff(caller.job_centre_id, code);
  if (!staff.ok()) return staff.status();
  if (!staff->has_value())
    return Invalid(field, absl::StrCat("no staff member \"", code, "\" in this job centre"),
                   "UNKNOWN_STAFF", {{"value", std::string(code)}});
  if (!(*staff)->active)
    return Invalid(field, absl::StrCat("staff member \"", code, "\" is inactive"), "INACTIVE_STAFF",
                   {{"value", std::string(code)}});
  return **staff;
}

absl::StatusOr<StoredCase> CaseKeeper::LoadReadable(const Caller& caller,
                                                    const std::string& case_ref) {
  if (absl::Status s = CheckCaseRef(case_ref, "case_ref"); !s.ok()) return s;
  absl::StatusOr<StoredCase> stored = store_.LoadCase(caller.job_centre_id, case_ref);
  if (!stored.ok()) return stored.status();
  if (absl::Status s = AuthorizeCase(caller, stored->owner, CaseAccess::kRead, case_ref); !s.ok())
    return s;
  MarkOverdue(stored->view);
  return stored;
}

absl::StatusOr<std::optional<v1::Case>> CaseKeeper::ReplayAnswer(const Caller& caller,
                                                                 const IdempotencyTicket& ticket) {
  if (ticket.key.empty()) return std::optional<v1::Case>();
  absl::StatusOr<std::optional<StoredAnswer>> answer =
      store_.FindAnswer(caller.job_centre_id, ticket.key);
  if (!answer.ok()) return answer.status();
  if (!answer->has_value()) return std::optional<v1::Case>();
  if ((*answer)->method != ticket.method || (*answer)->request_hash != ticket.request_hash) {
    return Invalid("idempotency_key", "was already used for a different request; use a new key",
                   "KEY_REUSED");
  }
  v1::Case replay;
  if (!replay.ParseFromString((*answer)->response)) {
    return absl::InternalError("stored answer for idempotency_key does not parse");
  }
  MarkOverdue(replay);
  return std::optional<v1::Case>(std::move(replay));
}

absl::StatusOr<v1::Case> CaseKeeper::WriteCase(const Caller& caller, const char* method,
                                               const google::protobuf::Message& request,
                                               const std::string& case_ref, int64_t base_version,
                                               const std::string& idempotency_key,
                                               CaseAccess access, const ChangeBuilder& build) {
  if (absl::Status s = CheckCaseRef(case_ref, "case_ref"); !s.ok()) return s;
  if (base_version <= 0)
    return Invalid("base_version", "is required: the case version the change is based on",
                   "REQUIRED");
  if (absl::Status s = CheckIdempotencyKey(idempotency_key); !s.ok()) return s;
  // Authorisation first: nothing about idempotency keys is looked at for a caller who may not
  // write this case.
  absl::StatusOr<StoredCase> stored = store_.LoadCase(caller.job_centre_id, case_ref);
  if (!stored.ok()) return stored.status();
  if (absl::Status s = AuthorizeCase(caller, stored->owner, access, case_ref); !s.ok()) return s;
  const IdempotencyTicket ticket = Ticket(caller, method, request, idempotency_key);
  absl::StatusOr<std::optional<v1::Case>> replay = ReplayAnswer(caller, ticket);
  if (!replay.ok()) return replay.status();
  if (replay->has_value()) return std::move(**replay);

  if (stored->view.version() != base_version) {
    // A concurrent first attempt with this key may have committed since the check above.
    absl::StatusOr<std::optional<v1::Case>> late = ReplayAnswer(caller, ticket);
    if (!late.ok()) return late.status();
    if (late->has_value()) return std::move(**late);
    return StaleVersion(case_ref, stored->view.version(), base_version);
  }
  absl::StatusOr<std::shared_ptr<const CatalogueView>> view = Catalogue(caller.job_centre_id);
  if (!view.ok()) return view.status();

  CaseChange change;
  change.job_centre_id = caller.job_centre_id;
  change.case_id = stored->id;
  change.case_ref = case_ref;
  change.base_version = base_version;
  change.actor_id = caller.staff_id;
  change.effective_on = clock_.Today();
  change.idempotency = ticket;
  if (absl::Status s = build(*stored, **view, change); !s.ok()) return s;
  absl::StatusOr<v1::Case> result = store_.ApplyChange(change);
  if (!result.ok()) return result.status();
  MarkOverdue(*result);
  return result;
}

absl::StatusOr<v1::Case> CaseKeeper::CreateCase(const Caller& caller,
                                                const v1::CreateCaseRequest& request) {
  if (absl::Status s = CheckCaseRef(request.case_ref(), "case_ref"); !s.ok()) return s;
  if (absl::Status s = CheckIdempotencyKey(request.idempotency_key()); !s.ok()) return s;
  StaffRecord caseworker;
  if (request.caseworker().empty()) {
    absl::StatusOr<StaffRecord> self = FindActiveStaff(caller, caller.staff_code, "caseworker");
    if (!self.ok()) return self.status();
    caseworker = *self;
  } else {
    absl::StatusOr<StaffRecord> named = FindActiveStaff(caller, request.caseworker(), "caseworker");
    if (!named.ok()) return named.status();
    caseworker = *named;
  }
  if (caseworker.team_id == 0) {
    return Invalid("caseworker",
                   absl::StrCat("\"", caseworker.code,
                                "\" belongs to no team; a case needs a caseworker in a team"));
  }
  if (absl::Status s = AuthorizeCreateCase(caller, caseworker.team_id, caseworker.id); !s.ok())
    return s;
  // Authorised: only now is the idempotency key looked up.
  const IdempotencyTicket ticket = Ticket(caller, "CreateCase", request, request.idempotency_key());
  absl::StatusOr<std::optional<v1::Case>> replay = ReplayAnswer(caller, ticket);
  if (!replay.ok()) return replay.status();
  if (replay->has_value()) return std::move(**replay);

  absl::StatusOr<std::shared_ptr<const CatalogueView>> cached = Catalogue(caller.job_centre_id);
  if (!cached.ok()) return cached.status();
  const CatalogueView& view = **cached;
  if (absl::Status s =
          view.CheckActive(CatalogueEntry::CASE_TYPE, request.case_type(), "case_type");
      !s.ok())
    return s;
  absl::StatusOr<absl::CivilDay> opened = ParseDay(request.opened_on(), "opened_on");
  if (!opened.ok()) return opened.status();
  const absl::CivilDay today = clock_.Today();
  if (absl::Status s =
          CheckDayWithin(*opened, absl::CivilDay(today.year() - kMaxYearsBack, 1, 1),
                         absl::StrCat("the earliest date accepted, ", kMaxYearsBack, " years back"),
                         today, "today", "opened_on");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> fields = FieldsToJson(view, request.fields());
  if (!fields.ok()) return fields.status();

  NewCase new_case;
  new_case.job_centre_id = caller.job_centre_id;
  new_case.case_ref = request.case_ref();
  new_case.case_type = request.case_type();
  new_case.opened_on = *opened;
  new_case.caseworker_id = caseworker.id;
  new_case.team_id = caseworker.team_id;
  new_case.actor_id = caller.staff_id;
  new_case.fields_json = *fields;
  new_case.summary_json = nlohmann::json{{"case_type", request.case_type()},
                                         {"opened_on", FormatDay(*opened)},
                                         {"caseworker", caseworker.code},
                                         {"team", caseworker.team_code},
                                         {"fields", nlohmann::json::parse(*fields)}}
                              .dump();
  new_case.idempotency = ticket;
  absl::StatusOr<v1::Case> created = store_.CreateCase(new_case);
  if (!created.ok()) return created.status();
  MarkOverdue(*created);
  return created;
}

absl::StatusOr<v1::Case> CaseKeeper::GetCase(const Caller& caller,
                                             const v1::GetCaseRequest& request) {
  absl::StatusOr<StoredCase> stored = LoadReadable(caller, request.case_ref());
  if (!stored.ok()) return stored.status();
  return std::move(stored->view);
}

absl::StatusOr<v1::ListCasesResponse> CaseKeeper::ListCases(const Caller& caller,
                                                            const v1::ListCasesRequest& request) {
  if (absl::Status s = AuthorizeCaseRows(caller); !s.ok()) return s;
  CaseQuery query;
  query.job_centre_id = caller.job_centre_id;
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return Invalid("page_size", absl::StrCat("must be between 1 and ", kMaxPageSize, " (0 means ",
                                             kDefaultPageSize, ")"));
  }
  query.limit = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  if (!request.page_token().empty()) {
    absl::StatusOr<std::string> after = DecodePageToken(request.page_token());
    if (!after.ok()) return after.status();
    query.after_case_ref = *after;
  }
  if (!request.caseworker().empty()) {
    if (absl::Status s = CheckCode(request.caseworker(), "caseworker"); !s.ok()) return s;
    absl::StatusOr<std::optional<StaffRecord>> staff =
        store_.FindStaff(caller.job_centre_id, request.caseworker());
    if (!staff.ok()) return staff.status();
    if (!staff->has_value())
      return Invalid("caseworker", absl::StrCat("no staff member \"", request.caseworker(),
                                                "\" in this job centre"));
    query.caseworker_id = (*staff)->id;
  }
  if (!request.team().empty()) {
    if (absl::Status s = CheckCode(request.team(), "team"); !s.ok()) return s;
    absl::StatusOr<std::optional<UnitRecord>> unit =
        store_.FindUnit(caller.job_centre_id, request.team());
    if (!unit.ok()) return unit.status();
    if (!unit->has_value() || (*unit)->kind != "TEAM") {
      return Invalid("team", absl::StrCat("no team \"", request.team(), "\" in this job centre"));
    }
    query.team_id = (*unit)->id;
  }
  if (!request.case_type().empty()) {
    if (absl::Status s = CheckCode(request.case_type(), "case_type"); !s.ok()) return s;
    query.case_type = request.case_type();
  }
  switch (request.status()) {
    case v1::CASE_STATUS_UNSPECIFIED: break;
    case v1::OPEN:
    case v1::CLOSED: query.status = std::string(CaseStatusName(request.status())); break;
    default: return Invalid("status", "must be OPEN, CLOSED or unspecified");
  }
  const CaseFilter readable = CasesAccessible(caller, CaseAccess::kRead);
  if (!readable.whole_job_centre) {
    query.restricted = true;
    query.visible_team_id = readable.team_id;
    query.visible_staff_id = readable.caseworker_id;
  }
  // One extra row tells whether another page follows.
  const int page = query.limit;
  query.limit = page + 1;
  absl::StatusOr<std::vector<v1::Case>> cases = store_.ListCases(query);
  if (!cases.ok()) return cases.status();
  v1::ListCasesResponse response;
  const bool more = static_cast<int>(cases->size()) > page;
  if (more) cases->resize(page);
  for (v1::Case& c : *cases) {
    MarkOverdue(c);
    *response.add_cases() = std::move(c);
  }
  if (more) response.set_next_page_token(EncodePageToken(response.cases(page - 1).case_ref()));
  return response;
}

absl::StatusOr<v1::CaseHistory> CaseKeeper::GetCaseHistory(
    const Caller& caller, const v1::GetCaseHistoryRequest& request) {
  ASSIGN_OR_RETURN(StoredCase stored, LoadReadable(caller, request.case_ref()));
  if (request.page_size() < 0 || request.page_size() > kMaxHistoryPageSize) {
    return Invalid("page_size", absl::StrCat("must be between 1 and ", kMaxHistoryPageSize,
                                             " (0 means ", kDefaultHistoryPageSize, ")"));
  }
  const int limit = request.page_size() == 0 ? kDefaultHistoryPageSize : request.page_size();
  HistoryPosition before;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(before, DecodeHistoryPageToken(request.page_token(), stored.view.case_ref()));
  }
  ASSIGN_OR_RETURN(HistoryPage page, store_.LoadHistory(stored.id, before, limit));
  v1::CaseHistory& history = page.history;
  *history.mutable_current() = std::move(stored.view);
  const std::string today = FormatDay(clock_.Today());
  for (v1::Action& action : *history.mutable_actions()) {
    action.set_overdue(action.status() == v1::ACTION_OPEN && action.due_on() < today);
  }
  if (!page.next.Done()) {
    history.set_next_page_token(EncodeHistoryPageToken(history.current().case_ref(), page.next));
  }
  return std::move(history);
}

absl::StatusOr<v1::ListCaseActionsResponse> CaseKeeper::ListCaseActions(
    const Caller& caller, const v1::ListCaseActionsRequest& request) {
  absl::StatusOr<StoredCase> stored = LoadReadable(caller, request.case_ref());
  if (!stored.ok()) return stored.status();
  if (request.page_size() < 0 || request.page_size() > kMaxActionPageSize) {
    return Invalid("page_size", absl::StrCat("must be between 1 and ", kMaxActionPageSize,
                                             " (0 means ", kDefaultActionPageSize, ")"));
  }
  const int limit = request.page_size() == 0 ? kDefaultActionPageSize : request.page_size();
  std::optional<ActionPosition> after;
  if (!request.page_token().empty()) {
    absl::StatusOr<ActionPosition> decoded = DecodeActionPageToken(request.page_token());
    if (!decoded.ok()) return decoded.status();
    after = std::move(*decoded);
  }
  // One more than the page tells whether another page follows.
  absl::StatusOr<ActionPage> page =
      store_.ListActions(stored->id, request.include_closed(), after, limit + 1);
  if (!page.ok()) return page.status();
  v1::ListCaseActionsResponse response;
  response.set_case_ref(stored->view.case_ref());
  response.set_total(page->total);
  const bool more = static_cast<int>(page->actions.size()) > limit;
  if (more) page->actions.resize(limit);
  const std::string today = FormatDay(clock_.Today());
  for (v1::Action& action : page->actions) {
    action.set_overdue(action.status() == v1::ACTION_OPEN && action.due_on() < today);
    *response.add_actions() = std::move(action);
  }
  if (more) {
    const v1::Action& last = response.actions(response.actions_size() - 1);
    response.set_next_page_token(EncodeActionPageToken({last.due_on(), last.id()}));
  }
  return response;
}

// A one-statement expectation write with the catalogue its answer is typed by.
struct CaseKeeper::FastExpectation {
  std::shared_ptr<const CatalogueView> catalogue;
  ExpectationWrite write;
};

absl::StatusOr<std::shared_ptr<CaseKeeper::FastExpectation>> CaseKeeper::PrepareFastExpectation(
    const Caller& caller, const v1::RecordExpectationRequest& request) {
  const std::shared_ptr<FastExpectation> general;
  // Every check that does not need the case; any failure goes the general way, which reports
  // errors in its own order (the case's existence and the caller's rights first).
  if (!CheckCaseRef(request.case_ref(), "case_ref").ok() || request.base_version() <= 0 ||
      !CheckIdempotencyKey(request.idempotency_key()).ok() || request.dialogue_id() < 0 ||
      !CheckText(request.note(), "note", 0, kMaxNoteChars).ok()) {
    return general;
  }
  absl::StatusOr<std::shared_ptr<const CatalogueView>> catalogue = Catalogue(caller.job_centre_id);
  if (!catalogue.ok()) return catalogue.status();
  absl::StatusOr<absl::CivilMonth> month = ParseMonth(request.expected_month(), "expected_month");
  const absl::CivilDay today = clock_.Today();
  if (!(*catalogue)
           ->CheckActive(CatalogueEntry::OUTCOME, request.expected_outcome(), "expected_outcome")
           .ok() ||
      !(*catalogue)->CheckActive(CatalogueEntry::RISK, request.risk(), "risk").ok() ||
      !month.ok() || *month > absl::CivilMonth(today) + kMaxMonthsAhead) {
    return general;
  }
  auto fast = std::make_shared<FastExpectation>();
  fast->catalogue = *catalogue;
  ExpectationWrite& write = fast->write;
  write.job_centre_id = caller.job_centre_id;
  write.case_ref = request.case_ref();
  write.base_version = request.base_version();
  write.actor_id = caller.staff_id;
  write.writable = CasesAccessible(caller, CaseAccess::kWrite);
  // The client's key as sent: case_record_expectation() keeps it per caller itself (0035), as
  // Ticket() does for the general path, so both paths store and find "<staff id>:<key>".
  write.idempotency = IdempotencyTicket{
      request.idempotency_key(), "RecordExpectation",
      request.idempotency_key().empty() ? "" : Fingerprint(caller, "RecordExpectation", request)};
  write.expectation = NewExpectation{
      request.expected_outcome(), *month,        request.risk(), request.agreed_in_dialogue(),
      request.dialogue_id(),      request.note()};
  write.effective_on = today;
  write.catalogue = fast->catalogue.get();
  return fast;
}

// Authorisation, the dialogue, the team leader's word on "agreed in dialogue" and the per-caller
// idempotency key are checked inside case_record_expectation() (migration 0035), in that order;
// whatever it refuses takes the general path, which words the error.
absl::StatusOr<v1::Case> CaseKeeper::RecordExpectation(
    const Caller& caller, const v1::RecordExpectationRequest& request) {
  absl::StatusOr<std::shared_ptr<FastExpectation>> fast = PrepareFastExpectation(caller, request);
  if (!fast.ok()) return fast.status();
  if (*fast != nullptr) {
    absl::StatusOr<std::optional<v1::Case>> written = store_.TryRecordExpectation((*fast)->write);
    if (!written.ok()) return written.status();
    if (written->has_value()) {
      MarkOverdue(**written);
      return std::move(**written);
    }
  }
  return RecordExpectationInGeneral(caller, request);
}

void CaseKeeper::RecordExpectation(const Caller& caller,
                                   const v1::RecordExpectationRequest& request,
                                   std::function<void(absl::StatusOr<v1::Case>)> done) {
  // The general path waits on the database: off the caller's thread and the store's.
  auto in_general = [this, caller, &request, done] {
    general_.Run(
        [this, caller, &request, done] { done(RecordExpectationInGeneral(caller, request)); });
  };
  absl::StatusOr<std::shared_ptr<FastExpectation>> fast = PrepareFastExpectation(caller, request);
  if (!fast.ok()) return done(fast.status());
  if (*fast == nullptr) return in_general();
  store_.TryRecordExpectationAsync(
      std::shared_ptr<const ExpectationWrite>(*fast, &(*fast)->write),
      [this, in_general, done](absl::StatusOr<std::optional<v1::Case>> written) {
        if (!written.ok()) return done(written.status());
        if (!written->has_value()) return in_general();
        MarkOverdue(**written);
        done(std::move(**written));
      });
}

absl::StatusOr<v1::Case> CaseKeeper::RecordExpectationInGeneral(
    const Caller& caller, const v1::RecordExpectationRequest& request) {
  return WriteCase(
      caller, "RecordExpectation", request, request.case_ref(), request.base_version(),
      request.idempotency_key(), CaseAccess::kWrite,
      [&](const StoredCase& c, const CatalogueView& catalogue, CaseChange& change) -> absl::Status {
        if (absl::Status s = catalogue.CheckActive(CatalogueEntry::OUTCOME,
                                                   request.expected_outcome(), "expected_outcome");
            !s.ok())
          return s;
        absl::StatusOr<absl::CivilMonth> month =
            ParseMonth(request.expected_month(), "expected_month");
        if (!month.ok()) return month.status();
        if (absl::Status s =
                CheckExpectedMonth(*month, OpenedOn(c), clock_.Today(), "expected_month");
            !s.ok())
          return s;
        if (absl::Status s = catalogue.CheckActive(CatalogueEntry::RISK, request.risk(), "risk");
            !s.ok())
          return s;
        if (request.dialogue_id() < 0) return Invalid("dialogue_id", "must not be negative");
        if (absl::Status s = CheckAgreedInDialogue(caller.role, request.agreed_in_dialogue(),
                                                   request.dialogue_id());
            !s.ok())
          return s;
        if (request.dialogue_id() > 0) {
          // The dialogue must exist, be one held with the case's caseworker and still be open.
          absl::StatusOr<std::optional<DialogueRef>> held_with =
              store_.FindDialogue(caller.job_centre_id, request.dialogue_id());
          if (!held_with.ok()) return held_with.status();
          if (!held_with->has_value()) {
            return Invalid("dialogue_id", absl::StrCat(request.dialogue_id(),
                                                       " is not a dialogue of this job centre"));
          }
          if ((*held_with)->caseworker_id != c.owner.caseworker_id) {
            return Invalid("dialogue_id", absl::StrCat(request.dialogue_id(),
                                                       " was not held with the case's caseworker ",
                                                       c.view.caseworker()));
          }
          if ((*held_with)->final) return DialogueFinalError(request.dialogue_id());
        }
        if (absl::Status s = CheckText(request.note(), "note", 0, kMaxNoteChars); !s.ok()) return s;
        if (absl::Status s = CaseMustBeOpen(c, "recording an expectation"); !s.ok()) return s;
        change.kind = "EXPECTATION";
        change.body = NewExpectation{
            request.expected_outcome(), *month,        request.risk(), request.agreed_in_dialogue(),
            request.dialogue_id(),      request.note()};
        change.summary_json = nlohmann::json{{"expected_outcome", request.expected_outcome()},
                                             {"expected_month", FormatMonth(*month)},
                                             {"risk", request.risk()},
                                             {"agreed_in_dialogue", request.agreed_in_dialogue()},
                                             {"dialogue_id", request.dialogue_id()}}
                                  .dump();
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::Case> CaseKeeper::AddAction(const Caller& caller,
                                               const v1::AddActionRequest& request) {
  return WriteCase(
      caller, "AddAction", request, request.case_ref(), request.base_version(),
      request.idempotency_key(), CaseAccess::kWrite,
      [&](const StoredCase& c, const CatalogueView&, CaseChange& change) -> absl::Status {
        if (absl::Status s =
                CheckText(request.description(), "description", 1, kMaxDescriptionChars);
            !s.ok())
          return s;
        if (absl::Status s = CheckAgreedInDialogue(caller.role, request.agreed_in_dialogue(), 0);
            !s.ok())
          return s;
        // The owner comes from the case's team; by default the caller when in that team, else
        // the case's caseworker.
        const std::string owner_code = !request.owner().empty() ? request.owner()
                                       : (caller.team_id != 0 && caller.team_id == c.owner.team_id)
                                           ? caller.staff_code
                                           : c.view.caseworker();
        absl::StatusOr<StaffRecord> owner = FindActiveStaff(caller, owner_code, "owner");
        if (!owner.ok()) return owner.status();
        if (owner->team_id != c.owner.team_id) {
          return Invalid("owner", absl::StrCat("\"", owner->code, "\" is not in the case's team ",
                                               c.view.team(),
                                               "; an action's owner comes from the case's team"));
        }
        absl::StatusOr<absl::CivilDay> due = ParseDay(request.due_on(), "due_on");
        if (!due.ok()) return due.status();
        const absl::CivilDay today = clock_.Today();
        if (absl::Status s =
                CheckDayWithin(*due, OpenedOn(c), "the day the case opened",
                               absl::CivilDay(absl::CivilMonth(today) + kMaxMonthsAhead),
                               absl::StrCat(kMaxMonthsAhead, " months ahead"), "due_on");
            !s.ok()) {
          return s;
        }
        if (absl::Status s = CaseMustBeOpen(c, "adding an action"); !s.ok()) return s;
        change.kind = "ACTION_ADDED";
        change.body =
            NewAction{request.description(), owner->id, *due, request.agreed_in_dialogue()};
        change.summary_json = nlohmann::json{{"description", request.description()},
                                             {"owner", owner->code},
                                             {"due_on", FormatDay(*due)},
                                             {"agreed_in_dialogue", request.agreed_in_dialogue()}}
                                  .dump();
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::Case> CaseKeeper::FollowUpAction(const Caller& caller,
                                                    const v1::FollowUpActionRequest& request) {
  return WriteCase(
      caller, "FollowUpAction", request, request.case_ref(), request.base_version(),
      request.idempotency_key(), CaseAccess::kWrite,
      [&](const StoredCase& c, const CatalogueView&, CaseChange& change) -> absl::Status {
        if (request.action_id() <= 0) return Invalid("action_id", "is required");
        const v1::Action* action = nullptr;
        for (const v1::Action& open : c.view.open_actions()) {
          if (open.id() == request.action_id()) action = &open;
        }
        // The case lists only its first open actions; the others are looked up.
        std::optional<v1::Action> unlisted;
        if (action == nullptr && c.view.open_action_count() > c.view.open_actions_size()) {
          absl::StatusOr<std::optional<v1::Action>> found =
              store_.FindOpenAction(c.id, request.action_id());
          if (!found.ok()) return found.status();
          unlisted = std::move(*found);
          if (unlisted) action = &*unlisted;
        }
        NewFollowUp follow_up;
        follow_up.action_id = request.action_id();
        switch (request.result()) {
          case v1::FOLLOW_UP_DONE:
          case v1::FOLLOW_UP_NOT_DONE:
          case v1::FOLLOW_UP_POSTPONED:
            follow_up.result = std::string(FollowUpResultName(request.result()));
            break;
          default:
            return Invalid("result",
                           "must be FOLLOW_UP_DONE, FOLLOW_UP_NOT_DONE or FOLLOW_UP_POSTPONED");
        }
        if (absl::Status s = CheckText(request.note(), "note", 0, kMaxNoteChars); !s.ok()) return s;
        const absl::CivilDay today = clock_.Today();
        if (request.result() == v1::FOLLOW_UP_POSTPONED) {
          absl::StatusOr<absl::CivilDay> to = ParseDay(request.postponed_to(), "postponed_to");
          if (!to.ok()) return to.status();
          if (absl::Status s = CheckDayWithin(
                  *to, today, "today", absl::CivilDay(absl::CivilMonth(today) + kMaxMonthsAhead),
                  absl::StrCat(kMaxMonthsAhead, " months ahead"), "postponed_to");
              !s.ok()) {
            return s;
          }
          follow_up.postponed_to = *to;
        } else if (!request.postponed_to().empty()) {
          return Invalid("postponed_to", "applies only when the result is FOLLOW_UP_POSTPONED");
        }
        if (action == nullptr) {
          return absl::NotFoundError(absl::StrCat("action_id: case ", c.view.case_ref(),
                                                  " has no open action ", request.action_id()));
        }
        absl::StatusOr<absl::CivilDay> due = ParseDay(action->due_on(), "due_on");
        if (!due.ok()) std::abort();  // stored dates are well-formed
        if (follow_up.postponed_to && *follow_up.postponed_to <= *due) {
          return Invalid("postponed_to", absl::StrCat(request.postponed_to(),
                                                      " is not later than the action's due date (",
                                                      action->due_on(), ")"));
        }
        follow_up.previous_due_on = *due;
        follow_up.note = request.note();
        change.kind = "ACTION_FOLLOWED_UP";
        nlohmann::json summary{{"action_id", request.action_id()},
                               {"result", follow_up.result},
                               {"previous_due_on", action->due_on()}};
        if (follow_up.postponed_to) summary["postponed_to"] = FormatDay(*follow_up.postponed_to);
        change.summary_json = summary.dump();
        change.body = std::move(follow_up);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::Case> CaseKeeper::SetCaseFields(const Caller& caller,
                                                   const v1::SetCaseFieldsRequest& request) {
  return WriteCase(
      caller, "SetCaseFields", request, request.case_ref(), request.base_version(),
      request.idempotency_key(), CaseAccess::kWrite,
      [&](const StoredCase&, const CatalogueView& catalogue, CaseChange& change) -> absl::Status {
        if (request.fields().empty() && request.clear_fields().empty()) {
          return Invalid("fields", "name at least one field to set or clear");
        }
        absl::StatusOr<std::string> values = FieldsToJson(catalogue, request.fields());
        if (!values.ok()) return values.status();
        FieldUpdates updates;
        nlohmann::json summary = nlohmann::json::object();
        const nlohmann::json parsed = nlohmann::json::parse(*values);
        for (const auto& [code, value] : parsed.items()) {
          updates.values[code] = value.dump();
          summary["set"][code] = value;
        }
        for (const std::string& code : request.clear_fields()) {
          const std::string name =
              absl::StrCat("clear_fields[", absl::string_view(code).substr(0, 40), "]");
          if (catalogue.FindField(code) == nullptr)
            return Invalid(name, "is not a case field of this job centre");
          if (request.fields().count(code) > 0) return Invalid(name, "is both set and cleared");
          updates.values[code] = std::nullopt;
          summary["cleared"].push_back(code);
        }
        change.kind = "FIELDS_SET";
        change.summary_json = summary.dump();
        change.body = std::move(updates);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::Case> CaseKeeper::CloseCase(const Caller& caller,
                                               const v1::CloseCaseRequest& request) {
  return WriteCase(
      caller, "CloseCase", request, request.case_ref(), request.base_version(),
      request.idempotency_key(), CaseAccess::kWrite,
      [&](const StoredCase& c, const CatalogueView& catalogue, CaseChange& change) -> absl::Status {
        absl::StatusOr<absl::CivilDay> on = ParseDay(request.closed_on(), "closed_on");
        if (!on.ok()) return on.status();
        const bool reopened = !c.status_since.empty();
        if (absl::Status s = CheckDayWithin(
                *on, reopened ? StoredDay(c.status_since) : OpenedOn(c),
                reopened ? "the day the case was reopened" : "the day the case opened",
                clock_.Today(), "today", "closed_on");
            !s.ok()) {
          return s;
        }
        if (absl::Status s =
                catalogue.CheckActive(CatalogueEntry::OUTCOME, request.outcome(), "outcome");
            !s.ok())
          return s;
        if (c.view.status() != v1::OPEN) {
          return ReasonedError(absl::StatusCode::kFailedPrecondition, "CASE_CLOSED",
                               absl::StrCat("case ", c.view.case_ref(), " is already closed"),
                               {{"case_ref", c.view.case_ref()}});
        }
        change.kind = "CLOSED";
        change.effective_on = *on;
        change.body = NewStatus{StatusChange::kClosed, *on, request.outcome()};
        change.summary_json =
            nlohmann::json{{"closed_on", FormatDay(*on)}, {"outcome", request.outcome()}}.dump();
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::Case> CaseKeeper::ReopenCase(const Caller& caller,
                                                const v1::ReopenCaseRequest& request) {
  return WriteCase(
      caller, "ReopenCase", request, request.case_ref(), request.base_version(),
      request.idempotency_key(), CaseAccess::kWrite,
      [&](const StoredCase& c, const CatalogueView&, CaseChange& change) -> absl::Status {
        absl::StatusOr<absl::CivilDay> on = ParseDay(request.reopened_on(), "reopened_on");
        if (!on.ok()) return on.status();
        if (c.view.status() != v1::CLOSED) {
          return ReasonedError(absl::StatusCode::kFailedPrecondition, "CASE_NOT_CLOSED",
                               absl::StrCat("case ", c.view.case_ref(), " is not closed"),
                               {{"case_ref", c.view.case_ref()}});
        }
        absl::StatusOr<absl::CivilDay> closed = ParseDay(c.view.closed_on(), "closed_on");
        if (!closed.ok()) std::abort();  // a closed case always has its date
        if (absl::Status s = CheckDayWithin(*on, *closed, "the day the case closed", clock_.Today(),
                                            "today", "reopened_on");
            !s.ok())
          return s;
        change.kind = "REOPENED";
        change.effective_on = *on;
        change.body = NewStatus{StatusChange::kReopened, *on, ""};
        change.summary_json = nlohmann::json{{"reopened_on", FormatDay(*on)},
                                             {"previous_outcome", c.view.closure_outcome()}}
                                  .dump();
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::Case> CaseKeeper::ReassignCase(const Caller& caller,
                                                  const v1::ReassignCaseRequest& request) {
  return WriteCase(
      caller, "ReassignCase", request, request.case_ref(), request.base_version(),
      request.idempotency_key(), CaseAccess::kReassign,
      [&](const StoredCase& c, const CatalogueView&, CaseChange& change) -> absl::Status {
        absl::StatusOr<StaffRecord> to =
            FindActiveStaff(caller, request.to_caseworker(), "to_caseworker");
        if (!to.ok()) return to.status();
        if (to->team_id == 0) {
          return Invalid("to_caseworker",
                         absl::StrCat("\"", to->code,
                                      "\" belongs to no team; cases are held by staff in a team"));
        }
        if (absl::Status s = AuthorizeReassignTo(caller, to->team_id); !s.ok()) return s;
        absl::StatusOr<absl::CivilDay> on = ParseDay(request.on(), "on");
        if (!on.ok()) return on.status();
        if (absl::Status s = CheckDayWithin(
                *on, c.held_since.empty() ? OpenedOn(c) : StoredDay(c.held_since),
                "the day the current caseworker took the case", clock_.Today(), "today", "on");
            !s.ok()) {
          return s;
        }
        if (absl::Status s = CaseMustBeOpen(c, "re-assigning it"); !s.ok()) return s;
        if (to->id == c.owner.caseworker_id) {
          return ReasonedError(
              absl::StatusCode::kFailedPrecondition, "ALREADY_HOLDER",
              absl::StrCat("case ", c.view.case_ref(), " is already held by ", to->code),
              {{"case_ref", c.view.case_ref()}, {"caseworker", to->code}}, "to_caseworker");
        }
        change.kind = "REASSIGNED";
        change.effective_on = *on;
        change.body = NewAssignment{to->id, to->team_id, *on};
        change.summary_json = nlohmann::json{
            {"from", c.view.caseworker()},
            {"from_team", c.view.team()},
            {"to", to->code},
            {"to_team", to->team_code},
            {"on",
             FormatDay(*on)}}.dump();
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::Catalogue> CaseKeeper::GetCatalogue(const Caller& caller) {
  return store_.LoadCatalogue(caller.job_centre_id);
}

absl::StatusOr<v1::Catalogue> CaseKeeper::UpsertCatalogueEntry(
    const Caller& caller, const v1::UpsertCatalogueEntryRequest& request) {
  if (absl::Status s = AuthorizeCatalogueEdit(caller); !s.ok()) return s;
  if (!request.has_entry()) return Invalid("entry", "is required");
  if (absl::Status s = CheckCatalogueEntry(request.entry()); !s.ok()) return s;
  if (absl::Status s =
          store_.UpsertCatalogueEntry(caller.job_centre_id, caller.staff_id, request.entry());
      !s.ok())
    return s;
  if (catalogues_ != nullptr) catalogues_->Drop(caller.job_centre_id);
  return store_.LoadCatalogue(caller.job_centre_id);
}

absl::StatusOr<v1::Catalogue> CaseKeeper::UpsertCaseField(
    const Caller& caller, const v1::UpsertCaseFieldRequest& request) {
  if (absl::Status s = AuthorizeCatalogueEdit(caller); !s.ok()) return s;
  if (!request.has_field()) return Invalid("field", "is required");
  if (absl::Status s = CheckCaseFieldDefinition(request.field()); !s.ok()) return s;
  if (absl::Status s =
          store_.UpsertCaseField(caller.job_centre_id, caller.staff_id, request.field());
      !s.ok())
    return s;
  if (catalogues_ != nullptr) catalogues_->Drop(caller.job_centre_id);
  return store_.LoadCatalogue(caller.job_centre_id);
}

absl::StatusOr<v1::ImportReport> CaseKeeper::ImportHistory(const Caller& caller,
                                                           const ImportChunkSource& next) {
  v1::ImportChunk first;  // an empty stream is an empty import
  absl::StatusOr<bool> read = next(&first);
  if (!read.ok()) return read.status();
  if (!*read) first.Clear();
  if (absl::Status s = AuthorizeImport(caller, first.create_missing_staff()); !s.ok()) return s;
  HistoryImporter importer(store_, clock_, max_import_case_rows_);
  return importer.Run(caller, first, next);
}

}  // namespace forecast
