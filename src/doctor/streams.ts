// Redis for the doctor: each ACL user given authenticates, memory stays below maxmemory (noeviction refuses
// writes at it), and every Caracal stream has the consumer groups of its readers, with their pending entries,
// lag and oldest ages. One read-only snapshot feeds the "API outbox grows" row and the seed's next step.
import { readFileSync } from 'node:fs';
import type { Client } from 'pg';
import { STREAM_ACCESS, STREAMS, type RedisUser, type StreamName } from '../../common/redis-streams';
import { parseInfo, RedisReplyError, replyFields, RespConnection, type RedisReply } from '../redis/resp';
import { finding, ok, type Outcome, unchecked } from './report';
import { age } from './sql';
import type { RedisTarget } from './targets';

/** Share of maxmemory in use that is a finding (at 100% Redis refuses every write: XADD, XACK, rate limits). */
export const REDIS_MEMORY_FINDING_SHARE = 0.9;

export interface GroupInfo {
  readonly name: string;
  readonly consumers: number;
  readonly pending: number;
  readonly lastDeliveredId: string;
  /** Entries not yet delivered to the group (Redis 7; null when Redis cannot tell). */
  readonly lag: number | null;
  /** Age of the oldest pending entry (from its id), seconds. */
  readonly oldestPendingAgeS: number | null;
  /** How often the oldest pending entry was delivered, and by whom it is held. */
  readonly oldestPendingDeliveries: number | null;
  readonly oldestPendingConsumer: string | null;
  /** Age of the oldest entry not yet delivered to the group, seconds (needs XRANGE: the ops user). */
  readonly undeliveredAgeS: number | null;
}

export interface StreamInfo {
  readonly stream: StreamName;
  readonly key: string;
  /** undefined when no user given may read this stream. */
  readonly readBy?: RedisUser;
  readonly exists: boolean;
  readonly length: number;
  readonly groups: readonly GroupInfo[];
  /** Set when reading it failed. */
  readonly error?: string;
}

export interface RedisSnapshot {
  readonly endpoint: string;
  readonly users: ReadonlyArray<{ readonly user: RedisUser; readonly outcome: Outcome }>;
  readonly memory?: { readonly used: number; readonly max: number; readonly policy: string; readonly readBy: RedisUser };
  readonly streams: readonly StreamInfo[];
  /** Why nothing could be read (no user authenticated). */
  readonly unreadable?: string;
}

const idMs = (id: string) => Number(id.split('-')[0]);

async function authenticate(target: RedisTarget, user: RedisTarget['users'][number], timeoutMs: number) {
  let password: string;
  try {
    password = readFileSync(user.passwordFile, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    return {
      outcome: finding(
        `${user.user}: password file ${user.passwordFile} (${user.source}) cannot be read (${(e as NodeJS.ErrnoException).code})`,
        `the ${user.user} user's Redis Secret: mount it at that path (its key "password")`,
      ),
    };
  }
  if (password === '')
    return {
      outcome: finding(`${user.user}: password file ${user.passwordFile} is empty`, `the ${user.user} user's Redis Secret has no password`),
    };
  try {
    const conn = await RespConnection.connect({ host: target.host, port: target.port, timeoutMs, auth: { user: user.user, password } });
    const pong = await conn.command('PING');
    return { conn, outcome: ok(`${user.user}: authenticated, ${String(pong)}`) };
  } catch (e) {
    return { outcome: redisFailure(e, target, user.user) };
  }
}

function redisFailure(e: unknown, target: RedisTarget, user: RedisUser): Outcome {
  const at = `${target.host}:${target.port}`;
  if (e instanceof RedisReplyError) {
    if (e.code === 'WRONGPASS')
      return finding(
        `${user}: ${e.message}`,
        `the ${user} user's Redis Secret and the ACL file Redis loaded differ: after a rotation Redis restarts with the new ACL file; check the Secret and the pod's caracal.dev/passwords-hash`,
      );
    return finding(`${user}: Redis answered ${e.message}`, 'the Redis ACL file (users.acl) and this user');
  }
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ECONNREFUSED')
    return finding(
      `nothing accepts connections at ${at} (connection refused)`,
      'the Redis pod and Service: kubectl get pods,svc -l app.kubernetes.io/name=redis',
    );
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
    return finding(`Redis host ${JSON.stringify(target.host)} does not resolve (${err.code})`, 'REDIS_HOST: the Redis Service name');
  if (err.code === 'ETIMEDOUT')
    return finding(
      `no answer from ${at} (${err.message})`,
      "the Redis NetworkPolicy must admit this pod's labels; the Redis pod must be ready",
    );
  return finding(`${user}: cannot reach Redis at ${at}: ${err.message}`, 'REDIS_HOST, REDIS_PORT and the Redis pod');
}

/** A user that may read `stream` (XINFO, XPENDING): ops first (it may XRANGE too), then a consumer of it. */
function readerFor(stream: StreamName, connected: ReadonlyMap<RedisUser, RespConnection>): RedisUser | undefined {
  if (connected.has('ops')) return 'ops';
  return STREAM_ACCESS[stream].consumers.find((s) => connected.has(s));
}

async function readStream(conn: RespConnection, stream: StreamName, canRange: boolean): Promise<Omit<StreamInfo, 'readBy'>> {
  const key = STREAMS[stream];
  let info: Record<string, RedisReply>;
  try {
    info = replyFields(await conn.command('XINFO', 'STREAM', key));
  } catch (e) {
    if (e instanceof RedisReplyError && /no such key/i.test(e.message)) return { stream, key, exists: false, length: 0, groups: [] };
    throw e;
  }
  const now = Date.now();
  const groups: GroupInfo[] = [];
  for (const raw of (await conn.command('XINFO', 'GROUPS', key)) as RedisReply[]) {
    const g = replyFields(raw);
    const name = String(g.name);
    const pending = Number(g.pending);
    let oldestPendingAgeS: number | null = null;
    let oldestPendingDeliveries: number | null = null;
    let oldestPendingConsumer: string | null = null;
    if (pending > 0) {
      const first = (await conn.command('XPENDING', key, name, '-', '+', 1)) as RedisReply[][];
      if (first.length) {
        oldestPendingAgeS = Math.max(0, (now - idMs(String(first[0][0]))) / 1000);
        oldestPendingConsumer = String(first[0][1]);
        oldestPendingDeliveries = Number(first[0][3]);
      }
    }
    const lag = g.lag === null || g.lag === undefined ? null : Number(g.lag);
    let undeliveredAgeS: number | null = null;
    if (canRange && (lag === null || lag > 0)) {
      const next = (await conn.command('XRANGE', key, `(${String(g['last-delivered-id'])}`, '+', 'COUNT', 1)) as RedisReply[][];
      if (next.length) undeliveredAgeS = Math.max(0, (now - idMs(String(next[0][0]))) / 1000);
    }
    groups.push({
      name,
      consumers: Number(g.consumers),
      pending,
      lastDeliveredId: String(g['last-delivered-id']),
      lag,
      oldestPendingAgeS,
      oldestPendingDeliveries,
      oldestPendingConsumer,
      undeliveredAgeS,
    });
  }
  return { stream, key, exists: true, length: Number(info.length), groups };
}

/** Authenticate every user given, then read memory and every stream with the best user for each. */
export async function collectRedis(target: RedisTarget, timeoutMs: number): Promise<RedisSnapshot> {
  const endpoint = `${target.host}:${target.port}`;
  const connected = new Map<RedisUser, RespConnection>();
  const users: Array<{ user: RedisUser; outcome: Outcome }> = [];
  try {
    for (const u of target.users) {
      const r = await authenticate(target, u, timeoutMs);
      users.push({ user: u.user, outcome: r.outcome });
      if (r.conn) connected.set(u.user, r.conn);
    }
    if (connected.size === 0)
      return { endpoint, users, streams: [], unreadable: target.users.length ? 'no Redis user authenticated' : 'no Redis user given' };
    let memory: RedisSnapshot['memory'];
    const infoUser = (['ops', 'healthcheck'] as const).find((u) => connected.has(u));
    if (infoUser) {
      const info = parseInfo(String(await connected.get(infoUser)!.command('INFO', 'memory')));
      memory = { used: Number(info.used_memory), max: Number(info.maxmemory), policy: info.maxmemory_policy, readBy: infoUser };
    }
    const streams: StreamInfo[] = [];
    for (const stream of Object.keys(STREAMS) as StreamName[]) {
      const reader = readerFor(stream, connected);
      if (!reader) {
        streams.push({ stream, key: STREAMS[stream], exists: false, length: 0, groups: [] });
        continue;
      }
      try {
        streams.push({ ...(await readStream(connected.get(reader)!, stream, reader === 'ops')), readBy: reader });
      } catch (e) {
        streams.push({ stream, key: STREAMS[stream], readBy: reader, exists: false, length: 0, groups: [], error: (e as Error).message });
      }
    }
    return { endpoint, users, memory, streams };
  } finally {
    await Promise.all([...connected.values()].map((c) => c.close().catch(() => undefined)));
  }
}

// ---- Verdicts ----------------------------------------------------------------------------------

const NO_REDIS = unchecked(
  'no Redis given',
  'set REDIS_HOST and REDIS_PORT (or --redis-config DIR, a mounted <prefix>-<service>-redis ConfigMap) and the users: REDIS_USERNAME/REDIS_PASSWORD_FILE or --redis-password-file USER=FILE (ops reads every stream)',
);

export function redisAuthOutcome(snapshot: RedisSnapshot | undefined): Outcome {
  if (!snapshot) return NO_REDIS;
  if (snapshot.users.length === 0) return unchecked(`Redis at ${snapshot.endpoint}, but no ACL user's password was given`, NO_REDIS.next!);
  const failed = snapshot.users.filter((u) => u.outcome.status !== 'ok');
  const details = snapshot.users.map((u) => u.outcome.summary);
  if (failed.length) return finding(failed[0].outcome.summary, failed[0].outcome.next!, details);
  return ok(`${snapshot.users.length} user(s) authenticated at ${snapshot.endpoint}: ${snapshot.users.map((u) => u.user).join(', ')}`);
}

export function redisMemoryOutcome(snapshot: RedisSnapshot | undefined): Outcome {
  if (!snapshot) return NO_REDIS;
  if (!snapshot.memory)
    return unchecked('INFO needs the ops or healthcheck user', 'give --redis-password-file ops=FILE (or healthcheck=FILE)');
  const { used, max, policy } = snapshot.memory;
  const share = max > 0 ? used / max : 0;
  const line = `used_memory ${used} of maxmemory ${max} bytes (${Math.round(share * 100)}%), maxmemory-policy ${policy}`;
  if (policy !== 'noeviction')
    return finding(
      `maxmemory-policy is ${policy}: Redis may evict stream and pending entries`,
      'the rendered redis.conf sets noeviction: restore it (RedisStreams)',
      [line],
    );
  if (max > 0 && share >= REDIS_MEMORY_FINDING_SHARE)
    return finding(
      `Redis uses ${Math.round(share * 100)}% of maxmemory: at 100% it refuses writes (OOM), so the dispatcher cannot XADD and the outbox grows`,
      'find what grows (XLEN of each stream, pending entries of stuck groups); raise maxmemory and the memory limit (RedisStreams maxmemory, resources.limits.memory)',
      [line],
    );
  return ok(line);
}

function groupLine(g: GroupInfo): string {
  const parts = [`${g.pending} pending`, `lag ${g.lag ?? 'unknown'}`, `${g.consumers} consumer(s)`];
  if (g.oldestPendingAgeS !== null)
    parts.push(`oldest pending ${age(g.oldestPendingAgeS)} (held by ${g.oldestPendingConsumer}, delivered ${g.oldestPendingDeliveries}x)`);
  if (g.undeliveredAgeS !== null) parts.push(`oldest undelivered ${age(g.undeliveredAgeS)}`);
  return `group ${g.name}: ${parts.join(', ')}`;
}

interface StreamProblems {
  problems: string[];
  details: string[];
  unreadable: string[];
}

/** Problems of a set of streams: missing stream or group, pending or undelivered entries older than staleAfter. */
function examine(snapshot: RedisSnapshot, streams: readonly StreamName[], staleAfterS: number): StreamProblems {
  const out: StreamProblems = { problems: [], details: [], unreadable: [] };
  for (const name of streams) {
    const s = snapshot.streams.find((x) => x.stream === name);
    if (!s || !s.readBy) {
      out.unreadable.push(`${STREAMS[name]}: no user given may read it (ops, or one of ${STREAM_ACCESS[name].consumers.join(', ')})`);
      continue;
    }
    if (s.error) {
      out.unreadable.push(`${s.key}: reading it as ${s.readBy} failed: ${s.error}`);
      continue;
    }
    if (!s.exists) {
      out.problems.push(`${s.key} does not exist: no consumer created its group yet, or Redis lost its data`);
      continue;
    }
    out.details.push(`${s.key}: ${s.length} entries, ${s.groups.length} group(s)`);
    for (const g of s.groups) out.details.push(`  ${groupLine(g)}`);
    for (const want of STREAM_ACCESS[name].consumers)
      if (!s.groups.some((g) => g.name === want))
        out.problems.push(
          `${s.key}: consumer group ${want} is missing: ${want} does not read this stream (not started, or its XGROUP CREATE failed)`,
        );
    for (const g of s.groups) {
      if ((g.oldestPendingAgeS ?? 0) > staleAfterS)
        out.problems.push(
          `${s.key} group ${g.name}: an entry pending for ${age(g.oldestPendingAgeS!)} (consumer ${g.oldestPendingConsumer}, delivered ${g.oldestPendingDeliveries}x): never acknowledged`,
        );
      if ((g.undeliveredAgeS ?? 0) > staleAfterS)
        out.problems.push(
          `${s.key} group ${g.name}: ${g.lag ?? 'some'} entries not delivered, the oldest for ${age(g.undeliveredAgeS!)}: its consumers do not read`,
        );
    }
  }
  return out;
}

function streamOutcome(
  snapshot: RedisSnapshot | undefined,
  streams: readonly StreamName[],
  staleAfterS: number,
  summaryOk: string,
  next: string,
  extra: { problems?: string[]; details?: string[] } = {},
): Outcome {
  if (!snapshot) return NO_REDIS;
  if (snapshot.unreadable) return unchecked(`Redis streams not read: ${snapshot.unreadable}`, NO_REDIS.next!);
  const r = examine(snapshot, streams, staleAfterS);
  const problems = [...r.problems, ...(extra.problems ?? [])];
  const details = [...r.details, ...(extra.details ?? [])];
  if (problems.length)
    return finding(problems[0] + (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''), next, [
      ...problems,
      ...details,
      ...r.unreadable,
    ]);
  if (r.unreadable.length)
    return unchecked(r.unreadable[0], 'give --redis-password-file ops=FILE: the ops user reads every stream', [
      ...r.unreadable,
      ...details,
    ]);
  return ok(summaryOk, details);
}

/** Row "API outbox grows": the streams the outbox dispatcher writes to. */
export function outboxStreamsOutcome(snapshot: RedisSnapshot | undefined, staleAfterS: number): Outcome {
  return streamOutcome(
    snapshot,
    ['propagation', 'invalidation', 'revocation'],
    staleAfterS,
    'propagation, invalidation and revocation exist with every consumer group, nothing stale',
    'a missing group: start (or restart) the service that reads the stream; stale entries: see the pending entries check of the streams row',
  );
}

export function streamGroupsOutcome(snapshot: RedisSnapshot | undefined): Outcome {
  // Only presence here: pending and lag have their own check.
  return streamOutcome(
    snapshot,
    Object.keys(STREAMS) as StreamName[],
    Number.POSITIVE_INFINITY,
    `all ${Object.keys(STREAMS).length} streams exist with the consumer groups of their readers`,
    'start (or restart) the service whose group is missing: it creates its group (XGROUP CREATE ... MKSTREAM) when it starts',
  );
}

export function pendingEntriesOutcome(snapshot: RedisSnapshot | undefined, staleAfterS: number): Outcome {
  if (!snapshot || snapshot.unreadable) return streamGroupsOutcome(snapshot);
  const stale: string[] = [];
  const details: string[] = [];
  let total = 0;
  for (const s of snapshot.streams) {
    for (const g of s.groups) {
      total += g.pending;
      if (g.pending > 0) details.push(`${s.key} ${groupLine(g)}`);
      if ((g.oldestPendingAgeS ?? 0) > staleAfterS)
        stale.push(
          `${s.key} group ${g.name}: oldest pending ${age(g.oldestPendingAgeS!)}, held by ${g.oldestPendingConsumer}, delivered ${g.oldestPendingDeliveries}x`,
        );
    }
  }
  if (stale.length)
    return finding(
      `${stale.length} group(s) with entries pending longer than ${age(staleAfterS)}`,
      'a consumer died holding them (XAUTOCLAIM them to a live one) or fails on them (delivered many times: read its logs, then XACK or fix)',
      [...stale, ...details],
    );
  return ok(total === 0 ? 'no pending entries' : `${total} pending entr(ies), none older than ${age(staleAfterS)}`, details);
}

export interface OutboxStreamState {
  readonly pending: number;
  readonly oldestPendingS: number | null;
  readonly dead: number;
}

/** caracal_outbox rows of one stream (the Postgres side of invalidation and revocation). */
export async function outboxStreamState(client: Client, stream: 'invalidation' | 'revocation'): Promise<OutboxStreamState> {
  const r = await client.query<{ pending: number; oldest: number | null; dead: number }>(
    `SELECT (SELECT count(*) FROM public.caracal_outbox WHERE status = 'pending' AND stream = $1)::int AS pending,
            (SELECT extract(epoch FROM now() - min(created_at)) FROM public.caracal_outbox WHERE status = 'pending' AND stream = $1)::float8 AS oldest,
            (SELECT count(*) FROM public.caracal_outbox WHERE status = 'dead' AND stream = $1)::int AS dead`,
    [stream],
  );
  return { pending: r.rows[0].pending, oldestPendingS: r.rows[0].oldest, dead: r.rows[0].dead };
}

/** Invalidation or revocation end to end: the outbox rows in Postgres, then the stream and its readers' groups. */
export function deliveryOutcome(
  snapshot: RedisSnapshot | undefined,
  stream: 'invalidation' | 'revocation',
  outbox: OutboxStreamState | Outcome,
  staleAfterS: number,
): Outcome {
  const problems: string[] = [];
  const details: string[] = [];
  if ('status' in outbox) {
    details.push(`caracal_outbox (${stream}): ${outbox.summary}`);
  } else {
    details.push(
      `caracal_outbox (${stream}): ${outbox.pending} pending${outbox.oldestPendingS !== null ? `, oldest ${age(outbox.oldestPendingS)}` : ''}, ${outbox.dead} dead`,
    );
    if ((outbox.oldestPendingS ?? 0) > staleAfterS)
      problems.push(`caracal_outbox has ${stream} rows pending for ${age(outbox.oldestPendingS!)}: not dispatched to Redis`);
    if (outbox.dead > 0) problems.push(`caracal_outbox has ${outbox.dead} dead ${stream} row(s): never dispatched`);
  }
  const readers = STREAM_ACCESS[stream].consumers.join(' and ');
  return streamOutcome(
    snapshot,
    [stream],
    staleAfterS,
    `${stream} is dispatched and read by ${readers} in time`,
    stream === 'revocation'
      ? `a revocation that is not delivered leaves a revoked session or grant usable at ${readers} until their caches expire: fix the dispatcher or the readers now`
      : `${readers} serve stale policy, grants or bindings until their caches expire: fix the dispatcher or the readers`,
    { problems, details },
  );
}

export interface AuditAlertRow {
  readonly kind: string;
  readonly severity: string;
  readonly source: string;
  readonly occurrences: number;
  readonly last_seen_at: Date;
}

/** Open audit ingest alerts (the audit service's own findings). */
export async function openAuditAlerts(client: Client): Promise<AuditAlertRow[]> {
  const r = await client.query<AuditAlertRow>(
    `SELECT kind, severity, source, occurrences, last_seen_at FROM public.audit_ingest_alerts
      WHERE resolved_at IS NULL ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, last_seen_at DESC LIMIT 20`,
  );
  return r.rows;
}

/** Audit delivery: the audit stream read by the audit group in time, and no open warning or critical ingest alert. */
export function auditDeliveryOutcome(
  snapshot: RedisSnapshot | undefined,
  alerts: readonly AuditAlertRow[] | Outcome,
  staleAfterS: number,
): Outcome {
  const problems: string[] = [];
  const details: string[] = [];
  if ('status' in alerts) details.push(`audit_ingest_alerts: ${alerts.summary}`);
  else {
    for (const a of alerts) {
      const line = `audit_ingest_alerts: open ${a.severity} ${a.kind} from ${a.source} (${a.occurrences}x, last ${a.last_seen_at.toISOString()})`;
      (a.severity === 'info' ? details : problems).push(line);
    }
    if (alerts.length === 0) details.push('audit_ingest_alerts: none open');
  }
  return streamOutcome(
    snapshot,
    ['audit'],
    staleAfterS,
    'the audit stream is read by the audit group in time, no open ingest alert',
    'the audit service: is it running and ingesting (its logs)? Open ingest alerts say what it saw (replay gaps, HMAC mismatches, missing partitions)',
    { problems, details },
  );
}
