// Editing a case in place: the expectation in force, new actions and follow-ups of open ones.
// Every write carries the case's version (base_version); the service's validation message is
// shown next to the field it names, and a stale version offers a reload instead of overwriting.
import { ApiError, call, idempotencyKey } from './api';
import { errorText } from './components';
import { active, ctx } from './context';
import { h, uid } from './dom';
import { date as fmtDate, today } from './format';
import { label, t } from './i18n';
import { localizeProblem } from './localize';
import type { Action, Case } from './types';

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
    if (error instanceof ApiError && error.code === 'INVALID_ARGUMENT' && error.field && this.fields[error.field]) {
      const f = this.fields[error.field];
      const problem = localizeProblem(error.problem);
      f.error.textContent = problem.text;
      f.error.lang = problem.lang;
      f.control.setAttribute('aria-invalid', 'true');
      f.control.focus();
      return;
    }
    this.alert.className = 'form-alert alert alert-error';
    if (error instanceof ApiError && error.code === 'ABORTED') {
      this.alert.append(
        h('p', { 'data-testid': 'conflict' }, t('conflict.message')),
        onConflict ? h('button', { type: 'button', onclick: onConflict }, t('conflict.reload')) : '',
      );
      return;
    }
    this.alert.append(h('p', null, errorText(error)));
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
  compact?: boolean;
}

/** The whole in-place editor for one case; re-renders itself after each write. */
export function caseEditor(initial: Case, options: EditorOptions = {}): HTMLElement {
  const container = h('div', { class: 'case-editor', 'data-testid': `editor-${initial.case_ref}` });
  let current = initial;
  let notice: { where: 'expectation' | 'action' | string; message: string } | undefined;

  const reload = async () => {
    try {
      current = await call<Case>('CaseService', 'GetCase', { case_ref: current.case_ref });
      notice = undefined;
      options.onChange?.(current);
      render();
    } catch (error) {
      container.prepend(h('div', { class: 'alert alert-error', role: 'alert' }, errorText(error)));
    }
  };
  const applied: Applied = (updated, where, message) => {
    current = updated;
    notice = { where, message };
    options.onChange?.(updated);
    render();
  };

  function render(): void {
    const hadFocus = container.contains(document.activeElement);
    container.replaceChildren(
      expectationForm(current, options, applied, reload, notice?.where === 'expectation' ? notice.message : undefined),
      actionsSection(current, options, applied, reload, notice),
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

function expectationForm(
  c: Case,
  options: EditorOptions,
  applied: Applied,
  reload: () => void,
  notice?: string,
): HTMLElement {
  const e = c.expectation;
  const catalogue = ctx().catalogue;
  const fields: Record<string, Field> = {
    expected_outcome: field(
      t('expectation.outcome'),
      select('expected_outcome', active(catalogue.outcomes).map((o) => [o.code, label(o, o.code)]), e?.expected_outcome ?? '', t('common.choose')),
    ),
    expected_month: field(
      t('expectation.month'),
      h('input', { type: 'month', name: 'expected_month', value: e?.expected_month ?? '', placeholder: 'YYYY-MM' }),
    ),
    risk: field(
      t('expectation.risk'),
      select('risk', active(catalogue.risks).map((r) => [r.code, label(r, r.code)]), e?.risk ?? '', t('common.choose')),
    ),
    note: field(t('expectation.note'), h('textarea', { name: 'note', rows: 2, maxlength: 2000 })),
  };
  const errors = new FormErrors(fields);
  const agreed = h('input', { type: 'checkbox', name: 'agreed_in_dialogue', checked: !!options.agreedInDialogue });
  const agreedId = uid('agreed');
  agreed.id = agreedId;
  const submit = h('button', { type: 'submit' }, t('expectation.save'));
  const form = h(
    'form',
    { class: 'edit-form expectation-form', 'aria-label': `${t('expectation.heading')} ${c.case_ref}`, novalidate: true },
    h('h2', null, t('expectation.heading')),
    errors.alert,
    h('div', { class: 'field-row' }, fields.expected_outcome.wrapper, fields.expected_month.wrapper, fields.risk.wrapper),
    fields.note.wrapper,
    h('div', { class: 'field-check' }, agreed, h('label', { for: agreedId }, t('expectation.agreed'))),
    h('div', { class: 'form-actions' }, submit),
  );
  if (notice) errors.success(notice);
  onCaseWrite(form, submit, errors, reload, async () => {
    const updated = await call<Case>('CaseService', 'RecordExpectation', {
      case_ref: c.case_ref,
      base_version: c.version,
      expected_outcome: fields.expected_outcome.control.value,
      expected_month: fields.expected_month.control.value,
      risk: fields.risk.control.value,
      note: fields.note.control.value,
      agreed_in_dialogue: agreed.checked,
      dialogue_id: agreed.checked ? (options.dialogueId?.() ?? '0') : '0',
      idempotency_key: idempotencyKey(),
    });
    applied(updated, 'expectation', t('expectation.saved'));
  });
  return form;
}

function actionsSection(
  c: Case,
  options: EditorOptions,
  applied: Applied,
  reload: () => void,
  notice?: { where: string; message: string },
): HTMLElement {
  return h(
    'section',
    { class: 'actions-section', 'aria-label': `${t('action.heading')} ${c.case_ref}` },
    h('h2', null, t('action.heading')),
    c.open_actions.length === 0 ? h('p', { class: 'muted' }, t('action.none')) : null,
    c.open_actions.map((a) => followUpForm(c, a, applied, reload, notice?.where === `action-${a.id}` ? notice.message : undefined)),
    newActionForm(c, options, applied, reload, notice?.where === 'action' ? notice.message : undefined),
  );
}

function followUpForm(
  c: Case,
  a: Action,
  applied: Applied,
  reload: () => void,
  notice?: string,
): HTMLElement {
  const results: Array<[string, string]> = (['FOLLOW_UP_DONE', 'FOLLOW_UP_NOT_DONE', 'FOLLOW_UP_POSTPONED'] as const).map((r) => [
    r,
    t(`action.result.${r}`),
  ]);
  const fields: Record<string, Field> = {
    result: field(t('action.result'), select('result', results, '', t('common.choose'))),
    postponed_to: field(t('action.postponed_to'), h('input', { type: 'date', name: 'postponed_to' })),
    note: field(t('action.note'), h('input', { type: 'text', name: 'note', maxlength: 2000 })),
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
  onCaseWrite(form, submit, errors, reload, async () => {
    const updated = await call<Case>('CaseService', 'FollowUpAction', {
      case_ref: c.case_ref,
      base_version: c.version,
      action_id: a.id,
      result: fields.result.control.value || 'FOLLOW_UP_RESULT_UNSPECIFIED',
      postponed_to: fields.postponed_to.control.value,
      note: fields.note.control.value,
      idempotency_key: idempotencyKey(),
    });
    applied(updated, 'action', t('action.followed_up'));
  });
  return form;
}

function newActionForm(
  c: Case,
  options: EditorOptions,
  applied: Applied,
  reload: () => void,
  notice?: string,
): HTMLElement {
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
  onCaseWrite(form, submit, errors, reload, async () => {
    const updated = await call<Case>('CaseService', 'AddAction', {
      case_ref: c.case_ref,
      base_version: c.version,
      description: fields.description.control.value,
      due_on: fields.due_on.control.value,
      agreed_in_dialogue: !!options.agreedInDialogue,
      idempotency_key: idempotencyKey(),
    });
    applied(updated, 'action', t('action.added'));
  });
  return form;
}

/** Submits a case write from `form`: the button is disabled meanwhile, and a refusal is shown by
 *  `errors` (next to its field, or as a conflict offering `reload`). */
function onCaseWrite(
  form: HTMLFormElement,
  submit: HTMLButtonElement,
  errors: FormErrors,
  reload: () => void,
  write: () => Promise<void>,
): void {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      await write();
    } catch (error) {
      errors.show(error, reload);
    } finally {
      submit.disabled = false;
    }
  });
}
