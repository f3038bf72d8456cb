// allowFrom (connections, the way cdk8s-plus has connections.allowFrom): a store admits one more client workload by
// its pod selector, both sides are created (the store's ingress rule, the client's egress rule), and the defaults
// (services, migration Job, maintenance CronJob, exporters) stay admitted; bad clients are errors naming the field.
import { CaracalStores, StoresPostgres } from '../../../constructs/caracal-stores';
import { PostgresInstance } from '../../../constructs/postgres-instance';
import { RedisStreams } from '../../../constructs/redis-streams';
import { Json, byName, resources, scope, synthScope, testSecrets } from '../../support/synth';

const components = (policy: Json): string[] =>
  policy.spec.ingress[0].from.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component']);
const DEFAULT_POSTGRES_CLIENTS = ['api', 'coordinator', 'audit', 'sts', 'gateway', 'migration', 'audit-partition-maintenance', 'metrics'];

describe('PostgresInstance.allowFrom', () => {
  test('GIVEN a reporting worker WHEN admitted THEN the database gets its ingress rule, the worker its egress rule, and the defaults stay', () => {
    const { json } = synthScope((s) => {
      const db = new PostgresInstance(s, 'postgres', {
        environment: 'dev',
        namespace: 'caracal-dev',
        owner: testSecrets(s).login('owner'),
      });
      db.allowFrom('reports', { podSelector: { app: 'reports' } });
    });
    expect(components(byName(json, 'kubernetes_network_policy_v1', 'postgres-allow-caracal'))).toEqual(DEFAULT_POSTGRES_CLIENTS);
    const ingress = byName(json, 'kubernetes_network_policy_v1', 'postgres-allow-reports').spec;
    expect(ingress.policy_types).toEqual(['Ingress']);
    expect(ingress.pod_selector.match_labels['app.kubernetes.io/name']).toBe('postgres');
    expect(ingress.ingress).toEqual([
      { from: [{ pod_selector: { match_labels: { app: 'reports' } } }], ports: [{ port: '5432', protocol: 'TCP' }] },
    ]);
    const egress = byName(json, 'kubernetes_network_policy_v1', 'reports-to-postgres');
    expect(egress.metadata.namespace).toBe('caracal-dev');
    expect(egress.spec.policy_types).toEqual(['Egress']);
    expect(egress.spec.pod_selector.match_labels).toEqual({ app: 'reports' });
    expect(egress.spec.egress[0].to[0].pod_selector.match_labels['app.kubernetes.io/name']).toBe('postgres');
    expect(egress.spec.egress[0].ports).toEqual([{ port: '5432', protocol: 'TCP' }]);
    expect(egress.spec.egress[1].ports.map((p: Json) => p.port)).toEqual(['53', '53']);
  });

  test('GIVEN a client in another namespace WHEN admitted THEN both rules name the other side’s namespace, and egress false leaves the client alone', () => {
    const { json } = synthScope((s) => {
      const db = new PostgresInstance(s, 'postgres', {
        environment: 'dev',
        namespace: 'caracal-dev',
        owner: testSecrets(s).login('owner'),
      });
      db.allowFrom('bi', { podSelector: { app: 'bi' }, namespace: 'analytics' });
      db.allowFrom('theirs', { podSelector: { app: 'theirs' }, egress: false });
    });
    const from = byName(json, 'kubernetes_network_policy_v1', 'postgres-allow-bi').spec.ingress[0].from[0];
    expect(from.namespace_selector.match_labels).toEqual({ 'kubernetes.io/metadata.name': 'analytics' });
    const egress = byName(json, 'kubernetes_network_policy_v1', 'bi-to-postgres');
    expect(egress.metadata.namespace).toBe('analytics');
    expect(egress.spec.egress[0].to[0].namespace_selector.match_labels).toEqual({ 'kubernetes.io/metadata.name': 'caracal-dev' });
    const names = Object.values(resources(json, 'kubernetes_network_policy_v1')).map((p: Json) => p.metadata.name);
    expect(names).toContain('postgres-allow-theirs');
    expect(names).not.toContain('theirs-to-postgres');
  });

  test('GIVEN an external database WHEN a client is admitted THEN only its egress rule exists (any address, the port), in the namespace it names', () => {
    const { json } = synthScope((s) => {
      const db = PostgresInstance.fromAttributes(s, 'postgres', { host: 'db.example.com' });
      db.allowFrom('reports', { podSelector: { app: 'reports' }, namespace: 'caracal-prod' });
    });
    const policies = Object.values(resources(json, 'kubernetes_network_policy_v1'));
    expect(policies).toHaveLength(1);
    expect(policies[0].metadata).toMatchObject({ name: 'reports-to-postgres', namespace: 'caracal-prod' });
    expect(policies[0].spec.egress[0]).toEqual({ ports: [{ port: '5432', protocol: 'TCP' }] });
  });

  test.each<[string, string, Record<string, unknown>]>([
    ['podSelector', 'reports', { podSelector: {} }],
    ['podSelector.app', 'reports', { podSelector: { app: 'a b' } }],
    ['id', 'Reports_Worker', { podSelector: { app: 'reports' } }],
    ['namespace', 'reports', { podSelector: { app: 'reports' }, namespace: 'Analytics' }],
    ['egress', 'reports', { podSelector: { app: 'reports' }, egress: 'yes' }],
    ['podselector', 'reports', { podselector: { app: 'reports' }, podSelector: { app: 'reports' } }],
  ])('GIVEN a bad %s WHEN a client is admitted THEN the error names it', (field, id, client) => {
    const s = scope();
    const db = new PostgresInstance(s, 'postgres', { environment: 'dev', namespace: 'caracal-dev', owner: testSecrets(s).login('owner') });
    expect(() => db.allowFrom(id, client as never)).toThrow(new RegExp(`- ${field}: `));
  });

  test('GIVEN a misspelled client key WHEN admitted THEN the error names the closest known key', () => {
    const s = scope();
    const db = new PostgresInstance(s, 'postgres', { environment: 'dev', namespace: 'caracal-dev', owner: testSecrets(s).login('owner') });
    expect(() => db.allowFrom('reports', { podSelector: { app: 'r' }, egres: false } as never)).toThrow(
      /egres: "egres" is not a .*did you mean "egress"\?/,
    );
  });

  test('GIVEN an external database WHEN a client without a namespace is admitted THEN the error says the namespace is required', () => {
    const db = PostgresInstance.fromAttributes(scope(), 'postgres', { host: 'db.example.com' });
    expect(() => db.allowFrom('reports', { podSelector: { app: 'reports' } })).toThrow(/- namespace: undefined is required/);
  });
});

describe('RedisStreams.allowFrom', () => {
  test('GIVEN a client WHEN admitted THEN Redis gets its ingress rule on 6379 and the client its egress rule, beside the defaults', () => {
    const { json } = synthScope((s) => {
      const redis = new RedisStreams(s, 'redis', { environment: 'dev', namespace: 'caracal-dev' });
      redis.allowFrom('reports', { podSelector: { app: 'reports' } });
    });
    expect(components(byName(json, 'kubernetes_network_policy_v1', 'redis-allow-caracal'))).toEqual([
      'api',
      'coordinator',
      'audit',
      'sts',
      'gateway',
      'metrics',
    ]);
    expect(byName(json, 'kubernetes_network_policy_v1', 'redis-allow-reports').spec.ingress[0].ports).toEqual([
      { port: '6379', protocol: 'TCP' },
    ]);
    expect(byName(json, 'kubernetes_network_policy_v1', 'reports-to-redis').spec.egress[0].ports).toEqual([
      { port: '6379', protocol: 'TCP' },
    ]);
  });
});

describe('CaracalStores connections', () => {
  test('GIVEN allowedClients and allowFrom on the composite WHEN synthesized THEN the services, the migration Job, the maintenance CronJob, the exporters and the backup CronJob are still admitted', () => {
    const { json } = synthScope((s) => {
      const stores = new CaracalStores(s, 'stores', {
        environment: 'prod',
        namespace: 'caracal-prod',
        postgres: StoresPostgres.inCluster({ allowedClients: [{ app: 'reporting-worker' }] }),
        redis: { allowedClients: [{ app: 'reporting-worker' }] },
        migrationJob: { runnerBundlePath: __filename },
      });
      stores.postgres.allowFrom('bi', { podSelector: { app: 'bi' } });
    });
    const pg = byName(json, 'kubernetes_network_policy_v1', 'postgres-allow-caracal');
    expect(components(pg)).toEqual([...DEFAULT_POSTGRES_CLIENTS, undefined, 'backup']);
    expect(pg.spec.ingress[0].from[8].pod_selector.match_labels).toEqual({ app: 'reporting-worker' });
    expect(components(byName(json, 'kubernetes_network_policy_v1', 'redis-allow-caracal'))).toEqual([
      'api',
      'coordinator',
      'audit',
      'sts',
      'gateway',
      'metrics',
      undefined,
      'backup',
    ]);
    expect(byName(json, 'kubernetes_network_policy_v1', 'postgres-allow-bi').spec.policy_types).toEqual(['Ingress']);
  });
});
