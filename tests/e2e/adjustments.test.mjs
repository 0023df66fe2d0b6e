// Forecast adjustments in the browser (issue 11): a team leader sets an adjusted figure for a
// month with a reason on the projection page and sees it beside the calibrated model's figure,
// the model's figure unchanged, and the history listing it; a missing reason is refused by name
// and stores nothing; the accuracy page shows the adjusted series. Against the real stack
// (stack.mjs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { monthFrom, root, signIn, startStack, stopStack } from './stack.mjs';

const require = createRequire(path.join(root, 'clients/web/package.json'));
const { chromium } = require('playwright-core');

const screenshots = path.join(root, 'test-artifacts/screenshots');
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--lang=da-DK'];
const CONTEXT = { viewport: { width: 1440, height: 900 }, locale: 'da-DK' };

let stack;
let browser;
const pageErrors = [];

before(async () => {
  mkdirSync(screenshots, { recursive: true });
  stack = await startStack();
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close();
  if (stack) await stopStack(stack);
  assert.deepEqual(pageErrors, []);
});

/** A new browser session logged in as `staff` (the login form, as a person would). */
const loginAs = (staff) => signIn(browser, stack, staff, CONTEXT, pageErrors);

test('a team leader sets an adjustment with a reason and sees it beside the unchanged model figure', async () => {
  const { context, page } = await loginAs('tl1');
  try {
    const target = monthFrom(stack.today, 1);
    await page.goto(`${stack.url}/team/T1/projection`);
    const modelCell = page.getByTestId(`closures-CALIBRATED-${target}`);
    await modelCell.waitFor();
    const section = page.getByTestId('adjustments');
    const model = section.getByTestId(`adjust-model-${target}-ALL`);
    await model.waitFor();
    const modelBefore = (await model.textContent()) ?? '';
    const cellBefore = ((await modelCell.textContent()) ?? '').trim();
    assert.equal((await section.getByTestId(`adjust-value-${target}-ALL`).textContent())?.trim(), '–');
    await section.getByRole('columnheader', { name: 'Kalibreret model' }).waitFor();
    await section.getByRole('columnheader', { name: 'Justeret', exact: true }).waitFor();

    // Without a reason: refused by name, nothing stored.
    const form = section.getByTestId('adjust-form');
    await form.getByTestId('adjust-month').selectOption(target);
    await form.getByTestId('adjust-figure').fill('12.5');
    await form.getByRole('button', { name: 'Gem justering' }).click();
    await form.locator('.field-error', { hasText: 'skal udfyldes' }).waitFor();
    assert.equal((await section.getByTestId(`adjust-value-${target}-ALL`).textContent())?.trim(), '–');

    // With a reason: shown beside the model's figure, which is unchanged.
    await form.getByLabel('Begrundelse').fill('To virksomhedsaftaler starter i måneden');
    await form.getByRole('button', { name: 'Gem justering' }).click();
    await form.getByText('Justeringen er gemt.').waitFor();
    const adjusted = section.getByTestId(`adjust-value-${target}-ALL`);
    await page.waitForFunction((id) => document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() === '12,5', `adjust-value-${target}-ALL`);
    assert.equal((await adjusted.textContent())?.trim(), '12,5');
    assert.equal(await model.textContent(), modelBefore);
    await section.getByText('To virksomhedsaftaler starter i måneden').first().waitFor();

    // The history lists it: who, from, to, why.
    const history = section.getByTestId('adjust-history');
    const row = history.getByTestId('adjust-history-row').first();
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    assert.match(text, /12,5/);
    assert.match(text, /To virksomhedsaftaler/);

    // Reloaded, the model's figure in the projection table is what it was, the adjustment beside it.
    await page.reload();
    await page.getByTestId(`adjusted-${target}`).waitFor();
    const cellAfter = ((await modelCell.textContent()) ?? '').trim();
    assert.ok(cellAfter.startsWith(cellBefore), `${cellAfter} should still start with ${cellBefore}`);
    assert.match((await page.getByTestId(`adjusted-${target}`).textContent()) ?? '', /Justeret: 12,5/);
    await page.getByTestId('adjustments').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(screenshots, '20-adjustment-beside-model.png'), fullPage: true });

    // A second edit supersedes the first; the history has both, newest first.
    const again = page.getByTestId('adjustments').getByTestId('adjust-form');
    await again.getByTestId('adjust-month').selectOption(target);
    await again.getByTestId('adjust-figure').fill('11');
    await again.getByLabel('Begrundelse').fill('Den ene aftale er udskudt');
    await again.getByRole('button', { name: 'Gem justering' }).click();
    await again.getByText('Justeringen er gemt.').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="adjust-history-row"]').length === 2);
    const newest = (await page.getByTestId('adjust-history-row').first().textContent()) ?? '';
    assert.match(newest, /12,5/);
    assert.match(newest, /11/);

    // The accuracy page reports the adjusted series beside the calibrated one.
    await page.goto(`${stack.url}/accuracy?team=T1`);
    await page.getByTestId('accuracy-table').getByText('Justeret (teamets eget tal)').waitFor();
    await page.getByTestId('accuracy-adjusted').waitFor();
  } finally {
    await context.close();
  }
});

test('a caseworker sees the adjustments but no form to set them', async () => {
  const { context, page } = await loginAs('cw1');
  try {
    await page.goto(`${stack.url}/team/T1/projection`);
    await page.getByTestId('adjustments-table').waitFor();
    assert.equal(await page.getByTestId('adjust-form').count(), 0);
  } finally {
    await context.close();
  }
});
