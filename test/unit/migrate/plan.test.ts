// planMigrations/assertPlanIsSafe: applied, pending, drift, gap, order and ahead, without a database.
import {
  assertPlanIsSafe,
  AppliedMigration,
  ChecksumDriftError,
  MigrationFile,
  MigrationGapError,
  OutOfOrderError,
  planMigrations,
} from '../../../src/migrate';

const file = (v: number, checksum = `c${v}`): MigrationFile => ({
  version: BigInt(v),
  name: `m${v}`,
  filename: `${String(v).padStart(4, '0')}_m${v}.up.sql`,
  path: `/x/${v}`,
  sql: 'SELECT 1',
  checksum,
  noTransaction: false,
  statements: [],
});
const row = (v: number, checksum: string | null = `c${v}`): AppliedMigration => ({
  version: BigInt(v),
  name: `m${v}`,
  checksum,
  appliedAt: null,
  executionMs: null,
  appliedBy: null,
  repairedAt: null,
  repairedBy: null,
});
const versions = (xs: ReadonlyArray<{ version: bigint } | { file: MigrationFile }>) =>
  xs.map((x) => Number('file' in x ? x.file.version : x.version));

describe('planMigrations', () => {
  test.each([
    ['an empty database', [1, 2], [], { pending: [1, 2] }],
    ['everything applied', [1, 2], [1, 2], { applied: [1, 2] }],
    ['new files after the newest applied', [1, 2, 3], [1], { applied: [1], pending: [2, 3] }],
    ['a database ahead of the files', [1], [1, 2, 3], { applied: [1], ahead: [2, 3] }],
    ['a gap', [1, 3], [1, 2, 3], { applied: [1, 3], missing: [2] }],
    ['an out-of-order file', [1, 2, 3], [1, 3], { applied: [1, 3], outOfOrder: [2] }],
  ])('GIVEN %s WHEN planned THEN each version is in its category', (_t, files, rows, expected) => {
    const plan = planMigrations(
      files.map((v) => file(v)),
      rows.map((v) => row(v)),
    );
    const got = {
      applied: versions(plan.applied),
      pending: versions(plan.pending),
      ahead: versions(plan.ahead),
      missing: versions(plan.missing),
      outOfOrder: versions(plan.outOfOrder),
      drifted: versions(plan.drifted),
    };
    expect(got).toEqual({ applied: [], pending: [], ahead: [], missing: [], outOfOrder: [], drifted: [], ...expected });
  });

  test('GIVEN an edited applied file and a row without checksum WHEN planned THEN the first is drift and the second adoptable', () => {
    const plan = planMigrations([file(1, 'new'), file(2)], [row(1, 'old'), row(2, null)]);
    expect(versions(plan.drifted)).toEqual([1]);
    expect(versions(plan.adoptable)).toEqual([2]);
  });
});

describe('assertPlanIsSafe', () => {
  test.each([
    ['drift', [file(1, 'new')], [row(1, 'old')], ChecksumDriftError],
    ['a gap', [file(1), file(3)], [row(1), row(2), row(3)], MigrationGapError],
    ['an out-of-order file', [file(1), file(2), file(3)], [row(1), row(3)], OutOfOrderError],
  ])('GIVEN a plan with %s WHEN checked THEN it throws with exit code 4', (_t, files, rows, type) => {
    const plan = planMigrations(files, rows);
    expect(() => assertPlanIsSafe(plan)).toThrow(type);
    try {
      assertPlanIsSafe(plan);
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(4);
    }
  });

  test('GIVEN a database that is ahead WHEN checked THEN it is accepted', () => {
    expect(() => assertPlanIsSafe(planMigrations([file(1)], [row(1), row(2)]))).not.toThrow();
  });
});
