// The scenarios of bench/upgrade: the representative expand set applied under load (with a runner setting), one
// refused class applied under load, and repeated two-table applies counting who loses the deadlocks.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { ExpandOnlyInput } from '../../src/validate/expand-only';
import { MIGRATIONS_DIR, migrationDir, newestProjectVersion, runScenario, ScenarioResult, UpgradeEnvironment, urlFor } from './harness';
import { DEFAULT_RATES, OldVersionLoad, Service, SERVICES, TxRecord } from './load';
import { UNSAFE_EXAMPLES, UnsafeExample } from './unsafe';

const EXPAND_DIR = path.join(__dirname, 'expand');
/** The several-tables-locked example's file: the deadlock trials apply exactly it. */
const SEVERAL_TABLES_SQL = UNSAFE_EXAMPLES.find((e) => e.rule === 'several-tables-locked')!.files[0][1];

/** What the runner did before issue 17 (its flags reproduce it, jitter aside). */
export const OLD_SETTINGS: ExpandRun = {
  label: 'old defaults (lock_timeout 5s, 5 retries, backoff 1s, server deadlock_timeout)',
  flags: ['--lock-timeout', '5s', '--lock-retries', '5', '--lock-retry-backoff', '1s', '--deadlock-timeout', '0'],
};
export const NEW_DEFAULTS: ExpandRun = { label: 'defaults', flags: [] };

/** The project's migrations and the bench's files, as validate reads a set (the baseline tells it which tables exist). */
export function withProjectFiles(files: Readonly<Record<string, string>>): ExpandOnlyInput[] {
  const project = readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.up.sql'))
    .map((f) => [f, readFileSync(path.join(MIGRATIONS_DIR, f), 'utf8')] as const);
  return [...project, ...Object.entries(files)].map(([filename, sql]) => ({ filename, version: BigInt(/^\d+/.exec(filename)![0]), sql }));
}

export function scaledRates(scale: number): Record<Service, number> {
  return Object.fromEntries(SERVICES.map((s) => [s, DEFAULT_RATES[s] * scale])) as Record<Service, number>;
}

/** Bench files are numbered after the project's newest migration, in the given order. */
export function numbered(files: ReadonlyArray<readonly [string, string]>, first = newestProjectVersion() + 1): Record<string, string> {
  const out: Record<string, string> = {};
  files.forEach(([name, sql], i) => (out[`${String(first + i).padStart(4, '0')}_${name}.up.sql`] = sql));
  return out;
}

async function query<T extends Record<string, unknown>>(env: UpgradeEnvironment, database: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: urlFor(env.server, database) });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

/**
 * The representative expand set of the issue, in order. The per-partition index file is written for the partitions
 * the database has (Postgres cannot build an index CONCURRENTLY on a partitioned table): ON ONLY parent, then
 * CREATE INDEX CONCURRENTLY on each partition and ATTACH, as docs/verify.md says.
 */
export async function expandSet(env: UpgradeEnvironment, database: string): Promise<Array<[string, string]>> {
  const fixed = readdirSync(EXPAND_DIR)
    .filter((f) => f.endsWith('.up.sql'))
    .sort()
    .map((f): [string, string] => [f.replace(/^\d+_/, '').replace(/\.up\.sql$/, ''), readFileSync(path.join(EXPAND_DIR, f), 'utf8')]);
  const parts = await query<{ relname: string }>(
    env,
    database,
    `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'public.audit_events'::regclass ORDER BY 1`,
  );
  const perPartition = [
    '-- caracal:no-transaction',
    '-- Each partition of audit_events gets the index concurrently, then it is attached to the ON ONLY parent index,',
    '-- which becomes valid with the last one. Rerun-safe: IF NOT EXISTS, and ATTACH of an attached index does nothing.',
    ...parts.flatMap(({ relname }) => [
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${relname}_actor_idx ON public.${relname} (zone_id, actor);`,
      `ALTER INDEX public.audit_events_actor_idx ATTACH PARTITION public.${relname}_actor_idx;`,
    ]),
    '',
  ].join('\n');
  const at = fixed.findIndex(([name]) => name === 'audit_events_actor_idx') + 1;
  return [...fixed.slice(0, at), ['audit_events_actor_idx_partitions', perPartition], ...fixed.slice(at)];
}

export interface ExpandRun {
  readonly label: string;
  readonly flags: readonly string[];
}

export interface ScenarioSizes {
  /** Scales every service's arrival rate (1: about 380 transactions per second in all). */
  readonly rateScale: number;
  /** Pods per service (default: the replicas of the deployment, 3 each). */
  readonly pods?: number;
  readonly warmupMs: number;
  readonly beforeMs: number;
  readonly afterMs: number;
  /** The old version's long transaction on sessions: how long it stays open. */
  readonly longTransactionSeconds: number;
}

/** The expand set under load on a fresh copy, with the runner flags of `run` (none: the defaults). */
export async function runExpand(
  env: UpgradeEnvironment,
  template: string,
  run: ExpandRun,
  sizes: ScenarioSizes,
  log: (m: string) => void,
): Promise<ScenarioResult> {
  const database = `${template}_expand`;
  await env.copy(template, database);
  try {
    const files = numbered(await expandSet(env, database));
    return await runScenario(env, {
      name: `expand set, ${run.label}`,
      database,
      files,
      runnerFlags: run.flags,
      rates: scaledRates(sizes.rateScale),
      pods: sizes.pods,
      warmupMs: sizes.warmupMs,
      beforeMs: sizes.beforeMs,
      afterMs: sizes.afterMs,
      longTransaction: { service: 'api', table: 'public.sessions', seconds: sizes.longTransactionSeconds, leadMs: 1000 },
      log,
    });
  } finally {
    await env.drop(database);
  }
}

/** Placeholders an example's SQL may use, filled for the database at hand. */
async function fill(env: UpgradeEnvironment, database: string, sql: string): Promise<string> {
  let out = sql.replace(/__LOAD_DATABASE__/g, database);
  if (out.includes('__YESTERDAY__')) {
    const [row] = await query<{ relname: string }>(
      env,
      database,
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'public.audit_events'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
          AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz
              = (date_trunc('day', now() AT TIME ZONE 'UTC') - interval '1 day') AT TIME ZONE 'UTC'`,
    );
    if (!row) throw new Error("no audit partition for yesterday: the template's partitions are missing");
    out = out.replace(/__YESTERDAY__/g, row.relname);
  }
  return out;
}

/** One refused class applied under load on a fresh copy, with the runner's defaults. */
export async function runUnsafe(
  env: UpgradeEnvironment,
  template: string,
  example: UnsafeExample,
  sizes: ScenarioSizes,
  log: (m: string) => void,
): Promise<ScenarioResult> {
  const database = `${template}_unsafe`;
  const sibling = `${template}_sibling`;
  await env.copy(template, database);
  if (example.fromSiblingDatabase) await env.copy(template, sibling);
  try {
    const prelude: Array<[string, string]> = [];
    for (const [n, sql] of example.prelude ?? []) prelude.push([n, await fill(env, database, sql)]);
    const files: Array<[string, string]> = [];
    for (const [n, sql] of example.files) files.push([n, await fill(env, database, sql)]);
    if (prelude.length) {
      const dir = migrationDir(numbered(prelude));
      try {
        const r = await env.runRunner(['up', '--quiet', '--dir', dir.dir], database);
        if (r.exitCode !== 0) throw new Error(`${example.rule}: the prelude did not apply:\n${r.events.map((e) => e.line).join('\n')}`);
      } finally {
        dir.remove();
      }
    }
    return await runScenario(env, {
      name: `${example.rule}: ${example.what}`,
      database,
      runnerDatabase: example.fromSiblingDatabase ? sibling : undefined,
      runnerAsSuperuser: example.asSuperuser,
      files: numbered([...prelude, ...files]),
      rates: scaledRates(sizes.rateScale),
      pods: sizes.pods,
      warmupMs: sizes.warmupMs,
      beforeMs: sizes.beforeMs,
      afterMs: sizes.afterMs,
      longTransaction: example.longTransaction,
      log,
    });
  } finally {
    await env.drop(database);
    if (example.fromSiblingDatabase) await env.drop(sibling);
  }
}

/**
 * Whether the harm the example should cause was seen. A run whose load already failed before the migration started
 * (pool timeouts on an overloaded machine) proves nothing either way: `undefined`, reported as inconclusive.
 */
export function harmObserved(example: UnsafeExample, r: ScenarioResult): boolean | undefined {
  if (r.before.failed > 0 && example.harm !== 'job fails') return undefined;
  const failed = Object.values(r.failures).reduce((a, n) => a + n, 0);
  if (example.harm === 'job fails') return r.exitCode !== 0;
  if (example.harm === 'load fails') return failed > 0;
  return r.stalledMs >= 500 || r.addedP99Ms >= 500 || failed > 0;
}

export interface DeadlockTrials {
  readonly label: string;
  readonly attempts: number;
  /** Old-version transactions Postgres cancelled as the deadlock victim (40P01). */
  readonly applicationDeadlocks: number;
  /** Times the runner was the victim (and retried). */
  readonly runnerDeadlocks: number;
  readonly failedTransactions: number;
  readonly failures: Readonly<Record<string, number>>;
}

/**
 * The two-table file (several-tables-locked) applied `attempts` times under one running load, the columns dropped
 * and the history row removed between applies: how often does Postgres cancel the application's transaction rather
 * than the runner's, with the given runner flags?
 */
export async function runDeadlockTrials(
  env: UpgradeEnvironment,
  template: string,
  label: string,
  flags: readonly string[],
  attempts: number,
  rateScale: number,
  log: (m: string) => void,
): Promise<DeadlockTrials> {
  const database = `${template}_deadlock`;
  await env.copy(template, database);
  const version = newestProjectVersion() + 1;
  const file = {
    [`${String(version).padStart(4, '0')}_zones_and_sessions.up.sql`]: `${SEVERAL_TABLES_SQL}\n`,
  };
  const load = OldVersionLoad.start({
    host: env.server.host,
    port: env.server.port,
    database,
    services: env.serviceConnections(),
    fixtures: await env.fixtures(database),
    rates: scaledRates(rateScale),
  });
  const dir = migrationDir(file);
  let runnerDeadlocks = 0;
  const admin = new Client({ connectionString: urlFor(env.server, database) });
  await admin.connect();
  try {
    await new Promise((r) => setTimeout(r, 2000));
    for (let i = 0; i < attempts; i++) {
      const r = await env.runRunner(['up', '--dir', dir.dir, ...flags], database);
      runnerDeadlocks += r.events.filter((e) => /40P01/.test(e.line)).length;
      if (r.exitCode !== 0) log(`  attempt ${i + 1}: runner exit ${r.exitCode}`);
      await admin.query(`ALTER TABLE public.zones DROP COLUMN IF EXISTS tier`);
      await admin.query(`ALTER TABLE public.sessions DROP COLUMN IF EXISTS device`);
      await admin.query(`DELETE FROM public.schema_migrations WHERE version = $1`, [version]);
      await new Promise((res) => setTimeout(res, 300));
    }
  } finally {
    await load.stop();
    await admin.end();
    dir.remove();
    await env.drop(database);
  }
  const failures: Record<string, number> = {};
  const failed = load.records.filter((r: TxRecord) => r.error);
  for (const r of failed) failures[`${r.service}: ${r.error}`] = (failures[`${r.service}: ${r.error}`] ?? 0) + 1;
  return {
    label,
    attempts,
    applicationDeadlocks: failed.filter((r) => r.error === '40P01').length,
    runnerDeadlocks,
    failedTransactions: failed.length,
    failures,
  };
}
