// A caseload: every open case of a caseworker (or of a team), sortable and filterable, each
// editable in place (expectation, new action, follow-ups) without leaving the list.
import { call } from '../api';
import { errorBox, link, th } from '../components';
import { active, caseTypeLabel, ctx, outcomeLabel, riskLabel, staffName, teamName } from '../context';
import { h, uid } from '../dom';
import { canWrite, caseEditor, fieldValueText, hasDraft, select } from '../forms';
import { exportButtons, type Sheet } from '../export';
import { date, month, today } from '../format';
import { label, t, type MessageKey } from '../i18n';
import { watchTeam } from '../live';
import type { View } from '../router';
import type { Case, ListCasesResponse } from '../types';

type Column = 'case_ref' | 'case_type' | 'opened_on' | 'caseworker' | 'outcome' | 'month' | 'risk' | 'action';

export async function loadCases(filter: { caseworker?: string; team?: string }): Promise<Case[]> {
  const cases: Case[] = [];
  let pageToken = '';
  do {
    const page = await call<ListCasesResponse>('CaseService', 'ListCases', {
      ...filter,
      status: 'OPEN',
      page_size: 1000,
      page_token: pageToken,
    });
    cases.push(...page.cases);
    pageToken = page.next_page_token;
  } while (pageToken);
  return cases;
}

function nextAction(c: Case) {
  return [...c.open_actions].sort((a, b) => a.due_on.localeCompare(b.due_on))[0];
}

function sortKey(c: Case, column: Column): string {
  switch (column) {
    case 'case_ref':
      return c.case_ref;
    case 'case_type':
      return caseTypeLabel(c.case_type);
    case 'opened_on':
      return c.opened_on;
    case 'caseworker':
      return staffName(c.caseworker);
    case 'outcome':
      return c.expectation ? outcomeLabel(c.expectation.expected_outcome) : '\uffff';
    case 'month':
      return c.expectation?.expected_month || '\uffff';
    case 'risk': {
      const risk = ctx().catalogue.risks.find((r) => r.code === c.expectation?.risk);
      return risk ? String(risk.sort_order).padStart(4, '0') : '\uffff';
    }
    case 'action':
      return nextAction(c)?.due_on ?? '\uffff';
  }
}

export async function caseloadView(query: URLSearchParams): Promise<View> {
  const me = ctx().me;
  let scope: { caseworker?: string; team?: string };
  let heading: string;
  if (query.get('team')) {
    scope = { team: query.get('team')! };
    heading = t('caseload.heading.team', { name: teamName(scope.team!) });
  } else if (query.get('caseworker') && query.get('caseworker') !== me.code) {
    scope = { caseworker: query.get('caseworker')! };
    heading = t('caseload.heading.other', { name: staffName(scope.caseworker!) });
  } else if (me.role === 'CASEWORKER') {
    scope = { caseworker: me.code };
    heading = t('caseload.heading');
  } else {
    scope = { team: me.team };
    heading = t('caseload.heading.team', { name: teamName(me.team) });
  }
  const section = h('section', { class: 'view caseload' });
  let table: CaseloadTable;
  try {
    table = caseloadTable(await loadCases(scope), heading, !!scope.team);
  } catch (error) {
    section.append(h('h1', null, heading), errorBox(error));
    return { element: section };
  }
  // Live: a change to any of the team's cases (by anyone) refreshes the rows in place.
  const team = scope.team ?? ctx().organisation.staff.find((s) => s.code === scope.caseworker)?.team ?? '';
  const watch = team
    ? watchTeam(team, (_, first) => {
        if (!first) void loadCases(scope).then(table.update, () => undefined);
      })
    : undefined;
  section.append(table.element);
  if (watch) table.element.querySelector('h1')?.after(watch.status.element);
  return { element: section, dispose: () => watch?.close() };
}

export interface CaseloadTable {
  element: HTMLElement;
  /** Shows a fresh list; filters, sorting and open editors stay as they are. */
  update: (cases: Case[]) => void;
}

/** The table with its filters; used by the caseload view and the caseworker drill-down. */
export function caseloadTable(initial: Case[], heading: string, showCaseworker: boolean, crumbs?: HTMLElement): CaseloadTable {
  let cases = initial;
  const catalogue = ctx().catalogue;
  const thisMonth = today().slice(0, 7);
  const state = { search: '', type: '', outcome: '', risk: '', attention: 'all', column: 'month' as Column, ascending: true };
  const editors = new Map<string, HTMLElement>();
  const body = h('tbody');
  const count = h('p', { class: 'muted', role: 'status', 'data-testid': 'caseload-count' });

  const ids = { search: uid('search'), type: uid('type'), outcome: uid('outcome'), risk: uid('risk'), attention: uid('attention') };
  const search = h('input', { id: ids.search, type: 'search', oninput: (e: Event) => update({ search: (e.target as HTMLInputElement).value }) });
  const typeSelect = select('type', active(catalogue.case_types).map((c) => [c.code, label(c, c.code)]), '', t('common.all'));
  const outcomeSelect = select('outcome', active(catalogue.outcomes).map((c) => [c.code, label(c, c.code)]), '', t('common.all'));
  const riskSelect = select('risk', active(catalogue.risks).map((c) => [c.code, label(c, c.code)]), '', t('common.all'));
  const attentionSelect = select(
    'attention',
    (['all', 'overdue', 'no_expectation', 'passed'] as const).map((k) => [k, t(`caseload.filter.attention.${k}` as MessageKey)]),
    'all',
  );
  typeSelect.id = ids.type;
  outcomeSelect.id = ids.outcome;
  riskSelect.id = ids.risk;
  attentionSelect.id = ids.attention;
  typeSelect.onchange = () => update({ type: typeSelect.value });
  outcomeSelect.onchange = () => update({ outcome: outcomeSelect.value });
  riskSelect.onchange = () => update({ risk: riskSelect.value });
  attentionSelect.onchange = () => update({ attention: attentionSelect.value });

  const columns: Array<[Column, MessageKey]> = [
    ['case_ref', 'case.ref'],
    ['case_type', 'case.type'],
    ['opened_on', 'case.opened_on'],
    ...(showCaseworker ? ([['caseworker', 'case.caseworker']] as Array<[Column, MessageKey]>) : []),
    ['outcome', 'case.outcome'],
    ['month', 'case.month'],
    ['risk', 'case.risk'],
    ['action', 'case.action'],
  ];
  const headRow = h('tr');

  function renderHead(): void {
    headRow.replaceChildren(
      ...columns.map(([column, key]) => {
        const sorted = state.column === column;
        return th(
          h(
            'button',
            {
              type: 'button',
              class: 'sort',
              'aria-label': t('caseload.sort', { column: t(key) }),
              onclick: () => update(sorted ? { ascending: !state.ascending } : { column, ascending: true }),
            },
            t(key),
            h('span', { 'aria-hidden': 'true', class: 'sort-mark' }, sorted ? (state.ascending ? ' ▲' : ' ▼') : ' ↕'),
          ),
          sorted ? { 'aria-sort': state.ascending ? 'ascending' : 'descending' } : {},
        );
      }),
      th(h('span', { class: 'visually-hidden' }, t('case.edit'))),
    );
  }

  function matches(c: Case): boolean {
    const e = c.expectation;
    if (state.search && !c.case_ref.toLowerCase().includes(state.search.toLowerCase())) return false;
    if (state.type && c.case_type !== state.type) return false;
    if (state.outcome && e?.expected_outcome !== state.outcome) return false;
    if (state.risk && e?.risk !== state.risk) return false;
    if (state.attention === 'overdue' && !c.open_actions.some((a) => a.overdue)) return false;
    if (state.attention === 'no_expectation' && e?.expected_outcome) return false;
    if (state.attention === 'passed' && !(e?.expected_month && e.expected_month < thisMonth)) return false;
    return true;
  }

  function row(c: Case): HTMLElement[] {
    const e = c.expectation?.expected_outcome ? c.expectation : undefined;
    const action = nextAction(c);
    const open = editors.has(c.case_ref);
    const editorId = `editor-row-${c.case_ref}`;
    const cells = [
      h('td', { 'data-col': 'case_ref', 'data-label': t('case.ref') }, link(`/case/${encodeURIComponent(c.case_ref)}`, c.case_ref)),
      h('td', { 'data-col': 'case_type', 'data-label': t('case.type') }, caseTypeLabel(c.case_type)),
      h('td', { 'data-col': 'opened_on', 'data-label': t('case.opened_on') }, date(c.opened_on)),
      showCaseworker ? h('td', { 'data-col': 'caseworker', 'data-label': t('case.caseworker') }, staffName(c.caseworker)) : null,
      h('td', { 'data-col': 'outcome', 'data-label': t('case.outcome') }, e ? outcomeLabel(e.expected_outcome) : h('span', { class: 'badge badge-warn' }, t('case.no_expectation'))),
      h(
        'td',
        { 'data-col': 'month', 'data-value': e?.expected_month ?? '', 'data-label': t('case.month') },
        e ? month(e.expected_month) : '–',
        e && e.expected_month < thisMonth ? h('span', { class: 'badge badge-danger', title: t('case.passed_horizon') }, '!') : null,
      ),
      h('td', { 'data-col': 'risk', 'data-label': t('case.risk') }, e ? riskLabel(e.risk) : '–'),
      h(
        'td',
        { 'data-col': 'action', 'data-label': t('case.action') },
        action ? [action.description, h('br'), h('small', null, date(action.due_on)), action.overdue ? h('span', { class: 'badge badge-danger' }, t('case.overdue')) : null] : '–',
      ),
      h(
        'td',
        { class: 'row-edit' },
        !canWrite(c)
          ? null
          : h(
          'button',
          {
            type: 'button',
            class: 'secondary small',
            'aria-expanded': open ? 'true' : 'false',
            'aria-controls': editorId,
            'aria-label': t('case.edit.label', { ref: c.case_ref }),
            onclick: () => {
              if (editors.has(c.case_ref)) editors.delete(c.case_ref);
              else editors.set(c.case_ref, newEditor(c));
              renderBody();
              if (editors.has(c.case_ref)) (editors.get(c.case_ref)!.querySelector('select, input') as HTMLElement | null)?.focus();
            },
          },
          t('case.edit'),
        ),
      ),
    ];
    const rows = [h('tr', { 'data-testid': `case-row-${c.case_ref}`, class: c.open_actions.some((a) => a.overdue) ? 'row-attention' : '' }, cells)];
    if (open) {
      rows.push(h('tr', { class: 'editor-row', id: editorId }, h('td', { colspan: columns.length + 1 }, editors.get(c.case_ref)!)));
    }
    return rows;
  }

  function newEditor(c: Case): HTMLElement {
    return caseEditor(c, { onChange: (updated) => replaceCase(updated) });
  }

  function replaceCase(updated: Case): void {
    const index = cases.findIndex((c) => c.case_ref === updated.case_ref);
    if (index >= 0) cases[index] = updated;
    renderBody();
  }

  function shownCases(): Case[] {
    return cases.filter(matches).sort((a, b) => {
      const order = sortKey(a, state.column).localeCompare(sortKey(b, state.column)) || a.case_ref.localeCompare(b.case_ref);
      return state.ascending ? order : -order;
    });
  }

  /** What the table shows, as a sheet (plus the job centre's fields) for export. */
  function sheet(): Sheet {
    const definitions = catalogue.fields.filter((f) => f.active).sort((a, b) => a.sort_order - b.sort_order);
    return {
      name: `${t('export.caseload')}-${today()}`,
      headings: [...columns.map(([, key]) => t(key)), t('action.due_on'), ...definitions.map((f) => label(f, f.code))],
      rows: shownCases().map((c) => {
        const e = c.expectation?.expected_outcome ? c.expectation : undefined;
        const action = nextAction(c);
        return [
          c.case_ref,
          caseTypeLabel(c.case_type),
          c.opened_on,
          ...(showCaseworker ? [staffName(c.caseworker)] : []),
          e ? outcomeLabel(e.expected_outcome) : '',
          e?.expected_month ?? '',
          e ? riskLabel(e.risk) : '',
          action?.description ?? '',
          action?.due_on ?? '',
          ...definitions.map((f) => fieldValueText(f, c.fields[f.code])),
        ];
      }),
    };
  }

  function renderBody(): void {
    const shown = cases.filter(matches).sort((a, b) => {
      const order = sortKey(a, state.column).localeCompare(sortKey(b, state.column)) || a.case_ref.localeCompare(b.case_ref);
      return state.ascending ? order : -order;
    });
    // A live refresh must not pull the focus out of an editor someone is typing in.
    const focused = document.activeElement;
    body.replaceChildren(...shown.flatMap(row));
    if (focused instanceof HTMLElement && focused !== document.activeElement && body.contains(focused)) {
      focused.focus({ preventScroll: true });
    }
    if (shown.length === 0) body.append(h('tr', null, h('td', { colspan: columns.length + 1, class: 'muted' }, t('caseload.empty'))));
    count.textContent = t('caseload.count', { shown: shown.length, total: cases.length });
  }

  function update(change: Partial<typeof state>): void {
    Object.assign(state, change);
    renderHead();
    renderBody();
  }

  // Unsaved input (say, from before an expired session) opens its editor again, with the input.
  for (const c of cases) if (canWrite(c) && hasDraft(c.case_ref)) editors.set(c.case_ref, newEditor(c));
  renderHead();
  renderBody();
  const element = h(
    'div',
    null,
    crumbs ?? null,
    h('h1', null, heading),
    h(
      'details',
      { class: 'filters-toggle', open: window.matchMedia('(min-width: 700px)').matches },
      h('summary', null, t('caseload.filters')),
      h(
      'fieldset',
      { class: 'filters' },
      h('legend', { class: 'visually-hidden' }, t('caseload.filters')),
      h('div', { class: 'field' }, h('label', { for: ids.search }, t('caseload.search')), search),
      h('div', { class: 'field' }, h('label', { for: ids.type }, t('caseload.filter.type')), typeSelect),
      h('div', { class: 'field' }, h('label', { for: ids.outcome }, t('caseload.filter.outcome')), outcomeSelect),
      h('div', { class: 'field' }, h('label', { for: ids.risk }, t('caseload.filter.risk')), riskSelect),
      h('div', { class: 'field' }, h('label', { for: ids.attention }, t('caseload.filter.attention')), attentionSelect),
      ),
    ),
    h('div', { class: 'toolbar' }, count, exportButtons(sheet)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data caseload-table', 'data-testid': 'caseload-table' }, h('thead', null, headRow), body)),
  );
  return {
    element,
    update: (fresh: Case[]) => {
      cases = fresh;
      renderBody();
    },
  };
}
