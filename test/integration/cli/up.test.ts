// caracal-migrate up/status as a real child process against a real Postgres: apply, no-op, failure, refusals,
// rollback, ConfigMap layout.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freshDatabase, FreshDatabase, withClient } from '../../support/postgres';
import { BASIC, envFor, migrationsDir, runCli, tempDir } from '../../fixtures/migrate/cli';

let db: FreshDatabase;
beforeEach(async () => {
  db = await freshDatabase();
});
afterEach(async () => {
  await db.drop();
});

const history = (url: string) =>
  withClient(url, async (c) => {
    const exists = await c.query("SELECT to_regclass('public.schema_migrations') IS NOT NULL AS e");
    if (!exists.rows[0].e) return [];
    return (
      await c.query(
        'SELECT version::text AS version, name, checksum, applied_at, execution_ms, applied_by FROM public.schema_migrations ORDER BY version',
      )
    ).rows;
  });
const tables = (url: string) =>
  withClient(url, async (c) =>
    (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.tablename),
  );

describe('caracal-migrate up', () => {
  test('GIVEN an empty database WHEN up runs THEN every file is applied and version, name, checksum, time and who are recorded', async () => {
    // GIVEN three migrations and an empty database
    const dir = migrationsDir(BASIC);
    // WHEN the runner runs
    const r = await runCli(['up', '--dir', dir], envFor(db));
    // THEN it exits 0, the tables exist, and each version is recorded once
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/done: 3 applied/);
    expect(await tables(db.url)).toEqual(['providers', 'schema_migrations', 'zones']);
    const rows = await history(db.url);
    expect(rows.map((x) => [x.version, x.name])).toEqual([
      ['1', 'baseline'],
      ['2', 'providers'],
      ['3', 'zone_label'],
    ]);
    for (const row of rows) {
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.applied_by).toMatch(/caracal-migrate/);
      expect(row.execution_ms).toBeGreaterThanOrEqual(0);
    }
  });

  test('GIVEN a bad --provision file WHEN up runs THEN it is refused before anything is migrated', async () => {
    // GIVEN migrations, an empty database and a provisioning config that does not exist
    const dir = migrationsDir(BASIC);
    // WHEN the runner runs with it
    const r = await runCli(['up', '--dir', dir, '--provision', '/nonexistent/provision.json'], envFor(db));
    // THEN it exits 2 naming the file, and the database is unchanged
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(/provisioning config \/nonexistent\/provision\.json cannot be read \(ENOENT\)/),
    });
    expect(await history(db.url)).toEqual([]);
    expect(await tables(db.url)).toEqual([]);
  });

  test('GIVEN every migration applied WHEN up runs a second time THEN it is a no-op', async () => {
    // GIVEN a database with every migration applied
    const dir = migrationsDir(BASIC);
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    const before = await history(db.url);
    // WHEN it runs again
    const r = await runCli(['up', '--dir', dir], env);
    // THEN nothing changes
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nothing to do: 3 already applied/);
    expect(await history(db.url)).toEqual(before);
  });

  test('GIVEN a file that fails half-way WHEN up runs THEN the file is rolled back and it exits 1 naming the file, line and SQLSTATE', async () => {
    // GIVEN a second file whose fourth line is wrong after a statement that succeeds
    const dir = migrationsDir({
      '0001_baseline.up.sql': BASIC['0001_baseline.up.sql'],
      '0002_half.up.sql':
        'CREATE TABLE public.half_done (id int);\nINSERT INTO public.half_done VALUES (1);\n\nSELECT * FROM public.no_such_table;\n',
    });
    // WHEN the runner applies it
    const r = await runCli(['up', '--dir', dir], envFor(db));
    // THEN it exits 1 naming file, line and SQLSTATE, and nothing of that file remains
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/0002_half\.up\.sql:4:15 failed \(SQLSTATE 42P01\)/);
    expect(r.stderr).toMatch(/rolled back/);
    expect(await tables(db.url)).toEqual(['schema_migrations', 'zones']);
    expect((await history(db.url)).map((x) => x.version)).toEqual(['1']);
  });

  test.each([
    [
      'a syntax error in the first statement',
      'SELEC 1;\nCREATE TABLE public.x (id int);\n',
      /0002_bad\.up\.sql:1:1 failed \(SQLSTATE 42601\)/,
    ],
    [
      'a runtime error in a middle statement',
      'CREATE TABLE public.x (id int);\nSELECT 1 / 0;\nCREATE TABLE public.y (id int);\n',
      /0002_bad\.up\.sql:2 failed \(SQLSTATE 22012\): division by zero/,
    ],
    [
      'an error in the only statement, after comments',
      '-- header\n\n  SELECT * FROM public.nope;',
      /0002_bad\.up\.sql:3:17 failed \(SQLSTATE 42P01\)/,
    ],
  ])('GIVEN %s WHEN up runs THEN it names file, line and SQLSTATE, and applies nothing of it', async (_t, sql, message) => {
    const dir = migrationsDir({ '0001_baseline.up.sql': BASIC['0001_baseline.up.sql'], '0002_bad.up.sql': sql });
    const r = await runCli(['up', '--dir', dir], envFor(db));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(message) });
    expect(await tables(db.url)).toEqual(['schema_migrations', 'zones']);
  });

  test('GIVEN a last statement that ends in a line comment without a newline WHEN up runs THEN it is applied', async () => {
    const dir = migrationsDir({ '0001_baseline.up.sql': 'CREATE TABLE public.zones (id int) -- no semicolon, no newline' });
    const r = await runCli(['up', '--dir', dir], envFor(db));
    expect(r.code).toBe(0);
    expect((await history(db.url)).map((x) => x.name)).toEqual(['baseline']);
  });

  test('GIVEN a database ahead of the files (an application rollback) WHEN up runs THEN it exits 0 and says so', async () => {
    // GIVEN every file applied by a newer release, then the newest file gone (older release's directory)
    const dir = migrationsDir(BASIC);
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    rmSync(path.join(dir, '0003_zone_label.up.sql'));
    // WHEN the older release's runner runs
    const r = await runCli(['up', '--dir', dir], env);
    // THEN it exits 0 and explains the rollback
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/ahead of the migration files: 3 \(zone_label\).*application rollback/);
    expect((await history(db.url)).length).toBe(3);
  });

  test('GIVEN a directory laid out like a mounted ConfigMap (..data symlinks) WHEN up runs THEN it is applied', async () => {
    // GIVEN the layout kubelet makes: ..<timestamp>/ with the files, ..data -> it, and one symlink per key
    const dir = tempDir('caracal-configmap-');
    const stamp = '..2026_11_23_18_00_00.123456789';
    mkdirSync(path.join(dir, stamp));
    for (const [name, content] of Object.entries(BASIC)) {
      writeFileSync(path.join(dir, stamp, name), content);
      symlinkSync(path.join('..data', name), path.join(dir, name));
    }
    symlinkSync(stamp, path.join(dir, '..data'));
    // WHEN the runner runs over the mount
    const r = await runCli(['up', '--dir', dir], envFor(db));
    // THEN every file is applied
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect((await history(db.url)).map((x) => x.name)).toEqual(['baseline', 'providers', 'zone_label']);
  });

  test('GIVEN applied files checked out again with CRLF line endings and a BOM WHEN up runs THEN it is not drift', async () => {
    // GIVEN applied files, then the same files checked out with CRLF and a BOM
    const dir = migrationsDir(BASIC);
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    for (const [name, content] of Object.entries(BASIC)) writeFileSync(path.join(dir, name), `\uFEFF${content.replace(/\n/g, '\r\n')}`);
    // WHEN the runner runs again
    const r = await runCli(['up', '--dir', dir], env);
    // THEN there is nothing to do
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nothing to do/);
  });
});

describe('caracal-migrate up refuses, leaving the database unchanged', () => {
  type Case = [string, (dir: string) => void, number, RegExp];
  const cases: Case[] = [
    [
      'an edited applied file (checksum drift)',
      (dir) => writeFileSync(path.join(dir, '0002_providers.up.sql'), `${BASIC['0002_providers.up.sql']}-- edited\n`),
      4,
      /checksum drift[\s\S]*0002_providers\.up\.sql[\s\S]*repair --version/,
    ],
    [
      'a whitespace-only edit of an applied file (every byte counts)',
      (dir) => writeFileSync(path.join(dir, '0003_zone_label.up.sql'), `${BASIC['0003_zone_label.up.sql']} `),
      4,
      /checksum drift[\s\S]*0003_zone_label/,
    ],
    [
      'an applied file removed from the middle (a gap)',
      (dir) => rmSync(path.join(dir, '0002_providers.up.sql')),
      4,
      /gap[\s\S]*version 2 \(providers\) is applied but its file is not in the directory/,
    ],
    [
      'a name outside the grammar',
      (dir) => writeFileSync(path.join(dir, '0004_1-late.up.sql'), 'SELECT 1;'),
      2,
      /0004_1-late\.up\.sql.*does not match NNNN_name\.up\.sql/,
    ],
    [
      'a path traversal in the name',
      (dir) => writeFileSync(path.join(dir, '0004_x..up.sql'), 'SELECT 1;'),
      2,
      /0004_x\.\.up\.sql.*contains "\.\."/,
    ],
    [
      'a down migration',
      (dir) => writeFileSync(path.join(dir, '0004_undo.down.sql'), 'DROP TABLE public.zones;'),
      2,
      /0004_undo\.down\.sql[\s\S]*forward-only/,
    ],
    [
      'a duplicate version (0004 and 00004)',
      (dir) => {
        writeFileSync(path.join(dir, '0004_a.up.sql'), 'SELECT 1;');
        writeFileSync(path.join(dir, '00004_b.up.sql'), 'SELECT 2;');
      },
      2,
      /same version 4/,
    ],
    [
      'a symlink leading out of the directory',
      (dir) => {
        const outside = tempDir();
        writeFileSync(path.join(outside, 'x.sql'), 'DROP TABLE public.zones;');
        symlinkSync(path.join(outside, 'x.sql'), path.join(dir, '0004_outside.up.sql'));
      },
      2,
      /0004_outside\.up\.sql[\s\S]*symlink leading outside/,
    ],
    ['an empty file', (dir) => writeFileSync(path.join(dir, '0004_empty.up.sql'), ''), 2, /0004_empty\.up\.sql.*is empty/],
    [
      'a comment-only file',
      (dir) => writeFileSync(path.join(dir, '0004_comment.up.sql'), '-- nothing\n/* here */\n'),
      2,
      /0004_comment\.up\.sql.*only comments/,
    ],
    [
      'a file that is not UTF-8',
      (dir) =>
        writeFileSync(
          path.join(dir, '0004_latin1.up.sql'),
          Buffer.from([0x53, 0x45, 0x4c, 0x45, 0x43, 0x54, 0x20, 0x27, 0xe9, 0x27, 0x3b]),
        ),
      2,
      /0004_latin1\.up\.sql.*not valid UTF-8/,
    ],
    ['an upper-case name', (dir) => writeFileSync(path.join(dir, '0004_Zones.up.sql'), 'SELECT 1;'), 2, /0004_Zones\.up\.sql.*upper case/],
    [
      'a name with a shell metacharacter',
      (dir) => writeFileSync(path.join(dir, '0004_a;rm.up.sql'), 'SELECT 1;'),
      2,
      /shell metacharacter/,
    ],
    ['a name with a space', (dir) => writeFileSync(path.join(dir, '0004_a b.up.sql'), 'SELECT 1;'), 2, /whitespace/],
    [
      'a file with its own BEGIN/COMMIT and no marker',
      (dir) => writeFileSync(path.join(dir, '0004_own_tx.up.sql'), 'BEGIN;\nCREATE TABLE public.t4 (id int);\nCOMMIT;\n'),
      2,
      /0004_own_tx\.up\.sql:1 has its own BEGIN[\s\S]*caracal:no-transaction/,
    ],
  ];

  test.each(cases)('GIVEN %s WHEN up runs THEN it refuses, leaving the database unchanged', async (_title, change, code, message) => {
    // GIVEN every basic file applied, then the directory changed
    const dir = migrationsDir(BASIC);
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    writeFileSync(path.join(dir, '0009_next.up.sql'), 'CREATE TABLE public.next_one (id int);\n');
    const before = { history: await history(db.url), tables: await tables(db.url) };
    change(dir);
    // WHEN the runner runs
    const r = await runCli(['up', '--dir', dir], env);
    // THEN it refuses with the documented code and a message naming the problem, and the database is unchanged
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: expect.stringMatching(message) });
    expect({ history: await history(db.url), tables: await tables(db.url) }).toEqual(before);
  });
});

describe('caracal-migrate up refuses a new file numbered before the newest applied version', () => {
  test('GIVEN a new file numbered before the newest applied version WHEN up runs THEN it exits 4 naming the file and leaves the database unchanged', async () => {
    // GIVEN 0001 and 0003 applied
    const dir = migrationsDir({
      '0001_baseline.up.sql': BASIC['0001_baseline.up.sql'],
      '0003_zone_label.up.sql': BASIC['0003_zone_label.up.sql'],
    });
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    const before = await history(db.url);
    // WHEN a late 0002 appears
    writeFileSync(path.join(dir, '0002_providers.up.sql'), BASIC['0002_providers.up.sql']);
    const r = await runCli(['up', '--dir', dir], env);
    // THEN the runner refuses it
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/out of order[\s\S]*0002_providers\.up\.sql is new but sorts before the newest applied version 3/);
    expect(await history(db.url)).toEqual(before);
    expect(await tables(db.url)).toEqual(['schema_migrations', 'zones']);
  });
});

describe('caracal-migrate status', () => {
  test('GIVEN applied and pending versions WHEN status runs THEN it lists applied, pending and ahead versions, and --json gives the same for machines', async () => {
    // GIVEN 0001 applied and 0002 new
    const dir = migrationsDir({ '0001_baseline.up.sql': BASIC['0001_baseline.up.sql'] });
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    writeFileSync(path.join(dir, '0002_providers.up.sql'), BASIC['0002_providers.up.sql']);
    // WHEN status runs, as text and as JSON
    const text = await runCli(['status', '--dir', dir], env);
    const json = await runCli(['status', '--dir', dir, '--json'], env);
    // THEN both show one applied and one pending version, and exit 0
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^applied\s+0001\s+0001_baseline\.up\.sql/m);
    expect(text.stdout).toMatch(/^pending\s+0002\s+0002_providers\.up\.sql/m);
    expect(text.stdout).toMatch(/1 applied, 1 pending, 0 drifted, 0 missing, 0 ahead, 0 out of order/);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.summary).toEqual({ applied: 1, pending: 1, drifted: 0, missing: 0, ahead: 0, outOfOrder: 0 });
    expect(parsed.migrations.map((m: { version: string; state: string }) => [m.version, m.state])).toEqual([
      ['1', 'applied'],
      ['2', 'pending'],
    ]);
  });

  test('GIVEN drifted, missing and ahead versions WHEN status runs THEN it reports each and exits 4', async () => {
    // GIVEN 0001..0004 applied, then 0001 edited, 0002 removed (a gap) and 0004 removed (ahead)
    const dir = migrationsDir({ ...BASIC, '0004_more.up.sql': 'CREATE TABLE public.more (id int);\n' });
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    writeFileSync(path.join(dir, '0001_baseline.up.sql'), `${BASIC['0001_baseline.up.sql']}-- edit\n`);
    rmSync(path.join(dir, '0002_providers.up.sql'));
    rmSync(path.join(dir, '0004_more.up.sql'));
    // WHEN status runs
    const r = await runCli(['status', '--dir', dir, '--json'], env);
    // THEN each state is reported
    expect(r.code).toBe(4);
    const states = JSON.parse(r.stdout).migrations.map((m: { version: string; state: string }) => [m.version, m.state]);
    expect(states).toEqual([
      ['1', 'drifted'],
      ['2', 'missing'],
      ['3', 'applied'],
      ['4', 'ahead'],
    ]);
  });
});
