// A minimal Redis client (RESP2 over node:net): connect with a deadline, AUTH as an ACL user, send commands and
// read the server's own replies and errors. Used by `caracal-migrate doctor` and by the tests' real redis-server;
// small on purpose (no dependency in the runner bundle, loaded only by the commands that talk to Redis).
import net from 'node:net';

export type RedisReply = string | number | null | RedisReply[];

/** An error reply from the server (`NOPERM ...`, `OOM ...`, `NOAUTH ...`, `WRONGPASS ...`). */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
  /** The first word of the reply (`WRONGPASS`, `NOPERM`, `ERR`, ...). */
  get code(): string {
    return this.message.split(' ')[0];
  }
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

export interface RespConnectOptions {
  readonly host: string;
  readonly port: number;
  /** `AUTH user password` right after connecting. */
  readonly auth?: { readonly user: string; readonly password: string };
  /** Deadline of the TCP connect and of every reply; the socket is closed when it passes. @default none */
  readonly timeoutMs?: number;
}

/** One connection; `command` resolves with the reply or rejects with the server's error reply. */
export class RespConnection {
  private buffer = Buffer.alloc(0);
  private readonly waiting: Array<{ resolve: (v: RedisReply) => void; reject: (e: Error) => void }> = [];
  private closed: Error | undefined;
  private timeoutMs: number | undefined;

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
      if (this.waiting.length === 0) socket.setTimeout(0);
    });
    const fail = (e: Error) => {
      this.closed ??= e;
      for (const w of this.waiting.splice(0)) w.reject(this.closed);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  /** Connects (within `timeoutMs`) and, when `auth` is given, authenticates with `AUTH user password`. */
  static async connect(o: RespConnectOptions): Promise<RespConnection> {
    const socket = net.connect({ port: o.port, host: o.host });
    await new Promise<void>((resolve, reject) => {
      const timer = o.timeoutMs
        ? setTimeout(() => {
            socket.destroy();
            reject(Object.assign(new Error(`no answer from ${o.host}:${o.port} within ${o.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
          }, o.timeoutMs)
        : undefined;
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const conn = new RespConnection(socket);
    conn.timeoutMs = o.timeoutMs;
    socket.on('timeout', () => socket.destroy(new Error(`no reply from ${o.host}:${o.port} within ${o.timeoutMs} ms`)));
    try {
      if (o.auth) await conn.command('AUTH', o.auth.user, o.auth.password);
    } catch (e) {
      await conn.close();
      throw e;
    }
    return conn;
  }

  command(...args: Array<string | number>): Promise<RedisReply> {
    if (this.closed) return Promise.reject(this.closed);
    const parts = args.map(String);
    const payload = `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (this.timeoutMs) this.socket.setTimeout(this.timeoutMs);
      this.socket.write(payload);
    });
  }

  async close(): Promise<void> {
    if (this.closed || this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }
}

/** A flat `[k1, v1, k2, v2, ...]` reply (XINFO, HELLO) as an object. */
export function replyFields(reply: RedisReply): Record<string, RedisReply> {
  const out: Record<string, RedisReply> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}

/** `INFO` text as key/value pairs (section headers and blank lines dropped). */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}
