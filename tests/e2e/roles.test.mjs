// Every role's screens in the web app (issue 13), in headless Chromium against the real stack:
// - the administrator's catalogue and field screens, and no edit buttons on cases;
// - the administrator's departments, teams, staff (set-up code, deactivation), milestones and
//   audit trail; the new colleague's first sign-in with the code;
// - a caseworker sets the job centre's own field on a case; cannot tick "agreed in dialogue";
// - a team leader re-assigns, closes and reopens a case;
// - a conflict shows the user's version beside the stored one, and the user's is kept;
// - logging in again after an expired session returns to the form with the input intact (a
//   case's and the administrator's);
// - every view in Danish has no English words (outside an allow-list) and no raw codes;
// - the caseload, the case page, the editor and the changes (pipeline) fit a 390 px phone
//   without sideways scrolling;
// - a view the user may not see ends in a Danish error, not "Henter…";
// - CSV and Excel exports of the caseload, projection and milestones; the live line is paused in a
//   historical view; with no answer from the server, a Danish "cannot reach the server";
// - axe finds no serious problem in either language.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CENTRE, PASSWORD, day, monthFrom, root, startStack, stopStack } from './stack.mjs';

const require = createRequire(path.join(root, 'clients/web/package.json'));
const { chromium } = require('playwright-core');
const axeScript = require.resolve('axe-core/axe.min.js');

const screenshots = path.join(root, 'test-artifacts/screenshots');
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--lang=da-DK'];
const DESKTOP = { viewport: { width: 1440, height: 900 }, locale: 'da-DK', bypassCSP: true };
const PHONE = { viewport: { width: 390, height: 844 }, locale: 'da-DK', bypassCSP: true, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

let stack;
let browser;
const pageErrors = [];
const accessibilityProblems = [];

before(async () => {
  mkdirSync(screenshots, { recursive: true });
  stack = await startStack();
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close();
  if (stack) await stopStack(stack);
});

async function fillLogin(page, staff, lang = 'da') {
  const labels = lang === 'en'
    ? ['Job centre (code)', 'Staff code', 'Password', 'Log in']
    : ['Jobcenter (kode)', 'Medarbejderkode', 'Adgangskode', 'Log ind'];
  await page.getByLabel(labels[0]).fill(CENTRE);
  await page.getByLabel(labels[1]).fill(staff);
  await page.getByLabel(labels[2], { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: labels[3], exact: true }).click();
  await page.getByTestId('whoami').waitFor();
}

async function loginAs(staff, options = DESKTOP, lang = 'da') {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(60000);
  if (lang === 'en') await context.addInitScript(() => localStorage.setItem('lang', 'en'));
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${staff}: ${error.message}`));
  await page.goto(`${stack.url}/`);
  await fillLogin(page, staff, lang);
  return { context, page };
}

async function settle(page) {
  await page.waitForFunction(() => !document.querySelector('main .loading'), null, { timeout: 30000 });
  await page.waitForTimeout(300);
}

async function axe(page, name) {
  await page.addScriptTag({ path: axeScript });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  for (const v of result.violations) {
    if (v.impact === 'serious' || v.impact === 'critical') {
      accessibilityProblems.push(`${name}: ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }
  }
}

async function shot(page, name) {
  await settle(page);
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
  await axe(page, name);
}

function getCase(page, ref) {
  return page.evaluate(async (caseRef) => {
    const response = await fetch('/api/CaseService/GetCase', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ case_ref: caseRef }) });
    return response.json();
  }, ref);
}

function callApi(page, method, body) {
  return page.evaluate(async ([m, b]) => {
    const response = await fetch(`/api/CaseService/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) });
    return { status: response.status, body: await response.json() };
  }, [method, body]);
}

// ---- The Danish scan ----

// Words that betray English in a Danish page. Words both languages share (team, status, live,
// version, model, note) are not listed.
const ENGLISH = new Set(
  'the and of with is are was not found may read that scope expected outcome month months risk high low medium case cases caseworker calibrated baseline closes close closed open opened recorded since still later action actions overdue days ago agreed dialogue none no yes loading error something went wrong failed unknown projection as planned dashboard milestones target actual projected on track team leader management centre manager save cancel edit choose all total because which their this these those would could should has been being from into onto within without between'
    .split(' '),
);
// Words that look English but are Danish, names or product terms.
// "Brier-score" is named once, in brackets, as the technical term behind the plain word.
const ALLOW = new Set(['brier', 'score', 'live', 'team', 'status', 'version', 'model', 'note', 'n', 'e2e', 'nord', 'syd', 'chef', 'anna', 'bo', 'carl', 'dorte', 'erik', 'is', 'risk']);
// "is" and "risk" are allowed only as parts of Danish words; whole-word hits are checked below.
ALLOW.delete('is');
ALLOW.delete('risk');

async function danishProblems(page) {
  return page.evaluate(([english, allow]) => {
    const englishWords = new Set(english);
    const allowed = new Set(allow);
    const problems = [];
    const main = document.querySelector('main') ?? document.body;
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest('[lang="en"], code, script, style, [hidden], .visually-hidden-ok')) continue;
      if (parent.closest('details:not([open])') && !parent.closest('summary')) continue;
      const text = node.textContent ?? '';
      for (const word of text.toLowerCase().match(/[a-zæøå]+/g) ?? []) {
        if (englishWords.has(word) && !allowed.has(word)) problems.push(`English "${word}" in "${text.trim().slice(0, 80)}"`);
      }
      // Raw codes: SCREAMING_SNAKE words such as OTHER_BENEFIT or FOLLOW_UP_DONE.
      for (const code of text.match(/\b[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+\b/g) ?? []) problems.push(`code ${code} in "${text.trim().slice(0, 80)}"`);
    }
    // Labels of controls and options count too.
    for (const el of main.querySelectorAll('option, [aria-label], [title]')) {
      if (el.closest('[lang="en"]')) continue;
      const text = [el.getAttribute('aria-label'), el.getAttribute('title'), el.tagName === 'OPTION' ? el.textContent : ''].filter(Boolean).join(' ');
      for (const code of text.match(/\b[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+\b/g) ?? []) problems.push(`code ${code} in label "${text.slice(0, 80)}"`);
    }
    return problems;
  }, [[...ENGLISH], [...ALLOW]]);
}

async function scan(page, url, ready, name, problems) {
  await page.goto(`${stack.url}${url}`);
  await page.getByTestId(ready).first().waitFor();
  await settle(page);
  // Open every "how it is computed" so that its text is scanned too.
  await page.evaluate(() => document.querySelectorAll('main details').forEach((d) => (d.open = true)));
  for (const p of await danishProblems(page)) problems.push(`${name} (${url}): ${p}`);
  await axe(page, `${name}-da`);
}

test('every view in Danish: no English words, no raw codes, no waiting for ever; axe clean in both languages', async () => {
  const worker = await loginAs('cw1');
  const leader = await loginAs('tl1');
  const manager = await loginAs('mgr1');
  const admin = await loginAs('ADM1');
  const problems = [];
  try {
    await scan(worker.page, '/caseload', 'caseload-table', 'caseload', problems);
    await scan(worker.page, '/me', 'stat-open', 'my-dashboard', problems);
    await scan(worker.page, '/me/targets', 'my-targets', 'my-targets', problems);
    await scan(worker.page, '/me/dialogues', 'no-dialogues', 'my-dialogues', problems);
    await scan(worker.page, '/me/pipeline', 'waterfall-3-table', 'my-pipeline', problems);
    await scan(worker.page, '/case/E-004', 'case-facts', 'case', problems);
    await worker.page.getByTestId('case-reasons').waitFor();
    for (const p of await danishProblems(worker.page)) problems.push(`case reasons: ${p}`);
    await scan(leader.page, '/team/T1', 'team-rows', 'team', problems);
    await scan(leader.page, '/team/T1/projection', 'projection-table', 'projection', problems);
    await scan(leader.page, '/team/T1/variation', 'variation-table', 'variation', problems);
    await scan(leader.page, '/team/T1/milestones', 'milestones', 'milestones', problems);
    await scan(leader.page, '/team/T1/pipeline', 'waterfall-3-table', 'pipeline', problems);
    await scan(leader.page, '/team/T1/pipeline?caseworker=cw1', 'waterfall-12-table', 'pipeline-caseworker', problems);
    await scan(leader.page, '/team/T1/dialogue?caseworker=cw1', 'agenda-E-010', 'dialogue', problems);
    await leader.page.getByTestId('open-dialogue').click();
    await leader.page.getByTestId('notes-form').waitFor();
    for (const p of await danishProblems(leader.page)) problems.push(`dialogue draft: ${p}`);
    await scan(leader.page, '/accuracy?team=T1', 'accuracy-table', 'accuracy', problems);
    await scan(manager.page, '/teams', 'teams-table', 'teams', problems);
    await scan(manager.page, '/centre/projection', 'projection-table', 'centre-projection', problems);
    await scan(admin.page, '/admin', 'admin-metric-table', 'admin', problems);

    // A view the user may not see ends in a Danish error, not "Henter…" for ever.
    await worker.page.goto(`${stack.url}/team/T2`);
    const refused = worker.page.getByTestId('error');
    await refused.waitFor();
    assert.match((await refused.textContent()) ?? '', /Du har ikke adgang/);
    await worker.page.goto(`${stack.url}/case/NO-SUCH`);
    assert.match((await worker.page.getByTestId('error').textContent()) ?? '', /Sag NO-SUCH findes ikke/);
    // A refused write is phrased from the service's details, in Danish.
    const e004 = await getCase(worker.page, 'E-004');
    const refusedWrite = await callApi(worker.page, 'RecordExpectation', { case_ref: 'E-004', base_version: e004.version, expected_outcome: 'EDUCATION', expected_month: '2026-13', risk: 'LOW' });
    assert.equal(refusedWrite.body.field, 'expected_month');
    assert.equal(refusedWrite.body.reason, 'NOT_A_MONTH');
  } finally {
    for (const s of [worker, leader, manager, admin]) await s.context.close();
  }
  assert.deepEqual(problems, [], 'Danish views without English or codes');

  // English is complete as the second language, and axe is clean there too.
  const english = await loginAs('tl1', DESKTOP, 'en');
  try {
    for (const [url, ready, name] of [
      ['/team/T1', 'team-rows', 'team-en'],
      ['/team/T1/projection', 'projection-table', 'projection-en'],
      ['/team/T1/pipeline', 'waterfall-3-table', 'pipeline-en'],
      ['/caseload?team=T1', 'caseload-table', 'caseload-en'],
      ['/case/E-004', 'case-facts', 'case-en'],
    ]) {
      await english.page.goto(`${stack.url}${url}`);
      await english.page.getByTestId(ready).waitFor();
      await settle(english.page);
      await axe(english.page, name);
    }
    assert.equal(await english.page.evaluate(() => document.documentElement.lang), 'en');
  } finally {
    await english.context.close();
  }
  // The administrator's page in English: every section in English, forms open, axe clean.
  const englishAdmin = await loginAs('ADM1', DESKTOP, 'en');
  try {
    await englishAdmin.page.goto(`${stack.url}/admin`);
    await englishAdmin.page.getByTestId('admin-change-table').waitFor();
    await settle(englishAdmin.page);
    await englishAdmin.page.evaluate(() => document.querySelectorAll('main details').forEach((d) => (d.open = true)));
    for (const heading of ['Organisation', 'Staff', 'Milestones', 'Latest changes', 'New staff member', 'New milestone']) {
      assert.ok(await englishAdmin.page.getByText(heading, { exact: true }).first().isVisible(), `English admin page shows "${heading}"`);
    }
    await axe(englishAdmin.page, 'admin-en');
  } finally {
    await englishAdmin.context.close();
  }
  assert.deepEqual(accessibilityProblems, [], 'no serious accessibility problems');
});

test('the administrator edits the catalogue and adds a field; sees no edit buttons on cases', async () => {
  const admin = await loginAs('ADM1');
  try {
    await admin.page.waitForURL(/\/admin$/);
    await admin.page.getByTestId('admin-RISK').waitFor();
    await shot(admin.page, '20-admin');
    // A new field of the job centre's own, a yes/no.
    await admin.page.getByTestId('admin-FIELDS').getByText('Nyt felt').click();
    const form = admin.page.getByRole('form', { name: 'Nyt felt' });
    await form.getByLabel('Kode').fill('has_cv');
    await form.getByLabel('Betegnelse på dansk').fill('Har CV');
    await form.getByLabel('Betegnelse på engelsk').fill('Has a CV');
    await form.getByRole('button', { name: 'Gem' }).click();
    await admin.page.getByTestId('admin-row-has_cv').waitFor();
    // A bad risk probability is named next to its field, in Danish.
    await admin.page.getByTestId('admin-RISK').getByText('Nyt risikoniveau').click();
    const risk = admin.page.getByRole('form', { name: 'Nyt risikoniveau' });
    await risk.getByLabel('Kode').fill('VERY_HIGH');
    await risk.getByLabel('Betegnelse på dansk').fill('Meget høj');
    await risk.getByLabel('Betegnelse på engelsk').fill('Very high');
    await risk.getByLabel('Sandsynlighed for at forventningen holder').fill('3');
    await risk.getByRole('button', { name: 'Gem' }).click();
    await risk.locator('input[name="probability"][aria-invalid="true"]').waitFor();
    assert.match((await risk.locator('.field-error:not(:empty)').textContent()) ?? '', /skal være et tal fra 0 til 1/);
    // Cases: administrators configure, they do not read cases (issue 8's rules): a Danish refusal,
    // no edit buttons.
    await admin.page.goto(`${stack.url}/case/E-004`);
    await admin.page.getByTestId('error').first().waitFor();
    assert.equal(await admin.page.getByRole('button', { name: /Gem|Redigér|Luk sagen/ }).count(), 0);
    await admin.page.goto(`${stack.url}/caseworker/cw1`);
    await admin.page.getByTestId('error').first().waitFor();
    assert.equal(await admin.page.getByRole('button', { name: /Redigér sag/ }).count(), 0);
  } finally {
    await admin.context.close();
  }

  // The caseworker fills the new field in on her case; the case page shows it by its label.
  const worker = await loginAs('cw1');
  try {
    await worker.page.goto(`${stack.url}/case/E-004`);
    const fields = worker.page.getByTestId('fields-form');
    await fields.getByLabel('Har CV').selectOption('true');
    await fields.getByRole('button', { name: 'Gem felter' }).click();
    await worker.page.getByText('Felterne er gemt.').waitFor();
    assert.match((await worker.page.getByTestId('case-fields').textContent()) ?? '', /Har CV: Ja/);
    const stored = await getCase(worker.page, 'E-004');
    assert.equal(stored.fields.has_cv.bool_value, true);
    // "Agreed in dialogue" is not the caseworker's to tick: no box, and the service refuses it.
    assert.equal(await worker.page.getByLabel('Aftalt i dialog med teamleder').count(), 0);
    const refused = await callApi(worker.page, 'RecordExpectation', {
      case_ref: 'E-004', base_version: stored.version, expected_outcome: 'EDUCATION', expected_month: monthFrom(stack.today, 3), risk: 'LOW', agreed_in_dialogue: true,
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.reason, 'AGREED_NEEDS_TEAM_LEADER');
  } finally {
    await worker.context.close();
  }
});

test('the administrator sets up departments, teams, staff and milestones; a new colleague signs in with the one-time code', async () => {
  const admin = await loginAs('ADM1');
  let setupCode = '';
  try {
    const page = admin.page;
    await page.goto(`${stack.url}/admin`);
    await page.getByTestId('admin-metric-table').waitFor();
    const org = page.getByTestId('admin-org');
    // A department, then a team in it; a bad code is named next to its field, in Danish.
    await org.getByText('Ny afdeling', { exact: true }).click();
    const dept = page.getByRole('form', { name: 'Ny afdeling' });
    await dept.getByLabel('Kode').fill('VEST');
    await dept.getByLabel('Navn').fill('Afdeling Vest');
    await dept.getByRole('button', { name: 'Gem' }).click();
    await page.getByTestId('admin-unit-VEST').waitFor();
    await org.getByText('Nyt team', { exact: true }).click();
    const team = page.getByRole('form', { name: 'Nyt team' });
    await team.getByLabel('Kode').fill('bad code');
    await team.getByLabel('Navn').fill('Team Vest');
    await team.getByLabel('Afdeling', { exact: true }).selectOption('VEST');
    await team.getByRole('button', { name: 'Gem' }).click();
    await team.locator('input[name="code"][aria-invalid="true"]').waitFor();
    assert.match((await team.locator('.field-error:not(:empty)').textContent()) ?? '', /er ikke en gyldig kode/);
    await team.getByLabel('Kode').fill('T3');
    await team.getByRole('button', { name: 'Gem' }).click();
    await page.getByTestId('admin-unit-T3').waitFor();
    assert.match((await page.getByTestId('admin-unit-T3').textContent()) ?? '', /Team Vest.*Afdeling Vest/);
    // Move team T2 into the new department.
    await page.getByTestId('admin-unit-T2').getByRole('button', { name: 'Redigér Team Syd' }).click();
    const t2 = page.getByTestId('unit-form-T2');
    await t2.getByLabel('Afdeling', { exact: true }).selectOption('VEST');
    await t2.getByRole('button', { name: 'Gem' }).click();
    await page.waitForFunction(() => /Afdeling Vest/.test(document.querySelector('[data-testid="admin-unit-T2"]')?.textContent ?? ''));

    // A new caseworker: without a team she is refused in Danish; with one she is saved.
    const staffSection = page.getByTestId('admin-staff-section');
    await staffSection.getByText('Ny medarbejder', { exact: true }).click();
    const add = page.getByRole('form', { name: 'Ny medarbejder' });
    await add.getByLabel('Medarbejderkode').fill('cw9');
    await add.getByLabel('Navn').fill('Frida Sagsbehandler');
    await add.getByLabel('Rolle').selectOption('CASEWORKER');
    await add.getByRole('button', { name: 'Gem' }).click();
    await add.locator('select[name="team"][aria-invalid="true"]').waitFor();
    assert.match((await add.locator('.field-error:not(:empty)').textContent()) ?? '', /skal høre til et team/);
    await add.getByLabel('Team', { exact: true }).selectOption('T3');
    // The session ends before she saves: logging in again brings the form back as typed.
    await admin.context.clearCookies();
    await add.getByRole('button', { name: 'Gem' }).click();
    await page.getByText('Din session er udløbet. Log ind igen.').waitFor();
    await fillLogin(page, 'ADM1');
    const again = page.getByRole('form', { name: 'Ny medarbejder' });
    await again.waitFor();
    assert.equal(await again.getByLabel('Medarbejderkode').inputValue(), 'cw9');
    assert.equal(await again.getByLabel('Navn').inputValue(), 'Frida Sagsbehandler');
    assert.equal(await again.getByLabel('Team', { exact: true }).inputValue(), 'T3');
    await again.getByRole('button', { name: 'Gem' }).click();
    await page.getByTestId('admin-staff-cw9').waitFor();
    // Saved: the draft is dropped, so the next new colleague's form starts empty.
    const next = page.getByTestId('staff-form-new');
    assert.equal(await next.locator('input[name="code"]').inputValue(), '');
    assert.equal(await next.isVisible(), false);
    // Her one-time code, shown once.
    await page.getByRole('button', { name: 'Giv Frida Sagsbehandler en engangskode' }).click();
    const shown = page.getByTestId('setup-code-cw9').locator('code');
    await shown.waitFor();
    setupCode = (await shown.textContent()) ?? '';
    assert.match(setupCode, /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    // Carl has left: deactivated.
    await page.getByTestId('admin-staff-cw3').getByRole('button', { name: 'Redigér Carl Sagsbehandler' }).click();
    const carl = page.getByTestId('staff-form-cw3');
    await carl.getByLabel('Aktiv').uncheck();
    await carl.getByRole('button', { name: 'Gem' }).click();
    await page.waitForFunction(() => /Nej/.test(document.querySelector('[data-testid="admin-staff-cw3"]')?.textContent ?? ''));
    // The only administrator cannot demote herself: a Danish refusal, nothing changes.
    await page.getByTestId('admin-staff-ADM1').getByRole('button', { name: 'Redigér Administrator' }).click();
    const me = page.getByTestId('staff-form-ADM1');
    await me.getByLabel('Rolle').selectOption('MANAGER');
    await me.getByRole('button', { name: 'Gem' }).click();
    await me.locator('.field-error:not(:empty)').waitFor();
    assert.match((await me.locator('.field-error:not(:empty)').textContent()) ?? '', /sidste aktive administrator/);

    // A milestone: "set to yes" needs a field; the caseload kind does not.
    const metrics = page.getByTestId('admin-metrics');
    await metrics.getByText('Ny milepæl', { exact: true }).click();
    const metric = page.getByRole('form', { name: 'Ny milepæl' });
    await metric.getByLabel('Kode').fill('sagsstamme_vest');
    await metric.getByLabel('Betegnelse på dansk').fill('Sagsstamme i Vest');
    await metric.getByLabel('Hvad tælles').selectOption('FIELD_TURNED_TRUE');
    await metric.getByRole('button', { name: 'Gem' }).click();
    await metric.locator('select[name="field_code"][aria-invalid="true"]').waitFor();
    await metric.getByLabel('Hvad tælles').selectOption('CASELOAD');
    await metric.getByLabel('Lavere er bedre (fx sagsstammen)').check();
    await metric.getByRole('button', { name: 'Gem' }).click();
    await page.getByTestId('admin-metric-sagsstamme_vest').waitFor();

    // The audit trail shows these changes, newest first, with who made them.
    await page.reload();
    await page.getByTestId('admin-change-table').waitFor();
    const trail = (await page.getByTestId('admin-change-table').textContent()) ?? '';
    for (const expected of ['sagsstamme_vest', 'cw3', 'cw9', 'T3', 'VEST', 'Administrator', 'Milepæl', 'Medarbejder']) {
      assert.ok(trail.includes(expected), `the trail names ${expected}: ${trail.slice(0, 400)}`);
    }
    await shot(page, '21-admin-organisation');
  } finally {
    await admin.context.close();
  }

  // Frida chooses her password with the code and lands in her own caseload.
  const context = await browser.newContext(DESKTOP);
  context.setDefaultTimeout(60000);
  try {
    const page = await context.newPage();
    await page.goto(`${stack.url}/`);
    await page.getByTestId('setup-link').click();
    const form = page.getByTestId('setup-form');
    await form.getByLabel('Jobcenter (kode)').fill(CENTRE);
    await form.getByLabel('Medarbejderkode').fill('cw9');
    await form.getByLabel('Engangskode').fill(setupCode);
    await form.getByLabel('Ny adgangskode', { exact: true }).fill('fridas-password-1');
    await form.getByLabel('Gentag ny adgangskode').fill('fridas-password-1');
    await form.getByRole('button', { name: 'Gem adgangskode og log ind' }).click();
    await page.getByTestId('whoami').waitFor();
    assert.match((await page.getByTestId('whoami').textContent()) ?? '', /Frida Sagsbehandler/);
  } finally {
    await context.close();
  }

  // Carl, deactivated, can no longer sign in.
  const gone = await browser.newContext(DESKTOP);
  try {
    const page = await gone.newPage();
    await page.goto(`${stack.url}/`);
    await page.getByLabel('Jobcenter (kode)').fill(CENTRE);
    await page.getByLabel('Medarbejderkode').fill('cw3');
    await page.getByLabel('Adgangskode', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log ind', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: /./ }).first().waitFor();
    assert.equal(await page.getByTestId('whoami').count(), 0);
  } finally {
    await gone.close();
  }

  // On a phone the administrator's page does not scroll sideways (wide tables scroll inside).
  const phone = await loginAs('ADM1', PHONE);
  try {
    await phone.page.goto(`${stack.url}/admin`);
    await phone.page.getByTestId('admin-change-table').waitFor();
    await settle(phone.page);
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    const offenders = await phone.page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
        .filter((el) => !el.parentElement?.closest('.table-wrap'))
        .slice(0, 8)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}[${el.getAttribute('data-testid') ?? ''}] (${Math.round(el.getBoundingClientRect().right)} px)`)
        .join(', '),
    );
    assert.ok(overflow <= 0, `the admin page scrolls sideways by ${overflow} px: ${offenders}`);
    await shot(phone.page, '33-phone-admin');
  } finally {
    await phone.context.close();
  }
});

test('a team leader re-assigns a case within the team, closes it and reopens it', async () => {
  const leader = await loginAs('tl1');
  try {
    await leader.page.goto(`${stack.url}/case/E-007`);
    const actions = leader.page.getByTestId('case-actions');
    await actions.waitFor();
    const reassign = leader.page.getByRole('form', { name: 'Flyt sag E-007 til en anden sagsbehandler' });
    // Only the own team's caseworkers are offered (cw3 is in T2).
    const offered = await reassign.getByLabel('Ny sagsbehandler').locator('option').allTextContents();
    assert.ok(offered.includes('Bo Sagsbehandler'), offered.join(', '));
    assert.ok(!offered.some((o) => o.includes('Carl')), offered.join(', '));
    await reassign.getByLabel('Ny sagsbehandler').selectOption('cw2');
    await reassign.getByRole('button', { name: 'Flyt sagen' }).click();
    await leader.page.getByText('Sagen er flyttet til Bo Sagsbehandler.').waitFor();
    assert.equal((await getCase(leader.page, 'E-007')).caseworker, 'cw2');

    const close = leader.page.getByRole('form', { name: 'Luk sag E-007' });
    await close.getByLabel('Udfald').selectOption('EDUCATION');
    await close.getByRole('button', { name: 'Luk sagen' }).click();
    await leader.page.getByText('Sagen er lukket.').waitFor();
    assert.equal((await getCase(leader.page, 'E-007')).status, 'CLOSED');
    await shot(leader.page, '21-team-leader-closed-case');

    await leader.page.getByRole('form', { name: 'Genåbn sag E-007' }).getByRole('button', { name: 'Genåbn sagen' }).click();
    await leader.page.getByText('Sagen er genåbnet.').waitFor();
    assert.equal((await getCase(leader.page, 'E-007')).status, 'OPEN');
  } finally {
    await leader.context.close();
  }
});

test('a conflict shows my version beside the stored one, and mine can be kept', async () => {
  const worker = await loginAs('cw1');
  try {
    await worker.page.getByRole('button', { name: 'Redigér sag E-013' }).click();
    const editor = worker.page.getByTestId('editor-E-013');
    const mine = monthFrom(stack.today, 5);
    await editor.getByLabel('Tidshorisont (måned)').fill(mine);
    await editor.getByLabel('Note', { exact: true }).fill('Min vurdering efter samtalen');
    // Someone else changes the case meanwhile.
    const current = await getCase(worker.page, 'E-013');
    await callApi(worker.page, 'RecordExpectation', { case_ref: 'E-013', base_version: current.version, expected_outcome: 'EDUCATION', expected_month: monthFrom(stack.today, 4), risk: 'HIGH', note: 'Den andens ændring' });
    await editor.getByRole('button', { name: 'Gem forventning' }).click();
    const table = editor.getByTestId('conflict-table');
    await table.waitFor();
    assert.match((await table.textContent()) ?? '', /Min vurdering efter samtalen/);
    assert.match((await table.textContent()) ?? '', /Den andens ændring/);
    await shot(worker.page, '22-conflict-merge');
    await editor.getByRole('button', { name: 'Gem min version' }).click();
    await editor.getByText('Forventningen er gemt.').waitFor();
    const saved = await getCase(worker.page, 'E-013');
    assert.equal(saved.expectation.expected_month, mine);
    assert.equal(saved.expectation.note, 'Min vurdering efter samtalen');
  } finally {
    await worker.context.close();
  }
});

test('logging in again after an expired session returns to the form with the input intact', async () => {
  const worker = await loginAs('cw1');
  try {
    await worker.page.getByRole('button', { name: 'Redigér sag E-016' }).click();
    const editor = worker.page.getByTestId('editor-E-016');
    await editor.getByLabel('Note', { exact: true }).fill('Skrevet før sessionen udløb');
    await editor.getByLabel('Tidshorisont (måned)').fill(monthFrom(stack.today, 3));
    // The session ends (as when it expires on the server).
    await worker.context.clearCookies();
    await editor.getByRole('button', { name: 'Gem forventning' }).click();
    await worker.page.getByRole('heading', { name: 'Log ind' }).waitFor();
    await worker.page.getByText('Din session er udløbet. Log ind igen.').waitFor();
    await fillLogin(worker.page, 'cw1');
    const again = worker.page.getByTestId('editor-E-016');
    await again.waitFor();
    assert.equal(await again.getByLabel('Note', { exact: true }).inputValue(), 'Skrevet før sessionen udløb');
    await again.getByRole('button', { name: 'Gem forventning' }).click();
    await again.getByText('Forventningen er gemt.').waitFor();
    assert.equal((await getCase(worker.page, 'E-016')).expectation.note, 'Skrevet før sessionen udløb');
  } finally {
    await worker.context.close();
  }
});

test('exports as CSV and Excel; the live line tells the truth; no server answers in Danish', async () => {
  const leader = await loginAs('tl1');
  try {
    const page = leader.page;
    // The caseload as CSV (with a BOM for Excel, Danish headings, the team's cases) and as Excel.
    await page.goto(`${stack.url}/caseload?team=T1`);
    await page.getByTestId('caseload-table').waitFor();
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').first().click()]);
    assert.match(csv.suggestedFilename(), /\.csv$/);
    const csvText = readFileSync(await csv.path(), 'utf8');
    assert.ok(csvText.startsWith('\ufeff'), 'a BOM, so Excel reads UTF-8');
    assert.match(csvText, /E-001/);
    assert.doesNotMatch(csvText.split('\n')[0], /case_ref|caseworker/, 'headings in Danish');
    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-xlsx').first().click()]);
    assert.match(xlsx.suggestedFilename(), /\.xlsx$/);
    assert.equal(readFileSync(await xlsx.path()).subarray(0, 2).toString('latin1'), 'PK', 'an Excel workbook (zip)');
    // The projection and the milestones export too.
    for (const [url, ready] of [['/team/T1/projection', 'projection-table'], ['/team/T1/milestones', 'milestones']]) {
      await page.goto(`${stack.url}${url}`);
      await page.getByTestId(ready).first().waitFor();
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').first().click()]);
      assert.ok(readFileSync(await file.path(), 'utf8').split('\n').length > 2, `${url}: rows exported`);
    }

    // Live while showing today; paused (not "live") in a historical view; live again after.
    await page.goto(`${stack.url}/team/T1/projection`);
    const live = page.getByTestId('live-status');
    await page.waitForFunction(() => document.querySelector('[data-testid="live-status"]')?.getAttribute('data-state') === 'live');
    await page.getByLabel('Som det så ud pr.').fill(day(new Date(Date.now() - 30 * 86400000)));
    await page.getByLabel('Som det så ud pr.').dispatchEvent('change');
    await page.waitForFunction(() => document.querySelector('[data-testid="live-status"]')?.getAttribute('data-state') === 'paused');
    assert.match((await live.textContent()) ?? '', /pause/);
    await page.getByLabel('Som det så ud pr.').fill('');
    await page.getByLabel('Som det så ud pr.').dispatchEvent('change');
    await page.waitForFunction(() => document.querySelector('[data-testid="live-status"]')?.getAttribute('data-state') === 'live');

    // With no answer from the server: a Danish "cannot reach the server", not the login page and
    // not "Henter…" for ever - on a fresh start and on moving to another view.
    await page.route('**/api/**', (route) => route.abort('internetdisconnected'));
    await page.getByRole('link', { name: 'Variation' }).click();
    await page.getByText('Kan ikke nå serveren').first().waitFor();
    await page.reload();
    await page.getByText('Kan ikke nå serveren').first().waitFor();
    assert.equal(await page.getByLabel('Adgangskode', { exact: true }).count(), 0, 'no login page');
    await page.unroute('**/api/**');
  } finally {
    await leader.context.close();
  }
});

test('phones: caseload, case page, editor and changes fit 390 px without sideways scrolling', async () => {
  const worker = await loginAs('cw1', PHONE);
  const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  // What sticks out, for the failure message.
  const offenders = (page) =>
    page.evaluate(() =>
      [...document.querySelectorAll('main *')]
        .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
        .slice(0, 5)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)} px)`)
        .join(', '),
    );
  try {
    await worker.page.getByTestId('caseload-table').waitFor();
    await settle(worker.page);
    assert.equal(await worker.page.locator('details.filters-toggle').evaluate((d) => d.open), false, 'filters folded away');
    assert.ok((await overflow(worker.page)) <= 0, `caseload scrolls sideways by ${await overflow(worker.page)} px: ${await offenders(worker.page)}`);
    await shot(worker.page, '30-phone-caseload');
    await worker.page.getByRole('button', { name: 'Redigér sag E-001' }).click();
    await worker.page.getByTestId('editor-E-001').waitFor();
    assert.ok((await overflow(worker.page)) <= 0, `editor scrolls sideways by ${await overflow(worker.page)} px: ${await offenders(worker.page)}`);
    await shot(worker.page, '31-phone-editor');
    await worker.page.goto(`${stack.url}/case/E-004`);
    await worker.page.getByTestId('case-explanation-chart').waitFor();
    await settle(worker.page);
    assert.ok((await overflow(worker.page)) <= 0, `case page scrolls sideways by ${await overflow(worker.page)} px: ${await offenders(worker.page)}`);
    await shot(worker.page, '32-phone-case');
    await worker.page.goto(`${stack.url}/me/pipeline`);
    await worker.page.getByTestId('waterfall-12-table').waitFor();
    await settle(worker.page);
    assert.ok((await overflow(worker.page)) <= 0, `changes scroll sideways by ${await overflow(worker.page)} px: ${await offenders(worker.page)}`);
    await shot(worker.page, '33-phone-pipeline');
  } finally {
    await worker.context.close();
  }
  assert.deepEqual(pageErrors, [], 'no script errors in any page');
});
