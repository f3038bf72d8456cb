// Redis for Caracal's streams as pure data and text: which streams and keys exist, which service may do
// what on them, and the redis.conf / ACL file that enforce it. Used by RedisStreams (inside Terraform,
// where password hashes are tokens) and by the integration tests (against a real redis-server).
import { ServiceName } from '../../common/names';
import { KEY_PREFIX, REDIS_USERS, RedisUser, STREAM_ACCESS, StreamAccess, StreamName, STREAMS } from '../../common/redis-streams';
import { REDIS_BACKUP_RULES } from '../../common/redis-backup';
import { RELOADER_RULES, RELOADER_USER } from '../../common/redis-acl-reloader';

// The stream names, who may do what on them, and the ACL users are shared with the runner (doctor).
export { KEY_PREFIX, REDIS_USERS, STREAM_ACCESS, STREAMS } from '../../common/redis-streams';
export type { RedisUser, StreamAccess, StreamName } from '../../common/redis-streams';

/** Services that coordinate rate limits across their replicas, each in its own key space. */
export const RATE_LIMITED_SERVICES: readonly ServiceName[] = ['api', 'sts', 'gateway'];

/** Key pattern of a service's rate-limit counters. */
export function rateLimitPattern(service: ServiceName): string {
  return `caracal:ratelimit:${service}:*`;
}

// ---- Users and their rules --------------------------------------------------------------------

/** What every service connection needs before touching a key. */
export const CONNECTION_COMMANDS = ['ping', 'hello', 'client|setname', 'client|getname', 'client|id'] as const;

export const PRODUCER_COMMANDS = ['xadd'] as const;

export const CONSUMER_COMMANDS = [
  'xreadgroup',
  'xack',
  'xpending',
  'xclaim',
  'xautoclaim',
  'xgroup|create',
  'xgroup|createconsumer',
  'xgroup|delconsumer',
  'xinfo|stream',
  'xinfo|groups',
  'xinfo|consumers',
  'xlen',
] as const;

export const TRIM_COMMANDS = ['xtrim'] as const;

/**
 * Fixed-window counters: `MULTI; INCR k; PEXPIRE k <window> NX; EXEC`. No Lua: scripting is not granted
 * to any service (a script engine bug is then not reachable with a service password).
 */
export const RATE_LIMIT_COMMANDS = ['incr', 'incrby', 'get', 'pexpire', 'pttl', 'multi', 'exec', 'discard'] as const;

/** The probe user: liveness/readiness (PING) and metrics (INFO), no keys. */
export const HEALTHCHECK_COMMANDS = ['ping', 'info'] as const;

/**
 * The operator user: inspect everything under `caracal:`, repair consumer groups and pending entries,
 * trim streams; nothing from @dangerous (no KEYS, FLUSHALL, CONFIG, DEBUG, ACL, SHUTDOWN, MONITOR) except INFO.
 */
export const OPS_RULES = `~${KEY_PREFIX}* resetchannels -@all +@read +@stream +@connection -@dangerous +info +del +unlink +scan +type +memory|usage +slowlog|get`;

/**
 * The metrics exporter (redis_exporter with --check-single-streams): INFO for memory and clients, and XINFO on
 * the streams only, read-only (`%R~`). SELECT and CLIENT SETNAME are what it sends on connecting; everything else
 * it tries (SLOWLOG, LATENCY, CONFIG GET) is refused, and it reports those metrics as missing.
 */
export const EXPORTER_COMMANDS = ['ping', 'info', 'select', 'client|setname', 'xinfo|stream', 'xinfo|groups', 'xinfo|consumers'] as const;

const cmds = (list: readonly string[]) => list.map((c) => `+${c}`).join(' ');

/** The ACL rules (everything after the password) of one user. */
export function aclRules(user: RedisUser): string {
  if (user === 'healthcheck') return `resetchannels -@all ${cmds(HEALTHCHECK_COMMANDS)}`;
  if (user === 'ops') return OPS_RULES;
  // REPLCONF and SYNC only: what `redis-cli --rdb` sends for the backup's copy (common/redis-backup.ts).
  if (user === 'backup') return REDIS_BACKUP_RULES;
  if (user === 'exporter') return `resetchannels -@all ${cmds(EXPORTER_COMMANDS)} %R~${KEY_PREFIX}stream:*`;
  // Root permissions: connection commands, no keys. Each key family is a selector, so a command is
  // allowed only on the keys it is meant for (XADD on produced streams, XREADGROUP on consumed ones).
  const selectors: string[] = [];
  const produced = streamsWhere((a) => a.producers.includes(user));
  const consumed = streamsWhere((a) => a.consumers.includes(user));
  const trimmed = streamsWhere((a) => a.trimmers.includes(user));
  if (produced.length) selectors.push(`(${keys(produced)} ${cmds(PRODUCER_COMMANDS)})`);
  if (consumed.length) selectors.push(`(${keys(consumed)} ${cmds(CONSUMER_COMMANDS)})`);
  if (trimmed.length) selectors.push(`(${keys(trimmed)} ${cmds(TRIM_COMMANDS)})`);
  if (RATE_LIMITED_SERVICES.includes(user)) selectors.push(`(~${rateLimitPattern(user)} ${cmds(RATE_LIMIT_COMMANDS)})`);
  return ['resetchannels', '-@all', cmds(CONNECTION_COMMANDS), ...selectors].join(' ');
}

function streamsWhere(pred: (a: StreamAccess) => boolean): string[] {
  return (Object.keys(STREAMS) as StreamName[]).filter((s) => pred(STREAM_ACCESS[s])).map((s) => STREAMS[s]);
}

function keys(list: readonly string[]): string {
  return list.map((k) => `~${k}`).join(' ');
}

/**
 * The default user: off and without any password, so no connection can ever be it (new connections
 * start unauthenticated, `AUTH default ...` fails). Its permissions are nonetheless all commands on all
 * keys, because Redis replays MULTI/EXEC blocks from the AOF as the default user and re-checks the ACL at
 * EXEC: with `-@all` every transaction in the AOF is silently dropped on restart (redis/redis#14541,
 * fixed upstream by #14545; valkey-io/valkey#3983). XREADGROUP with COUNT > 1 propagates as such a
 * block, so consumer groups would lose their pending entries. Leaving the default user out of the file
 * is worse: Redis then creates it `on nopass`.
 */
export const DEFAULT_USER_LINE = 'user default off resetpass ~* &* +@all';

/**
 * The ACL file. `passwordHashes` are SHA-256 hex digests of each user's passwords (one, or two while a rotation
 * keeps the old password valid beside the new one), or Terraform tokens that resolve to them; users without a
 * hash are not written (they do not exist). `reloaderHash` adds the ACL reloader's user (common/redis-acl-reloader.ts).
 * Redis ACL files have no comment syntax, so the file carries none.
 */
export function renderAclFile(passwordHashes: Partial<Record<RedisUser, string | readonly string[]>>, reloaderHash?: string): string {
  const lines = [DEFAULT_USER_LINE];
  const line = (user: string, hashes: string | readonly string[], rules: string) =>
    `user ${user} on resetpass ${(typeof hashes === 'string' ? [hashes] : hashes).map((h) => `#${h}`).join(' ')} ${rules}`;
  for (const user of REDIS_USERS) {
    const hashes = passwordHashes[user];
    if (hashes === undefined) continue;
    lines.push(line(user, hashes, aclRules(user)));
  }
  if (reloaderHash !== undefined) lines.push(line(RELOADER_USER, reloaderHash, RELOADER_RULES));
  return `${lines.join('\n')}\n`;
}

// ---- redis.conf -------------------------------------------------------------------------------

export interface RedisConfOptions {
  /** Memory for data (bytes): writes are refused beyond it (`noeviction`). */
  readonly maxmemoryBytes: number;
  /** Absolute path of the ACL file inside the container. */
  readonly aclfile: string;
  /** Data directory (the persistent volume): AOF and RDB files. */
  readonly dir: string;
  /** @default 6379 */
  readonly port?: number;
  /** Addresses to listen on. @default '* -::*' (every IPv4/IPv6 interface; the NetworkPolicy decides who connects) */
  readonly bind?: string;
  /** RDB snapshot schedule, `save` syntax; '' disables snapshots. @default '3600 1 300 100 60 10000' */
  readonly save?: string;
  /** Extra directives appended verbatim after the rendered ones (later lines win in redis.conf). @default none */
  readonly extra?: readonly string[];
}

/** The fraction of the container memory limit given to data when `maxmemory` is not set. */
export const DEFAULT_MAXMEMORY_FRACTION = 0.5;
/** The most of the container limit `maxmemory` may take: AOF rewrite forks (copy-on-write) and buffers need the rest. */
export const MAX_MAXMEMORY_FRACTION = 0.75;

/** Half the container memory limit, rounded down to whole MiB. */
export function defaultMaxmemory(memoryLimitBytes: number): number {
  const mib = 1024 * 1024;
  return Math.floor((memoryLimitBytes * DEFAULT_MAXMEMORY_FRACTION) / mib) * mib;
}

/** redis.conf for Caracal's streams: AOF every second, noeviction, ACL file, no open default user. */
export function renderRedisConf(o: RedisConfOptions): string {
  const lines = [
    '# Rendered by Caracal stores (RedisStreams). Streams and pending entries must survive restarts',
    '# and must never be evicted: AOF with fsync every second, and writes refused at maxmemory.',
    `bind ${o.bind ?? '* -::*'}`,
    `port ${o.port ?? 6379}`,
    // Only bites if the default user is ever opened without a password (it is off here).
    'protected-mode yes',
    'daemonize no',
    'logfile ""',
    'loglevel notice',
    `dir ${o.dir}`,
    `aclfile ${o.aclfile}`,
    'acllog-max-len 128',
    // Durability: at most ~1 s of acknowledged writes can be lost on a crash; Caracal re-publishes
    // from its Postgres outboxes (see docs/redis.md).
    'appendonly yes',
    'appendfsync everysec',
    'appendfilename "appendonly.aof"',
    'appenddirname "appendonlydir"',
    'aof-use-rdb-preamble yes',
    'aof-load-truncated yes',
    'no-appendfsync-on-rewrite no',
    'auto-aof-rewrite-percentage 100',
    'auto-aof-rewrite-min-size 64mb',
    `save ${o.save === '' ? '""' : (o.save ?? '3600 1 300 100 60 10000')}`,
    'stop-writes-on-bgsave-error yes',
    // Memory: stream entries, consumer groups and pending entries are never evicted.
    `maxmemory ${o.maxmemoryBytes}`,
    'maxmemory-policy noeviction',
    'tcp-keepalive 60',
    'timeout 0',
    // Nothing that could change the server from a connection.
    'enable-debug-command no',
    'enable-module-command no',
    'enable-protected-configs no',
    ...(o.extra ?? []),
  ];
  return `${lines.join('\n')}\n`;
}
