// A `-- caracal:no-transaction` file runs statement by statement; the server's transaction status (ReadyForQuery)
// after each statement decides whether the file really ended outside a transaction. The runner never reports a
// file applied, nor records it, while a transaction the file opened is still open.
import { freshDatabase, FreshDatabase, withClient } from '../../support/postgres';
import { envFor, migrationsDir, runCli } from '../../fixtures/migrate/cli';

let db: FreshDatabase;
beforeEach(async () => {
  db = await freshDatabase();
});
afterEach(async () => {
  await db.drop();
});

const recorded = (url: string) =>
  withClient(url, async (c) =>
    (await c.query("SELECT to_regclass('public.schema_migrations') IS NOT NULL AS e")).rows[0].e
      ? (await c.query('SELECT version::int AS v FROM public.schema_migrations ORDER BY 1')).rows.map((r) => r.v as number)
      : [],
  );
const tables = (url: string) =>
  withClient(url, async (c) =>
    (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.tablename as string),
  );
/** The versions the output claims were applied: result lines on stdout, progress lines on stderr. */
const claimed = (r: { stdout: string; stderr: string }) => [
  ...new Set([...`${r.stdout}\n${r.stderr}`.matchAll(/^(?:caracal-migrate: )?applied ([0-9]+)_/gm)].map((m) => Number(m[1]))),
];

const A = 'CREATE TABLE public.a (i int);\n';
const OPEN = '-- caracal:no-transaction\nbegin;\ncreate table public.b (i int);\n';

describe('a no-transaction file that leaves a transaction open', () => {
  test('GIVEN a no-transaction file whose BEGIN has no COMMIT WHEN up runs THEN it exits 1 naming file and line, claims nothing of it, and status shows it pending', async () => {
    const dir = migrationsDir({ '0001_a.up.sql': A, '0002_b.up.sql': OPEN });
    const env = envFor(db);
    const r = await runCli(['up', '--dir', dir], env);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 1,
      stderr: expect.stringMatching(/0002_b\.up\.sql:2 .*leaves a transaction open[\s\S]*first check: .*COMMIT/),
    });
    expect(claimed(r)).toEqual([1]);
    expect(r.stdout).not.toMatch(/done:/);
    expect({ recorded: await recorded(db.url), tables: await tables(db.url) }).toEqual({
      recorded: [1],
      tables: ['a', 'schema_migrations'],
    });
    const status = JSON.parse((await runCli(['status', '--dir', dir, '--json'], env)).stdout);
    expect(status.migrations.map((m: { version: string; state: string }) => [m.version, m.state])).toEqual([
      ['1', 'applied'],
      ['2', 'pending'],
    ]);
  });

  test('GIVEN that file followed by an ordinary file that fails WHEN up runs THEN every file the output claims applied is recorded and the failing file never runs', async () => {
    const dir = migrationsDir({
      '0001_a.up.sql': A,
      '0002_b.up.sql': OPEN,
      '0003_c.up.sql': 'CREATE TABLE public.c (i int);\nSELECT 1 / 0;\n',
    });
    const r = await runCli(['up', '--dir', dir], envFor(db));
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 1,
      stderr: expect.stringMatching(/0002_b\.up\.sql:2 .*leaves a transaction open/),
    });
    expect(r.stderr).not.toMatch(/0003_c/);
    expect(claimed(r)).toEqual(await recorded(db.url));
    expect(await recorded(db.url)).toEqual([1]);
  });

  test('GIVEN a no-transaction file that runs statements before opening a transaction it never closes WHEN up runs THEN the statements before BEGIN stay, the ones after are rolled back, and the message says which', async () => {
    const dir = migrationsDir({
      '0001_a.up.sql': A,
      '0002_b.up.sql':
        '-- caracal:no-transaction\ncreate table public.before_begin (i int);\nstart transaction;\ncreate table public.after_begin (i int);\n',
    });
    const r = await runCli(['up', '--dir', dir], envFor(db));
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 1,
      stderr: expect.stringMatching(/0002_b\.up\.sql:3 .*START TRANSACTION[\s\S]*rolled back/),
    });
    expect(await tables(db.url)).toEqual(['a', 'before_begin', 'schema_migrations']);
    expect(await recorded(db.url)).toEqual([1]);
  });

  test('GIVEN a no-transaction file that opens and commits its own transaction WHEN up runs THEN it is applied and recorded', async () => {
    const dir = migrationsDir({ '0001_b.up.sql': '-- caracal:no-transaction\nBEGIN;\nCREATE TABLE public.b (i int);\nCOMMIT;\n' });
    const r = await runCli(['up', '--dir', dir], envFor(db));
    expect({ code: r.code, claimed: claimed(r) }).toEqual({ code: 0, claimed: [1] });
    expect({ recorded: await recorded(db.url), tables: await tables(db.url) }).toEqual({
      recorded: [1],
      tables: ['b', 'schema_migrations'],
    });
  });
});
