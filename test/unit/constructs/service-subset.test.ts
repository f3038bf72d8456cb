// A subset of the five services (issue 12 point 7): `services: ['api', 'audit']` on CaracalStores and the
// lower-level constructs. Database logins and Secrets, pool ConfigMaps, Redis ACL users, Secrets and connection
// ConfigMaps, the Job's provisioning, the NetworkPolicies' default clients and the connection budget follow the set.
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import {
  CaracalStores,
  CaracalStoresProps,
  DatabaseSecrets,
  PostgresInstance,
  RedisStreams,
  ServiceName,
  ServicePools,
  STREAM_ACCESS,
  StoresPostgres,
} from '../../../constructs';
import { Json, byName, resources, scope, validationErrorOf } from '../../support/synth';
import * as yaml from 'yaml';

const SUBSET: readonly ServiceName[] = ['audit', 'api'];

function synth(props: Partial<CaracalStoresProps> = {}): { json: Json; text: string; stores: CaracalStores } {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'platform');
  const stores = new CaracalStores(stack, 'stores', {
    environment: 'qa',
    namespace: 'caracal-qa',
    postgres: StoresPostgres.inCluster({ resources: { requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '4Gi' } } }),
    ...props,
  });
  const text = Testing.synth(stack);
  return { json: JSON.parse(text), text, stores };
}

const names = (json: Json, type: string): string[] => Object.values(resources(json, type)).map((r: Json) => r.metadata.name);
/** The logins the migration Job's provision.json lists (what the Job creates). */
const provisioned = (stores: CaracalStores): string[] => {
  const runner = stores.migrationJob.chart.manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-runner')) as Json;
  const config = JSON.parse(Buffer.from(runner.binaryData['provision.json'], 'base64').toString('utf8'));
  return config.logins.map((l: Json) => l.loginRole);
};
/** Pod selectors (component labels) a store's ingress admits. */
const admittedComponents = (json: Json, policy: string): string[] =>
  byName(json, 'kubernetes_network_policy_v1', policy).spec.ingress.flatMap((r: Json) =>
    r.from.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component']),
  );

describe('CaracalStores with a subset of the services', () => {
  const subset = synth({ services: SUBSET, pools: { api: { poolMax: 20 } } });

  test('GIVEN services audit and api WHEN synthesized THEN exactly their database and Redis Secrets and ConfigMaps exist, besides the built-in logins and users', () => {
    const { json } = subset;
    expect(names(json, 'kubernetes_secret_v1').sort()).toEqual(
      [
        'caracal-db-owner',
        'caracal-db-api',
        'caracal-db-audit',
        'caracal-db-maintenance',
        'caracal-db-monitoring',
        'caracal-db-backup',
        'caracal-redis-api',
        'caracal-redis-audit',
        'caracal-redis-healthcheck',
        'caracal-redis-ops',
        'caracal-redis-exporter',
        'caracal-redis-backup',
        'caracal-redis-reloader',
        'caracal-redis-acl',
        'caracal-keys',
      ].sort(),
    );
    const configMaps = names(json, 'kubernetes_config_map_v1');
    expect(configMaps.filter((n) => /^caracal-[a-z]+-(db|redis)$/.test(n)).sort()).toEqual(
      ['caracal-api-db', 'caracal-audit-db', 'caracal-api-redis', 'caracal-audit-redis'].sort(),
    );
    expect(Object.keys(resources(json, 'random_password')).filter((id) => /_(coordinator|sts|gateway)$/.test(id))).toEqual([]);
  });

  test('GIVEN services audit and api WHEN synthesized THEN the stores list them in the canonical order and hand out values for them only', () => {
    const { stores } = subset;
    expect(stores.services).toEqual(['api', 'audit']);
    expect(Object.keys(stores.helmValues())).toEqual(['api', 'audit']);
    expect(stores.configMapNames.database).toEqual({ api: 'caracal-api-db', audit: 'caracal-audit-db' });
    expect(Object.keys(stores.secretNames.database)).toEqual(['owner', 'api', 'audit', 'maintenance', 'monitoring', 'backup']);
    expect(stores.redis.users).toEqual(['api', 'audit', 'healthcheck', 'ops', 'exporter', 'backup']);
    expect(stores.serviceWorkload('audit').labels['app.kubernetes.io/component']).toBe('audit');
  });

  test('GIVEN services audit and api WHEN the migration Job is rendered THEN it provisions only their logins and the built-in ones, and mounts only their Secrets', () => {
    const { stores } = subset;
    expect(provisioned(stores)).toEqual(['api', 'audit', 'maintenance', 'monitoring', 'backup'].map((l) => `caracal_qa_${l}`));
    const job = stores.migrationJob.chart.manifests.find((m) => m.kind === 'Job') as Json;
    const secrets = job.spec.template.spec.volumes.flatMap((v: Json) => (v.secret ? [v.secret.secretName] : []));
    expect(secrets.filter((n: string) => /coordinator|sts|gateway/.test(n))).toEqual([]);
  });

  test('GIVEN services audit and api WHEN synthesized THEN the ACL file has only their service users and the NetworkPolicies admit only their pods', () => {
    const { json } = subset;
    const acl = Object.values(resources(json, 'kubernetes_secret_v1')).find((s: Json) => s.metadata.name === 'caracal-redis-acl') as Json;
    const users = (Object.values(acl.data)[0] as string).split('\n').flatMap((l) => /^user (\S+)/.exec(l)?.[1] ?? []);
    expect(users).toEqual(['default', 'api', 'audit', 'healthcheck', 'ops', 'exporter', 'backup', 'reloader']);
    for (const policy of ['postgres-allow-caracal', 'redis-allow-caracal']) {
      const admitted = admittedComponents(json, policy);
      expect(admitted).toEqual(expect.arrayContaining(['api', 'audit']));
      expect(admitted.filter((c) => ['coordinator', 'sts', 'gateway'].includes(c))).toEqual([]);
    }
  });

  test('GIVEN services audit and api WHEN max_connections is derived THEN the budget counts only their pools (api 3x20 + audit 3x10 + jobs 2 + cron jobs 2 + exporters 1 + reserved)', () => {
    const { stores, json } = subset;
    const reserved = stores.postgres.reservedConnections;
    expect(ServicePools.requiredConnections({ api: { poolMax: 20 } }, {}, 3, ['api', 'audit'])).toBe(60 + 30 + 2 + 2 + 1 + 3);
    expect(stores.pools.requiredConnections).toBe(60 + 30 + 2 + 2 + 1 + reserved);
    expect(stores.postgres.connectionBudget).toBeGreaterThanOrEqual(60 + 30 + 2 + 2 + 1);
    // All five with the same settings: 60 + 4 x 30 + 8, and a larger max_connections derived from it.
    expect(ServicePools.requiredConnections({ api: { poolMax: 20 } })).toBe(188);
    const five = synth({ pools: { api: { poolMax: 20 } } });
    expect(five.stores.pools.requiredConnections).toBe(60 + 4 * 30 + 2 + 2 + 1 + five.stores.postgres.reservedConnections);
    expect(stores.postgres.maxConnections).toBeLessThan(five.stores.postgres.maxConnections);
    expect(JSON.stringify(json)).toContain(`"max_connections=${stores.postgres.maxConnections}"`);
  });

  test('GIVEN services audit and api WHEN the alert rules are rendered THEN a stream expects consumer groups of its deployed readers only', () => {
    const expr = (stores: CaracalStores) =>
      (yaml.parse(stores.monitoring.rulesFile).groups[0].rules as Json[]).find((r) => r.alert === 'CaracalStreamGroupMissing')!
        .expr as string;
    const counts = (e: string) =>
      Object.fromEntries([...e.matchAll(/stream="caracal:stream:(\w+)"\} < (\d+)\)/g)].map((m) => [m[1], Number(m[2])]));
    const expected = (services: readonly string[]) =>
      Object.fromEntries(
        Object.entries(STREAM_ACCESS)
          .map(([s, a]) => [s, a.consumers.filter((c) => services.includes(c)).length] as const)
          .filter(([, n]) => n > 0),
      );
    expect(counts(expr(subset.stores))).toEqual(expected(['api', 'audit']));
    expect(counts(expr(synth().stores))).toEqual(expected(['api', 'coordinator', 'audit', 'sts', 'gateway']));
  });

  test('GIVEN services audit and api WHEN serviceWorkload is asked for sts THEN a ValidationError says sts is not deployed and names the deployed services', () => {
    const { stores } = subset;
    expect(() => (stores as CaracalStores).serviceWorkload('sts')).toThrow(
      /platform\/stores: 1 problem\n {2}- service: "sts" is not a service of these stores: expected one of api, audit \(sts is not deployed: add it to `services` to deploy it\)/,
    );
    expect(() => stores.pools.configMapName('gateway')).toThrow(/"gateway" is not a service of these stores: expected one of api, audit/);
    expect(() => stores.secrets.login('coordinator')).toThrow(/"coordinator" is not a login of these secrets/);
    expect(() => stores.redis.connectionConfigMapName('sts')).toThrow(/expected one of api, audit/);
  });

  test('GIVEN no services prop WHEN synthesized THEN all five are deployed, in the same output as before', () => {
    const all = synth();
    expect(all.stores.services).toEqual(['api', 'coordinator', 'audit', 'sts', 'gateway']);
    expect(provisioned(all.stores)).toHaveLength(8);
    // Naming all five is the default, byte for byte.
    expect(synth({ services: ['gateway', 'sts', 'audit', 'coordinator', 'api'] }).text).toBe(all.text);
  });
});

describe('services validation', () => {
  const stores =
    (services: unknown, extra: Partial<CaracalStoresProps> = {}) =>
    () =>
      new CaracalStores(scope(), 'stores', {
        environment: 'qa',
        namespace: 'caracal-qa',
        postgres: StoresPostgres.inCluster(),
        services: services as ServiceName[],
        ...extra,
      });

  test.each([
    [
      [],
      'services: [] is empty: expected a non-empty list of Caracal services, each once, from api, coordinator, audit, sts, gateway (leave it out for all five)',
    ],
    [
      ['api', 'auditt'],
      'services[1]: "auditt" is not a Caracal service: expected one of api, coordinator, audit, sts, gateway; did you mean "audit"?',
    ],
    [['api', 'sts', 'api'], 'services[2]: "api" is listed twice: expected a non-empty list of Caracal services, each once'],
    ['api', 'services: "api" is not a list of services: expected a non-empty list of Caracal services'],
    [[42], 'services[0]: 42 is not a Caracal service: expected one of api, coordinator, audit, sts, gateway'],
  ])(
    'GIVEN services %j WHEN CaracalStores is built THEN the error names the field, the value and what is accepted',
    (services, message) => {
      const e = validationErrorOf(stores(services));
      expect(e.problems.map((p) => `${p.field}: ${p.message}`)).toEqual([expect.stringContaining(message)]);
    },
  );

  test('GIVEN a misspelled and a twice-listed service WHEN built THEN one error lists both', () => {
    const e = validationErrorOf(stores(['api', 'gatway', 'api']));
    expect(e.problems.map((p) => p.field)).toEqual(['services[1]', 'services[2]']);
  });

  test('GIVEN pool settings for a service not deployed and a misspelled pool key WHEN built THEN one error lists both', () => {
    const e = validationErrorOf(stores(['api', 'audit'], { pools: { sts: { poolMax: 5 }, adit: {} } as CaracalStoresProps['pools'] }));
    expect(e.problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      expect.stringMatching(/^pools\.adit: "adit" is not a Caracal service: .*did you mean "audit"\?/),
      'pools.sts: "sts" is not among services: expected one of api, audit (or add sts to services)',
    ]);
  });

  test.each([
    ['DatabaseSecrets', (s: Construct) => new DatabaseSecrets(s, 'secrets', { environment: 'qa', namespace: 'qa', services: [] })],
    [
      'RedisStreams',
      (s: Construct) => new RedisStreams(s, 'redis', { environment: 'qa', namespace: 'qa', services: ['ap' as ServiceName] }),
    ],
    [
      'ExternalRedis',
      (s: Construct) =>
        RedisStreams.fromAttributes(s, 'redis', {
          environment: 'qa',
          namespace: 'qa',
          host: 'redis.example.com',
          secretPrefix: 'r',
          services: ['api', 'api'],
        }),
    ],
    [
      'PostgresInstance',
      (s: Construct) =>
        new PostgresInstance(s, 'postgres', {
          environment: 'qa',
          namespace: 'qa',
          owner: new DatabaseSecrets(s, 'secrets', { environment: 'qa', namespace: 'qa' }).login('owner'),
          services: [],
        }),
    ],
  ])('GIVEN %s with a bad services list WHEN built THEN its error names services', (_name, build) => {
    expect(validationErrorOf(() => build(scope())).problems.map((p) => p.field)).toEqual([expect.stringMatching(/^services/)]);
  });
});

describe('lower-level constructs with a subset', () => {
  test('GIVEN DatabaseSecrets for api and audit WHEN ServicePools uses them THEN the pools follow the secrets, and settings for another service are refused', () => {
    const s = scope();
    const secrets = new DatabaseSecrets(s, 'secrets', { environment: 'qa', namespace: 'qa', services: ['audit', 'api'] });
    const endpoint = { host: 'db', port: 5432, database: 'caracal', sslMode: 'require' as const };
    const pools = new ServicePools(s, 'pools', { environment: 'qa', namespace: 'qa', endpoint, maxConnections: 100, secrets });
    expect(pools.deployedServices).toEqual(['api', 'audit']);
    expect(pools.roleSettings().map((r) => r.role)).toEqual(['caracal_qa_api', 'caracal_qa_audit']);
    expect(Object.keys(pools.helmValues())).toEqual(['api', 'audit']);
    expect(secrets.allLogins.map((l) => l.login)).toEqual(['owner', 'api', 'audit', 'maintenance', 'monitoring', 'backup']);
    const e = validationErrorOf(
      () =>
        new ServicePools(s, 'pools2', {
          environment: 'qa',
          namespace: 'qa',
          endpoint,
          maxConnections: 100,
          secrets,
          services: { sts: {} },
        }),
    );
    expect(e.problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      'services.sts: "sts" is not a deployed service (secrets.services): expected one of api, audit',
    ]);
  });

  test('GIVEN a budget over max_connections with two services WHEN ServicePools is built THEN the sum names only those two', () => {
    const s = scope();
    const secrets = new DatabaseSecrets(s, 'secrets', { environment: 'qa', namespace: 'qa', services: ['api', 'audit'] });
    const endpoint = { host: 'db', port: 5432, database: 'caracal', sslMode: 'require' as const };
    const e = validationErrorOf(
      () => new ServicePools(s, 'pools', { environment: 'qa', namespace: 'qa', endpoint, maxConnections: 50, secrets }),
    );
    expect(e.problems[0].message).toMatch(
      /^connection budget api 3x10 \+ audit 3x10 \+ migration job 2 \+ cron jobs 2 \+ exporters 1 \+ reserved 3 = 68 > max_connections 50/,
    );
  });

  test('GIVEN an external Redis for api only WHEN built THEN only the api connection ConfigMap exists and only the api user Secret is expected', () => {
    const { json } = (() => {
      const app = Testing.app();
      const stack = new TerraformStack(app, 'x');
      const redis = RedisStreams.fromAttributes(stack, 'redis', {
        environment: 'qa',
        namespace: 'qa',
        host: 'redis.example.com',
        secretPrefix: 'managed-redis',
        services: ['api'],
      });
      expect(redis.users).toEqual(['api', 'healthcheck', 'ops', 'exporter', 'backup']);
      expect(() => redis.secretName('sts')).toThrow(/unknown Redis user "sts"/);
      return { json: JSON.parse(Testing.synth(stack)) };
    })();
    expect(names(json, 'kubernetes_config_map_v1')).toEqual(['caracal-api-redis']);
  });
});
