// The team dashboard, live: a row per caseworker plus team totals, the variation flags and the
// accuracy of the team's forecasts. Every push from the forecast service redraws the figures.
import { breadcrumbs, errorBox, explanation, link, smallSample, statCard, th } from '../components';
import { ctx, outcomeLabel, staffName, teamName } from '../context';
import { h, replace } from '../dom';
import { date, estimate, num, pct } from '../format';
import { plural, t } from '../i18n';
import { watchTeam } from '../live';
import type { View } from '../router';
import type { CaseworkerRow, ModelAccuracy, TeamDashboard } from '../types';

export function accuracyTable(models: ModelAccuracy[], testId = 'accuracy-table'): HTMLElement {
  const table = h(
    'table',
    { class: 'data', 'data-testid': testId },
    h('thead', null, h('tr', null, th(t('accuracy.model')), th(t('accuracy.mae')), th(t('accuracy.coverage')), th(t('accuracy.brier')), th(t('accuracy.n_months')), th(t('accuracy.n_cases')))),
    h(
      'tbody',
      null,
      models.map((m) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row', title: t(`model.${m.model}.long`) }, t(`model.${m.model}`)),
          h('td', { class: 'num' }, num(m.mean_abs_error, 1)),
          h('td', { class: 'num' }, `${num(m.interval_coverage * 100, 0)} %`),
          h('td', { class: 'num' }, num(m.brier_score, 3)),
          h('td', { class: 'num' }, num(m.n_months), ' ', smallSample(Number(m.n_months) < 6)),
          h('td', { class: 'num' }, num(m.n_cases)),
        ),
      ),
    ),
  );
  return h('div', { class: 'table-wrap' }, table);
}

function rowCells(r: CaseworkerRow, total: boolean): HTMLElement[] {
  return [
    total
      ? h('th', { scope: 'row' }, t('common.total'))
      : h('th', { scope: 'row' }, link(`/caseworker/${encodeURIComponent(r.caseworker)}`, r.display_name || staffName(r.caseworker))),
    h('td', { class: 'num', 'data-col': 'open' }, num(r.open_cases)),
    h('td', { class: 'num' }, num(r.no_expectation)),
    h('td', { class: 'num' }, num(r.stale_expectation)),
    h('td', { class: `num${Number(r.overdue_actions) > 0 ? ' warn' : ''}` }, num(r.overdue_actions)),
    h('td', { class: 'num' }, num(r.passed_horizon)),
    h('td', { class: 'num', 'data-col': 'closures3' }, estimate(r.closures_next_3_months)),
    h('td', { class: 'num' }, num(r.mean_slip_months, 1)),
  ];
}

export function teamView(team: string): View {
  const me = ctx().me;
  const body = h('div', { class: 'team-body', 'data-testid': 'team-dashboard' }, h('p', { class: 'loading', role: 'status' }, t('common.loading')));
  const enc = encodeURIComponent(team);
  const render = (d: TeamDashboard) => {
    const flags = d.variation?.shares.filter((s) => s.flagged).length ?? 0;
    const totals = d.totals;
    replace(
      body,
      h('p', { class: 'muted' }, t('common.as_of', { date: date(d.as_of) })),
      totals
        ? h(
            'div',
            { class: 'stats' },
            statCard(t('team.open_cases'), num(totals.open_cases), 'team-open'),
            statCard(t('team.closures_3m'), estimate(totals.closures_next_3_months), 'team-closures', h('span', { 'data-testid': 'team-closures-model' }, t(`model.${d.closures_model ?? 'CALIBRATED'}`))),
            statCard(t('team.overdue'), num(totals.overdue_actions), 'team-overdue'),
            statCard(t('team.no_expectation'), num(totals.no_expectation), 'team-no-expectation'),
            statCard(t('team.passed'), num(totals.passed_horizon), 'team-passed'),
          )
        : null,
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('team.rows')),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'data', 'data-testid': 'team-rows' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                th(t('common.caseworker')),
                th(t('team.open_cases')),
                th(t('team.no_expectation')),
                th(t('team.stale')),
                th(t('team.overdue')),
                th(t('team.passed')),
                th(h('span', { title: t('common.interval') }, t('team.closures_3m'), h('br'), h('small', { class: 'muted' }, t(`model.${d.closures_model ?? 'CALIBRATED'}`)))),
                th(h('abbr', { title: t('team.slip.title') }, t('team.slip'))),
              ),
            ),
            h('tbody', null, d.rows.map((r) => h('tr', { 'data-testid': `team-row-${r.caseworker}` }, rowCells(r, false)))),
            totals ? h('tfoot', null, h('tr', { class: 'total' }, rowCells(totals, true))) : null,
          ),
        ),
      ),
      h(
        'div',
        { class: 'two-col' },
        h(
          'section',
          { class: 'card' },
          h('h2', null, t('nav.variation')),
          h('p', null, link(`/team/${enc}/variation`, t('team.variation_flags', { count: flags, what: plural(flags, { da: 'markeret afvigelse', en: 'flagged deviation' }, { da: 'markerede afvigelser', en: 'flagged deviations' }) }))),
          flags
            ? h(
                'ul',
                { 'aria-label': t('team.flagged_list') },
                d.variation!.shares
                  .filter((s) => s.flagged)
                  .map((s) =>
                    h('li', null, `${staffName(s.caseworker)}: ${outcomeLabel(s.outcome)} ${pct(s.share)} (${t('variation.team_share').toLowerCase()} ${pct(s.team_share)}), n = ${s.n}`),
                  ),
              )
            : null,
          explanation(d.variation?.explanation),
        ),
        h('section', { class: 'card' }, h('h2', null, t('team.accuracy')), accuracyTable(d.accuracy)),
      ),
    );
  };
  const watch = watchTeam(team, render, (error) => replace(body, errorBox(error)));
  const element = h(
    'section',
    { class: 'view team-view' },
    me.role === 'MANAGER' || me.role === 'ADMIN' ? breadcrumbs([[t('nav.teams'), '/teams'], [teamName(team)]]) : null,
    h('h1', null, t('team.heading', { name: teamName(team) })),
    watch.status.element,
    h(
      'nav',
      { class: 'subnav', 'aria-label': t('team.links') },
      link(`/team/${enc}/projection`, t('nav.projection')),
      link(`/team/${enc}/variation`, t('nav.variation')),
      link(`/team/${enc}/milestones`, t('nav.milestones')),
      me.role !== 'CASEWORKER' ? link(`/team/${enc}/dialogue`, t('nav.dialogue')) : null,
      me.role !== 'CASEWORKER' ? link(`/team/${enc}/pipeline`, t('nav.pipeline'), { 'data-testid': 'pipeline-link' }) : null,
      link(`/caseload?team=${enc}`, t('nav.caseload')),
      link(`/accuracy?team=${enc}`, t('nav.accuracy')),
    ),
    body,
  );
  return { element, dispose: watch.close };
}
