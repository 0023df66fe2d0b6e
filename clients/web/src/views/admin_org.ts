// The administrator's organisation, staff, milestone-metric and audit-trail screens (issue 13):
// departments and teams (add, rename, move a team), staff (add, role, team, deactivate, a
// one-time set-up code for the first sign-in), milestone metrics, and the latest set-up changes.
// Every save goes through the case service's set-up RPCs (UpsertOrgUnit, UpsertStaff,
// UpsertMilestoneMetric), which check, authorise and audit it; the identity service issues
// set-up codes. Forms show refusals next to the field the service names, in the user's language.
import { call } from '../api';
import { errorBox, loading, th } from '../components';
import { ctx, staffName, teamName } from '../context';
import { h, replace } from '../dom';
import { field, FormErrors, hasSetUpDraft, keepSetUpDraft, select } from '../forms';
import { dateTime, num } from '../format';
import { label, t, type MessageKey } from '../i18n';
import type { Organisation, OrgUnit, Role, StaffMember } from '../types';

export interface MetricSetting {
  code: string;
  label_da: string;
  label_en: string;
  kind: string;
  outcome_group: string;
  field_code: string;
  choice: string;
  higher_is_better: boolean;
  sort_order: number;
  active: boolean;
}

interface AdminChange {
  id: string;
  changed_at: string;
  changed_by: string;
  call: string;
  target_kind: string;
  target_code: string;
  before_json: string;
  after_json: string;
}

const ROLES: Role[] = ['CASEWORKER', 'TEAM_LEADER', 'MANAGER', 'ADMIN'];
const METRIC_KINDS = ['CLOSURES', 'FIELD_TURNED_TRUE', 'FIELD_SET', 'CASELOAD'];

function yesNo(value: boolean): string {
  return value ? t('common.yes') : t('common.no');
}

function adoptOrganisation(org: Organisation): void {
  ctx().organisation = org;
}

function departments(): OrgUnit[] {
  return ctx().organisation.units.filter((u) => u.kind === 'DEPARTMENT');
}

function teams(): OrgUnit[] {
  return ctx().organisation.units.filter((u) => u.kind === 'TEAM');
}

/**
 * A form that saves with `save`, shows refusals next to its fields, and keeps a draft under its
 * test id until saved (logging in again after an expired session brings the input back). `save`
 * answers what to do once saved (re-render); the draft is dropped first, so that the re-rendered
 * form starts empty.
 */
function saveForm(
  ariaLabel: string,
  fields: Record<string, ReturnType<typeof field>>,
  extra: HTMLElement[],
  save: () => Promise<() => void>,
  testId: string,
): HTMLFormElement {
  const errors = new FormErrors(fields);
  const submit = h('button', { type: 'submit' }, t('common.save'));
  const form = h(
    'form',
    { class: 'edit-form admin-form', novalidate: true, 'aria-label': ariaLabel, 'data-testid': testId },
    errors.alert,
    h('div', { class: 'field-row' }, Object.values(fields).map((f) => f.wrapper)),
    extra,
    h('div', { class: 'form-actions' }, submit),
  );
  const dropDraft = keepSetUpDraft(form, testId);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const then = await save();
      dropDraft();
      then();
    } catch (error) {
      errors.show(error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function unitForm(kind: 'DEPARTMENT' | 'TEAM', unit: OrgUnit | undefined, onSaved: () => void): HTMLFormElement {
  const fields: Record<string, ReturnType<typeof field>> = {
    'unit.code': field(t('admin.code'), h('input', { name: 'code', value: unit?.code ?? '', readonly: !!unit }), t('admin.unit.code.hint')),
    'unit.name': field(t('admin.unit.name'), h('input', { name: 'name', value: unit?.name ?? '' })),
  };
  if (kind === 'TEAM') {
    fields['unit.parent'] = field(t('admin.unit.department'), select('parent', departments().map((d) => [d.code, d.name || d.code]), unit?.parent ?? '', t('admin.unit.no_department')));
  }
  const title = unit ? t('admin.edit_entry', { code: unit.name || unit.code }) : t(kind === 'TEAM' ? 'admin.new.TEAM' : 'admin.new.DEPARTMENT');
  return saveForm(
    title,
    fields,
    [],
    async () => {
      const org = await call<Organisation>('CaseService', 'UpsertOrgUnit', {
        unit: {
          code: fields['unit.code'].control.value.trim(),
          name: fields['unit.name'].control.value.trim(),
          kind,
          parent: kind === 'TEAM' ? fields['unit.parent'].control.value : '',
        },
      });
      adoptOrganisation(org);
      return onSaved;
    },
    `unit-form-${unit?.code ?? `new-${kind}`}`,
  );
}

function staffForm(member: StaffMember | undefined, onSaved: () => void): HTMLFormElement {
  const fields: Record<string, ReturnType<typeof field>> = {
    'staff.code': field(t('admin.staff.code'), h('input', { name: 'code', value: member?.code ?? '', readonly: !!member }), t('admin.staff.code.hint')),
    'staff.display_name': field(t('admin.staff.name'), h('input', { name: 'display_name', value: member?.display_name ?? '' })),
    'staff.role': field(t('admin.staff.role'), select('role', ROLES.map((r) => [r, t(`role.${r}` as MessageKey)]), member?.role ?? 'CASEWORKER')),
    'staff.team': field(t('common.team'), select('team', teams().map((u) => [u.code, u.name || u.code]), member?.team ?? '', t('admin.staff.no_team')), t('admin.staff.team.hint')),
  };
  const id = `staff-active-${member?.code ?? 'new'}`;
  const activeBox = h('input', { type: 'checkbox', name: 'active', checked: member ? member.active : true, id });
  return saveForm(
    member ? t('admin.edit_entry', { code: member.display_name || member.code }) : t('admin.new.STAFF'),
    fields,
    [h('div', { class: 'field-check' }, activeBox, h('label', { for: id }, t('admin.staff.active')))],
    async () => {
      const org = await call<Organisation>('CaseService', 'UpsertStaff', {
        staff: {
          code: fields['staff.code'].control.value.trim(),
          display_name: fields['staff.display_name'].control.value.trim(),
          role: fields['staff.role'].control.value,
          team: fields['staff.team'].control.value,
          active: activeBox.checked,
        },
      });
      adoptOrganisation(org);
      return onSaved;
    },
    `staff-form-${member?.code ?? 'new'}`,
  );
}

function metricForm(metric: MetricSetting | undefined, onSaved: (metrics: MetricSetting[]) => void): HTMLFormElement {
  const catalogue = ctx().catalogue;
  // A group by the outcomes in it ("Fleksjob"; "Ordinært job, Småjob"), not by its code.
  const groups = [...new Set(catalogue.outcomes.map((o) => o.outcome_group).filter(Boolean))].map((g): [string, string] => [
    g,
    catalogue.outcomes
      .filter((o) => o.outcome_group === g)
      .map((o) => label(o, o.code))
      .join(', '),
  ]);
  const fields: Record<string, ReturnType<typeof field>> = {
    'metric.code': field(t('admin.code'), h('input', { name: 'code', value: metric?.code ?? '', readonly: !!metric }), t('admin.metric.code.hint')),
    'metric.label_da': field(t('admin.label_da'), h('input', { name: 'label_da', value: metric?.label_da ?? '', lang: 'da' })),
    'metric.label_en': field(t('admin.label_en'), h('input', { name: 'label_en', value: metric?.label_en ?? '', lang: 'en' })),
    'metric.kind': field(t('admin.metric.kind'), select('kind', METRIC_KINDS.map((k) => [k, t(`admin.metric.kind.${k}` as MessageKey)]), metric?.kind ?? 'CLOSURES')),
    'metric.outcome_group': field(t('admin.outcome_group'), select('outcome_group', groups, metric?.outcome_group ?? '', t('admin.metric.every_outcome')), t('admin.metric.group.hint')),
    'metric.field_code': field(t('admin.metric.field'), select('field_code', catalogue.fields.map((f) => [f.code, label(f, f.code)]), metric?.field_code ?? '', t('admin.metric.no_field')), t('admin.metric.field.hint')),
    'metric.choice': field(t('admin.metric.choice'), h('input', { name: 'choice', value: metric?.choice ?? '' }), t('admin.metric.choice.hint')),
    'metric.sort_order': field(t('admin.sort_order'), h('input', { name: 'sort_order', type: 'number', value: String(metric?.sort_order ?? 0) })),
  };
  const key = metric?.code ?? 'new';
  const lowerBox = h('input', { type: 'checkbox', name: 'lower', checked: metric ? !metric.higher_is_better : false, id: `metric-lower-${key}` });
  const activeBox = h('input', { type: 'checkbox', name: 'active', checked: metric ? metric.active : true, id: `metric-active-${key}` });
  return saveForm(
    metric ? t('admin.edit_entry', { code: label(metric, metric.code) }) : t('admin.new.METRIC'),
    fields,
    [
      h('div', { class: 'field-check' }, lowerBox, h('label', { for: lowerBox.id }, t('admin.metric.lower'))),
      h('div', { class: 'field-check' }, activeBox, h('label', { for: activeBox.id }, t('admin.active'))),
    ],
    async () => {
      const answer = await call<{ metrics: MetricSetting[] }>('CaseService', 'UpsertMilestoneMetric', {
        metric: {
          code: fields['metric.code'].control.value.trim(),
          label_da: fields['metric.label_da'].control.value.trim(),
          label_en: fields['metric.label_en'].control.value.trim(),
          kind: fields['metric.kind'].control.value,
          outcome_group: fields['metric.outcome_group'].control.value,
          field_code: fields['metric.field_code'].control.value,
          choice: fields['metric.choice'].control.value.trim(),
          higher_is_better: !lowerBox.checked,
          sort_order: Number(fields['metric.sort_order'].control.value || 0),
          active: activeBox.checked,
        },
      });
      return () => onSaved(answer.metrics ?? []);
    },
    `metric-form-${key}`,
  );
}

/** A row that opens its own edit form below itself (one column more for the button). */
/** A table row with a "Redigér" button that opens `form` below it; open at once when the form
 * `draftKey` holds unsaved input. */
export function editableRow(cells: HTMLElement[], testId: string, name: string, form: () => HTMLFormElement, draftKey: string): HTMLElement[] {
  const formRow = h('tr', { class: 'editor-row', hidden: true }, h('td', { colspan: cells.length + 1 }));
  const toggle = (): void => {
    const open = formRow.hidden;
    formRow.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) replace(formRow.firstElementChild as HTMLElement, form());
  };
  const button = h(
    'button',
    { type: 'button', class: 'secondary small', 'aria-expanded': 'false', 'aria-label': t('admin.edit_entry', { code: name }), onclick: toggle },
    t('case.edit'),
  );
  if (hasSetUpDraft(draftKey)) toggle();
  return [h('tr', { 'data-testid': testId }, cells, h('td', null, button)), formRow];
}

/** A folded "Ny ..." form, unfolded when it holds a draft. */
export function newFormDetails(summary: string, form: HTMLFormElement): HTMLElement {
  return h('details', { open: form.dataset.restored === 'true' }, h('summary', null, summary), form);
}

/** "Engangskode": a one-time code for the staff member's first sign-in, shown once. */
function setupCodeButton(member: StaffMember): HTMLElement {
  const out = h('span', { class: 'setup-code', 'aria-live': 'polite', 'data-testid': `setup-code-${member.code}` });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'secondary small',
      'aria-label': t('admin.staff.setup_code.for', { name: member.display_name || member.code }),
      onclick: async () => {
        button.disabled = true;
        try {
          const code = await call<{ setup_code: string; expires_at: string }>('IdentityService', 'IssueSetupCode', { staff: member.code });
          replace(out, h('code', null, code.setup_code), ' ', t('admin.staff.setup_code.until', { time: dateTime(code.expires_at) }));
        } catch (error) {
          replace(out, errorBox(error));
        } finally {
          button.disabled = false;
        }
      },
    },
    t('admin.staff.setup_code'),
  );
  return h('span', null, button, ' ', out);
}

function table(testId: string, headings: Array<string | HTMLElement>, rows: HTMLElement[]): HTMLElement {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', 'data-testid': testId }, h('thead', null, h('tr', null, headings.map((x) => th(x)))), h('tbody', null, rows)));
}

const editHeading = (): HTMLElement => h('span', { class: 'visually-hidden' }, t('case.edit'));

export function organisationSection(render: () => void): HTMLElement {
  const org = ctx().organisation;
  const depts = departments();
  const unitRows = [...depts, ...teams()].flatMap((u) =>
    editableRow(
      [
        h('td', null, u.name || u.code),
        h('td', null, h('code', null, u.code)),
        h('td', null, t(u.kind === 'TEAM' ? 'admin.unit.kind.TEAM' : 'admin.unit.kind.DEPARTMENT')),
        h('td', null, u.kind === 'TEAM' ? (u.parent ? teamName(u.parent) : '–') : '–'),
        h('td', { class: 'num' }, u.kind === 'TEAM' ? num(org.staff.filter((s) => s.team === u.code && s.active).length) : '–'),
      ],
      `admin-unit-${u.code}`,
      u.name || u.code,
      () => unitForm(u.kind === 'TEAM' ? 'TEAM' : 'DEPARTMENT', u, render),
      `unit-form-${u.code}`,
    ),
  );
  return h(
    'section',
    { class: 'card', 'data-testid': 'admin-org' },
    h('h2', null, t('admin.org')),
    h('p', { class: 'muted' }, t('admin.org.intro')),
    table('admin-units', [t('admin.unit.name'), t('admin.code'), t('admin.unit.kind'), t('admin.unit.department'), t('admin.staff.count'), editHeading()], unitRows),
    newFormDetails(t('admin.new.DEPARTMENT'), unitForm('DEPARTMENT', undefined, render)),
    newFormDetails(t('admin.new.TEAM'), unitForm('TEAM', undefined, render)),
  );
}

export function staffSection(render: () => void): HTMLElement {
  const rows = [...ctx().organisation.staff]
    .sort((a, b) => Number(b.active) - Number(a.active) || ROLES.indexOf(a.role) - ROLES.indexOf(b.role) || a.code.localeCompare(b.code))
    .flatMap((s) =>
      editableRow(
        [
          h('td', null, s.display_name || s.code),
          h('td', null, h('code', null, s.code)),
          h('td', null, t(`role.${s.role}` as MessageKey)),
          h('td', null, s.team ? teamName(s.team) : '–'),
          h('td', null, yesNo(s.active)),
          h('td', null, s.active ? setupCodeButton(s) : '–'),
        ],
        `admin-staff-${s.code}`,
        s.display_name || s.code,
        () => staffForm(s, render),
        `staff-form-${s.code}`,
      ),
    );
  return h(
    'section',
    { class: 'card', 'data-testid': 'admin-staff-section' },
    h('h2', null, t('admin.staff')),
    h('p', { class: 'muted' }, t('admin.staff.intro')),
    table('admin-staff', [t('admin.staff.name'), t('admin.staff.code'), t('admin.staff.role'), t('common.team'), t('admin.staff.active'), t('admin.staff.setup_code'), editHeading()], rows),
    newFormDetails(t('admin.new.STAFF'), staffForm(undefined, render)),
  );
}

export function metricsSection(): HTMLElement {
  const section = h('section', { class: 'card', 'data-testid': 'admin-metrics' }, h('h2', null, t('admin.metrics')), loading());
  const show = (metrics: MetricSetting[]) => {
    const counts = (m: MetricSetting): Array<HTMLElement | string> => {
      if (m.kind === 'CLOSURES') return [m.outcome_group ? h('code', null, m.outcome_group) : t('admin.metric.every_outcome')];
      if (m.kind === 'CASELOAD') return ['–'];
      const f = ctx().catalogue.fields.find((x) => x.code === m.field_code);
      // A metric may name a field the job centre has not set up yet: it counts nothing until then.
      if (!f) return [h('code', null, m.field_code), ' ', t('admin.metric.field_missing')];
      return [m.choice ? `${label(f, f.code)} = ${m.choice}` : label(f, f.code)];
    };
    replace(
      section,
      h('h2', null, t('admin.metrics')),
      h('p', { class: 'muted' }, t('admin.metrics.intro')),
      table(
        'admin-metric-table',
        [t('admin.label'), t('admin.code'), t('admin.metric.kind'), t('admin.metric.counts'), t('admin.active'), editHeading()],
        metrics.flatMap((m) =>
          editableRow(
            [h('td', null, label(m, m.code)), h('td', null, h('code', null, m.code)), h('td', null, t(`admin.metric.kind.${m.kind}` as MessageKey)), h('td', null, counts(m)), h('td', null, yesNo(m.active))],
            `admin-metric-${m.code}`,
            label(m, m.code),
            () => metricForm(m, show),
            `metric-form-${m.code}`,
          ),
        ),
      ),
      newFormDetails(t('admin.new.METRIC'), metricForm(undefined, show)),
    );
  };
  call<{ metrics: MetricSetting[] }>('CaseService', 'ListMilestoneMetricSettings', {})
    .then((answer) => show(answer.metrics ?? []))
    .catch((error) => replace(section, h('h2', null, t('admin.metrics')), errorBox(error)));
  return section;
}

export function changesSection(): HTMLElement {
  const section = h('section', { class: 'card', 'data-testid': 'admin-changes' }, h('h2', null, t('admin.changes')), loading());
  call<{ changes: AdminChange[] }>('CaseService', 'ListAdminChanges', { page_size: 20 })
    .then((answer) => {
      const changes = answer.changes ?? [];
      replace(
        section,
        h('h2', null, t('admin.changes')),
        h('p', { class: 'muted' }, t('admin.changes.intro')),
        changes.length === 0
          ? h('p', null, t('admin.changes.none'))
          : table(
              'admin-change-table',
              [t('admin.changes.when'), t('admin.changes.who'), t('admin.changes.what'), t('admin.changes.before'), t('admin.changes.after')],
              changes.map((c) =>
                h(
                  'tr',
                  null,
                  h('td', null, dateTime(c.changed_at)),
                  h('td', null, c.changed_by ? staffName(c.changed_by) : t('admin.changes.operator')),
                  h('td', null, t(`admin.changes.kind.${c.target_kind}` as MessageKey), ' ', h('code', null, c.target_code)),
                  h('td', null, c.before_json ? h('code', { class: 'json' }, c.before_json) : '–'),
                  h('td', null, h('code', { class: 'json' }, c.after_json)),
                ),
              ),
            ),
      );
    })
    .catch((error) => replace(section, h('h2', null, t('admin.changes')), errorBox(error)));
  return section;
}
