// The alert rules as Prometheus sees them, with the real promtool (Debian's prometheus package): the rendered
// rules file passes `promtool check rules`, and `promtool test rules` proves that every alert fires on the
// series it is meant for and stays quiet on healthy ones. Every alert carries its severity, the environment, and
// a runbook_url that lands on a heading of docs/operations.md.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ALERTS, alertRules, renderRulesFile, type AlertName } from '../../../../constructs/internal/monitoring/alert-rules';
import { anchors } from '../../../support/runbook';

const NS = 'caracal-prod';
const groups = alertRules({ environment: 'prod', namespace: NS, schemaVersion: 4, backupCronJob: 'caracal-backup' });
const rules = groups[0].rules;
const dir = mkdtempSync(path.join(os.tmpdir(), 'caracal-rules-'));
const rulesFile = path.join(dir, 'caracal.rules.yaml');
writeFileSync(rulesFile, renderRulesFile(groups));

function promtool(...args: string[]): { code: number; output: string } {
  try {
    return { code: 0, output: execFileSync('promtool', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' }) };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, output: `${err.stdout}${err.stderr}` };
  }
}

/** A series in promtool's notation, in the test namespace. */
const s = (metric: string, labels: Record<string, string>, values: string) => ({
  series: `${metric}{${Object.entries({ namespace: NS, ...labels })
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`,
  values,
});

interface Case {
  readonly series: ReturnType<typeof s>[];
  readonly evalTime: string;
  /** The firing alert's own labels (beyond severity and the environment) and its expanded summary. */
  readonly fires?: { labels: Record<string, string>; summary: string };
}

const STREAM = 'caracal:stream:revocation';
const groupsSeries = (missing?: string, short?: string) =>
  [
    ['caracal:stream:propagation', '3'],
    ['caracal:stream:invalidation', '2'],
    ['caracal:stream:revocation', '2'],
    ['caracal:stream:audit', '1'],
  ]
    .filter(([stream]) => stream !== missing)
    .map(([stream, n]) => s('redis_stream_groups', { stream }, `${stream === short ? Number(n) - 1 : n}x30`));

/** For every alert, a case where it fires and one where it does not. */
const CASES: Record<AlertName, { fire: Case; quiet: Case }> = {
  CaracalMigrationsBehind: {
    fire: {
      series: [s('caracal_schema_version', {}, '3x30')],
      evalTime: '20m',
      fires: { labels: {}, summary: "Caracal prod: the database is behind the release's migrations (version 3 < 4)" },
    },
    quiet: { series: [s('caracal_schema_version', {}, '4x30')], evalTime: '20m' },
  },
  CaracalStoreUnreachable: {
    fire: {
      series: [s('pg_up', {}, '0x30'), s('redis_up', {}, '1x30')],
      evalTime: '10m',
      fires: { labels: {}, summary: 'Caracal prod: an exporter cannot reach Postgres or Redis' },
    },
    quiet: { series: [s('pg_up', {}, '1x30'), s('redis_up', {}, '1x30')], evalTime: '10m' },
  },
  CaracalOutboxGrowing: {
    fire: {
      series: [s('caracal_outbox_oldest_pending_age_seconds', { outbox: 'event_outbox', stream: '' }, '600+60x30')],
      evalTime: '10m',
      fires: { labels: { outbox: 'event_outbox' }, summary: 'Caracal prod: event_outbox  has rows pending for 20m 0s' },
    },
    quiet: { series: [s('caracal_outbox_oldest_pending_age_seconds', { outbox: 'event_outbox', stream: '' }, '2x30')], evalTime: '10m' },
  },
  CaracalOutboxDeadRows: {
    fire: {
      series: [s('caracal_outbox_dead', { outbox: 'caracal_outbox', stream: 'revocation' }, '0x10 1x30')],
      evalTime: '15m',
      fires: {
        labels: { outbox: 'caracal_outbox', stream: 'revocation' },
        summary: 'Caracal prod: new dead rows in caracal_outbox revocation',
      },
    },
    quiet: { series: [s('caracal_outbox_dead', { outbox: 'caracal_outbox', stream: 'revocation' }, '2x40')], evalTime: '15m' },
  },
  CaracalPoolSaturated: {
    fire: {
      series: [
        s('caracal_pool_busiest_pod_busy', { application_name: 'caracal-api' }, '4x30'),
        s('caracal_pool_max_per_pod', { application_name: 'caracal-api' }, '4x30'),
      ],
      evalTime: '10m',
      fires: { labels: { application_name: 'caracal-api' }, summary: 'Caracal prod: a caracal-api pod has every pooled connection busy' },
    },
    quiet: {
      series: [
        s('caracal_pool_busiest_pod_busy', { application_name: 'caracal-api' }, '3x30'),
        s('caracal_pool_max_per_pod', { application_name: 'caracal-api' }, '4x30'),
      ],
      evalTime: '10m',
    },
  },
  CaracalAuditPartitionsUnhealthy: {
    fire: {
      series: [s('caracal_audit_partition_ok', { check: 'future_partitions' }, '0x60')],
      evalTime: '45m',
      fires: { labels: { check: 'future_partitions' }, summary: 'Caracal prod: audit partition check future_partitions fails' },
    },
    quiet: { series: [s('caracal_audit_partition_ok', { check: 'future_partitions' }, '1x60')], evalTime: '45m' },
  },
  CaracalRlsWeakened: {
    fire: {
      series: [s('caracal_rls_not_forced', {}, '1x30'), s('caracal_rls_bypass_roles', {}, '0x30')],
      evalTime: '10m',
      fires: { labels: {}, summary: 'Caracal prod: row-level security is weakened (1)' },
    },
    quiet: { series: [s('caracal_rls_not_forced', {}, '0x30'), s('caracal_rls_bypass_roles', {}, '0x30')], evalTime: '10m' },
  },
  CaracalStreamNotDelivered: {
    fire: {
      series: [
        s('redis_stream_last_generated_id', { stream: STREAM }, '600000x30'),
        s('redis_stream_group_last_delivered_id', { stream: STREAM, group: 'sts' }, '60000x30'),
      ],
      evalTime: '20m',
      fires: {
        labels: { namespace: NS, stream: STREAM, group: 'sts' },
        summary: `Caracal prod: group sts takes no entries from ${STREAM}`,
      },
    },
    quiet: {
      series: [
        s('redis_stream_last_generated_id', { stream: STREAM }, '600000x30'),
        s('redis_stream_group_last_delivered_id', { stream: STREAM, group: 'sts' }, '600000x30'),
      ],
      evalTime: '20m',
    },
  },
  CaracalStreamGroupMissing: {
    fire: {
      series: groupsSeries(undefined, 'caracal:stream:propagation'),
      evalTime: '20m',
      fires: {
        labels: { namespace: NS, stream: 'caracal:stream:propagation' },
        summary: 'Caracal prod: a stream lacks a consumer group of its readers, or is missing',
      },
    },
    quiet: { series: groupsSeries(), evalTime: '20m' },
  },
  CaracalStreamPendingGrowing: {
    fire: {
      series: [s('redis_stream_group_messages_pending', { stream: STREAM, group: 'gateway' }, '100+10x60')],
      evalTime: '40m',
      fires: {
        labels: { namespace: NS, stream: STREAM, group: 'gateway' },
        summary: `Caracal prod: pending entries of gateway on ${STREAM} keep growing (500)`,
      },
    },
    quiet: { series: [s('redis_stream_group_messages_pending', { stream: STREAM, group: 'gateway' }, '500x60')], evalTime: '40m' },
  },
  CaracalRedisMemoryHigh: {
    fire: {
      series: [s('redis_memory_used_bytes', {}, '950x30'), s('redis_memory_max_bytes', {}, '1000x30')],
      evalTime: '10m',
      fires: { labels: {}, summary: 'Caracal prod: Redis uses 95% of maxmemory' },
    },
    quiet: { series: [s('redis_memory_used_bytes', {}, '500x30'), s('redis_memory_max_bytes', {}, '1000x30')], evalTime: '10m' },
  },
  CaracalConnectionBudgetHigh: {
    fire: {
      series: [
        s('caracal_connections_used', {}, '291x30'),
        s('caracal_connections_max', {}, '300x30'),
        s('caracal_connections_reserved', {}, '3x30'),
      ],
      evalTime: '20m',
      fires: { labels: {}, summary: 'Caracal prod: 97.98% of max_connections in use' },
    },
    quiet: {
      series: [
        s('caracal_connections_used', {}, '100x30'),
        s('caracal_connections_max', {}, '300x30'),
        s('caracal_connections_reserved', {}, '3x30'),
      ],
      evalTime: '20m',
    },
  },
  CaracalReplicationLag: {
    fire: {
      series: [s('caracal_replication_replay_lag_seconds', { replica: 'standby-1' }, '120x30')],
      evalTime: '10m',
      fires: { labels: { replica: 'standby-1' }, summary: 'Caracal prod: standby standby-1 replays 2m 0s behind' },
    },
    quiet: { series: [s('caracal_replication_replay_lag_seconds', { replica: 'standby-1' }, '5x30')], evalTime: '10m' },
  },
  CaracalBackupTooOld: {
    // promtool's clock starts at 0: a backup at -100000 s is 1d 4h 16m 40s old at 30 minutes (a short evaluation).
    fire: {
      series: [s('kube_cronjob_status_last_successful_time', { cronjob: 'caracal-backup' }, '-100000x40')],
      evalTime: '30m',
      fires: { labels: {}, summary: 'Caracal prod: the last successful backup is 1d 4h 16m 40s old' },
    },
    quiet: { series: [s('caracal_backup_last_success_timestamp_seconds', {}, '0+60x40')], evalTime: '30m' },
  },
};

function testFile(): string {
  const tests = Object.entries(CASES).flatMap(([alert, { fire, quiet }]) => {
    const rule = rules.find((r) => r.alert === alert)!;
    return [fire, quiet].map((c) => ({
      interval: '1m',
      name: `${alert} ${c.fires ? 'fires' : 'stays quiet'}`,
      input_series: c.series,
      alert_rule_test: [
        {
          eval_time: c.evalTime,
          alertname: alert,
          exp_alerts: c.fires
            ? [
                {
                  exp_labels: { ...rule.labels, ...c.fires.labels },
                  exp_annotations: {
                    summary: c.fires.summary,
                    description: rule.annotations.description,
                    runbook_url: rule.annotations.runbook_url,
                  },
                },
              ]
            : [],
        },
      ],
    }));
  });
  return stringify({ rule_files: [path.basename(rulesFile)], evaluation_interval: '1m', tests }, { lineWidth: 0 });
}

describe('alert rules', () => {
  test('GIVEN the rendered rules file WHEN promtool checks it THEN it is valid with one rule per alert', () => {
    const r = promtool('check', 'rules', rulesFile);
    expect(r).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${Object.keys(ALERTS).length} rules found`) });
  });

  test('GIVEN a firing and a quiet case for every alert WHEN promtool tests the rules THEN every case passes', () => {
    expect(Object.keys(CASES).sort()).toEqual(rules.map((r) => r.alert).sort());
    const file = path.join(dir, 'caracal.rules.test.yaml');
    writeFileSync(file, testFile());
    const r = promtool('test', 'rules', file);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.code).toBe(0);
  });

  test('GIVEN the rules WHEN their labels and annotations are read THEN each has a severity, a for:, and a runbook_url on a heading of docs/operations.md', () => {
    const headings = anchors();
    for (const r of rules) {
      expect(['critical', 'warning']).toContain(r.labels.severity);
      expect(r.for).toMatch(/^\d+[mh]$/);
      expect(r.annotations.runbook_url).toMatch(/^docs\/operations\.md#/);
      expect(headings).toContain(r.annotations.runbook_url.split('#')[1]);
    }
  });

  test('GIVEN the troubleshooting rows WHEN the rules are read THEN every row has at least one rule', () => {
    const rows = new Set(rules.map((r) => r.labels.caracal_troubleshooting_row).filter(Boolean));
    expect([...rows].sort()).toEqual(['api-outbox-grows', 'audit-queries-slow', 'migration-job-fails', 'rls-errors', 'streams']);
  });
});
