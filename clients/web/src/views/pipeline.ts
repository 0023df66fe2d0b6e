// Pipeline inspection (issue 11): what changed in a team's or a caseworker's cases since a day,
// who changed it, and what it did to the forecast. Two waterfalls (the next 3 and 12 months) lead
// from the figure as it stood at the end of the since-day to today's, step by cause; the table
// lists every changed case with its changes as labels and names, never codes. The service
// (ForecastService.InspectPipeline) picks the default day: the last finalised dialogue, else the
// last day of the previous month; the page says which day it used.
import type { Chart } from 'chart.js';
import { call } from '../api';
import { breadcrumbs, errorBox, link, th } from '../components';
import { chartFigure } from '../charts';
import { caseTypeLabel, ctx, outcomeLabel, riskLabel, staffName, teamMembers, teamName } from '../context';
import { h, replace, uid } from '../dom';
import { select } from '../forms';
import { date, month, num, signed } from '../format';
import { plural, t, tCode, type MessageKey } from '../i18n';
import type { View } from '../router';
import type { PipelineCase, PipelineChange, PipelineInspection, Waterfall } from '../types';

/** The scope of an inspection: a team, or one caseworker. */
export interface PipelineScope {
  team?: string;
  caseworker?: string;
}

export function inspectPipeline(scope: PipelineScope, since = ''): Promise<PipelineInspection> {
  return call<PipelineInspection>('ForecastService', 'InspectPipeline', { team: scope.team ?? '', caseworker: scope.caseworker ?? '', since });
}

function monthsText(n: number): string {
  return `${num(n)} ${plural(n, { da: 'måned', en: 'month' }, { da: 'måneder', en: 'months' })}`;
}

/** Who recorded a change and when: "Anna Sagsbehandler, 2. dec. 2026". */
function byWhom(c: PipelineChange): string {
  const name = c.changed_by_name || (c.changed_by ? staffName(c.changed_by) : '');
  return [name, c.changed_on ? date(c.changed_on) : ''].filter(Boolean).join(', ');
}

/** One change in words, with labels and names. */
export function changeText(c: PipelineChange, item: PipelineCase): string {
  switch (c.kind) {
    case 'NEW':
      return t('pipeline.change.NEW', { type: caseTypeLabel(c.after || item.case_type) });
    case 'REOPENED':
      return t('pipeline.change.REOPENED', { outcome: outcomeLabel(c.before) });
    case 'CLOSED':
      return c.before
        ? t('pipeline.change.CLOSED.expected', { outcome: outcomeLabel(c.after), expected: outcomeLabel(c.before) })
        : t('pipeline.change.CLOSED', { outcome: outcomeLabel(c.after) });
    case 'REASSIGNED':
      return t('pipeline.change.REASSIGNED', { before: c.before ? staffName(c.before) : '–', after: c.after ? staffName(c.after) : '–' });
    case 'MOVED_EARLIER':
    case 'MOVED_LATER':
      return t(`pipeline.change.${c.kind}`, { before: month(c.before), after: month(c.after), n: monthsText(c.months) });
    case 'OUTCOME_CHANGED':
      return t('pipeline.change.OUTCOME_CHANGED', { before: outcomeLabel(c.before), after: outcomeLabel(c.after) });
    case 'RISK_UP':
    case 'RISK_DOWN':
      return t(`pipeline.change.${c.kind}`, { before: riskLabel(c.before), after: riskLabel(c.after) });
    case 'FIRST_EXPECTATION': {
      const e = item.expectation_after;
      return t('pipeline.change.FIRST_EXPECTATION', { expectation: e ? `${outcomeLabel(e.outcome)}, ${month(e.month)}, ${riskLabel(e.risk)}` : '–' });
    }
    default:
      return tCode('change', c.kind);
  }
}

/** The list of a case's changes, each with who recorded it. */
function changeList(item: PipelineCase): HTMLElement {
  return h(
    'ul',
    { class: 'plain change-list' },
    item.changes.map((c) =>
      h(
        'li',
        { 'data-kind': c.kind },
        h('span', { class: `badge change-${c.kind.toLowerCase()}` }, tCode('change', c.kind)),
        ' ',
        changeText(c, item),
        byWhom(c) ? h('small', { class: 'muted', 'data-testid': 'changed-by' }, ` · ${t('pipeline.change.by', { who: byWhom(c) })}`) : null,
      ),
    ),
  );
}

/** The changed cases: reference (a link), caseworker, what changed and by whom, the waterfall step
 *  it counts under, and its change in expected closures. */
export function changedCasesTable(inspection: PipelineInspection, options: { caseworkerColumn: boolean; testId?: string }): HTMLElement {
  const cases = inspection.cases ?? [];
  if (cases.length === 0) return h('p', { class: 'muted', 'data-testid': 'pipeline-no-cases' }, t('pipeline.cases.none'));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data pipeline-cases', 'data-testid': options.testId ?? 'pipeline-cases' },
      h('caption', null, t('pipeline.cases.caption', { n: num(cases.length) })),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          th(t('case.ref')),
          options.caseworkerColumn ? th(t('common.caseworker')) : null,
          th(t('pipeline.cases.changes')),
          th(t('pipeline.cases.cause')),
          th(t('pipeline.cases.effect_3')),
          th(t('pipeline.cases.effect_12')),
        ),
      ),
      h(
        'tbody',
        null,
        cases.map((item) =>
          h(
            'tr',
            { 'data-testid': `pipeline-case-${item.case_ref}` },
            h('th', { scope: 'row' }, link(`/case/${encodeURIComponent(item.case_ref)}`, item.case_ref), h('br'), h('small', { class: 'muted' }, caseTypeLabel(item.case_type))),
            options.caseworkerColumn ? h('td', null, item.caseworker_name || staffName(item.caseworker)) : null,
            h('td', null, changeList(item)),
            h('td', { 'data-testid': 'cause' }, item.cause ? t(`pipeline.cause.${item.cause}` as MessageKey) : t('pipeline.cause.none')),
            h('td', { class: 'num', 'data-testid': 'effect-3' }, signed(item.effect_3)),
            h('td', { class: 'num', 'data-testid': 'effect-12' }, signed(item.effect_12)),
          ),
        ),
      ),
    ),
  );
}

/** The waterfall's steps worth showing: every cause with a case or an effect, and always the
 *  residual of unchanged cases. */
function shownSteps(w: Waterfall) {
  return (w.steps ?? []).filter((s) => s.cause === 'UNCHANGED' || Number(s.cases) > 0 || Math.abs(s.closures) >= 0.005);
}

function windowText(first: string, last: string): string {
  return `${month(first)} – ${month(last)}`;
}

/** A waterfall as a chart (floating bars from the earlier figure to today's) and a table with the
 *  same figures. */
function waterfallCard(w: Waterfall, inspection: PipelineInspection): { element: HTMLElement; chart: Chart } {
  const key = `waterfall-${w.months}`;
  const title = t('pipeline.waterfall.title', { n: num(w.months) });
  const steps = shownSteps(w);
  const beforeLabel = t('pipeline.waterfall.before', { date: date(inspection.since) });
  const afterLabel = t('pipeline.waterfall.after', { date: date(inspection.until) });
  const labels = [beforeLabel, ...steps.map((s) => t(`pipeline.cause.${s.cause}` as MessageKey)), afterLabel];
  const bars: Array<[number, number]> = [[0, w.before]];
  let running = w.before;
  for (const s of steps) {
    bars.push([running, running + s.closures]);
    running += s.closures;
  }
  bars.push([0, w.after]);
  const colours = bars.map((_, i) => (i === 0 || i === bars.length - 1 ? '#1d4ed8' : steps[i - 1].closures < 0 ? '#be123c' : '#0f766e'));
  const caption = t('pipeline.waterfall.caption', { title, before: num(w.before, 1), after: num(w.after, 1) });
  const figure = chartFigure(
    caption,
    {
      type: 'bar',
      data: { labels, datasets: [{ label: title, data: bars, backgroundColor: colours, borderColor: colours, borderWidth: 1 }] },
      options: {
        indexAxis: 'y',
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (item) => {
                const i = item.dataIndex;
                if (i === 0) return num(w.before, 1);
                if (i === bars.length - 1) return num(w.after, 1);
                return signed(steps[i - 1].closures);
              },
            },
          },
        },
        scales: { x: { beginAtZero: true, title: { display: true, text: t('pipeline.waterfall.axis') } } },
      },
    },
    `${key}-chart`,
    Math.max(240, labels.length * 30 + 60),
  );
  const table = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data', 'data-testid': `${key}-table` },
      h('caption', null, title),
      h('thead', null, h('tr', null, th(t('pipeline.waterfall.step')), th(t('pipeline.waterfall.cases')), th(t('pipeline.waterfall.closures')))),
      h(
        'tbody',
        null,
        h(
          'tr',
          { class: 'total' },
          h('th', { scope: 'row' }, beforeLabel, h('br'), h('small', { class: 'muted' }, windowText(w.before_first_month, w.before_last_month))),
          h('td', null, ''),
          h('td', { class: 'num', 'data-testid': `${key}-before` }, num(w.before, 1)),
        ),
        steps.map((s) =>
          h(
            'tr',
            { 'data-testid': `${key}-step-${s.cause}` },
            h('th', { scope: 'row' }, t(`pipeline.cause.${s.cause}` as MessageKey)),
            h('td', { class: 'num' }, num(s.cases)),
            h('td', { class: 'num', 'data-testid': 'step-closures' }, signed(s.closures)),
          ),
        ),
      ),
      h(
        'tfoot',
        null,
        h(
          'tr',
          { class: 'total' },
          h('th', { scope: 'row' }, afterLabel, h('br'), h('small', { class: 'muted' }, windowText(w.after_first_month, w.after_last_month))),
          h('td', null, ''),
          h('td', { class: 'num', 'data-testid': `${key}-after` }, num(w.after, 1)),
        ),
      ),
    ),
  );
  const element = h(
    'section',
    { class: 'card', 'data-testid': key, 'aria-labelledby': `${key}-h` },
    h('h2', { id: `${key}-h` }, title, ' ', h('small', { class: 'muted' }, t(`model.${inspection.model ?? 'CALIBRATED'}`))),
    h(
      'p',
      { class: 'waterfall-summary', 'data-testid': `${key}-summary` },
      t('pipeline.waterfall.summary', { before: num(w.before, 1), after: num(w.after, 1), diff: signed(w.after - w.before) }),
    ),
    figure.element,
    table,
  );
  return { element, chart: figure.chart as Chart };
}

/** "Changes after the end of 30 Nov 2026 up to 2 Dec 2026; the day is the last dialogue's." */
function periodText(inspection: PipelineInspection): string {
  return t('pipeline.period', {
    since: date(inspection.since),
    until: date(inspection.until),
    basis: t(`pipeline.basis.${inspection.since_basis || 'REQUEST'}` as MessageKey),
  });
}

/** The page: /team/:team/pipeline (team leader, manager; ?caseworker= for one caseworker) and
 *  /me/pipeline (a caseworker's own cases). */
export function pipelineView(team: string, query: URLSearchParams): View {
  const me = ctx().me;
  const own = me.role === 'CASEWORKER';
  const scope: PipelineScope = own ? { caseworker: me.code } : query.get('caseworker') ? { caseworker: query.get('caseworker')! } : { team };
  let since = query.get('since') ?? '';
  let charts: Chart[] = [];
  let loads = 0;
  const destroy = () => {
    for (const c of charts) c.destroy();
    charts = [];
  };

  const heading = h('h1', null);
  const setHeading = () => {
    heading.textContent = own
      ? t('pipeline.heading.mine')
      : scope.caseworker
        ? t('pipeline.heading.caseworker', { name: staffName(scope.caseworker), team: teamName(team) })
        : t('pipeline.heading.team', { name: teamName(team) });
  };
  setHeading();

  const scopeId = uid('pscope');
  const sinceId = uid('since');
  const scopeSelect = own
    ? null
    : select('scope', [['', t('pipeline.scope.team')], ...teamMembers(team).map((s): [string, string] => [s.code, s.display_name || s.code])], scope.caseworker ?? '');
  if (scopeSelect) {
    scopeSelect.id = scopeId;
    scopeSelect.setAttribute('data-testid', 'pipeline-scope');
  }
  const sinceInput = h('input', { type: 'date', id: sinceId, name: 'since', value: since, 'data-testid': 'pipeline-since' });
  const resetButton = h('button', { type: 'button', class: 'secondary', 'data-testid': 'pipeline-default', hidden: !since }, t('pipeline.since.default'));
  const period = h('p', { class: 'muted', 'data-testid': 'pipeline-period' });
  const body = h('div', { 'data-testid': 'pipeline' }, h('p', { class: 'loading', role: 'status' }, t('common.loading')));

  const remember = () => {
    if (own) return;
    const params = new URLSearchParams();
    if (scope.caseworker) params.set('caseworker', scope.caseworker);
    if (since) params.set('since', since);
    const search = params.toString();
    history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}`);
  };

  const load = async () => {
    const generation = ++loads;
    body.replaceChildren(h('p', { class: 'loading', role: 'status' }, t('common.loading')));
    let inspection: PipelineInspection;
    try {
      inspection = await inspectPipeline(scope, since);
    } catch (error) {
      if (generation !== loads) return;
      destroy();
      period.textContent = '';
      delete period.dataset.since;
      delete period.dataset.basis;
      body.replaceChildren(errorBox(error, () => void load()));
      return;
    }
    if (generation !== loads) return;
    destroy();
    sinceInput.value = inspection.since;
    resetButton.hidden = !since;
    period.textContent = periodText(inspection);
    period.dataset.since = inspection.since;
    period.dataset.basis = inspection.since_basis;
    const waterfalls = [inspection.next_3_months, inspection.next_12_months].filter((w): w is Waterfall => !!w).map((w) => waterfallCard(w, inspection));
    charts = waterfalls.map((w) => w.chart);
    const counts = inspection.counts ?? [];
    replace(
      body,
      counts.length
        ? h('ul', { class: 'chips', 'data-testid': 'pipeline-counts', 'aria-label': t('pipeline.counts') }, counts.map((c) => h('li', { class: 'chip' }, `${tCode('change', c.key)}: ${num(c.count)}`)))
        : null,
      h('div', { class: 'two-col' }, waterfalls.map((w) => w.element)),
      h('p', { class: 'muted' }, t('pipeline.waterfall.note')),
      h('section', { class: 'card', 'aria-labelledby': 'pipeline-cases-h' }, h('h2', { id: 'pipeline-cases-h' }, t('pipeline.cases')), changedCasesTable(inspection, { caseworkerColumn: !inspection.caseworker })),
    );
  };

  const form = h(
    'form',
    {
      class: 'toolbar',
      'data-testid': 'pipeline-form',
      onsubmit: (event: Event) => {
        event.preventDefault();
        since = sinceInput.value;
        remember();
        void load();
      },
    },
    scopeSelect ? h('div', { class: 'field' }, h('label', { for: scopeId }, t('pipeline.scope')), scopeSelect) : null,
    h('div', { class: 'field' }, h('label', { for: sinceId }, t('pipeline.since')), sinceInput),
    h('button', { type: 'submit', 'data-testid': 'pipeline-show' }, t('pipeline.show')),
    resetButton,
  );
  resetButton.addEventListener('click', () => {
    since = '';
    remember();
    void load();
  });
  scopeSelect?.addEventListener('change', () => {
    scope.caseworker = scopeSelect.value || undefined;
    scope.team = scopeSelect.value ? undefined : team;
    setHeading();
    remember();
    void load();
  });

  const enc = encodeURIComponent(team);
  const element = h(
    'section',
    { class: 'view pipeline-view' },
    own
      ? null
      : breadcrumbs([
          ...(me.role === 'MANAGER' || me.role === 'ADMIN' ? ([[t('nav.teams'), '/teams']] as Array<[string, string]>) : []),
          [teamName(team), `/team/${enc}`],
          [t('nav.pipeline')],
        ]),
    heading,
    h('p', null, t('pipeline.intro')),
    form,
    period,
    body,
  );
  void load();
  return { element, dispose: destroy };
}
