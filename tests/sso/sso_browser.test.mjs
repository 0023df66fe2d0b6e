// Single sign-on in headless Chromium, end to end: the whole stack (tests/e2e/stack.mjs), a real
// OpenID provider (oidc-provider, tests/sso/idp.mjs) registered for the job centre with
// forecast-admin, and a person who clicks "Log ind med Kommunens login", signs in at the provider
// and lands on their dashboard. Refused: a user whose claim names no staff member, an inactive
// staff member, and a replayed callback (state).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CENTRE, root, startStack, stopStack } from '../e2e/stack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(root, 'clients/web/package.json'));
const { chromium } = require('playwright-core');
const screenshots = path.join(root, 'test-artifacts/screenshots');

const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--lang=da-DK'];
const USERS = [
  { username: 'anna@kommune.test', password: 'anna-secret-1', claims: { preferred_username: 'cw1', name: 'Anna' } },
  { username: 'ukendt@kommune.test', password: 'ukendt-secret-1', claims: { preferred_username: 'nobody', name: 'Ukendt' } },
  { username: 'gammel@kommune.test', password: 'gammel-secret-1', claims: { preferred_username: 'old1', name: 'Gammel' } },
];

let stack;
let idp;
let browser;
let dir;

function startIdp(redirectUri, usersFile) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 'idp.mjs'), '--client-id', 'forecast-e2e',
      '--redirect-uri', redirectUri, '--users', usersFile, '--alg', 'ES256'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`idp did not start:\n${output}`)), 30000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /^issuer (\S+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, issuer: match[1] });
      }
    });
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`idp exited with ${code}:\n${output}`)); });
  });
}

function admin(args) {
  return execFileSync(process.env.FORECAST_ADMIN_BIN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

before(async () => {
  stack = await startStack();
  dir = mkdtempSync(path.join(tmpdir(), 'forecast-sso-'));
  const usersFile = path.join(dir, 'users.json');
  writeFileSync(usersFile, JSON.stringify(USERS));
  idp = await startIdp(`${stack.url}/auth/oidc/callback`, usersFile);
  admin(['add-staff', '--db', stack.conninfo, '--job-centre', CENTRE, '--code', 'old1', '--name', 'Gammel Medarbejder',
    '--role', 'CASEWORKER', '--team', 'T1', '--inactive']);
  admin(['add-identity-provider', '--db', stack.conninfo, '--job-centre', CENTRE, '--code', 'kommune',
    '--name', 'Kommunens login', '--issuer', idp.issuer, '--client-id', 'forecast-e2e', '--claim', 'preferred_username']);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close();
  idp?.child.kill('SIGTERM');
  if (stack) await stopStack(stack);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Clicks the provider's button on the login page and signs in at the provider as `user`. */
async function signInThroughProvider(page, user, atProvider = async () => {}) {
  await page.goto(`${stack.url}/`);
  await page.getByLabel('Jobcenter (kode)').fill(CENTRE);
  await page.getByLabel('Medarbejderkode').focus(); // leaving the field loads the centre's providers
  await page.getByRole('link', { name: 'Log ind med Kommunens login' }).click();
  await page.waitForURL(`${idp.issuer}/**`);
  await atProvider();
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function newPage() {
  const context = await browser.newContext({ locale: 'da-DK' });
  context.setDefaultTimeout(60000);
  return { context, page: await context.newPage() };
}

test('a caseworker signs in through the municipality provider and lands on their dashboard', async () => {
  const { context, page } = await newPage();
  try {
    let callback;
    let attemptCookie;
    // Playwright routes do not see redirects, so the callback is taken from the request events.
    page.on('request', (request) => {
      if (request.url().startsWith(`${stack.url}/auth/oidc/callback`)) callback = request.url();
    });
    await signInThroughProvider(page, USERS[0], async () => {
      attemptCookie = (await context.cookies(`${stack.url}/auth/oidc/callback`)).find((c) => c.name === 'forecast_oidc_attempt');
    });
    await page.getByTestId('whoami').waitFor();
    assert.match(await page.getByTestId('whoami').textContent(), /cw1|Anna/);
    const session = await page.evaluate(async () => (await fetch('/api/session')).status);
    assert.equal(session, 200);
    assert.ok(callback && attemptCookie, 'the callback and its attempt cookie were seen');

    // The same callback again, even with the attempt cookie put back, is refused: each state is
    // good for one sign-in.
    await page.evaluate(() => fetch('/api/logout', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }));
    await context.addCookies([attemptCookie]);
    await page.goto(callback);
    await page.waitForURL(/\/\?sso=refused$|\/$/);
    await page.getByText('Log ind gennem kommunens login blev afvist', { exact: false }).waitFor();
    assert.equal(await page.evaluate(async () => (await fetch('/api/session')).status), 401);
  } finally {
    await context.close();
  }
});

for (const [user, why] of [[USERS[1], 'a claim that names no staff member'], [USERS[2], 'an inactive staff member']]) {
  test(`single sign-on is refused for ${why}`, async () => {
    const { context, page } = await newPage();
    try {
      await signInThroughProvider(page, user);
      await page.getByText('Log ind gennem kommunens login blev afvist', { exact: false }).waitFor();
      assert.equal(await page.evaluate(async () => (await fetch('/api/session')).status), 401);
      if (user === USERS[1]) {
        await page.getByRole('link', { name: 'Log ind med Kommunens login' }).waitFor();
        mkdirSync(screenshots, { recursive: true });
        await page.screenshot({ path: path.join(screenshots, 'sso-login-refused.png'), fullPage: true });
      }
    } finally {
      await context.close();
    }
  });
}
