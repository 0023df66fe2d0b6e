// The projection: the default model (calibrated: the plan corrected by how reality usually
// departs from it) by outcome with its 80% band, the plan itself ("as planned": what happens if
// every agreed step is carried out; a plan, not a forecast, so no band) and the baseline beside
// it. Every figure names its model. For a team it is live:
// every push of the team dashboard (a change to one of the team's cases) recomputes it.
import { call } from '../api';
import { breadcrumbs, errorBox, explanation, smallSample, th } from '../components';
import { active, caseTypeLabel, ctx, outcomeLabel, teamMembers, teamName } from '../context';
import { chartFigure, colour, MODEL_COLOURS, transparent } from '../charts';
import { h, uid } from '../dom';
import { select } from '../forms';
import { date, estimate, month, num, today } from '../format';
import { exportButtons } from '../export';
import { t } from '../i18n';
import { trendSection } from './trend';
import { adjustmentSection } from './adjustments';
import { watchTeam, type TeamWatch } from '../live';
import type { View } from '../router';
import type { ModelName, Projection } from '../types';
import type { Chart } from 'chart.js';

const MODELS: ModelName[] = ['CALIBRATED', 'AS_PLANNED', 'BASELINE'];

interface Scope {
  kind: 'TEAM' | 'JOB_CENTRE' | 'DEPARTMENT' | 'CASEWORKER';
  code: string;
}

/** The scopes the page offers: on a team's page the team and each of its caseworkers; on the
 *  centre's page the centre, each department and each team. */
function scopeChoices(page: Scope): Array<[string, string]> {
  const org = ctx().organisation;
  if (page.kind === 'TEAM') {
    return [[`TEAM:${page.code}`, t('projection.scope.whole_team')], ...teamMembers(page.code).map((s): [string, string] => [`CASEWORKER:${s.code}`, t('projection.scope.caseworker', { name: s.display_name || s.code })])];
  }
  return [
    ['JOB_CENTRE:', t('projection.scope.centre_option')],
    ...org.units.filter((u) => u.kind === 'DEPARTMENT').map((u): [string, string] => [`DEPARTMENT:${u.code}`, t('projection.scope.department', { name: u.name || u.code })]),
    ...org.units.filter((u) => u.kind === 'TEAM').map((u): [string, string] => [`TEAM:${u.code}`, t('projection.scope.team', { name: u.name || u.code })]),
  ];
}

export function projectionView(page: Scope, query: URLSearchParams = new URLSearchParams()): View {
  const me = ctx().me;
  const choices = scopeChoices(page);
  const wanted = query.get('scope') ?? '';
  const chosen = choices.find(([value]) => value === wanted)?.[0] ?? `${page.kind}:${page.code}`;
  const scope: Scope = { kind: chosen.split(':')[0] as Scope['kind'], code: chosen.split(':').slice(1).join(':') };
  const name = page.kind === 'TEAM' ? teamName(page.code) : t('projection.scope.centre');
  // Case types, several at once (empty: every type).
  const types = new Set((query.get('types') ?? '').split(',').filter((code) => ctx().catalogue.case_types.some((c) => c.code === code)));
  const typeBoxes = active(ctx().catalogue.case_types).map((c) => {
    const id = uid('type');
    const box = h('input', { type: 'checkbox', id, value: c.code, checked: types.has(c.code), 'data-testid': `case-type-${c.code}` });
    return { code: c.code, box, element: h('span', { class: 'field-check inline' }, box, h('label', { for: id }, caseTypeLabel(c.code))) };
  });
  const typeFilter = h('fieldset', { class: 'case-type-filter', 'data-testid': 'case-type-filter' }, h('legend', null, t('projection.case_types')), typeBoxes.map((b) => b.element));
  const scopeId = uid('scope');
  const scopeSelect = select('scope', choices, chosen);
  scopeSelect.id = scopeId;
  scopeSelect.setAttribute('data-testid', 'projection-scope');
  let horizon = 12;
  let asOf = '';
  const asOfId = uid('asof');
  const asOfInput = h('input', { type: 'date', id: asOfId, name: 'as_of', max: today() });
  const horizonId = uid('horizon');
  const horizonSelect = select('horizon', [6, 12, 24].map((n) => [String(n), String(n)]), String(horizon));
  horizonSelect.id = horizonId;
  const body = h('div', { 'data-testid': 'projection' }, h('p', { class: 'loading', role: 'status' }, t('common.loading')));
  let caseloadChart: Chart<'line'> | undefined;
  let closuresChart: Chart<'bar' | 'line'> | undefined;
  let loads = 0;
  // How the forecast evolved, for the same scope, case types and day.
  const trend = trendSection(() => ({ scope: { kind: scope.kind, code: scope.code }, caseTypes: [...types], asOf }));
  // A team's adjustments beside the calibrated model's figures (the whole team, every case type).
  const adjustments = page.kind === 'TEAM' ? adjustmentSection(page.code) : null;

  const load = async () => {
    const generation = ++loads;
    let projections: Projection[];
    try {
      projections = await Promise.all(
        MODELS.map((model) =>
          call<Projection>('ForecastService', 'Project', { scope: { kind: scope.kind, code: scope.code }, model, horizon_months: horizon, as_of: asOf, case_types: [...types] }),
        ),
      );
    } catch (error) {
      body.replaceChildren(errorBox(error, () => void load()));
      return;
    }
    if (generation !== loads) return;
    render(projections);
  };

  function render(projections: Projection[]): void {
    // The default model's figures carry the band and the outcome split; the plan is a line.
    const [planned] = projections;
    const months = planned.caseload.map((c) => c.month);
    const closureMonths = [...new Set(planned.closures.map((c) => c.month))].sort();
    const outcomes = [...new Set(planned.closures.map((c) => c.outcome))].filter((o) => o !== 'ALL');
    const total = (p: Projection, m: string) => p.closures.find((c) => c.month === m && c.outcome === 'ALL')?.closures;

    const caseloadData = {
      labels: months.map(month),
      datasets: [
        { label: `${t('projection.band')} p10`, data: planned.caseload.map((c) => c.open.p10), borderWidth: 0, pointRadius: 0, fill: false, backgroundColor: transparent(MODEL_COLOURS.AS_PLANNED, 0.15) },
        { label: t('projection.band'), data: planned.caseload.map((c) => c.open.p90), borderWidth: 0, pointRadius: 0, fill: '-1' as const, backgroundColor: transparent(MODEL_COLOURS.AS_PLANNED, 0.15) },
        ...projections.map((p, i) => ({
          label: t(`model.${p.model}`),
          data: p.caseload.map((c) => c.open.expected),
          borderColor: MODEL_COLOURS[p.model],
          backgroundColor: MODEL_COLOURS[p.model],
          borderWidth: i === 0 ? 3 : 2,
          borderDash: i === 0 ? [] : p.model === 'AS_PLANNED' ? [8, 4] : [2, 3],
          pointRadius: 2,
          fill: false,
        })),
      ],
    };
    const closuresData = {
      labels: closureMonths.map(month),
      datasets: [
        ...outcomes.map((o, i) => ({
          type: 'bar' as const,
          label: outcomeLabel(o),
          data: closureMonths.map((m) => planned.closures.find((c) => c.month === m && c.outcome === o)?.closures.expected ?? 0),
          backgroundColor: colour(i),
          stack: 'outcomes',
          order: 2,
        })),
        { type: 'line' as const, stack: 'p10', label: `${t('projection.band')} p10`, data: closureMonths.map((m) => total(planned, m)?.p10 ?? 0), borderWidth: 1, borderColor: '#111827', borderDash: [3, 3], pointRadius: 0, fill: false, order: 1 },
        { type: 'line' as const, stack: 'p90', label: t('projection.band'), data: closureMonths.map((m) => total(planned, m)?.p90 ?? 0), borderWidth: 1, borderColor: '#111827', borderDash: [3, 3], pointRadius: 0, fill: '-1' as const, backgroundColor: 'rgba(17,24,39,0.06)', order: 1 },
        { type: 'line' as const, stack: 'total', label: t('projection.closures_total'), data: closureMonths.map((m) => total(planned, m)?.expected ?? 0), borderColor: '#111827', backgroundColor: '#111827', borderWidth: 2, pointRadius: 3, fill: false, order: 0 },
      ],
    };
    const legendFilter = { labels: { filter: (item: { text: string }) => !item.text.endsWith(' p10') } };

    if (caseloadChart && closuresChart && body.querySelector('[data-testid="projection-table"]')) {
      // A live refresh: update the charts in place, so the page does not jump.
      caseloadChart.data = caseloadData as never;
      closuresChart.data = closuresData as never;
      caseloadChart.update();
      closuresChart.update();
    } else {
      caseloadChart?.destroy();
      closuresChart?.destroy();
      const caseloadFigure = chartFigure(
        t('projection.caseload_chart'),
        { type: 'line', data: caseloadData as never, options: { interaction: { mode: 'index', intersect: false }, plugins: { legend: legendFilter }, scales: { y: { beginAtZero: true, title: { display: true, text: t('projection.caseload') } } } } },
        'caseload-chart',
      );
      const closuresFigure = chartFigure(
        t('projection.closures_chart'),
        { type: 'bar', data: closuresData as never, options: { interaction: { mode: 'index', intersect: false }, plugins: { legend: legendFilter }, // Outcome bars stack; each line is its own stack, so it shows its own value.
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } } },
        'closures-chart',
      );
      caseloadChart = caseloadFigure.chart;
      closuresChart = closuresFigure.chart as Chart<'bar' | 'line'>;
      body.replaceChildren(h('div', { class: 'two-col' }, caseloadFigure.element, closuresFigure.element), h('div', { class: 'projection-details' }));
    }
    adjustments?.render(scope.kind === 'TEAM' && types.size === 0 ? projections.find((p) => p.model === 'CALIBRATED') ?? null : null, asOf);
    const details = body.querySelector('.projection-details')!;
    details.replaceChildren(
      h(
        'p',
        { 'data-testid': 'projection-open-now' },
        asOf ? h('strong', null, t('projection.historic'), ' ') : null,
        t(asOf ? 'projection.open_then' : 'projection.open_now', { n: num(planned.open_cases) }),
        ' · ',
        t('common.as_of', { date: date(planned.as_of) }),
      ),
      exportButtons(() => ({
        name: `${t('export.projection')}-${scope.code || 'centre'}-${planned.as_of.slice(0, 10)}`,
        headings: [
          t('common.month'),
          ...projections.flatMap((p) => [`${t(`model.${p.model}`)}`, `${t(`model.${p.model}`)} ${t('export.low')}`, `${t(`model.${p.model}`)} ${t('export.high')}`]),
          ...projections.map((p) => `${t('projection.caseload')} · ${t(`model.${p.model}`)}`),
        ],
        rows: closureMonths.map((m) => [
          m,
          ...projections.flatMap((p) => {
            const e = total(p, m);
            return [e ? Math.round(e.expected) : null, e ? e.p10 : null, e ? e.p90 : null];
          }),
          ...projections.map((p) => {
            const open = p.caseload.find((c) => c.month === m)?.open;
            return open ? Math.round(open.expected) : null;
          }),
        ]),
      })),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data', 'data-testid': 'projection-table' },
          h('caption', null, t('projection.table'), ` (${t('common.interval')})`),
          h(
            'thead',
            null,
            h('tr', null, th(t('common.month')), projections.map((p) => th(t(`model.${p.model}`))), projections.map((p) => th(`${t('projection.caseload')} · ${t(`model.${p.model}`)}`))),
          ),
          h(
            'tbody',
            null,
            closureMonths.map((m) =>
              h(
                'tr',
                null,
                h('th', { scope: 'row' }, month(m)),
                projections.map((p) => {
                  const adjusted = p.model === 'CALIBRATED' ? p.adjustments?.find((a) => a.month === m && a.outcome === 'ALL') : undefined;
                  return h('td', { class: 'num', 'data-testid': `closures-${p.model}-${m}` }, estimate(total(p, m)), adjusted ? h('span', { class: 'badge', 'data-testid': `adjusted-${m}`, title: adjusted.reason }, t('adjust.adjusted'), ': ', num(adjusted.figure, 1)) : null);
                }),
                projections.map((p) => h('td', { class: 'num', 'data-testid': `caseload-${p.model}-${m}` }, estimate(p.caseload.find((c) => c.month === m)?.open))),
              ),
            ),
          ),
        ),
      ),
      h(
        'div',
        { class: 'grid-3' },
        projections.map((p) =>
          h(
            'section',
            { class: 'card model-card' },
            h('h2', { style: `border-color:${MODEL_COLOURS[p.model]}` }, t(`model.${p.model}`), ' ', smallSample(!!p.explanation?.small_sample)),
            h('p', null, t(`model.${p.model}.long`)),
            p.model === 'AS_PLANNED'
              ? h('p', { class: 'muted', 'data-testid': 'plan-note' }, t('model.AS_PLANNED.plan_note'))
              : p.accuracy
              ? h('p', { class: 'muted' }, `${t('accuracy.mae')}: ${num(p.accuracy.mean_abs_error, 1)} · ${t('accuracy.coverage')}: ${num(p.accuracy.interval_coverage * 100)} % · n = ${num(p.accuracy.n_months)} ${t('accuracy.n_months').toLowerCase()}`)
              : null,
            explanation(p.explanation, [h('p', { class: 'muted' }, t('projection.computed', { ms: num(p.compute_ms, 1) }))]),
          ),
        ),
      ),
    );
  }

  // As of a past date: what the projection would have shown then (live pushes are ignored).
  asOfInput.addEventListener('change', () => {
    asOf = asOfInput.value;
    watch?.status.pause(!!asOf);
    caseloadChart?.destroy();
    closuresChart?.destroy();
    caseloadChart = closuresChart = undefined;
    void load();
    trend.reload();
  });
  const remember = () => {
    const params = new URLSearchParams();
    params.set('scope', scopeSelect.value);
    if (types.size) params.set('types', [...types].join(','));
    history.replaceState(null, '', `${location.pathname}?${params.toString()}`);
  };
  for (const b of typeBoxes) {
    b.box.addEventListener('change', () => {
      if (b.box.checked) types.add(b.code);
      else types.delete(b.code);
      remember();
      caseloadChart?.destroy();
      closuresChart?.destroy();
      caseloadChart = closuresChart = undefined;
      void load();
      trend.reload();
    });
  }
  scopeSelect.addEventListener('change', () => {
    const [kind, ...code] = scopeSelect.value.split(':');
    scope.kind = kind as Scope['kind'];
    scope.code = code.join(':');
    remember();
    caseloadChart?.destroy();
    closuresChart?.destroy();
    caseloadChart = closuresChart = undefined;
    void load();
    trend.reload();
  });
  horizonSelect.addEventListener('change', () => {
    horizon = Number(horizonSelect.value);
    caseloadChart?.destroy();
    closuresChart?.destroy();
    caseloadChart = closuresChart = undefined;
    void load();
  });

  // Load now, and for a team again on every push after the first (which describes the state
  // just loaded); a failed subscription leaves the figures as loaded.
  void load();
  const watch: TeamWatch | undefined =
    page.kind === 'TEAM'
      ? watchTeam(page.code, (_, first) => {
          if (!first && !asOf) void load();
        })
      : undefined;
  const element = h(
    'section',
    { class: 'view projection-view' },
    page.kind === 'TEAM' && (me.role === 'MANAGER' || me.role === 'ADMIN')
      ? breadcrumbs([[t('nav.teams'), '/teams'], [name, `/team/${encodeURIComponent(page.code)}`], [t('nav.projection')]])
      : null,
    h('h1', null, t('projection.heading', { name })),
    watch?.status.element ?? null,
    typeFilter,
    h(
      'div',
      { class: 'toolbar' },
      h('div', { class: 'field inline' }, h('label', { for: scopeId }, t('projection.scope')), scopeSelect),
      h('div', { class: 'field inline' }, h('label', { for: horizonId }, t('projection.horizon')), horizonSelect),
      h('div', { class: 'field inline' }, h('label', { for: asOfId }, t('projection.as_of')), asOfInput, h('span', { class: 'muted' }, t('projection.as_of.hint'))),
    ),
    body,
    adjustments?.element ?? null,
    trend.element,
  );
  return {
    element,
    dispose: () => {
      watch?.close();
      caseloadChart?.destroy();
      closuresChart?.destroy();
      trend.dispose();
    },
  };
}
