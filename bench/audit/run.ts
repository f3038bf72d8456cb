// bench/audit: audit ingest into the partitioned, RLS-protected public.audit_events as the audit role,
// against a plain table of the same columns without RLS (same run, same batches, interleaved rounds),
// and how many partitions a one-day query over 30 days of events scans; then the costs at 365 partitions against 30
// (bench/audit/growth.ts).
// Run: `npm run bench audit` (starts its own Postgres), or DATABASE_URL=<superuser url> to use a server.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from 'pg';
import { applySchema } from '../../test/support/schema';
import { figure, writeFigures } from '../figures';
import { measureGrowth } from './growth';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const BATCHES_PER_ROUND = Number(process.env.BENCH_BATCHES ?? 20);
const BATCH_ROWS = Number(process.env.BENCH_BATCH_ROWS ?? 500);
const HISTORY_DAYS = 30;
const HISTORY_ROWS_PER_DAY = Number(process.env.BENCH_ROWS_PER_DAY ?? 3000);
const GOAL_RATIO = 0.85;
const GOAL_PARTITIONS = 2;

const COLUMNS = ['zone_id', 'event_id', 'occurred_at', 'source', 'event_type', 'actor', 'subject', 'decision', 'request_id', 'payload'];

interface Server {
  url: string;
  stop(): Promise<void>;
}

async function server(): Promise<Server> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => undefined };
  const modulePath = pathToFileURL(path.join(__dirname, '..', '..', 'test', 'support', 'pg-cluster.mjs')).href;
  const { startCluster } = await import(modulePath);
  const cluster = await startCluster({ major: Number(process.env.BENCH_PG_MAJOR ?? 18) });
  return { url: cluster.url, stop: () => cluster.destroy() };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function connect(url: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  await c.connect();
  return c;
}

/** One multi-row INSERT statement text for `table`, BATCH_ROWS rows of COLUMNS. */
function insertSql(table: string): string {
  const rows: string[] = [];
  for (let r = 0; r < BATCH_ROWS; r++) {
    rows.push(`(${COLUMNS.map((_, i) => `$${r * COLUMNS.length + i + 1}`).join(', ')})`);
  }
  return `INSERT INTO ${table} (${COLUMNS.join(', ')}) VALUES ${rows.join(', ')}`;
}

function batchParams(zoneId: string): unknown[] {
  const params: unknown[] = [];
  const now = new Date();
  for (let r = 0; r < BATCH_ROWS; r++) {
    params.push(
      zoneId,
      randomUUID(),
      now,
      'gateway',
      'request.authorized',
      `agent:${r % 50}`,
      `resource:${r % 200}`,
      r % 10 === 0 ? 'deny' : 'allow',
      randomUUID(),
      JSON.stringify({ method: 'GET', path: `/v1/items/${r}`, status: 200, latency_ms: r % 97, scopes: ['read', 'list'] }),
    );
  }
  return params;
}

interface Target {
  name: string;
  client: Client;
  statement: string;
  seconds: number;
  rows: number;
}

async function timedBatch(t: Target, params: unknown[]): Promise<number> {
  const start = process.hrtime.bigint();
  await t.client.query({ name: `ingest_${t.name}`, text: t.statement, values: params });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  t.seconds += seconds;
  t.rows += BATCH_ROWS;
  return seconds;
}

/** Distinct relations a plan reads, by walking EXPLAIN (FORMAT JSON). */
function scannedRelations(plan: unknown): string[] {
  const found = new Set<string>();
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (typeof n['Relation Name'] === 'string') found.add(n['Relation Name'] as string);
    for (const v of Object.values(n)) {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') walk(v);
    }
  };
  walk(plan);
  return [...found].sort();
}

async function main(): Promise<void> {
  const srv = await server();
  const database = `caracal_bench_audit_${process.pid}`;
  const admin = await connect(srv.url);
  try {
    await admin.query(`CREATE DATABASE ${database}`);
    const url = withDatabase(srv.url, database);
    await applySchema(url);
    const setup = await connect(url);
    const version = (await setup.query('SHOW server_version')).rows[0].server_version;
    // The peer: the same columns, defaults and indexes, no partitions, no RLS, no triggers.
    await setup.query(`CREATE SCHEMA bench`);
    await setup.query(
      `CREATE TABLE bench.plain_audit_events (LIKE public.audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`,
    );
    await setup.query(`GRANT USAGE ON SCHEMA bench TO caracal_audit`);
    await setup.query(`GRANT SELECT, INSERT ON bench.plain_audit_events TO caracal_audit`);
    const zoneId = randomUUID();

    // ---- ingest throughput, interleaved rounds --------------------------------------------------
    const targets: Target[] = [];
    for (const [name, table] of [
      ['partitioned_rls', 'public.audit_events'],
      ['plain', 'bench.plain_audit_events'],
    ] as const) {
      const c = await connect(url);
      await c.query(`SET ROLE caracal_audit`);
      await c.query(`SELECT set_config('caracal.zone_id', $1, false)`, [zoneId]);
      targets.push({ name, client: c, statement: insertSql(table), seconds: 0, rows: 0 });
    }
    // Warm-up: plan caches, first pages, partition routing.
    for (let i = 0; i < 3; i++) for (const t of targets) await timedBatch(t, batchParams(zoneId));
    for (const t of targets) {
      t.seconds = 0;
      t.rows = 0;
    }

    // Each batch goes to both tables back to back, the order alternating, so a noisy neighbour or
    // a checkpoint hits both equally; a round is BATCHES_PER_ROUND such pairs.
    const roundRatios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const secs: Record<string, number> = { partitioned_rls: 0, plain: 0 };
      for (let b = 0; b < BATCHES_PER_ROUND; b++) {
        const params = batchParams(zoneId);
        const order = (round * BATCHES_PER_ROUND + b) % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) secs[t.name] += await timedBatch(t, params);
      }
      roundRatios.push(secs.plain / secs.partitioned_rls);
    }
    const rate = (t: Target) => t.rows / t.seconds;
    const [partitioned, plain] = targets;
    const ratio = rate(partitioned) / rate(plain);
    const sortedRatios = [...roundRatios].sort((x, y) => x - y);
    const medianRatio = sortedRatios[Math.floor(sortedRatios.length / 2)];
    for (const t of targets) await t.client.end();

    // ---- one-day query over 30 days of events -----------------------------------------------------
    await setup.query(`SELECT public.audit_partitions_ensure($1, 1)`, [HISTORY_DAYS]);
    await setup.query(
      `INSERT INTO public.audit_events (zone_id, event_id, ingested_at, occurred_at, source, event_type, actor, payload)
       SELECT $1, gen_random_uuid(), t, t - interval '5 minutes', 'sts', 'token.issued', 'agent:' || (g % 50), '{"k": 1}'
       FROM generate_series(1, $2::int * $3::int) AS g,
            LATERAL (SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                            - ($3::int - 1 - (g % $3::int)) * interval '1 day' + (g % 86000) * interval '1 second' AS t) x`,
      [zoneId, HISTORY_ROWS_PER_DAY, HISTORY_DAYS],
    );
    await setup.query(`ANALYZE public.audit_events`);
    const partitionCount = (await setup.query(`SELECT count(*)::int AS n FROM public.audit_partition_bounds()`)).rows[0].n;
    const day = (await setup.query(`SELECT to_char((now() AT TIME ZONE 'UTC')::date - 10, 'YYYY-MM-DD') AS d`)).rows[0].d;
    const queries = {
      'one ingest day': `SELECT count(*) FROM public.audit_events
        WHERE ingested_at >= '${day} 00:00:00+00' AND ingested_at < timestamptz '${day} 00:00:00+00' + interval '1 day'`,
      'one event day, 1-day replay horizon': `SELECT count(*) FROM public.audit_events
        WHERE occurred_at >= '${day} 00:00:00+00' AND occurred_at < timestamptz '${day} 00:00:00+00' + interval '1 day'
          AND ingested_at >= '${day} 00:00:00+00' AND ingested_at < timestamptz '${day} 00:00:00+00' + interval '2 days'`,
      'one event day, no ingest bound': `SELECT count(*) FROM public.audit_events
        WHERE occurred_at >= '${day} 00:00:00+00' AND occurred_at < timestamptz '${day} 00:00:00+00' + interval '1 day'`,
    };
    const explained: Record<string, { partitions: string[]; count: number }> = {};
    await setup.query(`SET ROLE caracal_audit`);
    await setup.query(`SELECT set_config('caracal.zone_id', $1, false)`, [zoneId]);
    for (const [label, sql] of Object.entries(queries)) {
      const plan = (await setup.query(`EXPLAIN (FORMAT JSON) ${sql}`)).rows[0]['QUERY PLAN'];
      const count = Number((await setup.query(sql)).rows[0].count);
      explained[label] = { partitions: scannedRelations(plan).filter((r) => r.startsWith('audit_events')), count };
    }
    await setup.end();

    // ---- report ------------------------------------------------------------------------------------
    const dayScan = explained['one ingest day'].partitions.length;
    const lines = [
      `server: PostgreSQL ${version}`,
      `ingest: ${ROUNDS} rounds x ${BATCHES_PER_ROUND} batches x ${BATCH_ROWS} rows, each batch into both tables in alternating order (multi-row INSERT, prepared), as caracal_audit with zone context`,
      `  partitioned + RLS (public.audit_events): ${Math.round(rate(partitioned)).toLocaleString('en')} rows/s`,
      `  plain table, no RLS (bench.plain_audit_events): ${Math.round(rate(plain)).toLocaleString('en')} rows/s`,
      `  ratio partitioned/plain: ${ratio.toFixed(3)}x overall, ${medianRatio.toFixed(3)}x median of rounds (goal >= ${GOAL_RATIO}x) -> ${ratio >= GOAL_RATIO ? 'MET' : 'NOT MET'}`,
      `  per-round ratios: ${roundRatios.map((r) => r.toFixed(2)).join(' ')}`,
      `query: ${HISTORY_DAYS} days x ${HISTORY_ROWS_PER_DAY} events in ${partitionCount} partitions (incl. default), as caracal_audit with zone context`,
      ...Object.entries(explained).map(
        ([label, e]) =>
          `  ${label}: ${e.partitions.length} partition(s) scanned${e.partitions.length <= 4 ? ` [${e.partitions.join(', ')}]` : ''}, ${e.count} rows`,
      ),
      `  one-day query partitions: ${dayScan} (goal <= ${GOAL_PARTITIONS}) -> ${dayScan <= GOAL_PARTITIONS ? 'MET' : 'NOT MET'}`,
    ];
    console.log(lines.join('\n'));
    const growth = await measureGrowth(srv.url, withDatabase);
    console.log(growth.lines.join('\n'));
    writeFigures(
      'audit',
      [
        figure({
          name: 'audit ingest, partitioned + RLS vs plain table',
          project: rate(partitioned),
          peer: rate(plain),
          peerName: 'plain table, no RLS',
          unit: 'rows/s',
          goal: `ratio >= ${GOAL_RATIO}`,
          met: ratio >= GOAL_RATIO,
        }),
        figure({
          name: `partitions a one-day query scans (${partitionCount} partitions)`,
          project: dayScan,
          unit: 'partitions',
          goal: `<= ${GOAL_PARTITIONS}`,
          maxValue: GOAL_PARTITIONS,
        }),
        ...growth.figures,
      ],
      { server: version, growth: growth.context },
    );
    const out = path.join(__dirname, '..', 'out');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      path.join(out, 'audit.json'),
      JSON.stringify(
        {
          server: version,
          ingest: {
            rounds: ROUNDS,
            batchesPerRound: BATCHES_PER_ROUND,
            batchRows: BATCH_ROWS,
            partitionedRowsPerSecond: rate(partitioned),
            plainRowsPerSecond: rate(plain),
            ratio,
            medianRatio,
            roundRatios,
            goal: GOAL_RATIO,
          },
          query: { days: HISTORY_DAYS, rowsPerDay: HISTORY_ROWS_PER_DAY, partitions: partitionCount, explained, goal: GOAL_PARTITIONS },
        },
        null,
        2,
      ),
    );
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await srv.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
