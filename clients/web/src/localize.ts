// The services word their validation messages and agenda details in English (code, logs and
// APIs are English). In the Danish interface the common ones are rendered in Danish here, by
// their known shapes; anything not recognised is shown as the service wrote it, marked lang="en"
// so that screen readers pronounce it right.
import { outcomeLabel, riskLabel } from './context';
import { date, month } from './format';
import { lang } from './i18n';

/** Text to show, and its language. */
export interface Localized {
  text: string;
  lang: 'da' | 'en';
}

type Rule = [RegExp, (...groups: string[]) => string];

const DAY = '(\\d{4}-\\d{2}-\\d{2})';
const MONTH = '(\\d{4}-\\d{2})';

// Validation problems (the part after "field: "), from services/common and services/case.
const problemRules: Rule[] = [
  [/^is required$/, () => 'skal udfyldes'],
  [/^an? (?:outcome|case type|risk level) is required$/, () => 'skal vælges'],
  [/^an? (?:date|day) \(YYYY-MM-DD\) is required$/, () => 'en dato (ÅÅÅÅ-MM-DD) skal udfyldes'],
  [/^a month \(YYYY-MM\) is required$/, () => 'en måned (ÅÅÅÅ-MM) skal udfyldes'],
  [/^"(.*)" is not a valid (?:date|day).*$/, (v) => `"${v}" er ikke en gyldig dato (ÅÅÅÅ-MM-DD)`],
  [/^"(.*)" is not a valid month.*$/, (v) => `"${v}" er ikke en gyldig måned (ÅÅÅÅ-MM)`],
  [new RegExp(`^${MONTH} is before the month the case opened \\(${MONTH}\\)$`),
    (m, opened) => `${month(m)} ligger før den måned, sagen blev åbnet (${month(opened)})`],
  [new RegExp(`^${MONTH} is more than (\\d+) months ahead \\(the latest allowed is ${MONTH}\\)$`),
    (m, n, latest) => `${month(m)} ligger mere end ${n} måneder frem (senest ${month(latest)})`],
  [new RegExp(`^${DAY} is before .* \\(${DAY}\\)$`), (d, limit) => `${date(d)} ligger før ${date(limit)}`],
  [new RegExp(`^${DAY} is after .* \\(${DAY}\\)$`), (d, limit) => `${date(d)} ligger efter ${date(limit)}`],
  [/^is (\d+) characters long, at most (\d+) are allowed$/,
    (n, max) => `er ${n} tegn lang; højst ${max} tegn er tilladt`],
  [/^contains a control character$/, () => 'indeholder et ugyldigt kontroltegn'],
  [/looks like (?:it contains )?a CPR number/,
    () => 'ligner et CPR-nummer; skriv aldrig personnumre, kun sagens reference'],
  [/^"(.*)" is (?:not an?|no longer an active) (?:outcome|case type|risk level|risk) in this job centre's catalogue.*$/,
    (v) => `"${v}" findes ikke i jobcentrets katalog`],
];

// Agenda details (services/forecast/attention.cc), joined by "; " when a case has several.
const detailRules: Rule[] = [
  [/^(\d+) action\(s\) overdue, the oldest by (\d+) days$/,
    (n, days) => Number(n) === 1
      ? `1 handling over fristen med ${days} ${Number(days) === 1 ? 'dag' : 'dage'}`
      : `${n} handlinger over fristen, den ældste med ${days} ${Number(days) === 1 ? 'dag' : 'dage'}`],
  [new RegExp(`^no expectation recorded$`), () => 'ingen forventning registreret'],
  [new RegExp(`^open since ${DAY}$`), (d) => `åben siden ${date(d)}`],
  [new RegExp(`^expected to close in ${MONTH}$`), (m) => `tidshorisont ${month(m)}`],
  [/^still open (\d+) month\(s\) later$/, (n) => `stadig åben ${n} ${Number(n) === 1 ? 'måned' : 'måneder'} efter tidshorisonten`],
  [/^expected ([A-Z0-9_]+), an outcome this caseworker expects markedly more often than the team$/,
    (o) => `forventet ${outcomeLabel(o)}, et udfald sagsbehandleren forventer markant oftere end teamet`],
  [new RegExp(`^risk ([A-Z0-9_]+) on ([A-Z0-9_]+) in ${MONTH}$`),
    (r, o, m) => `${outcomeLabel(o)} senest ${month(m)}, ${riskLabel(r).toLowerCase()} risiko for at det ikke holder`],
  [new RegExp(`^expectation last recorded on ${DAY} \\((\\d+) days ago\\)$`),
    (d, n) => `forventningen blev sidst registreret ${date(d)} (for ${n} dage siden)`],
];

function translate(text: string, rules: Rule[]): string | undefined {
  for (const [pattern, render] of rules) {
    const match = pattern.exec(text);
    if (match) return render(...match.slice(1));
  }
  return undefined;
}

/** A validation problem (without its field name) in the interface's language when known. */
export function localizeProblem(problem: string): Localized {
  if (lang() === 'en') return { text: problem, lang: 'en' };
  const da = translate(problem, problemRules);
  return da === undefined ? { text: problem, lang: 'en' } : { text: da, lang: 'da' };
}

/** An agenda item's detail in the interface's language when every part of it is known. */
export function localizeDetail(detail: string): Localized {
  if (lang() === 'en' || detail === '') return { text: detail, lang: 'en' };
  const parts = detail.split('; ').map((part) => translate(part, detailRules));
  if (parts.some((part) => part === undefined)) return { text: detail, lang: 'en' };
  return { text: parts.join('; '), lang: 'da' };
}
