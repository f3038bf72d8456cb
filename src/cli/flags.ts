// The one flags module of caracal-migrate: every flag's definition, typed access to flag values (each parsed and
// validated once, here), the connection (resolved from flags and the environment, its password registered for
// redaction) and the runner options. Every command adapter in src/cli/commands/ reads its flags through it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseDurationSetting, parseInteger } from '../migrate/config';
import { ConnectionSettings, resolveConnection } from '../migrate/connection';
import type { RunnerOptions } from '../migrate/runner';
import { FlagSpec, UsageError } from './args';
import type { Output } from './output';
import { KEY_ID_ACCEPTED, KEY_ID_PATTERN } from '../../common/key-ring';

/** Parsed flags: a value, the values of a repeatable flag, or `true` for a flag without a value. */
export type Flags = Record<string, string | string[] | true>;

/** The flags runnerOptions reads (and so validates). */
export const RUNNER_FLAGS = [
  'dir',
  'database-url',
  'wait-for-db',
  'connect-timeout',
  'lock-wait',
  'lock-timeout',
  'lock-retries',
  'lock-retry-backoff',
  'deadlock-timeout',
  'statement-timeout',
  'concurrent-statement-timeout',
  'connection-check-interval',
] as const;

/** Flags every command takes. */
export const GLOBAL_FLAGS = ['quiet', 'help'] as const;

export const FLAGS: Record<string, FlagSpec> = {
  dir: { value: true, help: 'migrations directory (default: migrations/); may be a ConfigMap mount' },
  'database-url': {
    value: true,
    help: 'postgres://user[:password]@host:port/database[?sslmode=...]; wins over DATABASE_URL and PG* variables',
  },
  'wait-for-db': { optionalValue: '60s', help: 'retry connecting until this deadline (bare flag: 60s)' },
  'connect-timeout': { value: true, help: 'timeout of one connection attempt (default: PGCONNECT_TIMEOUT, else 10s)' },
  'lock-wait': { value: true, help: 'deadline for taking the migration advisory lock (default 5m); exit 3 past it' },
  'lock-timeout': { value: true, help: 'lock_timeout of migration statements (default 300ms)' },
  'lock-retries': { value: true, help: 'retries of a file that hit lock_timeout or a deadlock (default 10)' },
  'lock-retry-backoff': { value: true, help: 'first wait between those retries, doubled each time up to 10s, jittered (default 500ms)' },
  'deadlock-timeout': {
    value: true,
    help: "deadlock_timeout of the runner's session, so it loses deadlocks (default 100ms; 0: the server's; needs SET on it)",
  },
  'statement-timeout': { value: true, help: 'session statement_timeout (default 15m; 0 disables)' },
  'concurrent-statement-timeout': {
    value: true,
    help: 'statement_timeout of CONCURRENTLY statements in no-transaction files (default 0: none)',
  },
  'connection-check-interval': { value: true, help: 'client_connection_check_interval on Postgres 14+ (default 2s; 0 disables)' },
  provision: { value: true, help: 'up: after migrating, provision the login roles from this provision.json (what the Job runs)' },
  config: { value: true, help: 'provision: the provision.json the hook chart mounts' },
  'access-matrix': { value: true, help: 'validate/verify: the access matrix file (default: the one built in from docs/access-matrix.md)' },
  static: { help: 'validate: static checks only (no scratch databases)' },
  concurrency: { value: true, help: 'validate: concurrent migrators to race on a scratch database' },
  behavioural: { help: 'verify: also run rolled-back behavioural probes as each role' },
  'partition-days-ahead': { value: true, help: 'verify: audit partitions that must exist ahead of today' },
  'retention-days': { value: true, help: 'verify: audit retention in days (default 400); older partitions are reported' },
  json: { help: 'status/validate/verify/restore/doctor/plan: print JSON for machines' },
  backup: { value: true, help: 'restore: a backup directory (<root>/<name>) or the backup root (its LATEST is used)' },
  'target-database': { value: true, help: 'restore: the new database to restore into (restore-check: default <db>_check_<name>)' },
  'pg-bin': { value: true, help: "restore: directory of pg_restore, the client of the server's major (default: PATH)" },
  jobs: { value: true, help: 'restore: pg_restore parallel jobs for data, indexes and constraints (default 2)' },
  keep: { help: 'restore-check: keep the scratch database instead of dropping it' },
  environment: {
    value: true,
    help: 'doctor: the environment whose logins must exist (caracal_<env>_<login>); verify: whose logins must have CONNECT (default: inferred)',
  },
  'pool-config': {
    value: true,
    repeat: true,
    help: "doctor: a service's mounted database ConfigMap directory (DB_POOL_MAX, PGAPPNAME); repeatable",
  },
  'pool-max': { value: true, repeat: true, help: "doctor: SERVICE=N, a service's DB_POOL_MAX; repeatable" },
  'redis-config': {
    value: true,
    repeat: true,
    help: "doctor: a service's mounted Redis ConfigMap directory (REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD_FILE); repeatable",
  },
  'redis-password-file': {
    value: true,
    repeat: true,
    help: "doctor: USER=FILE, a Redis ACL user's password file (ops reads every stream); repeatable",
  },
  'stale-after': { value: true, help: 'doctor: outbox rows and stream entries pending longer than this are a finding (default 5m)' },
  verbose: { help: 'doctor: also print the details of passing checks' },
  row: {
    value: true,
    repeat: true,
    help: 'doctor: only this troubleshooting row (migration-job-fails, api-outbox-grows, audit-queries-slow, rls-errors, streams); repeatable',
  },
  offline: { help: 'plan: from the files alone, even when a database is configured' },
  from: { value: true, help: 'plan (offline): the first version to plan (default: every file after the baseline)' },
  version: { value: true, repeat: true, help: 'repair: a version to accept (repeatable); wait: the schema version the service needs' },
  rename: { help: 'repair: the changed file name of these versions is a rename of the same change (record the new name)' },
  'at-least-files': { value: true, help: 'wait: a migrations directory: wait until every one of its versions is applied' },
  timeout: { value: true, help: 'wait: give up after this long, exit 3 (default 5m)' },
  reason: { value: true, help: 'repair: why the edit is accepted (recorded)' },
  'hmac-key-id': { value: true, repeat: true, help: 'key-references: an HMAC key id to count the rows of (repeatable)' },
  'encryption-key-id': { value: true, repeat: true, help: 'key-references: an encryption key id to count the rows of (repeatable)' },
  quiet: { help: 'print no progress lines, only results and errors' },
  help: { help: 'show this help' },
};

/** A flag's value (the last one of a repeated flag); undefined when absent or given without a value. */
export function str(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  return v === undefined || v === true ? undefined : Array.isArray(v) ? v[v.length - 1] : v;
}

/** A duration flag in milliseconds (see parseDurationSetting); undefined when absent. */
export function durationFlag(flags: Flags, name: string, opts: { allowZero?: boolean } = {}): number | undefined {
  const v = str(flags, name);
  return v === undefined ? undefined : parseDurationSetting(v, `--${name}`, opts);
}

/** A whole-number flag within [min, max]; undefined when absent. */
export function integerFlag(flags: Flags, name: string, min: number, max: number): number | undefined {
  const v = str(flags, name);
  return v === undefined ? undefined : parseInteger(v, `--${name}`, min, max);
}

/** Every value of a repeatable flag (none when absent). */
export function listFlag(flags: Flags, name: string): string[] {
  const v = flags[name];
  return v === undefined || v === true ? [] : Array.isArray(v) ? v : [v];
}

/** Every key id of a repeatable flag, each checked against the key id grammar (common/key-ring.ts). */
export function keyIdsFlag(flags: Flags, name: string): string[] {
  const ids = listFlag(flags, name);
  for (const id of ids)
    if (!KEY_ID_PATTERN.test(id)) throw new UsageError(`--${name} ${JSON.stringify(id)} is not a key id: expected ${KEY_ID_ACCEPTED}`);
  return ids;
}

/**
 * Every `KEY=VALUE` of a repeatable flag, split at the first `=`. A malformed one is a usage error, or, when
 * `problems` is given, is added to it and left out (so a caller can report it with its other problems).
 */
export function pairsFlag(flags: Flags, name: string, problems?: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const item of listFlag(flags, name)) {
    const at = item.indexOf('=');
    if (at > 0 && at < item.length - 1) {
      pairs.push([item.slice(0, at), item.slice(at + 1)]);
      continue;
    }
    const problem = `--${name} ${JSON.stringify(item)} is not valid: expected KEY=VALUE (${FLAGS[name].help})`;
    if (!problems) throw new UsageError(problem);
    problems.push(problem);
  }
  return pairs;
}

/** --dir when given, else ./migrations when it exists, else undefined (checks that need the files are skipped). */
export function optionalMigrationsDir(flags: Flags): string | undefined {
  const explicit = str(flags, 'dir');
  return explicit !== undefined ? path.resolve(explicit) : existsSync('migrations') ? path.resolve('migrations') : undefined;
}

/** The migrations directory, absolute: --dir, else ./migrations. */
export function migrationsDir(flags: Flags): string {
  return path.resolve(str(flags, 'dir') ?? 'migrations');
}

/** The connection from --database-url/--connect-timeout and the environment; its password is never printed. */
export function connectionFrom(flags: Flags, out: Output, env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  const connection = resolveConnection(env, { databaseUrl: str(flags, 'database-url'), connectTimeout: str(flags, 'connect-timeout') });
  out.redact(connection.password);
  return connection;
}

export function runnerOptions(flags: Flags, out: Output, env: NodeJS.ProcessEnv = process.env): RunnerOptions {
  const connection = connectionFrom(flags, out, env);
  return {
    dir: migrationsDir(flags),
    connection,
    ...runnerTimings(flags),
    // Server warnings and notices reach the operator even with --quiet: they are the server speaking, not progress.
    onEvent: (e) => (e.type === 'notice' ? out.notice(e.message) : out.progress(e.message)),
  };
}

/** The timing flags alone (no connection): `validate --static` checks them too rather than ignoring them. */
export function runnerTimings(flags: Flags): Omit<RunnerOptions, 'dir' | 'connection' | 'onEvent'> {
  return {
    waitForDbMs: durationFlag(flags, 'wait-for-db'),
    lockWaitMs: durationFlag(flags, 'lock-wait', { allowZero: true }),
    lockTimeoutMs: durationFlag(flags, 'lock-timeout'),
    lockRetries: integerFlag(flags, 'lock-retries', 0, 100),
    lockRetryBackoffMs: durationFlag(flags, 'lock-retry-backoff', { allowZero: true }),
    deadlockTimeoutMs: durationFlag(flags, 'deadlock-timeout', { allowZero: true }),
    statementTimeoutMs: durationFlag(flags, 'statement-timeout', { allowZero: true }),
    concurrentStatementTimeoutMs: durationFlag(flags, 'concurrent-statement-timeout', { allowZero: true }),
    connectionCheckIntervalMs: durationFlag(flags, 'connection-check-interval', { allowZero: true }),
  };
}
