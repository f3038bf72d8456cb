// Test access to a real redis-server: one per test file, on a free port in a temp dir, started with a
// rendered redis.conf and ACL file; plus a minimal RESP2 client (node:net) so tests see the server's
// own replies and errors without pulling a client library into the project.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export type RedisReply = string | number | null | RedisReply[];

/** An error reply from the server (`NOPERM ...`, `OOM ...`, `NOAUTH ...`, `WRONGPASS ...`). */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

/** Parses one RESP2 value from `buf` at `at`; undefined when more bytes are needed. */
function parse(buf: Buffer, at: number): { value: RedisReply | RedisReplyError; next: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('utf8', at + 1, eol);
  switch (type) {
    case '+':
      return { value: line, next: eol + 2 };
    case '-':
      return { value: new RedisReplyError(line), next: eol + 2 };
    case ':':
      return { value: Number(line), next: eol + 2 };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next: eol + 2 };
      if (buf.length < eol + 2 + len + 2) return undefined;
      return { value: buf.toString('utf8', eol + 2, eol + 2 + len), next: eol + 2 + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next: eol + 2 };
      const items: RedisReply[] = [];
      let next = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, next);
        if (!item) return undefined;
        // An error inside an array (EXEC results) is kept as its message.
        items.push(item.value instanceof RedisReplyError ? `ERR-REPLY ${item.value.message}` : item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

/** One connection; `command` resolves with the reply or rejects with the server's error reply. */
export class RedisConnection {
  private buffer = Buffer.alloc(0);
  private readonly waiting: Array<{ resolve: (v: RedisReply) => void; reject: (e: Error) => void }> = [];
  private closed: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const r = this.waiting.length ? parse(this.buffer, 0) : undefined;
        if (!r) break;
        this.buffer = this.buffer.subarray(r.next);
        const w = this.waiting.shift()!;
        if (r.value instanceof RedisReplyError) w.reject(r.value);
        else w.resolve(r.value);
      }
    });
    const fail = (e: Error) => {
      this.closed = e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  /** Connects and, when a user is given, authenticates with `AUTH user password`. */
  static async connect(port: number, auth?: { user: string; password: string }, host = '127.0.0.1'): Promise<RedisConnection> {
    const socket = net.connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const conn = new RedisConnection(socket);
    if (auth) await conn.command('AUTH', auth.user, auth.password);
    return conn;
  }

  command(...args: Array<string | number>): Promise<RedisReply> {
    if (this.closed) return Promise.reject(this.closed);
    const parts = args.map(String);
    const payload = `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(payload);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }
}

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
    as: async (user) => track(await RedisConnection.connect(server.port, { user, password: passwords[user] })),
    anonymous: async () => track(await RedisConnection.connect(server.port)),
    closeAll,
    destroy: async () => {
      await closeAll();
      await server.destroy();
    },
  };
}
