// Turns CLI flags and the environment into the core's RunnerOptions, validating every value.
import path from 'node:path';
import { parseDuration, parseInteger } from '../migrate/config';
import { resolveConnection } from '../migrate/connection';
import type { RunnerOptions } from '../migrate/runner';
import type { Output } from './output';

type Flags = Record<string, string | string[] | true>;

const str = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return v === undefined || v === true ? undefined : Array.isArray(v) ? v[v.length - 1] : v;
};

export function runnerOptions(flags: Flags, out: Output, env: NodeJS.ProcessEnv = process.env): RunnerOptions {
  const connection = resolveConnection(env, { databaseUrl: str(flags, 'database-url'), connectTimeout: str(flags, 'connect-timeout') });
  out.redact(connection.password);
  return {
    dir: path.resolve(str(flags, 'dir') ?? 'migrations'),
    connection,
    ...runnerTimings(flags),
    onEvent: (e) => out.progress(e.message),
  };
}

/** The timing flags alone (no connection): `validate --static` checks them too rather than ignoring them. */
export function runnerTimings(flags: Flags): Omit<RunnerOptions, 'dir' | 'connection' | 'onEvent'> {
  const dur = (name: string, allowZero = false) => {
    const v = str(flags, name);
    return v === undefined ? undefined : parseDuration(v, `--${name}`, { allowZero });
  };
  const retries = str(flags, 'lock-retries');
  return {
    waitForDbMs: dur('wait-for-db'),
    lockWaitMs: dur('lock-wait', true),
    lockTimeoutMs: dur('lock-timeout'),
    lockRetries: retries === undefined ? undefined : parseInteger(retries, '--lock-retries', 0, 100),
    lockRetryBackoffMs: dur('lock-retry-backoff', true),
    statementTimeoutMs: dur('statement-timeout', true),
    concurrentStatementTimeoutMs: dur('concurrent-statement-timeout', true),
    connectionCheckIntervalMs: dur('connection-check-interval', true),
  };
}
