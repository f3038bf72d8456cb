// Adoption of a database whose public.schema_migrations the older shell runner wrote, and `repair`.
import { writeFileSync } from 'node:fs';
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

const rows = () =>
  withClient(
    db.url,
    async (c) =>
      (
        await c.query(
          `SELECT version::text AS version, name, checksum IS NOT NULL AS has_checksum, adopted_at IS NOT NULL AS adopted,
          pg_typeof(version)::text AS type
   FROM public.schema_migrations ORDER BY version`,
        )
      ).rows,
  );

describe("adopting the older runner's schema_migrations", () => {
  type Layout = [string, string, string[]];
  const layouts: Layout[] = [
    [
      'text versions holding file names',
      'CREATE TABLE public.schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      ["'0001_baseline.up.sql'", "'0002_providers.up.sql'"],
    ],
    [
      'text versions holding bare numbers, no primary key',
      'CREATE TABLE public.schema_migrations (version varchar(32) NOT NULL)',
      ["'0001'", "'0002'"],
    ],
    [
      'bigint versions without checksums',
      'CREATE TABLE public.schema_migrations (version bigint PRIMARY KEY, applied_at timestamptz DEFAULT now())',
      ['1', '2'],
    ],
  ];

  test.each(layouts)(
    "GIVEN the older runner's layout (%s) WHEN caracal-migrate runs twice THEN the table is upgraded in place, safely, and what is new is applied",
    async (_t, ddl, versions) => {
      // GIVEN 0001 and 0002 applied by the older runner, recorded in its layout
      await withClient(db.url, async (c) => {
        await c.query(BASIC['0001_baseline.up.sql']);
        await c.query(BASIC['0002_providers.up.sql']);
        await c.query(ddl);
        for (const v of versions) await c.query(`INSERT INTO public.schema_migrations (version) VALUES (${v})`);
      });
      const dir = migrationsDir(BASIC);
      const env = envFor(db);
      // WHEN caracal-migrate runs, then runs again
      const first = await runCli(['up', '--dir', dir], env);
      const afterFirst = await rows();
      const second = await runCli(['up', '--dir', dir], env);
      // THEN the table is upgraded, the old rows get their checksums, 0003 is applied, and the second run changes nothing
      expect({ code: first.code, stderr: first.stderr }).toEqual({
        code: 0,
        stderr: expect.stringMatching(/schema_migrations upgraded[\s\S]*adopted 2 migrations/),
      });
      expect(first.stdout).toMatch(/done: 1 applied, 2 already applied/);
      expect(afterFirst).toEqual([
        { version: '1', name: 'baseline', has_checksum: true, adopted: true, type: 'bigint' },
        { version: '2', name: 'providers', has_checksum: true, adopted: true, type: 'bigint' },
        { version: '3', name: 'zone_label', has_checksum: true, adopted: false, type: 'bigint' },
      ]);
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/nothing to do: 3 already applied/);
      expect(await rows()).toEqual(afterFirst);
    },
  );

  test('GIVEN an adopted database WHEN the adopted file is edited THEN it is drift once its checksum is recorded', async () => {
    // GIVEN an adopted database
    await withClient(db.url, async (c) => {
      await c.query(BASIC['0001_baseline.up.sql']);
      await c.query(
        "CREATE TABLE public.schema_migrations (version text PRIMARY KEY); INSERT INTO public.schema_migrations VALUES ('0001')",
      );
    });
    const dir = migrationsDir({ '0001_baseline.up.sql': BASIC['0001_baseline.up.sql'] });
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    // WHEN the adopted file is edited
    writeFileSync(path.join(dir, '0001_baseline.up.sql'), `${BASIC['0001_baseline.up.sql']}-- edited\n`);
    const r = await runCli(['up', '--dir', dir], env);
    // THEN it is drift
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/checksum drift[\s\S]*0001_baseline\.up\.sql/);
  });

  test('GIVEN an old table whose versions are not numbers WHEN caracal-migrate runs THEN it refuses, leaving the table as it was', async () => {
    await withClient(db.url, (c) =>
      c.query("CREATE TABLE public.schema_migrations (version text); INSERT INTO public.schema_migrations VALUES ('baseline')"),
    );
    const r = await runCli(['up', '--dir', migrationsDir(BASIC)], envFor(db));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot adopt public\.schema_migrations: versions "baseline" do not start with a number/);
    const cols = await withClient(db.url, async (c) =>
      (await c.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'schema_migrations' ORDER BY 1")).rows.map(
        (x) => x.column_name,
      ),
    );
    expect(cols).toEqual(['version']);
  });
});

describe('caracal-migrate repair', () => {
  test('GIVEN a reviewed edit of an applied file WHEN repair runs THEN it records the new checksum, the previous one, who, when and why, and up then passes', async () => {
    // GIVEN an applied file edited afterwards (drift stops `up`)
    const dir = migrationsDir(BASIC);
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    const before = await withClient(
      db.url,
      async (c) => (await c.query('SELECT checksum FROM public.schema_migrations WHERE version = 2')).rows[0].checksum,
    );
    writeFileSync(path.join(dir, '0002_providers.up.sql'), `-- reviewed: comment added after the fact\n${BASIC['0002_providers.up.sql']}`);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(4);
    // WHEN an operator repairs version 2
    const r = await runCli(['repair', '--dir', dir, '--version', '0002', '--reason', 'comment only, reviewed in PR 42'], env);
    // THEN it is recorded, and up has nothing to do
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/repaired 0002_providers\.up\.sql: checksum [0-9a-f]{64} recorded/);
    const row = await withClient(
      db.url,
      async (c) =>
        (
          await c.query(
            'SELECT checksum, previous_checksum, repaired_at IS NOT NULL AS repaired, repaired_by, repair_reason FROM public.schema_migrations WHERE version = 2',
          )
        ).rows[0],
    );
    expect(row).toEqual({
      checksum: expect.stringMatching(/^[0-9a-f]{64}$/),
      previous_checksum: before,
      repaired: true,
      repaired_by: expect.stringMatching(/^postgres \(caracal-migrate on /),
      repair_reason: 'comment only, reviewed in PR 42',
    });
    expect(row.checksum).not.toBe(before);
    const up = await runCli(['up', '--dir', dir], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/nothing to do/);
  });

  test('GIVEN a version that is not applied WHEN repair runs for it THEN it is refused', async () => {
    const dir = migrationsDir(BASIC);
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    const r = await runCli(['repair', '--dir', dir, '--version', '9'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--version 9: not applied in this database/);
  });
});
