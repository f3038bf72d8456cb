// postgres_exporter's custom queries for Caracal (`--extend.query-path`), rendered from the pools the stores
// configure: outbox backlog, oldest pending age and dead rows; the audit partition window; connections per
// application_name against the pool sizes; the server's connection budget; the schema version; row-level
// security weakened; replication lag; and, once a backup records its runs, the last successful backup.
// Every query reads only what the caracal_monitoring role may read (docs/access-matrix.md, "Monitoring").
import { stringify } from 'yaml';

/** One service's pool as the queries compare with it. */
export interface MonitoredPool {
  /** `caracal-<service>`: the PGAPPNAME its pods connect with. */
  readonly applicationName: string;
  /** DB_POOL_MAX: connections per pod. */
  readonly poolMax: number;
  /** Pods at the worst moment (autoscaling maximum plus surge). */
  readonly maxPods: number;
}

export interface PostgresQueriesOptions {
  readonly pools: readonly MonitoredPool[];
  /** Days ahead the partition health looks at (as the maintenance CronJob keeps them). @default 7 */
  readonly partitionDaysAhead?: number;
  /**
   * Extension point for the backup (issue 15): a query returning one row with a column
   * `last_success_timestamp_seconds` (Unix seconds of the last successful backup, readable by caracal_monitoring),
   * exported as `caracal_backup_last_success_timestamp_seconds`. Without it the backup age alert reads that metric
   * from wherever else it comes (see alert-rules.ts).
   */
  readonly backupStatusSql?: string;
}

type Usage = 'LABEL' | 'GAUGE' | 'COUNTER';
interface QuerySpec {
  readonly query: string;
  readonly metrics: ReadonlyArray<Readonly<Record<string, { usage: Usage; description: string }>>>;
}

const SERVICE_GROUPS = ['caracal_api', 'caracal_coordinator', 'caracal_audit', 'caracal_sts', 'caracal_gateway', 'caracal_owner'];

const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;
const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();

const label = (description: string) => ({ usage: 'LABEL' as const, description });
const gauge = (description: string) => ({ usage: 'GAUGE' as const, description });

/** The queries as an object (key: metric namespace), in the order they are rendered. */
export function postgresQueries(o: PostgresQueriesOptions): Record<string, QuerySpec> {
  const daysAhead = o.partitionDaysAhead ?? 7;
  if (!Number.isInteger(daysAhead) || daysAhead < 0 || daysAhead > 366) throw new RangeError(`partitionDaysAhead ${daysAhead}: 0 to 366`);
  for (const p of o.pools) {
    if (!/^[a-z0-9-]{1,63}$/.test(p.applicationName)) throw new RangeError(`pool applicationName ${JSON.stringify(p.applicationName)}`);
    if (!Number.isInteger(p.poolMax) || !Number.isInteger(p.maxPods)) throw new RangeError(`pool ${p.applicationName}: whole numbers`);
  }
  const pools = o.pools.length
    ? o.pools.map((p) => `(${sqlText(p.applicationName)}, ${p.poolMax}, ${p.maxPods})`).join(', ')
    : `(NULL::text, 0, 0)`;
  const queries: Record<string, QuerySpec> = {
    caracal_outbox: {
      // Pending and dead rows are read through the dispatcher's partial indexes (status = 'pending' / 'dead').
      query: oneLine(`
        SELECT k.outbox, k.stream,
               coalesce(p.pending, 0)::float8 AS pending,
               coalesce(p.oldest, 0)::float8 AS oldest_pending_age_seconds,
               coalesce(d.dead, 0)::float8 AS dead
          FROM (VALUES ('event_outbox', ''), ('caracal_outbox', 'propagation'), ('caracal_outbox', 'invalidation'),
                       ('caracal_outbox', 'revocation')) AS k(outbox, stream)
          LEFT JOIN (SELECT 'event_outbox' AS outbox, '' AS stream, count(*) AS pending,
                            extract(epoch FROM now() - min(created_at)) AS oldest
                       FROM public.event_outbox WHERE status = 'pending'
                     UNION ALL
                     SELECT 'caracal_outbox', stream, count(*), extract(epoch FROM now() - min(created_at))
                       FROM public.caracal_outbox WHERE status = 'pending' GROUP BY stream) p USING (outbox, stream)
          LEFT JOIN (SELECT 'event_outbox' AS outbox, '' AS stream, count(*) AS dead FROM public.event_outbox WHERE status = 'dead'
                     UNION ALL
                     SELECT 'caracal_outbox', stream, count(*) FROM public.caracal_outbox WHERE status = 'dead' GROUP BY stream) d
                 USING (outbox, stream)`),
      metrics: [
        { outbox: label('event_outbox or caracal_outbox') },
        { stream: label('the caracal_outbox stream (empty for event_outbox)') },
        { pending: gauge('rows waiting for the outbox dispatcher') },
        { oldest_pending_age_seconds: gauge('age of the oldest pending row (0 when none)') },
        { dead: gauge('rows the dispatcher gave up on (status dead)') },
      ],
    },
    caracal_audit_partition: {
      query: oneLine(
        `SELECT check_name AS "check", CASE WHEN ok THEN 1 ELSE 0 END::float8 AS ok FROM public.audit_partition_health(${daysAhead})`,
      ),
      metrics: [
        { check: label('the audit_partition_health() check') },
        { ok: gauge(`1 when the check holds (window: today and ${daysAhead} days ahead), 0 when not`) },
      ],
    },
    caracal_audit_window: {
      query: oneLine(`
        SELECT count(*) FILTER (WHERE NOT is_default)::float8 AS partitions,
               coalesce(extract(epoch FROM max(upper_bound) - now()) / 86400, 0)::float8 AS days_ahead
          FROM public.audit_partition_bounds()`),
      metrics: [
        { partitions: gauge('daily audit_events partitions') },
        { days_ahead: gauge('days from now to the end of the last partition') },
      ],
    },
    caracal_pool: {
      query: oneLine(`
        WITH pools(application_name, pool_max, max_pods) AS (VALUES ${pools}),
             pods AS (SELECT application_name, client_addr, count(*) AS connections,
                             count(*) FILTER (WHERE state = 'active' OR state LIKE 'idle in transaction%') AS busy,
                             count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS idle_in_transaction,
                             count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting
                        FROM pg_stat_activity
                       WHERE backend_type = 'client backend' AND datname = current_database() GROUP BY 1, 2)
        SELECT p.application_name, p.pool_max::float8 AS max_per_pod, (p.pool_max * p.max_pods)::float8 AS max_connections,
               coalesce(sum(a.connections), 0)::float8 AS connections, coalesce(max(a.busy), 0)::float8 AS busiest_pod_busy,
               coalesce(sum(a.idle_in_transaction), 0)::float8 AS idle_in_transaction,
               coalesce(sum(a.waiting), 0)::float8 AS waiting_on_locks, count(a.application_name)::float8 AS pods
          FROM pools p LEFT JOIN pods a USING (application_name)
         WHERE p.application_name IS NOT NULL
         GROUP BY p.application_name, p.pool_max, p.max_pods`),
      metrics: [
        { application_name: label('caracal-<service>: the PGAPPNAME of its pods') },
        { max_per_pod: gauge('DB_POOL_MAX of the service') },
        { max_connections: gauge('DB_POOL_MAX times the most pods (autoscaling maximum plus surge)') },
        { connections: gauge('connections of the service, all pods') },
        { busiest_pod_busy: gauge('busy (active or idle in transaction) connections of its busiest pod') },
        { idle_in_transaction: gauge('connections idle in transaction') },
        { waiting_on_locks: gauge('connections waiting on a lock') },
        { pods: gauge('pods (client addresses) connected') },
      ],
    },
    caracal_connections: {
      query: oneLine(`
        SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::float8 AS used,
               current_setting('max_connections')::float8 AS max,
               current_setting('superuser_reserved_connections')::float8 AS reserved`),
      metrics: [
        { used: gauge('client connections to the server, every database') },
        { max: gauge('max_connections') },
        { reserved: gauge('superuser_reserved_connections') },
      ],
    },
    caracal_schema: {
      query: oneLine(`
        SELECT coalesce(max(substring(version::text FROM '^[0-9]+')::numeric), 0)::float8 AS version,
               count(*)::float8 AS migrations, coalesce(extract(epoch FROM max(applied_at)), 0)::float8 AS last_applied_timestamp_seconds
          FROM public.schema_migrations`),
      metrics: [
        { version: gauge('the newest applied migration version') },
        { migrations: gauge('applied migrations') },
        { last_applied_timestamp_seconds: gauge('when the newest migration was applied') },
      ],
    },
    caracal_rls: {
      query: oneLine(`
        SELECT count(*)::float8 AS zone_tables,
               count(*) FILTER (WHERE NOT (c.relrowsecurity AND c.relforcerowsecurity))::float8 AS not_forced,
               (SELECT count(DISTINCT r.oid) FROM pg_roles r
                 WHERE (r.rolbypassrls OR r.rolsuper) AND r.rolname <> 'caracal_backup'
                   AND (r.rolname = ANY(ARRAY[${SERVICE_GROUPS.map(sqlText).join(', ')}])
                        OR EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                                    WHERE m.member = r.oid AND g.rolname = ANY(ARRAY[${SERVICE_GROUPS.slice(0, 5).map(sqlText).join(', ')}]))))::float8
                 AS bypass_roles
          FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
           AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'zone_isolation')`),
      metrics: [
        { zone_tables: gauge('tables and partitions with the zone_isolation policy') },
        { not_forced: gauge('of those, without row-level security enabled and forced') },
        { bypass_roles: gauge('service group roles, or their members, with BYPASSRLS or SUPERUSER') },
      ],
    },
    caracal_replication: {
      query: oneLine(`
        SELECT coalesce(nullif(application_name, ''), 'unnamed') AS replica,
               extract(epoch FROM coalesce(replay_lag, interval '0'))::float8 AS replay_lag_seconds,
               pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS replay_lag_bytes
          FROM pg_stat_replication`),
      metrics: [
        { replica: label('application_name of the standby') },
        { replay_lag_seconds: gauge('replay lag of the standby (0 when idle)') },
        { replay_lag_bytes: gauge('WAL not yet replayed by the standby') },
      ],
    },
  };
  if (o.backupStatusSql !== undefined) {
    queries.caracal_backup = {
      query: oneLine(o.backupStatusSql),
      metrics: [{ last_success_timestamp_seconds: gauge('Unix time of the last successful backup') }],
    };
  }
  return queries;
}

/** Rendered files by the JSON of their document: environments with the same pools render the same file once. */
const renderedFiles = new Map<string, string>();

/** The query file, as postgres_exporter reads it (YAML; deterministic). */
export function renderPostgresQueries(o: PostgresQueriesOptions): string {
  const doc: Record<string, unknown> = {};
  for (const [name, q] of Object.entries(postgresQueries(o))) {
    doc[name] = { query: q.query, master: true, metrics: q.metrics.map((m) => ({ ...m })) };
  }
  const key = JSON.stringify(doc);
  let file = renderedFiles.get(key);
  if (file === undefined) {
    file = `# Rendered by Caracal stores: postgres_exporter --extend.query-path. Metric names are <key>_<column>.\n${stringify(doc, { lineWidth: 0 })}`;
    renderedFiles.set(key, file);
  }
  return file;
}
