// verify (and doctor, which reuses its checks) on a real hot standby: the catalog checks run and pass on a read
// replica; --behavioural and doctor's primary-only checks say they need the primary instead of mistaking
// read-only errors for working controls.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { OwnCluster, startOwnCluster, urlForDatabase, withClient } from '../../support/postgres';
import { applySet, migrationSet, MigrationSet, settingsFor } from '../../fixtures/validate/migration-sets';
import { verifyDatabase } from '../../../src/verify';
import { resolvePostgresTarget, runDoctor } from '../../../src/doctor';

let primary: OwnCluster;
let set: MigrationSet;
let standbyUrl: string;
let stopStandby: () => Promise<void>;

beforeAll(async () => {
  primary = await startOwnCluster();
  set = migrationSet();
  await withClient(primary.url, (c) => c.query('CREATE DATABASE caracal'));
  await applySet(set.dir, urlForDatabase(primary.url, 'caracal'));
  await primary.stop(); // a clean shutdown: the copy is consistent at once
  const child = spawn(process.execPath, [path.join(__dirname, 'standby-main.mjs'), JSON.stringify({ sourceDataDir: primary.dataDir })], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  standbyUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line).url);
    });
    void exited.then(() => reject(new Error(`standby exited: ${stderr.slice(-2000)}`)));
  });
  stopStandby = async () => {
    child.stdin.write('exit\n');
    await exited;
  };
}, 120_000);

afterAll(async () => {
  await stopStandby?.();
  await primary?.destroy();
  set?.remove();
});

test('GIVEN a hot standby of a migrated database WHEN verify runs there THEN it is in recovery and every catalog check passes', async () => {
  const url = urlForDatabase(standbyUrl, 'caracal');
  const inRecovery = await withClient(url, (c) => c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r'));
  const report = await verifyDatabase(settingsFor(url), { dir: set.dir });
  expect(inRecovery.rows[0].r).toBe(true);
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  expect(report.checks).toHaveLength(19);
  // The backup role's read (SET LOCAL ROLE, row_security off) works on a standby too.
  expect(report.checks.find((c) => c.id === 'backup-role-reads')?.summary).toMatch(/^as caracal_backup \(SET ROLE/);
});

test('GIVEN a hot standby WHEN verify --behavioural runs there THEN the probes are not run and the check says they need the primary', async () => {
  const report = await verifyDatabase(settingsFor(urlForDatabase(standbyUrl, 'caracal')), { dir: set.dir, behavioural: true });
  const behavioural = report.checks.find((c) => c.id === 'behavioural');
  expect(behavioural?.ok).toBe(false);
  expect(behavioural?.summary).toMatch(/read replica/);
  expect(report.ok).toBe(false);
});

test('GIVEN a hot standby WHEN doctor runs there THEN the replica-safe database checks pass and the advisory lock and RLS probes say they need the primary', async () => {
  const u = new URL(urlForDatabase(standbyUrl, 'caracal'));
  u.searchParams.set('sslmode', 'disable');
  const report = await runDoctor({
    postgres: resolvePostgresTarget({ HOME: set.dir }, { databaseUrl: u.toString() }),
    dir: set.dir,
    rows: ['migration-job-fails', 'audit-queries-slow', 'rls-errors'],
  });
  const checks = report.rows.flatMap((r) => r.checks);
  expect(report.serverRole).toBe('replica');
  expect(checks.filter((c) => c.status !== 'ok').map((c) => [c.id, c.summary])).toEqual([
    ['lock', 'skipped: the server is a read replica, and this check needs the primary'],
    ['rls-probe', 'skipped: the server is a read replica, and this check needs the primary'],
  ]);
});
