// Issue 18 item 1 end to end on a real Postgres: every service alternates its login (slot a → slot b) in the three
// applies of docs/operations.md#postgres-logins while a pool per service keeps querying and re-opening connections,
// once with generated credentials and once with existing Secrets a secret manager writes.
// Each apply is a `cdktf synth`; a small stand-in for Terraform gives each random_password a value that changes
// with its keepers and resolves the Secrets' data (or a stand-in secret manager holds the existing Secrets); the
// synthesized Job runs through the kubelet harness whenever its content hash changes (as Helm reruns the hook); the
// services' "Secret switch" is the kubelet's atomic swap of the files their pools read.
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { Client, ClientConfig, Pool } from 'pg';
import {
  AlternatingRotation,
  GROUP_ROLES,
  DatabaseCredentials,
  LOGINS,
  DatabaseSecrets,
  PostgresInstance,
  SERVICES,
  ServiceName,
  ServicePools,
} from '../../../constructs';
import { MigrationJob } from '../../../constructs/migration-job';
import { scramSha256Verifier } from '../../../src/provision/scram';
import { renderChart, runJobPod, PodRun } from '../../support/kubelet';
import { OwnCluster, urlForDatabase, withClient } from '../../support/postgres';
import { until } from '../../support/until';
import { connectAs } from '../provision/support';
import { buildRunnerBundle, startJobServer } from './job-server';

const REPO = path.resolve(__dirname, '..', '..', '..');
const HOST = 'postgres.caracal.svc.cluster.local';
const ENV = 'rot';
const DATABASE = 'caracal_rot';
const GRACE = '3s';

let cluster: OwnCluster;
let bundle: string;
let caPem: string;
const tempDirs: string[] = [];
const temp = (prefix: string) => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
};

beforeAll(async () => {
  bundle = buildRunnerBundle(temp('caracal-rotation-bundle-'));
  ({ cluster, caPem } = await startJobServer(HOST, ['-c', 'log_connections=on']));
}, 180_000);

afterAll(async () => {
  await cluster?.destroy();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

type Rotation = Partial<Record<ServiceName, string | AlternatingRotation>>;

/** Where the passwords come from: Terraform (generated credentials) or a secret manager (existing Secrets). */
interface CredentialSource {
  credentials(rotation: Rotation): DatabaseCredentials;
  /** Each Secret's data by Secret name after an apply of the synthesized stack. */
  secrets(json: Record<string, any>): Record<string, Record<string, string>>;
  /** Every password value it ever had (none may appear in an output). */
  readonly everyValue: string[];
}

/** Terraform's part: a random_password keeps its value until its keepers change; Secrets' data resolved. */
class TerraformState implements CredentialSource {
  private readonly passwords = new Map<string, { keepers: string; value: string }>();
  readonly everyValue: string[] = [];

  credentials(rotation: Rotation): DatabaseCredentials {
    return DatabaseCredentials.generated({ rotation, retireGrace: GRACE });
  }

  secrets(json: Record<string, any>): Record<string, Record<string, string>> {
    for (const [id, p] of Object.entries(json.resource.random_password as Record<string, { keepers: object }>)) {
      const keepers = JSON.stringify(p.keepers);
      if (this.passwords.get(id)?.keepers !== keepers) {
        const value = randomBytes(24).toString('base64url');
        this.everyValue.push(value);
        this.passwords.set(id, { keepers, value });
      }
    }
    const secrets: Record<string, Record<string, string>> = {};
    for (const s of Object.values(json.resource.kubernetes_secret_v1 as Record<string, any>)) {
      const data: Record<string, string> = {};
      for (const [key, value] of Object.entries(s.data as Record<string, string>))
        data[key] = value.replace(/\$\{random_password\.(\w+)\.result\}/g, (_m, id: string) => this.passwords.get(id)!.value);
      secrets[[s.metadata].flat()[0].name] = data;
    }
    return secrets;
  }
}

interface Apply {
  readonly secrets: Record<string, Record<string, string>>;
  readonly contentHash: string;
  readonly chartDir: string;
  readonly json: Record<string, any>;
  readonly annotations: Record<string, string>;
  /** What each service's pods use: the login Secret they mount and PGUSER from their pool's ConfigMap. */
  readonly clients: Record<string, { readonly secretName: string; readonly user: string }>;
  readonly ownerSecret: string;
}

/** The secret manager's part (External Secrets, Vault): it writes the Secrets `<prefix>-<login>` the construct only names. */
class SecretManager implements CredentialSource {
  private readonly store: Record<string, Record<string, string>> = {};
  readonly everyValue: string[] = [];

  constructor(readonly prefix: string) {}

  /** Writes a new password (and the login role's name) into a Secret. */
  write(secretName: string, username: string): void {
    const password = randomBytes(24).toString('base64url');
    this.everyValue.push(password);
    this.store[secretName] = { username, password };
  }

  credentials(rotation: Rotation): DatabaseCredentials {
    return DatabaseCredentials.fromExistingSecret(this.prefix, { rotation, retireGrace: GRACE });
  }

  secrets(): Record<string, Record<string, string>> {
    return structuredClone(this.store);
  }
}

/** One `terraform apply` of the environment with these service rotations. */
function apply(tf: CredentialSource, rotation: Rotation, env = ENV): Apply {
  const databaseName = `caracal_${env}`;
  const outdir = temp('caracal-rotation-synth-');
  const app = new App({ outdir, skipValidation: true });
  const stack = new TerraformStack(app, env);
  const secrets = new DatabaseSecrets(stack, 'secrets', {
    environment: env,
    namespace: 'caracal',
    credentials: tf.credentials(rotation),
  });
  const database = PostgresInstance.external(stack, 'postgres', {
    host: HOST,
    port: cluster.port,
    database: databaseName,
    sslMode: 'verify-full',
    caCertSecret: { secretName: 'caracal-db-ca' },
  });
  const pools = new ServicePools(stack, 'pools', {
    environment: env,
    namespace: 'caracal',
    endpoint: database.endpoint,
    maxConnections: 300,
    secrets,
  });
  const job = new MigrationJob(stack, 'migrate', {
    environment: env,
    namespace: 'caracal',
    database,
    secrets,
    pools,
    migrationsDir: path.join(REPO, 'migrations'),
    runnerBundlePath: bundle,
  });
  app.synth();
  const stackDir = path.join(outdir, 'stacks', env);
  const json = JSON.parse(readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
  const release = Object.values(json.resource.helm_release as Record<string, { chart: string }>)[0];
  const values = pools.helmValues();
  const annotations = Object.fromEntries(SERVICES.map((s) => [s, values[s]!.podAnnotations['caracal.dev/database-credentials']]));
  const configMaps = Object.values(json.resource.kubernetes_config_map_v1 as Record<string, any>);
  const clients = Object.fromEntries(
    SERVICES.map((s) => [
      s,
      {
        secretName: values[s]!.volumes.find((v) => v.name === 'caracal-db-credentials')!.secret.secretName,
        user: configMaps.find((c) => [c.metadata].flat()[0].name === pools.configMapName(s)).data.PGUSER as string,
      },
    ]),
  );
  return {
    secrets: { ...tf.secrets(json), 'caracal-db-ca': { 'ca.crt': caPem } },
    clients,
    ownerSecret: secrets.secretName('owner'),
    contentHash: job.contentHash,
    chartDir: path.join(stackDir, release.chart),
    json,
    annotations,
  };
}

const podLogs: string[] = [];
async function runJob(a: Apply): Promise<PodRun> {
  const run = await runJobPod(renderChart(a.chartDir, { contentHash: a.contentHash }), {
    secrets: a.secrets,
    hosts: { [HOST]: '127.0.0.1' },
  });
  podLogs.push(run.log);
  if (run.exitCode !== 0) throw new Error(`the Job failed (${run.exitCode}):\n${run.log}`);
  return run;
}

/** A service pod's mounted login Secret: the kubelet's atomic writer (files under `..data`, swapped by one rename). */
class MountedSecret {
  private n = 0;
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  write(data: Record<string, string>): void {
    const ts = `..v${this.n++}`;
    mkdirSync(path.join(this.dir, ts));
    for (const [k, v] of Object.entries(data)) writeFileSync(path.join(this.dir, ts, k), v);
    symlinkSync(ts, path.join(this.dir, '..data_tmp'));
    renameSync(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
  }
  /** The user and password of one moment (both from the same `..data`). */
  read(): { user: string; password: string } {
    const data = realpathSync(path.join(this.dir, '..data'));
    return { user: readFileSync(path.join(data, 'username'), 'utf8'), password: readFileSync(path.join(data, 'password'), 'utf8') };
  }
}

/** A service's pool: every new connection reads the mounted Secret; connections are short-lived so they re-open often. */
class ServiceLoad {
  queries = 0;
  connections = 0;
  readonly errors: string[] = [];
  readonly queriesAs = new Map<string, number>();
  private stopped = false;
  private readonly pool: Pool;
  private readonly workers: Promise<void>[];

  constructor(secret: MountedSecret, database = DATABASE) {
    const ClientFromSecret = class extends Client {
      constructor(config?: ClientConfig) {
        super({ ...config, ...secret.read() });
      }
    };
    this.pool = new Pool({
      Client: ClientFromSecret,
      host: '127.0.0.1',
      port: cluster.port,
      database,
      max: 2,
      idleTimeoutMillis: 10,
      maxLifetimeSeconds: 1,
    });
    this.pool.on('connect', () => this.connections++);
    this.pool.on('error', (e) => this.errors.push(`idle client: ${e.message}`));
    this.workers = [0, 1].map(() => this.work());
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      try {
        const { rows } = await this.pool.query<{ u: string }>('SELECT current_user AS u');
        this.queries++;
        this.queriesAs.set(rows[0].u, (this.queriesAs.get(rows[0].u) ?? 0) + 1);
      } catch (e) {
        const err = e as { code?: string; message?: string };
        this.errors.push(`${err.code ?? ''} ${err.message ?? e}`);
      }
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
    await this.pool.end();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const everyService = (r: AlternatingRotation) =>
  Object.fromEntries(SERVICES.map((s) => [s, r])) as Record<ServiceName, AlternatingRotation>;
const slotA = (s: ServiceName, env = ENV) => `caracal_${env}_${s}`;
const slotB = (s: ServiceName, env = ENV) => `${slotA(s, env)}_b`;

/** Apply 0 (today's single logins; a plain token is slot a), the DBA's owner and database, the Job, and the services' pools. */
async function firstDeploy(tf: CredentialSource, env: string) {
  const a0 = apply(tf, {}, env);
  const owner = a0.secrets[a0.ownerSecret];
  await withClient(cluster.url, async (c) => {
    await c.query(`CREATE ROLE ${owner.username} LOGIN CREATEROLE PASSWORD '${scramSha256Verifier(owner.password)}'`);
    await c.query(`CREATE DATABASE caracal_${env} OWNER ${owner.username}`);
    // Group roles are cluster-wide: a later environment's migrator is granted them by the DBA (docs/migration-job.md).
    const { rows } = await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [
      Object.values(GROUP_ROLES),
    ]);
    if (rows.length) await c.query(`GRANT ${rows.map((r) => r.rolname).join(', ')} TO ${owner.username} WITH ADMIN OPTION`);
  });
  await runJob(a0);
  const mounts = Object.fromEntries(SERVICES.map((s) => [s, new MountedSecret(path.join(temp('caracal-rotation-pod-'), 'db'))]));
  for (const s of SERVICES) mounts[s].write(a0.secrets[a0.clients[s].secretName]);
  return { a0, mounts, loads: SERVICES.map((s) => new ServiceLoad(mounts[s], `caracal_${env}`)) };
}

/**
 * The three applies of docs/operations.md#postgres-logins for every service while the pools query, then the asserts
 * both credential sources share: no query fails, every pool moved from slot a to slot b, slot a refused after the grace
 * and NOLOGIN after the next Job run, no password value in any output. `beforeStage` is the secret manager's step 1.
 */
async function rotateEveryService(tf: CredentialSource, env: string, label: string, beforeStage = () => {}): Promise<void> {
  const started = Date.now();
  const { a0, mounts, loads } = await firstDeploy(tf, env);
  let a3: Apply | undefined;
  try {
    await sleep(1000);

    // Apply 1: slot b gets its token: the Job creates slot b; the services' Secret and annotation stay as they were.
    beforeStage();
    const a1 = apply(tf, everyService({ a: '0', b: '1', active: 'a' }), env);
    expect(a1.contentHash).not.toBe(a0.contentHash);
    expect(a1.clients).toEqual(a0.clients);
    for (const s of SERVICES) expect(a1.secrets[a1.clients[s].secretName]).toEqual(a0.secrets[a0.clients[s].secretName]);
    expect(a1.annotations).toEqual(a0.annotations);
    await runJob(a1);
    await sleep(1000);

    // Apply 2: slot b becomes active: the Secret switches (new username and password), the annotation rolls the
    // pods; nothing for the Job to do (its hash is unchanged, so Helm does not rerun it).
    const a2 = apply(tf, everyService({ a: '0', b: '1', active: 'b' }), env);
    expect(a2.contentHash).toBe(a1.contentHash);
    for (const s of SERVICES) {
      const secret = a2.secrets[a2.clients[s].secretName];
      expect([a2.clients[s].user, secret.username]).toEqual([slotB(s, env), slotB(s, env)]);
      expect(a2.annotations[s]).not.toBe(a1.annotations[s]);
      mounts[s].write(secret);
    }
    // Connections live at most 1 s: after 2.5 s every pool has re-opened its connections as slot b.
    await sleep(2500);

    // Apply 3: slot a retires: VALID UNTIL now() + grace; sessions still open as slot a are not cut.
    a3 = apply(tf, everyService({ a: '0', b: '1', active: 'b', retireInactive: true }), env);
    expect(a3.contentHash).not.toBe(a2.contentHash);
    expect(a3.annotations).toEqual(a2.annotations);
    const retiring = await runJob(a3);
    expect(retiring.log).toContain(`${slotA('api', env)}: valid until`);
    const oldApi = a1.secrets[a1.clients.api.secretName];
    await until(async () => {
      try {
        await (await connectAs(urlForDatabase(cluster.url, `caracal_${env}`), oldApi.username, oldApi.password)).end();
        return false;
      } catch (e) {
        return (e as { code?: string }).code === '28P01';
      }
    }, `slot a's password to stop working after the ${GRACE} grace`);
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
  }

  // The next Job run after the grace (any later apply that reruns it) takes slot a's LOGIN away.
  const again = await runJob(apply(tf, everyService({ a: '0', b: '1', active: 'b', retireInactive: true }), env));
  expect(again.log).toContain(`${slotA('api', env)}: nologin`);
  const roles = await withClient(
    cluster.url,
    async (c) =>
      (
        await c.query<{ rolname: string; rolcanlogin: boolean }>(
          `SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'caracal\\_${env}\\_%' ORDER BY rolname`,
        )
      ).rows,
  );
  for (const s of SERVICES) {
    expect(roles.find((r) => r.rolname === slotA(s, env))?.rolcanlogin).toBe(false);
    expect(roles.find((r) => r.rolname === slotB(s, env))?.rolcanlogin).toBe(true);
  }

  const queries = loads.reduce((n, l) => n + l.queries, 0);
  const connections = loads.reduce((n, l) => n + l.connections, 0);
  const errors = loads.flatMap((l) => l.errors);
  const authFailures = errors.filter((e) => e.startsWith('28')).length;
  console.log(
    `login rotation (${label}): ${queries} queries on ${connections} new connections over 5 services, ${authFailures} authentication failures, ` +
      `${errors.length} errors, ${Date.now() - started} ms`,
  );
  expect(errors).toEqual([]);
  expect(authFailures).toBe(0);
  for (const [i, s] of SERVICES.entries()) {
    expect(loads[i].queriesAs.get(slotA(s, env))).toBeGreaterThan(0);
    expect(loads[i].queriesAs.get(slotB(s, env))).toBeGreaterThan(0);
    expect(loads[i].connections).toBeGreaterThan(3);
  }

  // Item 5: no password value in the synthesized JSON, the chart, the Job's logs or the annotations.
  const chartFiles = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) =>
      statSync(path.join(dir, f)).isDirectory() ? chartFiles(path.join(dir, f)) : [readFileSync(path.join(dir, f), 'utf8')],
    );
  const outputs = [
    JSON.stringify(a3!.json),
    ...chartFiles(a3!.chartDir),
    ...podLogs,
    JSON.stringify(a3!.annotations),
    cluster.serverLog(),
  ].join('\n');
  expect(tf.everyValue.length).toBeGreaterThanOrEqual(SERVICES.length * 2);
  for (const value of tf.everyValue) expect(outputs).not.toContain(value);
}

describe('alternating Postgres logins under load', () => {
  test('GIVEN a pool per service querying through the three rotation applies WHEN each is applied as Terraform, the Job and the kubelet do THEN no query fails, the pools move to slot b, and slot a stops working after the grace', async () => {
    await rotateEveryService(new TerraformState(), ENV, 'generated');
  }, 120_000);

  test("GIVEN existing Secrets a secret manager writes (slot b's in `<name>-b` before apply 1) and the same pools WHEN the three applies run THEN no query fails, the pods switch to the `-b` Secret and PGUSER, and slot a stops working after the grace", async () => {
    const env = 'ext';
    const manager = new SecretManager('vault-db');
    for (const l of LOGINS) manager.write(`vault-db-${l}`, `caracal_${env}_${l}`);
    await rotateEveryService(manager, env, 'existing Secrets', () => {
      for (const s of SERVICES) manager.write(`vault-db-${s}-b`, slotB(s, env));
    });
  }, 120_000);

  test('GIVEN the same pools WHEN every login is rotated with a plain token instead (the peer: one login, new password) and the pods see the new Secret 300 ms after the Job THEN new connections fail in that window', async () => {
    const tf = new TerraformState();
    const { mounts, loads } = await firstDeploy(tf, 'peer');
    try {
      await sleep(1000);
      const rotated = apply(tf, Object.fromEntries(SERVICES.map((s) => [s, '1'])), 'peer');
      await runJob(rotated);
      // What a pod sees between the Job setting the new verifier and its own Secret (or its replacement) arriving.
      await sleep(300);
      for (const s of SERVICES) mounts[s].write(rotated.secrets[`caracal-db-${s}`]);
      await sleep(1000);
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
    }
    const errors = loads.flatMap((l) => l.errors);
    const authFailures = errors.filter((e) => e.startsWith('28')).length;
    const queries = loads.reduce((n, l) => n + l.queries, 0);
    console.log(`plain-token peer: ${queries} queries, ${authFailures} authentication failures, ${errors.length} errors`);
    expect(authFailures).toBeGreaterThan(0);
    for (const value of tf.everyValue) expect(podLogs.join('\n')).not.toContain(value);
  }, 120_000);
});
