// `caracal-migrate doctor`: the CLI side of src/doctor (loaded lazily by ./index.ts). Reads the same environment
// as the runner plus the services' pool and Redis settings, prints one verdict per troubleshooting row (a table,
// or --json), and exits 0 when all is well, 4 on a finding, 2 when something could not be checked.
import { ENVIRONMENT_NAME_ACCEPTED, ENVIRONMENT_NAME_PATTERN } from '../../../common/names';
import { TROUBLESHOOTING_ROWS, type TroubleshootingRowId } from '../../../common/troubleshooting';
import { ExitCode } from '../../migrate/errors';
import { formatReport, readPoolLimits, resolvePostgresTarget, resolveRedisTarget, runDoctor, SettingsError } from '../../doctor';
import { checkAccessMatrixFlag, readAccessMatrix } from '../../verify/access-matrix';
import { durationFlag, Flags, integerFlag, listFlag, optionalMigrationsDir, pairsFlag, str } from '../flags';
import { UsageError } from '../args';
import type { Output } from '../output';

export async function run(flags: Flags, out: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Every setting is read before anything connects, and every bad one is reported at once.
  const problems: string[] = [];
  const attempt = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (e) {
      problems.push(...(e instanceof SettingsError ? e.problems : [(e as Error).message]));
      return undefined;
    }
  };
  const postgres = attempt(() =>
    resolvePostgresTarget(env, { databaseUrl: str(flags, 'database-url'), connectTimeout: str(flags, 'connect-timeout') }),
  );
  const poolPairs = pairsFlag(flags, 'pool-max', problems);
  const pools = attempt(() => readPoolLimits({ configDirs: listFlag(flags, 'pool-config'), pairs: poolPairs, env }));
  const passwordFiles = pairsFlag(flags, 'redis-password-file', problems);
  const redis = attempt(() => resolveRedisTarget({ configDirs: listFlag(flags, 'redis-config'), passwordFiles, env }));
  const matrixFile = str(flags, 'access-matrix');
  if (matrixFile !== undefined) attempt(() => checkAccessMatrixFlag(matrixFile));
  const environment = str(flags, 'environment');
  if (environment !== undefined && !ENVIRONMENT_NAME_PATTERN.test(environment))
    problems.push(`--environment ${JSON.stringify(environment)} is not valid: expected ${ENVIRONMENT_NAME_ACCEPTED}`);
  const rowIds = TROUBLESHOOTING_ROWS.map((r) => r.id);
  const rows = listFlag(flags, 'row');
  for (const r of rows)
    if (!(rowIds as string[]).includes(r))
      problems.push(`--row ${JSON.stringify(r)} is not a troubleshooting row: expected one of ${rowIds.join(', ')}`);
  const staleAfterMs = attempt(() => durationFlag(flags, 'stale-after'));
  const partitionDaysAhead = attempt(() => integerFlag(flags, 'partition-days-ahead', 0, 366));
  const retentionDays = attempt(() => integerFlag(flags, 'retention-days', 1, 100_000));
  if (problems.length || !postgres)
    throw new UsageError(problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`);
  out.redact(postgres.settings?.password);

  out.progress(
    `doctor: ${postgres.settings ? `postgres ${postgres.settings.host}:${postgres.settings.port}` : 'postgres (unresolved)'}${redis ? `, redis ${redis.host}:${redis.port}` : ''}`,
  );
  const report = await runDoctor({
    postgres,
    redis,
    pools,
    dir: optionalMigrationsDir(flags),
    matrix: matrixFile !== undefined ? readAccessMatrix(matrixFile) : undefined,
    environment,
    staleAfterMs,
    partitionDaysAhead,
    retentionDays,
    rows: rows.length ? (rows as TroubleshootingRowId[]) : undefined,
  });
  out.stdout(flags.json ? JSON.stringify(report, null, 2) : formatReport(report, { verbose: flags.verbose === true }));
  return report.status === 'ok' ? ExitCode.OK : report.status === 'finding' ? ExitCode.CHECK_FAILED : ExitCode.CONFIG;
}
