// One case: its state, the editor, the expectation history, actions with follow-ups, the audit
// trail, and why the model gives it the closure probabilities it does.
import { call } from '../api';
import { breadcrumbs, errorBox, th } from '../components';
import { caseTypeLabel, ctx, fieldLabel, outcomeLabel, riskLabel, staffName, teamName } from '../context';
import { chartFigure, colour } from '../charts';
import { h, replace } from '../dom';
import { canWrite, caseEditor, fieldValueText } from '../forms';
import { date, dateTime, month, num, pct } from '../format';
import { lang, plural, t, tCode } from '../i18n';
import type { View } from '../router';
import type { Action, Case, CaseEvent, CaseExplanation, CaseHistory, Expectation, ExplanationReason } from '../types';

// Rows of each history list per page.
const HISTORY_PAGE_SIZE = 50;

/** A reason behind the case's probabilities, phrased from its code and parameters. */
function reasonText(r: ExplanationReason): string {
  const p = r.params ?? {};
  const n = (key: string) => Number(p[key] ?? 0);
  const months = (count: number) => `${num(count)} ${plural(count, { da: 'måned', en: 'month' }, { da: 'måneder', en: 'months' })}`;
  const da = lang() === 'da';
  switch (r.code) {
    case 'NO_EXPECTATION':
      return da
        ? 'Der er ikke registreret en forventning, så sagen følger det historiske mønster for sagstypen og varigheden.'
        : 'No expectation is recorded, so the case follows the historical pattern for its case type and duration.';
    case 'BASELINE':
      return da
        ? `Sager af typen ${caseTypeLabel(p.case_type)}, der har været åbne i ${months(n('months_open'))}, afsluttes med ${pct(n('monthly_share'))} om måneden (ud fra ${num(n('case_months'))} sagsmåneder).`
        : `${caseTypeLabel(p.case_type)} cases open for ${months(n('months_open'))} close at ${pct(n('monthly_share'))} a month (from ${num(n('case_months'))} case-months).`;
    case 'EXPECTED':
      return da
        ? `Forventet udfald: ${outcomeLabel(p.outcome)} senest ${month(p.month)}, ${riskLabel(p.risk).toLowerCase()} risiko for at det ikke holder (registreret ${month(p.recorded)}).`
        : `Expected outcome: ${outcomeLabel(p.outcome)} by ${month(p.month)}, ${riskLabel(p.risk).toLowerCase()} risk that it does not hold (recorded ${month(p.recorded)}).`;
    case 'PASSED':
      return da
        ? `Tidshorisonten er overskredet med ${months(n('months'))}, og sagen er stadig åben.`
        : `The time frame was exceeded ${months(n('months'))} ago and the case is still open.`;
    case 'AS_PLANNED':
      return da
        ? `Som planlagt: ${pct(n('share'))} for at sagen afsluttes ${p.passed === '1' ? 'denne måned (det forsinkede skridt antages gennemført nu)' : 'i den forventede måned'}; ellers afsluttes den med ${pct(n('monthly_share'))} om måneden med det udfaldsmønster, sager af typen ${caseTypeLabel(p.case_type)} plejer at have.`
        : `As planned: ${pct(n('share'))} to close ${p.passed === '1' ? 'this month (the overdue step is assumed carried out now)' : 'in the expected month'}; otherwise it closes at ${pct(n('monthly_share'))} a month with the usual outcome mix of ${caseTypeLabel(p.case_type)} cases.`;
    case 'CALIBRATED':
      return da
        ? `Justeret efter erfaring fra ${num(n('case_months'))} sagsmåneder: med ${months(n('lead'))} til tidshorisonten afsluttes sådanne sager med ${pct(n('monthly_share'))} denne måned i jobcentret; sagsbehandlerens faktor er ${num(n('factor'), 2)}.`
        : `Adjusted by experience from ${num(n('case_months'))} case-months: ${months(n('lead'))} before the time frame such cases close at ${pct(n('monthly_share'))} this month at the centre; the caseworker's factor is ${num(n('factor'), 2)}.`;
    case 'SLIP':
      return da
        ? `Sagsbehandlerens forventninger forskydes i gennemsnit ${num(n('months'), 1)} måneder; ${pct(n('share'))} af afslutningerne følger det forventede udfald.`
        : `The caseworker's expectations slip ${num(n('months'), 1)} months on average; ${pct(n('share'))} of closures follow the expected outcome.`;
    case 'ACTION_OVERDUE':
      return da ? 'Den næste handling er over fristen.' : 'The next action is overdue.';
    default:
      return '';
  }
}

/** Why the model gives the case its probabilities, in the reader's language. */
function reasons(ex: CaseExplanation): HTMLElement | null {
  const details = ex.reason_details ?? [];
  const phrased = details.map(reasonText).filter(Boolean);
  if (phrased.length === 0 && ex.reasons.length === 0) return null;
  return h(
    'div',
    { 'data-testid': 'case-reasons' },
    h('h3', null, t('explain.reasons')),
    phrased.length
      ? h('ul', null, phrased.map((r) => h('li', null, r)))
      : h('ul', null, ex.reasons.map((r) => h('li', { lang: 'en' }, r))),
  );
}

export async function caseView(ref: string): Promise<View> {
  const section = h('section', { class: 'view case-view' });
  const charts: Array<{ destroy(): void }> = [];
  let history: CaseHistory;
  try {
    history = await call<CaseHistory>('CaseService', 'GetCaseHistory', { case_ref: ref, page_size: HISTORY_PAGE_SIZE });
  } catch (error) {
    section.append(h('h1', null, ref), errorBox(error));
    return { element: section };
  }
  const c = history.current;
  // The history comes a page at a time, newest first: every list shows its newest rows, and
  // "Vis ældre" fetches the next page, which adds older rows to all three lists.
  const actionItem = (a: Action): HTMLElement =>
    h(
      'li',
      null,
      h('strong', null, a.description),
      ` · ${t('action.due', { date: date(a.due_on) })} · ${t(`action.status.${a.status}`)}`,
      a.overdue ? h('span', { class: 'badge badge-danger' }, t('case.overdue')) : null,
      a.follow_ups.length
        ? h('ul', null, a.follow_ups.map((f) => h('li', null, `${dateTime(f.recorded_at)}: ${tCode('action.result', f.result)}`, f.postponed_to ? ` → ${date(f.postponed_to)}` : '', f.note ? ` – ${f.note}` : '')))
        : null,
    );
  const expectationRow = (e: Expectation): HTMLElement =>
    h(
      'tr',
      null,
      h('td', null, dateTime(e.recorded_at)),
      h('td', null, outcomeLabel(e.expected_outcome)),
      h('td', null, month(e.expected_month)),
      h('td', null, riskLabel(e.risk)),
      h('td', null, staffName(e.recorded_by), e.agreed_in_dialogue ? h('span', { class: 'badge' }, t('action.agreed')) : null),
      h('td', null, e.note),
    );
  const eventItem = (e: CaseEvent): HTMLElement =>
    h('li', null, h('time', { datetime: e.recorded_at }, dateTime(e.recorded_at)), ' · ', tCode('history.event', e.kind), ' · ', staffName(e.actor));
  const actionList = h('ul', { class: 'plain', 'data-testid': 'history-actions' });
  const expectationRows = h('tbody', { 'data-testid': 'history-expectations' });
  const eventList = h('ol', { class: 'timeline', 'data-testid': 'history-events' });
  // One "shown x of y" line and "Vis ældre" button per list; any of them loads the next page.
  const pager = (testid: string) => ({
    shown: h('p', { class: 'muted', 'data-testid': `${testid}-shown` }),
    more: h('button', { type: 'button', class: 'secondary', 'data-testid': `${testid}-more` }, t('history.older')),
  });
  const pagers = { actions: pager('history-actions'), expectations: pager('history-expectations'), events: pager('history-events') };
  const listed = { actions: 0, expectations: 0, events: 0 };
  let nextToken = history.next_page_token ?? '';
  const showListed = (): void => {
    const totals = { actions: history.action_count, expectations: history.expectation_count, events: history.event_count };
    for (const key of ['actions', 'expectations', 'events'] as const) {
      const complete = listed[key] >= totals[key] || !nextToken;
      pagers[key].shown.textContent = complete ? '' : t('history.shown', { shown: String(listed[key]), total: String(totals[key]) });
      pagers[key].shown.hidden = complete;
      pagers[key].more.hidden = complete;
    }
  };
  const addPage = (page: CaseHistory): void => {
    for (const a of [...page.actions].reverse()) actionList.append(actionItem(a));
    for (const e of [...page.expectations].reverse()) expectationRows.append(expectationRow(e));
    for (const e of [...page.events].reverse()) eventList.append(eventItem(e));
    listed.actions += page.actions.length;
    listed.expectations += page.expectations.length;
    listed.events += page.events.length;
    nextToken = page.next_page_token ?? '';
    history = { ...page, current: history.current };
    showListed();
  };
  const loadOlder = async (button: HTMLButtonElement): Promise<void> => {
    if (!nextToken) return;
    for (const p of Object.values(pagers)) (p.more as HTMLButtonElement).disabled = true;
    try {
      addPage(await call<CaseHistory>('CaseService', 'GetCaseHistory', { case_ref: ref, page_size: HISTORY_PAGE_SIZE, page_token: nextToken }));
    } catch (error) {
      button.after(errorBox(error));
    } finally {
      for (const p of Object.values(pagers)) (p.more as HTMLButtonElement).disabled = false;
    }
  };
  for (const p of Object.values(pagers)) p.more.addEventListener('click', () => void loadOlder(p.more as HTMLButtonElement));
  addPage(history);
  const me = ctx().me;
  const crumbs: Array<[string, string?]> =
    me.role === 'CASEWORKER'
      ? [[t('nav.caseload'), '/caseload'], [c.case_ref]]
      : [
          [teamName(c.team), `/team/${encodeURIComponent(c.team)}`],
          [staffName(c.caseworker), `/caseworker/${encodeURIComponent(c.caseworker)}`],
          [c.case_ref],
        ];
  const summary = h('dl', { class: 'facts', 'data-testid': 'case-facts' });
  const renderSummary = (current: Case) => {
    const e = current.expectation?.expected_outcome ? current.expectation : undefined;
    summary.replaceChildren(
      h('dt', null, t('case.type')), h('dd', null, caseTypeLabel(current.case_type)),
      h('dt', null, t('case.opened_on')), h('dd', null, date(current.opened_on)),
      h('dt', null, t('case.caseworker')), h('dd', null, staffName(current.caseworker), ' · ', teamName(current.team)),
      h('dt', null, t('case.status')), h('dd', null, t(`case.status.${current.status}`), current.status === 'CLOSED' ? ` · ${t('case.closed', { date: date(current.closed_on), outcome: outcomeLabel(current.closure_outcome) })}` : ''),
      h('dt', null, t('expectation.heading')),
      h('dd', { 'data-testid': 'case-expectation' }, e ? t('expectation.current', { outcome: outcomeLabel(e.expected_outcome), month: month(e.expected_month), risk: riskLabel(e.risk).toLowerCase() }) : t('case.no_expectation')),
      h('dt', null, t('case.fields')),
      h('dd', { 'data-testid': 'case-fields' }, Object.keys(current.fields).length ? Object.entries(current.fields).map(([code, v]) => h('span', { class: 'chip' }, `${fieldLabel(code)}: ${fieldValueText(ctx().catalogue.fields.find((f) => f.code === code), v)}`)) : '–'),
    );
  };
  renderSummary(c);

  const explanation = h('section', { class: 'card', 'aria-labelledby': 'explain-h' });
  const loadExplanation = async () => {
    try {
      const ex = await call<CaseExplanation>('ForecastService', 'ExplainCase', { case_ref: ref, model: 'AS_PLANNED' });
      charts.forEach((chart) => chart.destroy());
      charts.length = 0;
      const months = [...new Set(ex.probabilities.map((p) => p.month))].sort();
      const outcomes = [...new Set(ex.probabilities.map((p) => p.outcome))];
      const figure = chartFigure(
        t('explain.heading'),
        {
          type: 'bar',
          data: {
            labels: months.map(month),
            datasets: outcomes.map((o, i) => ({
              label: outcomeLabel(o),
              backgroundColor: colour(i),
              data: months.map((m) => ex.probabilities.find((p) => p.month === m && p.outcome === o)?.probability ?? 0),
            })),
          },
          options: {
            scales: { x: { stacked: true }, y: { stacked: true, grace: '10%', ticks: { callback: (v) => pct(Number(v)) } } },
            plugins: { tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${pct(Number(item.raw), 1)}` } } },
          },
        },
        'case-explanation-chart',
        220,
      );
      charts.push(figure.chart);
      replace(
        explanation,
        h('h2', { id: 'explain-h', class: 'visually-hidden' }, t('explain.heading')),
        figure.element,
        h('p', null, t('explain.still_open', { p: pct(ex.still_open_at_horizon) })),
        reasons(ex),
      );
    } catch (error) {
      explanation.replaceChildren(h('h2', { id: 'explain-h' }, t('explain.heading')), errorBox(error));
    }
  };

  const editable = canWrite(c);
  section.append(
    breadcrumbs(crumbs),
    h('h1', null, `${t('case.ref')} ${c.case_ref}`),
    h(
      'div',
      { class: 'two-col' },
      h('div', null, h('section', { class: 'card' }, summary), explanation),
      editable
        ? h(
            'section',
            { class: 'card' },
            caseEditor(c, {
              full: true,
              onChange: (updated) => {
                renderSummary(updated);
                if (updated.status === 'OPEN') void loadExplanation();
              },
            }),
          )
        : null,
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, t('expectation.history')),
      h(
        'div',
        { class: 'table-wrap' },
        h(
        'table',
        { class: 'data' },
        h('thead', null, h('tr', null, th(t('expectation.recorded')), th(t('case.outcome')), th(t('case.month')), th(t('case.risk')), th(t('expectation.by')), th(t('expectation.note')))),
        expectationRows,
        ),
      ),
      pagers.expectations.shown,
      pagers.expectations.more,
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, t('action.heading')),
      history.action_count === 0 ? h('p', { class: 'muted' }, t('action.none.any')) : null,
      actionList,
      pagers.actions.shown,
      pagers.actions.more,
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, t('history.heading')),
      eventList,
      pagers.events.shown,
      pagers.events.more,
    ),
  );
  if (c.status === 'OPEN') void loadExplanation();
  else explanation.hidden = true;
  return { element: section, dispose: () => charts.forEach((chart) => chart.destroy()) };
}
