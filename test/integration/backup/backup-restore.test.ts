// Backup and restore on real servers: a Postgres 15 database set up the managed way and seeded through the
// services' logins is backed up by the CronJob's exact script with Debian's pg_dump 15 while writes go on, then
// restored into new servers (15 and 18) by the non-superuser owner login, and broken three ways.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { BACKUP_LAYOUT, listArchive, Manifest, readManifest, runPgTool, sha256File } from '../../../src/backup';
import { runCliCaptured } from '../../support/cli';
import { provisionLogins } from '../../../src/provision';
import { OwnCluster, startOwnCluster, withClient } from '../../support/postgres';
import {
  managedDatabase,
  ManagedDatabase,
  ownerLoginOn,
  PG15_BIN,
  runBackupScript,
  ScriptRun,
  seedThroughServices,
  superuserUrl,
} from '../../support/backup';
import { until } from '../../support/until';

let source: OwnCluster;
let target15: OwnCluster;
let target18: OwnCluster;
let db: ManagedDatabase;
/** Taken while the services' logins kept writing. */
let live: { dir: string; run: ScriptRun; manifest: Manifest; rowsAfter: number; gateReleasedAt: string };
/** Taken with nothing writing: the one the breaking tests damage. */
let quiet: { dir: string; manifest: Manifest };
const outputs: string[] = [];

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCliCaptured(argv);
  outputs.push(r.stdout, r.stderr);
  return r;
}

/** Keeps the api, audit and coordinator logins writing, each in its zone, until stopped. */
function keepWriting(zones: readonly string[]): { stop: () => Promise<number> } {
  let running = true;
  let written = 0;
  const loops = (['audit', 'api', 'coordinator'] as const).map(async (who) => {
    const c = await db.connect(who);
    try {
      for (let i = 0; running; i++) {
        const zone = zones[i % zones.length];
        await c.query('BEGIN');
        await c.query(`SELECT set_config('caracal.zone_id', $1, true)`, [zone]);
        if (who === 'audit')
          await c.query(
            `INSERT INTO public.audit_events (zone_id, event_id, occurred_at, source, event_type) SELECT $1, gen_random_uuid(), now(), 'gateway', 'request.allowed' FROM generate_series(1, 20)`,
            [zone],
          );
        else if (who === 'api') {
          await c.query(
            `INSERT INTO public.event_outbox (zone_id, topic, aggregate_type, aggregate_id, payload) VALUES ($1, 'zone.updated', 'zone', $2, '{}')`,
            [zone, zone],
          );
          await c.query(`INSERT INTO public.admin_audit_events (actor, action, zone_id) VALUES ('admin', 'zone.update', $1)`, [zone]);
        } else
          await c.query(
            `INSERT INTO public.caracal_outbox (zone_id, stream, message_key, payload) VALUES ($1, 'propagation', gen_random_uuid()::text, '{}')`,
            [zone],
          );
        await c.query('COMMIT');
        written++;
      }
    } finally {
      await c.end().catch(() => undefined);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return written;
    },
  };
}

async function sourceRows(table: string): Promise<number> {
  const c = await db.connect('backup');
  try {
    await c.query('SET ROLE caracal_backup');
    return (await c.query(`SELECT count(*)::int AS n FROM public.${table}`)).rows[0].n;
  } finally {
    await c.end();
  }
}

/** A copy of a backup to damage; `rehash` records the damaged files' checksums, so only the restore check can tell. */
function copyOf(dir: string): string {
  const copy = path.join(mkdtempSync(path.join(tmpdir(), 'caracal-broken-')), path.basename(dir));
  cpSync(dir, copy, { recursive: true });
  return copy;
}

async function rehash(dir: string): Promise<void> {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  const files = [];
  for (const full of walk(dir).sort()) {
    const rel = path.relative(dir, full);
    if (rel !== BACKUP_LAYOUT.manifest) files.push({ path: rel, bytes: statSync(full).size, sha256: await sha256File(full) });
  }
  writeFileSync(path.join(dir, BACKUP_LAYOUT.manifest), JSON.stringify({ ...readManifest(dir), files }));
}

async function dataFileOf(dir: string, table: string): Promise<string> {
  const entry = (await listArchive(path.join(dir, BACKUP_LAYOUT.dump), PG15_BIN)).find((e) =>
    new RegExp(`TABLE DATA public ${table} `).test(e.line),
  );
  return path.join(dir, BACKUP_LAYOUT.dump, `${entry!.id}.dat.gz`);
}

/**
 * The backup CronJob's script while the writers go on, with writes committed after its snapshot for certain: a
 * superuser holds schema_migrations (which no writer touches) in ACCESS EXCLUSIVE mode, so the script, whose row
 * counts read every table inside the exported snapshot, waits on it; the lock goes once audit events have been
 * committed twice after that wait began (the second by a transaction that started after the snapshot). Left to
 * timing, an idle machine finished the backup before any write landed, and the one-snapshot test had nothing to see.
 * Returns the server's clock when the lock went (text, to the microsecond): every event committed during the wait is
 * older, and the backup was still running then. The manifest's finishedAt is whole seconds, too coarse a bound.
 */
async function backupWhileWritesCommit(root: string): Promise<{ run: ScriptRun; gateReleasedAt: string }> {
  const url = new URL(superuserUrl(source));
  url.pathname = `/${db.database}`;
  const gate = new Client({ connectionString: url.toString() });
  await gate.connect();
  try {
    await gate.query('BEGIN');
    await gate.query('LOCK TABLE public.schema_migrations IN ACCESS EXCLUSIVE MODE');
    const backup = runBackupScript(db, root, PG15_BIN, { BACKUP_JOBS: '2' });
    // pg_stat_activity is read once per transaction unless its snapshot is cleared.
    const waiting = async () => {
      await gate.query('SELECT pg_stat_clear_snapshot()');
      const r = await gate.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'`,
        [db.login('backup')],
      );
      return r.rows[0].n > 0;
    };
    await until(waiting, 'the backup to wait on the lock, after its snapshot', 60_000);
    const events = async () => (await gate.query<{ n: number }>('SELECT count(*)::int AS n FROM public.audit_events')).rows[0].n;
    for (let i = 0; i < 2; i++) {
      const before = await events();
      await until(async () => (await events()) > before, 'the writers to commit audit events', 60_000);
    }
    const released = await gate.query<{ t: string }>('SELECT clock_timestamp()::text AS t');
    await gate.query('COMMIT');
    return { run: await backup, gateReleasedAt: released.rows[0].t };
  } finally {
    await gate.end();
  }
}

beforeAll(async () => {
  [source, target15, target18] = await Promise.all([
    startOwnCluster({ major: 15 }),
    startOwnCluster({ major: 15 }),
    startOwnCluster({ major: 18 }),
  ]);
  db = await managedDatabase(source.url);
  const seeded = await seedThroughServices(db);
  const root = mkdtempSync(path.join(tmpdir(), 'caracal-backups-'));
  const writers = keepWriting(seeded.zones);
  await new Promise((r) => setTimeout(r, 300));
  const { run, gateReleasedAt } = await backupWhileWritesCommit(root);
  const written = await writers.stop();
  if (run.code !== 0 || written === 0) throw new Error(`backup failed (${run.code}) or nothing was written (${written}): ${run.stderr}`);
  const dir = path.join(root, readFileSync(path.join(root, 'LATEST'), 'utf8').trim());
  live = { dir, run, manifest: readManifest(dir), rowsAfter: await sourceRows('admin_audit_events'), gateReleasedAt };
  const quietRoot = mkdtempSync(path.join(tmpdir(), 'caracal-backups-'));
  const quietRun = await runBackupScript(db, quietRoot, PG15_BIN);
  if (quietRun.code !== 0) throw new Error(quietRun.stderr);
  const quietDir = path.join(quietRoot, readFileSync(path.join(quietRoot, 'LATEST'), 'utf8').trim());
  quiet = { dir: quietDir, manifest: readManifest(quietDir) };
}, 240_000);

afterAll(async () => {
  await Promise.all([source, target15, target18].map((c) => c?.destroy()));
});

describe('the backup CronJob script (Debian pg_dump 15 on a Postgres 15 server)', () => {
  test('GIVEN the services writing WHEN the backup runs THEN it holds one snapshot: events committed while it ran are in the source, not in it', async () => {
    expect(live.run.code).toBe(0);
    expect(live.rowsAfter).toBeGreaterThan(live.manifest.data.tables.admin_audit_events.rows);
    const today = Object.entries(live.manifest.data.tables)
      .filter(([t, s]) => t.startsWith('audit_events_p') && s.clock?.max)
      .sort(([, a], [, b]) => String(b.clock!.max).localeCompare(String(a.clock!.max)))[0][1];
    const c = await db.connect('backup');
    try {
      await c.query('SET ROLE caracal_backup');
      const during = await c.query(`SELECT count(*)::int AS n FROM public.audit_events WHERE ingested_at > $1 AND ingested_at < $2`, [
        today.clock!.max,
        live.gateReleasedAt,
      ]);
      expect(during.rows[0].n).toBeGreaterThan(0);
    } finally {
      await c.end();
    }
  });

  test('GIVEN a finished backup WHEN listed THEN it is a compressed directory-format dump, the globals and a manifest of the snapshot', () => {
    const files = readdirSync(path.join(live.dir, BACKUP_LAYOUT.dump));
    expect(files).toContain('toc.dat');
    expect(files.filter((f) => f.endsWith('.dat.gz')).length).toBeGreaterThan(40);
    expect(readFileSync(path.join(live.dir, BACKUP_LAYOUT.globals), 'utf8')).toMatch(/CREATE ROLE caracal_backup;/);
    const m = live.manifest;
    expect(m).toMatchObject({ format: 'caracal-backup/1', database: db.database, role: 'caracal_backup', jobs: 2, compress: '6' });
    expect(m.pgDump).toMatch(/^pg_dump \(PostgreSQL\) 15\./);
    expect(m.data.schemaMigrations!.map((r) => r.name)).toContain('baseline');
    expect(Object.keys(m.data.tables).filter((t) => t.startsWith('audit_events_p')).length).toBeGreaterThanOrEqual(21);
    expect(m.files.map((f) => f.path)).toEqual(expect.arrayContaining(['db/toc.dat', 'globals.sql']));
    expect(m.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
  });

  test('GIVEN the generated passwords WHEN the logs, manifest, globals and every backup file are scanned THEN none of them appears', () => {
    const texts = [live.run.stdout, live.run.stderr, ...outputs];
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    for (const f of walk(live.dir)) texts.push(f.endsWith('.gz') ? gunzipSync(readFileSync(f)).toString('utf8') : readFileSync(f, 'utf8'));
    for (const [who, password] of db.passwords) {
      expect({ who, found: texts.some((t) => t.includes(password)) }).toEqual({ who, found: false });
    }
    expect(texts.some((t) => /SCRAM-SHA-256\$/.test(t))).toBe(false);
  });

  test('GIVEN older backups WHEN a new one finishes THEN the newest BACKUP_KEEP_COUNT stay and those older than BACKUP_KEEP_DAYS go, never the newest', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'caracal-retention-'));
    const fake = (name: string) => {
      cpSync(path.join(quiet.dir, BACKUP_LAYOUT.manifest), path.join(root, name, BACKUP_LAYOUT.manifest), { recursive: true });
    };
    const now = Date.now();
    const day = (d: number) =>
      new Date(now - d * 86_400_000)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
    ['2', '5', '20', '40'].forEach((d) => fake(day(Number(d))));
    const run = await runBackupScript(db, root, PG15_BIN, { BACKUP_KEEP_COUNT: '4', BACKUP_KEEP_DAYS: '10' });
    expect(run.code).toBe(0);
    const kept = readdirSync(root)
      .filter((n) => /^\d{8}T\d{6}Z$/.test(n))
      .sort();
    expect(kept).toEqual([day(5), day(2), readFileSync(path.join(root, 'LATEST'), 'utf8').trim()]);
    expect(run.stderr).toMatch(new RegExp(`retention: removed ${day(20)}`));
  });

  test.each([
    ['ok', 0, { copied: true, file: 'redis/dump.rdb' }],
    ['failed', 3, { copied: false }],
  ])(
    'GIVEN the Redis step reported %s WHEN the backup runs THEN the manifest records it (exit %d), the Postgres backup kept either way',
    async (status, code, redis) => {
      const root = mkdtempSync(path.join(tmpdir(), 'caracal-with-redis-'));
      const redisDir = mkdtempSync(path.join(tmpdir(), 'caracal-redis-step-'));
      writeFileSync(path.join(redisDir, 'status'), `${status}\n`);
      writeFileSync(path.join(redisDir, 'dump.rdb'), 'REDIS0010-a copied RDB');
      const run = await runBackupScript(db, root, PG15_BIN, { BACKUP_REDIS_DIR: redisDir });
      expect(run.code).toBe(code);
      const m = readManifest(path.join(root, readFileSync(path.join(root, 'LATEST'), 'utf8').trim()));
      expect(m.redis).toEqual(redis);
      expect(m.files.some((f) => f.path === 'redis/dump.rdb')).toBe(status === 'ok');
    },
  );

  test.each([
    [{ BACKUP_JOBS: 'two' }, /BACKUP_JOBS, BACKUP_KEEP_COUNT and BACKUP_KEEP_DAYS must be whole numbers/],
    [{ BACKUP_KEEP_COUNT: '0' }, /BACKUP_KEEP_COUNT must be at least 1/],
    [{ BACKUP_ROOT: '' }, /BACKUP_ROOT must name the backup directory/],
  ])('GIVEN %j WHEN the script starts THEN it refuses with exit 2 or 1 and names the variable', async (env, message) => {
    const run = await runBackupScript(db, mkdtempSync(path.join(tmpdir(), 'caracal-bad-')), PG15_BIN, env);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(message);
  });
});

describe('restore as the managed database owner (not a superuser)', () => {
  test('GIVEN the backup taken while writes went on WHEN restored into a new Postgres 15 server by the owner login THEN every domain equals the manifest and verify passes but for the superuser steps the warnings name', async () => {
    const url = await ownerLoginOn(db, target15);
    const r = await cli(['restore', '--backup', live.dir, '--target-database', db.database, '--pg-bin', PG15_BIN, '--database-url', url]);
    expect(r.stdout).toMatch(/all 17 checks passed/);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .split('\n')
        .filter((l) => /^(ok {2}|FAIL) /.test(l))
        .map((l) => l.split(':')[0].slice(5)),
    ).toEqual([
      'files',
      'restore',
      'audit-events',
      'audit-partitions',
      'admin-audit-events',
      'outboxes',
      'agents-delegation',
      'gateway-bindings',
      'key-references',
      'other-tables',
      'schema-migrations',
      'sequences',
      'integrity-controls',
      'grants-ownership',
      'foreign-keys',
      'database-privileges',
      'verify',
    ]);
    expect(r.stdout).toMatch(/restore: pg_restore restored every entry as caracal_\w+_owner \(not a superuser\)/);
    // What only a superuser may do: each is a warning, and the verify checks it holds back are named, not hidden.
    expect(r.stdout).toMatch(
      /^ok {3}verify: \d+ of \d+ verify checks pass on the restored database; large-objects, backup-role-reads wait for the superuser step/m,
    );
    expect(r.stdout).toMatch(
      /warning: PUBLIC may execute the large-object functions in caracal_\w+ \(\d+, e\.g\. lo_\w+\(.*REVOKE EXECUTE ON FUNCTION/,
    );
  });

  test('GIVEN the restored database WHEN the migration Job provisions the logins from their Secrets THEN each service logs in and sees its zone rows', async () => {
    const u = new URL(target15.url);
    const owner = { ...db.settings('owner', db.database), host: u.hostname, port: Number(u.port) };
    Object.defineProperty(owner, 'password', { value: db.passwords.get('owner'), enumerable: false });
    const dir = mkdtempSync(path.join(tmpdir(), 'caracal-restored-logins-'));
    const specs = (['api', 'gateway'] as const).map((who) => {
      writeFileSync(path.join(dir, who), db.passwords.get(who)!);
      return { loginRole: db.login(who), groupRole: `caracal_${who}`, passwordFile: path.join(dir, who) };
    });
    await provisionLogins(specs, owner);
    const api = new Client({
      host: u.hostname,
      port: Number(u.port),
      user: db.login('api'),
      password: db.passwords.get('api'),
      database: db.database,
    });
    await api.connect();
    try {
      const zones = (await api.query(`SELECT id FROM public.zones ORDER BY id`)).rows.map((r) => r.id);
      const seen: number[] = [];
      for (const zone of zones) {
        await api.query('BEGIN');
        await api.query(`SELECT set_config('caracal.zone_id', $1, true)`, [zone]);
        seen.push((await api.query(`SELECT count(*)::int AS n FROM public.applications`)).rows[0].n);
        await api.query('ROLLBACK');
      }
      expect(zones.length).toBe(live.manifest.data.tables.zones.rows);
      expect(seen.reduce((a, b) => a + b, 0)).toBe(live.manifest.data.tables.applications.rows);
      expect(seen.every((n) => n > 0)).toBe(true);
    } finally {
      await api.end();
    }
  });

  test('GIVEN a new Postgres 18 server where no caracal role exists WHEN the owner login restores THEN the roles are created, every domain checks and BYPASSRLS and the large-object revoke are named for the admin', async () => {
    const url = await ownerLoginOn(db, target18);
    const r = await cli([
      'restore',
      '--backup',
      live.dir,
      '--target-database',
      db.database,
      '--pg-bin',
      PG15_BIN,
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
    // The owner that created caracal_backup holds ADMIN on it (Postgres 16+), which is no backup login's membership.
    const verify = report.checks.find((c: { id: string }) => c.id === 'verify');
    expect(verify.summary).toMatch(
      /verify checks pass on the restored database; large-objects, backup-role-reads wait for the superuser step/,
    );
    expect(verify.details).toEqual([
      expect.stringMatching(/^until the warning's step is done: large-objects: 1 large-object problem\(s\) \(PUBLIC may execute lo_close/),
      expect.stringMatching(
        /^until the warning's step is done: backup-role-reads: 1 backup role problem\(s\) \(caracal_backup lacks BYPASSRLS/,
      ),
    ]);
  });

  test('GIVEN the plain tools (pg_restore -j 2 -d as the owner) WHEN restored THEN owners and foreign keys are lost, which is why restore uses its order', async () => {
    const owner = db.login('owner');
    await withClient(target15.url, (c) => c.query(`CREATE DATABASE plain_restore OWNER ${owner}`));
    const r = await runPgTool('pg_restore', ['--jobs=2', '--dbname=plain_restore', path.join(quiet.dir, BACKUP_LAYOUT.dump)], {
      pgBin: PG15_BIN,
      connection: {
        ...db.settings('owner', 'plain_restore'),
        host: new URL(target15.url).hostname,
        port: Number(new URL(target15.url).port),
        password: db.passwords.get('owner'),
      },
    });
    expect(r.stderr).toMatch(/permission denied for schema public/);
    expect(r.stderr).toMatch(/query would be affected by row-level security policy/);
    const fks = await withClient(`${superuserUrl(target15).replace('/postgres?', '/plain_restore?')}`, (c) =>
      c.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`),
    );
    expect(fks.rows[0].n).toBeLessThan(Object.keys(quiet.manifest.catalog.foreignKeys).length);
  });
});

describe('restore-check', () => {
  test('GIVEN a backup and a server whose caracal_backup lost BYPASSRLS (the owner restore created it) WHEN checked by a superuser THEN BYPASSRLS comes back, every domain passes and the scratch database is dropped', async () => {
    const r = await cli([
      'restore-check',
      '--backup',
      path.dirname(quiet.dir),
      '--pg-bin',
      PG15_BIN,
      '--database-url',
      superuserUrl(target15),
      '--json',
    ]);
    const report = JSON.parse(r.stdout);
    expect(report.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(report.checks.find((c: { id: string }) => c.id === 'verify').summary).toMatch(/^all \d+ verify checks pass/);
    expect(r.code).toBe(0);
    const left = await withClient(target15.url, (c) => c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [report.database]));
    expect(left.rowCount).toBe(0);
  });

  test.each([
    [
      'a truncated data file',
      async (dir: string) => {
        const file = await dataFileOf(
          dir,
          Object.keys(quiet.manifest.data.tables)
            .filter((t) => t.startsWith('audit_events_p'))
            .sort((a, b) => quiet.manifest.data.tables[b].rows - quiet.manifest.data.tables[a].rows)[0],
        );
        truncateSync(file, Math.floor(statSync(file).size / 2));
      },
      ['files', 'restore', 'audit-events'],
    ],
    [
      'a truncated table of contents (toc.dat)',
      async (dir: string) => {
        const toc = path.join(dir, BACKUP_LAYOUT.dump, 'toc.dat');
        truncateSync(toc, Math.floor(statSync(toc).size / 3));
      },
      ['files', 'restore'],
    ],
    [
      'a missing partition (dumped without it, checksums recorded again)',
      async (dir: string) => {
        const part = Object.keys(quiet.manifest.data.tables).filter(
          (t) => t.startsWith('audit_events_p') && quiet.manifest.data.tables[t].rows > 0,
        )[0];
        const dump = path.join(dir, BACKUP_LAYOUT.dump);
        rmSync(dump, { recursive: true });
        const r = await runPgTool(
          'pg_dump',
          ['--format=directory', '--role=caracal_backup', '--create', `--exclude-table=public.${part}`, `--file=${dump}`],
          {
            pgBin: PG15_BIN,
            connection: { ...db.settings('backup'), password: db.passwords.get('backup') },
          },
        );
        if (r.code !== 0) throw new Error(r.stderr);
        await rehash(dir);
      },
      ['audit-events', 'audit-partitions'],
    ],
    [
      'one row removed from admin_audit_events in the dump (checksums recorded again)',
      async (dir: string) => {
        const file = await dataFileOf(dir, 'admin_audit_events');
        const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
        lines.splice(1, 1);
        writeFileSync(file, gzipSync(lines.join('\n')));
        await rehash(dir);
      },
      ['admin-audit-events'],
    ],
  ])('GIVEN %s WHEN the backup is checked THEN the check fails (exit 4) and names the domain', async (_what, breakIt, failing) => {
    const dir = copyOf(quiet.dir);
    await breakIt(dir);
    const r = await cli(['restore-check', '--backup', dir, '--pg-bin', PG15_BIN, '--database-url', superuserUrl(target15), '--json']);
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout);
    expect(report.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(failing));
  });
});
