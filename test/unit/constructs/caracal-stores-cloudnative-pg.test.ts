// CaracalStores with StoresPostgres.cloudNativePg(): the services, the migration Job, the backup and maintenance
// CronJobs and the exporter reach the Cluster through IPostgresDatabase (the `-rw` Service, verify-full against the
// cluster's CA), and the order Terraform applies things in: operator, Cluster, migration Job, services.
import { TerraformStack, Testing } from 'cdktf';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { HelmProvider } from '@cdktf/provider-helm/lib/provider';
import { Release } from '@cdktf/provider-helm/lib/release';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { CaracalStores, CaracalStoresProps, CloudNativePgCluster, StoresPostgres, ValidationError } from '../../../constructs';
import { checkTerraformJson, formatViolations } from '../../support/pod-security';
import { Json, resources } from '../../support/synth';

function synth(props: Partial<CaracalStoresProps> = {}): { json: Json; text: string; stores: CaracalStores } {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'platform');
  new KubernetesProvider(stack, 'kubernetes', { configPath: '~/.kube/config' });
  new HelmProvider(stack, 'helm', { kubernetes: { configPath: '~/.kube/config' } });
  new RandomProvider(stack, 'random', {});
  const stores = new CaracalStores(stack, 'stores', {
    environment: 'ha',
    namespace: 'caracal-ha',
    postgres: StoresPostgres.cloudNativePg({
      backup: { destinationPath: 's3://caracal-backups/ha/', credentialsSecret: { name: 'caracal-backup-s3' } },
    }),
    ...props,
  });
  new Release(stack, 'caracal-services', {
    name: 'caracal',
    namespace: 'caracal-ha',
    chart: 'caracal',
    values: [JSON.stringify({ services: stores.helmValues() })],
    dependsOn: stores.servicesDependOn,
  });
  const text = Testing.synth(stack);
  return { json: JSON.parse(text), text, stores };
}

let cached: ReturnType<typeof synth> | undefined;
const defaults = () => (cached ??= synth());
const releaseId = (json: Json, name: string) => Object.entries(resources(json, 'helm_release')).find(([, r]) => r.name === name)![0];

describe('CaracalStores with CloudNativePG', () => {
  test('GIVEN the CloudNativePG choice WHEN synthesized THEN the database is a CloudNativePgCluster and no Postgres StatefulSet exists', () => {
    const { json, stores } = defaults();
    expect(stores.postgres).toBeInstanceOf(CloudNativePgCluster);
    expect(stores.postgres.mode).toBe('cloudnative-pg');
    expect(Object.values(resources(json, 'kubernetes_stateful_set_v1')).map((s) => s.metadata.name)).toEqual(['redis']);
  });

  test("GIVEN the services' values WHEN read THEN each connects to -rw with PGSSLMODE=verify-full and PGSSLROOTCERT from the <cluster>-ca Secret", () => {
    const { json, stores } = defaults();
    const db = Object.values(resources(json, 'kubernetes_config_map_v1')).find((c) => c.metadata.name === 'caracal-api-db')!;
    expect(db.data).toMatchObject({
      PGHOST: 'postgres-rw.caracal-ha.svc',
      PGPORT: '5432',
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: expect.stringMatching(/\/ca\.crt$/),
    });
    const api = stores.helmValues().api;
    expect(api.volumes).toContainEqual(expect.objectContaining({ secret: expect.objectContaining({ secretName: 'postgres-ca' }) }));
  });

  test('GIVEN the migration Job WHEN its chart is read THEN it connects to -rw with verify-full and the CA, and waits up to 300 s for the new Cluster', () => {
    const { stores } = defaults();
    const job = stores.migrationJob.chart.manifests.find((m) => m.kind === 'Job') as Json;
    const c = job.spec.template.spec.containers[0];
    const env = Object.fromEntries(c.env.map((e: Json) => [e.name, e.value]));
    expect(env).toMatchObject({ PGHOST: 'postgres-rw.caracal-ha.svc', PGSSLMODE: 'verify-full', PGUSER: 'caracal_ha_owner' });
    expect(env.PGSSLROOTCERT).toMatch(/ca\.crt$/);
    expect(job.spec.template.spec.volumes).toContainEqual(
      expect.objectContaining({ secret: expect.objectContaining({ secretName: 'postgres-ca' }) }),
    );
    expect(c.command).toContain('--wait-for-db=300s');
  });

  test('GIVEN the synthesized JSON WHEN the depends_on chain is read THEN operator -> plugin -> Cluster -> migration Job -> services', () => {
    const { json } = defaults();
    const r = resources(json, 'helm_release');
    const operator = `helm_release.${releaseId(json, 'cloudnative-pg')}`;
    const plugin = `helm_release.${releaseId(json, 'plugin-barman-cloud')}`;
    const cluster = 'helm_release.caracal_cnpg_cluster';
    const migrate = `helm_release.${releaseId(json, 'caracal-ha-migrate')}`;
    expect(r[releaseId(json, 'plugin-barman-cloud')].depends_on).toEqual([operator]);
    expect(r.caracal_cnpg_cluster.depends_on).toEqual([operator, plugin]);
    expect(r[releaseId(json, 'caracal-ha-migrate')].depends_on).toEqual(expect.arrayContaining([operator, plugin, cluster]));
    expect(r['caracal-services'].depends_on).toEqual(expect.arrayContaining([cluster, migrate]));
  });

  test('GIVEN the backup and maintenance CronJobs and the exporter WHEN synthesized THEN the instances admit them and their egress goes to the instances', () => {
    const { json } = defaults();
    const cronJobs = Object.values(resources(json, 'kubernetes_cron_job_v1'));
    expect(cronJobs.map((c) => c.metadata.name).sort()).toEqual(['caracal-audit-partition-maintenance', 'caracal-postgres-backup']);
    const policies = Object.values(resources(json, 'kubernetes_network_policy_v1'));
    const cnpg = policies.find((p) => p.metadata.name === 'postgres-allow-caracal')!;
    const admitted = cnpg.spec.ingress[0].from.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component']);
    expect(admitted).toEqual(expect.arrayContaining(['migration', 'audit-partition-maintenance', 'metrics', 'backup']));
    const egressToInstances = policies.filter((p) =>
      (p.spec.egress ?? []).some((e: Json) => e.to?.some((t: Json) => t.pod_selector?.match_labels?.['cnpg.io/cluster'] === 'postgres')),
    );
    expect(egressToInstances.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(json)).toContain('postgres-rw.caracal-ha.svc');
  });

  test('GIVEN the whole stack WHEN every pod is checked against Pod Security "restricted" THEN all pass', () => {
    const report = checkTerraformJson(defaults().text);
    expect(report.pods.length).toBeGreaterThanOrEqual(4);
    expect(formatViolations(report.violations)).toBe('');
  });

  test('GIVEN monitoring without prometheus-operator WHEN synthesized THEN the Cluster renders no PodMonitor either', () => {
    const { stores } = synth({ monitoring: { prometheusOperator: false } });
    expect((stores.postgres as CloudNativePgCluster).chart.manifests.map((m) => m.kind)).not.toContain('PodMonitor');
  });

  test('GIVEN bad CloudNativePG options WHEN composed THEN one ValidationError names the postgres child and each prop', () => {
    const build = () => synth({ postgres: StoresPostgres.cloudNativePg({ instances: 0, storageSize: '5GB' }) });
    expect(build).toThrow(ValidationError);
    expect(build).toThrow(/stores\/postgres: 2 problems\n {2}- instances: 0 is out of range[^\n]*\n {2}- storageSize: "5GB"/);
  });
});
