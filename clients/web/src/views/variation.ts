// Variation between caseworkers: for one outcome (flex job by default, the outcome to watch),
// each caseworker's expected share with its 80% interval against the team's share. Flags come
// from the service's test; small samples are shown, marked, never hidden.
import { call } from '../api';
import { breadcrumbs, errorBox, explanation, link, smallSample, th } from '../components';
import { active, caseTypeLabel, ctx, outcomeLabel, riskLabel, staffName, teamName } from '../context';
import { chartFigure } from '../charts';
import { h, replace, uid } from '../dom';
import { select } from '../forms';
import { month, num, pct } from '../format';
import { label, t } from '../i18n';
import { watchTeam } from '../live';
import type { View } from '../router';
import type { Variation, VariationCases } from '../types';
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
  // The cases behind one caseworker's share (to choose cases for sparring), for the outcome shown.
  const drill = h('div', { 'data-testid': 'variation-cases', 'aria-live': 'polite' });
  let drilled = '';
  let drills = 0;

  const showCases = async (caseworker: string) => {
    drilled = caseworker;
    const generation = ++drills;
    drill.replaceChildren(h('p', { class: 'loading', role: 'status' }, t('common.loading')));
    let found: VariationCases;
    try {
      found = await call<VariationCases>('ForecastService', 'GetVariationCases', { caseworker, outcome });
    } catch (error) {
      if (generation === drills) drill.replaceChildren(errorBox(error, () => void showCases(caseworker)));
      return;
    }
    if (generation !== drills) return;
    const cases = found.cases ?? [];
    drill.replaceChildren(
      h('h2', null, t('variation.cases.heading', { name: staffName(caseworker), outcome: outcomeLabel(outcome) })),
      cases.length === 0
        ? h('p', { class: 'muted' }, t('variation.cases.none'))
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'data', 'data-testid': 'variation-cases-table' },
              h(
                'thead',
                null,
                h('tr', null, th(t('case.ref')), th(t('case.type')), th(t('variation.cases.goal')), th(t('variation.cases.horizon')), th(t('case.risk')), th(t('variation.cases.agreed'))),
              ),
              h(
                'tbody',
                null,
                cases.map((c) =>
                  h(
                    'tr',
                    { 'data-testid': `variation-case-${c.case_ref}` },
                    h('th', { scope: 'row' }, link(`/case/${encodeURIComponent(c.case_ref)}`, c.case_ref)),
                    h('td', null, caseTypeLabel(c.case_type)),
                    h('td', null, outcomeLabel(c.expected_outcome)),
                    h('td', null, month(c.expected_month), c.horizon_passed ? h('span', { class: 'badge badge-warning' }, ' ', t('variation.cases.passed')) : ''),
                    h('td', null, riskLabel(c.risk)),
                    h('td', null, c.agreed_in_dialogue ? t('common.yes') : ''),
                  ),
                ),
              ),
            ),
          ),
    );
  };

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
            { type: 'line', label: t('variation.expected_share'), data: shares.map((s, i) => ({ x: s.expected_share ?? 0, y: names[i] })) as never, showLine: false, pointRadius: 7, pointStyle: 'line', borderWidth: 3, borderColor: '#0f766e', backgroundColor: '#0f766e', indexAxis: 'y' } as never,
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
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              th(t('common.caseworker')),
              th(t('common.n')),
              th(t('variation.count')),
              th(t('variation.share')),
              th(t('variation.interval')),
              th(t('variation.team_share')),
              th(t('variation.expected_share'), { title: t('variation.expected_share.title') }),
              th(t('variation.flagged')),
              th(t('variation.cases')),
            ),
          ),
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
                h('td', { class: 'num', 'data-testid': `expected-share-${s.caseworker}` }, pct(s.expected_share ?? 0)),
                h(
                  'td',
                  null,
                  s.flagged
                    ? h('span', { class: 'badge badge-danger', title: t('variation.flagged.title') }, t('variation.flag'))
                    : s.flagged_without_case_type
                    ? h('span', { class: 'badge', title: t('variation.mix_explains.title'), 'data-testid': `mix-explains-${s.caseworker}` }, t('variation.mix_explains'))
                    : '',
                ),
                h(
                  'td',
                  null,
                  Number(s.count ?? 0) > 0
                    ? h('button', { type: 'button', class: 'secondary small', 'data-testid': `drill-${s.caseworker}`, onclick: () => void showCases(s.caseworker) }, t('variation.show_cases'), ` (${num(s.count)})`)
                    : '',
                ),
              ),
            ),
          ),
        ),
      ),
      explanation(variation.explanation),
      drill,
    );
  }

  outcomeSelect.addEventListener('change', () => {
    outcome = outcomeSelect.value;
    history.replaceState(null, '', `?outcome=${encodeURIComponent(outcome)}`);
    render();
    if (drilled) void showCases(drilled);
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
