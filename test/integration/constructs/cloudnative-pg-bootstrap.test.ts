// The CloudNativePG choice's roles decision on a real Postgres 18, without a cluster: a fresh server is bootstrapped
// as the operator's initdb does it (the owner a plain LOGIN role owning the database, from the owner Secret), the
// Cluster's own postInitApplicationSQL (read from the synthesized chart) runs once as the superuser, then the
// synthesized migration Job runs as the kubelet would, as the owner over verify-full TLS to `<cluster>-rw` with the
// `<cluster>-ca` certificate. The owner is no superuser; logins, SCRAM verifiers and the access matrix are as for
// every other choice; `verify` passes.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { CaracalStores, CloudNativePgCluster, StoresPostgres } from '../../../constructs';
import { LOGINS, PROVISIONED_LOGINS } from '../../../common/names';
import { scramSha256Verifier } from '../../../src/provision/scram';
import { renderChart, runJobPod, PodRun } from '../../support/kubelet';
import { OwnCluster, startOwnCluster, urlForDatabase, withClient } from '../../support/postgres';
import { grantedCell, readAccessMatrix, SERVICE_ROLES } from '../../support/schema';
import { runCliCaptured } from '../../support/cli';
import { connectAs, newPassword } from '../provision/support';
import { enableTls } from '../job/tls';

const REPO = path.resolve(__dirname, '..', '..', '..');
const ENV = 'ha';
const HOST = 'postgres-rw.caracal-ha.svc';
const dirs: string[] = [];
let cluster: OwnCluster;
let secrets: Record<string, Record<string, string>>;
let stores: CaracalStores;
let run: PodRun;
let caFile: string;

const owner = `caracal_${ENV}_owner`;
const dbUrl = () => urlForDatabase(cluster.url, 'caracal');

beforeAll(async () => {
  const bundleDir = mkdtempSync(path.join(tmpdir(), 'caracal-cnpg-bundle-'));
  dirs.push(bundleDir);
  const bundle = path.join(bundleDir, 'caracal-migrate.cjs');
  const built = spawnSync(process.execPath, [path.join(REPO, 'scripts', 'build.mjs'), '--outfile', bundle, '--quiet'], {
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
  chmodSync(bundleDir, 0o755);

  cluster = await startOwnCluster({ major: 18 });
  const hba = path.join(cluster.dataDir, 'pg_hba.conf');
  writeFileSync(hba, readFileSync(hba, 'utf8').replace(/\bpassword\s*$/gm, 'scram-sha-256'));
  // The operator's CA and server certificate for `<cluster>-rw.<ns>.svc` (what the `<cluster>-ca` Secret holds).
  const { caPem } = await enableTls(cluster, HOST);
  const caDir = mkdtempSync(path.join(tmpdir(), 'caracal-cnpg-ca-'));
  dirs.push(caDir);
  caFile = path.join(caDir, 'ca.crt');
  writeFileSync(caFile, caPem);

  secrets = { 'postgres-ca': { 'ca.crt': caPem } };
  for (const login of LOGINS) secrets[`caracal-db-${login}`] = { username: `caracal_${ENV}_${login}`, password: newPassword() };

  // Synthesize the stores with the CloudNativePG choice: the Cluster chart and the Job chart.
  const outdir = mkdtempSync(path.join(tmpdir(), 'caracal-cnpg-synth-'));
  dirs.push(outdir);
  const app = new App({ outdir, skipValidation: true });
  const stack = new TerraformStack(app, ENV);
  stores = new CaracalStores(stack, 'stores', {
    environment: ENV,
    namespace: 'caracal-ha',
    postgres: StoresPostgres.cloudNativePg(),
    migrationJob: { runnerBundlePath: bundle },
  });
  app.synth();
  const initdb = (stores.postgres as CloudNativePgCluster).chart.manifests.find((m) => m.kind === 'Cluster')!.spec as any;

  // What the operator's initdb does with bootstrap.initdb: the owner from its Secret, LOGIN only, owning the database;
  // then postInitApplicationSQL, as the superuser, in that database.
  const { owner: ownerName, database, postInitApplicationSQL } = initdb.bootstrap.initdb;
  await withClient(cluster.url, async (c) => {
    await c.query(`CREATE ROLE "${ownerName}" LOGIN PASSWORD '${scramSha256Verifier(secrets['caracal-db-owner'].password)}'`);
    await c.query(`CREATE DATABASE "${database}" OWNER "${ownerName}"`);
  });
  await withClient(dbUrl(), async (c) => {
    for (const sql of postInitApplicationSQL as string[]) await c.query(sql);
  });

  // The migration Job as the kubelet runs it; PGPORT is the test server's (the Service's 5432 in a cluster).
  const stackDir = path.join(outdir, 'stacks', ENV);
  const json = JSON.parse(readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
  const release = Object.values(json.resource.helm_release as Record<string, any>).find((r) => r.name === `caracal-${ENV}-migrate`)!;
  const chart = renderChart(path.join(stackDir, release.chart), { contentHash: stores.migrationJob.contentHash });
  const container = (chart.job.spec.template.spec as any).containers[0];
  container.env = container.env.map((e: { name: string; value: string }) =>
    e.name === 'PGPORT' ? { ...e, value: String(cluster.port) } : e,
  );
  run = await runJobPod(chart, { secrets, hosts: { [HOST]: '127.0.0.1' } });
}, 240_000);

afterAll(async () => {
  await cluster?.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('CloudNativePG bootstrap, then the migration Job as the owner', () => {
  test('GIVEN the Cluster bootstrapped as the operator does WHEN the Job runs over verify-full to -rw THEN it migrates and provisions every login', () => {
    expect({ exitCode: run.exitCode, stderr: run.exitCode === 0 ? '' : run.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(run.stdout).toMatch(/applied 0001_baseline\.up\.sql/);
    for (const l of PROVISIONED_LOGINS)
      expect(run.stdout).toContain(`provisioned caracal_${ENV}_${l}: create, grant caracal_${l}, grant connect`);
  });

  test('GIVEN the bootstrapped Cluster WHEN the owner is inspected THEN it is no superuser, has CREATEROLE and no BYPASSRLS', async () => {
    const { rows } = await withClient(cluster.url, (c) =>
      c.query('SELECT rolsuper, rolcreaterole, rolbypassrls, rolcreatedb FROM pg_roles WHERE rolname = $1', [owner]),
    );
    expect(rows).toEqual([{ rolsuper: false, rolcreaterole: true, rolbypassrls: false, rolcreatedb: false }]);
  });

  test('GIVEN the bootstrap SQL WHEN the backup role is inspected THEN caracal_backup has BYPASSRLS (the baseline alone could not give it)', async () => {
    const { rows } = await withClient(cluster.url, (c) => c.query(`SELECT rolbypassrls FROM pg_roles WHERE rolname = 'caracal_backup'`));
    expect(rows).toEqual([{ rolbypassrls: true }]);
  });

  test('GIVEN the installed database WHEN each login connects with its Secret THEN it has a SCRAM verifier and exactly its access-matrix rights', async () => {
    const matrix = readAccessMatrix();
    const mismatches: string[] = [];
    const verifiers = await withClient(cluster.url, (c) =>
      c.query<{ rolname: string; scram: boolean }>(
        `SELECT rolname, rolpassword LIKE 'SCRAM-SHA-256$%' AS scram FROM pg_authid WHERE rolname LIKE 'caracal\\_ha\\_%' ORDER BY 1`,
      ),
    );
    expect(verifiers.rows.map((r) => [r.rolname, r.scram])).toEqual(LOGINS.map((l) => [`caracal_${ENV}_${l}`, true]).sort());
    await withClient(dbUrl(), async (admin) => {
      for (const s of SERVICE_ROLES) {
        const login = `caracal_${ENV}_${s}`;
        const c = await connectAs(dbUrl(), login, secrets[`caracal-db-${s}`].password);
        await c.end();
        for (const row of matrix.rows) {
          const got = await grantedCell(admin, login, row.table);
          if (got !== row.cells[s]) mismatches.push(`${login} on ${row.table}: ${got || '-'} (matrix: ${row.cells[s] || '-'})`);
        }
      }
    });
    expect(mismatches).toEqual([]);
  });

  test('GIVEN the installed database WHEN caracal-migrate verify runs as the owner over TLS THEN every check passes, large objects closed included', async () => {
    const passwordFile = path.join(path.dirname(caFile), 'owner.password');
    writeFileSync(passwordFile, secrets['caracal-db-owner'].password, { mode: 0o600 });
    const saved = { ...process.env };
    Object.assign(process.env, {
      PGHOST: '127.0.0.1',
      PGPORT: String(cluster.port),
      PGDATABASE: 'caracal',
      PGUSER: owner,
      PGPASSWORD_FILE: passwordFile,
      PGSSLMODE: 'require',
    });
    try {
      const r = await runCliCaptured(['verify']);
      expect({ code: r.code, out: r.code === 0 ? '' : `${r.stdout}${r.stderr}` }).toEqual({ code: 0, out: '' });
      expect(r.stdout).toMatch(/large-objects/);
    } finally {
      process.env = saved;
    }
  });
});
