// What only psql can run: `COPY ... FROM STDIN` (its data follows in the file) and psql meta-commands (a backslash
// outside strings and comments). The runner sends SQL to the server, so it refuses both up front, naming file:line
// and what to write instead; `validate --static` reports the same from the runner's own scanner.
import path from 'node:path';
import { freshDatabase, FreshDatabase, withClient } from '../../support/postgres';
import { BASIC, envFor, migrationsDir, runCli } from '../../fixtures/migrate/cli';

let db: FreshDatabase;
beforeEach(async () => {
  db = await freshDatabase();
});
afterEach(async () => {
  await db.drop();
});

const tables = (url: string) =>
  withClient(url, async (c) =>
    (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.tablename as string),
  );

const COPY_FROM_STDIN = "INSERT INTO public.zones VALUES (1, 'one');\nCOPY public.zones (id, name) FROM STDIN;\n2\ttwo\n\\.\n";

describe('statements only psql can run', () => {
  test.each([
    ['COPY ... FROM STDIN with its data', COPY_FROM_STDIN, /0002_x\.up\.sql:2: COPY \.\.\. FROM STDIN .*instead: .*INSERT/],
    [
      'a lower-case copy from stdin with options',
      'copy public.zones from stdin with (format csv);\n1,one\n\\.\n',
      /0002_x\.up\.sql:1: COPY \.\.\. FROM STDIN/,
    ],
    [
      'a psql \\set meta-command',
      "\\set zone 1\nINSERT INTO public.zones VALUES (:zone, 'one');\n",
      /0002_x\.up\.sql:1: psql meta-command \\set .*instead: /,
    ],
    ['a meta-command after a statement', 'CREATE TABLE public.t (i int);\n  \\echo done\n', /0002_x\.up\.sql:2: psql meta-command \\echo/],
    [
      'a meta-command in a no-transaction file',
      '-- caracal:no-transaction\n\\connect other\nCREATE TABLE public.t (i int);\n',
      /0002_x\.up\.sql:2: psql meta-command \\connect/,
    ],
  ])(
    'GIVEN a pending file with %s WHEN up runs THEN it exits 2 naming file:line and what to do instead, and applies nothing',
    async (_t, sql, message) => {
      const dir = migrationsDir({ '0001_baseline.up.sql': BASIC['0001_baseline.up.sql'], '0002_x.up.sql': sql });
      const r = await runCli(['up', '--dir', dir], envFor(db));
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
      expect(await tables(db.url)).toEqual([]);
    },
  );

  test('GIVEN backslashes and COPY FROM STDIN only inside strings, comments and dollar quotes WHEN up runs THEN the file is applied', async () => {
    const dir = migrationsDir({
      '0001_ok.up.sql': [
        '-- \\set in a comment; COPY t FROM STDIN',
        "CREATE TABLE public.notes (a text DEFAULT E'back\\\\slash', b text DEFAULT 'c\\d', c text DEFAULT 'COPY x FROM STDIN');",
        '/* \\x and /* nested \\q */ */',
        "DO $body$ BEGIN PERFORM '\\\\'; END $body$;",
        '',
      ].join('\n'),
    });
    const r = await runCli(['up', '--dir', dir], envFor(db));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(await tables(db.url)).toEqual(['notes', 'schema_migrations']);
  });

  test('GIVEN a COPY FROM STDIN file WHEN validate --static runs THEN it fails naming file:line', async () => {
    const dir = migrationsDir({ '0001_baseline.up.sql': BASIC['0001_baseline.up.sql'], '0002_x.up.sql': COPY_FROM_STDIN });
    const r = await runCli(['validate', '--static', '--dir', dir], { PATH: process.env.PATH, HOME: path.dirname(dir) });
    expect({ code: r.code, stdout: r.stdout }).toEqual({
      code: 4,
      stdout: expect.stringMatching(/^FAIL filenames: .*\n[\s\S]*0002_x\.up\.sql:2: COPY \.\.\. FROM STDIN/m),
    });
  });
});
