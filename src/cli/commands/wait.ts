// `caracal-migrate wait --version N | --at-least-files DIR [--timeout D]`: the services' init-container gate. Exit 0
// once public.schema_migrations has what the service needs, 3 at the deadline (naming the version it saw), 2 for
// usage, configuration, or a login that may not read the history.
import { discoverMigrations } from '../../migrate/files';
import { ExitCode, MigrateError } from '../../migrate/errors';
import { describeConnection } from '../../migrate/connection';
import { waitForSchema, WaitTarget } from '../../migrate/wait';
import { UsageError } from '../args';
import { connectionFrom, durationFlag, Flags, str } from '../flags';
import type { Output } from '../output';
import path from 'node:path';

/** The deadline passed before the schema reached the version the service needs. */
export class SchemaWaitTimeoutError extends MigrateError {
  constructor(message: string, firstCheck: string) {
    super(message, ExitCode.LOCK_TIMEOUT, firstCheck);
  }
}

export const DEFAULT_WAIT_TIMEOUT = '5m';

function target(flags: Flags): WaitTarget {
  const versions = (flags.version as string[] | undefined) ?? [];
  const dir = str(flags, 'at-least-files');
  if (versions.length > 0 === (dir !== undefined))
    throw new UsageError(
      'wait needs exactly one of --version N (the schema version the service needs) or --at-least-files DIR (its migrations)',
    );
  if (dir !== undefined) {
    const files = discoverMigrations(path.resolve(dir));
    if (files.length === 0) throw new UsageError(`--at-least-files ${dir}: no migration files there (NNNN_name.up.sql)`);
    return { dir, versions: files.map((f) => f.version) };
  }
  if (versions.length > 1) throw new UsageError('wait takes one --version (the newest version the service needs)');
  if (!/^[0-9]{1,18}$/.test(versions[0]))
    throw new UsageError(`--version=${JSON.stringify(versions[0])} is not valid: expected a migration version number such as 0003`);
  return { version: BigInt(versions[0]) };
}

export async function run(flags: Flags, out: Output): Promise<number> {
  const want = target(flags);
  const timeoutMs = durationFlag(flags, 'timeout') ?? 300_000;
  const connection = connectionFrom(flags, out);
  const what = 'version' in want ? `version ${want.version}` : `the ${want.versions.length} migration(s) of ${want.dir}`;
  const r = await waitForSchema({ connection, target: want, timeoutMs, onProgress: (m) => out.progress(m) });
  if (r.reached) {
    out.stdout(`schema ready: ${what} applied (newest ${r.newest}) after ${(r.waitedMs / 1000).toFixed(1)} s`);
    return ExitCode.OK;
  }
  const seen = r.newest === undefined ? 'never read the schema version' : `the schema is at version ${r.newest ?? 'none (empty history)'}`;
  const missing = r.missing.length <= 5 ? r.missing.join(', ') : `${r.missing.slice(0, 5).join(', ')} and ${r.missing.length - 5} more`;
  throw new SchemaWaitTimeoutError(
    `waited ${Math.round(timeoutMs / 1000)} s (--timeout) for ${what} on ${describeConnection(connection)}: ${seen}, missing ${missing}${r.lastError ? `; last error: ${r.lastError}` : ''}`,
    'Migration Job fails: the migration Job of this release (kubectl logs job/<release>-migrate), then Database secret, host, port, user, database, SSL mode',
  );
}
