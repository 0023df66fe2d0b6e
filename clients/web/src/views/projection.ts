// The projection: the default model (calibrated: the plan corrected by how reality usually
// departs from it) by outcome with its 80% band, the plan itself ("as planned": what happens if
// every agreed step is carried out; a plan, not a forecast, so no band) and the baseline beside
// it. Every figure names its model. Below them, the forecast categories: the default model's
// closures split by how safe the cases are ("Sikker", "Sandsynlig", "Mulig", by the risk each
// case's caseworker recorded), stacked per month under the default model's band, with the 3- and
// 12-month figures of each. For a team it is live:
// every push of the team dashboard (a change to one of the team's cases) recomputes it.
import { call } from '../api';
import { breadcrumbs, errorBox, explanation, smallSample, statCard, th } from '../components';
import { active, caseTypeLabel, ctx, outcomeLabel, riskLabel, teamMembers, teamName } from '../context';
import { CATEGORY_COLOURS, chartFigure, colour, MODEL_COLOURS, transparent } from '../charts';
import { h, uid } from '../dom';
import { select } from '../forms';
import { date, estimate, month, num, today } from '../format';
import { exportButtons } from '../export';
import { t } from '../i18n';
import { trendSection } from './trend';
import { adjustmentSection } from './adjustments';
import { watchTeam, type TeamWatch } from '../live';
import type { View } from '../router';
import type { CategoryForecast, Estimate, ModelName, Projection } from '../types';
import type { Chart } from 'chart.js';

const MODELS: ModelName[] = ['CALIBRATED', 'AS_PLANNED', 'BASELINE'];

/** What a category holds, in plain words, naming the catalogue's risks in it. */
function planFigure(e: Estimate | undefined): string {
  return e ? num(e.expected) : '–';
}

function categoryMeaning(c: CategoryForecast): string {
  const risks = c.risks.length ? c.risks.map((r) => riskLabel(r).toLocaleLowerCase()).join(t('category.risks.or')) : t('category.risks.none');
  return t(`category.${c.category}.long`, { risks });
}

/** A figure with its interval; data-expected keeps the unrounded value for checks. */
function figureCell(e: Estimate | undefined, testId: string): HTMLElement {
  return h('td', { class: 'num', 'data-testid': testId, 'data-expected': e ? String(e.expected) : '' }, estimate(e));
}

/** The categories chart's figures per month, for keyboard and screen-reader users. */
function categoryMonthTable(p: Projection, months: string[], total: (m: string) => Estimate | undefined): HTMLElement {
  const categories = p.categories ?? [];
  return h(
    'details',
    { class: 'category-months' },
    h('summary', null, t('projection.categories.months')),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data', 'data-testid': 'category-months' },
        h('caption', null, t('projection.categories.table', { model: t(`model.${p.model}`) })),
        h('thead', null, h('tr', null, th(t('common.month')), categories.map((c) => th(t(`category.${c.category}`))), th(t('common.total')))),
        h(
          'tbody',
          null,
          months.map((m) =>
            h(
              'tr',
              { 'data-testid': `category-month-${m}` },
              h('th', { scope: 'row' }, month(m)),
              categories.map((c) => figureCell(c.months.find((x) => x.month === m)?.closures, `category-${c.category}-${m}`)),
              figureCell(total(m), `category-total-${m}`),
            ),
          ),
        ),
      ),
    ),
  );
}

/** The default model's categories: the 3- and 12-month figures of each and of the total (the
 *  label the team dashboard and the teams page use), and what each category means. */
function categoryTable(p: Projection): HTMLElement {
  const categories = p.categories ?? [];
  const modelName = t(`model.${p.model}`);
  const figure = figureCell;
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data', 'data-testid': 'category-table' },
      h('caption', null, t('projection.categories.table', { model: modelName })),
      h(
        'thead',
        null,
        h('tr', null, th(t('projection.categories.category')), th(t('projection.categories.meaning')), th(t('projection.categories.cases')), th(t('projection.closures_3m')), th(t('projection.closures_12m'))),
      ),
      h(
        'tbody',
        null,
        categories.map((c) =>
          h(
            'tr',
            { 'data-testid': `category-${c.category}` },
            h('th', { scope: 'row' }, h('span', { class: 'swatch', style: `background:${CATEGORY_COLOURS[c.category]}`, 'aria-hidden': 'true' }), t(`category.${c.category}`)),
            h('td', null, categoryMeaning(c)),
            h('td', { class: 'num' }, num(c.open_cases)),
            figure(c.closures_next_3_months, `category-3m-${c.category}`),
            figure(c.closures_next_12_months, `category-12m-${c.category}`),
          ),
        ),
      ),
      h(
        'tfoot',
        null,
        h(
          'tr',
          { class: 'total' },
          h('th', { scope: 'row' }, t('common.total')),
          h('td', null, modelName),
          h('td', { class: 'num' }, num(p.open_cases)),
          figure(p.closures_next_3_months, 'category-3m-total'),
          figure(p.closures_next_12_months, 'category-12m-total'),
        ),
      ),
    ),
  );
}

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
  let categoriesChart: Chart<'bar' | 'line'> | undefined;
  let loads = 0;
  const dropCharts = () => {
    caseloadChart?.destroy();
    closuresChart?.destroy();
    categoriesChart?.destroy();
    caseloadChart = closuresChart = categoriesChart = undefined;
  };
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
    const [main] = projections;
    const planned = main;
    const months = planned.caseload.map((c) => c.month);
    const closureMonths = [...new Set(planned.closures.map((c) => c.month))].sort();
    const outcomes = [...new Set(planned.closures.map((c) => c.outcome))].filter((o) => o !== 'ALL');
    const total = (p: Projection, m: string) => p.closures.find((c) => c.month === m && c.outcome === 'ALL')?.closures;

    const caseloadData = {
      labels: months.map(month),
      datasets: [
        { label: `${t('projection.band')} p10`, data: planned.caseload.map((c) => c.open.p10), borderWidth: 0, pointRadius: 0, fill: false, backgroundColor: transparent(MODEL_COLOURS[main.model], 0.15) },
        { label: t('projection.band'), data: planned.caseload.map((c) => c.open.p90), borderWidth: 0, pointRadius: 0, fill: '-1' as const, backgroundColor: transparent(MODEL_COLOURS[main.model], 0.15) },
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
    // The categories of the default model stacked per month, under its band for the total.
    const categories = main.categories ?? [];
    const categoriesData = {
      labels: closureMonths.map(month),
      datasets: [
        ...categories.map((c) => ({
          type: 'bar' as const,
          label: t(`category.${c.category}`),
          data: closureMonths.map((m) => c.months.find((x) => x.month === m)?.closures.expected ?? 0),
          backgroundColor: CATEGORY_COLOURS[c.category],
          stack: 'categories',
          order: 2,
        })),
        { type: 'line' as const, stack: 'p10', label: `${t('projection.band')} p10`, data: closureMonths.map((m) => total(main, m)?.p10 ?? 0), borderWidth: 1, borderColor: '#111827', borderDash: [3, 3], pointRadius: 0, fill: false, order: 1 },
        { type: 'line' as const, stack: 'p90', label: t('projection.band'), data: closureMonths.map((m) => total(main, m)?.p90 ?? 0), borderWidth: 1, borderColor: '#111827', borderDash: [3, 3], pointRadius: 0, fill: '-1' as const, backgroundColor: transparent(MODEL_COLOURS[main.model], 0.12), order: 1 },
        { type: 'line' as const, stack: 'total', label: t('projection.closures_total'), data: closureMonths.map((m) => total(main, m)?.expected ?? 0), borderColor: '#111827', backgroundColor: '#111827', borderWidth: 2, pointRadius: 3, fill: false, order: 0 },
      ],
    };

    if (caseloadChart && closuresChart && categoriesChart && body.querySelector('[data-testid="projection-table"]')) {
      // A live refresh: update the charts in place, so the page does not jump.
      caseloadChart.data = caseloadData as never;
      closuresChart.data = closuresData as never;
      categoriesChart.data = categoriesData as never;
      caseloadChart.update();
      closuresChart.update();
      categoriesChart.update();
    } else {
      dropCharts();
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
      const categoriesFigure = chartFigure(
        t('projection.categories.chart', { model: t(`model.${main.model}`) }),
        { type: 'bar', data: categoriesData as never, options: { interaction: { mode: 'index', intersect: false }, plugins: { legend: legendFilter }, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } } },
        'categories-chart',
      );
      caseloadChart = caseloadFigure.chart;
      closuresChart = closuresFigure.chart as Chart<'bar' | 'line'>;
      categoriesChart = categoriesFigure.chart as Chart<'bar' | 'line'>;
      body.replaceChildren(
        h('div', { class: 'two-col' }, caseloadFigure.element, closuresFigure.element),
        h('div', { class: 'projection-details' }),
        h(
          'section',
          { class: 'card projection-categories', 'data-testid': 'projection-categories' },
          h('h2', null, t('projection.categories.heading')),
          h('div', { class: 'category-body' }),
          h('div', { class: 'two-col' }, categoriesFigure.element, h('div', { class: 'category-table' })),
        ),
      );
    }
    adjustments?.render(scope.kind === 'TEAM' && types.size === 0 ? projections.find((p) => p.model === 'CALIBRATED') ?? null : null, asOf);
    const modelName = t(`model.${main.model}`);
    body.querySelector('.category-body')!.replaceChildren(
      h('p', null, t('projection.categories.intro', { model: modelName })),
      h(
        'div',
        { class: 'stats' },
        statCard(t('projection.closures_3m'), estimate(main.closures_next_3_months), 'projection-closures-3m', h('span', { 'data-testid': 'projection-closures-model' }, modelName)),
        statCard(t('projection.closures_12m'), main.closures_next_12_months ? estimate(main.closures_next_12_months) : '–', 'projection-closures-12m', main.closures_next_12_months ? modelName : t('projection.closures_12m.none')),
      ),
    );
    const wasOpen = body.querySelector('details.category-months')?.hasAttribute('open') ?? false;
    body.querySelector('div.category-table')!.replaceChildren(categoryTable(main), categoryMonthTable(main, closureMonths, (m) => total(main, m)));
    // A live refresh keeps the monthly figures open if they were.
    if (wasOpen) body.querySelector('details.category-months')?.setAttribute('open', '');
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
                // The plan is a plan, not a forecast: its figure without an interval.
                projections.map((p) => {
                  const adjusted = p.model === 'CALIBRATED' ? p.adjustments?.find((a) => a.month === m && a.outcome === 'ALL') : undefined;
                  return h('td', { class: 'num', 'data-testid': `closures-${p.model}-${m}` }, p.model === 'AS_PLANNED' ? planFigure(total(p, m)) : estimate(total(p, m)), adjusted ? h('span', { class: 'badge', 'data-testid': `adjusted-${m}`, title: adjusted.reason }, t('adjust.adjusted'), ': ', num(adjusted.figure, 1)) : null);
                }),
                projections.map((p) => {
                  const open = p.caseload.find((c) => c.month === m)?.open;
                  return h('td', { class: 'num', 'data-testid': `caseload-${p.model}-${m}` }, p.model === 'AS_PLANNED' ? planFigure(open) : estimate(open));
                }),
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
    dropCharts();
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
      dropCharts();
      void load();
      trend.reload();
    });
  }
  scopeSelect.addEventListener('change', () => {
    const [kind, ...code] = scopeSelect.value.split(':');
    scope.kind = kind as Scope['kind'];
    scope.code = code.join(':');
    remember();
    dropCharts();
    void load();
    trend.reload();
  });
  horizonSelect.addEventListener('change', () => {
    horizon = Number(horizonSelect.value);
    dropCharts();
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
      dropCharts();
      trend.dispose();
    },
  };
}
