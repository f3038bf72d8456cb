// `caracal-migrate restore` and `restore-check`: restore a backup into a new database (restore: the database the
// services will use; restore-check: a scratch one, dropped afterwards) and check every domain against the
// manifest, then verify. One line per domain; exit 0 when all hold, 4 when one does not.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readManifest, resolveBackupDir, restoreAndCheck } from '../../backup';
import { describeConnection } from '../../migrate/connection';
import { ExitCode } from '../../migrate/errors';
import { formatChecks } from '../../verify';
import { checkAccessMatrixFlag } from '../../verify/access-matrix';
import { UsageError } from '../args';
import { connectionFrom, Flags, integerFlag, str } from '../flags';
import type { Output } from '../output';

const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function run(
  flags: Flags,
  out: Output,
  mode: 'restore' | 'check' = 'restore',
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const problems: string[] = [];
  const given = str(flags, 'backup');
  if (given === undefined)
    problems.push('--backup DIR is required: a backup directory (<root>/<name>) or the backup root (its LATEST is used)');
  const target = str(flags, 'target-database');
  if (mode === 'restore' && target === undefined)
    problems.push('--target-database NAME is required: the new database to restore into (it must not exist, or be empty)');
  if (target !== undefined && !DATABASE_NAME.test(target))
    problems.push(
      `--target-database ${JSON.stringify(target)} is not valid: expected a lower-case SQL identifier (letters, digits, _; at most 63)`,
    );
  const pgBin = str(flags, 'pg-bin');
  if (pgBin !== undefined && !existsSync(path.join(pgBin, 'pg_restore')))
    problems.push(
      `--pg-bin ${JSON.stringify(pgBin)} holds no pg_restore: expected the client tools' directory, e.g. /usr/lib/postgresql/18/bin`,
    );
  let jobs: number | undefined;
  try {
    jobs = integerFlag(flags, 'jobs', 1, 64);
  } catch (e) {
    problems.push((e as Error).message);
  }
  if (problems.length > 0)
    throw new UsageError(problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`);
  const matrix = str(flags, 'access-matrix');
  if (matrix !== undefined) checkAccessMatrixFlag(matrix);
  const dirFlag = str(flags, 'dir');

  const backupDir = resolveBackupDir(given!);
  const manifest = readManifest(backupDir);
  const connection = connectionFrom(flags, out, env);
  const targetDatabase = target ?? `${manifest.database}_check_${manifest.name.toLowerCase()}`.slice(0, 63);
  out.progress(
    `${mode === 'check' ? 'restore check of' : 'restoring'} backup ${manifest.name} of ${manifest.database} into ${targetDatabase} as ${describeConnection(connection)}`,
  );
  const report = await restoreAndCheck({
    backupDir,
    manifest,
    connection,
    targetDatabase,
    pgBin,
    jobs,
    env,
    dropAfter: mode === 'check' && flags.keep !== true,
    migrationsDir: dirFlag !== undefined ? path.resolve(dirFlag) : undefined,
    accessMatrixFile: matrix,
    onEvent: (m) => out.progress(m),
  });
  if (flags.json) out.stdout(JSON.stringify(report, null, 2));
  else {
    out.stdout(formatChecks(report.checks));
    for (const w of report.warnings) out.stdout(`warning: ${w}`);
  }
  return report.ok ? ExitCode.OK : ExitCode.CHECK_FAILED;
}
