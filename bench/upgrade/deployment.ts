// The deployment bench/upgrade plays: the library synthesized for one environment (prod's pool settings, an external
// Postgres at the bench server), and what the harness reads from the output as a cluster would: each service's
// ConfigMap (DB_POOL_MAX, PGUSER, PGAPPNAME, timeouts), its replica count from helmValues(), and the migration
// Job's provision.json from the hook chart.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { DatabaseCredentials, DatabaseSecrets, MigrationJob, PostgresInstance, ServicePools } from '../../constructs';
import { prod } from '../../src/environments/prod';
import { renderChart } from '../../test/support/kubelet';
import { Service, SERVICES } from './load';

export const ENVIRONMENT = 'bench';
export const OWNER_LOGIN = `caracal_${ENVIRONMENT}_owner`;

export interface ServiceSettings {
  readonly service: Service;
  readonly user: string;
  readonly applicationName: string;
  readonly poolMax: number;
  readonly pods: number;
  readonly connectionTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export interface ProvisionLogin {
  readonly loginRole: string;
  readonly groupRole: string;
  readonly passwordFile: string;
  readonly settings?: Readonly<Record<string, string>>;
}

export interface Deployment {
  readonly services: readonly ServiceSettings[];
  /** provision.json as the chart carries it (password paths inside the Job's container). */
  readonly provision: { version: 1; logins: ProvisionLogin[] };
}

/** Synthesizes the library for the bench environment and reads the services' and the Job's settings back. */
export function synthesizeDeployment(opts: { database: string; port: number; runnerBundle: string }): Deployment {
  const outdir = mkdtempSync(path.join(tmpdir(), 'caracal-bench-upgrade-synth-'));
  try {
    const app = new App({ outdir, skipValidation: true });
    const stack = new TerraformStack(app, ENVIRONMENT);
    const secrets = new DatabaseSecrets(stack, 'secrets', {
      environment: ENVIRONMENT,
      namespace: 'caracal',
      credentials: DatabaseCredentials.generated(),
    });
    const db = PostgresInstance.external(stack, 'postgres', {
      host: 'postgres.caracal.svc.cluster.local',
      port: opts.port,
      database: opts.database,
      sslMode: 'require',
    });
    const pools = new ServicePools(stack, 'pools', {
      environment: ENVIRONMENT,
      namespace: 'caracal',
      endpoint: db.endpoint,
      // prod's pools at their autoscaling maximum plus surge (the budget check), on the bench server's max_connections.
      maxConnections: 500,
      secrets,
      services: prod.pools,
    });
    const job = new MigrationJob(stack, 'migrate', {
      environment: ENVIRONMENT,
      namespace: 'caracal',
      database: db,
      secrets,
      pools,
      runnerBundlePath: opts.runnerBundle,
    });
    app.synth();
    const json = JSON.parse(readFileSync(path.join(outdir, 'stacks', ENVIRONMENT, 'cdk.tf.json'), 'utf8'));
    const configMaps = Object.values(
      json.resource.kubernetes_config_map_v1 as Record<string, { metadata: { name: string }; data: Record<string, string> }>,
    );
    const services = SERVICES.map((service): ServiceSettings => {
      const cm = configMaps.find((c) => c.metadata.name === pools.configMapName(service));
      if (!cm) throw new Error(`no ConfigMap ${pools.configMapName(service)} in the synthesized stack`);
      return {
        service,
        user: cm.data.PGUSER,
        applicationName: cm.data.PGAPPNAME,
        poolMax: Number(cm.data.DB_POOL_MAX),
        pods: pools.pool(service).replicas,
        connectionTimeoutMs: Number(cm.data.DB_CONNECTION_TIMEOUT_MS),
        idleTimeoutMs: Number(cm.data.DB_IDLE_TIMEOUT_MS),
      };
    });
    const release = Object.values(json.resource.helm_release as Record<string, { chart: string }>)[0];
    const chart = renderChart(path.join(outdir, 'stacks', ENVIRONMENT, release.chart), { contentHash: job.contentHash });
    const runner = chart.objects.find((o) => o.kind === 'ConfigMap' && o.binaryData?.['provision.json']);
    if (!runner) throw new Error('the hook chart has no provision.json');
    const provision = JSON.parse(Buffer.from(runner.binaryData['provision.json'], 'base64').toString('utf8'));
    return { services, provision };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
