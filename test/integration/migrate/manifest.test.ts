// `up` with the checksum manifest the Job's chart ships (common/migration-manifest.ts), and the history digest that
// lets a no-op run compare the whole history in one row, against a real Postgres: what `up` still detects, what only
// `status`/`verify` (which read every file) detect, and that every history problem still stops the run.
import { unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  checksumOf,
  ChecksumDriftError,
  ChecksumManifestError,
  MANIFEST_FILENAME,
  MigrateEvent,
  migrateUp,
  MigrationGapError,
  migrationStatus,
  normalizeSql,
  renderManifest,
  resolveConnection,
  RunnerOptions,
} from '../../../src/migrate';
import { freshDatabase, FreshDatabase, withClient } from '../../support/postgres';
import { BASIC, envFor, migrationsDir } from '../../fixtures/migrate/cli';

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

/** The files of `files` plus the manifest synth would write for them. */
function shipped(files: Record<string, string>): string {
  const dir = migrationsDir(files);
  const entries = Object.entries(files).map(([filename, sql]) => ({ filename, checksum: checksumOf(normalizeSql(sql)) }));
  writeFileSync(path.join(dir, MANIFEST_FILENAME), renderManifest(entries, checksumOf));
  return dir;
}

const history = () =>
  withClient(db.url, async (c) =>
    (await c.query('SELECT version::int AS v FROM public.schema_migrations ORDER BY 1')).rows.map((r) => r.v),
  );

describe('up with a checksum manifest', () => {
  test('GIVEN a manifest WHEN up applies the files THEN it says where checksums came from, applies all, and a rerun is a no-op', async () => {
    const dir = shipped(BASIC);
    const events: MigrateEvent[] = [];
    const first = await migrateUp(options(dir, { onEvent: (e) => events.push(e) }));
    expect(first.applied.map((a) => a.filename)).toEqual(Object.keys(BASIC));
    expect(events.find((e) => e.type === 'manifest')?.message).toMatch(
      /checksums of the 3 files listed in .*\.caracal-migrate\.sum taken from it/,
    );
    const again = await migrateUp(options(dir));
    expect([again.applied.length, again.alreadyApplied]).toEqual([0, 3]);
  });

  test('GIVEN a pending file that differs from the manifest WHEN up runs THEN it is refused (exit 2) before anything is applied', async () => {
    const dir = shipped(BASIC);
    writeFileSync(path.join(dir, '0003_zone_label.up.sql'), 'ALTER TABLE public.zones ADD COLUMN label2 text;\n');
    const error = await migrateUp(options(dir)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChecksumManifestError);
    expect(error).toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/0003_zone_label\.up\.sql has checksum .* the file was changed after synth/),
    });
    expect(
      await withClient(db.url, async (c) => (await c.query("SELECT to_regclass('public.schema_migrations') AS t")).rows[0].t),
    ).toBeNull();
  });

  test('GIVEN applied files WHEN an applied file is edited but the manifest is not THEN up does not read it (nothing to do) AND status, which reads every file, reports the drift', async () => {
    const dir = shipped(BASIC);
    await migrateUp(options(dir));
    writeFileSync(path.join(dir, '0001_baseline.up.sql'), 'SELECT 1;\n');
    expect((await migrateUp(options(dir))).applied).toEqual([]);
    const status = await migrationStatus(options(dir));
    expect(status.plan.drifted.map((d) => d.file.filename)).toEqual(['0001_baseline.up.sql']);
  });

  test('GIVEN a recorded checksum that differs from the manifest WHEN up runs THEN it refuses with ChecksumDriftError (exit 4)', async () => {
    const dir = shipped(BASIC);
    await migrateUp(options(dir));
    await withClient(db.url, (c) => c.query(`UPDATE public.schema_migrations SET checksum = repeat('0', 64) WHERE version = 2`));
    await expect(migrateUp(options(dir))).rejects.toBeInstanceOf(ChecksumDriftError);
  });

  test('GIVEN a damaged manifest WHEN up runs THEN it is refused (exit 2) without connecting', async () => {
    const dir = shipped(BASIC);
    writeFileSync(path.join(dir, MANIFEST_FILENAME), 'caracal-migrate checksums v1\nsum 00\n');
    const events: MigrateEvent[] = [];
    const error = await migrateUp(options(dir, { onEvent: (e) => events.push(e) })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ChecksumManifestError', exitCode: 2 });
    expect(events.map((e) => e.type)).not.toContain('connected');
  });

  test('GIVEN the manifest removed WHEN up runs THEN it reads every file (no manifest event) and detects an edited applied file', async () => {
    const dir = shipped(BASIC);
    await migrateUp(options(dir));
    unlinkSync(path.join(dir, MANIFEST_FILENAME));
    writeFileSync(path.join(dir, '0001_baseline.up.sql'), 'SELECT 1;\n');
    const events: MigrateEvent[] = [];
    await expect(migrateUp(options(dir, { onEvent: (e) => events.push(e) }))).rejects.toBeInstanceOf(ChecksumDriftError);
    expect(events.map((e) => e.type)).not.toContain('manifest');
  });
});

describe('the no-op history digest', () => {
  test('GIVEN an applied version whose file is gone, in the middle WHEN up runs THEN the digest differs and the gap is reported', async () => {
    const dir = shipped(BASIC);
    await migrateUp(options(dir));
    const rest = { '0001_baseline.up.sql': BASIC['0001_baseline.up.sql'], '0003_zone_label.up.sql': BASIC['0003_zone_label.up.sql'] };
    await expect(migrateUp(options(shipped(rest)))).rejects.toBeInstanceOf(MigrationGapError);
  });

  test("GIVEN a row of the older runner (no name, no checksum) WHEN up runs THEN the digest differs and the row is adopted with the file's checksum", async () => {
    const dir = shipped(BASIC);
    await migrateUp(options(dir));
    await withClient(db.url, (c) =>
      c.query(
        'ALTER TABLE public.schema_migrations ALTER COLUMN name DROP NOT NULL; UPDATE public.schema_migrations SET name = NULL, checksum = NULL WHERE version = 2',
      ),
    );
    const result = await migrateUp(options(dir));
    expect(result.adopted).toEqual([2n]);
    const row = await withClient(
      db.url,
      async (c) => (await c.query('SELECT checksum FROM public.schema_migrations WHERE version = 2')).rows[0],
    );
    expect(row.checksum).toBe(checksumOf(BASIC['0002_providers.up.sql']));
  });

  test('GIVEN versions applied by a newer release WHEN up runs THEN the digest differs and the run reports the database ahead, applying nothing', async () => {
    const dir = shipped(BASIC);
    await migrateUp(options(dir));
    await withClient(db.url, (c) =>
      c.query(`INSERT INTO public.schema_migrations (version, name, checksum) VALUES (4, 'newer', repeat('a', 64))`),
    );
    const result = await migrateUp(options(dir));
    expect([result.applied, result.ahead.map((r) => r.version)]).toEqual([[], [4n]]);
    expect(await history()).toEqual([1, 2, 3, 4]);
  });
});
