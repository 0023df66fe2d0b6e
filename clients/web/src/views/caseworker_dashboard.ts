// A caseworker's dashboard: the caseload by type, field and expected outcome, what needs
// attention, and the expected closures of the next three months. For team leaders and managers
// it is also the middle step of the drill-down team > caseworker > case.
import { call } from '../api';
import { breadcrumbs, detailNote, errorBox, explanation, link, reasonBadges, statCard, th } from '../components';
import { caseTypeLabel, ctx, fieldLabel, outcomeLabel, staffName, teamName } from '../context';
import { chartFigure, colour } from '../charts';
import { h, replace } from '../dom';
import { date, estimate, month, num } from '../format';
import { t } from '../i18n';
import type { View } from '../router';
import type { CaseworkerDashboard, Count } from '../types';
import { caseloadTable, loadCases, type CaseloadTable } from './caseload';
import { watchTeam } from '../live';

function countLabel(key: string): string {
  // Field counts are "has_cv" or "segment:ready".
  const [code, choice] = key.split(':');
  return choice ? `${fieldLabel(code)}: ${choice}` : fieldLabel(code);
}

export async function caseworkerDashboardView(code: string): Promise<View> {
  const me = ctx().me;
  const own = code === me.code;
  const section = h('section', { class: 'view caseworker-dashboard' });
  const charts: Array<{ destroy(): void }> = [];
  const staff = ctx().organisation.staff.find((s) => s.code === code);
  const team = staff?.team ?? '';
  const heading = own ? t('me.heading') : t('me.heading.other', { name: staffName(code) });
  if (!own) {
    section.append(breadcrumbs([[t('nav.teams'), me.role === 'TEAM_LEADER' ? undefined : '/teams'], [teamName(team), `/team/${encodeURIComponent(team)}`], [staffName(code)]]));
  }
  let d: CaseworkerDashboard;
  try {
    d = await call<CaseworkerDashboard>('ForecastService', 'GetCaseworkerDashboard', { caseworker: code });
  } catch (error) {
    section.append(h('h1', null, heading), errorBox(error));
    return { element: section };
  }
  const figures = h('div');
  const status = h('div');
  section.append(h('h1', null, heading), status, figures);
  const renderDashboard = (d: CaseworkerDashboard) => {
    charts.forEach((chart) => chart.destroy());
    charts.length = 0;
    const countChart = (caption: string, counts: Count[], labelOf: (key: string) => string, testId: string) => {
      const sorted = [...counts].sort((a, b) => Number(b.count) - Number(a.count));
      const figure = chartFigure(
        caption,
        {
          type: 'bar',
          data: { labels: sorted.map((c) => labelOf(c.key)), datasets: [{ label: caption, data: sorted.map((c) => Number(c.count)), backgroundColor: colour(0) }] },
          options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { ticks: { precision: 0 } } } },
        },
        testId,
        Math.max(140, 28 * sorted.length + 40),
      );
      charts.push(figure.chart);
      return figure.element;
    };
    const all = d.expected_closures_next_3_months.filter((m) => m.outcome === 'ALL');
    const byOutcome = d.expected_closures_next_3_months.filter((m) => m.outcome !== 'ALL');
    const months = [...new Set(d.expected_closures_next_3_months.map((m) => m.month))].sort();
    const caseLink = (ref: string) => link(`/case/${encodeURIComponent(ref)}`, ref);

    replace(
      figures,
      h('p', { class: 'muted' }, t('common.as_of', { date: date(d.as_of) })),
      h(
        'div',
        { class: 'stats' },
        statCard(t('me.open_cases'), num(d.open_cases), 'stat-open'),
        statCard(t('me.no_expectation'), num(d.no_expectation), 'stat-no-expectation'),
        statCard(t('me.stale_expectation'), num(d.stale_expectation), 'stat-stale'),
        statCard(t('me.overdue_actions'), num(d.overdue_actions), 'stat-overdue'),
        statCard(t('me.passed_horizon'), num(d.passed_horizon), 'stat-passed'),
      ),
      h(
        'div',
        { class: 'grid-3' },
        countChart(t('me.by_case_type'), d.by_case_type, caseTypeLabel, 'chart-by-type'),
        countChart(t('me.by_outcome'), d.by_expected_outcome, outcomeLabel, 'chart-by-outcome'),
        d.by_field.length ? countChart(t('me.by_field'), d.by_field, countLabel, 'chart-by-field') : h('div'),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('me.expected_closures'), ' ', h('small', { class: 'muted', 'data-testid': 'closures-model' }, `(${t(`model.${d.closures_model ?? 'CALIBRATED'}`)})`)),
        h(
          'table',
          { class: 'data', 'data-testid': 'expected-closures' },
          h('thead', null, h('tr', null, th(t('case.outcome')), months.map((m) => th(month(m))))),
          h(
            'tbody',
            null,
            [...new Set(byOutcome.map((m) => m.outcome))].map((o) =>
              h('tr', null, h('th', { scope: 'row' }, outcomeLabel(o)), months.map((m) => h('td', { class: 'num' }, estimate(byOutcome.find((x) => x.month === m && x.outcome === o)?.closures)))),
            ),
            h('tr', { class: 'total' }, h('th', { scope: 'row' }, t('common.total')), months.map((m) => h('td', { class: 'num' }, estimate(all.find((x) => x.month === m)?.closures)))),
          ),
        ),
        explanation(d.explanation),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('me.attention')),
        d.attention.length === 0
          ? h('p', { class: 'muted' }, t('me.attention.none'))
          : h(
              'table',
              { class: 'data', 'data-testid': 'attention' },
              h('thead', null, h('tr', null, th(t('case.ref')), th(t('case.type')), th(t('case.outcome')), th(t('case.month')), th(t('explain.reasons')))),
              h(
                'tbody',
                null,
                d.attention.map((a) =>
                  h(
                    'tr',
                    null,
                    h('td', null, caseLink(a.case_ref)),
                    h('td', null, caseTypeLabel(a.case_type)),
                    h('td', null, outcomeLabel(a.expected_outcome)),
                    h('td', null, a.expected_month ? month(a.expected_month) : '–'),
                    h('td', null, reasonBadges(a.reasons.length ? a.reasons : [a.reason]), a.detail ? detailNote(a.detail) : null),
                  ),
                ),
              ),
            ),
      ),
    );
  };
  renderDashboard(d);

  let table: CaseloadTable | undefined;
  if (own) {
    section.append(h('p', null, link('/caseload', t('me.see_cases'))));
  } else {
    try {
      const cases = await loadCases({ caseworker: code });
      table = caseloadTable(cases, t('caseload.heading.other', { name: staffName(code) }), false);
      section.append(h('section', { class: 'card' }, table.element));
      // The table's own heading is an h1; inside this page it is a sub-heading.
      section.querySelectorAll('.card h1').forEach((el) => el.replaceWith(h('h2', null, el.textContent)));
    } catch (error) {
      section.append(errorBox(error));
    }
  }
  // Live: every push for the caseworker's team refreshes the figures and the case list.
  const watch = team
    ? watchTeam(team, (_, first) => {
        if (first) return;
        void call<CaseworkerDashboard>('ForecastService', 'GetCaseworkerDashboard', { caseworker: code }).then(renderDashboard, () => undefined);
        if (table) void loadCases({ caseworker: code }).then(table.update, () => undefined);
      })
    : undefined;
  if (watch) status.append(watch.status.element);
  return {
    element: section,
    dispose: () => {
      watch?.close();
      charts.forEach((chart) => chart.destroy());
    },
  };
}
