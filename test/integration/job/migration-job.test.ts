// End to end without a cluster: synthesize the app, read the chart from the TerraformAsset, lay out the
// Job pod's mounts as the kubelet does, run its command against a real Postgres (SCRAM, log_statement=all).
import { chmodSync, copyFileSync, mkdtempSync as mkdtempRaw, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { Client } from 'pg';
import { DatabaseCredentials, DatabaseSecrets, PostgresInstance, ServiceName, ServicePools } from '../../../constructs';
import { MigrationJob, MigrationRunnerImage } from '../../../constructs/migration-job';
import { LOGINS, PROVISIONED_LOGINS } from '../../../common/names';
import { scramSha256Verifier } from '../../../src/provision/scram';
import { renderChart, runJobPod, PodRun } from '../../support/kubelet';
import { OwnCluster, urlForDatabase, withClient } from '../../support/postgres';
import { grantedCell, readAccessMatrix, SERVICE_ROLES } from '../../support/schema';
import { connectAs, newPassword } from '../provision/support';
import { buildRunnerBundle, startJobServer } from './job-server';

const REPO = path.resolve(__dirname, '..', '..', '..');
const HOST = 'postgres.caracal.svc.cluster.local';

let cluster: OwnCluster;
/** Temporary directories of this file (bundle, synth output, migrations), removed at the end. */
const tempDirs: string[] = [];
const mkdtempSync = (prefix: string) => {
  const d = mkdtempRaw(prefix);
  tempDirs.push(d);
  return d;
};
let bundle: string;
let caPem: string;
/** Every password any test handed out: none may appear in a log. */
const everyPassword: string[] = [];
const podLogs: string[] = [];

beforeAll(async () => {
  bundle = buildRunnerBundle(mkdtempSync(path.join(tmpdir(), 'caracal-e2e-bundle-')));
  ({ cluster, caPem } = await startJobServer(HOST, ['-c', 'log_statement=all', '-c', 'log_connections=on']));
}, 180_000);

afterAll(async () => {
  await cluster?.destroy();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

interface Env {
  readonly name: string;
  readonly database: string;
  readonly secrets: Record<string, Record<string, string>>;
  readonly url: string;
  loginRole(login: string): string;
  password(login: string): string;
}

/** What a DBA does before the first install (managed-database style): an owner login with CREATEROLE that owns the database. */
async function bootstrap(name: string): Promise<Env> {
  const database = `caracal_${name}`;
  const secrets: Record<string, Record<string, string>> = {};
  for (const login of LOGINS) {
    const password = newPassword();
    everyPassword.push(password);
    secrets[`caracal-db-${login}`] = { username: `caracal_${name}_${login}`, password };
  }
  const owner = `caracal_${name}_owner`;
  await withClient(cluster.url, async (c) => {
    // The DBA sends a verifier too (as psql's \password does), so the owner's password is not in the log either.
    await c.query(`CREATE ROLE ${owner} LOGIN CREATEROLE PASSWORD '${scramSha256Verifier(secrets['caracal-db-owner'].password)}'`);
    await c.query(`CREATE DATABASE ${database} OWNER ${owner}`);
    // Group roles are cluster-wide: the first environment's migrator created them (and holds ADMIN on them);
    // for every later environment on the server the DBA grants them to its migrator (docs/migration-job.md).
    const groups = await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [
      ['caracal_owner', ...SERVICE_ROLES.map((s) => `caracal_${s}`), 'caracal_maintenance', 'caracal_monitoring', 'caracal_backup'],
    ]);
    if (groups.rowCount) await c.query(`GRANT ${groups.rows.map((r) => r.rolname).join(', ')} TO ${owner} WITH ADMIN OPTION`);
  });
  secrets['caracal-db-ca'] = { 'ca.crt': caPem };
  return {
    name,
    database,
    secrets,
    url: urlForDatabase(cluster.url, database),
    loginRole: (login) => `caracal_${name}_${login}`,
    password: (login) => secrets[`caracal-db-${login}`].password,
  };
}

interface Synth {
  chartDir: string;
  contentHash: string;
  outdir: string;
  job: MigrationJob;
  pools: ServicePools;
  /** The synthesized stack JSON (cdk.tf.json). */
  json: Record<string, any>;
}

/** `cdktf synth` of a stack with the environment's MigrationJob; returns the chart directory the helm_release points at. */
function synth(env: Env, extra: { migrationsDir?: string; image?: MigrationRunnerImage; services?: readonly ServiceName[] } = {}): Synth {
  const outdir = mkdtempSync(path.join(tmpdir(), 'caracal-e2e-synth-'));
  // Providers belong to the platform stack (src/stacks); this one only needs the chart and the release JSON.
  const app = new App({ outdir, skipValidation: true });
  const stack = new TerraformStack(app, env.name);
  const secrets = new DatabaseSecrets(stack, 'secrets', {
    environment: env.name,
    namespace: 'caracal',
    credentials: DatabaseCredentials.generated(),
    services: extra.services,
  });
  const database = PostgresInstance.external(stack, 'postgres', {
    host: HOST,
    port: cluster.port,
    database: env.database,
    sslMode: 'verify-full',
    caCertSecret: { secretName: 'caracal-db-ca' },
  });
  const pools = new ServicePools(stack, 'pools', {
    environment: env.name,
    namespace: 'caracal',
    endpoint: database.endpoint,
    maxConnections: 300,
    secrets,
    services: { api: { statementTimeout: '15s' } },
  });
  const job = new MigrationJob(stack, 'migrate', {
    environment: env.name,
    namespace: 'caracal',
    database,
    secrets,
    pools,
    migrationsDir: extra.migrationsDir ?? path.join(REPO, 'migrations'),
    image: extra.image,
    runnerBundlePath: extra.image ? undefined : bundle,
  });
  app.synth();
  const stackDir = path.join(outdir, 'stacks', env.name);
  const json = JSON.parse(readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
  const release = Object.values(json.resource.helm_release as Record<string, { chart: string; set: { value: string }[] }>)[0];
  expect(release.set[0].value).toBe(job.contentHash);
  return { chartDir: path.join(stackDir, release.chart), contentHash: job.contentHash, outdir, job, pools, json };
}

async function runJob(env: Env, s: Synth, imageFiles?: Record<string, string>): Promise<PodRun> {
  const chart = renderChart(s.chartDir, { contentHash: s.contentHash });
  const run = await runJobPod(chart, { secrets: env.secrets, hosts: { [HOST]: '127.0.0.1' }, imageFiles });
  podLogs.push(run.log);
  return run;
}

/**
 * A service pod's init container (MigrationJob.schemaWait) run as the kubelet would: env from the service's
 * synthesized database ConfigMap, its own Secret and the CA mounted whole, the runner from the chart's ConfigMap, the
 * pod's fsGroup set as the service's chart must set it. `timeout` replaces the container's --timeout.
 */
async function runSchemaWait(env: Env, s: Synth, service: 'sts' | 'api', timeout?: string): Promise<PodRun> {
  const values = s.pools.helmValues()[service]!;
  const wait = s.job.schemaWait(values);
  const chart = renderChart(s.chartDir, { contentHash: s.contentHash });
  const configMaps = Object.values(s.json.resource.kubernetes_config_map_v1 as Record<string, any>);
  const data = (name: string) => {
    const cm = configMaps.find((c) => [c.metadata].flat()[0].name === name);
    if (!cm) throw new Error(`ConfigMap ${name} is not in the synthesized stack`);
    return cm.data as Record<string, string>;
  };
  const { envFrom, ...container } = wait.initContainer;
  const command = [...container.command];
  if (timeout) command[command.indexOf('--timeout') + 1] = timeout;
  const pod = {
    securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
    containers: [
      {
        ...container,
        command,
        env: envFrom.flatMap((e) => Object.entries(data(e.configMapRef.name)).map(([name, value]) => ({ name, value }))),
      },
    ],
    volumes: [...values.volumes, ...wait.volumes],
  };
  const run = await runJobPod(
    { ...chart, job: { spec: { template: { spec: pod } } } },
    { secrets: env.secrets, hosts: { [HOST]: '127.0.0.1' } },
  );
  podLogs.push(run.log);
  return run;
}

/** The project's migration versions (the tests' own files are numbered 9000 and up, after them). */
const PROJECT_MIGRATIONS = readdirSync(path.join(REPO, 'migrations'))
  .filter((f) => f.endsWith('.up.sql'))
  .map((f) => Number(f.split('_')[0]));

function migrationsWith(extra: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'caracal-e2e-migrations-'));
  for (const f of readdirSync(path.join(REPO, 'migrations'))) copyFileSync(path.join(REPO, 'migrations', f), path.join(dir, f));
  for (const [name, sql] of Object.entries(extra)) writeFileSync(path.join(dir, name), sql);
  return dir;
}

async function asLogin<T>(env: Env, login: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await connectAs(env.url, env.loginRole(login), env.password(login));
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('the migration Job, run as the kubelet would run it', () => {
  test('GIVEN a fresh database WHEN the Job installs THEN it exits 0 having applied the migrations and provisioned the five service logins the maintenance and the monitoring logins', async () => {
    const env = await bootstrap('inst');
    const run = await runJob(env, synth(env));
    expect({ exitCode: run.exitCode, stderr: run.exitCode === 0 ? '' : run.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(run.stdout).toMatch(/applied 0001_baseline\.up\.sql/);
    for (const s of PROVISIONED_LOGINS)
      expect(run.stdout).toContain(`provisioned caracal_inst_${s}: create, grant caracal_${s}, grant connect`);
  });

  test('GIVEN stores that deploy only api and audit WHEN the Job installs THEN it creates exactly their logins and the built-in ones, and they connect', async () => {
    const env = await bootstrap('subset');
    const run = await runJob(env, synth(env, { services: ['audit', 'api'] }));
    expect({ exitCode: run.exitCode, stderr: run.exitCode === 0 ? '' : run.stderr }).toEqual({ exitCode: 0, stderr: '' });
    const logins = await withClient(cluster.url, async (c) =>
      (
        await c.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'caracal\\_subset\\_%' ORDER BY rolname")
      ).rows.map((r) => r.rolname),
    );
    expect(logins).toEqual(['api', 'audit', 'backup', 'maintenance', 'monitoring', 'owner'].map((l) => `caracal_subset_${l}`));
    expect(run.stdout).not.toMatch(/caracal_subset_(coordinator|sts|gateway)/);
    await expect(asLogin(env, 'audit', async (c) => (await c.query('SELECT current_user AS u')).rows[0].u)).resolves.toBe(
      'caracal_subset_audit',
    );
  });

  test('GIVEN an installed environment THEN each service login connects with its Secret and has exactly its access-matrix rights', async () => {
    const env = await bootstrap('matrix');
    expect((await runJob(env, synth(env))).exitCode).toBe(0);
    const matrix = readAccessMatrix();
    const mismatches: string[] = [];
    await withClient(env.url, async (admin) => {
      for (const s of SERVICE_ROLES) {
        await expect(asLogin(env, s, async (c) => (await c.query('SELECT current_user AS u')).rows[0].u)).resolves.toBe(env.loginRole(s));
        for (const row of matrix.rows) {
          const got = await grantedCell(admin, env.loginRole(s), row.table);
          if (got !== row.cells[s]) mismatches.push(`${env.loginRole(s)} on ${row.table}: ${got || '-'} (matrix: ${row.cells[s] || '-'})`);
        }
      }
    });
    expect(mismatches).toEqual([]);
  });

  test('GIVEN an installed environment THEN each login has its pool settings in this database', async () => {
    const env = await bootstrap('settings');
    expect((await runJob(env, synth(env))).exitCode).toBe(0);
    const api = await asLogin(env, 'api', async (c) => [
      (await c.query('SHOW statement_timeout')).rows[0].statement_timeout,
      (await c.query('SHOW idle_in_transaction_session_timeout')).rows[0].idle_in_transaction_session_timeout,
    ]);
    const sts = await asLogin(env, 'sts', async (c) => (await c.query('SHOW statement_timeout')).rows[0].statement_timeout);
    expect([api, sts]).toEqual([['15s', '1min'], '30s']);
  });

  test('GIVEN an installed environment WHEN the Job runs again (upgrade) THEN nothing changes, on one owner session', async () => {
    const env = await bootstrap('upgrade');
    const s = synth(env);
    expect((await runJob(env, s)).exitCode).toBe(0);
    const state = () =>
      withClient(
        env.url,
        async (c) =>
          (
            await c.query(
              `SELECT (SELECT json_agg(rolname || rolpassword ORDER BY rolname) FROM pg_authid WHERE rolname LIKE 'caracal_upgrade_%') AS roles,
              (SELECT json_agg(version ORDER BY version) FROM public.schema_migrations) AS versions,
              (SELECT json_agg(setconfig ORDER BY setrole) FROM pg_db_role_setting) AS settings`,
            )
          ).rows[0],
      );
    const before = await state();
    const logFrom = cluster.serverLog().length;
    const again = await runJob(env, s);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`nothing to do: ${PROJECT_MIGRATIONS.length} already applied`));
    // The chart's checksum manifest spared it reading the applied files.
    expect(again.stderr).toContain(
      `checksums of the ${PROJECT_MIGRATIONS.length} files listed in /opt/caracal/migrations/.caracal-migrate.sum taken from it`,
    );
    expect(again.stdout.match(/: up to date/g)).toHaveLength(PROVISIONED_LOGINS.length);
    expect(await state()).toEqual(before);
    // One session as the owner (migrating and provisioning share it), one per login to check its password.
    const sessions = (login: string) =>
      cluster
        .serverLog()
        .slice(logFrom)
        .split('\n')
        .filter((l) => l.includes(`connection authorized: user=${login} `)).length;
    expect(sessions('caracal_upgrade_owner')).toBe(1);
    for (const login of PROVISIONED_LOGINS) expect(sessions(`caracal_upgrade_${login}`)).toBe(1);
  });

  test("GIVEN an installed environment WHEN a service pod's schema-wait init container runs THEN it exits 0 as the service's own login over verify-full TLS", async () => {
    const env = await bootstrap('waits');
    const s = synth(env);
    expect((await runJob(env, s)).exitCode).toBe(0);
    const run = await runSchemaWait(env, s, 'sts');
    expect({ exitCode: run.exitCode, log: run.exitCode === 0 ? '' : run.log }).toEqual({ exitCode: 0, log: '' });
    expect(run.log).toContain(`version ${PROJECT_MIGRATIONS[PROJECT_MIGRATIONS.length - 1]}`);
  });

  test('GIVEN a database the Job has not migrated yet WHEN the init container runs THEN it waits and exits 3 at its deadline naming what it saw', async () => {
    const env = await bootstrap('early');
    const run = await runSchemaWait(env, synth(env), 'api', '3s');
    expect(run.exitCode).toBe(3);
    expect(run.log).toMatch(new RegExp(`version ${PROJECT_MIGRATIONS[PROJECT_MIGRATIONS.length - 1]}`));
  });

  test('GIVEN an installed environment WHEN a release adds a migration THEN the next run applies it', async () => {
    const env = await bootstrap('added');
    expect((await runJob(env, synth(env))).exitCode).toBe(0);
    const next = synth(env, {
      migrationsDir: migrationsWith({
        '9000_zone_display_order.up.sql': '-- expand: a nullable column\nALTER TABLE public.zones ADD COLUMN display_order integer;\n',
      }),
    });
    const run = await runJob(env, next);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/applied 9000_zone_display_order\.up\.sql/);
    const versions = await withClient(env.url, async (c) =>
      (await c.query('SELECT version FROM public.schema_migrations ORDER BY version')).rows.map((r) => Number(r.version)),
    );
    expect(versions).toEqual([...PROJECT_MIGRATIONS, 9000]);
  });

  test('GIVEN a broken migration WHEN the Job runs THEN it exits non-zero naming the file, the line and the first thing to check', async () => {
    const env = await bootstrap('broken');
    const run = await runJob(
      env,
      synth(env, {
        migrationsDir: migrationsWith({ '9000_broken.up.sql': '-- adds a column\nALTER TABLE public.zones\n  ADD COLUMN oops integr;\n' }),
      }),
    );
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/9000_broken\.up\.sql:3/);
    expect(run.stderr).toMatch(/first check: /);
  });

  test('GIVEN a Secret whose password does not match the owner login WHEN the Job runs THEN it exits 2 and says to check the database secret', async () => {
    const env = await bootstrap('badsecret');
    const wrong = newPassword();
    everyPassword.push(wrong);
    const run = await runJob(
      { ...env, secrets: { ...env.secrets, 'caracal-db-owner': { username: env.loginRole('owner'), password: wrong } } },
      synth(env),
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/password authentication failed[\s\S]*first check: the database secret/);
  });

  test('GIVEN an image that ships the runner (custom image and command) WHEN the Job installs THEN it migrates and provisions the same way', async () => {
    const env = await bootstrap('custom');
    const cli = path.join(path.dirname(bundle), 'caracal-migrate');
    copyFileSync(bundle, cli);
    chmodSync(cli, 0o755);
    const s = synth(env, { image: MigrationRunnerImage.custom('registry.example.com/caracal/tools:1.0.0') });
    const chart = renderChart(s.chartDir, { contentHash: s.contentHash });
    expect(chart.configMap('caracal-custom-migrate-runner').binaryData['caracal-migrate.cjs']).toBeUndefined();
    const run = await runJob(env, s, { '/usr/local/bin/caracal-migrate': cli });
    expect(run.exitCode).toBe(0);
    await expect(asLogin(env, 'gateway', async (c) => (await c.query('SELECT current_user AS u')).rows[0].u)).resolves.toBe(
      'caracal_custom_gateway',
    );
  });

  test('GIVEN an install, an upgrade and a rotated password THEN no password is in any Job log line, the server log or the synthesized files', async () => {
    const env = await bootstrap('nolog');
    const s = synth(env);
    const runs = [await runJob(env, s), await runJob(env, s)];
    const rotated = newPassword();
    everyPassword.push(rotated);
    env.secrets['caracal-db-api'] = { ...env.secrets['caracal-db-api'], password: rotated };
    runs.push(await runJob(env, s));
    expect(runs.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    expect(runs[2].stdout).toContain('provisioned caracal_nolog_api: password');
    await expect(asLogin(env, 'api', async () => 'connected')).resolves.toBe('connected');
    // Every pod log of this file (earlier tests included) and the whole server log, which has every statement.
    const logs = [...podLogs, cluster.serverLog()].join('\n');
    expect(logs).toMatch(/ALTER ROLE "caracal_nolog_api" WITH PASSWORD 'SCRAM-SHA-256\$/);
    expect(everyPassword.filter((p) => logs.includes(p))).toEqual([]);
    // Nor in anything synthesized: the Terraform JSON and the chart the asset carries.
    const synthesized = filesUnder(s.outdir)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    expect(synthesized).toContain('caracal-nolog-migrate');
    expect(everyPassword.filter((p) => synthesized.includes(p))).toEqual([]);
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}
