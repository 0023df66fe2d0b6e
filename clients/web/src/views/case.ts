// One case: its state, the editor, the expectation history, actions with follow-ups, the audit
// trail, and why the model gives it the closure probabilities it does.
import { call } from '../api';
import { breadcrumbs, errorBox, th } from '../components';
import { caseTypeLabel, ctx, fieldLabel, outcomeLabel, riskLabel, staffName, teamName } from '../context';
import { chartFigure, colour } from '../charts';
import { h, replace } from '../dom';
import { caseEditor } from '../forms';
import { date, dateTime, month, pct } from '../format';
import { t, tCode } from '../i18n';
import type { View } from '../router';
import type { Case, CaseExplanation, CaseHistory, FieldValue } from '../types';

function fieldValue(v: FieldValue): string {
  if (v.bool_value !== undefined) return v.bool_value ? t('common.yes') : t('common.no');
  if (v.number_value !== undefined) return String(v.number_value);
  if (v.choice_value !== undefined) return v.choice_value;
  if (v.date_value !== undefined) return date(v.date_value);
  return '–';
}

export async function caseView(ref: string): Promise<View> {
  const section = h('section', { class: 'view case-view' });
  const charts: Array<{ destroy(): void }> = [];
  let history: CaseHistory;
  try {
    history = await call<CaseHistory>('CaseService', 'GetCaseHistory', { case_ref: ref });
  } catch (error) {
    section.append(h('h1', null, ref), errorBox(error));
    return { element: section };
  }
  const c = history.current;
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
      h('dd', { 'data-testid': 'case-expectation' }, e ? t('expectation.current', { outcome: outcomeLabel(e.expected_outcome), month: month(e.expected_month), risk: riskLabel(e.risk) }) : t('case.no_expectation')),
      h('dt', null, t('case.fields')),
      h('dd', null, Object.keys(current.fields).length ? Object.entries(current.fields).map(([code, v]) => h('span', { class: 'chip' }, `${fieldLabel(code)}: ${fieldValue(v)}`)) : '–'),
      h('dt', null, 'Version'), h('dd', null, current.version),
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
        ex.reasons.length ? h('div', null, h('h3', null, t('explain.reasons')), h('ul', null, ex.reasons.map((r) => h('li', { lang: 'en' }, r)))) : null,
      );
    } catch (error) {
      explanation.replaceChildren(h('h2', { id: 'explain-h' }, t('explain.heading')), errorBox(error));
    }
  };

  section.append(
    breadcrumbs(crumbs),
    h('h1', null, `${t('case.ref')} ${c.case_ref}`),
    h(
      'div',
      { class: 'two-col' },
      h('div', null, h('section', { class: 'card' }, summary), explanation),
      h(
        'section',
        { class: 'card' },
        c.status === 'OPEN'
          ? caseEditor(c, {
              onChange: (updated) => {
                renderSummary(updated);
                void loadExplanation();
              },
            })
          : null,
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, t('expectation.history')),
      h(
        'table',
        { class: 'data' },
        h('thead', null, h('tr', null, th(t('expectation.recorded')), th(t('case.outcome')), th(t('case.month')), th(t('case.risk')), th(t('expectation.by')), th(t('expectation.note')))),
        h(
          'tbody',
          null,
          [...history.expectations].reverse().map((e) =>
            h(
              'tr',
              null,
              h('td', null, dateTime(e.recorded_at)),
              h('td', null, outcomeLabel(e.expected_outcome)),
              h('td', null, month(e.expected_month)),
              h('td', null, riskLabel(e.risk)),
              h('td', null, staffName(e.recorded_by), e.agreed_in_dialogue ? h('span', { class: 'badge' }, t('action.agreed')) : null),
              h('td', null, e.note),
            ),
          ),
        ),
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, t('action.heading')),
      history.actions.length === 0 ? h('p', { class: 'muted' }, t('action.none.any')) : null,
      h(
        'ul',
        { class: 'plain' },
        history.actions.map((a) =>
          h(
            'li',
            null,
            h('strong', null, a.description),
            ` · ${t('action.due', { date: date(a.due_on) })} · ${t(`action.status.${a.status}`)}`,
            a.overdue ? h('span', { class: 'badge badge-danger' }, t('case.overdue')) : null,
            a.follow_ups.length
              ? h('ul', null, a.follow_ups.map((f) => h('li', null, `${dateTime(f.recorded_at)}: ${tCode('action.result', f.result)}`, f.postponed_to ? ` → ${date(f.postponed_to)}` : '', f.note ? ` – ${f.note}` : '')))
              : null,
          ),
        ),
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, t('history.heading')),
      h(
        'ol',
        { class: 'timeline' },
        [...history.events].reverse().map((e) => h('li', null, h('time', { datetime: e.recorded_at }, dateTime(e.recorded_at)), ' · ', tCode('history.event', e.kind), ' · ', staffName(e.actor))),
      ),
    ),
  );
  void loadExplanation();
  return { element: section, dispose: () => charts.forEach((chart) => chart.destroy()) };
}
