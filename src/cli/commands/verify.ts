// `caracal-migrate verify`: the CLI side of src/verify (loaded lazily by ./index.ts). Read-only catalog checks on
// a live database (safe on a read replica); --behavioural adds rolled-back probes as the roles.
import { describeConnection } from '../../migrate/connection';
import { ConfigError, ExitCode } from '../../migrate/errors';
import { formatChecks, verifyDatabase } from '../../verify';
import { checkAccessMatrixFlag } from '../../verify/access-matrix';
import { ENVIRONMENT_NAME_ACCEPTED, ENVIRONMENT_NAME_PATTERN } from '../../../common/names';
import { connectionFrom, durationFlag, Flags, integerFlag, optionalMigrationsDir, str } from '../flags';
import type { Output } from '../output';

export async function run(flags: Flags, out: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Flag values first: a bad one is a usage error whatever the connection.
  const environment = str(flags, 'environment');
  if (environment !== undefined && !ENVIRONMENT_NAME_PATTERN.test(environment))
    throw new ConfigError(`--environment ${JSON.stringify(environment)} is not an environment name: expected ${ENVIRONMENT_NAME_ACCEPTED}`);
  const connection = connectionFrom(flags, out, env);
  // The migration history check needs the files: --dir, or ./migrations when it exists; skipped otherwise.
  const dir = optionalMigrationsDir(flags);
  const matrix = str(flags, 'access-matrix');
  if (matrix !== undefined) checkAccessMatrixFlag(matrix);
  const partitionDaysAhead = integerFlag(flags, 'partition-days-ahead', 0, 366);
  const retentionDays = integerFlag(flags, 'retention-days', 1, 100_000);
  const lockTimeoutMs = durationFlag(flags, 'lock-timeout');
  const statementTimeoutMs = durationFlag(flags, 'statement-timeout');
  out.progress(`verifying ${describeConnection(connection)}${flags.behavioural ? ' (with behavioural probes, rolled back)' : ''}`);
  const report = await verifyDatabase(connection, {
    dir,
    accessMatrixFile: matrix,
    behavioural: flags.behavioural === true,
    partitionDaysAhead,
    retentionDays,
    environment,
    lockTimeoutMs,
    statementTimeoutMs,
  });
  if (flags.json) {
    out.json({ ok: report.ok, database: describeConnection(connection), checks: report.checks });
  } else {
    out.stdout(formatChecks(report.checks));
  }
  return report.ok ? ExitCode.OK : ExitCode.CHECK_FAILED;
}
