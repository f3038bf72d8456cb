// The "Audit queries slow" checks: partition health, indexes and retention come from verify's checks; the query
// time window is judged on the plan of a one-day query (how many partitions it scans).
import type { Client } from 'pg';
import { checkAuditPartitions, checkAuditRetention, checkIndexes } from '../verify/checks';
import { finding, ok, type Outcome, unchecked } from './report';
import { fromVerify, LOGIN_HINT } from './sql';

export async function checkPartitions(client: Client, daysAhead: number): Promise<Outcome> {
  return fromVerify(
    await checkAuditPartitions(client, daysAhead),
    'run SELECT public.audit_partitions_ensure() as the owner (the audit partition maintenance CronJob does it daily: is it running? kubectl get cronjob)',
  );
}

export async function checkAuditIndexes(client: Client): Promise<Outcome> {
  return fromVerify(
    await checkIndexes(client),
    'an INVALID index: DROP INDEX CONCURRENTLY and build it again in a new migration; a missing one: the migrations did not all apply (`caracal-migrate status`)',
  );
}

export async function checkRetention(client: Client, retentionDays: number): Promise<Outcome> {
  return fromVerify(
    await checkAuditRetention(client, retentionDays),
    'exported but kept: schedule SELECT public.audit_partitions_apply_retention(<days>); not exported: the audit exporter lags (audit_export_watermark)',
  );
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Subplans Removed'?: number;
  Plans?: PlanNode[];
}

function scans(node: PlanNode, out: Array<{ relation: string; how: string }> = []): Array<{ relation: string; how: string }> {
  if (node['Relation Name'])
    out.push({ relation: node['Relation Name'], how: `${node['Node Type']}${node['Index Name'] ? ` using ${node['Index Name']}` : ''}` });
  for (const child of node.Plans ?? []) scans(child, out);
  return out;
}

/**
 * EXPLAIN (no ANALYZE: nothing runs) of what an audit query for today should look like: a zone and a one-day
 * window on ingested_at, the partition key. It must scan one partition, today's; the default partition means
 * today has no partition, more partitions mean pruning does not apply.
 */
export async function checkQueryPlan(client: Client): Promise<Outcome> {
  const can = await client.query<{ can: boolean; today: string; tomorrow: string }>(
    `SELECT has_table_privilege('public.audit_events', 'SELECT') AS can,
            to_char((now() AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS today,
            to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYY-MM-DD') AS tomorrow`,
  );
  const { today, tomorrow } = can.rows[0];
  if (!can.rows[0].can)
    return unchecked(
      'this login may not read public.audit_events, so it cannot EXPLAIN a query on it',
      `${LOGIN_HINT}; the plan needs SELECT on audit_events: the owner login, or the audit service's`,
    );
  const sql =
    `SELECT * FROM public.audit_events WHERE zone_id = '00000000-0000-4000-8000-000000000000' ` +
    `AND ingested_at >= '${today} 00:00:00+00' AND ingested_at < '${tomorrow} 00:00:00+00' ORDER BY ingested_at DESC LIMIT 100`;
  const r = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`);
  const found = scans(r.rows[0]['QUERY PLAN'][0].Plan);
  const details = [`query: ${sql}`, ...found.map((s) => `scans ${s.relation}: ${s.how}`)];
  const relations = [...new Set(found.map((s) => s.relation))];
  if (relations.includes('audit_events_default'))
    return finding(
      `a one-day query for ${today} scans audit_events_default: today has no partition of its own`,
      'run SELECT public.audit_partitions_ensure() as the owner; then queries prune to one partition again',
      details,
    );
  if (relations.length !== 1)
    return finding(
      `a one-day query for ${today} scans ${relations.length} partitions (${relations.join(', ')}): partition pruning does not narrow it`,
      'queries must bound ingested_at (the partition key) with constants or parameters, not only occurred_at; check enable_partition_pruning',
      details,
    );
  return ok(`a one-day query scans one partition (${relations[0]})`, details);
}
