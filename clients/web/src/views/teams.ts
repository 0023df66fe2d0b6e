// Management: every team side by side (open cases now, expected closures in the next three
// months, the caseload in a year), filtered by department and model; each team drills down to
// its dashboard, then a caseworker, then a case.
import { call } from '../api';
import { errorBox, link, smallSample, th } from '../components';
import { ctx } from '../context';
import { chartFigure, MODEL_COLOURS } from '../charts';
import { h, uid } from '../dom';
import { select } from '../forms';
import { estimate, num } from '../format';
import { t } from '../i18n';
import type { View } from '../router';
import type { ModelName, TeamComparison } from '../types';
import type { Chart } from 'chart.js';

export function teamsView(query: URLSearchParams): View {
  const departments = ctx().organisation.units.filter((u) => u.kind === 'DEPARTMENT');
  let department = query.get('department') ?? '';
  let model: ModelName = (query.get('model') as ModelName) ?? 'CALIBRATED';
  const ids = { department: uid('dep'), model: uid('model') };
  const departmentSelect = select('department', departments.map((d) => [d.code, d.name]), department, t('common.all'));
  departmentSelect.id = ids.department;
  const modelSelect = select('model', (['AS_PLANNED', 'CALIBRATED', 'BASELINE'] as const).map((m) => [m, t(`model.${m}`)]), model);
  modelSelect.id = ids.model;
  const body = h('div', { 'data-testid': 'teams' }, h('p', { class: 'loading', role: 'status' }, t('common.loading')));
  let chart: Chart | undefined;

  const load = async () => {
    let comparison: TeamComparison;
    try {
      comparison = await call<TeamComparison>('ForecastService', 'CompareTeams', { department, model, horizon_months: 12 });
    } catch (error) {
      body.replaceChildren(errorBox(error, () => void load()));
      return;
    }
    const teams = [...comparison.teams].sort((a, b) => (a.team_name || a.team).localeCompare(b.team_name || b.team));
    chart?.destroy();
    const figure = chartFigure(
      t('teams.chart'),
      {
        type: 'bar',
        data: {
          labels: teams.map((s) => s.team_name || s.team),
          datasets: [
            { label: t('teams.now'), data: teams.map((s) => Number(s.open_cases)), backgroundColor: '#94a3b8' },
            { label: t('teams.at_horizon'), data: teams.map((s) => s.caseload_at_horizon?.expected ?? 0), backgroundColor: MODEL_COLOURS[model] },
          ],
        },
        options: { scales: { y: { beginAtZero: true } } },
      },
      'teams-chart',
      Math.min(420, 200 + teams.length * 8),
    );
    chart = figure.chart as Chart;
    body.replaceChildren(
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data', 'data-testid': 'teams-table' },
          h('thead', null, h('tr', null, th(t('common.team')), th(t('teams.open_cases')), th([t('teams.closures_3m'), h('br'), h('small', { class: 'muted', 'data-testid': 'teams-model' }, t(`model.${model}`))]), th([t('teams.caseload_horizon'), h('br'), h('small', { class: 'muted' }, t(`model.${model}`))]), th(t('common.n')))),
          h(
            'tbody',
            null,
            teams.map((s) =>
              h(
                'tr',
                { 'data-testid': `team-${s.team}` },
                h('th', { scope: 'row' }, link(`/team/${encodeURIComponent(s.team)}`, s.team_name || s.team)),
                h('td', { class: 'num' }, num(s.open_cases)),
                h('td', { class: 'num', 'data-testid': `team-closures-${s.team}` }, estimate(s.closures_next_3_months)),
                h('td', { class: 'num' }, estimate(s.caseload_at_horizon)),
                h('td', { class: 'num' }, num(s.explanation?.n ?? s.open_cases), ' ', smallSample(!!s.explanation?.small_sample)),
              ),
            ),
          ),
        ),
      ),
      figure.element,
      h('p', null, link('/centre/projection', t('teams.centre_projection')), ' · ', link('/accuracy', t('nav.accuracy'))),
    );
  };

  const reload = () => {
    history.replaceState(null, '', `/teams?department=${encodeURIComponent(department)}&model=${model}`);
    void load();
  };
  departmentSelect.addEventListener('change', () => {
    department = departmentSelect.value;
    reload();
  });
  modelSelect.addEventListener('change', () => {
    model = modelSelect.value as ModelName;
    reload();
  });
  void load();
  const element = h(
    'section',
    { class: 'view teams-view' },
    h('h1', null, t('teams.heading')),
    h(
      'div',
      { class: 'toolbar' },
      departments.length ? h('div', { class: 'field inline' }, h('label', { for: ids.department }, t('teams.department')), departmentSelect) : null,
      h('div', { class: 'field inline' }, h('label', { for: ids.model }, t('teams.model')), modelSelect),
    ),
    body,
  );
  return { element, dispose: () => chart?.destroy() };
}
