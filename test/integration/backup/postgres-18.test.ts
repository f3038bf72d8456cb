// Backup and restore on Postgres 18 with the client of the server's major: a Postgres 18 server set up the managed
// way and seeded through the services' logins is backed up by the synthesized CronJob container's exact command with
// Debian's pg_dump 18 (unstable's postgresql-client-18, unpacked by scripts/fetch-pg18-client.sh); the server is then
// gone, and a new Postgres 18 server (one at a time: never two 18 servers in this file) takes the restore, by the
// non-superuser owner login and by restore-check.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Manifest, readManifest } from '../../../src/backup';
import { runCliCaptured } from '../../support/cli';
import {
  backupCronJobContainer,
  managedDatabase,
  ManagedDatabase,
  ownerLoginOn,
  pg18Bin,
  runCronJobContainer,
  seedThroughServices,
  superuserUrl,
} from '../../support/backup';
import { OwnCluster, startOwnCluster, withClient } from '../../support/postgres';

let pgBin: string;
let server: OwnCluster | undefined;
let target: OwnCluster;
let db: ManagedDatabase;
let root: string;
let run: { code: number | null; out: string };
/** The same container with `compress: 'zstd:3'` (Postgres 16+ clients only). */
let zstd: { root: string; run: { code: number | null; out: string } };
let backup: { dir: string; manifest: Manifest; serverVersion: string };
const outputs: string[] = [];

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCliCaptured(argv);
  outputs.push(r.stdout, r.stderr);
  return r;
}

beforeAll(async () => {
  pgBin = pg18Bin();
  server = await startOwnCluster({ major: 18 });
  db = await managedDatabase(server.url);
  await seedThroughServices(db, 10);
  root = mkdtempSync(path.join(tmpdir(), 'caracal-backup-volume-'));
  run = await runCronJobContainer(backupCronJobContainer(db), db, root, pgBin);
  if (run.code !== 0) throw new Error(`backup failed (${run.code}): ${run.out}`);
  const dir = path.join(root, readFileSync(path.join(root, 'LATEST'), 'utf8').trim());
  const zstdRoot = mkdtempSync(path.join(tmpdir(), 'caracal-backup-volume-'));
  zstd = { root: zstdRoot, run: await runCronJobContainer(backupCronJobContainer(db, { compress: 'zstd:3' }), db, zstdRoot, pgBin) };
  const serverVersion = await withClient(server.url, async (c) => (await c.query('SHOW server_version')).rows[0].server_version);
  backup = { dir, manifest: readManifest(dir), serverVersion };
  // The source server is gone before the new one starts.
  await server.destroy();
  server = undefined;
  target = await startOwnCluster({ major: 18 });
}, 300_000);

afterAll(async () => {
  await Promise.all([server?.destroy(), target?.destroy()]);
  for (const dir of [root, zstd?.root]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the backup CronJob container (Debian pg_dump 18, Postgres 18)', () => {
  test('GIVEN a Postgres 18 server seeded through the services WHEN the synthesized container runs with the client of its major THEN the backup is taken by pg_dump 18 as the backup login with its manifest', () => {
    expect(backup.serverVersion).toMatch(/^18\./);
    expect(run.out).toMatch(/backup \d{8}T\d{6}Z done/);
    expect(run.out).toMatch(new RegExp(`as ${db.login('backup')} \\(role caracal_backup\\)`));
    expect(backup.manifest).toMatchObject({ database: db.database, role: 'caracal_backup', jobs: 2, compress: '6' });
    expect(backup.manifest.pgDump).toMatch(/^pg_dump \(PostgreSQL\) 18\./);
    expect(backup.manifest.data.tables.admin_audit_events.rows).toBe(20);
  });
});

describe('restore into a new Postgres 18 server (pg_restore 18)', () => {
  test('GIVEN the new server where no caracal role exists WHEN the non-superuser owner login restores THEN every domain equals the manifest and only the superuser steps are left as warnings', async () => {
    const url = await ownerLoginOn(db, target);
    const r = await cli([
      'restore',
      '--backup',
      backup.dir,
      '--target-database',
      db.database,
      '--pg-bin',
      pgBin,
      '--database-url',
      url,
      '--json',
    ]);
    const report = JSON.parse(r.stdout);

    expect(report.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(r.code).toBe(0);
    expect(report.warnings).toEqual([
      expect.stringMatching(/caracal_backup was created without BYPASSRLS.*ALTER ROLE caracal_backup BYPASSRLS/),
      expect.stringMatching(/PUBLIC may execute the large-object functions in .*REVOKE EXECUTE ON FUNCTION pg_catalog\.lo_\*/),
    ]);
  });

  test('GIVEN the backup WHEN restore-check restores it into a scratch database on the new server as a superuser THEN every domain passes, verify passes and the scratch database is dropped', async () => {
    const r = await cli(['restore-check', '--backup', root, '--pg-bin', pgBin, '--database-url', superuserUrl(target), '--json']);
    const report = JSON.parse(r.stdout);

    expect(report.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(report.checks.find((c: { id: string }) => c.id === 'verify').summary).toMatch(/^all \d+ verify checks pass/);
    expect(r.code).toBe(0);
    const left = await withClient(target.url, (c) => c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [report.database]));
    expect(left.rowCount).toBe(0);
  });

  test('GIVEN a backup compressed with zstd:3 WHEN restore-check restores it on the new server THEN every domain passes', async () => {
    const m = readManifest(path.join(zstd.root, readFileSync(path.join(zstd.root, 'LATEST'), 'utf8').trim()));
    expect({ code: zstd.run.code, compress: m.compress }).toEqual({ code: 0, compress: 'zstd:3' });
    const r = await cli(['restore-check', '--backup', zstd.root, '--pg-bin', pgBin, '--database-url', superuserUrl(target), '--json']);
    const report = JSON.parse(r.stdout);

    expect(report.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(r.code).toBe(0);
  });

  test('GIVEN the generated passwords WHEN the backup log, the restore outputs and every backup file are scanned THEN none of them appears', () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    const texts = [
      run.out,
      zstd.run.out,
      ...outputs,
      ...walk(root).map((f) => (f.endsWith('.gz') ? gunzipSync(readFileSync(f)) : readFileSync(f)).toString('utf8')),
    ];
    expect(texts.length).toBeGreaterThan(5);
    for (const [who, password] of db.passwords)
      expect({ who, found: texts.some((t) => t.includes(password)) }).toEqual({ who, found: false });
  });
});
