// Prometheus alerting rules for one environment's stores: one rule per row of the seed's troubleshooting table
// (the row's symptom, measured by the exporters), and the rules the stores need beside them (backup age, Redis
// memory near maxmemory, pending entries growing, the connection budget, replication lag, a saturated pool,
// new dead outbox rows, an exporter that cannot reach its store). Rendered once as data: the PrometheusRule's
// spec and the plain rules file are the same groups. Every rule has a severity, a `for:` and a runbook_url.
import { stringify } from 'yaml';
import { STREAM_ACCESS, STREAMS, type StreamName } from '../../../common/redis-streams';
import { SERVICES, type ServiceName } from '../../../common/names';
import { RUNBOOK_FILE, type TroubleshootingRowId } from '../../../common/troubleshooting';

export interface AlertThresholds {
  /** Oldest pending outbox row, seconds. @default 300 */
  readonly outboxPendingAgeSeconds?: number;
  /** A consumer group that has not taken a new entry for this long while entries wait, seconds. @default 300 */
  readonly streamStallSeconds?: number;
  /** Pending entries of a group above which growth alerts. @default 100 */
  readonly pendingEntries?: number;
  /** Share of maxmemory. @default 0.9 */
  readonly redisMemoryShare?: number;
  /** Share of max_connections - superuser_reserved_connections. @default 0.9 */
  readonly connectionShare?: number;
  /** Replay lag of a standby, seconds. @default 60 */
  readonly replicationLagSeconds?: number;
  /** Age of the last successful backup, seconds. @default 93600 (26 h: a daily backup plus slack) */
  readonly backupAgeSeconds?: number;
}

export interface AlertRulesOptions {
  readonly environment: string;
  /** The namespace the exporters run in: every expression selects `namespace="<it>"`. */
  readonly namespace: string;
  /** The newest migration version of the release (the Migration Job's files). */
  readonly schemaVersion: number;
  /** Where docs/operations.md is served; runbook_url is `<base>#<alert>`. @default 'docs/operations.md' */
  readonly runbookBaseUrl?: string;
  /** The backup CronJob, read through kube-state-metrics' `kube_cronjob_status_last_successful_time`. @default none */
  readonly backupCronJob?: string;
  readonly thresholds?: AlertThresholds;
  /** The services deployed: a stream is expected to have a consumer group of each deployed reader only. @default all five */
  readonly services?: readonly ServiceName[];
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** Every alert: its name, the troubleshooting row it belongs to (if any) and its runbook anchor. */
export const ALERTS = {
  CaracalMigrationsBehind: { row: 'migration-job-fails' },
  CaracalOutboxGrowing: { row: 'api-outbox-grows' },
  CaracalAuditPartitionsUnhealthy: { row: 'audit-queries-slow' },
  CaracalRlsWeakened: { row: 'rls-errors' },
  CaracalStreamNotDelivered: { row: 'streams' },
  CaracalStreamGroupMissing: { row: 'streams' },
  CaracalStreamPendingGrowing: { row: 'streams' },
  CaracalOutboxDeadRows: { row: 'api-outbox-grows' },
  CaracalPoolSaturated: { row: 'api-outbox-grows' },
  CaracalStoreUnreachable: { row: 'migration-job-fails' },
  CaracalRedisMemoryHigh: { row: undefined },
  CaracalConnectionBudgetHigh: { row: undefined },
  CaracalReplicationLag: { row: undefined },
  CaracalBackupTooOld: { row: undefined },
} as const satisfies Record<string, { row: TroubleshootingRowId | undefined }>;
export type AlertName = keyof typeof ALERTS;

/** The runbook anchor of an alert: its own heading under "Alerts" (GitHub's slug of the name). */
export function alertAnchor(alert: AlertName): string {
  return alert.toLowerCase();
}

const duration = (s: number) => (s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`);

export function alertRules(o: AlertRulesOptions): RuleGroup[] {
  const t = {
    outboxPendingAgeSeconds: 300,
    streamStallSeconds: 300,
    pendingEntries: 100,
    redisMemoryShare: 0.9,
    connectionShare: 0.9,
    replicationLagSeconds: 60,
    backupAgeSeconds: 93_600,
    ...o.thresholds,
  };
  const ns = `namespace=${JSON.stringify(o.namespace)}`;
  const base = o.runbookBaseUrl ?? RUNBOOK_FILE;
  const rule = (
    alert: AlertName,
    severity: 'critical' | 'warning',
    forDuration: string,
    expr: string,
    summary: string,
    description: string,
  ): AlertRule => ({
    alert,
    expr: expr.replace(/\s+/g, ' ').trim(),
    for: forDuration,
    labels: {
      severity,
      caracal_environment: o.environment,
      ...(ALERTS[alert].row ? { caracal_troubleshooting_row: ALERTS[alert].row } : {}),
    },
    annotations: { summary, description, runbook_url: `${base}#${alertAnchor(alert)}` },
  });
  const deployed: readonly ServiceName[] = o.services ?? SERVICES;
  const readers = (s: StreamName) => STREAM_ACCESS[s].consumers.filter((c) => deployed.includes(c)).length;
  const groupsPerStream = (Object.keys(STREAMS) as StreamName[])
    .filter((s) => readers(s) > 0)
    .map(
      (s) =>
        `(redis_stream_groups{${ns},stream="${STREAMS[s]}"} < ${readers(s)}) or absent(redis_stream_groups{${ns},stream="${STREAMS[s]}"})`,
    );
  const backupSources = [`max(caracal_backup_last_success_timestamp_seconds{${ns}})`];
  if (o.backupCronJob) backupSources.push(`max(kube_cronjob_status_last_successful_time{${ns},cronjob="${o.backupCronJob}"})`);

  const rules: AlertRule[] = [
    rule(
      'CaracalMigrationsBehind',
      'critical',
      '15m',
      `max(caracal_schema_version{${ns}}) < ${o.schemaVersion}`,
      `Caracal ${o.environment}: the database is behind the release's migrations (version {{ $value }} < ${o.schemaVersion})`,
      'The Migration Job has not applied this release: troubleshooting row "Migration Job fails" (database secret, host, port, user, database, SSL mode, advisory-lock connectivity); run caracal-migrate doctor --row migration-job-fails.',
    ),
    rule(
      'CaracalStoreUnreachable',
      'critical',
      '5m',
      `(max(pg_up{${ns}}) == 0) or (max(redis_up{${ns}}) == 0)`,
      `Caracal ${o.environment}: an exporter cannot reach Postgres or Redis`,
      'The exporters connect like the services do: the same first checks as "Migration Job fails" (secret, host, port, TLS), or Redis reachability.',
    ),
    rule(
      'CaracalOutboxGrowing',
      'warning',
      '5m',
      `max by (outbox, stream) (caracal_outbox_oldest_pending_age_seconds{${ns}}) > ${t.outboxPendingAgeSeconds}`,
      `Caracal ${o.environment}: {{ $labels.outbox }} {{ $labels.stream }} has rows pending for {{ $value | humanizeDuration }}`,
      'Troubleshooting row "API outbox grows": Redis reachability, outbox dispatcher logs, DB pool saturation, and event_outbox dead rows.',
    ),
    rule(
      'CaracalOutboxDeadRows',
      'warning',
      '1m',
      `max by (outbox, stream) (delta(caracal_outbox_dead{${ns}}[1h])) > 0`,
      `Caracal ${o.environment}: new dead rows in {{ $labels.outbox }} {{ $labels.stream }}`,
      'The dispatcher gave up on rows in the last hour: read their last_error (caracal-migrate doctor --row api-outbox-grows), fix the cause, requeue them.',
    ),
    rule(
      'CaracalPoolSaturated',
      'warning',
      '5m',
      `max by (application_name) (caracal_pool_busiest_pod_busy{${ns}}) >= max by (application_name) (caracal_pool_max_per_pod{${ns}})`,
      `Caracal ${o.environment}: a {{ $labels.application_name }} pod has every pooled connection busy`,
      'Requests queue for a database connection: slow queries, lock waits or idle-in-transaction sessions, or too small a DB_POOL_MAX.',
    ),
    rule(
      'CaracalAuditPartitionsUnhealthy',
      'warning',
      '30m',
      `min by (check) (caracal_audit_partition_ok{${ns}}) == 0`,
      `Caracal ${o.environment}: audit partition check {{ $labels.check }} fails`,
      'Troubleshooting row "Audit queries slow": partition health, indexes, retention, and query time windows. Run SELECT public.audit_partitions_ensure() and check the maintenance CronJob.',
    ),
    rule(
      'CaracalRlsWeakened',
      'critical',
      '5m',
      `(max(caracal_rls_not_forced{${ns}}) > 0) or (max(caracal_rls_bypass_roles{${ns}}) > 0)`,
      `Caracal ${o.environment}: row-level security is weakened ({{ $value }})`,
      'Troubleshooting row "RLS errors": a zone table lost forced RLS, or a service role (or a login in one) bypasses RLS. Confirm service role and zone context handling before widening permissions.',
    ),
    rule(
      'CaracalStreamNotDelivered',
      'critical',
      '5m',
      `(redis_stream_group_last_delivered_id{${ns}} < on (namespace, stream) group_left redis_stream_last_generated_id{${ns}})
        and on (namespace, stream, group) (time() * 1000 - redis_stream_group_last_delivered_id{${ns}} > ${t.streamStallSeconds * 1000})`,
      `Caracal ${o.environment}: group {{ $labels.group }} takes no entries from {{ $labels.stream }}`,
      'Entries wait on the stream and the group has delivered nothing newer for a while: its service is down or stuck. Undelivered revocations leave revoked sessions usable; undelivered invalidations serve stale policy.',
    ),
    rule(
      'CaracalStreamGroupMissing',
      'warning',
      '10m',
      groupsPerStream.join(' or '),
      `Caracal ${o.environment}: a stream lacks a consumer group of its readers, or is missing`,
      'A reader service is not running or failed its XGROUP CREATE; a missing stream: no consumer ever started, or Redis lost its data.',
    ),
    rule(
      'CaracalStreamPendingGrowing',
      'warning',
      '15m',
      `(redis_stream_group_messages_pending{${ns}} > ${t.pendingEntries}) and (delta(redis_stream_group_messages_pending{${ns}}[15m]) > 0)`,
      `Caracal ${o.environment}: pending entries of {{ $labels.group }} on {{ $labels.stream }} keep growing ({{ $value }})`,
      'Entries are delivered and not acknowledged: a consumer died holding them (XAUTOCLAIM to a live one) or fails on them.',
    ),
    rule(
      'CaracalRedisMemoryHigh',
      'critical',
      '5m',
      `(max(redis_memory_used_bytes{${ns}}) / max(redis_memory_max_bytes{${ns}} > 0)) > ${t.redisMemoryShare}`,
      `Caracal ${o.environment}: Redis uses {{ $value | humanizePercentage }} of maxmemory`,
      'With noeviction Redis refuses every write at maxmemory (OOM): the outbox dispatcher cannot XADD, consumers cannot XACK, rate limits fail.',
    ),
    rule(
      'CaracalConnectionBudgetHigh',
      'warning',
      '10m',
      `max(caracal_connections_used{${ns}}) / (max(caracal_connections_max{${ns}}) - max(caracal_connections_reserved{${ns}})) > ${t.connectionShare}`,
      `Caracal ${o.environment}: {{ $value | humanizePercentage }} of max_connections in use`,
      'New pods, the migration Job and the CronJobs will be refused (53300) at max_connections - superuser_reserved_connections.',
    ),
    rule(
      'CaracalReplicationLag',
      'warning',
      '5m',
      `max by (replica) (caracal_replication_replay_lag_seconds{${ns}}) > ${t.replicationLagSeconds}`,
      `Caracal ${o.environment}: standby {{ $labels.replica }} replays {{ $value | humanizeDuration }} behind`,
      'Reads from the standby are stale, and a failover to it would lose that much.',
    ),
    rule(
      'CaracalBackupTooOld',
      'critical',
      '15m',
      `time() - max(${backupSources.join(' or ')}) > ${t.backupAgeSeconds}`,
      `Caracal ${o.environment}: the last successful backup is {{ $value | humanizeDuration }} old`,
      `No successful backup for more than ${duration(t.backupAgeSeconds)}: check the backup CronJob's last runs and logs.`,
    ),
  ];
  return [{ name: `caracal-stores-${o.environment}`, rules }];
}

/** The plain rules file (Prometheus rule_files), deterministic. */
export function renderRulesFile(groups: readonly RuleGroup[]): string {
  return `# Rendered by Caracal stores: Prometheus alerting rules (also deployed as a PrometheusRule).\n${stringify(
    { groups: groups.map((g) => ({ name: g.name, rules: g.rules.map((r) => ({ ...r })) })) },
    { lineWidth: 0 },
  )}`;
}
