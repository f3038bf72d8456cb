// ServicePools: a ConfigMap per service with the connection contract, role settings, Helm values, budget.
import { Construct } from 'constructs';
import {
  AlternatingRotation,
  DatabaseCredentials,
  DatabaseSecrets,
  KeyMaterialSecret,
  PostgresEndpoint,
  PostgresInstance,
  ServicePools,
  ServicePoolsProps,
  SERVICES,
} from '../../../constructs';
import { serviceSelector } from '../../../constructs/internal/labels';
import { byName, Json, only, resources, scope, synthScope, testSecrets } from '../../support/synth';

const endpoint: PostgresEndpoint = {
  host: 'db.example.com',
  port: 5432,
  database: 'caracal',
  sslMode: 'verify-full',
  caCertSecret: { secretName: 'db-ca', key: 'ca.crt' },
};

function build(
  extra: Partial<ServicePoolsProps> = {},
  more: (s: Construct) => Partial<ServicePoolsProps> = () => ({}),
): { json: Json; pools: ServicePools } {
  let pools!: ServicePools;
  const { json } = synthScope((s) => {
    pools = new ServicePools(s, 'pools', {
      environment: 'staging',
      namespace: 'caracal-staging',
      endpoint,
      maxConnections: 300,
      secrets: testSecrets(s, 'staging', 'caracal-staging'),
      ...extra,
      ...more(s),
    });
  });
  return { json, pools };
}

describe('ServicePools', () => {
  test('GIVEN the services WHEN synthesized THEN each gets one ConfigMap with DB_POOL_MAX, the timeouts and the PG* contract', () => {
    const { json, pools } = build({
      services: {
        api: { poolMax: 12, statementTimeout: '15s', idleInTransactionTimeout: '20s', connectionTimeout: '3s', idleTimeout: '1min' },
      },
    });
    expect(Object.keys(resources(json, 'kubernetes_config_map_v1'))).toHaveLength(5);
    expect(byName(json, 'kubernetes_config_map_v1', pools.configMapName('api')).data).toEqual({
      DB_POOL_MAX: '12',
      DB_STATEMENT_TIMEOUT_MS: '15000',
      DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '20000',
      DB_CONNECTION_TIMEOUT_MS: '3000',
      DB_IDLE_TIMEOUT_MS: '60000',
      PGHOST: 'db.example.com',
      PGPORT: '5432',
      PGDATABASE: 'caracal',
      PGUSER: 'caracal_staging_api',
      PGSSLMODE: 'verify-full',
      PGPASSWORD_FILE: '/var/run/secrets/caracal/db/password',
      PGSSLROOTCERT: '/var/run/secrets/caracal/db-ca/ca.crt',
      PGAPPNAME: 'caracal-api',
      PGCONNECT_TIMEOUT: '3',
    });
  });

  test('GIVEN the pools WHEN their role settings are read THEN the server-side timeouts are settings per login role', () => {
    const { pools } = build({ services: { sts: { statementTimeout: '5s', idleInTransactionTimeout: '10s' } } });
    const sts = pools.roleSettings().find((r) => r.role === 'caracal_staging_sts');
    expect(sts).toEqual({
      role: 'caracal_staging_sts',
      settings: { statement_timeout: '5000', idle_in_transaction_session_timeout: '10000' },
    });
    expect(pools.roleSettings().map((r) => r.role)).toEqual(SERVICES.map((s) => `caracal_staging_${s}`));
  });

  test('GIVEN the services WHEN their Helm values are read THEN each has its own ConfigMap and Secret, mounted whole, and its resources', () => {
    const { pools } = build({
      services: { gateway: { replicas: 2, maxReplicas: 5, maxSurge: 2, resources: { limits: { memory: '1Gi' } } } },
    });
    const v = pools.helmValues().gateway!;
    expect(v.envFrom).toEqual([{ configMapRef: { name: 'caracal-gateway-db' } }]);
    expect(v.volumes[0]).toEqual({ name: 'caracal-db-credentials', secret: { secretName: 'caracal-db-gateway', defaultMode: 0o440 } });
    expect(v.volumeMounts.every((m) => !('subPath' in m))).toBe(true);
    expect(v.autoscaling).toEqual({ enabled: true, minReplicas: 2, maxReplicas: 5 });
    expect(v.strategy.rollingUpdate).toEqual({ maxSurge: 2, maxUnavailable: 0 });
    expect(v.resources).toEqual({ limits: { memory: '1Gi' } });
    expect(v.podLabels).toEqual(serviceSelector('caracal-staging', 'gateway'));
    expect(v.automountServiceAccountToken).toBe(false);
  });

  test('GIVEN the services WHEN their pod labels are read THEN they are exactly what the Postgres NetworkPolicy admits', () => {
    let pools!: ServicePools;
    const { json } = synthScope((s) => {
      const secrets = testSecrets(s, 'dev', 'caracal-dev');
      const postgres = new PostgresInstance(s, 'postgres', {
        environment: 'dev',
        namespace: 'caracal-dev',
        owner: secrets.login('owner'),
        requiredConnections: ServicePools.requiredConnections(),
      });
      pools = new ServicePools(s, 'pools', {
        environment: 'dev',
        namespace: 'caracal-dev',
        endpoint: postgres.endpoint,
        maxConnections: postgres.maxConnections,
        secrets,
      });
    });
    const admitted = only(json, 'kubernetes_network_policy_v1').spec.ingress[0].from.map((f: Json) => f.pod_selector.match_labels);
    for (const s of SERVICES) expect(admitted).toContainEqual(pools.helmValues()[s]!.podLabels);
  });

  test('GIVEN key material for some services WHEN their values are read THEN it is mounted only into the services given it', () => {
    let keys!: KeyMaterialSecret;
    const { json, pools } = build({ keyMaterialServices: ['sts', 'gateway'] }, (s) => {
      keys = new KeyMaterialSecret(s, 'keys', { environment: 'staging', namespace: 'caracal-staging' });
      return { keyMaterial: keys };
    });
    expect(keys.secretName).toBe('caracal-keys');
    const values = pools.helmValues();
    expect(values.sts!.volumes).toContainEqual({
      name: 'caracal-key-material',
      secret: { secretName: 'caracal-keys', defaultMode: 0o440 },
    });
    expect(values.api!.volumes.map((v) => v.name)).not.toContain('caracal-key-material');
    expect(byName(json, 'kubernetes_config_map_v1', 'caracal-sts-db').data.CARACAL_HMAC_KEY_FILE).toBe(
      '/var/run/secrets/caracal/keys/hmac-key',
    );
    expect(byName(json, 'kubernetes_config_map_v1', 'caracal-api-db').data.CARACAL_HMAC_KEY_FILE).toBeUndefined();
  });

  test('GIVEN a connection budget over max_connections WHEN the construct is created THEN synth fails showing the arithmetic', () => {
    const big = { replicas: 6, maxSurge: 1, poolMax: 40 };
    const attempt = () => build({ maxConnections: 300, services: { api: big, coordinator: big } });
    expect(attempt).toThrow(
      /services: connection budget api 7x40 \+ coordinator 7x40 \+ audit 3x10 \+ sts 3x10 \+ gateway 3x10 \+ migration job 2 \+ cron jobs 2 \+ exporters 1 \+ reserved 3 = 658 > max_connections 300/,
    );
  });

  test('GIVEN an over budget and unrelated problems WHEN the construct is created THEN all are reported together', () => {
    const big = { replicas: 6, maxSurge: 1, poolMax: 40 };
    const attempt = () => build({ namespace: 'Bad_Namespace', maxConnections: 300, services: { api: big, coordinator: big } });
    expect(attempt).toThrow(/2 problems\n {2}- namespace: [\s\S]*\n {2}- services: connection budget/);
  });

  test('GIVEN the pool settings WHEN the budget is computed statically THEN it is the same, so max_connections can be derived from it', () => {
    const services = { api: { replicas: 3, maxReplicas: 8, poolMax: 15 } };
    const { pools } = build({ services, maxConnections: 1000 });
    expect(ServicePools.requiredConnections(services)).toBe(pools.requiredConnections);
    expect(pools.requiredConnections).toBe(9 * 15 + 4 * 3 * 10 + 2 + 2 + 1 + 3);
  });

  test.each<[string, Partial<ServicePoolsProps>]>([
    ['services.api.poolMax', { services: { api: { poolMax: 0 } } }],
    ['services.api.replicas', { services: { api: { replicas: 1.5 } } }],
    ['services.sts.maxReplicas', { services: { sts: { replicas: 4, maxReplicas: 2 } } }],
    ['services.audit.statementTimeout', { services: { audit: { statementTimeout: 0 as never } } }],
    ['services.audit.statementTimeout', { services: { audit: { statementTimeout: 'forever' as never } } }],
    ['services.gateway.idleInTransactionTimeout', { services: { gateway: { idleInTransactionTimeout: '2h' } } }],
    ['services.coordinator.connectionTimeout', { services: { coordinator: { connectionTimeout: '10min' } } }],
    ['services.api.idleTimeout', { services: { api: { idleTimeout: '10ms' } } }],
    ['services.api.resources.limits.memory', { services: { api: { resources: { limits: { memory: 'lots' } } } } }],
    [
      'services.api.resources.requests.memory',
      { services: { api: { resources: { requests: { memory: '2Gi' }, limits: { memory: '1Gi' } } } } },
    ],
    ['services.billing', { services: { billing: {} } as never }],
    ['otherConnections.migrationJob', { otherConnections: { migrationJob: -1 } }],
    ['secretMountPath', { secretMountPath: 'relative/path' }],
    ['namePrefix', { namePrefix: 'Caracal_Pools' }],
    ['maxConnections', { maxConnections: 0 }],
    ['keyMaterialServices', { keyMaterialServices: ['billing' as never] }],
    ['keyMaterial', { keyMaterialServices: ['sts'] }],
    ['keyMaterialMountPath', { keyMaterialMountPath: '/var/run/secrets/caracal/db' }],
  ])('GIVEN a bad %s WHEN the construct is created THEN the error names it', (field, extra) => {
    const s = scope();
    expect(
      () =>
        new ServicePools(s, 'pools', {
          environment: 'staging',
          namespace: 'caracal-staging',
          endpoint,
          maxConnections: 300,
          secrets: testSecrets(s),
          ...extra,
        }),
    ).toThrow(new RegExp(`- ${field}: `));
  });
});

describe('ServicePools with alternating existing Secrets', () => {
  const withRotation = (api: string | AlternatingRotation) =>
    build({}, (s) => ({
      secrets: new DatabaseSecrets(s, 'vault-secrets', {
        environment: 'staging',
        namespace: 'caracal-staging',
        credentials: DatabaseCredentials.fromExistingSecret('vault-db', { rotation: { api } }),
      }),
    }));
  const api = (b: { json: Json; pools: ServicePools }) => {
    const values = b.pools.helmValues().api!;
    return {
      user: byName(b.json, 'kubernetes_config_map_v1', b.pools.configMapName('api')).data.PGUSER,
      secret: values.volumes.find((v) => v.name === 'caracal-db-credentials')?.secret.secretName,
      annotation: values.podAnnotations['caracal.dev/database-credentials'],
    };
  };

  test("GIVEN slot b staged, then made active WHEN synthesized THEN only the switch moves api's PGUSER, mounted Secret and credentials annotation to slot b", () => {
    const plain = api(withRotation('0'));
    const staged = api(withRotation({ a: '0', b: '1' }));
    const switched = api(withRotation({ a: '0', b: '1', active: 'b' }));
    expect(staged).toEqual(plain);
    expect(plain).toMatchObject({ user: 'caracal_staging_api', secret: 'vault-db-api' });
    expect(switched).toMatchObject({ user: 'caracal_staging_api_b', secret: 'vault-db-api-b' });
    expect(switched.annotation).not.toBe(staged.annotation);
    const sts = (b: { json: Json; pools: ServicePools }) => b.pools.helmValues().sts;
    expect(sts(withRotation({ a: '0', b: '1', active: 'b' }))).toEqual(sts(withRotation('0')));
  });
});
