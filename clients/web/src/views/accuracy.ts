// Accuracy: how well each model forecast the past for a scope (a team, or the whole job
// centre), with n, and how every measure is computed.
import { call } from '../api';
import { errorBox, explanation, th } from '../components';
import { ctx, teamName } from '../context';
import { chartFigure, MODEL_COLOURS } from '../charts';
import { h, uid } from '../dom';
import { select } from '../forms';
import { dateTime, month, num } from '../format';
import { t } from '../i18n';
import type { View } from '../router';
import type { Accuracy } from '../types';
import { accuracyTable } from './team';
import type { Chart } from 'chart.js';

export function accuracyView(query: URLSearchParams): View {
  const me = ctx().me;
  const teams = ctx().organisation.units.filter((u) => u.kind === 'TEAM');
  let team = query.get('team') ?? (me.role === 'CASEWORKER' || me.role === 'TEAM_LEADER' ? me.team : '');
  let lookback = 12;
  const ids = { scope: uid('scope'), lookback: uid('lookback') };
  const scopeSelect = select('scope', teams.map((u) => [u.code, u.name]), team, t('projection.scope.centre'));
  scopeSelect.id = ids.scope;
  const lookbackSelect = select('lookback', [6, 12, 24].map((n) => [String(n), String(n)]), String(lookback));
  lookbackSelect.id = ids.lookback;
  const body = h('div', { 'data-testid': 'accuracy' }, h('p', { class: 'loading', role: 'status' }, t('common.loading')));
  const heading = h('h1');
  let chart: Chart | undefined;

  const load = async () => {
    heading.textContent = t('accuracy.heading', { name: team ? teamName(team) : t('projection.scope.centre') });
    let accuracy: Accuracy;
    try {
      accuracy = await call<Accuracy>('ForecastService', 'GetAccuracy', {
        scope: team ? { kind: 'TEAM', code: team } : { kind: 'JOB_CENTRE', code: '' },
        lookback_months: lookback,
      });
    } catch (error) {
      body.replaceChildren(errorBox(error, () => void load()));
      return;
    }
    chart?.destroy();
    const figure = chartFigure(
      t('accuracy.chart'),
      {
        type: 'bar',
        data: {
          labels: accuracy.models.map((m) => t(`model.${m.model}`)),
          datasets: [{ label: t('accuracy.mae'), data: accuracy.models.map((m) => m.mean_abs_error), backgroundColor: accuracy.models.map((m) => MODEL_COLOURS[m.model]) }],
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
      },
      'accuracy-chart',
      240,
    );
    chart = figure.chart as Chart;
    // A team's ADJUSTED series: which months it took from the team's adjustments.
    const adjustedMonths = accuracy.adjusted_months ?? [];
    const adjusted = accuracy.models.some((m) => m.model === 'ADJUSTED')
      ? h(
          'section',
          { class: 'card', 'data-testid': 'accuracy-adjusted' },
          h('h2', null, t('accuracy.adjusted.heading')),
          h('p', { class: 'muted' }, t(adjustedMonths.length ? 'accuracy.adjusted.intro' : 'accuracy.adjusted.none')),
          adjustedMonths.length
            ? h(
                'div',
                { class: 'table-wrap' },
                h(
                  'table',
                  { class: 'data' },
                  h('thead', null, h('tr', null, th(t('common.month')), th(t('accuracy.adjusted.origin')), th(t('adjust.model')), th(t('adjust.adjusted')), th(t('accuracy.adjusted.actual')), th(t('adjust.history.when')))),
                  h(
                    'tbody',
                    null,
                    adjustedMonths.map((a) =>
                      h(
                        'tr',
                        null,
                        h('th', { scope: 'row' }, month(a.month)),
                        h('td', null, month(a.origin)),
                        h('td', { class: 'num' }, num(a.calibrated, 1)),
                        h('td', { class: 'num' }, num(a.adjusted, 1)),
                        h('td', { class: 'num' }, num(a.actual)),
                        h('td', null, dateTime(a.set_at)),
                      ),
                    ),
                  ),
                ),
              )
            : null,
        )
      : null;
    body.replaceChildren(
      h('div', { class: 'two-col' }, h('div', null, accuracyTable(accuracy.models)), figure.element),
      ...(adjusted ? [adjusted] : []),
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('common.how_computed')),
        h('ul', null, h('li', null, t('accuracy.how.mae')), h('li', null, t('accuracy.how.coverage')), h('li', null, t('accuracy.how.brier'))),
        explanation(accuracy.explanation),
      ),
    );
  };

  scopeSelect.addEventListener('change', () => {
    team = scopeSelect.value;
    history.replaceState(null, '', team ? `/accuracy?team=${encodeURIComponent(team)}` : '/accuracy');
    void load();
  });
  lookbackSelect.addEventListener('change', () => {
    lookback = Number(lookbackSelect.value);
    void load();
  });
  void load();
  const element = h(
    'section',
    { class: 'view accuracy-view' },
    heading,
    h('p', null, t('accuracy.intro')),
    h(
      'div',
      { class: 'toolbar' },
      h('div', { class: 'field inline' }, h('label', { for: ids.scope }, t('accuracy.scope')), scopeSelect),
      h('div', { class: 'field inline' }, h('label', { for: ids.lookback }, t('accuracy.lookback')), lookbackSelect),
    ),
    body,
  );
  return { element, dispose: () => chart?.destroy() };
}
