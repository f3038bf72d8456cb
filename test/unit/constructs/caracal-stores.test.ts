// CaracalStores composed into a platform stack of its own, beside other resources, with its values
// fragment passed to a helm_release of the services; every pod checked against Pod Security "restricted".
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { HelmProvider } from '@cdktf/provider-helm/lib/provider';
import { Release } from '@cdktf/provider-helm/lib/release';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { CaracalStores, CaracalStoresProps, StoresPostgres, StoresRedis } from '../../../constructs/caracal-stores';
import { MigrationRunnerImage } from '../../../constructs/migration-job';
import { RedisStreams } from '../../../constructs/redis-streams';
import { checkTerraformJson, formatViolations } from '../../support/pod-security';
import { Json, resources, scope } from '../../support/synth';

/** A user's platform stack: its own providers and resources, the stores, and the services' release. */
class PlatformStack extends TerraformStack {
  readonly stores: CaracalStores;

  constructor(s: Construct, id: string, storesProps: Partial<CaracalStoresProps> = {}) {
    super(s, id);
    new KubernetesProvider(this, 'kubernetes', { configPath: '~/.kube/config', configContext: 'platform' });
    new HelmProvider(this, 'helm', { kubernetes: { configPath: '~/.kube/config', configContext: 'platform' } });
    new RandomProvider(this, 'random', {});
    const ns = new NamespaceV1(this, 'namespace', {
      metadata: { name: 'caracal-prod', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });
    new ConfigMapV1(this, 'platform-flags', { metadata: { name: 'platform-flags', namespace: ns.metadata.name }, data: { tracing: 'on' } });

    this.stores = new CaracalStores(this, 'stores', {
      environment: 'prod',
      namespace: 'caracal-prod',
      postgres: StoresPostgres.inCluster({ resources: { requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '4Gi' } } }),
      ...storesProps,
    });

    new Release(this, 'caracal-services', {
      name: 'caracal',
      namespace: 'caracal-prod',
      repository: 'oci://ghcr.io/example/charts',
      chart: 'caracal',
      version: '1.4.0',
      values: [JSON.stringify({ services: this.stores.helmValues() })],
      dependsOn: this.stores.servicesDependOn,
    });
  }
}

let defaultSynth: { json: Json; text: string; stack: PlatformStack } | undefined;

/** Synthesizes the platform stack; the default one once per file (synth is deterministic, tested below). */
function synth(storesProps?: Partial<CaracalStoresProps>): { json: Json; text: string; stack: PlatformStack } {
  if (storesProps === undefined) return (defaultSynth ??= freshSynth());
  return freshSynth(storesProps);
}

function freshSynth(storesProps: Partial<CaracalStoresProps> = {}): { json: Json; text: string; stack: PlatformStack } {
  const app = Testing.app();
  const stack = new PlatformStack(app, 'platform', storesProps);
  const text = Testing.synth(stack);
  return { json: JSON.parse(text), text, stack };
}

const external = StoresPostgres.external({
  host: 'caracal.abc123.eu-west-1.rds.amazonaws.com',
  sslMode: 'verify-full',
  instanceMemory: '16Gi',
});

describe('CaracalStores in a platform stack', () => {
  test("GIVEN the stores beside other resources WHEN synthesized THEN the platform's own resources, Postgres, Redis, the maintenance and backup CronJobs and the release are all there", () => {
    const { json } = synth();

    expect(Object.keys(resources(json, 'kubernetes_namespace_v1'))).toHaveLength(1);
    expect(Object.values(resources(json, 'kubernetes_config_map_v1')).map((c: Json) => c.metadata.name)).toContain('platform-flags');
    expect(
      Object.values(resources(json, 'kubernetes_stateful_set_v1'))
        .map((s: Json) => s.metadata.name)
        .sort(),
    ).toEqual(['postgres', 'redis']);
    expect(
      Object.values(resources(json, 'kubernetes_cron_job_v1'))
        .map((c: Json) => c.metadata.name)
        .sort(),
    ).toEqual(['caracal-audit-partition-maintenance', 'caracal-postgres-backup']);
    expect(
      Object.values(resources(json, 'helm_release'))
        .map((r: Json) => r.name)
        .sort(),
    ).toEqual(['caracal', 'caracal-prod-migrate']);
  });

  test("GIVEN the values fragment WHEN passed to the services' helm_release THEN each service gets env from its database and Redis ConfigMaps, its own Secrets as files, and the admitted pod labels", () => {
    const { json, stack } = synth();
    const release = resources(json, 'helm_release')['caracal-services'];
    const values = JSON.parse(release.values[0]).services;

    expect(Object.keys(values)).toEqual(['api', 'coordinator', 'audit', 'sts', 'gateway']);
    expect(values.sts.envFrom).toEqual([{ configMapRef: { name: 'caracal-sts-db' } }, { configMapRef: { name: 'caracal-sts-redis' } }]);
    expect(values.sts.volumes.map((v: Json) => v.secret?.secretName ?? `configMap ${v.configMap.name}`)).toEqual([
      'caracal-db-sts',
      'caracal-redis-sts',
      'configMap caracal-prod-migrate-runner',
    ]);
    expect(values.sts.volumeMounts.map((m: Json) => m.mountPath)).toEqual([
      '/var/run/secrets/caracal/db',
      '/var/run/secrets/caracal/redis',
      '/var/lib/caracal/replay',
    ]);
    expect(values.sts.podLabels).toEqual({
      'app.kubernetes.io/instance': 'caracal-prod',
      'app.kubernetes.io/component': 'sts',
      'app.kubernetes.io/part-of': 'caracal',
    });
    expect(values.sts.automountServiceAccountToken).toBe(false);
    expect(stack.stores.configMapNames.redis.sts).toBe('caracal-sts-redis');
  });

  test("GIVEN the values fragment WHEN read THEN each service's pods first run caracal-migrate wait for the newest migration, as the service's own login", () => {
    const { json, stack } = synth();
    const values = JSON.parse(resources(json, 'helm_release')['caracal-services'].values[0]).services;
    const newest = readdirSync(path.join(__dirname, '..', '..', '..', 'migrations'))
      .filter((f) => f.endsWith('.up.sql'))
      .map((f) => String(Number(f.split('_')[0])))
      .pop();

    for (const s of ['api', 'coordinator', 'audit', 'sts', 'gateway']) {
      const [init, ...more] = values[s].initContainers;
      expect(more).toEqual([]);
      expect({ name: init.name, image: init.image, command: init.command }).toEqual({
        name: 'caracal-wait-for-schema',
        image: (stack.stores.migrationJob.chart.manifests.find((m) => m.kind === 'Job') as Json).spec.template.spec.containers[0].image,
        command: [
          'node',
          '/opt/caracal/runner/caracal-migrate.cjs',
          'wait',
          '--version',
          newest,
          '--timeout',
          `${stack.stores.migrationJob.timeoutSeconds}s`,
        ],
      });
      // The service's database ConfigMap (PGUSER is its login, PGPASSWORD_FILE its mounted Secret), not the Redis one.
      expect(init.envFrom).toEqual([{ configMapRef: { name: `caracal-${s}-db` } }]);
      expect(init.volumeMounts).toEqual([
        { name: 'caracal-db-credentials', mountPath: '/var/run/secrets/caracal/db', readOnly: true },
        { name: 'caracal-migrate-runner', mountPath: '/opt/caracal/runner', readOnly: true },
      ]);
      expect(init.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      expect(values[s].volumes).toContainEqual({
        name: 'caracal-migrate-runner',
        configMap: { name: 'caracal-prod-migrate-runner', defaultMode: 0o444 },
      });
    }
    // The runner ConfigMap the pods mount is the chart's (it holds the runner bundle and provision.json: paths, no secret).
    const runner = stack.stores.migrationJob.chart.manifests.find((m) => m.metadata.name === 'caracal-prod-migrate-runner');
    expect(Object.keys((runner as Json).binaryData).sort()).toEqual(['caracal-migrate.cjs', 'provision.json']);
  });

  test('GIVEN a custom runner image WHEN the values are read THEN the init container runs caracal-migrate from its PATH and mounts no runner ConfigMap', () => {
    const { stack } = synth({ migrationJob: { image: MigrationRunnerImage.custom('registry.example/caracal-migrate:1.2.3') } });
    const sts = stack.stores.helmValues().sts;
    expect(sts.initContainers[0].image).toBe('registry.example/caracal-migrate:1.2.3');
    expect(sts.initContainers[0].command.slice(0, 2)).toEqual(['caracal-migrate', 'wait']);
    expect(sts.initContainers[0].volumeMounts.map((m) => m.name)).toEqual(['caracal-db-credentials']);
    expect(sts.volumes.map((v) => v.name)).not.toContain('caracal-migrate-runner');
  });

  test('GIVEN the release WHEN synthesized THEN it depends on the database, Redis and their NetworkPolicies', () => {
    const { json } = synth();
    const deps: string[] = resources(json, 'helm_release')['caracal-services'].depends_on;

    expect(deps.filter((d) => d.startsWith('kubernetes_stateful_set_v1.'))).toHaveLength(2);
    expect(deps.filter((d) => d.startsWith('kubernetes_network_policy_v1.'))).toHaveLength(2);
  });

  test('GIVEN the whole platform stack WHEN every pod is checked against Pod Security "restricted" THEN all six pods pass with the hardening', () => {
    const report = checkTerraformJson(synth().text);

    expect(report.pods.map((p) => p.address.split('.')[0]).sort()).toEqual([
      'kubernetes_cron_job_v1',
      'kubernetes_cron_job_v1',
      'kubernetes_deployment_v1',
      'kubernetes_deployment_v1',
      'kubernetes_stateful_set_v1',
      'kubernetes_stateful_set_v1',
    ]);
    expect(formatViolations(report.violations)).toBe('');
    expect(report.hardening).toEqual([]);
  });

  test('GIVEN an in-cluster database WHEN synthesized THEN its NetworkPolicy admits the maintenance and backup CronJobs and postgres_exporter, whose egress goes to the database pods only', () => {
    const { json } = synth();
    const policies = Object.values(resources(json, 'kubernetes_network_policy_v1')) as Json[];
    const postgres = policies.find((p) => p.metadata.name === 'postgres-allow-caracal')!;
    const cron = policies.find((p) => p.metadata.name === 'caracal-audit-partition-maintenance')!;

    expect(postgres.spec.ingress[0].from.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component'])).toEqual([
      'api',
      'coordinator',
      'audit',
      'sts',
      'gateway',
      'migration',
      'audit-partition-maintenance',
      'metrics',
      'backup',
    ]);
    expect(cron.spec.egress[0].to[0].pod_selector.match_labels['app.kubernetes.io/name']).toBe('postgres');
    const exporters = policies.find((p) => p.metadata.name === 'caracal-prod-exporters')!;
    expect(exporters.spec.egress[0].to[0].pod_selector.match_labels['app.kubernetes.io/name']).toBe('postgres');
  });

  test('GIVEN an external managed database WHEN synthesized THEN no Postgres pod exists and the CronJob connects to the endpoint with verify-full', () => {
    const { json, stack } = synth({ postgres: external });
    const cron = Object.values(resources(json, 'kubernetes_cron_job_v1'))[0] as Json;
    const env = Object.fromEntries(cron.spec.job_template.spec.template.spec.container[0].env.map((e: Json) => [e.name, e.value]));

    expect(Object.values(resources(json, 'kubernetes_stateful_set_v1')).map((s: Json) => s.metadata.name)).toEqual(['redis']);
    expect(env).toMatchObject({
      PGHOST: 'caracal.abc123.eu-west-1.rds.amazonaws.com',
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: 'system',
      PGUSER: 'caracal_prod_maintenance',
    });
    expect(stack.stores.postgresEndpoint.host).toBe('caracal.abc123.eu-west-1.rds.amazonaws.com');
  });

  test('GIVEN generated secrets WHEN the synthesized JSON is scanned THEN every Secret value is a Terraform reference or a user name', () => {
    const { json } = synth();

    for (const secret of Object.values(resources(json, 'kubernetes_secret_v1')) as Json[]) {
      for (const [key, value] of Object.entries(secret.data as Record<string, string>)) {
        if (key === 'username') expect(value).toMatch(/^[a-z_]+$/);
        // The key rings' active key ids (what rows store), not key material.
        else if (key.endsWith('-active-key-id')) expect(value).toMatch(/^(hmac|encryption)-1$/);
        else expect(value).toMatch(/\$\{(sha256\()?random_(password|bytes)\./);
      }
    }
  });

  test('GIVEN the composite WHEN synthesized THEN data volumes and generated secrets keep fixed addresses independent of the construct path', () => {
    const { json } = synth();

    expect(resources(json, 'kubernetes_persistent_volume_claim_v1')).toHaveProperty('caracal_postgres_data');
    expect(resources(json, 'kubernetes_persistent_volume_claim_v1')).toHaveProperty('caracal_redis_data');
    expect(resources(json, 'random_password')).toHaveProperty('caracal_redis_password_api');
    expect(resources(json, 'random_bytes')).toHaveProperty('caracal_hmac_key');
  });

  test('GIVEN the same input WHEN synthesized twice THEN the output is byte-identical', () => {
    expect(freshSynth().text).toBe(synth().text);
  });

  test('GIVEN the accessors WHEN read THEN endpoints and secret names are what the resources use', () => {
    const { stack } = synth();

    expect(stack.stores.redisEndpoint).toEqual({ host: 'redis.caracal-prod.svc.cluster.local', port: 6379 });
    expect(stack.stores.secretNames.redis.gateway).toBe('caracal-redis-gateway');
    expect(stack.stores.secretNames.database.owner).toBe('caracal-db-owner');
    expect(stack.stores.configMapNames.redisConfig).toBe('caracal-redis-config');
  });

  test.each<[string, Partial<CaracalStoresProps>, RegExp]>([
    ['postgres missing', { postgres: undefined as any }, /stores: 1 problem\n {2}- postgres: undefined is not a Postgres choice/],
    ['pools unknown service', { pools: { billing: { poolMax: 5 } } as any }, /pools\.billing: "billing" is not a Caracal service/],
    [
      'redis maxmemory',
      { redis: { maxmemory: '3Gi', resources: { limits: { memory: '2Gi' } } } },
      /stores\/redis: 1 problem\n {2}- maxmemory: "3Gi" exceeds 75%/,
    ],
    [
      'auditMaintenance schedule',
      { auditMaintenance: { schedule: 'hourly' } },
      /stores\/audit-partition-maintenance: 1 problem\n {2}- schedule: "hourly"/,
    ],
    ['environment', { environment: 'Prod' }, /environment: "Prod" is not a valid environment name/],
    [
      'pool and Redis settings at once',
      { pools: { api: { poolMax: 0 } }, redis: { maxmemory: '3Gi', resources: { limits: { memory: '2Gi' } } } },
      /^test\/stores: 2 problems\n {2}- test\/stores\/pools: services\.api\.poolMax: 0 is out of range[^\n]*\n {2}- test\/stores\/redis: maxmemory: "3Gi" exceeds 75%/,
    ],
    [
      'environment, which every child checks (reported once)',
      { environment: 'Prod' },
      /^test\/stores: 2 problems\n {2}- test\/stores\/secrets: environment: "Prod" is not a valid environment name[^\n]*\n {2}- test\/stores\/migration-job: releaseName: "caracal-Prod-migrate"/,
    ],
    [
      'misspelled prop from JavaScript',
      { logicalIdPrefx: 'x' } as any,
      /stores: 1 problem\n {2}- logicalIdPrefx: "logicalIdPrefx" is not a CaracalStores prop: expected one of [^\n]*; did you mean "logicalIdPrefix"\?/,
    ],
    [
      'misspelled pool setting from JavaScript',
      { pools: { api: { poolmax: 5 } } } as any,
      /services\.api\.poolmax: "poolmax" is not a pool setting: [^\n]*; did you mean "poolMax"\?/,
    ],
    [
      'misspelled Redis prop from JavaScript',
      { redis: { storagesize: '8Gi' } } as any,
      /stores\/redis: 1 problem\n {2}- storagesize: [^\n]*did you mean "storageSize"\?/,
    ],
    [
      'own props and several children at once',
      {
        postgres: 'in-cluster' as any,
        pools: { billing: {}, api: { poolMax: 0 } } as any,
        redis: { maxmemory: '3Gi', resources: { limits: { memory: '2Gi' } } },
      },
      /^test\/stores: 4 problems\n {2}- test\/stores: postgres: "in-cluster" is not a Postgres choice[^\n]*\n {2}- test\/stores: pools\.billing: [^\n]*\n {2}- test\/stores\/pools: services\.api\.poolMax: 0 is out of range[^\n]*\n {2}- test\/stores\/redis: maxmemory: "3Gi"/,
    ],
  ])('GIVEN a bad %s WHEN composed THEN a ValidationError names the construct and prop', (_name, props, expected) => {
    expect(
      () =>
        new CaracalStores(scope(), 'stores', {
          environment: 'prod',
          namespace: 'caracal-prod',
          postgres: StoresPostgres.inCluster(),
          ...props,
        }),
    ).toThrow(expected);
  });
});

describe('CaracalStores backup', () => {
  const backupCron = (json: Json) =>
    Object.values(resources(json, 'kubernetes_cron_job_v1')).find((c: Json) => c.metadata.name === 'caracal-postgres-backup') as
      Json | undefined;

  test('GIVEN an in-cluster Postgres WHEN synthesized THEN the backup CronJob runs the server its own image as caracal_prod_backup, and the backup age alert reads it', () => {
    const { json, stack } = synth();
    const cron = backupCron(json)!;
    const c = cron.spec.job_template.spec.template.spec.container[0];
    const server = Object.values(resources(json, 'kubernetes_stateful_set_v1')).find((s: Json) => s.metadata.name === 'postgres') as Json;
    const env = Object.fromEntries(c.env.map((e: Json) => [e.name, e.value]));

    expect(c.image).toBe(server.spec.template.spec.container[0].image);
    expect(env).toMatchObject({ PGUSER: 'caracal_prod_backup', BACKUP_ROLE: 'caracal_backup', PGHOST: stack.stores.postgresEndpoint.host });
    expect(stack.stores.secretNames.database.backup).toBe('caracal-db-backup');
    expect(cron.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/^helm_release\./)]));
    expect(stack.stores.monitoring.rulesFile).toMatch(/kube_cronjob_status_last_successful_time\{[^}]*cronjob="caracal-postgres-backup"\}/);
  });

  test('GIVEN an external database WHEN synthesized with defaults THEN no backup CronJob or volume exists (the provider backs it up)', () => {
    const { json, stack } = synth({ postgres: external });

    expect(backupCron(json)).toBeUndefined();
    expect(stack.stores.backup).toBeUndefined();
    // Only Redis's data and the services' replay claims.
    expect(Object.keys(resources(json, 'kubernetes_persistent_volume_claim_v1')).filter((k) => !k.startsWith('caracal_replay_'))).toEqual([
      'caracal_redis_data',
    ]);
  });

  test('GIVEN an external database and backup enabled WHEN synthesized THEN the logical backup connects to the endpoint with verify-full and egress goes to its port on any address', () => {
    const { json } = synth({ postgres: external, backup: { enabled: true, keepCount: 3 } });
    const cron = backupCron(json)!;
    const env = Object.fromEntries(cron.spec.job_template.spec.template.spec.container[0].env.map((e: Json) => [e.name, e.value]));
    const policy = Object.values(resources(json, 'kubernetes_network_policy_v1')).find(
      (p: Json) => p.metadata.name === 'caracal-postgres-backup',
    ) as Json;

    expect(env).toMatchObject({ PGHOST: 'caracal.abc123.eu-west-1.rds.amazonaws.com', PGSSLMODE: 'verify-full', BACKUP_KEEP_COUNT: '3' });
    expect(policy.spec.egress[0]).toEqual({ ports: [{ port: '5432', protocol: 'TCP' }] });
  });

  test('GIVEN backup disabled for an in-cluster Postgres WHEN synthesized THEN there is no backup CronJob and Postgres does not admit its pods', () => {
    const { json } = synth({ backup: { enabled: false } });
    const postgres = Object.values(resources(json, 'kubernetes_network_policy_v1')).find(
      (p: Json) => p.metadata.name === 'postgres-allow-caracal',
    ) as Json;

    expect(backupCron(json)).toBeUndefined();
    expect(postgres.spec.ingress[0].from.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component'])).not.toContain(
      'backup',
    );
  });

  test('GIVEN a bad backup schedule and size WHEN composed THEN one ValidationError names the backup construct and both props', () => {
    expect(
      () =>
        new CaracalStores(scope(), 'stores', {
          environment: 'prod',
          namespace: 'caracal-prod',
          postgres: StoresPostgres.inCluster(),
          backup: { schedule: 'daily', storageSize: '50GB' },
        }),
    ).toThrow(
      /stores\/backup: 2 problems\n {2}- schedule: "daily" is not a cron schedule[^\n]*\n {2}- storageSize: "50GB" [^\n]*did you mean `50Gi` or `50G`\?/,
    );
  });
});

describe('CaracalStores backup of Redis', () => {
  test('GIVEN the in-cluster stores WHEN synthesized THEN the backup pod copies the RDB first as the backup ACL user, from the Redis image, and Redis admits it', () => {
    const { json, stack } = synth();
    const cron = Object.values(resources(json, 'kubernetes_cron_job_v1')).find(
      (c: Json) => c.metadata.name === 'caracal-postgres-backup',
    ) as Json;
    const spec = cron.spec.job_template.spec.template.spec;
    const redisPolicy = Object.values(resources(json, 'kubernetes_network_policy_v1')).find(
      (p: Json) => p.metadata.name === 'redis-allow-caracal',
    ) as Json;
    const backupPolicy = Object.values(resources(json, 'kubernetes_network_policy_v1')).find(
      (p: Json) => p.metadata.name === 'caracal-postgres-backup',
    ) as Json;

    expect(spec.init_container.map((c: Json) => [c.name, c.image])).toEqual([['redis-copy', (stack.stores.redis as RedisStreams).image]]);
    expect(Object.fromEntries(spec.init_container[0].env.map((e: Json) => [e.name, e.value]))).toMatchObject({
      REDIS_HOST: stack.stores.redisEndpoint.host,
      REDIS_USER: 'backup',
    });
    expect(spec.volume.find((v: Json) => v.name === 'redis-backup-user').secret.secret_name).toBe(stack.stores.secretNames.redis.backup);
    expect(stack.stores.redis.users).toContain('backup');
    expect(redisPolicy.spec.ingress[0].from.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component'])).toContain(
      'backup',
    );
    expect(backupPolicy.spec.egress[2]).toEqual({
      to: [{ pod_selector: { match_labels: stack.stores.redis.podLabels } }],
      ports: [{ port: '6379', protocol: 'TCP' }],
    });
  });

  test('GIVEN backup off WHEN synthesized THEN Redis has no backup user and admits no backup pod', () => {
    const { json, stack } = synth({ backup: { enabled: false } });
    const redisPolicy = Object.values(resources(json, 'kubernetes_network_policy_v1')).find(
      (p: Json) => p.metadata.name === 'redis-allow-caracal',
    ) as Json;

    expect(stack.stores.redis.users).not.toContain('backup');
    expect(Object.keys(resources(json, 'random_password'))).not.toContain('caracal_redis_password_backup');
    expect(redisPolicy.spec.ingress[0].from.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component'])).not.toContain(
      'backup',
    );
  });
});

describe('CaracalStores with an external Redis', () => {
  const managed = StoresRedis.external({ host: 'caracal.abc123.cache.amazonaws.com', port: 6380, secretPrefix: 'managed-redis' });

  test('GIVEN StoresRedis.external WHEN synthesized THEN nothing of Redis is deployed and the services, exporter and backup use the managed one', () => {
    const { json, stack } = synth({ redis: managed });
    const names = (type: string) => Object.values(resources(json, type)).map((r: Json) => r.metadata.name);
    expect(names('kubernetes_stateful_set_v1')).toEqual(['postgres']);
    expect(names('kubernetes_persistent_volume_claim_v1').filter((n) => n.includes('redis'))).toEqual([]);
    expect(names('kubernetes_secret_v1').filter((n) => n.includes('redis'))).toEqual([]);
    expect(Object.keys(resources(json, 'random_password')).filter((id) => id.includes('redis'))).toEqual([]);
    expect(stack.stores.redis.mode).toBe('external');
    expect(stack.stores.redisEndpoint).toEqual({ host: 'caracal.abc123.cache.amazonaws.com', port: 6380 });
    // Each service: its connection ConfigMap and the owner's Secret of its ACL user.
    const api = stack.stores.helmValues().api;
    expect(api.volumes).toContainEqual({
      name: 'caracal-redis-credentials',
      secret: { secretName: 'managed-redis-api', defaultMode: 0o440 },
    });
    const cm = Object.values(resources(json, 'kubernetes_config_map_v1')).find(
      (c: Json) => c.metadata.name === 'caracal-api-redis',
    ) as Json;
    expect(cm.data).toMatchObject({ REDIS_HOST: 'caracal.abc123.cache.amazonaws.com', REDIS_PORT: '6380', REDIS_USERNAME: 'api' });
    expect(stack.stores.secretNames.redis.exporter).toBe('managed-redis-exporter');
    expect(stack.stores.secretNames.redisAcl).toBeUndefined();
    expect(stack.stores.configMapNames.redisConfig).toBeUndefined();
    // The exporters reach it on its port at any address (no pods to select); the backup copies no RDB.
    const exporters = Object.values(resources(json, 'kubernetes_network_policy_v1')).find((p: Json) =>
      p.metadata.name.endsWith('-exporters'),
    ) as Json;
    expect(exporters.spec.egress[1]).toEqual({ ports: [{ port: '6380', protocol: 'TCP' }] });
    const cron = Object.values(resources(json, 'kubernetes_cron_job_v1')).find(
      (c: Json) => c.metadata.name === 'caracal-postgres-backup',
    ) as Json;
    expect(cron.spec.job_template.spec.template.spec.init_container ?? []).toEqual([]);
  });

  test('GIVEN StoresRedis.inCluster with options WHEN synthesized THEN the output is byte-identical to passing the options directly', () => {
    expect(synth({ redis: StoresRedis.inCluster({ storageSize: '4Gi' }) }).text).toBe(synth({ redis: { storageSize: '4Gi' } }).text);
  });

  test('GIVEN an external Redis for a subset of the services WHEN synthesized THEN only their connection ConfigMaps exist', () => {
    const { json } = synth({ redis: managed, services: ['api', 'audit'] });
    const redisMaps = Object.values(resources(json, 'kubernetes_config_map_v1'))
      .map((c: Json) => c.metadata.name)
      .filter((n: string) => n.endsWith('-redis'));
    expect(redisMaps.sort()).toEqual(['caracal-api-redis', 'caracal-audit-redis']);
  });

  test('GIVEN an external Redis with a URL for a host, a bad port and a misspelled key WHEN composed THEN one error names the redis construct and each', () => {
    const bad = StoresRedis.external({ host: 'redis://cache', port: 0, secretPrefix: 'managed-redis', passwrodKey: 'pw' } as never);
    expect(() => synth({ redis: bad })).toThrow(
      /platform\/stores\/redis: 3 problems\n {2}- passwrodKey: "passwrodKey" is not a ExternalRedis prop: [^\n]*did you mean "passwordKey"\?\n {2}- host: "redis:\/\/cache" [^\n]*\n {2}- port: 0 /,
    );
  });
});
