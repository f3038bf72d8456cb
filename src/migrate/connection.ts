// Connection contract of the runner: PG* variables, PGPASSWORD_FILE with Caracal's default path, DATABASE_URL,
// libpq's sslmode semantics done explicitly, --wait-for-db, and failure messages in the seed's words.
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isIP } from 'node:net';
import type { ConnectionOptions, SecureContext } from 'node:tls';
import { Client, ClientConfig } from 'pg';
import { SSL_MODES, SslMode } from '../../common/names';
import { parseDurationSetting, parseInteger } from './config';
import { ConfigError, ConnectionError, PasswordFileError } from './errors';
import { maskConnectionStrings } from './redact';

export const APPLICATION_NAME = 'caracal-migrate';
export { SSL_MODES };
export type { SslMode };

export interface ConnectionFlags {
  /** `--database-url`; wins over DATABASE_URL. */
  readonly databaseUrl?: string;
  /** `--connect-timeout` (default: PGCONNECT_TIMEOUT, else 10 s). */
  readonly connectTimeout?: string;
}

/** Everything needed to connect. The password is not enumerable, so it never reaches JSON or inspection. */
export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly sslMode: SslMode;
  /** Where the password came from, e.g. `PGPASSWORD_FILE=/path` or `DATABASE_URL`. Never the password. */
  readonly passwordSource: string;
  readonly connectTimeoutMs: number;
  readonly applicationName: string;
  /** TLS options for the modes that use TLS (undefined for disable). */
  readonly tls?: ConnectionOptions;
  /** The root certificate the server's chain is verified against (`path (source)`), when it is. */
  readonly rootCert?: string;
  /** The password (non-enumerable). */
  readonly password?: string;
}

/** `user@host:port/database (sslmode=...)`, safe to print. */
export function describeConnection(s: ConnectionSettings): string {
  return `${s.user}@${s.host}:${s.port}/${s.database} (sslmode=${s.sslMode})`;
}

/** Default of PGPASSWORD_FILE: ${CARACAL_SECRETS_DIR:-${CARACAL_HOME:-$HOME/.local/share/caracal}/secrets}/postgresPassword */
export function defaultPasswordFile(env: NodeJS.ProcessEnv): { path: string; chosenBy: string } {
  if (env.CARACAL_SECRETS_DIR) return { path: path.join(env.CARACAL_SECRETS_DIR, 'postgresPassword'), chosenBy: 'CARACAL_SECRETS_DIR' };
  if (env.CARACAL_HOME) return { path: path.join(env.CARACAL_HOME, 'secrets', 'postgresPassword'), chosenBy: 'CARACAL_HOME' };
  const home = env.HOME || os.homedir();
  return {
    path: path.join(home, '.local/share/caracal/secrets/postgresPassword'),
    chosenBy: 'HOME (neither CARACAL_SECRETS_DIR nor CARACAL_HOME is set)',
  };
}

// Not application_name: it is always caracal-migrate (the lock holder message and applied_by rely on it), so refuse it rather than ignore it.
const URL_PARAMS = new Set(['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'connect_timeout']);

/**
 * Resolve connection settings from the environment and flags, validating every value. Precedence follows
 * libpq: URL parts, then PG* variables, then defaults (localhost, 5432, caracal, caracal, sslmode prefer).
 */
export function resolveConnection(env: NodeJS.ProcessEnv, flags: ConnectionFlags = {}): ConnectionSettings {
  const urlSource = flags.databaseUrl !== undefined ? '--database-url' : env.DATABASE_URL ? 'DATABASE_URL' : undefined;
  const urlText = flags.databaseUrl ?? (env.DATABASE_URL || undefined);
  const fromUrl: Record<string, string | undefined> = {};
  if (urlText !== undefined && urlSource) {
    refuseAtAfterAuthority(urlText, urlSource);
    let u: URL;
    try {
      u = new URL(urlText);
    } catch {
      throw new ConfigError(
        `${urlSource} is not a valid URL: expected postgres://user[:password]@host[:port]/database[?sslmode=...] (value not shown: it may hold a password)`,
      );
    }
    if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
      throw new ConfigError(`${urlSource} has scheme ${JSON.stringify(u.protocol)}: expected postgres:// or postgresql://`);
    }
    // decodeURIComponent throws a bare URIError on a stray %: name the part instead (never showing a password).
    const decode = (part: string, text: string, secret = false) => {
      try {
        return decodeURIComponent(text);
      } catch {
        throw new ConfigError(
          `${urlSource} ${part}${secret ? '' : ` ${JSON.stringify(text)}`} is not valid percent-encoding` +
            `${secret ? ' (value not shown: it is a password)' : ''}: a % must be followed by two hex digits (write %25 for a literal %)`,
        );
      }
    };
    fromUrl.host = u.hostname ? decode('host', u.hostname.replace(/^\[|\]$/g, '')) : undefined;
    fromUrl.port = u.port || undefined;
    fromUrl.user = u.username ? decode('user', u.username) : undefined;
    fromUrl.password = u.password ? decode('password', u.password, true) : undefined;
    const db = decode('database', u.pathname.replace(/^\//, ''));
    fromUrl.database = db || undefined;
    for (const [k, v] of u.searchParams) {
      if (!URL_PARAMS.has(k)) {
        throw new ConfigError(
          `${urlSource} has query parameter ${JSON.stringify(k)}: accepted are ${[...URL_PARAMS].join(', ')} (application_name is always ${APPLICATION_NAME})`,
        );
      }
      fromUrl[k] = v;
    }
    // A socket directory in ?host= is libpq's form; not supported here.
  }
  const pick = (urlKey: string, envKey: string): { value?: string; source: string } => {
    if (fromUrl[urlKey] !== undefined && fromUrl[urlKey] !== '') return { value: fromUrl[urlKey], source: `${urlSource} ${urlKey}` };
    if (env[envKey] !== undefined && env[envKey] !== '') return { value: env[envKey], source: envKey };
    return { source: envKey };
  };

  const host = pick('host', 'PGHOST');
  const hostValue = host.value ?? 'localhost';
  if (/[\s,]/.test(hostValue) || hostValue.length > 253) {
    throw new ConfigError(
      `${host.source}=${JSON.stringify(hostValue)} is not valid: expected one host name, IP address or socket directory (no spaces or commas)`,
    );
  }
  const port = pick('port', 'PGPORT');
  const portValue = port.value === undefined ? 5432 : parseInteger(port.value, port.source, 1, 65535);
  const user = pick('user', 'PGUSER');
  const userValue = user.value ?? 'caracal';
  checkName(userValue, user.source);
  const database = pick('database', 'PGDATABASE');
  const databaseValue = database.value ?? 'caracal';
  checkName(databaseValue, database.source);

  const sslmode = pick('sslmode', 'PGSSLMODE');
  const sslModeValue = (sslmode.value ?? 'prefer') as SslMode;
  if (!SSL_MODES.includes(sslModeValue)) {
    throw new ConfigError(`${sslmode.source}=${JSON.stringify(sslmode.value)} is not valid: expected one of ${SSL_MODES.join(', ')}`);
  }
  const timeout =
    flags.connectTimeout !== undefined
      ? { value: flags.connectTimeout, source: '--connect-timeout' }
      : pick('connect_timeout', 'PGCONNECT_TIMEOUT');
  const connectTimeoutMs = timeout.value === undefined ? 10_000 : parseDurationSetting(timeout.value, timeout.source);

  // Password: URL, then PGPASSWORD, then the password file (explicit PGPASSWORD_FILE or Caracal's default path).
  let password: string | undefined;
  let passwordSource: string;
  if (fromUrl.password !== undefined) {
    password = fromUrl.password;
    passwordSource = urlSource!;
  } else if (env.PGPASSWORD !== undefined && env.PGPASSWORD !== '') {
    password = env.PGPASSWORD;
    passwordSource = 'PGPASSWORD';
  } else {
    const explicit = env.PGPASSWORD_FILE !== undefined && env.PGPASSWORD_FILE !== '';
    const file = explicit ? { path: env.PGPASSWORD_FILE!, chosenBy: 'PGPASSWORD_FILE' } : defaultPasswordFile(env);
    const chosen = explicit ? 'PGPASSWORD_FILE' : `PGPASSWORD_FILE's default, chosen by ${file.chosenBy}`;
    let text: string;
    try {
      text = readFileSync(file.path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const what =
        code === 'ENOENT'
          ? 'does not exist'
          : code === 'EACCES'
            ? 'is not readable'
            : code === 'EISDIR'
              ? 'is a directory'
              : `cannot be read (${code})`;
      throw new PasswordFileError(
        `password file ${file.path} (${chosen}) ${what}`,
        file.path,
        "the database secret: mount the Secret's password at that path, or set PGPASSWORD_FILE (or CARACAL_SECRETS_DIR) to where it is",
      );
    }
    password = text.replace(/\r?\n$/, '');
    if (password === '') {
      throw new PasswordFileError(
        `password file ${file.path} (${chosen}) is empty`,
        file.path,
        "the database secret: the Secret's password key has no value",
      );
    }
    passwordSource = `${explicit ? 'PGPASSWORD_FILE' : chosen}=${file.path}`;
  }

  const { tls, rootCert } = tlsOptions(sslModeValue, hostValue, env, fromUrl, urlSource, sslmode.source);
  const settings: ConnectionSettings = {
    host: hostValue,
    port: portValue,
    user: userValue,
    database: databaseValue,
    sslMode: sslModeValue,
    passwordSource,
    connectTimeoutMs,
    applicationName: APPLICATION_NAME,
    tls,
    ...(rootCert ? { rootCert } : {}),
  };
  Object.defineProperty(settings, 'password', { value: password, enumerable: false });
  return settings;
}

/**
 * An "@" after the authority means a password holding "/", "?" or "#" that was not percent-encoded: a URL parser
 * then takes part of the password for the path, query or fragment, and any message about those would show it.
 * Refused without echoing any part of the URL.
 */
function refuseAtAfterAuthority(urlText: string, urlSource: string): void {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(urlText);
  if (!scheme) return;
  const rest = urlText.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  if (authorityEnd >= 0 && rest.indexOf('@', authorityEnd) >= 0) {
    throw new ConfigError(
      `${urlSource} has "@" after its host part: a user or password holding "/", "?", "#" or "@" must be percent-encoded ` +
        '(%2F, %3F, %23, %40) (value not shown: it may hold a password)',
      'the database secret: percent-encode the password in the URL, or give it through PGPASSWORD_FILE instead',
    );
  }
}

function checkName(value: string, source: string) {
  if (value.length > 63 || /[\u0000\n\r]/.test(value)) {
    throw new ConfigError(
      `${source}=${JSON.stringify(value.slice(0, 80))} is not valid: expected a Postgres name of at most 63 bytes without control characters`,
    );
  }
}

/** libpq's sslmode semantics, made explicit for node's TLS (node-postgres alone treats most modes as verify-full). */
function tlsOptions(
  mode: SslMode,
  host: string,
  env: NodeJS.ProcessEnv,
  fromUrl: Record<string, string | undefined>,
  urlSource: string | undefined,
  modeSource: string,
): { tls?: ConnectionOptions; rootCert?: string } {
  if (mode === 'disable') return {};
  const home = env.HOME || os.homedir();
  const pick = (urlKey: string, envKey: string, fallback: string) => {
    if (fromUrl[urlKey]) return { path: fromUrl[urlKey]!, source: `${urlSource} ${urlKey}`, explicit: true };
    if (env[envKey]) return { path: env[envKey]!, source: envKey, explicit: true };
    return { path: path.join(home, '.postgresql', fallback), source: `${envKey} default`, explicit: false };
  };
  const rootCert = pick('sslrootcert', 'PGSSLROOTCERT', 'root.crt');
  const cert = pick('sslcert', 'PGSSLCERT', 'postgresql.crt');
  const key = pick('sslkey', 'PGSSLKEY', 'postgresql.key');
  const opts: ConnectionOptions = {};
  const read = (f: { path: string; source: string }, what: string) => {
    try {
      return readFileSync(f.path);
    } catch (e) {
      throw new ConfigError(
        `${f.source}=${f.path}: ${what} cannot be read (${(e as NodeJS.ErrnoException).code})`,
        'SSL mode: the certificate files mounted for the Job',
      );
    }
  };

  // Client certificate: used when present (the default path only if the file exists), with its key.
  if (cert.explicit || existsSync(cert.path)) {
    opts.cert = read(cert, 'the client certificate');
    if (!key.explicit && !existsSync(key.path)) {
      throw new ConfigError(
        `certificate present but not private key file ${key.path} (${key.source}); set PGSSLKEY`,
        'SSL mode: the client key file',
      );
    }
    // Read first: a missing or unreadable key then fails with a clear error, not a bare stat ENOENT.
    opts.key = read(key, 'the client key');
    const st = statSync(key.path);
    // libpq refuses a key readable by others: 0600 if owned by the current user, 0640 if owned by root.
    const limit = st.uid === 0 && process.getuid?.() !== 0 ? 0o640 : 0o600;
    if ((st.mode & 0o777 & ~limit) !== 0) {
      throw new ConfigError(
        `${key.source}=${key.path}: private key file has group or world access (mode ${(st.mode & 0o777).toString(8)}); ` +
          'it must be u=rw (0600) or less if owned by the current user, or u=rw,g=r (0640) or less if owned by root',
        'SSL mode: the client key file permissions',
      );
    }
  } else if (key.explicit) {
    opts.key = read(key, 'the client key');
  }

  const systemRoots = rootCert.path === 'system';
  if (systemRoots && mode !== 'verify-full') {
    throw new ConfigError(
      `${rootCert.source}=system needs sslmode verify-full: ${modeSource}=${mode} is weaker (libpq refuses the same)`,
      'SSL mode',
    );
  }
  const haveRoot = systemRoots || rootCert.explicit || existsSync(rootCert.path);
  // libpq loads the root certificate whenever it exists and then verifies the chain in every mode that uses TLS:
  // require behaves like verify-ca, and so do the TLS attempts of prefer and allow (a failed one under prefer is
  // retried without TLS, see connectOnce). An explicit PGSSLROOTCERT that cannot be read is an error in every mode.
  const verifyChain = mode === 'verify-ca' || mode === 'verify-full' || haveRoot;
  if (verifyChain) {
    if (!haveRoot) {
      throw new ConfigError(
        `${modeSource}=${mode} needs a root certificate, and ${rootCert.path} (${rootCert.source}) does not exist: ` +
          'set PGSSLROOTCERT to the CA that signed the server certificate, use PGSSLROOTCERT=system for the system roots, or weaken the SSL mode',
        'SSL mode: the CA certificate mounted for the Job',
      );
    }
    if (!systemRoots) opts.ca = read(rootCert, 'the root certificate');
    opts.rejectUnauthorized = true;
    if (mode === 'verify-full') {
      if (isIP(host) === 0 && !host.startsWith('/')) opts.servername = host;
      // Check PGHOST itself (an IP against IP SANs): without a servername, node would check 'localhost' instead.
      opts.checkServerIdentity = (_name, cert) => (require('node:tls') as typeof import('node:tls')).checkServerIdentity(host, cert);
    } else {
      opts.checkServerIdentity = () => undefined;
    }
  } else {
    opts.rejectUnauthorized = false;
  }
  return { tls: opts, rootCert: verifyChain ? `${systemRoots ? 'the system roots' : rootCert.path} (${rootCert.source})` : undefined };
}

/**
 * One TLS context per TLS settings, shared by every connection made with them (the migrator's and provisioning's
 * login checks). Node builds a fresh certificate store for each context that is given a CA: about 3.5 ms of CPU per
 * connection otherwise.
 */
const secureContexts = new WeakMap<ConnectionOptions, SecureContext>();

function tlsConfig(tls: ConnectionOptions): ConnectionOptions {
  if (tls.ca === undefined && tls.cert === undefined && tls.key === undefined) return { ...tls };
  let secureContext = secureContexts.get(tls);
  if (!secureContext) {
    // node:tls loads here, on the first TLS connection: a run with sslmode=disable never evaluates it.
    secureContext = (require('node:tls') as typeof import('node:tls')).createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
    secureContexts.set(tls, secureContext);
  }
  return { ...tls, secureContext };
}

function pgConfig(s: ConnectionSettings, ssl: boolean): ClientConfig {
  return {
    host: s.host,
    port: s.port,
    user: s.user,
    database: s.database,
    password: s.password,
    ssl: ssl && s.tls ? tlsConfig(s.tls) : false,
    application_name: s.applicationName,
    connectionTimeoutMillis: s.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}

export interface ConnectOptions {
  /** Keep retrying connection failures that can pass (refused, unresolvable, starting up) until this deadline. */
  readonly waitForDbMs?: number;
  readonly onWait?: (message: string) => void;
}

/** Connect once, applying libpq's prefer/allow fallbacks. Throws ConnectionError with the first thing to check. */
export async function connect(s: ConnectionSettings, opts: ConnectOptions = {}): Promise<Client> {
  const deadline = Date.now() + (opts.waitForDbMs ?? 0);
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectOnce(s);
    } catch (e) {
      const err = classifyConnectError(e, s);
      const remaining = deadline - Date.now();
      if (!isRetryable(e) || remaining <= 0) {
        if (opts.waitForDbMs && attempt > 1)
          err.message += ` (still failing after waiting ${Math.round(opts.waitForDbMs / 1000)} s for the database)`;
        throw err;
      }
      opts.onWait?.(`database not reachable yet (${err.message.split('\n')[0]}); retrying until the --wait-for-db deadline`);
      await sleep(Math.min(1000, remaining));
    }
  }
}

/** The server's transaction status as its last ReadyForQuery message said: idle, in a transaction, or in a failed one. */
export type TransactionStatus = 'idle' | 'in-transaction' | 'failed';

const TRANSACTION_STATUS: Record<string, TransactionStatus> = { I: 'idle', T: 'in-transaction', E: 'failed' };
const transactionStatuses = new WeakMap<Client, TransactionStatus>();

/**
 * The transaction status the server reported with its last ReadyForQuery (the protocol's own answer, so it also
 * sees a transaction a statement opened that no scanner recognised). Known for every client `connect` returns.
 */
export function transactionStatus(client: Client): TransactionStatus | undefined {
  return transactionStatuses.get(client);
}

async function connectOnce(s: ConnectionSettings): Promise<Client> {
  const attempt = async (ssl: boolean) => {
    const client = new Client(pgConfig(s, ssl));
    client.on('error', () => undefined); // errors after connect surface through the query that hits them
    // The query's promise settles in a later microtask than this listener, so the status is current when `await` returns.
    client.connection.on('readyForQuery', (msg: { status?: string }) => {
      const status = TRANSACTION_STATUS[msg.status ?? ''];
      if (status) transactionStatuses.set(client, status);
    });
    try {
      await client.connect();
      return client;
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
  };
  if (s.sslMode === 'disable') return attempt(false);
  if (s.sslMode === 'allow') {
    try {
      return await attempt(false);
    } catch (e) {
      if (isNoEncryptionRejection(e)) return attempt(true);
      throw e;
    }
  }
  if (s.sslMode === 'prefer') {
    try {
      return await attempt(true);
    } catch (e) {
      if (/does not support SSL/i.test(String((e as Error).message))) return attempt(false);
      // libpq retries without TLS after any failed TLS attempt under prefer (a failed verification included).
      if (!isTlsError(e as { code?: string; message?: string })) throw e;
      try {
        return await attempt(false);
      } catch (plain) {
        throw new PlainRetryFailed(e, plain);
      }
    }
  }
  return attempt(true);
}

/** prefer: the TLS attempt failed, then the retry without TLS failed too; the TLS failure is the one to report. */
class PlainRetryFailed extends Error {
  readonly code?: string;
  constructor(
    readonly tlsError: unknown,
    readonly plainError: unknown,
  ) {
    super(String((tlsError as Error).message ?? tlsError));
    this.code = (tlsError as { code?: string }).code;
  }
}

function isNoEncryptionRejection(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err.code === '28000' && /no encryption/i.test(err.message ?? '');
}

const RETRYABLE_NET = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

function isRetryable(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  if (err.code && RETRYABLE_NET.has(err.code)) return true;
  if (err.code === '57P03' || err.code === '53300') return true; // starting up / too many connections
  return /timeout expired|Connection terminated unexpectedly/i.test(err.message ?? '');
}

/** Map a pg/net/TLS error to a ConnectionError that names the connection part to check first. */
export function classifyConnectError(e: unknown, s: ConnectionSettings): ConnectionError {
  const err = e as { code?: string; message?: string };
  // Nothing but the login reached the server, so its messages cannot echo the password; a connection string can.
  const msg = maskConnectionStrings(String(err.message ?? e));
  const at = describeConnection(s);
  const code = err.code;
  if (code === '28P01') {
    return new ConnectionError(
      `password authentication failed for user ${JSON.stringify(s.user)} at ${at} (SQLSTATE 28P01)`,
      'secret',
      `the database secret: the password from ${s.passwordSource} does not match the role ${JSON.stringify(s.user)}`,
      code,
    );
  }
  if (code === '3D000') {
    return new ConnectionError(
      `database ${JSON.stringify(s.database)} does not exist at ${s.host}:${s.port} (SQLSTATE 3D000)`,
      'database',
      'the database: PGDATABASE (create it, or fix the name)',
      code,
    );
  }
  if (code === '28000' && /no encryption|no pg_hba.conf entry/i.test(msg)) {
    return new ConnectionError(
      `the server refused ${at}: ${msg} (SQLSTATE 28000)`,
      'sslmode',
      "SSL mode and user: the server's pg_hba.conf has no entry for this user/database with this encryption; check PGSSLMODE (the server may require SSL) and the user",
      code,
    );
  }
  if (code === '28000' && /certificate/i.test(msg)) {
    return new ConnectionError(
      `the server refused ${at}: ${msg} (SQLSTATE 28000)`,
      'sslmode',
      'SSL mode: this user authenticates with a client certificate: set PGSSLCERT and PGSSLKEY to its certificate and key',
      code,
    );
  }
  if (code === '28000' && /role .* does not exist/i.test(msg)) {
    return new ConnectionError(
      `role ${JSON.stringify(s.user)} does not exist at ${s.host}:${s.port} (SQLSTATE 28000)`,
      'user',
      'the user: PGUSER (the login role for this environment is created by the migration Job of the owner)',
      code,
    );
  }
  if (code === '28000' || code === '42501') {
    return new ConnectionError(
      `the server refused ${at}: ${msg} (SQLSTATE ${code})`,
      'user',
      'the user and its CONNECT privilege on the database',
      code,
    );
  }
  if (code === 'ECONNREFUSED') {
    return new ConnectionError(
      `nothing accepts connections at ${s.host}:${s.port} (connection refused)`,
      'port',
      'host and port: PGHOST/PGPORT point at the Postgres Service, and Postgres is running there',
      code,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ConnectionError(
      `host name ${JSON.stringify(s.host)} does not resolve (${code})`,
      'host',
      "the host: PGHOST (the Service name, in the Job's namespace or fully qualified)",
      code,
    );
  }
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || /timeout expired/i.test(msg)) {
    return new ConnectionError(
      `no answer from ${s.host}:${s.port} within ${Math.round(s.connectTimeoutMs / 1000)} s (${code ?? 'timeout'})`,
      'host',
      'host and port, and the NetworkPolicy that must admit the migration Job to Postgres',
      code,
    );
  }
  if (/does not support SSL/i.test(msg)) {
    return new ConnectionError(
      `${s.host}:${s.port} does not support SSL, and PGSSLMODE=${s.sslMode} requires it`,
      'sslmode',
      'SSL mode: PGSSLMODE (prefer or disable for a server without TLS), or enable ssl on the server',
      code,
    );
  }
  if (isTlsError(err)) {
    // libpq's words for a chain that does not verify, then node's reason.
    const what = /CERT|SELF_SIGNED|UNABLE_TO|DEPTH_ZERO/.test(code ?? '') ? `certificate verify failed (${msg})` : msg;
    const verified = s.rootCert ? ` against the root certificate ${s.rootCert}` : '';
    const plain =
      e instanceof PlainRetryFailed
        ? `; the retry without TLS failed too: ${maskConnectionStrings(String((e.plainError as Error).message ?? e.plainError))}`
        : '';
    return new ConnectionError(
      `TLS with ${s.host}:${s.port} failed under PGSSLMODE=${s.sslMode}${verified}: ${what}${plain}`,
      'sslmode',
      s.rootCert && /default/.test(s.rootCert) && s.sslMode !== 'verify-ca' && s.sslMode !== 'verify-full'
        ? `SSL mode: ~/.postgresql/root.crt is read whenever it exists (as libpq does), and then the server's chain must verify even under ${s.sslMode}: put the CA that signed the server certificate there (or in PGSSLROOTCERT), or remove the file`
        : 'SSL mode: PGSSLMODE, PGSSLROOTCERT (the CA that signed the server certificate) and, for verify-full, that PGHOST is a name in the certificate',
      code,
    );
  }
  if (code === '57P03') {
    return new ConnectionError(
      `the database at ${s.host}:${s.port} is starting up or shutting down (SQLSTATE 57P03)`,
      'connection',
      'host and port: wait for Postgres to be ready (--wait-for-db)',
      code,
    );
  }
  if (code === '53300') {
    return new ConnectionError(
      `too many connections at ${s.host}:${s.port} (SQLSTATE 53300)`,
      'connection',
      "the server's max_connections and the services' pool sizes",
      code,
    );
  }
  return new ConnectionError(
    `cannot connect to ${at}: ${msg}${code ? ` (${code})` : ''}`,
    'connection',
    'database secret, host, port, user, database, SSL mode, and advisory-lock connectivity',
    code,
  );
}

function isTlsError(err: { code?: string; message?: string }): boolean {
  const code = err.code ?? '';
  return (
    /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|ALTNAME|DEPTH_ZERO/i.test(code) ||
    /certificate|SSL routines|self[- ]signed|Hostname\/IP does not match/i.test(err.message ?? '')
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
