// Issue 15's question: do the server-clock columns (audit_events.ingested_at, admin_audit_events.recorded_at
// and the identity ids) survive a pg_dump / pg_restore data load (COPY), or does something rewrite them? Checked
// on a Postgres 15 server of this file's own with the Debian pg_dump/pg_restore of the same major.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FreshDatabase, OwnCluster, freshDatabase, startOwnCluster, withClient } from '../../support/postgres';
import { applySchema, asRole, roleName, seedZone } from '../../support/schema';

const PG15_BIN = '/usr/lib/postgresql/15/bin';
let cluster: OwnCluster;
let source: FreshDatabase;
let target: FreshDatabase;
let dumpDir: string;

function run(tool: string, args: string[]): void {
  const r = spawnSync(path.join(PG15_BIN, tool), args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
}

const clockColumns = (url: string) =>
  withClient(url, async (c) => ({
    audit: (await c.query(`SELECT event_id, ingested_at::text, tableoid::regclass::text AS partition FROM public.audit_events ORDER BY 1`))
      .rows,
    admin: (await c.query(`SELECT id::text, recorded_at::text FROM public.admin_audit_events ORDER BY id`)).rows,
    outbox: (await c.query(`SELECT id::text, created_at::text FROM public.event_outbox ORDER BY id`)).rows,
  }));

beforeAll(async () => {
  cluster = await startOwnCluster({ major: 15 });
  source = await freshDatabase(cluster.url);
  await applySchema(source.url);
  await withClient(source.url, async (c) => {
    const { zoneId } = await seedZone(c);
    // Rows written the way services write them: the server clock sets ingested_at and recorded_at.
    await asRole(
      c,
      roleName('audit'),
      (a) =>
        a.query(
          `INSERT INTO public.audit_events (zone_id, event_id, occurred_at, source, event_type)
           SELECT $1, gen_random_uuid(), now() - interval '1 hour', 'gateway', 'request' FROM generate_series(1, 20)`,
          [zoneId],
        ),
      { zoneId, commit: true },
    );
    await asRole(
      c,
      roleName('api'),
      (a) => a.query(`INSERT INTO public.admin_audit_events (actor, action) SELECT 'admin', 'zone.update' FROM generate_series(1, 5)`),
      { commit: true },
    );
    // And rows whose clock is days old (as a restored or replayed history has): other partitions.
    await c.query(
      `INSERT INTO public.audit_events (zone_id, event_id, ingested_at, occurred_at, source, event_type)
       SELECT $1, gen_random_uuid(), now() - make_interval(days => d), now() - make_interval(days => d), 'sts', 'token.issued'
         FROM generate_series(1, 5) AS d`,
      [zoneId],
    );
  });
  // Time passes between backup and restore: a rewrite to now() would show.
  await new Promise((r) => setTimeout(r, 1100));
  dumpDir = path.join(mkdtempSync(path.join(tmpdir(), 'caracal-restore-clock-')), 'dump');
  run('pg_dump', ['--format=directory', '--jobs=2', '--role=caracal_backup', `--file=${dumpDir}`, `--dbname=${source.url}`]);
  target = await freshDatabase(cluster.url);
  run('pg_restore', ['--exit-on-error', `--dbname=${target.url}`, dumpDir]);
}, 180_000);

afterAll(async () => {
  if (dumpDir) rmSync(path.dirname(dumpDir), { recursive: true, force: true });
  await target?.drop();
  await source?.drop();
  await cluster?.destroy();
});

describe('a pg_dump / pg_restore round trip (COPY data load)', () => {
  test('GIVEN audit events, admin audit events and outbox rows stamped by the server clock WHEN restored THEN every timestamp, id and partition is unchanged', async () => {
    const before = await clockColumns(source.url);
    const after = await clockColumns(target.url);
    expect(before.audit).toHaveLength(26);
    expect(before.admin).toHaveLength(5);
    expect(after).toEqual(before);
  });

  test('GIVEN the restored database WHEN its triggers on the clock tables are listed THEN none fires on INSERT (nothing can rewrite a loaded row)', async () => {
    const { rows } = await withClient(target.url, (c) =>
      c.query(
        `SELECT t.tgrelid::regclass::text AS rel, t.tgname FROM pg_trigger t
          WHERE NOT t.tgisinternal AND (t.tgtype & 4) <> 0
            AND t.tgrelid IN (SELECT 'public.admin_audit_events'::regclass UNION ALL SELECT 'public.event_outbox'::regclass
                              UNION ALL SELECT relid FROM pg_partition_tree('public.audit_events'))`,
      ),
    );
    expect(rows).toEqual([]);
  });

  test('GIVEN the restored database WHEN the identity sequences are read THEN the next admin audit id is past every restored one', async () => {
    const { rows } = await withClient(target.url, (c) =>
      c.query(
        `SELECT (SELECT max(id) FROM public.admin_audit_events) < nextval(pg_get_serial_sequence('public.admin_audit_events', 'id')) AS ok`,
      ),
    );
    expect(rows[0].ok).toBe(true);
  });
});
