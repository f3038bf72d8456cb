// Compares the migration files with public.schema_migrations: what is applied, pending, drifted, missing, ahead.
import { ChecksumDriftError, MigrationGapError, OutOfOrderError } from './errors';
import type { MigrationFile } from './files';
import type { AppliedMigration } from './history';

export interface MigrationPlan {
  /** Applied and unchanged. */
  readonly applied: ReadonlyArray<{ file: MigrationFile; row: AppliedMigration }>;
  /** Applied rows without a checksum yet (adopted from the older runner): their file's checksum gets recorded. */
  readonly adoptable: ReadonlyArray<{ file: MigrationFile; row: AppliedMigration }>;
  /** New files after the newest applied version, to apply in order. */
  readonly pending: readonly MigrationFile[];
  /** Applied versions whose file changed: its content, or its name (a different file under the same version). */
  readonly drifted: ReadonlyArray<{ file: MigrationFile; row: AppliedMigration }>;
  /** Applied versions below the newest file whose file is gone (a gap). */
  readonly missing: readonly AppliedMigration[];
  /** Applied versions newer than the newest file: the database is ahead (an application rollback). */
  readonly ahead: readonly AppliedMigration[];
  /** New files whose version sorts before the newest applied version. */
  readonly outOfOrder: readonly MigrationFile[];
}

export function planMigrations(files: readonly MigrationFile[], rows: readonly AppliedMigration[]): MigrationPlan {
  const byVersion = new Map(rows.map((r) => [r.version, r]));
  const fileVersions = new Set(files.map((f) => f.version));
  const newestFile = files.length > 0 ? files[files.length - 1].version : -1n;
  const newestApplied = rows.length > 0 ? rows[rows.length - 1].version : -1n;
  const plan = { applied: [], adoptable: [], pending: [], drifted: [], missing: [], ahead: [], outOfOrder: [] } as {
    -readonly [K in keyof MigrationPlan]: Array<MigrationPlan[K][number]>;
  };
  for (const file of files) {
    const row = byVersion.get(file.version);
    if (!row) {
      (file.version < newestApplied ? plan.outOfOrder : plan.pending).push(file);
    } else if (isRenamed(file, row)) {
      plan.drifted.push({ file, row });
    } else if (row.checksum === null) {
      plan.adoptable.push({ file, row });
    } else if (row.checksum !== file.checksum) {
      plan.drifted.push({ file, row });
    } else {
      plan.applied.push({ file, row });
    }
  }
  for (const row of rows) {
    if (fileVersions.has(row.version)) continue;
    (row.version > newestFile ? plan.ahead : plan.missing).push(row);
  }
  return plan;
}

/** The applied version's recorded name differs from its file's (a null name, from the older runner, is unknown). */
export function isRenamed(file: MigrationFile, row: AppliedMigration): boolean {
  return row.name !== null && row.name !== file.name;
}

/** The file name the history records for this version, spelled with the file's own version digits. */
export function appliedFilename(file: MigrationFile, row: AppliedMigration): string {
  return row.name === null ? file.filename : `${file.filename.slice(0, file.filename.indexOf('_'))}_${row.name}.up.sql`;
}

/** One drifted version, naming both files when the name changed. */
export function describeDrift(file: MigrationFile, row: AppliedMigration): string {
  const checksums =
    row.checksum === null
      ? ''
      : row.checksum === file.checksum
        ? ' (same content)'
        : ` with checksum ${row.checksum.slice(0, 12)}…, the file now has ${file.checksum.slice(0, 12)}…`;
  return isRenamed(file, row)
    ? `${file.filename}: version ${file.version} was applied as ${appliedFilename(file, row)}${checksums}`
    : `${file.filename}: applied${checksums}`;
}

/** Throw the history error that stops a run (drift first, then gap, then order); the database is not touched. */
export function assertPlanIsSafe(plan: MigrationPlan): void {
  if (plan.drifted.length > 0) {
    throw new ChecksumDriftError(
      plan.drifted.map(({ file, row }) => describeDrift(file, row)),
      plan.drifted.some(({ file, row }) => isRenamed(file, row)),
    );
  }
  if (plan.missing.length > 0) {
    throw new MigrationGapError(
      plan.missing.map(
        (row) => `version ${row.version}${row.name ? ` (${row.name})` : ''} is applied but its file is not in the directory`,
      ),
    );
  }
  if (plan.outOfOrder.length > 0) {
    const newest = [...plan.applied, ...plan.adoptable]
      .map((a) => a.row.version)
      .concat(plan.ahead.map((r) => r.version))
      .reduce((m, v) => (v > m ? v : m), -1n);
    throw new OutOfOrderError(plan.outOfOrder.map((f) => `${f.filename} is new but sorts before the newest applied version ${newest}`));
  }
}
