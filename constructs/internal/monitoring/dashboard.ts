// The Grafana dashboard of one environment's stores: one row per row of the seed's troubleshooting table (the
// metrics its first checks look at), then backups and replication, so a person can look instead of read.
// Plain JSON for Grafana's dashboard sidecar (a ConfigMap labelled grafana_dashboard: "1"); deterministic.
import { TROUBLESHOOTING_ROWS, type TroubleshootingRowId } from '../../../common/troubleshooting';

export interface DashboardOptions {
  readonly environment: string;
  readonly namespace: string;
  /** The newest migration version of the release (the schema version panel turns red below it). */
  readonly schemaVersion: number;
}

interface Target {
  readonly expr: string;
  readonly legendFormat: string;
}

interface PanelSpec {
  readonly title: string;
  readonly type: 'timeseries' | 'stat';
  readonly targets: readonly Target[];
  readonly unit?: string;
  /** stat panels: red at or above this value (below it when `redBelow`). */
  readonly red?: number;
  readonly redBelow?: boolean;
  readonly description?: string;
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

export function dashboard(o: DashboardOptions): Record<string, unknown> {
  const ns = `namespace="$namespace"`;
  const t = (expr: string, legendFormat = ''): Target => ({ expr, legendFormat });
  const rows: Array<{ title: string; row?: TroubleshootingRowId; panels: PanelSpec[] }> = [
    {
      title: '',
      row: 'migration-job-fails',
      panels: [
        {
          title: 'Schema version',
          type: 'stat',
          targets: [t(`max(caracal_schema_version{${ns}})`, 'applied')],
          red: o.schemaVersion,
          redBelow: true,
          description: `The release's newest migration is ${o.schemaVersion}; below it, the Migration Job has not applied this release.`,
        },
        {
          title: 'Exporters reach Postgres / Redis',
          type: 'stat',
          targets: [t(`max(pg_up{${ns}})`, 'postgres'), t(`max(redis_up{${ns}})`, 'redis')],
          red: 1,
          redBelow: true,
        },
        {
          title: 'Server connections',
          type: 'timeseries',
          targets: [
            t(`max(caracal_connections_used{${ns}})`, 'used'),
            t(`max(caracal_connections_max{${ns}}) - max(caracal_connections_reserved{${ns}})`, 'available (max_connections - reserved)'),
          ],
        },
      ],
    },
    {
      title: '',
      row: 'api-outbox-grows',
      panels: [
        {
          title: 'Outbox pending rows',
          type: 'timeseries',
          targets: [t(`sum by (outbox, stream) (caracal_outbox_pending{${ns}})`, '{{outbox}} {{stream}}')],
        },
        {
          title: 'Oldest pending outbox row',
          type: 'timeseries',
          unit: 's',
          targets: [t(`max by (outbox, stream) (caracal_outbox_oldest_pending_age_seconds{${ns}})`, '{{outbox}} {{stream}}')],
        },
        { title: 'Dead outbox rows', type: 'stat', targets: [t(`sum(caracal_outbox_dead{${ns}})`, 'dead')], red: 1 },
        {
          title: 'Busiest pod: busy connections / DB_POOL_MAX',
          type: 'timeseries',
          unit: 'percentunit',
          targets: [
            t(
              `max by (application_name) (caracal_pool_busiest_pod_busy{${ns}}) / max by (application_name) (caracal_pool_max_per_pod{${ns}})`,
              '{{application_name}}',
            ),
          ],
        },
        {
          title: 'Idle in transaction, waiting on locks',
          type: 'timeseries',
          targets: [
            t(`sum by (application_name) (caracal_pool_idle_in_transaction{${ns}})`, '{{application_name}} idle in transaction'),
            t(`sum by (application_name) (caracal_pool_waiting_on_locks{${ns}})`, '{{application_name}} waiting on locks'),
          ],
        },
        {
          title: 'Redis memory / maxmemory',
          type: 'timeseries',
          unit: 'percentunit',
          targets: [t(`max(redis_memory_used_bytes{${ns}}) / max(redis_memory_max_bytes{${ns}} > 0)`, 'used')],
        },
      ],
    },
    {
      title: '',
      row: 'audit-queries-slow',
      panels: [
        {
          title: 'Partition checks failing',
          type: 'stat',
          targets: [t(`count(caracal_audit_partition_ok{${ns}} == 0) or vector(0)`, 'failing')],
          red: 1,
        },
        {
          title: 'Partition window ahead',
          type: 'stat',
          unit: 'd',
          targets: [t(`min(caracal_audit_window_days_ahead{${ns}})`, 'days ahead')],
          red: 3,
          redBelow: true,
        },
        { title: 'Audit partitions', type: 'timeseries', targets: [t(`max(caracal_audit_window_partitions{${ns}})`, 'partitions')] },
      ],
    },
    {
      title: '',
      row: 'rls-errors',
      panels: [
        { title: 'Zone tables without forced RLS', type: 'stat', targets: [t(`max(caracal_rls_not_forced{${ns}})`, 'not forced')], red: 1 },
        { title: 'Roles bypassing RLS', type: 'stat', targets: [t(`max(caracal_rls_bypass_roles{${ns}})`, 'bypass')], red: 1 },
        { title: 'Zone tables and partitions', type: 'stat', targets: [t(`max(caracal_rls_zone_tables{${ns}})`, 'with zone policy')] },
      ],
    },
    {
      title: '',
      row: 'streams',
      panels: [
        {
          title: 'Pending entries per group',
          type: 'timeseries',
          targets: [t(`sum by (stream, group) (redis_stream_group_messages_pending{${ns}})`, '{{stream}} {{group}}')],
        },
        {
          title: 'Since the last entry each group took (while entries wait)',
          type: 'timeseries',
          unit: 's',
          targets: [
            t(
              `(time() - redis_stream_group_last_delivered_id{${ns}} / 1000) and on (namespace, stream) (redis_stream_group_last_delivered_id{${ns}} < on (namespace, stream) group_left redis_stream_last_generated_id{${ns}})`,
              '{{stream}} {{group}}',
            ),
          ],
        },
        { title: 'Consumer groups per stream', type: 'stat', targets: [t(`max by (stream) (redis_stream_groups{${ns}})`, '{{stream}}')] },
        { title: 'Stream length', type: 'timeseries', targets: [t(`max by (stream) (redis_stream_length{${ns}})`, '{{stream}}')] },
        {
          title: 'Consumer idle time (with pending entries)',
          type: 'timeseries',
          unit: 's',
          targets: [
            t(
              `max by (stream, group, consumer) (redis_stream_group_consumer_idle_seconds{${ns}}) and on (stream, group, consumer) (redis_stream_group_consumer_messages_pending{${ns}} > 0)`,
              '{{stream}} {{group}} {{consumer}}',
            ),
          ],
        },
      ],
    },
    {
      title: 'Backups and replication',
      panels: [
        {
          title: 'Since the last successful backup',
          type: 'stat',
          unit: 's',
          targets: [t(`time() - max(caracal_backup_last_success_timestamp_seconds{${ns}})`, 'age')],
          red: 93_600,
        },
        {
          title: 'Standby replay lag',
          type: 'timeseries',
          unit: 's',
          targets: [t(`max by (replica) (caracal_replication_replay_lag_seconds{${ns}})`, '{{replica}}')],
        },
      ],
    },
  ];

  let id = 0;
  let y = 0;
  const panels: Array<Record<string, unknown>> = [];
  for (const r of rows) {
    const seed = r.row ? TROUBLESHOOTING_ROWS.find((x) => x.id === r.row)! : undefined;
    panels.push({
      id: ++id,
      type: 'row',
      title: seed ? `${seed.phase}: ${seed.symptom}` : r.title,
      description: seed ? `First check (seed): ${seed.firstCheck}` : undefined,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y: y++ },
      panels: [],
    });
    const width = 24 / Math.min(r.panels.length, 3);
    r.panels.forEach((p, i) => {
      const steps = [{ color: 'green', value: null as number | null }];
      if (p.red !== undefined) {
        if (p.redBelow) steps.splice(0, 1, { color: 'red', value: null }, { color: 'green', value: p.red });
        else steps.push({ color: 'red', value: p.red });
      }
      panels.push({
        id: ++id,
        type: p.type,
        title: p.title,
        ...(p.description ? { description: p.description } : {}),
        datasource: DATASOURCE,
        gridPos: { h: 7, w: width, x: (i % 3) * width, y: y + Math.floor(i / 3) * 7 },
        fieldConfig: { defaults: { unit: p.unit ?? 'short', thresholds: { mode: 'absolute', steps } }, overrides: [] },
        options: p.type === 'stat' ? { colorMode: 'background', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } } : {},
        targets: p.targets.map((x, j) => ({
          refId: String.fromCharCode(65 + j),
          datasource: DATASOURCE,
          expr: x.expr,
          legendFormat: x.legendFormat,
        })),
      });
    });
    y += Math.ceil(r.panels.length / 3) * 7;
  }
  return {
    uid: `caracal-stores-${o.environment}`,
    title: `Caracal stores (${o.environment})`,
    description: 'One row per row of the seed troubleshooting table; see docs/operations.md#troubleshooting and caracal-migrate doctor.',
    tags: ['caracal', 'caracal-stores'],
    editable: false,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    refresh: '1m',
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' },
        { name: 'namespace', type: 'constant', query: o.namespace, hide: 2 },
      ],
    },
    panels,
  };
}

/** The dashboard JSON text (stable key order, two-space indent). */
export function renderDashboard(o: DashboardOptions): string {
  return `${JSON.stringify(dashboard(o), null, 2)}\n`;
}
