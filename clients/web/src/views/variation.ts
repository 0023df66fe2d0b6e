// Variation between caseworkers: for one outcome (flex job by default, the outcome to watch),
// each caseworker's expected share with its 80% interval against the team's share. Flags come
// from the service's test; small samples are shown, marked, never hidden.
import { call } from '../api';
import { breadcrumbs, errorBox, explanation, smallSample, th } from '../components';
import { active, ctx, outcomeLabel, staffName, teamName } from '../context';
import { chartFigure } from '../charts';
import { h, replace, uid } from '../dom';
import { select } from '../forms';
import { num, pct } from '../format';
import { label, t } from '../i18n';
import { watchTeam } from '../live';
import type { View } from '../router';
import type { Variation } from '../types';
import type { Chart } from 'chart.js';

export function variationView(team: string, query: URLSearchParams): View {
  const me = ctx().me;
  const outcomes = active(ctx().catalogue.outcomes);
  let outcome = query.get('outcome') ?? (outcomes.some((o) => o.code === 'FLEX_JOB') ? 'FLEX_JOB' : (outcomes[0]?.code ?? ''));
  const outcomeId = uid('outcome');
  const outcomeSelect = select('outcome', outcomes.map((o) => [o.code, label(o, o.code)]), outcome);
  outcomeSelect.id = outcomeId;
  const body = h('div', { 'data-testid': 'variation' }, h('p', { class: 'loading', role: 'status' }, t('common.loading')));
  let chart: Chart | undefined;
  let variation: Variation | undefined;

  const load = async () => {
    try {
      variation = await call<Variation>('ForecastService', 'GetVariation', { team });
      render();
    } catch (error) {
      body.replaceChildren(errorBox(error, () => void load()));
    }
  };

  function render(): void {
    if (!variation) return;
    const shares = variation.shares.filter((s) => s.outcome === outcome).sort((a, b) => b.share - a.share);
    const names = shares.map((s) => `${staffName(s.caseworker)}${s.flagged ? ' ⚑' : ''}`);
    const barColour = (s: (typeof shares)[number]) => (s.flagged ? 'rgba(190,18,60,0.55)' : s.small_sample ? 'rgba(107,114,128,0.35)' : 'rgba(29,78,216,0.45)');
    chart?.destroy();
    const figure = chartFigure(
      t('variation.chart', { outcome: outcomeLabel(outcome) }),
      {
        type: 'bar',
        data: {
          labels: names,
          datasets: [
            { type: 'bar', label: t('variation.interval'), data: shares.map((s) => [s.low, s.high]) as never, backgroundColor: shares.map(barColour), borderColor: shares.map((s) => (s.flagged ? '#be123c' : '#1d4ed8')), borderWidth: 1, barPercentage: 0.6 },
            { type: 'line', label: t('variation.share'), data: shares.map((s, i) => ({ x: s.share, y: names[i] })) as never, showLine: false, pointRadius: 6, pointStyle: 'rectRot', borderColor: '#111827', backgroundColor: '#111827', indexAxis: 'y' } as never,
            { type: 'line', label: t('variation.team_share'), data: shares.map((s, i) => ({ x: s.team_share, y: names[i] })) as never, borderColor: '#c2410c', borderDash: [6, 4], borderWidth: 2, pointRadius: 0, indexAxis: 'y' } as never,
          ],
        },
        options: {
          indexAxis: 'y',
          scales: { x: { min: 0, max: 1, ticks: { callback: (v) => pct(Number(v)) } } },
          plugins: {
            tooltip: {
              callbacks: {
                label: (item) => {
                  const s = shares[item.dataIndex];
                  return `${staffName(s.caseworker)}: ${pct(s.share)} (${pct(s.low)}–${pct(s.high)}), n = ${s.n}${s.flagged ? ` · ${t('variation.flag')}` : ''}`;
                },
              },
            },
          },
        },
      },
      'variation-chart',
      Math.max(220, 36 * shares.length + 80),
    );
    chart = figure.chart as Chart;
    replace(
      body,
      figure.element,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data', 'data-testid': 'variation-table' },
          h('thead', null, h('tr', null, th(t('common.caseworker')), th(t('common.n')), th(t('variation.count')), th(t('variation.share')), th(t('variation.interval')), th(t('variation.team_share')), th(t('variation.flagged')))),
          h(
            'tbody',
            null,
            shares.map((s) =>
              h(
                'tr',
                { class: s.flagged ? 'row-attention' : '' },
                h('th', { scope: 'row' }, staffName(s.caseworker)),
                h('td', { class: 'num' }, num(s.n), ' ', smallSample(s.small_sample)),
                h('td', { class: 'num' }, num(s.count)),
                h('td', { class: 'num' }, pct(s.share)),
                h('td', { class: 'num' }, `${pct(s.low)}–${pct(s.high)}`),
                h('td', { class: 'num' }, pct(s.team_share)),
                h('td', null, s.flagged ? h('span', { class: 'badge badge-danger', title: t('variation.flagged.title') }, t('variation.flag')) : ''),
              ),
            ),
          ),
        ),
      ),
      explanation(variation.explanation),
    );
  }

  outcomeSelect.addEventListener('change', () => {
    outcome = outcomeSelect.value;
    history.replaceState(null, '', `?outcome=${encodeURIComponent(outcome)}`);
    render();
  });
  void load();
  const watch = watchTeam(team, (_, first) => {
    if (!first) void load();
  });
  const element = h(
    'section',
    { class: 'view variation-view' },
    me.role === 'MANAGER' || me.role === 'ADMIN' ? breadcrumbs([[t('nav.teams'), '/teams'], [teamName(team), `/team/${encodeURIComponent(team)}`], [t('nav.variation')]]) : null,
    h('h1', null, t('variation.heading', { name: teamName(team) })),
    watch.status.element,
    h('div', { class: 'toolbar' }, h('div', { class: 'field inline' }, h('label', { for: outcomeId }, t('variation.outcome')), outcomeSelect)),
    body,
  );
  return {
    element,
    dispose: () => {
      watch.close();
      chart?.destroy();
    },
  };
}
