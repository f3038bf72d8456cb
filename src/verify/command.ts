// `caracal-migrate verify`: the CLI side of src/verify (loaded lazily by src/cli/main.ts). Read-only catalog
// checks on a live database (safe on a read replica); --behavioural adds rolled-back probes as the roles.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseDuration, parseInteger } from '../migrate/config';
import { describeConnection } from '../migrate/connection';
import { ExitCode } from '../migrate/errors';
import { resolveConnection } from '../migrate/connection';
import type { Output } from '../cli/output';
import { checkAccessMatrixFlag } from './access-matrix';
import { formatChecks, verifyDatabase } from './index';

type Flags = Record<string, string | string[] | true>;

const str = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return v === undefined || v === true ? undefined : Array.isArray(v) ? v[v.length - 1] : v;
};

export async function run(flags: Flags, out: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const connection = resolveConnection(env, { databaseUrl: str(flags, 'database-url'), connectTimeout: str(flags, 'connect-timeout') });
  out.redact(connection.password);
  // The migration history check needs the files: --dir, or ./migrations when it exists; skipped otherwise.
  const explicitDir = str(flags, 'dir');
  const dir = explicitDir !== undefined ? path.resolve(explicitDir) : existsSync('migrations') ? path.resolve('migrations') : undefined;
  const matrix = str(flags, 'access-matrix');
  if (matrix !== undefined) checkAccessMatrixFlag(matrix);
  const days = str(flags, 'partition-days-ahead');
  const retention = str(flags, 'retention-days');
  const dur = (name: string) => {
    const v = str(flags, name);
    return v === undefined ? undefined : parseDuration(v, `--${name}`);
  };
  out.progress(`verifying ${describeConnection(connection)}${flags.behavioural ? ' (with behavioural probes, rolled back)' : ''}`);
  const report = await verifyDatabase(connection, {
    dir,
    accessMatrixFile: matrix,
    behavioural: flags.behavioural === true,
    partitionDaysAhead: days === undefined ? undefined : parseInteger(days, '--partition-days-ahead', 0, 366),
    retentionDays: retention === undefined ? undefined : parseInteger(retention, '--retention-days', 1, 100_000),
    lockTimeoutMs: dur('lock-timeout'),
    statementTimeoutMs: dur('statement-timeout'),
  });
  if (flags.json) {
    out.stdout(JSON.stringify({ ok: report.ok, database: describeConnection(connection), checks: report.checks }, null, 2));
  } else {
    out.stdout(formatChecks(report.checks));
  }
  return report.ok ? ExitCode.OK : ExitCode.CHECK_FAILED;
}
