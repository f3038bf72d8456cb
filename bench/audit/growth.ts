// bench/audit, growth part: what the audit domain costs at 365 daily partitions against 30, in the same run on the
// same server (two databases): ingest throughput, a no-op audit_partitions_ensure() and audit_partition_health()
// (the CronJob's and the exporter's calls, same window at both sizes), audit_partition_health_all() (every
// partition: the CronJob's daily check, linear in the partitions by design), and the planning of a one-day query, with the partitions in the
// plan before runtime pruning. Also the form of the one-day bounds: literals (pruned at plan time) against an
// expression such as `timestamptz '...' + interval '1 day'` (stable, not folded: pruned only at executor start).
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { applySchema } from '../../test/support/schema';
import { Figure, figure } from '../figures';

const SIZES = [30, 365] as const;
const DAYS_AHEAD = 14;
const CALL_RUNS = Number(process.env.BENCH_GROWTH_CALLS ?? 21);
const PLAN_RUNS = Number(process.env.BENCH_GROWTH_PLANS ?? 101);
const INGEST_ROUNDS = Number(process.env.BENCH_GROWTH_ROUNDS ?? 6);
const INGEST_BATCHES = 10;
const INGEST_ROWS = 200;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface PlanFacts {
  planningMs: number;
  /** Partition scans in the plan as EXPLAIN shows it, plus the subplans initial pruning removed at executor start. */
  partitionsInPlan: number;
  /** Partitions left after pruning at executor start. */
  partitionsScanned: number;
}

/**
 * `runs` samples of `measure` on each client, the clients taking turns in alternating order (the machine's noise
 * falls on both sizes alike), after `warmup` unrecorded rounds: each client's samples, in the clients' order.
 */
async function interleaved<T>(
  clients: Client[],
  runs: number,
  warmup: number,
  measure: (c: Client, run: number) => Promise<T>,
): Promise<T[][]> {
  const samples = clients.map((): T[] => []);
  for (let i = 0; i < warmup + runs; i++) {
    const order = clients.map((_, k) => k);
    if (i % 2 === 1) order.reverse();
    for (const k of order) {
      const value = await measure(clients[k], i);
      if (i >= warmup) samples[k].push(value);
    }
  }
  return samples;
}

async function planFacts(clients: Client[], sql: string): Promise<PlanFacts[]> {
  const samples = await interleaved(clients, PLAN_RUNS, 10, async (c) => {
    const plan = (await c.query(`EXPLAIN (SUMMARY, FORMAT JSON) ${sql}`)).rows[0]['QUERY PLAN'][0];
    let shown = 0;
    let removed = 0;
    const walk = (n: Record<string, unknown>) => {
      if (typeof n['Relation Name'] === 'string' && (n['Relation Name'] as string).startsWith('audit_events')) shown++;
      if (typeof n['Subplans Removed'] === 'number') removed += n['Subplans Removed'] as number;
      for (const child of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk(plan.Plan);
    return { planningMs: plan['Planning Time'] as number, partitionsInPlan: shown + removed, partitionsScanned: shown };
  });
  return samples.map((runs) => ({ ...runs[runs.length - 1], planningMs: median(runs.map((r) => r.planningMs)) }));
}

/** Median wall time of `sql` on each client, in ms. */
async function timedCalls(clients: Client[], sql: string): Promise<number[]> {
  const samples = await interleaved(clients, CALL_RUNS, 1, async (c) => {
    const t0 = process.hrtime.bigint();
    await c.query(sql);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  });
  return samples.map(median);
}

interface Sized {
  partitions: number;
  client: Client;
  ensureMs?: number;
  healthMs?: number;
  healthAllMs?: number;
  literal?: PlanFacts;
  expression?: PlanFacts;
  rowsPerSecond?: number;
}

export async function measureGrowth(
  serverUrl: string,
  withDatabase: (url: string, db: string) => string,
): Promise<{
  figures: Figure[];
  lines: string[];
  context: Record<string, unknown>;
}> {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  const names = SIZES.map((n) => `caracal_bench_audit_${n}_${process.pid}`);
  const sized: Sized[] = [];
  try {
    for (const [i, n] of SIZES.entries()) {
      await admin.query(`CREATE DATABASE ${names[i]}`);
      const url = withDatabase(serverUrl, names[i]);
      await applySchema(url);
      const c = new Client({ connectionString: url });
      await c.connect();
      // n daily partitions in all: today, DAYS_AHEAD after, the rest before.
      await c.query('SELECT public.audit_partitions_ensure($1, $2)', [n - DAYS_AHEAD - 1, DAYS_AHEAD]);
      const count = (await c.query('SELECT count(*)::int AS n FROM public.audit_partition_bounds() WHERE NOT is_default')).rows[0].n;
      sized.push({ partitions: count, client: c });
    }
    // The CronJob's and the exporter's calls (the default window), no-op at both sizes, alternating.
    const clients = sized.map((s) => s.client);
    const calls = {
      ensureMs: await timedCalls(clients, 'SELECT public.audit_partitions_ensure()'),
      healthMs: await timedCalls(clients, 'SELECT * FROM public.audit_partition_health()'),
      healthAllMs: await timedCalls(clients, 'SELECT * FROM public.audit_partition_health_all()'),
    };
    sized.forEach((s, k) =>
      Object.assign(s, { ensureMs: calls.ensureMs[k], healthMs: calls.healthMs[k], healthAllMs: calls.healthAllMs[k] }),
    );
    // Ingest into today's partition as the audit service, alternating sizes per batch (the same rows into both);
    // each size's rate from its median batch, so a burst of noise on the machine does not decide the ratio.
    const zone = randomUUID();
    const cols = ['zone_id', 'event_id', 'occurred_at', 'source', 'event_type', 'actor', 'payload'];
    const sql = `INSERT INTO public.audit_events (${cols.join(', ')}) VALUES ${Array.from(
      { length: INGEST_ROWS },
      (_, r) => `(${cols.map((_c, k) => `$${r * cols.length + k + 1}`).join(', ')})`,
    ).join(', ')}`;
    for (const s of sized) {
      await s.client.query('SET ROLE caracal_audit');
      await s.client.query(`SELECT set_config('caracal.zone_id', $1, false)`, [zone]);
    }
    const params = () =>
      Array.from({ length: INGEST_ROWS }).flatMap((_, r) => [
        zone,
        randomUUID(),
        new Date(),
        'gateway',
        'request.authorized',
        `agent:${r % 50}`,
        '{"k":1}',
      ]);
    const batches = new Map<number, unknown[]>();
    const batchSeconds = await interleaved(clients, (INGEST_ROUNDS - 1) * INGEST_BATCHES, INGEST_BATCHES, async (c, run) => {
      if (!batches.has(run)) batches.set(run, params());
      const t0 = process.hrtime.bigint();
      await c.query({ name: 'ingest', text: sql, values: batches.get(run) });
      return Number(process.hrtime.bigint() - t0) / 1e9;
    });
    sized.forEach((s, k) => (s.rowsPerSecond = INGEST_ROWS / median(batchSeconds[k])));
    // One day, 20 days back (inside both windows), as the audit service.
    const day = (await sized[0].client.query(`SELECT to_char((now() AT TIME ZONE 'UTC')::date - 20, 'YYYY-MM-DD') AS d`)).rows[0].d;
    const next = (await sized[0].client.query(`SELECT to_char((now() AT TIME ZONE 'UTC')::date - 19, 'YYYY-MM-DD') AS d`)).rows[0].d;
    const literal = `SELECT count(*) FROM public.audit_events WHERE ingested_at >= '${day} 00:00:00+00' AND ingested_at < '${next} 00:00:00+00'`;
    const expression = `SELECT count(*) FROM public.audit_events WHERE ingested_at >= timestamptz '${day} 00:00:00+00' AND ingested_at < timestamptz '${day} 00:00:00+00' + interval '1 day'`;
    const literals = await planFacts(clients, literal);
    const expressions = await planFacts(clients, expression);
    sized.forEach((s, k) => Object.assign(s, { literal: literals[k], expression: expressions[k] }));
  } finally {
    for (const s of sized) await s.client.end().catch(() => undefined);
    for (const db of names) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
  const [few, many] = sized;
  const vs = `${few.partitions} partitions`;
  const figures = [
    figure({
      name: `audit ingest, ${many.partitions} vs ${few.partitions} partitions`,
      project: many.rowsPerSecond!,
      peer: few.rowsPerSecond!,
      peerName: vs,
      unit: 'rows/s',
      goal: 'ratio >= 0.9',
      met: many.rowsPerSecond! / few.rowsPerSecond! >= 0.9,
    }),
    figure({
      name: `audit_partitions_ensure() no-op, ${many.partitions} vs ${few.partitions} partitions`,
      project: many.ensureMs!,
      peer: few.ensureMs!,
      peerName: vs,
      unit: 'ms',
      goal: 'ratio <= 1.1',
      maxRatio: 1.1,
    }),
    figure({
      name: `audit_partition_health(), ${many.partitions} vs ${few.partitions} partitions`,
      project: many.healthMs!,
      peer: few.healthMs!,
      peerName: vs,
      unit: 'ms',
      goal: 'ratio <= 1.1',
      maxRatio: 1.1,
    }),
    figure({
      name: `audit_partition_health_all() (every partition, daily), ${many.partitions} vs ${few.partitions} partitions`,
      project: many.healthAllMs!,
      peer: few.healthAllMs!,
      peerName: vs,
      unit: 'ms',
      goal: 'reported (linear in the partitions by design: the daily CronJob and verify)',
      met: true,
    }),
    figure({
      name: `one-day query planning, literal bounds, ${many.partitions} vs ${few.partitions} partitions`,
      project: many.literal!.planningMs,
      peer: few.literal!.planningMs,
      peerName: vs,
      unit: 'ms',
      goal: 'ratio <= 1.1',
      maxRatio: 1.1,
    }),
    figure({
      name: `one-day query planning at ${many.partitions} partitions, expression bounds vs literal`,
      project: many.expression!.planningMs,
      peer: many.literal!.planningMs,
      peerName: 'literal bounds',
      unit: 'ms',
      goal: 'reported (services use literal or parameter bounds)',
      met: true,
    }),
    figure({
      name: `partitions in the one-day plan before runtime pruning at ${many.partitions}, expression bounds vs literal`,
      project: many.expression!.partitionsInPlan,
      peer: many.literal!.partitionsInPlan,
      peerName: 'literal bounds',
      unit: 'partitions',
      goal: 'literal bounds: <= 2',
      met: many.literal!.partitionsInPlan <= 2,
    }),
  ];
  const lines = [
    `growth: ${few.partitions} and ${many.partitions} daily partitions (two databases, same server), as caracal_audit with zone context`,
    ...sized.map(
      (s) =>
        `  ${String(s.partitions).padStart(3)} partitions: ingest ${Math.round(s.rowsPerSecond!).toLocaleString('en')} rows/s; ensure() no-op ${s.ensureMs!.toFixed(1)} ms; health() ${s.healthMs!.toFixed(1)} ms; health_all() ${s.healthAllMs!.toFixed(1)} ms; ` +
        `one-day planning literal ${s.literal!.planningMs.toFixed(3)} ms (${s.literal!.partitionsInPlan} in plan, ${s.literal!.partitionsScanned} scanned), ` +
        `expression ${s.expression!.planningMs.toFixed(3)} ms (${s.expression!.partitionsInPlan} in plan, ${s.expression!.partitionsScanned} scanned)`,
    ),
  ];
  return {
    figures,
    lines,
    context: { sizes: sized.map(({ client: _c, ...rest }) => rest) },
  };
}
