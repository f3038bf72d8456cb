// The Grafana dashboard: one row per row of the seed's troubleshooting table (then backups and replication), every
// panel's PromQL valid for the real promtool, and every metric it reads one the exporters actually export.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { TROUBLESHOOTING_ROWS } from '../../../../common/troubleshooting';
import { dashboard, renderDashboard } from '../../../../constructs/internal/monitoring/dashboard';
import { postgresQueries } from '../../../../constructs/internal/monitoring/postgres-queries';

const options = { environment: 'prod', namespace: 'caracal-prod', schemaVersion: 4 };
const json = dashboard(options) as { uid: string; panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }> };
const exprs = json.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr.replace(/\$namespace/g, options.namespace)));

/** Metric families the exporters export (their own, and the custom queries' <query>_<column>). */
const EXPORTED = new Set([
  'pg_up',
  'redis_up',
  'redis_memory_used_bytes',
  'redis_memory_max_bytes',
  'redis_stream_groups',
  'redis_stream_length',
  'redis_stream_last_generated_id',
  'redis_stream_group_messages_pending',
  'redis_stream_group_last_delivered_id',
  'redis_stream_group_consumer_idle_seconds',
  'redis_stream_group_consumer_messages_pending',
  ...Object.entries(postgresQueries({ pools: [], backupStatusSql: 'SELECT 0 AS last_success_timestamp_seconds' })).flatMap(([name, q]) =>
    q.metrics.flatMap((m) =>
      Object.entries(m)
        .filter(([, v]) => v.usage !== 'LABEL')
        .map(([column]) => `${name}_${column}`),
    ),
  ),
]);

describe('Grafana dashboard', () => {
  test('GIVEN the dashboard WHEN its rows are read THEN there is one per troubleshooting row, in the seed order, then backups and replication', () => {
    expect(json.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual([
      ...TROUBLESHOOTING_ROWS.map((r) => `${r.phase}: ${r.symptom}`),
      'Backups and replication',
    ]);
    expect(json.uid).toBe('caracal-stores-prod');
  });

  test('GIVEN every panel query WHEN promtool checks them as recording rules THEN each is valid PromQL', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'caracal-dashboard-'));
    const file = path.join(dir, 'panels.yaml');
    writeFileSync(
      file,
      stringify({ groups: [{ name: 'panels', rules: exprs.map((expr, i) => ({ record: `caracal_dashboard:panel_${i}`, expr })) }] }),
    );
    expect(execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8' })).toContain(`SUCCESS: ${exprs.length} rules found`);
  });

  test('GIVEN every panel query WHEN its metric names are read THEN each is one the exporters export', () => {
    const used = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\b(caracal_[a-z_]+|pg_[a-z_]+|redis_[a-z_]+)\b(?=\{|\s|\)|$)/g)].map((m) => m[1])),
    );
    expect([...used].filter((m) => !EXPORTED.has(m))).toEqual([]);
    expect(used.size).toBeGreaterThan(20);
  });

  test('GIVEN the same options WHEN rendered twice THEN the JSON is byte-identical', () => {
    expect(renderDashboard(options)).toBe(renderDashboard({ ...options }));
  });
});
