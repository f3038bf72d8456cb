// What the doctor looks at, from the same contract the workloads use: the runner's PG* environment (its password
// file judged on its own, so a missing secret is a finding and not a crash), the services' pool settings (flags,
// a mounted `<prefix>-<service>-db` ConfigMap, or DB_POOL_MAX/PGAPPNAME in the environment) and their Redis
// settings (a mounted `<prefix>-<service>-redis` ConfigMap, REDIS_* in the environment, or password files given
// per ACL user). Every bad value is collected and reported at once, naming where it came from.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REDIS_USERS, type RedisUser } from '../../common/redis-streams';
import { SERVICES } from '../../common/names';
import { ConnectionFlags, ConnectionSettings, resolveConnection } from '../migrate/connection';
import { ConfigError, PasswordFileError } from '../migrate/errors';
import { finding, ok, type Outcome } from './report';

/** Bad settings, each named with where it came from (reported all at once with the CLI's other problems). */
export class SettingsError extends ConfigError {
  constructor(
    what: string,
    readonly problems: readonly string[],
  ) {
    super(`${what}: ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
  }
}

/** application_name of the doctor's own sessions: never mistaken for a migrator holding the lock, or for a service. */
export const DOCTOR_APPLICATION_NAME = 'caracal-doctor';

export interface PostgresTarget {
  /** How to reach the server; undefined when even the host and port do not resolve. */
  readonly settings?: ConnectionSettings;
  /** False when the password file failed: the server can be reached, but not logged into. */
  readonly hasPassword: boolean;
  /** The password file verdict. */
  readonly secret: Outcome;
  /** A TLS configuration problem found before connecting (an unreadable certificate file). */
  readonly tlsConfig?: Outcome;
}

/** Stand-in for a missing password so host, port and TLS can still be checked; never sent (auth is skipped). */
const NO_PASSWORD = '\u0000doctor: no password\u0000';

function asDoctor(s: ConnectionSettings): ConnectionSettings {
  const copy = { ...s, applicationName: DOCTOR_APPLICATION_NAME };
  Object.defineProperty(copy, 'password', { value: s.password, enumerable: false });
  return copy;
}

function secretVerdict(s: ConnectionSettings): Outcome {
  const file = /^(PGPASSWORD_FILE(?:'s default, chosen by [^=]+)?)=(.+)$/.exec(s.passwordSource);
  return file
    ? ok(`${file[2]} (${file[1]}) is readable and not empty`)
    : ok(`the password comes from ${s.passwordSource} (no password file)`);
}

/** The runner's connection contract, with the password file and TLS files judged rather than thrown. */
export function resolvePostgresTarget(env: NodeJS.ProcessEnv, flags: ConnectionFlags = {}): PostgresTarget {
  const isTlsConfig = (e: unknown) => e instanceof ConfigError && !!e.firstCheck?.startsWith('SSL mode');
  const tlsFinding = (e: ConfigError) => finding(e.message, e.firstCheck ?? 'SSL mode');
  try {
    const s = resolveConnection(env, flags);
    return { settings: asDoctor(s), hasPassword: true, secret: secretVerdict(s) };
  } catch (e) {
    if (e instanceof PasswordFileError) {
      const secret = finding(e.message, e.firstCheck ?? 'the database secret');
      try {
        const rest = resolveConnection({ ...env, PGPASSWORD: NO_PASSWORD }, flags);
        return { settings: asDoctor(rest), hasPassword: false, secret };
      } catch (e2) {
        if (!isTlsConfig(e2)) throw e2;
        const plain = tryResolve({ ...env, PGPASSWORD: NO_PASSWORD, PGSSLMODE: 'disable' }, flags);
        return { settings: plain, hasPassword: false, secret, tlsConfig: tlsFinding(e2 as ConfigError) };
      }
    }
    if (isTlsConfig(e)) {
      const plain = tryResolve({ ...env, PGSSLMODE: 'disable' }, flags);
      return {
        settings: plain,
        hasPassword: plain !== undefined,
        secret: plain ? secretVerdict(plain) : ok('not read'),
        tlsConfig: tlsFinding(e as ConfigError),
      };
    }
    throw e;
  }
}

function tryResolve(env: NodeJS.ProcessEnv, flags: ConnectionFlags): ConnectionSettings | undefined {
  try {
    return asDoctor(resolveConnection(env, flags));
  } catch {
    return undefined;
  }
}

// ---- Pool settings --------------------------------------------------------------------------------

/** One service's pool, as its pods are configured: DB_POOL_MAX connections per pod under `applicationName`. */
export interface PoolLimit {
  readonly applicationName: string;
  readonly poolMax: number;
  /** Where the value came from (a flag, a file, the environment). */
  readonly source: string;
}

export interface PoolInputs {
  /** `--pool-config DIR`: mounted database ConfigMaps (files DB_POOL_MAX and PGAPPNAME). */
  readonly configDirs?: readonly string[];
  /** `--pool-max SERVICE=N`. */
  readonly pairs?: ReadonlyArray<readonly [string, string]>;
  /** DB_POOL_MAX with PGAPPNAME, as a service pod has them (envFrom its ConfigMap). */
  readonly env?: NodeJS.ProcessEnv;
}

const POOL_MAX_ACCEPTED = 'a whole number from 1 to 200 (DB_POOL_MAX, as ServicePools renders it)';

function readKey(dir: string, key: string, problems: string[], source: string): string | undefined {
  try {
    return readFileSync(path.join(dir, key), 'utf8').trim();
  } catch (e) {
    problems.push(
      `${source}: ${path.join(dir, key)} cannot be read (${(e as NodeJS.ErrnoException).code}); expected the mounted ConfigMap's ${key}`,
    );
    return undefined;
  }
}

function poolMax(value: string, source: string, problems: string[]): number | undefined {
  if (/^[0-9]{1,3}$/.test(value) && Number(value) >= 1 && Number(value) <= 200) return Number(value);
  problems.push(`${source}=${JSON.stringify(value)} is not valid: expected ${POOL_MAX_ACCEPTED}`);
  return undefined;
}

/** The services' pool limits from every source given (later sources win for the same application_name). */
export function readPoolLimits(inputs: PoolInputs): PoolLimit[] {
  const problems: string[] = [];
  const limits = new Map<string, PoolLimit>();
  const env = inputs.env ?? {};
  if (env.DB_POOL_MAX !== undefined && env.DB_POOL_MAX !== '') {
    const app = env.PGAPPNAME;
    if (!app) problems.push('DB_POOL_MAX is set but PGAPPNAME is not: the pool limit needs the application_name its connections use');
    const n = poolMax(env.DB_POOL_MAX, 'DB_POOL_MAX', problems);
    if (app && n !== undefined) limits.set(app, { applicationName: app, poolMax: n, source: 'DB_POOL_MAX (environment)' });
  }
  for (const dir of inputs.configDirs ?? []) {
    const source = `--pool-config ${dir}`;
    const app = readKey(dir, 'PGAPPNAME', problems, source);
    const max = readKey(dir, 'DB_POOL_MAX', problems, source);
    const n = max === undefined ? undefined : poolMax(max, `${path.join(dir, 'DB_POOL_MAX')}`, problems);
    if (app !== undefined && app === '') problems.push(`${source}: PGAPPNAME is empty`);
    if (app && n !== undefined) limits.set(app, { applicationName: app, poolMax: n, source });
  }
  for (const [service, value] of inputs.pairs ?? []) {
    const source = `--pool-max ${service}=${value}`;
    if (!(SERVICES as readonly string[]).includes(service)) {
      problems.push(`${source}: ${JSON.stringify(service)} is not a Caracal service: expected one of ${SERVICES.join(', ')}`);
      continue;
    }
    const n = poolMax(value, `--pool-max ${service}`, problems);
    if (n !== undefined) limits.set(`caracal-${service}`, { applicationName: `caracal-${service}`, poolMax: n, source });
  }
  if (problems.length) throw new SettingsError('pool settings', problems);
  return [...limits.values()].sort((a, b) => a.applicationName.localeCompare(b.applicationName));
}

// ---- Redis --------------------------------------------------------------------------------------

export interface RedisUserTarget {
  readonly user: RedisUser;
  readonly passwordFile: string;
  readonly source: string;
}

export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly users: readonly RedisUserTarget[];
}

export interface RedisInputs {
  /** `--redis-config DIR`: mounted service Redis ConfigMaps (REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD_FILE). */
  readonly configDirs?: readonly string[];
  /** `--redis-password-file USER=FILE`. */
  readonly passwordFiles?: ReadonlyArray<readonly [string, string]>;
  /** REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD_FILE, as a service pod has them. */
  readonly env?: NodeJS.ProcessEnv;
}

const REDIS_USER_ACCEPTED = `one of the ACL users ${REDIS_USERS.join(', ')}`;

/** Where Redis is and which ACL users to try; undefined when nothing names a Redis. */
export function resolveRedisTarget(inputs: RedisInputs): RedisTarget | undefined {
  const problems: string[] = [];
  const endpoints: Array<{ host?: string; port?: string; source: string }> = [];
  const users = new Map<string, RedisUserTarget>();
  const addUser = (user: string | undefined, file: string | undefined, source: string) => {
    if (user === undefined && file === undefined) return;
    if (!user) return void problems.push(`${source}: REDIS_PASSWORD_FILE is set without REDIS_USERNAME`);
    if (!(REDIS_USERS as readonly string[]).includes(user))
      return void problems.push(`${source}: Redis user ${JSON.stringify(user)} is not ${REDIS_USER_ACCEPTED}`);
    if (!file) return void problems.push(`${source}: REDIS_USERNAME ${user} has no REDIS_PASSWORD_FILE`);
    users.set(user, { user: user as RedisUser, passwordFile: file, source });
  };
  const env = inputs.env ?? {};
  if (env.REDIS_HOST || env.REDIS_PORT)
    endpoints.push({ host: env.REDIS_HOST || undefined, port: env.REDIS_PORT || undefined, source: 'REDIS_HOST/REDIS_PORT' });
  addUser(env.REDIS_USERNAME || undefined, env.REDIS_PASSWORD_FILE || undefined, 'REDIS_USERNAME/REDIS_PASSWORD_FILE');
  for (const dir of inputs.configDirs ?? []) {
    const source = `--redis-config ${dir}`;
    const host = readKey(dir, 'REDIS_HOST', problems, source);
    const port = readKey(dir, 'REDIS_PORT', problems, source);
    endpoints.push({ host, port, source });
    let user: string | undefined;
    let file: string | undefined;
    try {
      user = readFileSync(path.join(dir, 'REDIS_USERNAME'), 'utf8').trim();
      file = readFileSync(path.join(dir, 'REDIS_PASSWORD_FILE'), 'utf8').trim();
    } catch {
      // a ConfigMap without a user (not one of the services'): only the endpoint counts
    }
    if (user !== undefined) addUser(user, file, source);
  }
  for (const [user, file] of inputs.passwordFiles ?? []) addUser(user, file, `--redis-password-file ${user}=${file}`);

  let host: string | undefined;
  let port = 6379;
  for (const e of endpoints) {
    if (e.host !== undefined && host !== undefined && e.host !== host)
      problems.push(`${e.source}: REDIS_HOST ${JSON.stringify(e.host)} differs from ${JSON.stringify(host)}: one Redis at a time`);
    host ??= e.host;
    if (e.port !== undefined) {
      if (!/^[0-9]{1,5}$/.test(e.port) || Number(e.port) < 1 || Number(e.port) > 65535)
        problems.push(`${e.source}: REDIS_PORT=${JSON.stringify(e.port)} is not valid: expected a port from 1 to 65535`);
      else port = Number(e.port);
    }
  }
  if (host !== undefined && (host === '' || /[\s,/]/.test(host)))
    problems.push(`REDIS_HOST=${JSON.stringify(host)} is not valid: expected one host name or IP address`);
  if (host === undefined && users.size > 0)
    problems.push('Redis users are given but no REDIS_HOST (or --redis-config) says where Redis is');
  if (problems.length) throw new SettingsError('Redis settings', problems);
  if (host === undefined) return undefined;
  return { host, port, users: [...users.values()].sort((a, b) => REDIS_USERS.indexOf(a.user) - REDIS_USERS.indexOf(b.user)) };
}
