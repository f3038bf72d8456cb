// Every CloudNativePG object CloudNativePgCluster renders validates against the CRDs of the pinned operator and
// plugin (test/fixtures/cnpg, with their source), with ajv; and the validator itself rejects what the API server would.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CloudNativePgCluster, CloudNativePgClusterProps, PostgresCapacity } from '../../../../constructs';
import { CNPG_OPERATOR_VERSION } from '../../../../constructs/cnpg-versions';
import type { KubeObject } from '../../../../constructs/internal/hook-chart';
import { loadCrdSchemas, schemaFor } from '../../../support/crd-schema';
import { synthScope, testSecrets } from '../../../support/synth';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'fixtures', 'cnpg');
const schemas = [
  'postgresql.cnpg.io_clusters.yaml',
  'postgresql.cnpg.io_scheduledbackups.yaml',
  'barmancloud.cnpg.io_objectstores.yaml',
].flatMap((f) => loadCrdSchemas(path.join(FIXTURES, f)));
const CNPG_GROUPS = ['postgresql.cnpg.io/v1', 'barmancloud.cnpg.io/v1'];

function rendered(extra: Partial<CloudNativePgClusterProps> = {}): KubeObject[] {
  let cluster!: CloudNativePgCluster;
  synthScope((s) => {
    const secrets = testSecrets(s, 'ha', 'caracal-ha');
    cluster = new CloudNativePgCluster(s, 'postgres', {
      environment: 'ha',
      namespace: 'caracal-ha',
      owner: secrets.login('owner'),
      ...extra,
    });
  });
  return [...cluster.chart.manifests];
}

const FULL: Partial<CloudNativePgClusterProps> = {
  instances: 5,
  capacity: PostgresCapacity.fromResources({ memory: '8Gi', cpus: 4, workload: 'oltp', storage: 'ssd' }),
  parameters: { idle_in_transaction_session_timeout: '60s', 'pg_stat_statements.max': '10000' },
  resources: { requests: { cpu: '2', memory: '8Gi' }, limits: { cpu: '4', memory: '8Gi' } },
  storageSize: '100Gi',
  storageClassName: 'fast-ssd',
  walStorageSize: '20Gi',
  podAntiAffinity: 'preferred',
  backup: {
    destinationPath: 's3://caracal-backups/ha/',
    endpointUrl: 'https://minio.example.com',
    credentialsSecret: { name: 'caracal-backup-s3', accessKeyIdKey: 'id', secretAccessKeyKey: 'secret' },
    schedule: '30 2 * * *',
    retention: '4w',
  },
};

describe('CloudNativePG objects against the CRDs of the pinned versions', () => {
  test('GIVEN the fixtures WHEN loaded THEN they hold the Cluster, ScheduledBackup and ObjectStore schemas', () => {
    expect(schemas.map((s) => `${s.apiVersion} ${s.kind}`).sort()).toEqual([
      'barmancloud.cnpg.io/v1 ObjectStore',
      'postgresql.cnpg.io/v1 Cluster',
      'postgresql.cnpg.io/v1 ScheduledBackup',
    ]);
    expect(CNPG_OPERATOR_VERSION).toBe('1.30.0');
  });

  test.each([
    ['the defaults', {}],
    ['every option set', FULL],
    [
      'backups with the default keys and schedule',
      { backup: { destinationPath: 's3://caracal-backups', credentialsSecret: { name: 's3' } } },
    ],
  ])('GIVEN %s WHEN the chart is rendered THEN every CloudNativePG object validates against its CRD', (_name, extra) => {
    const objects = rendered(extra as Partial<CloudNativePgClusterProps>).filter((o) => CNPG_GROUPS.includes(o.apiVersion));
    expect(objects.length).toBeGreaterThanOrEqual(1);
    for (const o of objects)
      expect({ object: `${o.kind}/${o.metadata.name}`, problems: schemaFor(schemas, o).validate(o) }).toEqual({
        object: `${o.kind}/${o.metadata.name}`,
        problems: [],
      });
  });

  test('GIVEN every option set WHEN rendered THEN a Cluster, an ObjectStore and a ScheduledBackup are validated (nothing skipped)', () => {
    const kinds = rendered(FULL)
      .filter((o) => CNPG_GROUPS.includes(o.apiVersion))
      .map((o) => o.kind)
      .sort();
    expect(kinds).toEqual(['Cluster', 'ObjectStore', 'ScheduledBackup']);
  });

  test.each([
    ['an unknown field', (c: any) => (c.spec.instancez = 3), /unknown field "instancez"/],
    ['instances 0', (c: any) => (c.spec.instances = 0), /\/spec\/instances: must be >= 1/],
    ['a wrong type', (c: any) => (c.spec.enableSuperuserAccess = 'no'), /\/spec\/enableSuperuserAccess: must be boolean/],
    [
      'a value outside an enum',
      (c: any) => (c.spec.primaryUpdateMethod = 'failover'),
      /primaryUpdateMethod: must be equal to one of the allowed values/,
    ],
    ['a plugin without its name', (c: any) => delete c.spec.plugins[0].name, /must have required property 'name'/],
  ])('GIVEN a Cluster with %s WHEN validated THEN the schema rejects it', (_name, mutate, expected) => {
    const cluster = JSON.parse(JSON.stringify(rendered(FULL).find((o) => o.kind === 'Cluster'))) as KubeObject;
    mutate(cluster);
    expect(schemaFor(schemas, cluster).validate(cluster).join('\n')).toMatch(expected);
  });

  test('GIVEN an int-or-string field (a Quantity) WHEN validated with a number or a string THEN both pass', () => {
    const cluster = JSON.parse(JSON.stringify(rendered().find((o) => o.kind === 'Cluster'))) as KubeObject & { spec: any };
    cluster.spec.resources.limits.cpu = 2; // int-or-string (a Quantity)
    cluster.spec.resources.requests.cpu = '500m';
    expect(schemaFor(schemas, cluster).validate(cluster)).toEqual([]);
  });

  test('GIVEN an ObjectStore with a bad retention WHEN validated THEN the pattern rejects it', () => {
    const store = JSON.parse(JSON.stringify(rendered(FULL).find((o) => o.kind === 'ObjectStore'))) as KubeObject & { spec: any };
    store.spec.retentionPolicy = '30 days';
    expect(schemaFor(schemas, store).validate(store).join('\n')).toMatch(/\/spec\/retentionPolicy: must match pattern/);
  });
});

describe('the runbook recovery Cluster', () => {
  test('GIVEN the recovery Cluster in docs/operations.md WHEN validated against the pinned CRD THEN it is accepted', () => {
    const runbook = readFileSync(path.join(__dirname, '..', '..', '..', '..', 'docs', 'operations.md'), 'utf8');
    const section = runbook.slice(runbook.indexOf('### Restore with CloudNativePG'));
    const block = /```yaml\n([\s\S]*?)```/.exec(section)![1].replace(/<ns>/g, 'caracal-ha').replace(/<env>/g, 'ha');
    const cluster = parse(block) as KubeObject;
    expect(cluster.kind).toBe('Cluster');
    expect(schemaFor(schemas, cluster).validate(cluster)).toEqual([]);
  });
});
