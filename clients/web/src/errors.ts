// A refused call phrased in the user's language. The services send machine-readable details with
// every refusal they foresee (services/common/status.h): the field, a reason code and its
// parameters; the gateway passes them on (ApiError.field/.reason/.params). Here they become
// sentences in Danish or English. The service's English message is a developer's text: it is
// shown (marked lang="en") only for a validation problem nobody foresaw.
import { ApiError } from './api';
import { staffName } from './context';
import { date, month } from './format';
import { lang } from './i18n';
import { localizeProblem, type Localized } from './localize';

type Params = Record<string, string>;
type Phrase = (p: Params) => string;

const da: Record<string, Phrase> = {
  REQUIRED: () => 'skal udfyldes',
  TOO_SHORT: (p) => `skal være mindst ${p.min} tegn`,
  TOO_LONG: (p) => `er ${p.length} tegn lang; højst ${p.max} tegn er tilladt`,
  CONTROL_CHARACTER: () => 'indeholder et ugyldigt kontroltegn',
  CPR_NUMBER: () => 'ligner et CPR-nummer; skriv aldrig personnumre, kun sagens reference',
  NOT_A_CASE_REF: (p) => `"${p.value}" er ikke en sagsreference (1–40 bogstaver, tal eller / _ . -)`,
  NOT_A_CODE: (p) => `"${p.value}" er ikke en gyldig kode (1–32 bogstaver, tal eller _ . -)`,
  NOT_A_TOKEN: () => 'er ikke en gyldig nøgle',
  DATE_REQUIRED: () => 'en dato skal udfyldes',
  MONTH_REQUIRED: () => 'en måned skal udfyldes',
  NOT_A_DATE: (p) => `"${p.value ?? ''}" er ikke en gyldig dato`,
  NOT_A_MONTH: (p) => `"${p.value ?? ''}" er ikke en gyldig måned`,
  UNKNOWN_CODE: (p) => `"${p.value}" findes ikke i jobcentrets katalog`,
  INACTIVE_CODE: (p) => `"${p.value}" er ikke længere i brug i jobcentrets katalog`,
  MONTH_BEFORE_OPENED: (p) => `${month(p.month)} ligger før den måned, sagen blev åbnet (${month(p.opened)})`,
  MONTH_TOO_FAR: (p) => `${month(p.month)} ligger mere end ${p.months} måneder frem (senest ${month(p.latest)})`,
  DATE_TOO_EARLY: (p) => `${date(p.date)} ligger før ${date(p.limit)}`,
  DATE_TOO_LATE: (p) => `${date(p.date)} ligger efter ${date(p.limit)}`,
  WRONG_TYPE: () => 'skal være ja eller nej',
  NOT_A_NUMBER: () => 'skal være et tal',
  NOT_A_CHOICE: (p) => (p.value ? `"${p.value}" er ikke et af valgene` : 'vælg en af mulighederne'),
  NOT_YES_NO: () => 'skal være ja eller nej',
  UNKNOWN_FIELD: () => 'er ikke et af jobcentrets felter',
  UNKNOWN_STAFF: (p) => `"${p.value}" er ikke medarbejder i jobcentret`,
  INACTIVE_STAFF: (p) => `${staffName(p.value)} er ikke længere aktiv`,
  OUT_OF_RANGE: (p) => `skal være et tal fra ${p.min} til ${p.max}`,
  CODE_UPPER: () => 'skal være 1–32 store bogstaver (A–Z), tal eller _',
  CODE_LOWER: () => 'skal være 1–32 små bogstaver (a–z), tal eller _',
  CHOICES_REQUIRED: () => 'et valgfelt skal have mindst én valgmulighed',
  KEY_REUSED: () => 'Ændringen blev sendt to gange med forskelligt indhold. Prøv igen.',
  NOT_ALLOWED: () => 'Du har ikke adgang til dette.',
  AGREED_NEEDS_TEAM_LEADER: () => 'Kun teamlederen kan markere en forventning eller handling som aftalt i dialog.',
  CASE_NOT_FOUND: (p) => `Sag ${p.case_ref} findes ikke, eller du har ikke adgang til den.`,
  TEAM_NOT_FOUND: (p) => `Teamet "${p.value}" findes ikke.`,
  CASEWORKER_NOT_FOUND: (p) => `Sagsbehandleren "${p.value}" findes ikke.`,
  DEPARTMENT_NOT_FOUND: (p) => `Afdelingen "${p.value}" findes ikke.`,
  SCOPE_NOT_FOUND: () => 'Det, du leder efter, findes ikke.',
  STALE_VERSION: () => 'Sagen er ændret af en anden, siden du åbnede den.',
  CASE_CLOSED: () => 'Sagen er lukket. Genåbn den først.',
  CASE_NOT_CLOSED: () => 'Sagen er ikke lukket.',
  ALREADY_HOLDER: (p) => `Sagen ligger allerede hos ${staffName(p.caseworker)}.`,
  DIALOGUE_CHANGED: () => 'Dialogen er ændret af en anden, siden du åbnede den.',
  DIALOGUE_FINAL: () => 'Dialogen er afsluttet og kan ikke ændres. Aftaler kan ikke længere registreres i den; åbn en ny dialog.',
  NOT_IN_DIALOGUE: (p) => `sag ${p.value} er ikke på dialogens liste`,
  ADDED_AND_REMOVED: (p) => `sag ${p.value} kan ikke både tilføjes og fjernes`,
  NO_TEAM: (p) => `${staffName(p.value)} hører ikke til et team`,
  DIALOGUE_NOT_FOUND: () => 'Dialogen findes ikke, eller du har ikke adgang til den.',
  TEAM_REQUIRED: () => 'sagsbehandlere og teamledere skal høre til et team',
  LAST_ADMIN: (p) => `${staffName(p.value)} er jobcentrets sidste aktive administrator. Gør en anden til administrator først.`,
  UNIT_KIND_FIXED: (p) => `Enheden "${p.value}" findes allerede som en anden slags; det kan ikke ændres.`,
  DEPARTMENT_PARENT: () => 'en afdeling hører ikke under en anden enhed; kun teams gør',
  METRIC_CODE: () => 'skal være 1–48 små bogstaver (a–z), tal eller _',
  FIELD_NOT_BOOL: () => 'skal være et ja/nej-felt',
  IDEMPOTENCY_KEY_REUSED: () => 'Ændringen blev sendt to gange med forskelligt indhold. Prøv igen.',
  MONTH_PASSED: (p) => `${month(p.month)} er gået; justér ${month(p.first)} eller senere`,
  UNKNOWN_OUTCOME: (p) => `"${p.value}" er ikke et udfald i jobcentrets katalog`,
  ADJUSTMENT_CHANGED: () => 'Justeringen er ændret af en anden, siden du åbnede siden.',
  NOTHING_TO_CLEAR: () => 'Der er ingen gældende justering at fjerne.',
};

const en: Record<string, Phrase> = {
  REQUIRED: () => 'is required',
  TOO_SHORT: (p) => `must be at least ${p.min} characters`,
  TOO_LONG: (p) => `is ${p.length} characters long; at most ${p.max} are allowed`,
  CONTROL_CHARACTER: () => 'contains an invalid control character',
  CPR_NUMBER: () => 'looks like a CPR number; never write personal ID numbers, only the case reference',
  NOT_A_CASE_REF: (p) => `"${p.value}" is not a case reference (1–40 letters, digits or / _ . -)`,
  NOT_A_CODE: (p) => `"${p.value}" is not a valid code (1–32 letters, digits or _ . -)`,
  NOT_A_TOKEN: () => 'is not a valid key',
  DATE_REQUIRED: () => 'a date is required',
  MONTH_REQUIRED: () => 'a month is required',
  NOT_A_DATE: (p) => `"${p.value ?? ''}" is not a valid date`,
  NOT_A_MONTH: (p) => `"${p.value ?? ''}" is not a valid month`,
  UNKNOWN_CODE: (p) => `"${p.value}" is not in the job centre's catalogue`,
  INACTIVE_CODE: (p) => `"${p.value}" is no longer in use in the job centre's catalogue`,
  MONTH_BEFORE_OPENED: (p) => `${month(p.month)} is before the month the case opened (${month(p.opened)})`,
  MONTH_TOO_FAR: (p) => `${month(p.month)} is more than ${p.months} months ahead (latest ${month(p.latest)})`,
  DATE_TOO_EARLY: (p) => `${date(p.date)} is before ${date(p.limit)}`,
  DATE_TOO_LATE: (p) => `${date(p.date)} is after ${date(p.limit)}`,
  WRONG_TYPE: () => 'must be yes or no',
  NOT_A_NUMBER: () => 'must be a number',
  NOT_A_CHOICE: (p) => (p.value ? `"${p.value}" is not one of the choices` : 'choose one of the options'),
  NOT_YES_NO: () => 'must be yes or no',
  UNKNOWN_FIELD: () => "is not one of the job centre's fields",
  UNKNOWN_STAFF: (p) => `"${p.value}" is not on the job centre's staff`,
  INACTIVE_STAFF: (p) => `${staffName(p.value)} is no longer active`,
  OUT_OF_RANGE: (p) => `must be a number from ${p.min} to ${p.max}`,
  CODE_UPPER: () => 'must be 1–32 capital letters (A–Z), digits or _',
  CODE_LOWER: () => 'must be 1–32 small letters (a–z), digits or _',
  CHOICES_REQUIRED: () => 'a choice field needs at least one choice',
  KEY_REUSED: () => 'The change was sent twice with different content. Try again.',
  NOT_ALLOWED: () => 'You do not have access to this.',
  AGREED_NEEDS_TEAM_LEADER: () => 'Only the team leader can mark an expectation or action as agreed in dialogue.',
  CASE_NOT_FOUND: (p) => `Case ${p.case_ref} does not exist, or you have no access to it.`,
  TEAM_NOT_FOUND: (p) => `The team "${p.value}" does not exist.`,
  CASEWORKER_NOT_FOUND: (p) => `The caseworker "${p.value}" does not exist.`,
  DEPARTMENT_NOT_FOUND: (p) => `The department "${p.value}" does not exist.`,
  SCOPE_NOT_FOUND: () => 'What you are looking for does not exist.',
  STALE_VERSION: () => 'Someone else changed the case after you opened it.',
  CASE_CLOSED: () => 'The case is closed. Reopen it first.',
  CASE_NOT_CLOSED: () => 'The case is not closed.',
  ALREADY_HOLDER: (p) => `The case is already held by ${staffName(p.caseworker)}.`,
  DIALOGUE_CHANGED: () => 'Someone else changed the dialogue after you opened it.',
  DIALOGUE_FINAL: () => 'The dialogue is finalised and cannot be changed. Agreements can no longer be recorded in it; open a new dialogue.',
  NOT_IN_DIALOGUE: (p) => `case ${p.value} is not on the dialogue's list`,
  ADDED_AND_REMOVED: (p) => `case ${p.value} cannot be both added and removed`,
  NO_TEAM: (p) => `${staffName(p.value)} belongs to no team`,
  DIALOGUE_NOT_FOUND: () => 'The dialogue does not exist, or you do not have access to it.',
  TEAM_REQUIRED: () => 'caseworkers and team leaders belong to a team',
  LAST_ADMIN: (p) => `${staffName(p.value)} is the job centre's last active administrator. Make someone else administrator first.`,
  UNIT_KIND_FIXED: (p) => `The unit "${p.value}" already exists as another kind; that cannot change.`,
  DEPARTMENT_PARENT: () => 'a department belongs to no other unit; only teams do',
  METRIC_CODE: () => 'must be 1–48 small letters (a–z), digits or _',
  FIELD_NOT_BOOL: () => 'must be a yes/no field',
  IDEMPOTENCY_KEY_REUSED: () => 'The change was sent twice with different content. Try again.',
  MONTH_PASSED: (p) => `${month(p.month)} has passed; adjust ${month(p.first)} or later`,
  UNKNOWN_OUTCOME: (p) => `"${p.value}" is not an outcome in the job centre's catalogue`,
  ADJUSTMENT_CHANGED: () => 'Someone else changed the adjustment since you opened the page.',
  NOTHING_TO_CLEAR: () => 'There is no adjustment in force to clear.',
};

// What a refusal means when the service gave no reason, by canonical code.
const byCode: Record<string, { da: string; en: string }> = {
  UNREACHABLE: {
    da: 'Kan ikke nå serveren. Tjek netværksforbindelsen, og prøv igen.',
    en: 'Cannot reach the server. Check the network connection and try again.',
  },
  UNAVAILABLE: { da: 'Tjenesten svarer ikke lige nu. Prøv igen om lidt.', en: 'The service is not answering right now. Try again shortly.' },
  DEADLINE_EXCEEDED: { da: 'Svaret tog for lang tid. Prøv igen.', en: 'The answer took too long. Try again.' },
  PERMISSION_DENIED: { da: 'Du har ikke adgang til dette.', en: 'You do not have access to this.' },
  NOT_FOUND: { da: 'Det, du leder efter, findes ikke.', en: 'What you are looking for does not exist.' },
  UNAUTHENTICATED: { da: 'Du er ikke logget ind.', en: 'You are not logged in.' },
  ABORTED: { da: 'Sagen er ændret af en anden imens.', en: 'Someone else changed the case meanwhile.' },
  FAILED_PRECONDITION: { da: 'Det kan ikke lade sig gøre i sagens nuværende tilstand.', en: 'That is not possible in the current state.' },
  ALREADY_EXISTS: { da: 'Det findes allerede.', en: 'That already exists.' },
  RESOURCE_EXHAUSTED: { da: 'For mange forespørgsler. Vent lidt, og prøv igen.', en: 'Too many requests. Wait a little and try again.' },
  INVALID_ARGUMENT: { da: 'Oplysningerne er ikke gyldige.', en: 'The input is not valid.' },
};

const other = { da: 'Der opstod en fejl på serveren. Prøv igen, eller kontakt support', en: 'Something went wrong on the server. Try again, or contact support' };

// Request fields in words, for a problem shown away from its field.
const fieldNames: Record<string, { da: string; en: string }> = {
  expected_outcome: { da: 'Forventet udfald', en: 'Expected outcome' },
  expected_month: { da: 'Tidshorisont', en: 'Time frame' },
  risk: { da: 'Risiko', en: 'Risk' },
  note: { da: 'Note', en: 'Note' },
  description: { da: 'Beskrivelse', en: 'Description' },
  due_on: { da: 'Frist', en: 'Due date' },
  postponed_to: { da: 'Ny frist', en: 'New due date' },
  closed_on: { da: 'Lukket den', en: 'Closed on' },
  reopened_on: { da: 'Genåbnet den', en: 'Reopened on' },
  on: { da: 'Dato', en: 'Date' },
  outcome: { da: 'Udfald', en: 'Outcome' },
  to_caseworker: { da: 'Ny sagsbehandler', en: 'New caseworker' },
  case_ref: { da: 'Sag', en: 'Case' },
  result: { da: 'Resultat', en: 'Result' },
  agreed_in_dialogue: { da: 'Aftalt i dialog', en: 'Agreed in dialogue' },
  dialogue_id: { da: 'Dialog', en: 'Dialogue' },
  remove_case_refs: { da: 'Fjern sag', en: 'Remove case' },
  caseworker: { da: 'Sagsbehandler', en: 'Caseworker' },
  since: { da: 'Ændringer siden', en: 'Changes since' },
  'target.target': { da: 'Mål', en: 'Target' },
  'target.month': { da: 'Måned', en: 'Month' },
  'unit.code': { da: 'Kode', en: 'Code' },
  'unit.name': { da: 'Navn', en: 'Name' },
  'unit.kind': { da: 'Slags', en: 'Kind' },
  'unit.parent': { da: 'Afdeling', en: 'Department' },
  'staff.code': { da: 'Medarbejderkode', en: 'Staff code' },
  'staff.display_name': { da: 'Navn', en: 'Name' },
  'staff.role': { da: 'Rolle', en: 'Role' },
  'staff.team': { da: 'Team', en: 'Team' },
  'metric.code': { da: 'Kode', en: 'Code' },
  'metric.label_da': { da: 'Betegnelse på dansk', en: 'Label in Danish' },
  'metric.label_en': { da: 'Betegnelse på engelsk', en: 'Label in English' },
  'metric.kind': { da: 'Hvad tælles', en: 'What is counted' },
  'metric.outcome_group': { da: 'Udfaldsgruppe', en: 'Outcome group' },
  'metric.field_code': { da: 'Felt', en: 'Field' },
  'metric.choice': { da: 'Valgmulighed', en: 'Choice' },
};

/** The field's problem alone (for the message next to it), in the interface's language. */
export function fieldProblem(error: ApiError): Localized {
  const table = lang() === 'da' ? da : en;
  const phrase = error.reason ? table[error.reason] : undefined;
  if (phrase) return { text: phrase(error.params), lang: lang() };
  return localizeProblem(error.problem);
}

/** A whole sentence for an alert: the field's name and problem, or what the refusal means. */
export function errorMessage(error: unknown): Localized {
  const l = lang();
  if (!(error instanceof ApiError)) return { text: `${other[l]}.`, lang: l };
  const table = l === 'da' ? da : en;
  const phrase = error.reason ? table[error.reason] : undefined;
  const field = error.field;
  if (field && (error.code === 'INVALID_ARGUMENT' || (phrase && /^[a-z]/.test(phrase(error.params))))) {
    const problem = fieldProblem(error);
    const name = fieldNames[field]?.[l] ?? fieldNames[field.replace(/\[.*$/, '')]?.[l] ?? field;
    return { text: `${name}: ${problem.text}`, lang: problem.lang };
  }
  if (phrase) return { text: phrase(error.params), lang: l };
  const known = byCode[error.unreachable ? 'UNREACHABLE' : error.code];
  if (known) return { text: known[l], lang: l };
  return { text: `${other[l]}${error.requestId ? ` (${error.requestId})` : ''}.`, lang: l };
}

/** The reason codes phrased here (the browser test checks every one in both languages). */
export const phrasedReasons = Object.keys(da);
export const phrasedReasonsEn = Object.keys(en);
