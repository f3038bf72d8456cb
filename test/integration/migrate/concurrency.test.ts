// The runner under concurrency and locks, as real child processes on a real Postgres: racing runners, the
// advisory lock deadline, lock_timeout retries, CREATE INDEX CONCURRENTLY files, and preconditions.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { freshDatabase, FreshDatabase, withClient } from '../../support/postgres';
import { BASIC, envFor, migrationsDir, runCli, startCli } from '../../fixtures/migrate/cli';
import { ADVISORY_LOCK_KEY } from '../../../src/migrate';
import { until } from '../../support/until';

let db: FreshDatabase;
beforeEach(async () => {
  db = await freshDatabase();
});
afterEach(async () => {
  await db.drop();
});

async function session(url: string, applicationName = 'caracal-test-session'): Promise<Client> {
  const c = new Client({ connectionString: url, application_name: applicationName });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

const versions = (url: string) =>
  withClient(
    url,
    async (c) =>
      (
        await c.query(
          'SELECT version::int AS v, count(*) OVER (PARTITION BY version)::int AS n FROM public.schema_migrations ORDER BY version',
        )
      ).rows,
  );

describe('concurrent runners', () => {
  test('GIVEN an empty database WHEN 16 runners start at once THEN all exit 0 and every version is recorded once', async () => {
    // GIVEN an empty database and six migrations
    const files: Record<string, string> = { ...BASIC };
    for (let v = 4; v <= 6; v++)
      files[`000${v}_step_${v}.up.sql`] = `CREATE TABLE public.step_${v} (id int);\nINSERT INTO public.step_${v} VALUES (${v});\n`;
    const dir = migrationsDir(files);
    const env = envFor(db);
    // WHEN 16 runners start at the same time
    const results = await Promise.all(Array.from({ length: 16 }, () => runCli(['up', '--dir', dir, '--lock-wait', '120s'], env)));
    // THEN all exit 0, every version is recorded exactly once, and each file was applied by exactly one runner
    expect(results.map((r) => r.code)).toEqual(Array(16).fill(0));
    expect(await versions(db.url)).toEqual([1, 2, 3, 4, 5, 6].map((v) => ({ v, n: 1 })));
    const applyLines = results.flatMap((r) => r.stdout.split('\n').filter((l) => l.startsWith('applied ')));
    expect(applyLines).toHaveLength(6);
  });

  test('GIVEN another session holding the lock WHEN the lock deadline passes THEN the runner exits 3 naming the pid and application_name of the holder', async () => {
    // GIVEN another session holding the migration advisory lock
    const holder = await session(db.url, 'deploy-script-holder');
    try {
      await holder.query(`SELECT pg_advisory_lock(${ADVISORY_LOCK_KEY})`);
      const pid = (await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      // WHEN a runner waits at most 1 s
      const r = await runCli(['up', '--dir', migrationsDir(BASIC), '--lock-wait', '1s'], envFor(db));
      // THEN it exits 3 naming the holder, and applied nothing
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`held by pid ${pid} (application_name "deploy-script-holder")`);
      expect(r.stderr).toMatch(/first check: advisory-lock connectivity/);
      const exists = await withClient(db.url, (c) => c.query("SELECT to_regclass('public.schema_migrations') AS t"));
      expect(exists.rows[0].t).toBeNull();
    } finally {
      await holder.end();
    }
  });

  test('GIVEN a no-transaction CREATE INDEX CONCURRENTLY WHEN another runner waits on the lock meanwhile THEN the build completes without deadlocking it', async () => {
    // GIVEN a table with rows, a no-transaction file building an index concurrently, and an open snapshot that
    // makes the build wait (as live traffic would)
    const dir = migrationsDir({
      '0001_baseline.up.sql':
        'CREATE TABLE public.events (id bigint, zone int);\nINSERT INTO public.events SELECT g, g % 7 FROM generate_series(1, 1000) g;\n',
      '0002_events_zone_idx.up.sql':
        '-- caracal:no-transaction\n-- builds without blocking writes\nCREATE INDEX CONCURRENTLY IF NOT EXISTS events_zone_idx ON public.events (zone);\n',
    });
    const env = envFor(db);
    const reader = await session(db.url);
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await reader.query('SELECT 1');
    try {
      // WHEN runner A starts the concurrent build, and runner B starts while A holds the lock
      const a = startCli(['up', '--dir', dir], env);
      await until(
        () =>
          withClient(
            db.url,
            async (c) =>
              (
                await c.query(
                  "SELECT 1 FROM pg_stat_activity WHERE application_name = 'caracal-migrate' AND query ILIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'",
                )
              ).rowCount! > 0,
          ),
        'the concurrent build to wait for the open snapshot',
      );
      const b = startCli(['up', '--dir', dir, '--lock-wait', '120s'], env);
      await b.waitForStderr(/waiting for the migration advisory lock held by pid [0-9]+ \(application_name "caracal-migrate"\)/);
      await reader.query('COMMIT');
      // THEN both exit 0: A built the index, B found nothing to do, and the index is valid
      const [ra, rb] = await Promise.all([a.result, b.result]);
      expect([ra.code, rb.code]).toEqual([0, 0]);
      expect(ra.stdout).toMatch(/applied 0002_events_zone_idx\.up\.sql/);
      expect(rb.stdout).toMatch(/nothing to do: 2 already applied/);
      const idx = await withClient(db.url, (c) =>
        c.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.events_zone_idx'::regclass"),
      );
      expect(idx.rows[0].indisvalid).toBe(true);
    } finally {
      await reader.end();
    }
  });
});

describe('lock_timeout on migration statements', () => {
  // An applied table, a pending file whose DDL needs an exclusive lock on it, and a session of the old
  // application holding a lock on that table in an open transaction.
  async function pendingDdlBlockedByAnOpenTransaction() {
    const dir = migrationsDir({ '0001_baseline.up.sql': BASIC['0001_baseline.up.sql'] });
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    writeFileSync(path.join(dir, '0002_zone_label.up.sql'), 'ALTER TABLE public.zones ADD COLUMN label text;\n');
    const app = await session(db.url);
    await app.query('BEGIN');
    await app.query('SELECT count(*) FROM public.zones');
    return { dir, env, app };
  }

  test('GIVEN a file blocked by another session WHEN lock_timeout fires THEN the runner retries it and succeeds once that session ends', async () => {
    // GIVEN an applied table, and a session holding a lock on it (an open transaction of the old application)
    const { dir, env, app } = await pendingDdlBlockedByAnOpenTransaction();
    try {
      // WHEN the runner applies DDL that needs an exclusive lock
      const run = startCli(['up', '--dir', dir, '--lock-timeout', '200ms', '--lock-retries', '50', '--lock-retry-backoff', '100ms'], env);
      await run.waitForStderr(/0002_zone_label\.up\.sql:1 hit lock_timeout \(SQLSTATE 55P03\).*retry 1\/50/);
      await app.query('COMMIT');
      // THEN it retries and succeeds
      const r = await run.result;
      expect(r.code).toBe(0);
      const col = await withClient(db.url, (c) =>
        c.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'zones' AND column_name = 'label'"),
      );
      expect(col.rowCount).toBe(1);
    } finally {
      await app.end();
    }
  });

  test('GIVEN a lock that is never released WHEN the retries run out THEN the runner exits 1 with SQLSTATE 55P03, leaving the file unapplied', async () => {
    // GIVEN a lock that is never released during the run
    const { dir, env, app } = await pendingDdlBlockedByAnOpenTransaction();
    try {
      // WHEN the runner may retry once
      const r = await runCli(['up', '--dir', dir, '--lock-timeout', '100ms', '--lock-retries', '1', '--lock-retry-backoff', '50ms'], env);
      // THEN it fails naming the file and SQLSTATE, and the lock is what to check
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /0002_zone_label\.up\.sql:1 failed \(SQLSTATE 55P03\)[\s\S]*first check: advisory-lock connectivity and live traffic/,
      );
      expect((await versions(db.url)).map((x) => x.v)).toEqual([1]);
    } finally {
      await app.end();
    }
  });
});

describe('no-transaction files', () => {
  test('GIVEN a failed concurrent index build WHEN the runner reruns THEN the INVALID index is dropped and built again', async () => {
    // GIVEN duplicate rows, so a unique concurrent build fails and leaves an INVALID index
    const dir = migrationsDir({
      '0001_baseline.up.sql': "CREATE TABLE public.tokens (id int, hash text);\nINSERT INTO public.tokens VALUES (1, 'a'), (2, 'a');\n",
      '0002_tokens_hash.up.sql':
        '-- caracal:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tokens_hash_key ON public.tokens (hash);\n',
    });
    const env = envFor(db);
    const first = await runCli(['up', '--dir', dir], env);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/0002_tokens_hash\.up\.sql:2 failed \(SQLSTATE 23505\)/);
    const invalid = await withClient(db.url, (c) =>
      c.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.tokens_hash_key'::regclass"),
    );
    expect(invalid.rows[0].indisvalid).toBe(false);
    // WHEN the data is fixed and the runner reruns
    await withClient(db.url, (c) => c.query('DELETE FROM public.tokens WHERE id = 2'));
    const second = await runCli(['up', '--dir', dir], env);
    // THEN it drops the INVALID index, builds it again, and records the file
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/index public\.tokens_hash_key is INVALID .* dropping it to build it again/);
    const valid = await withClient(db.url, (c) =>
      c.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.tokens_hash_key'::regclass"),
    );
    expect(valid.rows[0].indisvalid).toBe(true);
    expect((await versions(db.url)).map((x) => x.v)).toEqual([1, 2]);
  });

  test('GIVEN a marked file with its own BEGIN/COMMIT WHEN applied THEN it runs statement by statement', async () => {
    // GIVEN a no-transaction file that groups two statements in its own transaction, then builds an index
    const dir = migrationsDir({
      '0001_own_tx.up.sql': [
        '-- caracal:no-transaction',
        'BEGIN;',
        "CREATE TABLE public.grants (id int, note text DEFAULT 'a;b');",
        'CREATE FUNCTION public.grant_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM public.grants; $$;',
        'COMMIT;',
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS grants_id ON public.grants (id);',
        '',
      ].join('\n'),
    });
    // WHEN applied
    const r = await runCli(['up', '--dir', dir], envFor(db));
    // THEN everything exists and the file is recorded
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 0,
      stderr: expect.stringMatching(/applying 0001_own_tx\.up\.sql \(no transaction\)/),
    });
    const n = await withClient(db.url, (c) =>
      c.query("SELECT public.grant_count() AS n, to_regclass('public.grants_id') IS NOT NULL AS idx"),
    );
    expect(n.rows[0]).toEqual({ n: '0', idx: true });
  });
});

describe('preconditions', () => {
  test('GIVEN a user that cannot create in schema public WHEN the runner runs THEN it is refused before anything runs', async () => {
    // GIVEN a login role that does not own the database (Postgres 15+: no CREATE in public for it)
    const role = `caracal_nonowner_${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(6).toString('hex')}`;
    await withClient(db.url, async (c) => {
      await c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
      await c.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${role}`);
    });
    try {
      // WHEN the runner runs as that role
      const r = await runCli(['up', '--dir', migrationsDir(BASIC)], envFor({ ...db, user: role, password }));
      // THEN it exits 2 saying what is missing and how to fix it
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(
          `user "${role}" cannot CREATE in schema public[\\s\\S]*PostgreSQL 15[\\s\\S]*first check: the user: run the Job as the database owner role, or GRANT CREATE ON SCHEMA public`,
        ),
      );
      expect(r.stdout + r.stderr).not.toContain(password);
      const exists = await withClient(db.url, (c) => c.query("SELECT to_regclass('public.schema_migrations') AS t"));
      expect(exists.rows[0].t).toBeNull();
    } finally {
      await withClient(db.url, (c) => c.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`));
    }
  });
});
