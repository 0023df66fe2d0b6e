// The trend of a projection (issue 11): how the forecast for each month evolved, as the
// projection stood on each of the last month-ends (or weeks) and today, and for past months what
// was projected when the month began against what closed. Every point is what the projection
// showed on that day (the service computes it from the history, as of that day). A month's
// forecast on a day is the closures already made in it by then plus the projected rest.
import { call } from '../api';
import { errorBox, explanation, th } from '../components';
import { chartFigure, colour } from '../charts';
import { h, uid } from '../dom';
import { select } from '../forms';
import { addMonths, date, estimate, month, num } from '../format';
import { t } from '../i18n';
import type { Trend, TrendPoint, TrendStep } from '../types';
import type { Chart } from 'chart.js';

export interface TrendQuery {
  scope: { kind: string; code: string };
  caseTypes: string[];
  asOf: string;
}

/** The month's forecast as seen on the point's day; undefined before the point's month. */
function seen(point: TrendPoint, m: string): number | undefined {
  const row = point.months.find((x) => x.month === m);
  return row ? Number(row.closed_so_far ?? 0) + (row.closures?.expected ?? 0) : undefined;
}

/** A section that loads the trend for the query it is given; reload() after the query changed. */
export function trendSection(query: () => TrendQuery): { element: HTMLElement; reload: () => void; dispose: () => void } {
  let step: TrendStep = 'MONTH_END';
  const stepId = uid('step');
  const stepSelect = select('step', [['MONTH_END', t('trend.step.MONTH_END')], ['WEEK', t('trend.step.WEEK')]], step);
  stepSelect.id = stepId;
  stepSelect.setAttribute('data-testid', 'trend-step');
  const body = h('div', { 'data-testid': 'trend' }, h('p', { class: 'loading', role: 'status' }, t('common.loading')));
  let charts: Chart[] = [];
  let loads = 0;

  const destroy = () => {
    for (const c of charts) c.destroy();
    charts = [];
  };

  const load = async () => {
    const generation = ++loads;
    const q = query();
    let trend: Trend;
    try {
      trend = await call<Trend>('ForecastService', 'GetTrend', { scope: q.scope, case_types: q.caseTypes, as_of: q.asOf, step, points: 6, horizon_months: 3 });
    } catch (error) {
      if (generation === loads) body.replaceChildren(errorBox(error, () => void load()));
      return;
    }
    if (generation !== loads) return;
    render(trend);
  };

  function render(trend: Trend): void {
    destroy();
    const points = trend.points ?? [];
    const last = points[points.length - 1];
    // One line per month from two months before as_of's month on: the months a leader discusses.
    const current = (last?.as_of ?? trend.as_of).slice(0, 7);
    const lineMonths = (trend.months ?? []).filter((m) => m >= addMonths(current, -2));
    // Every figure names its model.
    const modelName = t(`model.${trend.model ?? 'CALIBRATED'}`);
    const evolution = chartFigure(
      `${t('trend.chart')} (${modelName})`,
      {
        type: 'line',
        data: {
          labels: points.map((p) => date(p.as_of)),
          datasets: lineMonths.map((m, i) => ({
            label: t('trend.month_line', { month: month(m) }),
            data: points.map((p) => seen(p, m) ?? null),
            borderColor: colour(i),
            backgroundColor: colour(i),
            borderWidth: m === current ? 3 : 2,
            pointRadius: 3,
            spanGaps: false,
          })),
        },
        options: { interaction: { mode: 'index', intersect: false }, scales: { y: { beginAtZero: true, title: { display: true, text: t('trend.closures') } } } },
      },
      'trend-chart',
    );
    const past = trend.past_months ?? [];
    const versus = chartFigure(
      `${t('trend.actual_chart')} (${modelName})`,
      {
        type: 'bar',
        data: {
          labels: past.map((r) => `${month(r.month)}${r.complete ? '' : ` ${t('trend.so_far')}`}`),
          datasets: [
            { label: t('trend.projected'), data: past.map((r) => r.projected?.expected ?? 0), backgroundColor: 'rgba(194,65,12,0.55)' },
            { label: t('trend.actual'), data: past.map((r) => Number(r.actual ?? 0)), backgroundColor: 'rgba(29,78,216,0.65)' },
          ],
        },
        options: { scales: { y: { beginAtZero: true } } },
      },
      'trend-actual-chart',
      260,
    );
    charts = [evolution.chart as Chart, versus.chart as Chart];
    body.replaceChildren(
      h('div', { class: 'two-col' }, evolution.element, versus.element),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data', 'data-testid': 'trend-table' },
          h('caption', null, `${t('trend.table')} (${modelName})`),
          h('thead', null, h('tr', null, th(t('common.month')), points.map((p) => th(date(p.as_of))))),
          h(
            'tbody',
            null,
            lineMonths.map((m) =>
              h(
                'tr',
                null,
                h('th', { scope: 'row' }, month(m)),
                points.map((p) => {
                  const value = seen(p, m);
                  return h('td', { class: 'num' }, value === undefined ? '–' : num(value, 1));
                }),
              ),
            ),
          ),
        ),
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data', 'data-testid': 'trend-actual-table' },
          h('caption', null, `${t('trend.actual_chart')} (${modelName})`),
          h('thead', null, h('tr', null, th(t('common.month')), th(t('trend.projected_on')), th(t('trend.projected')), th(t('trend.actual')))),
          h(
            'tbody',
            null,
            past.map((r) =>
              h(
                'tr',
                null,
                h('th', { scope: 'row' }, month(r.month), r.complete ? '' : ` ${t('trend.so_far')}`),
                h('td', null, date(r.projected_on)),
                h('td', { class: 'num' }, estimate(r.projected, 1)),
                h('td', { class: 'num', 'data-testid': `trend-actual-${r.month}` }, num(Number(r.actual ?? 0))),
              ),
            ),
          ),
        ),
      ),
      explanation(trend.explanation, [h('p', { class: 'muted' }, t('projection.computed', { ms: num(trend.compute_ms, 1) }))]) ?? '',
    );
  }

  stepSelect.addEventListener('change', () => {
    step = stepSelect.value as TrendStep;
    void load();
  });
  const element = h(
    'section',
    { class: 'card trend-section', 'aria-labelledby': `${stepId}-heading` },
    h('h2', { id: `${stepId}-heading` }, t('trend.heading')),
    h('p', { class: 'muted' }, t('trend.intro')),
    h('div', { class: 'toolbar' }, h('div', { class: 'field inline' }, h('label', { for: stepId }, t('trend.step')), stepSelect)),
    body,
  );
  void load();
  return { element, reload: () => void load(), dispose: destroy };
}
