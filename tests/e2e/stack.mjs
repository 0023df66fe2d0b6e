// Starts the whole product for a browser test: a fresh database on the FORECAST_TEST_PG server,
// migrations, a job centre with staff and their passwords (forecast-admin), a small case history
// imported with forecastctl (signed in with `forecastctl login`), and case-service,
// forecast-service and gateway on port 0, talking TLS with the keys of deploy/scripts/pki.sh.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = process.env.FORECAST_ROOT || process.env.FORECAST_SOURCE_DIR || path.resolve(here, '../..');

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run the test through CTest, see tests/e2e/CMakeLists.txt)`);
  return value;
}

export const CENTRE = 'E2E';
/** Every test staff member's password (the identity service wants at least 12 characters). */
export const PASSWORD = 'e2e-password-1234';

/** YYYY-MM-DD of `d`; YYYY-MM of the month `offset` months after `d`. */
export function day(d) {
  return d.toISOString().slice(0, 10);
}
export function monthFrom(d, offset) {
  const index = d.getUTCFullYear() * 12 + d.getUTCMonth() + offset;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}
function daysBefore(d, n) {
  return new Date(d.getTime() - n * 86400000);
}

/**
 * The job centre's history. The services date everything by the real clock (they have no
 * "today" flag), so the history is laid out relative to the day the test runs: open cases
 * expected to close in the coming months, closed cases in the past two years.
 */
export function writeHistory(dir, today) {
  const outcomes = ['ORDINARY_JOB', 'FLEX_JOB', 'EDUCATION', 'DECLARED_FIT', 'SMALL_JOB', 'OTHER_BENEFIT'];
  const risks = ['LOW', 'MEDIUM', 'HIGH'];
  const types = ['SDP', 'JAF', 'KHJ', 'KHA'];
  const owners = [
    ['T1', 'cw1'],
    ['T1', 'cw2'],
    ['T2', 'cw3'],
  ];
  const cases = ['case_ref,case_type,opened_on,team,caseworker'];
  const expectations = ['case_ref,recorded_on,recorded_by,expected_outcome,expected_month,risk'];
  const closures = ['case_ref,closed_on,outcome'];
  const actions = ['case_ref,description,owner,due_on'];
  const open = [];
  for (let i = 1; i <= 30; i++) {
    const [team, cw] = owners[(i - 1) % 3];
    const ref = `E-${String(i).padStart(3, '0')}`;
    const opened = daysBefore(today, 40 + i * 9);
    cases.push(`${ref},${types[i % 4]},${day(opened)},${team},${cw}`);
    open.push(ref);
    if (i % 10 === 0) continue; // a few cases without an expectation
    const outcome = ref === 'E-001' ? 'ORDINARY_JOB' : outcomes[(i + Math.floor(i / 3)) % outcomes.length];
    const expected = ref === 'E-001' ? monthFrom(today, 2) : monthFrom(today, 1 + (i % 6));
    const risk = ref === 'E-001' ? 'LOW' : risks[Math.floor(i / 3) % 3];
    expectations.push(`${ref},${day(daysBefore(today, 20))},${cw},${outcome},${expected},${risk}`);
    if (i % 4 === 1) actions.push(`${ref},Opfølgningssamtale,${cw},${day(new Date(today.getTime() + (5 + i) * 86400000))}`);
  }
  // Closed cases: each had an expectation while open, and closed near (not always at) it.
  for (let i = 1; i <= 45; i++) {
    const [team, cw] = owners[(i - 1) % 3];
    const ref = `C-${String(i).padStart(3, '0')}`;
    const opened = daysBefore(today, 700 - i * 9);
    const recorded = new Date(opened.getTime() + 30 * 86400000);
    const closed = new Date(opened.getTime() + (120 + (i % 7) * 25) * 86400000);
    const outcome = outcomes[i % outcomes.length];
    cases.push(`${ref},${types[i % 4]},${day(opened)},${team},${cw}`);
    expectations.push(`${ref},${day(recorded)},${cw},${outcome},${day(new Date(opened.getTime() + 130 * 86400000)).slice(0, 7)},${risks[i % 3]}`);
    closures.push(`${ref},${day(closed)},${i % 5 === 0 ? outcomes[(i + 1) % outcomes.length] : outcome}`);
  }
  writeFileSync(path.join(dir, 'cases.csv'), cases.join('\n') + '\n');
  writeFileSync(path.join(dir, 'expectations.csv'), expectations.join('\n') + '\n');
  writeFileSync(path.join(dir, 'closures.csv'), closures.join('\n') + '\n');
  writeFileSync(path.join(dir, 'actions.csv'), actions.join('\n') + '\n');
  return { open };
}

function run(bin, args, input) {
  try {
    return execFileSync(bin, args, { encoding: 'utf8', input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`${path.basename(bin)} ${args.join(' ')} failed:\n${error.stdout}\n${error.stderr}`);
  }
}

/** Starts a server and resolves with its port once it prints "... listening on HOST:PORT". */
function startServer(name, bin, args, processes) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    processes.push({ name, child });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start in time:\n${output}`)), 90000);
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on (?:http:\/\/)?[\w.:-]*:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => {
      output += chunk;
      if (process.env.E2E_VERBOSE) process.stderr.write(`[${name}] ${chunk}`);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${output}`));
    });
  });
}

function withDatabase(conninfo, name) {
  return /dbname=\S+/.test(conninfo) ? conninfo.replace(/dbname=\S+/, `dbname=${name}`) : `${conninfo} dbname=${name}`;
}

export async function startStack() {
  const adminConn = required('FORECAST_TEST_PG');
  const bins = {
    gateway: required('GATEWAY_BIN'),
    caseService: required('CASE_SERVICE_BIN'),
    forecastService: required('FORECAST_SERVICE_BIN'),
    admin: required('FORECAST_ADMIN_BIN'),
    migrate: required('FORECAST_MIGRATE_BIN'),
    ctl: required('FORECASTCTL_BIN'),
  };
  // Keys and certificates (made once; pki.sh is idempotent).
  const pkiDir = process.env.FORECAST_PKI_DIR || path.join(root, '.var/pki');
  run('bash', [path.join(root, 'deploy/scripts/pki.sh'), pkiDir]);
  const pki = (name) => path.join(pkiDir, name);
  const serviceTls = ['--tls-cert', pki('server.pem'), '--tls-key', pki('server.key'), '--tls-client-ca', pki('ca.pem'), '--token-public-key', pki('token-public.pem')];
  const web = path.join(root, 'clients/web/dist');
  if (!existsSync(path.join(web, 'index.html'))) {
    throw new Error(`${web}/index.html is missing: build the web app (cd clients/web && npm ci && npm run build)`);
  }
  const database = `e2e_${process.pid}_${randomBytes(4).toString('hex')}`;
  const conninfo = withDatabase(adminConn, database);
  const data = mkdtempSync(path.join(tmpdir(), 'forecast-e2e-'));
  const processes = [];
  const stack = { conninfo, processes, data, database, adminConn, today: new Date() };

  run('psql', [adminConn, '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${database}`]);
  try {
    run(bins.migrate, [conninfo, path.join(root, 'deploy/migrations')]);
    run(bins.admin, ['create-job-centre', '--db', conninfo, '--code', CENTRE, '--name', 'Jobcenter E2E', '--admin-code', 'ADM1', '--admin-name', 'Administrator']);
    for (const [code, name] of [['T1', 'Team Nord'], ['T2', 'Team Syd']]) {
      run(bins.admin, ['add-unit', '--db', conninfo, '--job-centre', CENTRE, '--code', code, '--name', name, '--kind', 'TEAM']);
    }
    const staff = [
      ['cw1', 'Anna Sagsbehandler', 'CASEWORKER', 'T1'],
      ['cw2', 'Bo Sagsbehandler', 'CASEWORKER', 'T1'],
      ['cw3', 'Carl Sagsbehandler', 'CASEWORKER', 'T2'],
      ['tl1', 'Dorte Teamleder', 'TEAM_LEADER', 'T1'],
      ['mgr1', 'Erik Chef', 'MANAGER', ''],
    ];
    for (const [code, name, role, team] of staff) {
      const args = ['add-staff', '--db', conninfo, '--job-centre', CENTRE, '--code', code, '--name', name, '--role', role];
      if (team) args.push('--team', team);
      run(bins.admin, args);
    }
    for (const code of ['ADM1', ...staff.map(([code]) => code)]) {
      run(bins.admin, ['set-password', '--db', conninfo, '--job-centre', CENTRE, '--code', code], `${PASSWORD}\n`);
    }
    stack.history = writeHistory(data, stack.today);

    // Each service connects as its own database role (migrations 0005, 0009-0011); the passwords
    // come from the cluster's password file, which FORECAST_TEST_PG names (deploy/scripts/pg.sh).
    const caseConn = `${conninfo} user=forecast_case_service`;
    const forecastConn = `${conninfo} user=forecast_forecast_service`;
    const casePort = await startServer('case-service', bins.caseService, ['--db', caseConn, '--port', '0', ...serviceTls, '--token-signing-key', pki('token-signing.pem')], processes);
    const caseAddr = `127.0.0.1:${casePort}`;
    const home = mkdtempSync(path.join(tmpdir(), 'forecast-e2e-home-'));
    // One stored session per staff member, signed in with the password (as a person would).
    const ctl = (staffCode, args, input) => {
      const ctlEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: home, FORECASTCTL_CONFIG: path.join(home, `${staffCode}.json`) };
      try {
        return execFileSync(bins.ctl, ['--server', caseAddr, '--ca', pki('ca.pem'), '--job-centre', CENTRE, '--staff', staffCode, ...args], { encoding: 'utf8', env: ctlEnv, input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      } catch (error) {
        throw new Error(`forecastctl ${args.join(' ')} failed:\n${error.stdout}\n${error.stderr}`);
      }
    };
    ctl('ADM1', ['login', '--password-stdin'], `${PASSWORD}\n`);
    ctl('mgr1', ['login', '--password-stdin'], `${PASSWORD}\n`);
    ctl('ADM1', ['import', '--dir', data]);
    ctl('mgr1', ['action', 'import', '--file', path.join(data, 'actions.csv')]);
    rmSync(home, { recursive: true, force: true });

    const forecastPort = await startServer('forecast-service', bins.forecastService, ['--db', forecastConn, '--port', '0', ...serviceTls], processes);
    const gatewayPort = await startServer(
      'gateway',
      bins.gateway,
      ['--port', '0', '--case', caseAddr, '--forecast', `127.0.0.1:${forecastPort}`, '--web', web, '--login', 'identity', '--ca', pki('ca.pem'), '--tls-client-cert', pki('gateway.pem'), '--tls-client-key', pki('gateway.key')],
      processes,
    );
    stack.url = `http://127.0.0.1:${gatewayPort}`;
    return stack;
  } catch (error) {
    await stopStack(stack);
    throw error;
  }
}

export async function stopStack(stack) {
  for (const { child } of [...stack.processes].reverse()) {
    if (child.exitCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timeout = new Promise((resolve) => setTimeout(resolve, 5000, 'timeout'));
    if ((await Promise.race([exited, timeout])) === 'timeout') child.kill('SIGKILL');
  }
  try {
    run('psql', [stack.adminConn, '-qAtX', '-c', `DROP DATABASE IF EXISTS ${stack.database} WITH (FORCE)`]);
  } catch (error) {
    process.stderr.write(String(error));
  }
  rmSync(stack.data, { recursive: true, force: true });
}

/**
 * A new browser session (context options `options`) logged in as `staff` of CENTRE through the
 * login form, as a person would; the page's uncaught errors are pushed onto `pageErrors`.
 */
export async function signIn(browser, stack, staff, options, pageErrors) {
  const context = await browser.newContext(options);
  // Generous: CI runs this beside other tests on two cores.
  context.setDefaultTimeout(60000);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${staff}: ${error.message}`));
  await page.goto(`${stack.url}/`);
  await page.getByLabel('Jobcenter (kode)').fill(CENTRE);
  await page.getByLabel('Medarbejderkode').fill(staff);
  await page.getByLabel('Adgangskode').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log ind' }).click();
  await page.getByTestId('whoami').waitFor();
  return { context, page };
}
