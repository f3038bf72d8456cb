// A failover in the middle of `caracal-migrate up`, on real Debian Postgres 15 servers: a primary and a streaming
// standby made with pg_basebackup, reached through one address that follows the primary (as CloudNativePG's -rw
// Service does; here a TCP forwarder). The primary stops while a migration runs; the standby is promoted and the
// address moves to it. With --wait-for-db the runner reconnects, names the failover and finishes on the new primary;
// a session that lands on a standby is refused, naming it.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { BASIC, envFor, migrationsDir, runCli, startCli } from '../../fixtures/migrate/cli';

const BIN = '/usr/lib/postgresql/15/bin';
let root: string;
let primary: { dir: string; port: number };
let standby: { dir: string; port: number };
let forwarder: { port: number; target: number; server: Server; sockets: Set<Socket> };

/** Runs a Postgres tool as the `postgres` user (initdb and the server refuse root). */
function asPostgres(tool: string, args: string[]): string {
  return execFileSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', path.join(BIN, tool), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: root,
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function startServer(dir: string, port: number): void {
  asPostgres('pg_ctl', [
    'start',
    '-w',
    '-t',
    '30',
    '-D',
    dir,
    '-l',
    path.join(dir, 'server.log'),
    '-o',
    `-p ${port} -k ${root} -c listen_addresses=127.0.0.1`,
  ]);
}

const sql = async <T>(port: number, text: string): Promise<T[]> => {
  const c = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'caracal' });
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end();
  }
};

/** A TCP forwarder: one address whose target moves from the old primary to the new one, as a Service's endpoints do. */
function startForwarder(port: number, target: number): Promise<typeof forwarder> {
  const sockets = new Set<Socket>();
  const f = { port, target, server: undefined as unknown as Server, sockets };
  f.server = createServer((client) => {
    const upstream = tcpConnect(f.target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) => f.server.listen(port, '127.0.0.1', () => resolve(f)));
}

beforeAll(async () => {
  if (spawnSync(path.join(BIN, 'pg_basebackup'), ['--version']).status !== 0)
    throw new Error(`Debian Postgres 15 is not installed in ${BIN}`);
  root = mkdtempSync(path.join(tmpdir(), 'caracal-failover-'));
  chmodSync(root, 0o755);
  chownSync(
    root,
    Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  );
  primary = { dir: path.join(root, 'primary'), port: await freePort() };
  standby = { dir: path.join(root, 'standby'), port: await freePort() };
  asPostgres('initdb', ['-D', primary.dir, '-U', 'postgres', '--auth=trust', '--no-sync']);
  writeFileSync(
    path.join(primary.dir, 'pg_hba.conf'),
    'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n',
  );
  startServer(primary.dir, primary.port);
  execFileSync(path.join(BIN, 'psql'), ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-c', 'CREATE DATABASE caracal'], {
    stdio: 'pipe',
  });
  // The standby: a base backup of the primary streaming its WAL (-R writes primary_conninfo and standby.signal).
  asPostgres('pg_basebackup', [
    '-h',
    '127.0.0.1',
    '-p',
    String(primary.port),
    '-U',
    'postgres',
    '-D',
    standby.dir,
    '-R',
    '-X',
    'stream',
    '--no-sync',
  ]);
  startServer(standby.dir, standby.port);
  forwarder = await startForwarder(await freePort(), primary.port);
}, 120_000);

afterAll(async () => {
  for (const s of forwarder?.sockets ?? []) s.destroy();
  await new Promise((r) => (forwarder ? forwarder.server.close(r) : r(undefined)));
  for (const dir of [primary?.dir, standby?.dir]) {
    if (dir)
      spawnSync('setpriv', [
        '--reuid=postgres',
        '--regid=postgres',
        '--init-groups',
        '--',
        path.join(BIN, 'pg_ctl'),
        'stop',
        '-D',
        dir,
        '-m',
        'immediate',
      ]);
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

const env = (port: number) => envFor({ host: '127.0.0.1', port, user: 'postgres', password: 'unused', name: 'caracal' });

describe('caracal-migrate up through a failover (Postgres 15 primary + pg_basebackup standby)', () => {
  test('GIVEN the address of the primary WHEN it points at the streaming standby THEN up is refused, naming a standby and the -rw Service', async () => {
    const r = await runCli(['up', '--dir', migrationsDir(BASIC)], env(standby.port));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a standby in recovery \(read-only\): a failover or switchover is under way, or PGHOST names a replica/);
    expect(r.stderr).toMatch(/<cluster>-rw Service/);
  });

  test('GIVEN up running a migration WHEN the primary stops and the standby is promoted behind the same address THEN up reconnects, names the failover and finishes on the new primary', async () => {
    const t0 = Date.now();
    const dir = migrationsDir({
      ...BASIC,
      '0004_slow.up.sql': 'CREATE TABLE public.during_failover (id int);\nSELECT pg_sleep(4);\n',
      '0005_after.up.sql': 'CREATE TABLE public.after_failover (id int);\n',
    });
    const run = startCli(['up', '--dir', dir, '--wait-for-db=30s'], env(forwarder.port));
    await run.waitForStderr(/holding the migration advisory lock/);
    // While 0004 sleeps inside its transaction: the primary dies, the standby is promoted, the address moves.
    await new Promise((r) => setTimeout(r, 1000));
    asPostgres('pg_ctl', ['stop', '-D', primary.dir, '-m', 'immediate']);
    for (const s of forwarder.sockets) s.destroy();
    asPostgres('pg_ctl', ['promote', '-w', '-D', standby.dir]);
    forwarder.target = standby.port;
    const r = await run.result;

    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stderr).toMatch(
      /the connection to .* was lost .*: the server restarted, or a failover or switchover moved the primary; reconnecting/,
    );
    expect(r.stdout).toMatch(/applied 0004_slow\.up\.sql/);
    const applied = await sql<{ v: number }>(standby.port, 'SELECT version::int AS v FROM public.schema_migrations ORDER BY 1');
    expect(applied.map((x) => x.v)).toEqual([1, 2, 3, 4, 5]);
    const tables = await sql<{ t: string }>(standby.port, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    expect(tables.map((x) => x.t)).toEqual(expect.arrayContaining(['after_failover', 'during_failover', 'zones']));
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 60_000);
});
