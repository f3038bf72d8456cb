// The backup CronJob's exact container (command and env read from the synthesized JSON) run with bash and Debian's
// Postgres 15 client (the image's pg_dump, of the server's major) against a real Postgres 15 server set up the
// managed way and seeded through the services' logins, as the backup login the migration Job's provisioning
// creates; then restore-check restores the result and passes. The login's rights are checked cell by cell.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readManifest } from '../../../src/backup';
import { runCliCaptured } from '../../support/cli';
import {
  backupCronJobContainer,
  managedDatabase,
  ManagedDatabase,
  PG15_BIN,
  runCronJobContainer,
  seedThroughServices,
  SynthesizedContainer,
} from '../../support/backup';
import { OwnCluster, startOwnCluster } from '../../support/postgres';
import { grantedCell, readAccessMatrix } from '../../support/schema';

let server: OwnCluster;
let db: ManagedDatabase;
let container: SynthesizedContainer;
let root: string;
let run: { code: number | null; out: string };

/** Runs the container's command with its env; only the connection target and the mounted paths are this machine's. */
const runContainer = (backupRoot: string) => runCronJobContainer(container, db, backupRoot, PG15_BIN);

const cli = runCliCaptured;

beforeAll(async () => {
  server = await startOwnCluster({ major: 15 });
  db = await managedDatabase(server.url);
  await seedThroughServices(db, 10);
  container = backupCronJobContainer(db, { keepCount: 2 });
  root = mkdtempSync(path.join(tmpdir(), 'caracal-backup-volume-'));
  run = await runContainer(root);
}, 240_000);

afterAll(async () => {
  await server?.destroy();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the backup CronJob container (Debian pg_dump 15, Postgres 15)', () => {
  test('GIVEN the synthesized container WHEN its command runs as the backup login THEN a backup of the whole database is published with its manifest', () => {
    expect({ code: run.code, out: run.out }).toEqual({ code: 0, out: expect.stringMatching(/backup \d{8}T\d{6}Z done/) });
    expect(run.out).toMatch(new RegExp(`as ${db.login('backup')} \\(role caracal_backup\\)`));
    const m = readManifest(path.join(root, readFileSync(path.join(root, 'LATEST'), 'utf8').trim()));
    expect(m).toMatchObject({ database: db.database, role: 'caracal_backup', jobs: 2, compress: '6' });
    expect(m.pgDump).toMatch(/^pg_dump \(PostgreSQL\) 15\./);
    expect(m.data.tables.admin_audit_events.rows).toBe(20);
  });

  test('GIVEN the backup WHEN restore-check restores it into a scratch database THEN every domain equals the manifest and verify passes', async () => {
    const u = new URL(server.url);
    u.searchParams.set('sslmode', 'disable');
    const r = await cli(['restore-check', '--backup', root, '--pg-bin', PG15_BIN, '--database-url', u.toString(), '--json']);
    const report = JSON.parse(r.stdout);

    expect(report.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(r.code).toBe(0);
  }, 120_000);

  test('GIVEN three runs and keepCount 2 WHEN the third finishes THEN two backups stay on the volume', async () => {
    const again = mkdtempSync(path.join(tmpdir(), 'caracal-backup-retention-'));
    try {
      for (let i = 0; i < 3; i++) {
        expect((await runContainer(again)).code).toBe(0);
        // Backup names are per second.
        await new Promise((r) => setTimeout(r, 1100));
      }
      expect(readdirSync(again).filter((n) => /^\d{8}T\d{6}Z$/.test(n))).toHaveLength(2);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  }, 120_000);

  test('GIVEN the generated passwords WHEN the log and every backup file are scanned THEN none of them appears', () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    const texts = [run.out, ...walk(root).map((f) => (f.endsWith('.gz') ? gunzipSync(readFileSync(f)) : readFileSync(f)).toString('utf8'))];
    for (const [who, password] of db.passwords)
      expect({ who, found: texts.some((t) => t.includes(password)) }).toEqual({ who, found: false });
  });
});

describe('the backup login (provisioned like the migration Job does)', () => {
  const matrix = readAccessMatrix();
  test.each(matrix.rows.map((r) => [r.table, r.cells.backup]))(
    'GIVEN the table %s WHEN the backup login\'s privileges are read THEN they are exactly the access matrix\'s backup cell "%s"',
    async (table, cell) => {
      const c = await db.connect('owner');
      try {
        expect(await grantedCell(c, db.login('backup'), table)).toBe(cell);
      } finally {
        await c.end();
      }
    },
  );

  test('GIVEN the backup login WHEN its attributes and memberships are read THEN it logs in, inherits, is a member of caracal_backup only, and has no BYPASSRLS, CREATEROLE, CREATEDB or superuser of its own', async () => {
    const c = await db.connect('owner');
    try {
      const { rows } = await c.query(
        `SELECT r.rolcanlogin, r.rolinherit, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb, r.rolsuper,
                ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of
           FROM pg_roles r WHERE r.rolname = $1`,
        [db.login('backup')],
      );
      expect(rows[0]).toEqual({
        rolcanlogin: true,
        rolinherit: true,
        rolbypassrls: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolsuper: false,
        member_of: ['caracal_backup'],
      });
    } finally {
      await c.end();
    }
  });

  test.each([
    ['write a row', `INSERT INTO public.audit_ingest_alerts (source, kind, detail) VALUES ('x', 'replay_gap', 'x')`],
    ['change a row', `UPDATE public.zones SET display_name = 'x'`],
    ['create in public', 'CREATE TABLE public.backup_notes (id int)'],
    ['disable a trigger', 'ALTER TABLE public.audit_events DISABLE TRIGGER ALL'],
  ])('GIVEN the backup login as caracal_backup WHEN it tries to %s THEN it is refused', async (_what, sql) => {
    const c = await db.connect('backup');
    try {
      await c.query('SET ROLE caracal_backup');
      await expect(c.query(sql)).rejects.toThrow(/permission denied|must be owner/);
    } finally {
      await c.end();
    }
  });

  test('GIVEN the backup login WHEN it reads a zone-scoped table without and with --role=caracal_backup THEN only the role sees the rows (BYPASSRLS is not inherited)', async () => {
    const c = await db.connect('backup');
    try {
      const without = (await c.query('SELECT count(*)::int AS n FROM public.applications')).rows[0].n;
      await c.query('SET ROLE caracal_backup');
      const withRole = (await c.query('SELECT count(*)::int AS n FROM public.applications')).rows[0].n;
      expect([without, withRole]).toEqual([0, 20]);
    } finally {
      await c.end();
    }
  });
});
