// Single sign-on on the login page: one "Log ind med <provider>" link per identity provider of
// the job centre typed in (GET /auth/oidc/providers, no session needed). A link is a plain
// navigation to /auth/oidc/start; the gateway sends the browser to the provider and back.
import { h, replace } from '../dom';
import { t } from '../i18n';

interface Provider {
  id: string;
  display_name: string;
}

async function providersOf(jobCentre: string): Promise<Provider[]> {
  if (!jobCentre) return [];
  try {
    const response = await fetch(`/auth/oidc/providers?job_centre=${encodeURIComponent(jobCentre)}`, { credentials: 'same-origin' });
    if (!response.ok) return [];
    const body = (await response.json()) as { providers?: Provider[] };
    return body.providers ?? [];
  } catch {
    return [];
  }
}

/** The provider links for the job centre in `centre`, kept up to date as it changes. */
export function ssoButtons(centre: HTMLInputElement): HTMLElement {
  const box = h('div', { class: 'sso-providers', 'data-testid': 'sso-providers' });
  let shown = '';
  const refresh = async () => {
    const code = centre.value.trim();
    if (code === shown) return;
    shown = code;
    const providers = await providersOf(code);
    if (centre.value.trim() !== code) return; // typed on meanwhile
    replace(
      box,
      providers.length === 0
        ? []
        : [
            h('p', { class: 'muted' }, t('login.sso.or')),
            ...providers.map((p) =>
              h(
                'a',
                {
                  class: 'button-link',
                  href: `/auth/oidc/start?job_centre=${encodeURIComponent(code)}&provider=${encodeURIComponent(p.id)}`,
                  onclick: () => localStorage.setItem('job_centre', code),
                },
                t('login.sso.with', { provider: p.display_name }),
              ),
            ),
          ],
    );
  };
  centre.addEventListener('change', () => void refresh());
  centre.addEventListener('blur', () => void refresh());
  queueMicrotask(() => void refresh());
  return box;
}

/** The notice after the gateway sent the browser back from a refused sign-in (/?sso=refused). */
export function ssoNotice(): string | undefined {
  const params = new URLSearchParams(location.search);
  if (params.get('sso') !== 'refused') return undefined;
  params.delete('sso');
  const rest = params.toString();
  history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : ''));
  return t('login.sso.refused');
}
