// The runner under faults, on a Postgres of this file's own: a runner killed mid-migration, a server restart
// during a run, a Job that starts before its database (--wait-for-db), and a runaway statement (--statement-timeout).
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freshDatabase, FreshDatabase, OwnCluster, startOwnCluster, withClient } from '../../support/postgres';
import { BASIC, envFor, migrationsDir, runCli, startCli, tempDir } from '../../fixtures/migrate/cli';
import { startTransactionPooler } from '../../fixtures/migrate/transaction-pooler';
import { until as pollUntil } from '../../support/until';

let own: OwnCluster;
let db: FreshDatabase;
beforeAll(async () => {
  // Loopback trust, so the stand-in transaction pooler below can open server connections without a password.
  const hbaDir = tempDir('caracal-hba-');
  chmodSync(hbaDir, 0o755);
  const hba = path.join(hbaDir, 'pg_hba.conf');
  writeFileSync(hba, 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
  chmodSync(hba, 0o644);
  own = await startOwnCluster({ postgresFlags: ['-c', `hba_file=${hba}`] });
});
afterAll(async () => {
  await own.destroy();
});
beforeEach(async () => {
  db = await freshDatabase(own.url);
});
afterEach(async () => {
  await db.drop().catch(() => undefined);
});

// A migration that sleeps only while the database setting caracal.test_sleep is set (reruns are then fast).
const SLOW = {
  '0001_baseline.up.sql': BASIC['0001_baseline.up.sql'],
  '0002_slow.up.sql':
    "CREATE TABLE public.partial (id int);\nINSERT INTO public.partial VALUES (1);\nSELECT pg_sleep(current_setting('caracal.test_sleep', true)::float8);\n",
};

/** The shared poll, where a failing probe (the server or pooler restarting) means "not yet". */
const until = <T>(probe: () => Promise<T | undefined | false>, what: string, limitMs?: number): Promise<T> =>
  pollUntil(() => probe().catch(() => undefined), what, limitMs);

const lockHeld = () =>
  withClient(
    db.url,
    async (c) =>
      (await c.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 1667330657 AND objid = 1667329073 AND objsubid = 1"))
        .rowCount! > 0,
  );
const appliedVersions = () =>
  withClient(db.url, async (c) =>
    (await c.query('SELECT version::int AS v FROM public.schema_migrations ORDER BY 1')).rows.map((r) => r.v),
  );
const partialExists = () =>
  withClient(db.url, async (c) => (await c.query("SELECT to_regclass('public.partial') IS NOT NULL AS e")).rows[0].e);

describe('a runner killed with SIGKILL in the middle of a slow migration', () => {
  test('GIVEN a slow migration WHEN the runner is killed with SIGKILL THEN nothing of the file is left, the lock is freed within the connection-check bound, and the next run completes', async () => {
    // GIVEN a slow second migration, and a runner checking the client connection every 500 ms
    await withClient(db.url, (c) => c.query(`ALTER DATABASE "${db.name}" SET caracal.test_sleep = '60'`));
    const dir = migrationsDir(SLOW);
    const env = envFor(db);
    const run = startCli(['up', '--dir', dir, '--connection-check-interval', '500ms'], env);
    await run.waitForStderr(/applying 0002_slow\.up\.sql/);
    await until(
      () =>
        withClient(
          db.url,
          async (c) => (await c.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")).rowCount! > 0,
        ),
      'the slow statement',
    );
    // WHEN the runner is killed
    run.child.kill('SIGKILL');
    expect((await run.result).signal).toBe('SIGKILL');
    // THEN its backend ends and the lock is free again well within the bound (checks every 500 ms), with nothing of 0002
    await until(async () => !(await lockHeld()), 'the advisory lock to be released', 10_000);
    expect(await partialExists()).toBe(false);
    expect(await appliedVersions()).toEqual([1]);
    // AND the next run completes
    await withClient(db.url, (c) => c.query(`ALTER DATABASE "${db.name}" RESET caracal.test_sleep`));
    const next = await runCli(['up', '--dir', dir], env);
    expect(next.code).toBe(0);
    expect(await appliedVersions()).toEqual([1, 2]);
  });
});

describe('a runner stopped with SIGTERM (a deleted Job)', () => {
  test('GIVEN a slow migration WHEN the runner gets SIGTERM THEN it exits 143 saying the file is rolled back, and the lock is freed', async () => {
    // GIVEN a runner in the middle of a slow migration
    await withClient(db.url, (c) => c.query(`ALTER DATABASE "${db.name}" SET caracal.test_sleep = '60'`));
    const run = startCli(['up', '--dir', migrationsDir(SLOW), '--connection-check-interval', '500ms'], envFor(db));
    await run.waitForStderr(/applying 0002_slow\.up\.sql/);
    await until(
      () =>
        withClient(
          db.url,
          async (c) => (await c.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")).rowCount! > 0,
        ),
      'the slow statement',
    );
    // WHEN it gets SIGTERM
    run.child.kill('SIGTERM');
    const r = await run.result;
    // THEN it says what happened, exits 143, and the server frees the lock with nothing of the file
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/interrupted by SIGTERM: the file in progress is rolled back by the server; rerun to finish/);
    await until(async () => !(await lockHeld()), 'the advisory lock to be released', 10_000);
    expect(await partialExists()).toBe(false);
  });
});

describe('the server restarted during a run', () => {
  test('GIVEN a slow migration WHEN the server restarts THEN the error names the file, and the rerun completes', async () => {
    // GIVEN a runner in the middle of a slow migration
    await withClient(db.url, (c) => c.query(`ALTER DATABASE "${db.name}" SET caracal.test_sleep = '60'`));
    const dir = migrationsDir(SLOW);
    const env = envFor(db);
    const run = startCli(['up', '--dir', dir], env);
    await run.waitForStderr(/applying 0002_slow\.up\.sql/);
    await until(
      () =>
        withClient(
          db.url,
          async (c) => (await c.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")).rowCount! > 0,
        ),
      'the slow statement',
    );
    // WHEN the server restarts
    await own.restart();
    const r = await run.result;
    // THEN the runner exits 1 saying the connection was lost while applying that file, which was rolled back
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /migration 0002_slow\.up\.sql:3 failed[\s\S]*connection to .* was lost while applying it[\s\S]*rolled back[\s\S]*first check: advisory-lock connectivity: the server restarted/,
    );
    expect(await partialExists()).toBe(false);
    // AND the rerun completes
    await withClient(db.url, (c) => c.query(`ALTER DATABASE "${db.name}" RESET caracal.test_sleep`));
    const next = await runCli(['up', '--dir', dir], env);
    expect(next.code).toBe(0);
    expect(await appliedVersions()).toEqual([1, 2]);
  });
});

describe('--wait-for-db', () => {
  test('GIVEN the server down WHEN the runner starts with --wait-for-db THEN it keeps retrying and applies once the server is up', async () => {
    // GIVEN the server stopped
    const dir = migrationsDir(BASIC);
    const env = envFor(db);
    await own.stop();
    let started = false;
    try {
      // WHEN the runner starts with a deadline and the server comes up after it has retried
      const run = startCli(['up', '--dir', dir, '--wait-for-db=60s'], env);
      await run.waitForStderr(
        /database not reachable yet \(nothing accepts connections at .*\); retrying until the --wait-for-db deadline/,
      );
      await own.start();
      started = true;
      // THEN it applies everything and exits 0
      const r = await run.result;
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/applied 0003_zone_label\.up\.sql/) });
    } finally {
      if (!started) await own.start();
    }
  });

  test('GIVEN the server stopped WHEN the runner starts without --wait-for-db THEN it fails at once pointing at host and port', async () => {
    const env = envFor(db);
    await own.stop();
    try {
      const r = await runCli(['up', '--dir', migrationsDir(BASIC)], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/connection refused[\s\S]*first check: host and port/);
    } finally {
      await own.start();
    }
  });
});

describe('a transaction-mode pooler in front of the database', () => {
  test('GIVEN a transaction-mode pooler in front of the database WHEN the runner connects THEN it is refused before anything runs, asking for a direct endpoint', async () => {
    // GIVEN an endpoint that hands each transaction to another server connection (like PgBouncer pool_mode=transaction)
    const pooler = await startTransactionPooler(db.port);
    try {
      // WHEN the runner connects through it
      const r = await runCli(['up', '--dir', migrationsDir(BASIC)], envFor({ ...db, port: pooler.port }));
      // THEN it exits 2 naming the problem, and nothing was created
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /behind a transaction-mode pooler: the backend changed between two statements[\s\S]*first check: host and port: point the migration Job at the database directly/,
      );
      const exists = await withClient(db.url, (c) => c.query("SELECT to_regclass('public.schema_migrations') AS t"));
      expect(exists.rows[0].t).toBeNull();
    } finally {
      await pooler.close();
    }
  });
});

describe('--statement-timeout', () => {
  test('GIVEN a runaway migration statement WHEN --statement-timeout passes THEN it is cancelled: exit 1 naming the file and SQLSTATE 57014, nothing of it kept, and the rerun completes', async () => {
    // GIVEN a second migration that would sleep for a minute, and a 1 s session statement_timeout
    await withClient(db.url, (c) => c.query(`ALTER DATABASE "${db.name}" SET caracal.test_sleep = '60'`));
    const dir = migrationsDir(SLOW);
    const env = envFor(db);
    // WHEN the runner applies it
    const r = await runCli(['up', '--dir', dir, '--statement-timeout', '1s'], env);
    // THEN the server cancelled the statement, the file left nothing, and the error says where and what
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/0002_slow\.up\.sql/);
    expect(r.stderr).toMatch(/57014/);
    expect(await partialExists()).toBe(false);
    expect(await appliedVersions()).toEqual([1]);
    expect(await lockHeld()).toBe(false);
    // AND once the statement is quick again, the rerun applies it
    await withClient(db.url, (c) => c.query(`ALTER DATABASE "${db.name}" SET caracal.test_sleep = '0'`));
    const rerun = await runCli(['up', '--dir', dir, '--statement-timeout', '1s'], env);
    expect(rerun.code).toBe(0);
    expect(await appliedVersions()).toEqual([1, 2]);
  });
});
