// Log in with job centre, staff code and password; the gateway checks the staff member with
// the case service and sets the session cookie.
import { login } from '../api';
import { h, uid } from '../dom';
import { t } from '../i18n';
import type { StaffMember } from '../types';
import { setupCodeView, signInError } from './account';
import { ssoButtons, ssoNotice } from './sso';

export function loginView(notice: string | undefined, onLoggedIn: (me: StaffMember) => void): HTMLElement {
  const ids = { centre: uid('centre'), staff: uid('staff'), password: uid('password') };
  const centre = h('input', { id: ids.centre, name: 'job_centre', autocomplete: 'organization', required: true, value: localStorage.getItem('job_centre') ?? '' });
  const staff = h('input', { id: ids.staff, name: 'staff_code', autocomplete: 'username', required: true });
  const password = h('input', { id: ids.password, name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const refused = ssoNotice();
  const alert = h('div', { role: 'alert', class: refused ? 'alert alert-error' : notice ? 'alert alert-info' : '' }, refused ?? notice ?? '');
  const submit = h('button', { type: 'submit' }, t('login.submit'));
  const form = h(
    'form',
    { class: 'login-form', 'aria-labelledby': 'login-heading' },
    h('h1', { id: 'login-heading' }, t('login.heading')),
    h('p', { class: 'muted' }, t('login.intro')),
    alert,
    h('div', { class: 'field' }, h('label', { for: ids.centre }, t('login.job_centre')), centre),
    h('div', { class: 'field' }, h('label', { for: ids.staff }, t('login.staff_code')), staff),
    h('div', { class: 'field' }, h('label', { for: ids.password }, t('login.password')), password),
    h('div', { class: 'form-actions' }, submit),
    ssoButtons(centre),
  );
  const page = h('div', { class: 'login-page' }, form);
  const setupLink = h(
    'button',
    {
      type: 'button',
      class: 'link-button',
      'data-testid': 'setup-link',
      onclick: () => page.replaceChildren(setupCodeView(onLoggedIn, () => page.replaceChildren(form, setupLink))),
    },
    t('setup.link'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const me = await login<StaffMember>(centre.value.trim(), staff.value.trim(), password.value);
      localStorage.setItem('job_centre', centre.value.trim());
      onLoggedIn(me);
    } catch (error) {
      alert.className = 'alert alert-error';
      alert.textContent = signInError(error, 'login.refused');
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  queueMicrotask(() => (centre.value ? staff : centre).focus());
  page.append(setupLink);
  return page;
}
