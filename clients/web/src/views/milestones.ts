// Monthly milestones: per metric and month the target, the actual figure so far and the
// projected one, whether the team is on track and how many more it takes; team leaders set
// targets here (for the team or one caseworker).
import { call } from '../api';
import { breadcrumbs, errorBox, explanation, th } from '../components';
import { ctx, staffName, teamMembers, teamName } from '../context';
import { exportButtons, type Sheet } from '../export';
import { chartFigure, MODEL_COLOURS, transparent } from '../charts';
import { h } from '../dom';
import { field, FormErrors, select } from '../forms';
import { addMonths, estimate, month, num, today } from '../format';
import { label, lang, t } from '../i18n';
import { watchTeam } from '../live';
import type { View } from '../router';
import type { MilestoneMetrics, MilestoneRow, Milestones } from '../types';
import type { Chart } from 'chart.js';

function metricLabel(row: MilestoneRow): string {
  return (lang() === 'da' ? row.metric_label_da : row.metric_label_en) || row.metric;
}

/** In place of a figure for a metric on a field the job centre has not configured. */
function noField(): HTMLElement {
  return h('span', { class: 'muted', 'data-testid': 'no-field' }, t('milestones.no_field'));
}

/** Targets for one caseworker, this month and the next two: target, actual, projected, on
 *  track. Rows without a target are left out when `onlyTargets`. */
function targetsTable(rows: MilestoneRow[], testId: string, onlyTargets: boolean): HTMLElement {
  const shown = onlyTargets ? rows.filter((r) => r.has_target) : rows;
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data', 'data-testid': testId },
      h('thead', null, h('tr', null, th(t('milestones.metric')), th(t('common.month')), th(t('milestones.target')), th(t('milestones.actual')), th([t('milestones.projected'), h('br'), h('small', { class: 'muted' }, t('model.CALIBRATED'))]), th(t('milestones.on_track')))),
      h(
        'tbody',
        null,
        shown.map((r) =>
          h(
            'tr',
            { 'data-testid': `target-${r.metric}-${r.month}` },
            h('th', { scope: 'row' }, metricLabel(r)),
            h('td', null, month(r.month)),
            h('td', { class: 'num' }, r.has_target ? num(r.target) : h('span', { class: 'muted' }, t('milestones.no_target'))),
            h('td', { class: 'num' }, r.field_missing ? noField() : num(r.actual)),
            h('td', { class: 'num' }, r.field_missing ? noField() : estimate(r.projected)),
            h('td', null, r.has_target && !r.field_missing ? h('span', { class: `badge ${r.on_track ? 'badge-ok' : 'badge-danger'}` }, r.on_track ? t('common.yes') : t('common.no')) : '–'),
          ),
        ),
      ),
    ),
  );
}

/** The targets set for one caseworker (for the dialogue page); a card. */
export async function caseworkerTargets(team: string, caseworker: string): Promise<HTMLElement> {
  const thisMonth = today().slice(0, 7);
  const m = await call<Milestones>('ForecastService', 'GetMilestones', { team, caseworker, from_month: thisMonth, to_month: addMonths(thisMonth, 2) });
  const withTargets = m.rows.filter((r) => r.has_target);
  return h(
    'section',
    { class: 'card', 'data-testid': 'caseworker-targets-card' },
    h('h2', null, t('milestones.caseworker_targets', { name: staffName(caseworker) })),
    withTargets.length === 0 ? h('p', { class: 'muted', 'data-testid': 'no-caseworker-targets' }, t('milestones.caseworker_targets.none')) : targetsTable(m.rows, 'caseworker-targets', true),
  );
}

/** "Mine mål": the caseworker's own targets and where they stand, this month and the next two. */
export async function myTargetsView(): Promise<View> {
  const me = ctx().me;
  const thisMonth = today().slice(0, 7);
  const section = h('section', { class: 'view' }, h('h1', null, t('milestones.mine.heading')));
  try {
    const m = await call<Milestones>('ForecastService', 'GetMilestones', { team: me.team, caseworker: me.code, from_month: thisMonth, to_month: addMonths(thisMonth, 2) });
    const any = m.rows.some((r) => r.has_target);
    section.append(
      h('p', { class: 'muted' }, any ? t('milestones.mine.intro') : t('milestones.mine.none')),
      targetsTable(
        m.rows.filter((r) => r.has_target || r.month === thisMonth),
        'my-targets',
        false,
      ),
    );
  } catch (error) {
    section.append(errorBox(error));
  }
  return { element: section };
}

export function milestonesView(team: string): View {
  const me = ctx().me;
  const thisMonth = today().slice(0, 7);
  const range = { from_month: addMonths(thisMonth, -3), to_month: addMonths(thisMonth, 5) };
  const body = h('div', { 'data-testid': 'milestones' }, h('p', { class: 'loading', role: 'status' }, t('common.loading')));
  const formSlot = h('div');
  const charts: Chart[] = [];
  let metrics: MilestoneMetrics = { metrics: [] };

  const load = async () => {
    try {
      const [milestones, m] = await Promise.all([
        call<Milestones>('ForecastService', 'GetMilestones', { team, ...range }),
        call<MilestoneMetrics>('ForecastService', 'ListMilestoneMetrics'),
      ]);
      metrics = m;
      render(milestones);
      if (!formSlot.firstChild && (me.role === 'TEAM_LEADER' || me.role === 'MANAGER')) formSlot.append(targetForm());
    } catch (error) {
      body.replaceChildren(errorBox(error, () => void load()));
    }
  };


  function render(milestones: Milestones): void {
    charts.forEach((c) => c.destroy());
    charts.length = 0;
    const byMetric = new Map<string, MilestoneRow[]>();
    for (const row of milestones.rows) byMetric.set(row.metric, [...(byMetric.get(row.metric) ?? []), row]);
    if (byMetric.size === 0) {
      body.replaceChildren(h('p', { class: 'muted' }, t('milestones.none')));
      return;
    }
    // This month at a glance, then each metric month by month.
    const current = [...byMetric.values()].map((rows) => rows.find((r) => r.month === thisMonth) ?? rows[0]);
    const summary = h(
      'section',
      { class: 'card' },
      h('h2', null, t('milestones.this_month', { month: month(thisMonth) })),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data', 'data-testid': 'milestone-summary' },
          h('thead', null, h('tr', null, th(t('milestones.metric')), th(t('milestones.target')), th(t('milestones.actual')), th([t('milestones.projected'), h('br'), h('small', { class: 'muted' }, t('model.CALIBRATED'))]), th(t('milestones.on_track')), th(h('abbr', { title: t('milestones.gap.title') }, t('milestones.gap'))))),
          h(
            'tbody',
            null,
            current.map((r) =>
              h(
                'tr',
                null,
                h('th', { scope: 'row' }, h('a', { href: `#metric-${r.metric}` }, metricLabel(r))),
                h('td', { class: 'num' }, r.has_target ? num(r.target) : h('span', { class: 'muted' }, t('milestones.no_target'))),
                h('td', { class: 'num' }, r.field_missing ? noField() : num(r.actual)),
                h('td', { class: 'num' }, r.field_missing ? noField() : estimate(r.projected)),
                h('td', null, r.has_target ? h('span', { class: `badge ${r.on_track ? 'badge-ok' : 'badge-danger'}` }, r.on_track ? t('common.yes') : t('common.no')) : '–'),
                h('td', { class: 'num' }, r.has_target && r.gap > 0 ? num(Math.ceil(r.gap)) : '–'),
              ),
            ),
          ),
        ),
      ),
    );
    const sheet = (): Sheet => ({
      name: `${t('export.milestones')}-${team}-${thisMonth}`,
      headings: [t('milestones.metric'), t('common.month'), t('milestones.target'), t('milestones.actual'), t('milestones.projected'), `${t('milestones.projected')} ${t('export.low')}`, `${t('milestones.projected')} ${t('export.high')}`, t('milestones.on_track')],
      rows: milestones.rows.map((r) => [
        metricLabel(r),
        r.month,
        r.has_target ? r.target : null,
        r.month <= thisMonth ? r.actual : null,
        r.projected ? Math.round(r.projected.expected) : null,
        r.projected ? r.projected.p10 : null,
        r.projected ? r.projected.p90 : null,
        r.has_target ? (r.on_track ? t('common.yes') : t('common.no')) : '',
      ]),
    });
    body.replaceChildren(
      exportButtons(sheet),
      summary,
      ...[...byMetric.values()].map((rows) => {
        const first = rows[0];
        const figure = chartFigure(
          `${metricLabel(first)}${first.higher_is_better ? '' : ` (${t('milestones.lower_better')})`}`,
          {
            type: 'bar',
            data: {
              labels: rows.map((r) => month(r.month)),
              datasets: [
                { type: 'bar', label: t('milestones.actual'), data: rows.map((r) => (r.month <= thisMonth ? r.actual : null)) as never, backgroundColor: '#0f766e', order: 2 },
                { type: 'line', label: t('milestones.target'), data: rows.map((r) => (r.has_target ? r.target : null)) as never, borderColor: '#be123c', backgroundColor: '#be123c', borderWidth: 2, pointStyle: 'line', pointRadius: 8, showLine: false, order: 0 } as never,
                { type: 'line', label: `${t('milestones.projected')} p10`, data: rows.map((r) => r.projected?.p10 ?? null) as never, borderWidth: 0, pointRadius: 0, fill: false, order: 1 } as never,
                { type: 'line', label: t('common.interval'), data: rows.map((r) => r.projected?.p90 ?? null) as never, borderWidth: 0, pointRadius: 0, fill: '-1', backgroundColor: transparent(MODEL_COLOURS.CALIBRATED, 0.15), order: 1 } as never,
                { type: 'line', label: t('milestones.projected'), data: rows.map((r) => r.projected?.expected ?? null) as never, borderColor: MODEL_COLOURS.CALIBRATED, backgroundColor: MODEL_COLOURS.CALIBRATED, borderDash: [6, 4], borderWidth: 2, pointRadius: 3, order: 1 } as never,
              ],
            },
            options: { plugins: { legend: { labels: { filter: (item) => !item.text.endsWith(' p10') } } }, scales: { y: { beginAtZero: true } } },
          },
          `milestone-chart-${first.metric}`,
          240,
        );
        charts.push(figure.chart as Chart);
        return h(
          'section',
          { class: 'card milestone', id: `metric-${first.metric}` },
          h('h2', null, metricLabel(first)),
          h(
            'div',
            { class: 'two-col' },
            figure.element,
            h(
              'table',
              { class: 'data', 'data-testid': `milestone-table-${first.metric}` },
              h('thead', null, h('tr', null, th(t('common.month')), th(t('milestones.target')), th(t('milestones.actual')), th([t('milestones.projected'), h('br'), h('small', { class: 'muted' }, t('model.CALIBRATED'))]), th(t('milestones.on_track')), th(h('abbr', { title: t('milestones.gap.title') }, t('milestones.gap'))))),
              h(
                'tbody',
                null,
                rows.map((r) =>
                  h(
                    'tr',
                    { class: r.month === thisMonth ? 'current' : '' },
                    h('th', { scope: 'row' }, month(r.month)),
                    h('td', { class: 'num' }, r.has_target ? num(r.target) : h('span', { class: 'muted' }, t('milestones.no_target'))),
                    h('td', { class: 'num' }, r.field_missing ? noField() : r.month <= thisMonth ? num(r.actual) : '–'),
                    h('td', { class: 'num' }, r.field_missing ? noField() : estimate(r.projected)),
                    h('td', null, r.has_target ? h('span', { class: `badge ${r.on_track ? 'badge-ok' : 'badge-danger'}` }, r.on_track ? t('common.yes') : t('common.no')) : '–'),
                    h('td', { class: 'num' }, r.has_target && r.gap > 0 ? num(Math.ceil(r.gap)) : '–'),
                  ),
                ),
              ),
            ),
          ),
          explanation(first.explanation),
        );
      }),
    );
  }

  function targetForm(): HTMLElement {
    const fields = {
      metric: field(t('milestones.metric'), select('metric', metrics.metrics.map((m) => [m.code, label(m, m.code)]), metrics.metrics[0]?.code ?? '')),
      month: field(t('milestones.set.month'), h('input', { type: 'month', name: 'month', value: thisMonth })),
      target: field(t('milestones.set.value'), h('input', { type: 'number', name: 'target', min: 0, step: 1, inputmode: 'numeric' })),
      caseworker: field(t('milestones.set.caseworker'), select('caseworker', teamMembers(team).map((s) => [s.code, s.display_name || s.code]), '', t('milestones.set.whole_team'))),
    };
    const errors = new FormErrors({
      'target.metric': fields.metric,
      'target.month': fields.month,
      'target.target': fields.target,
      'target.caseworker': fields.caseworker,
    });
    const submit = h('button', { type: 'submit' }, t('milestones.set'));
    const form = h(
      'form',
      { class: 'card edit-form', 'aria-labelledby': 'set-target-h', novalidate: true },
      h('h2', { id: 'set-target-h' }, t('milestones.set')),
      errors.alert,
      h('div', { class: 'field-row' }, fields.metric.wrapper, fields.month.wrapper, fields.target.wrapper, fields.caseworker.wrapper),
      h('div', { class: 'form-actions' }, submit),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        const value = fields.target.control.value;
        await call('ForecastService', 'SetMilestoneTarget', {
          target: {
            team,
            caseworker: fields.caseworker.control.value,
            metric: fields.metric.control.value,
            month: fields.month.control.value,
            target: value === '' ? -1 : Number(value),
          },
        });
        errors.success(t('milestones.set.saved'));
        await load();
      } catch (error) {
        errors.show(error);
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  void load();
  const watch = watchTeam(team, (_, first) => {
    if (!first) void load();
  });
  const element = h(
    'section',
    { class: 'view milestones-view' },
    me.role === 'MANAGER' || me.role === 'ADMIN' ? breadcrumbs([[t('nav.teams'), '/teams'], [teamName(team), `/team/${encodeURIComponent(team)}`], [t('nav.milestones')]]) : null,
    h('h1', null, t('milestones.heading', { name: teamName(team) })),
    watch.status.element,
    h('p', { class: 'muted' }, `${month(range.from_month)} – ${month(range.to_month)}`, me.role === 'CASEWORKER' ? ` · ${staffName(me.code)}` : ''),
    formSlot,
    body,
  );
  return {
    element,
    dispose: () => {
      watch.close();
      charts.forEach((c) => c.destroy());
    },
  };
}
