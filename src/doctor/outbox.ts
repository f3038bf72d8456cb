// The "API outbox grows" checks on Postgres: the outboxes' pending rows and their oldest age, dead rows with
// their last_error, and the services' pool saturation (connections per application_name and pod against
// DB_POOL_MAX, idle in transaction, waiting on locks) with the server's connection budget.
import type { Client } from 'pg';
import { finding, ok, type Outcome, unchecked } from './report';
import { age, LOGIN_HINT } from './sql';
import type { PoolLimit } from './targets';

/** The two outboxes, as the dispatcher polls them. */
export const OUTBOXES = ['event_outbox', 'caracal_outbox'] as const;

/** Idle in transaction longer than this holds locks and a pool slot for nothing. */
export const IDLE_IN_TRANSACTION_FINDING_SECONDS = 60;
/** A lock wait longer than this is a finding (services run with statement timeouts of seconds). */
export const LOCK_WAIT_FINDING_SECONDS = 10;
/** Share of (max_connections - superuser_reserved_connections) in use that is a finding. */
export const CONNECTION_BUDGET_FINDING_SHARE = 0.9;

interface PendingRow {
  outbox: string;
  stream: string | null;
  pending: number;
  due: number;
  oldest_s: number | null;
  max_attempts: number | null;
}

/** Pending rows per outbox (and per stream of caracal_outbox), read through the dispatcher's partial indexes. */
export async function outboxBacklog(client: Client): Promise<PendingRow[]> {
  const r = await client.query<PendingRow>(
    `SELECT 'event_outbox' AS outbox, NULL::text AS stream, count(*)::int AS pending,
            count(*) FILTER (WHERE next_attempt_at <= now())::int AS due,
            extract(epoch FROM now() - min(created_at))::float8 AS oldest_s, max(attempts)::int AS max_attempts
       FROM public.event_outbox WHERE status = 'pending'
     UNION ALL
     SELECT 'caracal_outbox', stream, count(*)::int, count(*) FILTER (WHERE next_attempt_at <= now())::int,
            extract(epoch FROM now() - min(created_at))::float8, max(attempts)::int
       FROM public.caracal_outbox WHERE status = 'pending' GROUP BY stream
     ORDER BY 1, 2`,
  );
  return r.rows;
}

export async function checkOutboxPending(client: Client, staleAfterSeconds: number): Promise<Outcome> {
  const rows = await outboxBacklog(client);
  const label = (r: PendingRow) => `${r.outbox}${r.stream ? ` (${r.stream})` : ''}`;
  const details = rows
    .filter((r) => r.pending > 0)
    .map(
      (r) =>
        `${label(r)}: ${r.pending} pending (${r.due} due now), oldest ${age(r.oldest_s ?? 0)}, up to ${r.max_attempts ?? 0} attempt(s)`,
    );
  const stale = rows.filter((r) => r.pending > 0 && (r.oldest_s ?? 0) > staleAfterSeconds);
  const total = rows.reduce((n, r) => n + r.pending, 0);
  if (stale.length)
    return finding(
      `${stale.map(label).join(', ')}: pending rows older than ${age(staleAfterSeconds)} (oldest ${age(Math.max(...stale.map((r) => r.oldest_s ?? 0)))})`,
      "the API's outbox dispatcher: is it running, and what do its logs say? Then Redis reachability and the pool checks of this row",
      details,
    );
  return ok(
    total === 0
      ? 'no pending rows in event_outbox or caracal_outbox'
      : `${total} pending row(s), none older than ${age(staleAfterSeconds)}`,
    details,
  );
}

export async function checkOutboxDead(client: Client): Promise<Outcome> {
  const details: string[] = [];
  let dead = 0;
  for (const outbox of OUTBOXES) {
    const r = await client.query<{ last_error: string | null; n: number; newest: Date; oldest: Date }>(
      `SELECT last_error, count(*)::int AS n, max(dead_at) AS newest, min(dead_at) AS oldest
         FROM public.${outbox} WHERE status = 'dead' GROUP BY last_error ORDER BY count(*) DESC, max(dead_at) DESC`,
    );
    for (const [i, row] of r.rows.entries()) {
      dead += row.n;
      if (i < 5)
        details.push(
          `${outbox}: ${row.n} dead (${row.oldest.toISOString()} .. ${row.newest.toISOString()}), last_error: ${JSON.stringify((row.last_error ?? '(none)').slice(0, 300))}`,
        );
      else if (i === 5) details.push(`${outbox}: ${r.rows.length - 5} more distinct last_error value(s)`);
    }
  }
  if (dead === 0) return ok('no dead rows in event_outbox or caracal_outbox');
  return finding(
    `${dead} dead row(s): the dispatcher gave up on them`,
    'read last_error, fix its cause (Redis ACL or reachability, a stream, a payload), then requeue the rows (runbook)',
    details,
  );
}

interface ActivityRow {
  app: string;
  client: string;
  connections: number;
  busy: number;
  idle_in_tx: number;
  waiting: number;
  longest_idle_in_tx_s: number | null;
  longest_wait_s: number | null;
  blockers: number[] | null;
}

/** Connections per application_name and client (a pod), with the server's connection budget. */
export async function checkPool(client: Client, limits: readonly PoolLimit[]): Promise<Outcome> {
  const priv = await client.query<{ sees_all: boolean }>(
    `SELECT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS sees_all`,
  );
  const activity = await client.query<ActivityRow>(
    `SELECT coalesce(nullif(a.application_name, ''), '(none)') AS app, coalesce(host(a.client_addr), 'local') AS client,
            count(*)::int AS connections,
            count(*) FILTER (WHERE a.state = 'active' OR a.state LIKE 'idle in transaction%')::int AS busy,
            count(*) FILTER (WHERE a.state LIKE 'idle in transaction%')::int AS idle_in_tx,
            count(*) FILTER (WHERE a.wait_event_type = 'Lock')::int AS waiting,
            extract(epoch FROM max(now() - a.state_change) FILTER (WHERE a.state LIKE 'idle in transaction%'))::float8 AS longest_idle_in_tx_s,
            extract(epoch FROM max(now() - l.waitstart) FILTER (WHERE a.wait_event_type = 'Lock'))::float8 AS longest_wait_s,
            array_agg(DISTINCT b.pid) FILTER (WHERE b.pid IS NOT NULL) AS blockers
       FROM pg_stat_activity a
       LEFT JOIN LATERAL (SELECT min(waitstart) AS waitstart FROM pg_locks WHERE pid = a.pid AND NOT granted) l ON true
       LEFT JOIN LATERAL unnest(CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END) AS b(pid) ON true
      WHERE a.datname = current_database() AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
      GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const budget = await client.query<{ used: number; max: number; reserved: number }>(
    `SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS used,
            current_setting('max_connections')::int AS max, current_setting('superuser_reserved_connections')::int AS reserved`,
  );
  const { used, max, reserved } = budget.rows[0];
  const available = max - reserved;
  const problems: string[] = [];
  const details: string[] = [`server: ${used} of ${available} connections in use (max_connections ${max} - reserved ${reserved})`];
  if (used >= available * CONNECTION_BUDGET_FINDING_SHARE)
    problems.push(
      `the server has ${used} of ${available} connections in use (${Math.round((used / available) * 100)}%): new pods and the migration Job will be refused (53300)`,
    );
  const byApp = new Map(limits.map((l) => [l.applicationName, l]));
  const missing = new Set<string>();
  for (const row of activity.rows) {
    const limit = byApp.get(row.app);
    const pod = `${row.app} from ${row.client}`;
    details.push(
      `${pod}: ${row.connections} connection(s), ${row.busy} busy, ${row.idle_in_tx} idle in transaction, ${row.waiting} waiting on locks` +
        (limit ? ` (DB_POOL_MAX ${limit.poolMax})` : ''),
    );
    if (limit) {
      if (row.busy >= limit.poolMax)
        problems.push(
          `${pod}: ${row.busy} of DB_POOL_MAX ${limit.poolMax} connections busy: the pool is saturated, requests queue for a connection`,
        );
      else if (row.connections > limit.poolMax)
        problems.push(
          `${pod}: ${row.connections} connections, more than DB_POOL_MAX ${limit.poolMax}: the pod runs another pool size than its ConfigMap says`,
        );
    } else if (row.app.startsWith('caracal-') && row.app !== 'caracal-doctor' && row.app !== 'caracal-migrate') {
      missing.add(row.app);
    }
    if ((row.longest_idle_in_tx_s ?? 0) > IDLE_IN_TRANSACTION_FINDING_SECONDS)
      problems.push(`${pod}: a session idle in transaction for ${age(row.longest_idle_in_tx_s!)} (holds its locks and a pool slot)`);
    if ((row.longest_wait_s ?? 0) > LOCK_WAIT_FINDING_SECONDS)
      problems.push(
        `${pod}: waiting on a lock for ${age(row.longest_wait_s!)}, blocked by pid(s) ${(row.blockers ?? []).join(', ') || 'unknown'}`,
      );
  }
  if (!priv.rows[0].sees_all)
    return unchecked(
      "this login sees other sessions' application_name but not their state: busy, idle in transaction and lock waits are unknown",
      LOGIN_HINT,
      details,
    );
  if (problems.length)
    return finding(
      problems[0] + (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''),
      'a saturated pool: slow queries or lock waits (the pids named), or too small a DB_POOL_MAX for the load; idle in transaction: a service bug that leaves transactions open',
      [...problems, ...details],
    );
  if (limits.length === 0)
    return unchecked(
      'no pool settings given to compare with',
      'give --pool-config DIR (a mounted <prefix>-<service>-db ConfigMap) or --pool-max SERVICE=N',
      details,
    );
  if (missing.size)
    return unchecked(
      `no DB_POOL_MAX given for ${[...missing].join(', ')}`,
      'give --pool-config DIR or --pool-max SERVICE=N for every service',
      details,
    );
  return ok(
    `${activity.rows.length} application/pod group(s) below their pool size; ${used} of ${available} server connections in use`,
    details,
  );
}
