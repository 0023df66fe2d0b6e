// Account pages around the password: the first password from a one-time set-up code, changing
// the password, and the Danish wording of every sign-in error (429 with the time to wait, 403,
// 400 naming a field, the gateway unreachable).
import { ApiError, changePassword, redeemSetupCode } from '../api';
import { h, uid } from '../dom';
import { t, type MessageKey } from '../i18n';
import type { StaffMember } from '../types';

/** The message for a failed sign-in call; `refused` is the wording for 401. */
export function signInError(error: unknown, refused: MessageKey): string {
  if (!(error instanceof ApiError)) return t('login.failed', { message: String((error as Error)?.message ?? error) });
  if (error.status === 429 || error.code === 'RESOURCE_EXHAUSTED') {
    return error.retryAfter ? t('login.throttled', { seconds: error.retryAfter }) : t('login.throttled_later');
  }
  if (error.status === 401 || error.code === 'UNAUTHENTICATED') return t(refused);
  if (error.status === 403) return t('login.forbidden');
  if (error.status === 0 || error.status === 502 || error.status === 503 || error.status === 504) return t('login.unavailable');
  if (error.code === 'INVALID_ARGUMENT') {
    const labels: Record<string, MessageKey> = { job_centre: 'login.job_centre', staff_code: 'login.staff_code' };
    const field = error.field ?? '';
    if (labels[field]) return t('login.invalid_field', { field: t(labels[field]) });
    if (field === 'new_password') return t('setup.too_short');
    return t('login.missing');
  }
  return t('login.failed', { message: error.message });
}

function field(label: string, input: HTMLInputElement): HTMLElement {
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
}

function passwordInput(name: string, autocomplete: string): HTMLInputElement {
  return h('input', { id: uid(name), name, type: 'password', autocomplete, required: true });
}

/** The set-up code form: job centre, staff code, code, new password twice; signs in. */
export function setupCodeView(onLoggedIn: (me: StaffMember) => void, onBack: () => void): HTMLElement {
  const centre = h('input', { id: uid('centre'), name: 'job_centre', autocomplete: 'organization', required: true, value: localStorage.getItem('job_centre') ?? '' });
  const staff = h('input', { id: uid('staff'), name: 'staff_code', autocomplete: 'username', required: true });
  const code = h('input', { id: uid('code'), name: 'setup_code', autocomplete: 'one-time-code', required: true });
  const password = passwordInput('new_password', 'new-password');
  const repeat = passwordInput('repeat_password', 'new-password');
  const alert = h('div', { role: 'alert' });
  const submit = h('button', { type: 'submit' }, t('setup.submit'));
  const back = h('button', { type: 'button', class: 'link-button', onclick: onBack }, t('setup.back'));
  const form = h(
    'form',
    { class: 'login-form', 'aria-labelledby': 'setup-heading', 'data-testid': 'setup-form' },
    h('h1', { id: 'setup-heading' }, t('setup.heading')),
    h('p', { class: 'muted' }, t('setup.intro')),
    alert,
    field(t('login.job_centre'), centre),
    field(t('login.staff_code'), staff),
    field(t('setup.code'), code),
    field(t('setup.new_password'), password),
    field(t('setup.repeat'), repeat),
    h('div', { class: 'form-actions' }, submit, back),
  );
  const fail = (message: string) => {
    alert.className = 'alert alert-error';
    alert.textContent = message;
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (password.value.length < 12) return fail(t('setup.too_short'));
    if (password.value !== repeat.value) return fail(t('setup.mismatch'));
    submit.disabled = true;
    try {
      const me = await redeemSetupCode<StaffMember>(centre.value.trim(), staff.value.trim(), code.value.trim(), password.value);
      localStorage.setItem('job_centre', centre.value.trim());
      onLoggedIn(me);
    } catch (error) {
      fail(signInError(error, 'setup.refused'));
    } finally {
      submit.disabled = false;
    }
  });
  return h('div', { class: 'login-page' }, form);
}

/** A dialog to change the signed-in person's password. */
export function openPasswordDialog(): void {
  const current = passwordInput('current_password', 'current-password');
  const password = passwordInput('new_password', 'new-password');
  const repeat = passwordInput('repeat_password', 'new-password');
  const alert = h('div', { role: 'alert' });
  const submit = h('button', { type: 'submit' }, t('password.submit'));
  const dialog = h('dialog', { class: 'password-dialog', 'aria-labelledby': 'password-heading', 'data-testid': 'password-dialog' });
  const close = h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, t('password.cancel'));
  const form = h(
    'form',
    { class: 'login-form' },
    h('h2', { id: 'password-heading' }, t('password.heading')),
    alert,
    field(t('password.current'), current),
    field(t('setup.new_password'), password),
    field(t('setup.repeat'), repeat),
    h('div', { class: 'form-actions' }, submit, close),
  );
  const say = (message: string, ok: boolean) => {
    alert.className = ok ? 'alert alert-info' : 'alert alert-error';
    alert.textContent = message;
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (password.value.length < 12) return say(t('setup.too_short'), false);
    if (password.value !== repeat.value) return say(t('setup.mismatch'), false);
    submit.disabled = true;
    try {
      await changePassword(current.value, password.value);
      form.reset();
      say(t('password.done'), true);
    } catch (error) {
      say(signInError(error, 'password.refused'), false);
    } finally {
      submit.disabled = false;
    }
  });
  dialog.append(form);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  current.focus();
}
