#include "clients/cli/error_text.h"

#include <cstdlib>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace forecast::cli {
namespace {

std::string Param(const ErrorDetail& d, const std::string& name) {
  auto it = d.params.find(name);
  return it == d.params.end() ? std::string() : it->second;
}

// Danish wording of the reasons the services send.
std::string Danish(const ErrorDetail& d) {
  const std::string& r = d.reason;
  if (r == "REQUIRED" || r == "DATE_REQUIRED" || r == "MONTH_REQUIRED") return "skal udfyldes";
  if (r == "TOO_LONG")
    return absl::StrCat("er ", Param(d, "length"), " tegn lang; højst ", Param(d, "max"),
                        " tegn er tilladt");
  if (r == "TOO_SHORT") return absl::StrCat("skal være mindst ", Param(d, "min"), " tegn");
  if (r == "CONTROL_CHARACTER") return "indeholder et ugyldigt kontroltegn";
  if (r == "CPR_NUMBER")
    return "ligner et CPR-nummer; skriv aldrig personnumre, kun sagens reference";
  if (r == "NOT_A_DATE")
    return absl::StrCat("\"", Param(d, "value"), "\" er ikke en gyldig dato (ÅÅÅÅ-MM-DD)");
  if (r == "NOT_A_MONTH")
    return absl::StrCat("\"", Param(d, "value"), "\" er ikke en gyldig måned (ÅÅÅÅ-MM)");
  if (r == "UNKNOWN_CODE")
    return absl::StrCat("\"", Param(d, "value"), "\" findes ikke i jobcentrets katalog");
  if (r == "INACTIVE_CODE")
    return absl::StrCat("\"", Param(d, "value"), "\" er ikke længere i brug i jobcentrets katalog");
  if (r == "MONTH_BEFORE_OPENED")
    return absl::StrCat(Param(d, "month"), " ligger før den måned, sagen blev åbnet (",
                        Param(d, "opened"), ")");
  if (r == "MONTH_TOO_FAR")
    return absl::StrCat(Param(d, "month"), " ligger mere end ", Param(d, "months"),
                        " måneder frem (senest ", Param(d, "latest"), ")");
  if (r == "DATE_TOO_EARLY")
    return absl::StrCat(Param(d, "date"), " ligger før ", Param(d, "limit"));
  if (r == "DATE_TOO_LATE")
    return absl::StrCat(Param(d, "date"), " ligger efter ", Param(d, "limit"));
  if (r == "NOT_A_NUMBER") return "skal være et tal";
  if (r == "OUT_OF_RANGE")
    return absl::StrCat("skal være et tal fra ", Param(d, "min"), " til ", Param(d, "max"));
  if (r == "UNKNOWN_STAFF")
    return absl::StrCat("\"", Param(d, "value"), "\" er ikke medarbejder i jobcentret");
  if (r == "INACTIVE_STAFF")
    return absl::StrCat("\"", Param(d, "value"), "\" er ikke længere aktiv");
  if (r == "NOT_ALLOWED") return "Du har ikke adgang til dette.";
  if (r == "AGREED_NEEDS_TEAM_LEADER")
    return "Kun teamlederen kan markere en forventning eller handling som aftalt i dialog.";
  if (r == "CASE_NOT_FOUND")
    return absl::StrCat("Sag ", Param(d, "case_ref"),
                        " findes ikke, eller du har ikke adgang til den.");
  if (r == "TEAM_NOT_FOUND") return absl::StrCat("Teamet \"", Param(d, "value"), "\" findes ikke.");
  if (r == "CASEWORKER_NOT_FOUND")
    return absl::StrCat("Sagsbehandleren \"", Param(d, "value"), "\" findes ikke.");
  if (r == "STALE_VERSION")
    return absl::StrCat("Sag ", Param(d, "case_ref"), " er ændret af en anden (version ",
                        Param(d, "version"), "); se den igen, og gentag ændringen.");
  if (r == "CASE_CLOSED")
    return absl::StrCat("Sag ", Param(d, "case_ref"), " er lukket; genåbn den først.");
  if (r == "CASE_NOT_CLOSED") return absl::StrCat("Sag ", Param(d, "case_ref"), " er ikke lukket.");
  if (r == "NOT_A_CODE")
    return absl::StrCat("\"", Param(d, "value"),
                        "\" er ikke en gyldig kode (1-32 bogstaver, tal eller _ -)");
  if (r == "NOT_A_CHOICE")
    return Param(d, "value").empty()
               ? std::string("vælg en af mulighederne")
               : absl::StrCat("\"", Param(d, "value"), "\" er ikke et af valgene");
  if (r == "UNKNOWN_FIELD")
    return absl::StrCat("\"", Param(d, "value"), "\" er ikke et af jobcentrets felter");
  if (r == "DEPARTMENT_NOT_FOUND")
    return absl::StrCat("Afdelingen \"", Param(d, "value"), "\" findes ikke.");
  if (r == "DEPARTMENT_PARENT") return "en afdeling hører ikke under en anden enhed; kun teams gør";
  if (r == "UNIT_KIND_FIXED")
    return absl::StrCat("Enheden \"", Param(d, "value"), "\" findes allerede som en anden slags (",
                        Param(d, "kind"), "); det kan ikke ændres.");
  if (r == "TEAM_REQUIRED") return "sagsbehandlere og teamledere skal høre til et team";
  if (r == "LAST_ADMIN")
    return absl::StrCat("\"", Param(d, "value"),
                        "\" er jobcentrets sidste aktive administrator. Gør en anden til "
                        "administrator først.");
  if (r == "METRIC_CODE") return "skal være 1-48 små bogstaver (a-z), tal eller _";
  if (r == "FIELD_NOT_BOOL")
    return absl::StrCat("\"", Param(d, "value"), "\" er ikke et ja/nej-felt");
  if (r == "ALREADY_HOLDER")
    return absl::StrCat("Sagen ligger allerede hos ", Param(d, "caseworker"), ".");
  return "";
}

}  // namespace

bool UserSpeaksDanish() {
  for (const char* name : {"FORECASTCTL_LANG", "LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return absl::StartsWith(value, "da");
  }
  return false;
}

std::string PhraseError(const absl::Status& status, bool danish) {
  if (danish) {
    const ErrorDetail detail = DetailOf(status);
    std::string text = Danish(detail);
    // A sentence (capitalised) stands alone; a field's problem follows the field's name.
    const bool sentence = !text.empty() && text[0] >= 'A' && text[0] <= 'Z';
    if (!text.empty())
      return detail.field.empty() || sentence ? text : absl::StrCat(detail.field, ": ", text);
    if (status.code() == absl::StatusCode::kUnavailable)
      return "Kan ikke nå tjenesten på den adresse, der blev givet ved login.";
  }
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
}

}  // namespace forecast::cli
