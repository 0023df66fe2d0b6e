// The web dashboard: login, then the views of the caller's role. Plain TypeScript modules and
// Chart.js, no framework: the views are a few forms, tables and charts rebuilt from the API's
// answers, which the DOM does well on its own, and a small bundle loads fast on a job centre's
// laptops.
import './styles.css';
import { ApiError, currentSession, logout, logoutEverywhere, setUnauthenticatedHandler } from './api';
import { errorBox, link } from './components';
import { clearContext, ctx, loadContext, teamName } from './context';
import { h, replace } from './dom';
import { lang, setLang, t } from './i18n';
import { Router, type View } from './router';
import type { StaffMember } from './types';
import { accuracyView } from './views/accuracy';
import { adminView } from './views/admin';
import { caseView } from './views/case';
import { caseloadView } from './views/caseload';
import { caseworkerDashboardView } from './views/caseworker_dashboard';
import { dialogueView, myDialoguesView } from './views/dialogue';
import { openPasswordDialog } from './views/account';
import { loginView } from './views/login';
import { milestonesView, myTargetsView } from './views/milestones';
import { pipelineView } from './views/pipeline';
import { projectionView } from './views/projection';
import { teamView } from './views/team';
import { teamsView } from './views/teams';
import { variationView } from './views/variation';

const root = document.getElementById('app')!;
setLang(lang());

function translateStatic(): void {
  const skip = document.querySelector('.skip-link');
  if (skip) skip.textContent = t('app.skip');
  document.title = t('app.title');
}

let router: Router | undefined;

function homePath(me: StaffMember): string {
  if (me.role === 'CASEWORKER') return '/caseload';
  if (me.role === 'TEAM_LEADER' && me.team) return `/team/${encodeURIComponent(me.team)}`;
  if (me.role === 'ADMIN') return '/admin';
  return '/teams';
}

function navItems(me: StaffMember): Array<[string, string]> {
  const team = encodeURIComponent(me.team);
  switch (me.role) {
    case 'CASEWORKER':
      return [
        ['/caseload', t('nav.caseload')],
        ['/me', t('nav.my_dashboard')],
        ['/me/targets', t('nav.my_targets')],
        ['/me/dialogues', t('nav.my_dialogues')],
        ['/me/pipeline', t('nav.pipeline')],
        ...(me.team ? ([[`/team/${team}`, t('nav.team')]] as Array<[string, string]>) : []),
      ];
    case 'TEAM_LEADER':
      return [
        [`/team/${team}`, t('nav.team')],
        [`/caseload?team=${team}`, t('nav.caseload')],
        [`/team/${team}/projection`, t('nav.projection')],
        [`/team/${team}/variation`, t('nav.variation')],
        [`/team/${team}/milestones`, t('nav.milestones')],
        [`/team/${team}/dialogue`, t('nav.dialogue')],
        [`/accuracy?team=${team}`, t('nav.accuracy')],
      ];
    default:
      return [
        ...(me.role === 'ADMIN' ? ([['/admin', t('nav.admin')]] as Array<[string, string]>) : []),
        ['/teams', t('nav.teams')],
        ['/centre/projection', t('nav.projection')],
        ['/accuracy', t('nav.accuracy')],
      ];
  }
}

function languageButton(onChange: () => void): HTMLButtonElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'lang-toggle',
      title: t('lang.toggle.label'),
      lang: lang() === 'da' ? 'en' : 'da',
      'data-testid': 'lang-toggle',
      onclick: () => {
        setLang(lang() === 'da' ? 'en' : 'da');
        onChange();
      },
    },
    t('lang.toggle'),
  );
}

function showLogin(notice?: string): void {
  router?.clear();
  router = undefined;
  clearContext();
  translateStatic();
  replace(
    root,
    h(
      'header',
      { class: 'topbar' },
      h('span', { class: 'brand' }, t('app.title')),
      h('div', { class: 'topbar-right' }, languageButton(() => showLogin(notice))),
    ),
    h('main', { id: 'view', tabindex: '-1' }, loginView(notice, (me) => void start(me))),
  );
}

function renderShell(me: StaffMember): void {
  const nav = h('ul', { class: 'nav-list' });
  const main = h('main', { id: 'view', tabindex: '-1' });
  const org = ctx().organisation;
  translateStatic();
  replace(
    root,
    h(
      'header',
      { class: 'topbar' },
      link(homePath(me), t('app.title'), { class: 'brand' }),
      h('nav', { 'aria-label': t('nav.main'), class: 'mainnav' }, nav),
      h(
        'div',
        { class: 'topbar-right' },
        h(
          'span',
          { class: 'whoami', 'data-testid': 'whoami' },
          h('span', null, me.display_name || me.code),
          h('small', null, [t(`role.${me.role}`), me.team ? teamName(me.team) : '', org.job_centre_name].filter(Boolean).join(' · ')),
        ),
        languageButton(() => {
          renderShell(me);
          void router?.render();
        }),
        h('button', { type: 'button', class: 'secondary', 'data-testid': 'change-password', onclick: () => openPasswordDialog() }, t('nav.password')),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'data-testid': 'logout-everywhere',
            onclick: async () => {
              if (!window.confirm(t('nav.logout_everywhere.confirm'))) return;
              await logoutEverywhere().catch(() => undefined);
              history.replaceState(null, '', '/');
              showLogin();
            },
          },
          t('nav.logout_everywhere'),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: async () => {
              await logout().catch(() => undefined);
              history.replaceState(null, '', '/');
              showLogin();
            },
          },
          t('nav.logout'),
        ),
      ),
    ),
    main,
  );
}

function markCurrent(nav: HTMLElement, me: StaffMember, path: string): void {
  const here = path + location.search;
  const items = navItems(me);
  // The longest matching item is the current one (/team/T1/projection over /team/T1).
  let best = '';
  for (const [href] of items) {
    if ((here === href || here.startsWith(href.split('?')[0] + '/') || here.startsWith(href)) && href.length > best.length) best = href;
  }
  nav.replaceChildren(
    ...items.map(([href, text]) => h('li', null, link(href, text, href === best ? { 'aria-current': 'page' } : {}))),
  );
}

async function start(me: StaffMember): Promise<void> {
  await loadContext(me);
  renderShell(me);
  const notFound = (): View => ({
    element: h('section', null, h('h1', null, t('notfound.heading')), link(homePath(me), t('notfound.home'))),
  });
  // The shell is rebuilt on a language change, so the router looks up the outlet and menu
  // each time.
  router = new Router(
    () => document.getElementById('view') as HTMLElement,
    notFound,
    (path) => markCurrent(root.querySelector('.nav-list') as HTMLElement, me, path),
  );
  router
    .add('/', () => {
      router!.go(homePath(me), true);
      return { element: h('div') };
    })
    .add('/caseload', (_, q) => caseloadView(q))
    .add('/case/:ref', ([ref]) => caseView(ref))
    .add('/me', () => caseworkerDashboardView(me.code))
    .add('/me/targets', () => myTargetsView())
    .add('/me/dialogues', () => myDialoguesView())
    .add('/me/pipeline', (_, q) => pipelineView(me.team, q))
    .add('/caseworker/:code', ([code]) => caseworkerDashboardView(code))
    .add('/team/:team', ([team]) => teamView(team))
    .add('/team/:team/projection', ([team], q) => projectionView({ kind: 'TEAM', code: team }, q))
    .add('/centre/projection', (_, q) => projectionView({ kind: 'JOB_CENTRE', code: '' }, q))
    .add('/team/:team/variation', ([team], q) => variationView(team, q))
    .add('/team/:team/milestones', ([team]) => milestonesView(team))
    .add('/team/:team/dialogue', ([team], q) => dialogueView(team, q))
    .add('/team/:team/pipeline', ([team], q) => pipelineView(team, q))
    .add('/teams', (_, q) => teamsView(q))
    .add('/accuracy', (_, q) => accuracyView(q))
    .add('/admin', () => (me.role === 'ADMIN' ? adminView() : notFound()));
  if (location.pathname === '/' || location.pathname === '/login') router.go(homePath(me), true);
  else await router.render();
}

setUnauthenticatedHandler(() => showLogin(t('login.expired')));

/** No answer from the server at all: say so (in the user's language) and offer to try again,
 *  rather than showing the login page as if the session had ended. */
function showUnreachable(): void {
  translateStatic();
  replace(
    root,
    h('header', { class: 'topbar' }, h('span', { class: 'brand' }, t('app.title')), h('div', { class: 'topbar-right' }, languageButton(showUnreachable))),
    h('main', { id: 'view', tabindex: '-1' }, errorBox(new ApiError(0, 'UNREACHABLE', ''), () => void boot())),
  );
}

async function boot(): Promise<void> {
  let me: StaffMember | undefined;
  try {
    me = await currentSession<StaffMember>();
  } catch {
    showUnreachable();
    return;
  }
  try {
    if (me) await start(me);
    else showLogin();
  } catch (error) {
    replace(root, h('main', { id: 'view', tabindex: '-1' }, errorBox(error, () => void boot())));
  }
}

void boot();
