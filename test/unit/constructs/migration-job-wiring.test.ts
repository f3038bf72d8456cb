// MigrationJob inside CaracalStores: created with the stores' database, secrets and pools, admitted by the
// Postgres NetworkPolicy, and a dependency of the services' release and the maintenance CronJob.
import { Testing } from 'cdktf';
import { CaracalStores, StoresPostgres } from '../../../constructs/caracal-stores';
import { Json, resources } from '../../support/synth';

function synth(postgres = StoresPostgres.inCluster({ resources: { requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '4Gi' } } })) {
  let stores!: CaracalStores;
  const text = Testing.synthScope((s) => {
    stores = new CaracalStores(s, 'stores', { environment: 'prod', namespace: 'caracal-prod', postgres });
  });
  return { json: JSON.parse(text) as Json, stores };
}

const releaseAddress = (json: Json, name: string) => {
  const [id] = Object.entries(resources(json, 'helm_release')).find(([, r]) => (r as Json).name === name)!;
  return `helm_release.${id}`;
};

describe('MigrationJob in CaracalStores', () => {
  const { json, stores } = synth();

  test("GIVEN the stores THEN the migration release runs with the stores' owner login and the pools' settings", () => {
    const env = stores.migrationJob.chart.manifests.find((m) => m.kind === 'Job') as Json;
    const vars = Object.fromEntries(env.spec.template.spec.containers[0].env.map((e: Json) => [e.name, e.value]));
    expect([vars.PGUSER, vars.PGHOST]).toEqual(['caracal_prod_owner', stores.postgresEndpoint.host]);
    expect(resources(json, 'helm_release')[releaseAddress(json, 'caracal-prod-migrate').split('.')[1]].set[0].value).toBe(
      stores.migrationJob.contentHash,
    );
  });

  test('GIVEN the stores THEN the Postgres NetworkPolicy admits the migration Job pods', () => {
    const pg = Object.values(resources(json, 'kubernetes_network_policy_v1')).find(
      (p) => (p as Json).metadata.name === 'postgres-allow-caracal',
    ) as Json;
    expect(pg.spec.ingress[0].from.map((f: Json) => f.pod_selector.match_labels)).toContainEqual(stores.migrationJob.podLabels);
  });

  test('GIVEN the stores THEN the maintenance CronJob and the services depend on the migration release', () => {
    const address = releaseAddress(json, 'caracal-prod-migrate');
    const cron = Object.values(resources(json, 'kubernetes_cron_job_v1'))[0] as Json;
    expect(cron.depends_on).toContain(address);
    expect(stores.servicesDependOn).toContain(stores.migrationJob.release);
  });

  test('GIVEN an external database THEN the Job egress goes to the database port on the given CIDRs and the CA is mounted', () => {
    const ext = synth(
      StoresPostgres.external({
        host: 'db.example.com',
        sslMode: 'verify-full',
        caCertSecret: { secretName: 'db-ca' },
        instanceMemory: '8Gi',
      }),
    );
    const job = ext.stores.migrationJob.chart.manifests.find((m) => m.kind === 'Job') as Json;
    expect(job.spec.template.spec.volumes.map((v: Json) => v.secret?.secretName).filter(Boolean)).toContain('db-ca');
    const np = Object.values(resources(ext.json, 'kubernetes_network_policy_v1')).find(
      (p) => (p as Json).metadata.name === 'caracal-prod-migrate-egress',
    ) as Json;
    expect(np.spec.egress[0].ports).toEqual([{ port: '5432', protocol: 'TCP' }]);
  });
});
