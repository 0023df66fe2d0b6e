// Editing a case in place: the expectation in force, new actions and follow-ups of open ones, the
// job centre's own fields, and the case actions (close, reopen, re-assign) for those allowed.
// Nothing typed is lost:
// - every form keeps a draft in sessionStorage while it is being filled in, so that logging in
//   again after an expired session (or a reload) brings the input back; a saved form drops it;
// - every write carries the case's version (base_version); when someone else changed the case
//   meanwhile (ABORTED), the form shows the user's version beside the stored one, and the user
//   keeps theirs (written on top of the stored version) or takes the stored one.
// A refusal is phrased in the user's language next to the field it names (errors.ts).
import { ApiError, call, idempotencyKey } from './api';
import { errorText } from './components';
import { active, ctx, outcomeLabel, riskLabel, staffName, teamName } from './context';
import { h, replace, uid } from './dom';
import { errorMessage, fieldProblem } from './errors';
import { date as fmtDate, month as fmtMonth, today } from './format';
import { label, t } from './i18n';
import type { Action, Case, CaseField, FieldValue, ListCaseActionsResponse } from './types';

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

interface Field {
  wrapper: HTMLElement;
  control: Control;
  error: HTMLElement;
}

/** Called after a write the service accepted: the updated case, which form, and what to say. */
type Applied = (updated: Case, where: string, message: string) => void;

/** A labelled control with a place for its error message (label for=, aria-describedby). */
export function field(labelText: string, control: Control, hint?: string): Field {
  const id = control.id || uid('f');
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
  const hintEl = hint ? h('p', { class: 'field-hint', id: `${id}-hint` }, hint) : null;
  control.setAttribute('aria-describedby', [hintEl ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
  const wrapper = h('div', { class: 'field' }, h('label', { for: id }, labelText), control, hintEl, error);
  return { wrapper, control, error };
}

export function select(name: string, options: Array<[string, string]>, value: string, placeholder?: string): HTMLSelectElement {
  return h(
    'select',
    { name },
    placeholder !== undefined ? h('option', { value: '' }, placeholder) : null,
    options.map(([code, text]) => h('option', { value: code, selected: code === value }, text)),
  );
}

// ---- Who may do what (the services decide; the UI shows no button that would be refused) ----

/** May the logged-in user change this case? Caseworkers their own, team leaders their team's,
 *  managers every case; administrators none. */
export function canWrite(c: Case): boolean {
  const me = ctx().me;
  switch (me.role) {
    case 'CASEWORKER':
      return c.caseworker === me.code;
    case 'TEAM_LEADER':
      return !!me.team && c.team === me.team;
    case 'MANAGER':
      return true;
    default:
      return false;
  }
}

/** Re-assigning: a team leader within the own team, a manager across the centre. */
export function canReassign(c: Case): boolean {
  const me = ctx().me;
  return (me.role === 'TEAM_LEADER' && !!me.team && c.team === me.team) || me.role === 'MANAGER';
}

/** "Agreed in dialogue" is the team leader's word (the case service enforces it too). */
export function canMarkAgreed(): boolean {
  const role = ctx().me.role;
  return role === 'TEAM_LEADER' || role === 'MANAGER';
}

/** Whom a case may be handed to: active caseworkers of the own team, or of any team (manager). */
function reassignTargets(c: Case): Array<[string, string]> {
  const me = ctx().me;
  return ctx()
    .organisation.staff.filter((s) => s.active && s.role === 'CASEWORKER' && s.team && s.code !== c.caseworker)
    .filter((s) => me.role === 'MANAGER' || s.team === me.team)
    .sort((a, b) => a.team.localeCompare(b.team) || (a.display_name || a.code).localeCompare(b.display_name || b.code))
    .map((s) => [s.code, me.role === 'MANAGER' ? `${s.display_name || s.code} (${teamName(s.team)})` : s.display_name || s.code]);
}

// ---- Drafts ----

const DRAFT_PREFIX = 'forecast-draft:';

function draftKey(caseRef: string, form: string): string {
  return `${DRAFT_PREFIX}${caseRef}:${form}`;
}

/** Does any form of this case hold unsaved input? */
export function hasDraft(caseRef: string): boolean {
  const prefix = `${DRAFT_PREFIX}${caseRef}:`;
  for (let i = 0; i < sessionStorage.length; i += 1) {
    if (sessionStorage.key(i)?.startsWith(prefix)) return true;
  }
  return false;
}

/**
 * Keeps a draft of a set-up form (the admin's screens) under `key`, as case forms do: restored
 * when the form is built again (after logging in again, or a reload). Returns the function that
 * drops the draft once the form is saved.
 */
export function keepSetUpDraft(form: HTMLFormElement, key: string): () => void {
  const full = `${DRAFT_PREFIX}setup:${key}`;
  keepDraft(form, full);
  return () => sessionStorage.removeItem(full);
}

/** Does the set-up form `key` hold unsaved input? */
export function hasSetUpDraft(key: string): boolean {
  return sessionStorage.getItem(`${DRAFT_PREFIX}setup:${key}`) !== null;
}

function controls(form: HTMLFormElement): Control[] {
  return [...form.querySelectorAll<Control>('input[name], select[name], textarea[name]')];
}

function readForm(form: HTMLFormElement): Record<string, string | boolean> {
  const values: Record<string, string | boolean> = {};
  for (const c of controls(form)) values[c.name] = c instanceof HTMLInputElement && c.type === 'checkbox' ? c.checked : c.value;
  return values;
}

/** Restores a saved draft into `form` and keeps saving it as the user types. */
function keepDraft(form: HTMLFormElement, key: string): void {
  const saved = sessionStorage.getItem(key);
  if (saved) {
    try {
      const values = JSON.parse(saved) as Record<string, string | boolean>;
      for (const c of controls(form)) {
        if (!(c.name in values)) continue;
        if (c instanceof HTMLInputElement && c.type === 'checkbox') c.checked = !!values[c.name];
        else c.value = String(values[c.name]);
      }
      form.dataset.restored = 'true';
    } catch {
      sessionStorage.removeItem(key);
    }
  }
  const save = () => sessionStorage.setItem(key, JSON.stringify(readForm(form)));
  form.addEventListener('input', save);
  form.addEventListener('change', save);
}

// ---- Errors ----

/** A row of the conflict comparison: what it is, the user's value, the stored value. */
type Compared = [string, string, string];

/** Shows a failed write: next to the named field when there is one, else in the form's alert. */
export class FormErrors {
  readonly alert = h('div', { class: 'form-alert', role: 'alert' });

  constructor(private readonly fields: Record<string, Field>) {}

  clear(): void {
    this.alert.replaceChildren();
    this.alert.className = 'form-alert';
    for (const f of Object.values(this.fields)) {
      f.error.textContent = '';
      f.error.removeAttribute('lang');
      f.control.removeAttribute('aria-invalid');
    }
  }

  show(error: unknown, onConflict?: () => void): void {
    this.clear();
    if (error instanceof ApiError && error.field && this.fields[error.field]) {
      const f = this.fields[error.field];
      const problem = error.code === 'INVALID_ARGUMENT' ? fieldProblem(error) : errorMessage(error);
      f.error.textContent = problem.text;
      f.error.lang = problem.lang;
      f.control.setAttribute('aria-invalid', 'true');
      f.control.focus();
      return;
    }
    this.alert.className = 'form-alert alert alert-error';
    if (error instanceof ApiError && error.code === 'ABORTED' && onConflict) {
      this.alert.append(
        h('p', { 'data-testid': 'conflict' }, t('conflict.message')),
        h('button', { type: 'button', onclick: onConflict }, t('conflict.reload')),
      );
      return;
    }
    const message = errorMessage(error);
    this.alert.append(h('p', { lang: message.lang }, message.text));
  }

  /** Someone else changed the case: the user's version beside the stored one, to choose. */
  conflict(rows: Compared[], keepMine: () => void, takeStored: () => void): void {
    this.clear();
    this.alert.className = 'form-alert alert alert-error conflict';
    this.alert.append(
      h('p', { 'data-testid': 'conflict' }, t('conflict.merge')),
      h(
        'table',
        { class: 'data conflict-table', 'data-testid': 'conflict-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('conflict.what'))), h('th', { scope: 'col' }, t('conflict.mine')), h('th', { scope: 'col' }, t('conflict.stored')))),
        h(
          'tbody',
          null,
          rows.map(([what, mine, stored]) =>
            h('tr', { class: mine !== stored ? 'differs' : '' }, h('th', { scope: 'row' }, what), h('td', { 'data-testid': 'mine' }, mine || '–'), h('td', { 'data-testid': 'stored' }, stored || '–')),
          ),
        ),
      ),
      h(
        'div',
        { class: 'form-actions' },
        h('button', { type: 'button', 'data-testid': 'keep-mine', onclick: keepMine }, t('conflict.keep_mine')),
        h('button', { type: 'button', class: 'secondary', 'data-testid': 'take-stored', onclick: takeStored }, t('conflict.take_stored')),
      ),
    );
    (this.alert.querySelector('button') as HTMLButtonElement | null)?.focus();
  }

  success(message: string): void {
    this.clear();
    this.alert.className = 'form-alert alert alert-ok';
    this.alert.setAttribute('role', 'status');
    this.alert.append(h('p', null, message));
  }
}

export interface EditorOptions {
  /** Expectations and actions are recorded as agreed in a dialogue. */
  agreedInDialogue?: boolean;
  /** The dialogue the agreement belongs to, once it is recorded ("0" before). */
  dialogueId?: () => string;
  /** Called with the case as the service returned it after every successful write. */
  onChange?: (updated: Case) => void;
  /** Also offer the job centre's fields and the case actions (close, reopen, re-assign). */
  full?: boolean;
  compact?: boolean;
}

/** What every form of the editor shares: the case as last seen, and how to apply an answer. */
interface EditorState {
  current: () => Case;
  applied: Applied;
  reload: () => Promise<void>;
}

/** The whole in-place editor for one case; re-renders itself after each write. Shows nothing
 *  to a user who may not change the case. */
export function caseEditor(initial: Case, options: EditorOptions = {}): HTMLElement {
  const container = h('div', { class: 'case-editor', 'data-testid': `editor-${initial.case_ref}` });
  let current = initial;
  let notice: { where: string; message: string } | undefined;

  const state: EditorState = {
    current: () => current,
    reload: async () => {
      try {
        current = await call<Case>('CaseService', 'GetCase', { case_ref: current.case_ref });
        notice = undefined;
        options.onChange?.(current);
        render();
      } catch (error) {
        container.prepend(h('div', { class: 'alert alert-error', role: 'alert' }, errorText(error)));
      }
    },
    applied: (updated, where, message) => {
      current = updated;
      notice = { where, message };
      options.onChange?.(updated);
      render();
    },
  };

  function render(): void {
    const hadFocus = container.contains(document.activeElement);
    const c = current;
    const say = (where: string) => (notice?.where === where ? notice.message : undefined);
    if (!canWrite(c)) {
      container.replaceChildren();
      return;
    }
    replace(
      container,
      c.status === 'OPEN' ? expectationForm(c, options, state, say('expectation')) : null,
      c.status === 'OPEN' ? actionsSection(c, options, state, notice) : null,
      options.full && c.status === 'OPEN' && ctx().catalogue.fields.some((f) => f.active) ? fieldsForm(c, state, say('fields')) : null,
      options.full ? caseActions(c, state, notice) : null,
    );
    // Keyboard users keep their place: focus moves to the confirmation of what they just did.
    if (hadFocus || notice) {
      const confirmation = container.querySelector<HTMLElement>('.alert-ok');
      if (confirmation) {
        confirmation.tabIndex = -1;
        confirmation.focus();
      }
    }
  }
  render();
  return container;
}

/** Wires a case write: disables the button meanwhile, keeps the draft, shows refusals, and on a
 *  conflict compares the user's version with the stored one. */
function onCaseWrite(
  form: HTMLFormElement,
  submit: HTMLButtonElement,
  errors: FormErrors,
  state: EditorState,
  draft: string,
  compare: (stored: Case) => Compared[],
  write: (baseVersion: string) => Promise<void>,
): void {
  const key = draftKey(state.current().case_ref, draft);
  keepDraft(form, key);
  const run = async (baseVersion: string) => {
    submit.disabled = true;
    try {
      await write(baseVersion);
      sessionStorage.removeItem(key);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'ABORTED') {
        try {
          const stored = await call<Case>('CaseService', 'GetCase', { case_ref: state.current().case_ref });
          errors.conflict(
            compare(stored),
            () => void run(stored.version),
            () => {
              sessionStorage.removeItem(key);
              void state.reload();
            },
          );
        } catch (reloadError) {
          errors.show(reloadError);
        }
      } else {
        errors.show(error);
      }
    } finally {
      submit.disabled = false;
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void run(state.current().version);
  });
}

function expectationText(c: Case): [string, string, string, string] {
  const e = c.expectation?.expected_outcome ? c.expectation : undefined;
  return [e ? outcomeLabel(e.expected_outcome) : '', e ? fmtMonth(e.expected_month) : '', e ? riskLabel(e.risk) : '', e?.note ?? ''];
}

function expectationForm(c: Case, options: EditorOptions, state: EditorState, notice?: string): HTMLElement {
  const e = c.expectation;
  const catalogue = ctx().catalogue;
  const fields: Record<string, Field> = {
    expected_outcome: field(
      t('expectation.outcome'),
      select('expected_outcome', active(catalogue.outcomes).map((o) => [o.code, label(o, o.code)]), e?.expected_outcome ?? '', t('common.choose')),
    ),
    expected_month: field(
      t('expectation.month'),
      h('input', { type: 'month', name: 'expected_month', value: e?.expected_month ?? '', placeholder: t('expectation.month.placeholder') }),
    ),
    risk: field(
      t('expectation.risk'),
      select('risk', active(catalogue.risks).map((r) => [r.code, label(r, r.code)]), e?.risk ?? '', t('common.choose')),
      t('expectation.risk.hint'),
    ),
    note: field(t('expectation.note'), h('textarea', { name: 'note', rows: 2, maxlength: 4000 })),
  };
  const agreedAllowed = !!options.agreedInDialogue || canMarkAgreed();
  const agreed = h('input', { type: 'checkbox', name: 'agreed_in_dialogue', checked: !!options.agreedInDialogue });
  const agreedId = uid('agreed');
  agreed.id = agreedId;
  fields.agreed_in_dialogue = { wrapper: h('div'), control: agreed, error: h('p', { class: 'field-error' }) };
  const errors = new FormErrors(fields);
  const submit = h('button', { type: 'submit' }, t('expectation.save'));
  const form = h(
    'form',
    { class: 'edit-form expectation-form', 'aria-label': `${t('expectation.heading')} ${c.case_ref}`, novalidate: true },
    h('h2', null, t('expectation.heading')),
    errors.alert,
    h('div', { class: 'field-row' }, fields.expected_outcome.wrapper, fields.expected_month.wrapper, fields.risk.wrapper),
    fields.note.wrapper,
    agreedAllowed ? h('div', { class: 'field-check' }, agreed, h('label', { for: agreedId }, t('expectation.agreed')), fields.agreed_in_dialogue.error) : null,
    h('div', { class: 'form-actions' }, submit),
  );
  if (notice) errors.success(notice);
  const mine = (): Compared[] => {
    const [o, m, r, n] = [
      outcomeLabel(fields.expected_outcome.control.value),
      fields.expected_month.control.value ? fmtMonth(fields.expected_month.control.value) : '',
      fields.risk.control.value ? riskLabel(fields.risk.control.value) : '',
      fields.note.control.value,
    ];
    return [
      [t('expectation.outcome'), o === '–' ? '' : o, ''],
      [t('expectation.month'), m, ''],
      [t('expectation.risk'), r, ''],
      [t('expectation.note'), n, ''],
    ];
  };
  onCaseWrite(
    form,
    submit,
    errors,
    state,
    'expectation',
    (stored) => mine().map(([what, value], i): Compared => [what, value, expectationText(stored)[i]]),
    async (baseVersion) => {
      const updated = await call<Case>('CaseService', 'RecordExpectation', {
        case_ref: c.case_ref,
        base_version: baseVersion,
        expected_outcome: fields.expected_outcome.control.value,
        expected_month: fields.expected_month.control.value,
        risk: fields.risk.control.value,
        note: fields.note.control.value,
        agreed_in_dialogue: agreedAllowed && agreed.checked,
        dialogue_id: agreedAllowed && agreed.checked ? (options.dialogueId?.() ?? '0') : '0',
        idempotency_key: idempotencyKey(),
      });
      state.applied(updated, 'expectation', t('expectation.saved'));
    },
  );
  return form;
}

function actionsSection(c: Case, options: EditorOptions, state: EditorState, notice?: { where: string; message: string }): HTMLElement {
  const list = h(
    'div',
    { class: 'open-actions' },
    c.open_actions.map((a) => followUpForm(c, a, state, notice?.where === `action-${a.id}` ? notice.message : undefined)),
  );
  // A case lists its 50 soonest due open actions; "Vis flere" reads the rest page by page.
  const total = c.open_action_count ?? c.open_actions.length;
  let token = c.open_actions_page_token ?? '';
  let shown = c.open_actions.length;
  const status = h('p', { class: 'muted', 'data-testid': 'actions-shown', role: 'status' });
  const more = h('button', { type: 'button', class: 'secondary', 'data-testid': 'actions-more' }, t('action.more'));
  const update = (): void => {
    status.textContent = shown < total ? t('action.shown', { shown: String(shown), total: String(total) }) : '';
    status.hidden = shown >= total;
    more.hidden = token === '';
  };
  more.addEventListener('click', () => {
    more.disabled = true;
    void call<ListCaseActionsResponse>('CaseService', 'ListCaseActions', { case_ref: c.case_ref, page_token: token, page_size: 50 })
      .then((page) => {
        for (const a of page.actions ?? []) list.append(followUpForm(c, a, state));
        shown += page.actions?.length ?? 0;
        token = page.next_page_token ?? '';
        update();
      })
      .catch((error: unknown) => {
        status.hidden = false;
        status.textContent = errorText(error);
      })
      .finally(() => {
        more.disabled = false;
      });
  });
  update();
  return h(
    'section',
    { class: 'actions-section', 'aria-label': `${t('action.heading')} ${c.case_ref}` },
    h('h2', null, t('action.heading')),
    c.open_actions.length === 0 ? h('p', { class: 'muted' }, t('action.none')) : null,
    list,
    status,
    more,
    newActionForm(c, options, state, notice?.where === 'action' ? notice.message : undefined),
  );
}

function actionsText(c: Case): string {
  return c.open_actions.map((a) => `${a.description} (${fmtDate(a.due_on)})`).join('; ');
}

function followUpForm(c: Case, a: Action, state: EditorState, notice?: string): HTMLElement {
  const results: Array<[string, string]> = (['FOLLOW_UP_DONE', 'FOLLOW_UP_NOT_DONE', 'FOLLOW_UP_POSTPONED'] as const).map((r) => [
    r,
    t(`action.result.${r}`),
  ]);
  const fields: Record<string, Field> = {
    result: field(t('action.result'), select('result', results, '', t('common.choose'))),
    postponed_to: field(t('action.postponed_to'), h('input', { type: 'date', name: 'postponed_to' })),
    note: field(t('action.note'), h('input', { type: 'text', name: 'note', maxlength: 4000 })),
  };
  const errors = new FormErrors(fields);
  const submit = h('button', { type: 'submit', class: 'secondary' }, t('action.record_follow_up'));
  const form = h(
    'form',
    { class: 'edit-form follow-up-form', novalidate: true },
    h(
      'p',
      { class: 'action-line' },
      h('strong', null, a.description),
      ' · ',
      t('action.due', { date: fmtDate(a.due_on) }),
      a.overdue ? h('span', { class: 'badge badge-danger' }, t('case.overdue')) : null,
      a.agreed_in_dialogue ? h('span', { class: 'badge' }, t('action.agreed')) : null,
    ),
    errors.alert,
    h('div', { class: 'field-row' }, fields.result.wrapper, fields.postponed_to.wrapper, fields.note.wrapper),
    h('div', { class: 'form-actions' }, submit),
  );
  form.setAttribute('aria-label', t('action.follow_up', { description: a.description }));
  if (notice) errors.success(notice);
  onCaseWrite(
    form,
    submit,
    errors,
    state,
    `follow-up-${a.id}`,
    (stored) => [
      [t('action.result'), fields.result.control.value ? t(`action.result.${fields.result.control.value}` as 'action.result.FOLLOW_UP_DONE') : '', ''],
      [t('action.note'), fields.note.control.value, ''],
      [t('action.heading'), actionsText(c), actionsText(stored)],
    ],
    async (baseVersion) => {
      const updated = await call<Case>('CaseService', 'FollowUpAction', {
        case_ref: c.case_ref,
        base_version: baseVersion,
        action_id: a.id,
        result: fields.result.control.value || 'FOLLOW_UP_RESULT_UNSPECIFIED',
        postponed_to: fields.postponed_to.control.value,
        note: fields.note.control.value,
        idempotency_key: idempotencyKey(),
      });
      state.applied(updated, 'action', t('action.followed_up'));
    },
  );
  return form;
}

function newActionForm(c: Case, options: EditorOptions, state: EditorState, notice?: string): HTMLElement {
  const fields: Record<string, Field> = {
    description: field(t('action.description'), h('input', { type: 'text', name: 'description', maxlength: 500 })),
    due_on: field(t('action.due_on'), h('input', { type: 'date', name: 'due_on', min: today() })),
  };
  const errors = new FormErrors(fields);
  const submit = h('button', { type: 'submit', class: 'secondary' }, t('action.add'));
  const form = h(
    'form',
    { class: 'edit-form new-action-form', 'aria-label': `${t('action.new')} ${c.case_ref}`, novalidate: true },
    h('h3', null, t('action.new')),
    errors.alert,
    h('div', { class: 'field-row' }, fields.description.wrapper, fields.due_on.wrapper),
    h('div', { class: 'form-actions' }, submit),
  );
  if (notice) errors.success(notice);
  onCaseWrite(
    form,
    submit,
    errors,
    state,
    'new-action',
    (stored) => [
      [t('action.new'), `${fields.description.control.value}${fields.due_on.control.value ? ` (${fmtDate(fields.due_on.control.value)})` : ''}`, ''],
      [t('action.heading'), actionsText(c), actionsText(stored)],
    ],
    async (baseVersion) => {
      const updated = await call<Case>('CaseService', 'AddAction', {
        case_ref: c.case_ref,
        base_version: baseVersion,
        description: fields.description.control.value,
        due_on: fields.due_on.control.value,
        agreed_in_dialogue: !!options.agreedInDialogue,
        idempotency_key: idempotencyKey(),
      });
      state.applied(updated, 'action', t('action.added'));
    },
  );
  return form;
}

// ---- The job centre's own fields ----

/** A field's value in words. */
export function fieldValueText(definition: CaseField | undefined, v: FieldValue | undefined): string {
  if (!v) return '';
  if (v.bool_value !== undefined) return v.bool_value ? t('common.yes') : t('common.no');
  if (v.number_value !== undefined) return new Intl.NumberFormat(document.documentElement.lang === 'en' ? 'en-GB' : 'da-DK').format(v.number_value);
  if (v.choice_value !== undefined) return v.choice_value;
  if (v.date_value !== undefined) return fmtDate(v.date_value);
  return definition ? '' : '';
}

function fieldControl(f: CaseField, v: FieldValue | undefined): Control {
  const name = `fields[${f.code}]`;
  switch (f.type) {
    case 'BOOL':
      return select(name, [['true', t('common.yes')], ['false', t('common.no')]], v?.bool_value === undefined ? '' : String(v.bool_value), t('fields.not_set'));
    case 'NUMBER':
      return h('input', { type: 'number', name, step: 'any', inputmode: 'decimal', value: v?.number_value === undefined ? '' : String(v.number_value) });
    case 'CHOICE':
      return select(name, f.choices.map((choice) => [choice, choice]), v?.choice_value ?? '', t('fields.not_set'));
    case 'DATE':
      return h('input', { type: 'date', name, value: v?.date_value ?? '' });
    default:
      return h('input', { type: 'text', name, disabled: true });
  }
}

function fieldsForm(c: Case, state: EditorState, notice?: string): HTMLElement {
  const definitions = ctx().catalogue.fields.filter((f) => f.active).sort((a, b) => a.sort_order - b.sort_order);
  const fields: Record<string, Field> = {};
  for (const f of definitions) fields[`fields[${f.code}]`] = field(label(f, f.code), fieldControl(f, c.fields[f.code]));
  const errors = new FormErrors(fields);
  const submit = h('button', { type: 'submit', class: 'secondary' }, t('fields.save'));
  const form = h(
    'form',
    { class: 'edit-form fields-form', 'aria-label': `${t('case.fields')} ${c.case_ref}`, novalidate: true, 'data-testid': 'fields-form' },
    h('h2', null, t('case.fields')),
    errors.alert,
    h('div', { class: 'field-row' }, Object.values(fields).map((f) => f.wrapper)),
    h('div', { class: 'form-actions' }, submit),
  );
  if (notice) errors.success(notice);
  const text = (f: CaseField) => {
    const control = fields[`fields[${f.code}]`].control;
    if (!control.value) return '';
    if (f.type === 'BOOL') return control.value === 'true' ? t('common.yes') : t('common.no');
    if (f.type === 'DATE') return fmtDate(control.value);
    return control.value;
  };
  onCaseWrite(
    form,
    submit,
    errors,
    state,
    'fields',
    (stored) => definitions.map((f): Compared => [label(f, f.code), text(f), fieldValueText(f, stored.fields[f.code])]),
    async (baseVersion) => {
      const set: Record<string, FieldValue> = {};
      const clear: string[] = [];
      for (const f of definitions) {
        const value = fields[`fields[${f.code}]`].control.value.trim();
        if (!value) {
          if (c.fields[f.code]) clear.push(f.code);
          continue;
        }
        if (f.type === 'BOOL') set[f.code] = { bool_value: value === 'true' };
        else if (f.type === 'NUMBER') set[f.code] = { number_value: Number(value.replace(',', '.')) };
        else if (f.type === 'CHOICE') set[f.code] = { choice_value: value };
        else if (f.type === 'DATE') set[f.code] = { date_value: value };
      }
      const updated = await call<Case>('CaseService', 'SetCaseFields', {
        case_ref: c.case_ref,
        base_version: baseVersion,
        fields: set,
        clear_fields: clear,
        idempotency_key: idempotencyKey(),
      });
      state.applied(updated, 'fields', t('fields.saved'));
    },
  );
  return form;
}

// ---- Close, reopen, re-assign ----

function caseActions(c: Case, state: EditorState, notice?: { where: string; message: string }): HTMLElement {
  const say = (where: string) => (notice?.where === where ? notice.message : undefined);
  return h(
    'section',
    { class: 'case-actions', 'aria-label': `${t('caseaction.heading')} ${c.case_ref}`, 'data-testid': 'case-actions' },
    h('h2', null, t('caseaction.heading')),
    c.status === 'OPEN' ? closeForm(c, state, say('close')) : reopenForm(c, state, say('reopen')),
    c.status === 'OPEN' && canReassign(c) ? reassignForm(c, state, say('reassign')) : null,
  );
}

function statusText(c: Case): string {
  return c.status === 'CLOSED' ? `${t('case.status.CLOSED')} ${fmtDate(c.closed_on)}: ${outcomeLabel(c.closure_outcome)}` : `${t('case.status.OPEN')} · ${staffName(c.caseworker)}`;
}

function closeForm(c: Case, state: EditorState, notice?: string): HTMLElement {
  const fields: Record<string, Field> = {
    outcome: field(
      t('caseaction.close.outcome'),
      select('outcome', active(ctx().catalogue.outcomes).map((o) => [o.code, label(o, o.code)]), c.expectation?.expected_outcome ?? '', t('common.choose')),
    ),
    closed_on: field(t('caseaction.close.on'), h('input', { type: 'date', name: 'closed_on', value: today(), max: today() })),
  };
  const errors = new FormErrors(fields);
  const submit = h('button', { type: 'submit', class: 'secondary' }, t('caseaction.close'));
  const form = h(
    'form',
    { class: 'edit-form close-form', 'aria-label': t('caseaction.close.label', { ref: c.case_ref }), novalidate: true },
    h('h3', null, t('caseaction.close')),
    errors.alert,
    h('div', { class: 'field-row' }, fields.outcome.wrapper, fields.closed_on.wrapper),
    h('div', { class: 'form-actions' }, submit),
  );
  if (notice) errors.success(notice);
  onCaseWrite(
    form,
    submit,
    errors,
    state,
    'close',
    (stored) => [[t('case.status'), `${t('case.status.CLOSED')} ${fmtDate(fields.closed_on.control.value)}: ${outcomeLabel(fields.outcome.control.value)}`, statusText(stored)]],
    async (baseVersion) => {
      const updated = await call<Case>('CaseService', 'CloseCase', {
        case_ref: c.case_ref,
        base_version: baseVersion,
        closed_on: fields.closed_on.control.value,
        outcome: fields.outcome.control.value,
        idempotency_key: idempotencyKey(),
      });
      state.applied(updated, 'reopen', t('caseaction.closed'));
    },
  );
  return form;
}

function reopenForm(c: Case, state: EditorState, notice?: string): HTMLElement {
  const fields: Record<string, Field> = {
    reopened_on: field(t('caseaction.reopen.on'), h('input', { type: 'date', name: 'reopened_on', value: today(), max: today() })),
  };
  const errors = new FormErrors(fields);
  const submit = h('button', { type: 'submit', class: 'secondary' }, t('caseaction.reopen'));
  const form = h(
    'form',
    { class: 'edit-form reopen-form', 'aria-label': t('caseaction.reopen.label', { ref: c.case_ref }), novalidate: true },
    h('h3', null, t('caseaction.reopen')),
    errors.alert,
    h('div', { class: 'field-row' }, fields.reopened_on.wrapper),
    h('div', { class: 'form-actions' }, submit),
  );
  if (notice) errors.success(notice);
  onCaseWrite(
    form,
    submit,
    errors,
    state,
    'reopen',
    (stored) => [[t('case.status'), `${t('case.status.OPEN')} ${fmtDate(fields.reopened_on.control.value)}`, statusText(stored)]],
    async (baseVersion) => {
      const updated = await call<Case>('CaseService', 'ReopenCase', {
        case_ref: c.case_ref,
        base_version: baseVersion,
        reopened_on: fields.reopened_on.control.value,
        idempotency_key: idempotencyKey(),
      });
      state.applied(updated, 'close', t('caseaction.reopened'));
    },
  );
  return form;
}

function reassignForm(c: Case, state: EditorState, notice?: string): HTMLElement {
  const fields: Record<string, Field> = {
    to_caseworker: field(t('caseaction.reassign.to'), select('to_caseworker', reassignTargets(c), '', t('common.choose'))),
    on: field(t('caseaction.reassign.on'), h('input', { type: 'date', name: 'on', value: today(), max: today() })),
  };
  const errors = new FormErrors(fields);
  const submit = h('button', { type: 'submit', class: 'secondary' }, t('caseaction.reassign'));
  const form = h(
    'form',
    { class: 'edit-form reassign-form', 'aria-label': t('caseaction.reassign.label', { ref: c.case_ref }), novalidate: true },
    h('h3', null, t('caseaction.reassign')),
    errors.alert,
    h('div', { class: 'field-row' }, fields.to_caseworker.wrapper, fields.on.wrapper),
    h('div', { class: 'form-actions' }, submit),
  );
  if (notice) errors.success(notice);
  onCaseWrite(
    form,
    submit,
    errors,
    state,
    'reassign',
    (stored) => [[t('case.caseworker'), fields.to_caseworker.control.value ? staffName(fields.to_caseworker.control.value) : '', staffName(stored.caseworker)]],
    async (baseVersion) => {
      const updated = await call<Case>('CaseService', 'ReassignCase', {
        case_ref: c.case_ref,
        base_version: baseVersion,
        to_caseworker: fields.to_caseworker.control.value,
        on: fields.on.control.value,
        idempotency_key: idempotencyKey(),
      });
      state.applied(updated, 'reassign', t('caseaction.reassigned', { name: staffName(updated.caseworker) }));
    },
  );
  return form;
}
