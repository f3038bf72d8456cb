// bench/upgrade's machinery: a real Postgres, a template database migrated by the real `caracal-migrate up
// --provision` (the Job's command) and filled with realistic data, a fresh copy per scenario, the old version's load
// on it, the runner applying files while the load runs, a sampler of who waits on the runner, and the figures.
// Used by bench/upgrade/run.ts (full size) and test/integration/bench/upgrade.test.ts (short size).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { dataStatements, DataScale } from './data';
import { Deployment, OWNER_LOGIN, synthesizeDeployment } from './deployment';
import { LoadFixtures, OldVersionLoad, Service, ServiceConnection, TxRecord } from './load';

export const ROOT = path.resolve(__dirname, '..', '..');
export const MIGRATIONS_DIR = path.join(ROOT, 'migrations');

export interface Server {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly major: number;
}

const median = (xs: number[]) => percentile(xs, 50);

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function urlFor(server: Server, database: string, user = 'postgres', password?: string): string {
  const u = new URL(server.url);
  u.pathname = `/${database}`;
  if (user !== 'postgres') {
    u.username = user;
    u.password = password ?? '';
  }
  return u.toString();
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A migrations directory: the project's files plus `extra` (name -> SQL), in a temporary directory. */
export function migrationDir(extra: Readonly<Record<string, string>> = {}): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'caracal-upgrade-dir-'));
  for (const f of readdirSync(MIGRATIONS_DIR).filter((n) => n.endsWith('.up.sql')))
    copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
  for (const [name, sql] of Object.entries(extra)) writeFileSync(path.join(dir, name), sql);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The newest version among the project's migrations: bench files are numbered after it. */
export function newestProjectVersion(): number {
  return Math.max(...readdirSync(MIGRATIONS_DIR).map((n) => Number(/^(\d+)_/.exec(n)?.[1] ?? 0)));
}

export interface RunnerEvent {
  readonly at: number;
  readonly line: string;
}

export interface RunnerRun {
  readonly exitCode: number;
  readonly started: number;
  readonly ended: number;
  readonly events: readonly RunnerEvent[];
  readonly stdout: string;
}

/**
 * The environment a bench run works in: the server, the deployment read from the synthesized library, the owner
 * (migrator) login and the service logins with their password files, the runner bundle.
 */
export class UpgradeEnvironment {
  readonly workDir = mkdtempSync(path.join(tmpdir(), 'caracal-upgrade-'));
  readonly ownerPassword = randomBytes(12).toString('hex');
  readonly passwords = new Map<string, string>();
  readonly provisionFile: string;
  readonly ownerPasswordFile: string;

  constructor(
    readonly server: Server,
    readonly deployment: Deployment,
    readonly bundle: string,
  ) {
    // The Job's provision.json, its password paths moved to files here (the Secrets the Job mounts).
    const logins = deployment.provision.logins.map((l) => {
      const password = randomBytes(12).toString('hex');
      this.passwords.set(l.loginRole, password);
      const file = path.join(this.workDir, 'secrets', l.loginRole);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `${password}\n`, { mode: 0o600 });
      return { ...l, passwordFile: file };
    });
    this.provisionFile = path.join(this.workDir, 'provision.json');
    writeFileSync(this.provisionFile, JSON.stringify({ version: 1, logins }));
    this.ownerPasswordFile = path.join(this.workDir, 'secrets', 'owner');
    writeFileSync(this.ownerPasswordFile, `${this.ownerPassword}\n`, { mode: 0o600 });
  }

  static async create(server: Server, bundle: string, database: string): Promise<UpgradeEnvironment> {
    const deployment = synthesizeDeployment({ database, port: server.port, runnerBundle: bundle });
    const env = new UpgradeEnvironment(server, deployment, bundle);
    await withClient(server.url, async (c) => {
      await c.query(`DROP ROLE IF EXISTS ${OWNER_LOGIN}`).catch(() => undefined);
      await c.query(`CREATE ROLE ${OWNER_LOGIN} LOGIN CREATEROLE PASSWORD '${env.ownerPassword}'`).catch(async () => {
        await c.query(`ALTER ROLE ${OWNER_LOGIN} LOGIN CREATEROLE PASSWORD '${env.ownerPassword}'`);
      });
      // The one-time grant docs/runner.md asks of a superuser, so the runner may lower deadlock_timeout for its
      // own session and lose deadlocks instead of the application (Postgres 15+).
      if (server.major >= 15) await c.query(`GRANT SET ON PARAMETER deadlock_timeout TO ${OWNER_LOGIN}`);
    });
    return env;
  }

  /** The services as their ConfigMaps describe them; `pods` overrides the replica count (the short harness runs one each). */
  serviceConnections(pods?: number): ServiceConnection[] {
    return this.deployment.services.map((s) => ({ ...s, ...(pods ? { pods } : {}), password: this.passwords.get(s.user) ?? '' }));
  }

  /** Runs the runner bundle as the Job does (owner login, PG* env, password file), collecting its progress lines with times. */
  runRunner(args: readonly string[], database: string, onEvent?: (e: RunnerEvent) => void, asSuperuser = false): Promise<RunnerRun> {
    const started = Date.now();
    const superuser = new URL(this.server.url);
    const child = spawn(process.execPath, [this.bundle, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: this.workDir,
        PGHOST: this.server.host,
        PGPORT: String(this.server.port),
        PGUSER: asSuperuser ? decodeURIComponent(superuser.username) : OWNER_LOGIN,
        PGDATABASE: database,
        ...(asSuperuser ? { PGPASSWORD: decodeURIComponent(superuser.password) } : { PGPASSWORD_FILE: this.ownerPasswordFile }),
        PGSSLMODE: 'disable',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const events: RunnerEvent[] = [];
    let stdout = '';
    let pending = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => {
      pending += String(d);
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const e = { at: Date.now(), line: pending.slice(0, nl) };
        pending = pending.slice(nl + 1);
        events.push(e);
        onEvent?.(e);
      }
    });
    return new Promise((resolve) => {
      child.on('close', (code) => {
        if (pending) events.push({ at: Date.now(), line: pending });
        resolve({ exitCode: code ?? 128, started, ended: Date.now(), events, stdout });
      });
    });
  }

  /**
   * The template: the project's migrations applied by the Job's own command as the owner login, then the data.
   * Copies of it (CREATE DATABASE ... TEMPLATE) start every scenario from the same state.
   */
  async buildTemplate(name: string, scale: DataScale, log: (m: string) => void): Promise<void> {
    await withClient(this.server.url, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${name} OWNER ${OWNER_LOGIN}`);
    });
    const dir = migrationDir();
    try {
      const r = await this.runRunner(['up', '--quiet', '--dir', dir.dir, '--provision', this.provisionFile], name);
      if (r.exitCode !== 0) throw new Error(`the baseline did not apply (exit ${r.exitCode}):\n${r.events.map((e) => e.line).join('\n')}`);
    } finally {
      dir.remove();
    }
    const t0 = Date.now();
    await withClient(urlFor(this.server, name), async (c) => {
      await c.query(`SELECT public.audit_partitions_ensure($1, 7)`, [scale.auditDays + 1]);
      for (const sql of dataStatements(scale)) await c.query(sql);
      await c.query('VACUUM ANALYZE');
    });
    log(`template ${name}: data loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  /** A fresh copy of the template, with the Job's provisioning (CONNECT and per-role settings are per database). */
  async copy(template: string, name: string): Promise<number> {
    const t0 = Date.now();
    await withClient(this.server.url, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${name} OWNER ${OWNER_LOGIN} TEMPLATE ${template} STRATEGY FILE_COPY`);
    });
    const dir = migrationDir();
    try {
      const r = await this.runRunner(['up', '--quiet', '--dir', dir.dir, '--provision', this.provisionFile], name);
      if (r.exitCode !== 0) throw new Error(`provisioning ${name} failed:\n${r.events.map((e) => e.line).join('\n')}`);
    } finally {
      dir.remove();
    }
    return Date.now() - t0;
  }

  async drop(name: string): Promise<void> {
    await withClient(this.server.url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined);
  }

  async fixtures(database: string): Promise<LoadFixtures> {
    return withClient(urlFor(this.server, database), async (c) => {
      const zones = (await c.query<{ id: string }>(`SELECT id FROM public.zones ORDER BY slug`)).rows;
      const ids = async (sql: string, zone: string) => (await c.query<{ id: string }>(sql, [zone])).rows.map((r) => r.id);
      const out: LoadFixtures['zones'][number][] = [];
      for (const { id } of zones) {
        out.push({
          id,
          applications: await ids(`SELECT id FROM public.applications WHERE zone_id = $1 LIMIT 200`, id),
          resources: await ids(`SELECT id FROM public.resources WHERE zone_id = $1 LIMIT 200`, id),
          sessions: (
            await c.query<{ id: string; token_hash: Buffer }>(`SELECT id, token_hash FROM public.sessions WHERE zone_id = $1 LIMIT 500`, [
              id,
            ])
          ).rows.map((r) => ({ id: r.id, tokenHash: r.token_hash })),
          grants: await ids(`SELECT id FROM public.delegated_grants WHERE zone_id = $1 LIMIT 500`, id),
          policies: await ids(`SELECT id FROM public.policies WHERE zone_id = $1`, id),
          agents: await ids(`SELECT id FROM public.agent_sessions WHERE zone_id = $1 LIMIT 500`, id),
          agentServices: await ids(`SELECT id FROM public.agent_services WHERE zone_id = $1 LIMIT 500`, id),
          providers: await ids(`SELECT id FROM public.providers WHERE zone_id = $1`, id),
        });
      }
      return { zones: out };
    });
  }

  destroy(): void {
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** Samples, every `intervalMs`, how many service backends wait on a lock that the runner's session holds or queues for. */
export class StallSampler {
  readonly samples: Array<{ at: number; blocked: number }> = [];
  private timer?: NodeJS.Timeout;
  private client?: Client;
  private busy = false;

  constructor(
    private readonly url: string,
    private readonly database: string,
    readonly intervalMs = 25,
  ) {}

  async start(): Promise<void> {
    this.client = new Client({ connectionString: this.url, application_name: 'bench-sampler' });
    this.client.on('error', () => undefined);
    await this.client.connect();
    await this.client.query(`SET statement_timeout = '1s'`);
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  private async sample(): Promise<void> {
    if (this.busy || !this.client) return;
    this.busy = true;
    const at = Date.now();
    try {
      const r = await this.client.query<{ blocked: number }>(
        `SELECT count(*)::int AS blocked FROM pg_stat_activity a
          WHERE a.datname = $1 AND a.wait_event_type = 'Lock' AND a.application_name LIKE 'caracal-%' AND a.application_name <> 'caracal-migrate'
            AND EXISTS (SELECT 1 FROM pg_stat_activity r WHERE r.pid = ANY (pg_blocking_pids(a.pid)) AND r.application_name = 'caracal-migrate')`,
        [this.database],
      );
      this.samples.push({ at, blocked: r.rows[0].blocked });
    } catch {
      // the database went away (a DROP DATABASE demonstration): nothing to sample
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
    await this.client?.end().catch(() => undefined);
  }

  /** Milliseconds within [from, to] during which at least one service backend waited on the runner. */
  stalledMs(from: number, to: number): number {
    let total = 0;
    for (let i = 0; i < this.samples.length; i++) {
      const s = this.samples[i];
      if (s.at < from || s.at > to || s.blocked === 0) continue;
      const next = this.samples[i + 1]?.at ?? s.at + this.intervalMs;
      total += Math.min(next - s.at, this.intervalMs * 4);
    }
    return total;
  }
}

export interface PhaseStats {
  readonly transactions: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface FileFigures {
  readonly file: string;
  readonly wallMs: number;
  readonly stalledMs: number;
  readonly retries: number;
}

export interface ScenarioResult {
  readonly name: string;
  readonly runnerArgs: readonly string[];
  readonly exitCode: number;
  readonly migrationWallMs: number;
  readonly before: PhaseStats;
  readonly during: PhaseStats;
  readonly after: PhaseStats;
  /** p99 during minus p99 before. */
  readonly addedP99Ms: number;
  readonly stalledMs: number;
  readonly files: readonly FileFigures[];
  /** Failed transactions of the old version by error (SQLSTATE, pool-timeout, expectation) and service. */
  readonly failures: Readonly<Record<string, number>>;
  readonly retries: number;
  readonly deadlocksLostByRunner: number;
  readonly longTransaction?: TxRecord;
  readonly runnerLog: readonly string[];
}

function phase(records: readonly TxRecord[]): PhaseStats {
  const lat = records.map((r) => r.latencyMs);
  return {
    transactions: records.length,
    failed: records.filter((r) => r.error).length,
    p50Ms: median(lat),
    p99Ms: percentile(lat, 99),
    maxMs: lat.length ? Math.max(...lat) : NaN,
  };
}

export interface ScenarioOptions {
  readonly name: string;
  readonly database: string;
  /** Files added to the project's migrations for this run (name -> SQL). */
  readonly files: Readonly<Record<string, string>>;
  /** Runner flags beyond `up --dir`. */
  readonly runnerFlags?: readonly string[];
  /** The database the runner migrates, when not the one under load (the DROP DATABASE demonstration). */
  readonly runnerDatabase?: string;
  /** The runner logs in as the superuser (an in-cluster instance's Job) instead of the owner login. */
  readonly runnerAsSuperuser?: boolean;
  /** Load before the measured "before" window (pools fill, plans get cached); not counted. */
  readonly warmupMs?: number;
  readonly beforeMs: number;
  readonly afterMs: number;
  /** The old version's long transaction: on which table, for how long, and how long before the runner starts. */
  readonly longTransaction?: { readonly service: Service; readonly table: string; readonly seconds: number; readonly leadMs: number };
  readonly rates?: Partial<Record<Service, number>>;
  /** Pods per service instead of the replicas of the ConfigMaps' deployment. */
  readonly pods?: number;
  readonly selectStar?: boolean;
  readonly log?: (m: string) => void;
}

/** One scenario: load before, the runner applying `files` while the load runs (and the long transaction), load after. */
export async function runScenario(env: UpgradeEnvironment, o: ScenarioOptions): Promise<ScenarioResult> {
  const fixtures = await env.fixtures(o.database);
  const load = OldVersionLoad.start({
    host: env.server.host,
    port: env.server.port,
    database: o.database,
    services: env.serviceConnections(o.pods),
    fixtures,
    rates: o.rates,
    selectStar: o.selectStar,
  });
  const sampler = new StallSampler(env.server.url, o.database);
  await sampler.start();
  const dir = migrationDir(o.files);
  let run: RunnerRun;
  let long: Promise<TxRecord> | undefined;
  try {
    await new Promise((r) => setTimeout(r, (o.warmupMs ?? 3000) + o.beforeMs));
    if (o.longTransaction) {
      const lt = o.longTransaction;
      long = load.longTransaction(lt.service, lt.table, lt.seconds);
      await new Promise((r) => setTimeout(r, lt.leadMs));
    }
    const args = ['up', '--dir', dir.dir, ...(o.runnerFlags ?? [])];
    run = await env.runRunner(args, o.runnerDatabase ?? o.database, (e) => o.log?.(`  runner: ${e.line}`), o.runnerAsSuperuser);
    await long;
    await new Promise((r) => setTimeout(r, o.afterMs));
  } finally {
    await load.stop();
    await sampler.stop();
    dir.remove();
  }
  const regular = load.records.filter((r) => !r.kind.startsWith('long-transaction'));
  const start = run.started;
  const end = run.ended;
  const before = regular.filter((r) => r.arrived < start && r.arrived >= start - o.beforeMs);
  const during = regular.filter((r) => r.arrived >= start && r.arrived <= end);
  const after = regular.filter((r) => r.arrived > end);
  const failures: Record<string, number> = {};
  for (const r of load.records) if (r.error) failures[`${r.service}: ${r.error}`] = (failures[`${r.service}: ${r.error}`] ?? 0) + 1;

  // Per file: from its "applying" line to the next file's (or the end), its stall and retries.
  const applying = run.events
    .map((e) => ({ at: e.at, m: /applying (\S+\.up\.sql)/.exec(e.line) }))
    .filter((x): x is { at: number; m: RegExpExecArray } => x.m !== null);
  const files = applying.map((a, i) => {
    const to = applying[i + 1]?.at ?? end;
    const retries = run.events.filter((e) => e.at >= a.at && e.at <= to && /retry \d+\//.test(e.line)).length;
    return { file: a.m[1], wallMs: to - a.at, stalledMs: sampler.stalledMs(a.at, to), retries };
  });
  const b = phase(before);
  const d = phase(during);
  return {
    name: o.name,
    runnerArgs: o.runnerFlags ?? [],
    exitCode: run.exitCode,
    migrationWallMs: end - start,
    before: b,
    during: d,
    after: phase(after),
    addedP99Ms: d.p99Ms - b.p99Ms,
    stalledMs: sampler.stalledMs(start, end),
    files,
    failures,
    retries: run.events.filter((e) => /retry \d+\//.test(e.line)).length,
    deadlocksLostByRunner: run.events.filter((e) => /40P01/.test(e.line)).length,
    longTransaction: long ? await long : undefined,
    runnerLog: run.events.map((e) => e.line),
  };
}
