// The runner loses deadlocks with the running application: its session's deadlock_timeout is lower than the
// services', so when a file and an application transaction wait on each other, the runner's check fires first and
// the runner (which retries) is the one Postgres cancels. Real server, the real CLI bundle.
import { Client } from 'pg';
import { FreshDatabase, freshDatabase, withClient } from '../../support/postgres';
import { envFor, migrationsDir, runCli, startCli } from '../../fixtures/migrate/cli';

let db: FreshDatabase;

beforeEach(async () => {
  db = await freshDatabase();
});

afterEach(async () => {
  await db.drop();
});

const BASE = {
  '0001_base.up.sql':
    'CREATE TABLE public.zones (id int PRIMARY KEY, name text);\nCREATE TABLE public.sessions (id int PRIMARY KEY, zone_id int REFERENCES public.zones (id), seen int);\n' +
    "INSERT INTO public.zones VALUES (1, 'a');\nINSERT INTO public.sessions VALUES (1, 1, 0);\n",
};

/** The deadlock_timeout the runner's session had while it applied a file (the file records it). */
async function deadlockTimeoutSeen(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string; seen?: string }> {
  const dir = migrationsDir({
    '0001_seen.up.sql': `CREATE TABLE public.seen AS SELECT current_setting('deadlock_timeout') AS deadlock_timeout;\n`,
  });
  const r = await runCli(['up', '--dir', dir, ...args], env);
  const rows = await withClient(db.url, (c) => c.query('SELECT deadlock_timeout FROM public.seen')).catch(() => ({ rows: [] }));
  return { code: r.code ?? -1, stderr: r.stderr, seen: rows.rows[0]?.deadlock_timeout };
}

describe('deadlock_timeout of the runner', () => {
  test('GIVEN a superuser runner WHEN it applies a file THEN the file runs with deadlock_timeout 100ms', async () => {
    expect(await deadlockTimeoutSeen([], envFor(db))).toMatchObject({ code: 0, seen: '100ms' });
  });

  test('GIVEN --deadlock-timeout 0 WHEN the runner applies a file THEN the server default applies', async () => {
    expect(await deadlockTimeoutSeen(['--deadlock-timeout', '0'], envFor(db))).toMatchObject({ code: 0, seen: '1s' });
  });

  test.each([
    ['without SET on the parameter', 'warns and keeps the server value', false, '1s'],
    ['granted SET ON PARAMETER deadlock_timeout', 'lowers it', true, '100ms'],
  ])('GIVEN a migrator login %s WHEN it applies a file THEN it %s', async (_name, _outcome, granted, expected) => {
    const login = `migrator_${db.name.slice(-12)}`;
    await withClient(db.url, async (c) => {
      await c.query(`CREATE ROLE ${login} LOGIN PASSWORD 'p'`);
      await c.query(`ALTER DATABASE "${db.name}" OWNER TO ${login}`);
      if (granted) await c.query(`GRANT SET ON PARAMETER deadlock_timeout TO ${login}`);
    });
    try {
      const r = await deadlockTimeoutSeen([], envFor({ ...db, user: login, password: 'p' }));
      expect(r).toMatchObject({ code: 0, seen: expected });
      if (granted) expect(r.stderr).not.toMatch(/deadlock_timeout/);
      else
        expect(r.stderr).toMatch(
          new RegExp(`cannot lower deadlock_timeout to 100 ms[\\s\\S]*GRANT SET ON PARAMETER deadlock_timeout TO ${login}`),
        );
    } finally {
      await withClient(db.url, async (c) => {
        await c.query(`ALTER DATABASE "${db.name}" OWNER TO CURRENT_USER`);
        await c.query(`DROP OWNED BY ${login}`);
        await c.query(`DROP ROLE ${login}`);
      });
    }
  });

  test('GIVEN --deadlock-timeout with a bad value WHEN up runs THEN it exits 2 naming the flag', async () => {
    const r = await runCli(['up', '--deadlock-timeout', 'soon'], envFor(db));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--deadlock-timeout="soon" is not valid: expected a duration/);
  });

  // The application's transaction waits first: it holds a row of sessions and asks for zones while the file holds
  // zones (ACCESS EXCLUSIVE) and has not asked for sessions yet; the file's next statement closes the cycle.
  async function deadlockWithTheApplication(args: string[]): Promise<{ runner: { code: number; stderr: string }; app: string }> {
    const dir = migrationsDir(BASE);
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    const fileDir = migrationsDir({
      ...BASE,
      '0002_two_tables.up.sql':
        'ALTER TABLE public.zones ADD COLUMN tier text;\nSELECT pg_sleep(0.4);\nALTER TABLE public.sessions ADD COLUMN device text;\n',
    });
    const app = new Client({ connectionString: db.url, application_name: 'caracal-api' });
    await app.connect();
    try {
      await app.query('BEGIN');
      await app.query('UPDATE public.sessions SET seen = seen + 1 WHERE id = 1');
      const run = startCli(['up', '--dir', fileDir, '--lock-timeout', '10s', ...args], env);
      // Wait until the file holds zones, then the application asks for it (and waits).
      for (;;) {
        const r = await withClient(db.url, (c) =>
          c.query(`SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE a.application_name = 'caracal-migrate' AND l.relation = 'public.zones'::regclass AND l.granted AND l.mode = 'AccessExclusiveLock'`),
        );
        if (r.rowCount) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      let outcome = 'committed';
      try {
        await app.query('SELECT name FROM public.zones WHERE id = 1');
        await app.query('COMMIT');
      } catch (e) {
        outcome = (e as { code?: string }).code ?? String(e);
        await app.query('ROLLBACK').catch(() => undefined);
      }
      const result = await run.result;
      return { runner: { code: result.code ?? -1, stderr: result.stderr }, app: outcome };
    } finally {
      await app.end();
    }
  }

  test('GIVEN an application transaction waiting first in a deadlock with a file WHEN the runner has its default deadlock_timeout THEN the runner is cancelled and retries, and the application commits', async () => {
    const r = await deadlockWithTheApplication([]);
    expect(r.app).toBe('committed');
    expect(r.runner.code).toBe(0);
    expect(r.runner.stderr).toMatch(/0002_two_tables\.up\.sql:3 hit a deadlock \(SQLSTATE 40P01\).*retry 1\//);
  });

  test("GIVEN the same deadlock WHEN the runner keeps the server's deadlock_timeout THEN Postgres cancels the application's transaction", async () => {
    const r = await deadlockWithTheApplication(['--deadlock-timeout', '0']);
    expect(r.app).toBe('40P01');
    expect(r.runner.code).toBe(0);
  });
});
