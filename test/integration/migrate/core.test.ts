// The runner core as a library (what the CLI, the Job and `verify` call): results, events and typed errors,
// against a real Postgres. Nothing here prints or exits.
import { Client } from 'pg';
import {
  ADVISORY_LOCK_KEY,
  ChecksumDriftError,
  LockTimeoutError,
  MigrateEvent,
  migrateUp,
  MigrationFailedError,
  migrationStatus,
  resolveConnection,
  RunnerOptions,
} from '../../../src/migrate';
import { freshDatabase, FreshDatabase, withClient } from '../../support/postgres';
import { until } from '../../support/until';
import { BASIC, envFor, migrationsDir } from '../../fixtures/migrate/cli';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

let db: FreshDatabase;
beforeEach(async () => {
  db = await freshDatabase();
});
afterEach(async () => {
  await db.drop();
});

const options = (dir: string, extra: Partial<RunnerOptions> = {}): RunnerOptions => ({
  dir,
  connection: resolveConnection(envFor(db)),
  ...extra,
});

describe('migrateUp / migrationStatus as a library', () => {
  test('GIVEN migrations WHEN migrateUp runs THEN it returns what it applied, reports progress through onEvent, and migrationStatus sees it all applied', async () => {
    const events: MigrateEvent[] = [];
    const dir = migrationsDir(BASIC);
    const result = await migrateUp(options(dir, { onEvent: (e) => events.push(e) }));
    expect(result.applied.map((a) => [a.version, a.filename])).toEqual([
      [1n, '0001_baseline.up.sql'],
      [2n, '0002_providers.up.sql'],
      [3n, '0003_zone_label.up.sql'],
    ]);
    expect(result.historyTable).toBe('created');
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['connected', 'lock-acquired', 'history-table', 'applying', 'applied']),
    );
    const status = await migrationStatus(options(dir));
    expect({ applied: status.plan.applied.length, pending: status.plan.pending.length, table: status.historyTableExists }).toEqual({
      applied: 3,
      pending: 0,
      table: true,
    });
  });

  test('GIVEN a failing migration WHEN migrateUp runs THEN it throws MigrationFailedError carrying file, line, column, SQLSTATE and exit code 1', async () => {
    const dir = migrationsDir({ '0001_bad.up.sql': "CREATE TABLE public.a (id int);\nINSERT INTO public.a VALUES ('x');\n" });
    const error = await migrateUp(options(dir)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(error).toMatchObject({ file: '0001_bad.up.sql', line: 2, column: 30, sqlState: '22P02', exitCode: 1 });
  });

  test('GIVEN 100 applied files, one then edited, and no manifest WHEN migrateUp runs (reading the files while it connects) THEN it throws ChecksumDriftError naming that file', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [
        `${String(i + 1).padStart(4, '0')}_t${i + 1}.up.sql`,
        `CREATE TABLE public.t${i + 1} (id int);\n`,
      ]),
    );
    const dir = migrationsDir(files);
    expect((await migrateUp(options(dir))).applied).toHaveLength(100);
    expect(await migrateUp(options(dir))).toMatchObject({ applied: [], alreadyApplied: 100 });
    writeFileSync(path.join(dir, '0077_t77.up.sql'), 'CREATE TABLE public.t77 (id bigint);\n');
    await expect(migrateUp(options(dir))).rejects.toThrow(ChecksumDriftError);
    await expect(migrateUp(options(dir))).rejects.toThrow(/0077_t77\.up\.sql/);
  });

  test('GIVEN a file refused for its content AND a database that is down WHEN migrateUp runs THEN the file is refused (exit code 2), not the connection', async () => {
    const dir = migrationsDir({ ...BASIC, '0004_empty.up.sql': '-- nothing yet\n' });
    const down = { ...resolveConnection(envFor(db)), port: 1 };
    await expect(migrateUp({ dir, connection: down })).rejects.toMatchObject({ name: 'UnsafeFilenameError', exitCode: 2 });
    await expect(migrateUp({ dir, connection: down })).rejects.toThrow(/0004_empty\.up\.sql.*only comments/);
  });

  test('GIVEN a file refused for its content WHEN migrateUp runs THEN it is refused (exit code 2) and nothing is written', async () => {
    const dir = migrationsDir({ ...BASIC, '0004_empty.up.sql': '' });
    await expect(migrateUp(options(dir))).rejects.toMatchObject({ name: 'UnsafeFilenameError', exitCode: 2 });
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      expect((await client.query(`SELECT to_regclass('public.schema_migrations') AS t`)).rows[0].t).toBeNull();
    } finally {
      await client.end();
    }
  });

  test('GIVEN applied and pending files WHEN migrateUp returns (without waiting for the server to close the socket) THEN its sessions end: no backend of it is left', async () => {
    const dir = migrationsDir(BASIC);
    await migrateUp(options(dir));
    await migrateUp(options(dir));
    const left = () =>
      withClient(db.url, async (c) => {
        const r = await c.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'caracal-migrate'`,
          [db.name],
        );
        return r.rows[0].n as number;
      });
    expect(await until(async () => (await left()) === 0, "the runner's sessions to end")).toBe(true);
  });

  test('GIVEN an edited applied file WHEN migrateUp runs THEN it throws ChecksumDriftError (exit code 4)', async () => {
    const dir = migrationsDir(BASIC);
    await migrateUp(options(dir));
    writeFileSync(path.join(dir, '0001_baseline.up.sql'), 'SELECT 1;');
    await expect(migrateUp(options(dir))).rejects.toMatchObject({ name: 'ChecksumDriftError', exitCode: 4 });
    await expect(migrateUp(options(dir))).rejects.toBeInstanceOf(ChecksumDriftError);
  });

  test("GIVEN another session holding the lock WHEN migrateUp waits past its deadline THEN it throws LockTimeoutError (exit code 3) with the holder's pid", async () => {
    const holder = new Client({ connectionString: db.url, application_name: 'core-test-holder' });
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${ADVISORY_LOCK_KEY})`);
      const pid = (await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const error = await migrateUp(options(migrationsDir(BASIC), { lockWaitMs: 300 })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockTimeoutError);
      expect(error).toMatchObject({ holderPid: pid, holderApplicationName: 'core-test-holder', exitCode: 3 });
    } finally {
      await holder.end();
    }
  });
});
