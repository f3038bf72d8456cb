// Test access to a real redis-server: one per test file, on a free port in a temp dir, started with a
// rendered redis.conf and ACL file, reached with the project's own RESP2 client (src/redis/resp.ts).
import { ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RespConnection as RedisConnection } from '../../src/redis/resp';

// The client is the project's own (src/redis/resp.ts, which doctor uses too): tests see the server's replies.
export { RespConnection as RedisConnection, RedisReplyError } from '../../src/redis/resp';
export type { RedisReply } from '../../src/redis/resp';
/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RedisServer {
  readonly port: number;
  /** The temp dir holding redis.conf, users.acl and data/. */
  readonly dir: string;
  readonly dataDir: string;
  /** Server log so far (stdout + stderr). */
  log(): string;
  /** SIGTERM (Redis fsyncs the AOF and exits), then waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, no shutdown work. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** stop() then start() on the same port, config and data. */
  restart(): Promise<void>;
  /** stop() and remove the temp dir. */
  destroy(): Promise<void>;
}

export interface RedisServerFiles {
  /** redis.conf text; `{{DIR}}` is replaced by the data directory, `{{ACLFILE}}` by the ACL file path. */
  readonly conf: string;
  readonly acl: string;
}

/**
 * Starts `redis-server` (from PATH, or REDIS_SERVER) with the given config. The config should bind
 * 127.0.0.1; the port is appended (`port N`) so the rendered one is overridden.
 */
export async function startRedisServer(files: (paths: { dataDir: string; aclfile: string }) => RedisServerFiles): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'caracal-redis-'));
  const dataDir = path.join(dir, 'data');
  const aclfile = path.join(dir, 'users.acl');
  const confPath = path.join(dir, 'redis.conf');
  await mkdir(dataDir);
  const port = await freePort();
  const rendered = files({ dataDir, aclfile });
  await writeFile(aclfile, rendered.acl, { mode: 0o600 });
  await writeFile(confPath, `${rendered.conf}\nport ${port}\n`, { mode: 0o600 });

  let child: ChildProcess | undefined;
  let output = '';
  const binary = process.env.REDIS_SERVER ?? 'redis-server';

  const start = async () => {
    const proc = spawn(binary, [confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const from = output.length;
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += String(d);
        if (output.indexOf('Ready to accept connections', from) >= 0) resolve();
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('error', reject);
      proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output.slice(-3000)}`)));
    });
  };
  const waitExit = (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  };

  await start();
  const server: RedisServer = {
    port,
    dir,
    dataDir,
    log: () => output,
    stop: () => waitExit('SIGTERM'),
    kill: () => waitExit('SIGKILL'),
    start: async () => {
      output += '\n--- start ---\n';
      await start();
    },
    restart: async () => {
      await server.stop();
      await server.start();
    },
    destroy: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** A redis-server running Caracal's rendered redis.conf and ACL file, with a password per user. */
export interface CaracalRedis {
  readonly server: RedisServer;
  readonly passwords: Readonly<Record<string, string>>;
  /** A connection authenticated as `user` (one of the ACL users). Closed by `closeAll`. */
  as(user: string): Promise<RedisConnection>;
  /** An unauthenticated connection. */
  anonymous(): Promise<RedisConnection>;
  closeAll(): Promise<void>;
  destroy(): Promise<void>;
}

/** Starts a server from `renderRedisConf` / `renderAclFile` output, exactly as the construct renders them. */
export async function startCaracalRedis(options: { maxmemoryBytes?: number; extra?: readonly string[] } = {}): Promise<CaracalRedis> {
  // Imported lazily so test files that only need the client do not load the constructs.
  const { REDIS_USERS, renderAclFile, renderRedisConf } = await import('../../constructs/internal/redis-config');
  const { createHash, randomBytes } = await import('node:crypto');
  const passwords: Record<string, string> = {};
  const hashes: Record<string, string> = {};
  for (const user of REDIS_USERS) {
    passwords[user] = randomBytes(24).toString('base64url');
    hashes[user] = createHash('sha256').update(passwords[user]).digest('hex');
  }
  const server = await startRedisServer(({ dataDir, aclfile }) => ({
    conf: renderRedisConf({
      maxmemoryBytes: options.maxmemoryBytes ?? 64 * 1024 * 1024,
      aclfile,
      dir: dataDir,
      bind: '127.0.0.1',
      extra: options.extra,
    }),
    acl: renderAclFile(hashes),
  }));
  const open: RedisConnection[] = [];
  const track = (c: RedisConnection) => {
    open.push(c);
    return c;
  };
  const closeAll = async () => {
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
  };
  return {
    server,
    passwords,
    as: async (user) =>
      track(await RedisConnection.connect({ host: '127.0.0.1', port: server.port, auth: { user, password: passwords[user] } })),
    anonymous: async () => track(await RedisConnection.connect({ host: '127.0.0.1', port: server.port })),
    closeAll,
    destroy: async () => {
      await closeAll();
      await server.destroy();
    },
  };
}
