// The stack: providers bound to the environment's explicit cluster, its backend, the stores and the outputs.
import { CaracalStoresStack } from '../../../src/stacks/caracal-stores-stack';
import { loadEnvironments, EnvironmentSpec } from '../../../src/environments';
import { dev } from '../../../src/environments/dev';
import { prod } from '../../../src/environments/prod';
import { buildApp } from '../../../src/stacks/app';
import { Json, byName, resources, synthStack } from '../../support/synth';
import { PreCompositeStack } from './pre-composite-stack';

const envs = Object.fromEntries(loadEnvironments().map((e) => [e.name, e]));
const synthEnv = (env: EnvironmentSpec): Json => synthStack((app) => new CaracalStoresStack(app, env.name, env)).json;
const statefulSetNames = (json: Json): string[] =>
  Object.values(resources(json, 'kubernetes_stateful_set_v1'))
    .map((s) => s.metadata.name)
    .sort();

describe('CaracalStoresStack', () => {
  test('GIVEN an environment with a named kubeconfig context WHEN its stack is synthesized THEN the kubernetes and helm providers are bound to it', () => {
    const json = synthEnv(envs.staging);
    expect(json.provider.kubernetes).toEqual([{ config_path: '~/.kube/config', config_context: 'caracal-staging' }]);
    expect(json.provider.helm).toEqual([{ kubernetes: { config_path: '~/.kube/config', config_context: 'caracal-staging' } }]);
    expect(json.provider.random).toEqual([{}]);
  });

  test('GIVEN an environment with an API host and an exec credential plugin WHEN its stack is synthesized THEN the providers are bound to them', () => {
    const exec = {
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: 'aws',
      args: ['eks', 'get-token', '--cluster-name', 'caracal'],
    };
    const json = synthEnv({
      ...dev,
      cluster: {
        kind: 'host',
        host: 'https://k8s.example.com',
        clusterCaCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
        exec,
      },
    });
    expect(json.provider.kubernetes[0]).toMatchObject({
      host: 'https://k8s.example.com',
      exec: [{ api_version: exec.apiVersion, command: 'aws', args: exec.args }],
    });
    expect(json.provider.helm[0].kubernetes).toMatchObject({ host: 'https://k8s.example.com', exec: { command: 'aws' } });
  });

  test('GIVEN dev, staging and prod WHEN their stacks are synthesized THEN dev state is local and staging/prod state is remote and encrypted', () => {
    expect(synthEnv(envs.dev).terraform.backend).toEqual({ local: { path: 'terraform.dev.tfstate' } });
    expect(synthEnv(envs.staging).terraform.backend.remote).toMatchObject({
      organization: 'caracal',
      workspaces: { name: 'caracal-stores-staging' },
    });
    expect(synthEnv(envs.prod).terraform.backend.s3).toMatchObject({
      bucket: 'caracal-terraform-state',
      encrypt: true,
      kms_key_id: 'alias/caracal-terraform-state',
    });
  });

  test('GIVEN dev, staging and prod WHEN their stacks are synthesized THEN Postgres runs in the cluster for dev and none is deployed for the managed environments', () => {
    expect(byName(synthEnv(envs.dev), 'kubernetes_stateful_set_v1', 'postgres').metadata.namespace).toBe('caracal-dev');
    expect(statefulSetNames(synthEnv(envs.staging))).toEqual(['redis']);
    expect(statefulSetNames(synthEnv(envs.prod))).toEqual(['redis']);
  });

  test.each(['dev', 'staging', 'prod'])(
    'GIVEN %s WHEN its stack is synthesized THEN it has Redis for the streams, sized by its data, behind its NetworkPolicy',
    (name) => {
      // GIVEN the environment's data WHEN its stack is synthesized
      const env = envs[name];
      const json = synthEnv(env);
      // THEN Redis runs with the environment's memory limit and volume, and only the five services, redis_exporter and
      // (with an in-cluster Postgres, so a backup CronJob: dev) the backup's RDB copy may connect
      const redis = byName(json, 'kubernetes_stateful_set_v1', 'redis');
      expect(redis.metadata.namespace).toBe(env.namespace);
      expect(redis.spec.template.spec.container[0].resources.limits.memory).toBe(env.redis.resources.limits!.memory);
      expect(byName(json, 'kubernetes_persistent_volume_claim_v1', 'redis-data').spec.resources.requests.storage).toBe(
        env.redis.storageSize,
      );
      expect(byName(json, 'kubernetes_config_map_v1', 'caracal-redis-config').data['redis.conf']).toMatch(/^maxmemory-policy noeviction$/m);
      const ingress = byName(json, 'kubernetes_network_policy_v1', 'redis-allow-caracal').spec.ingress[0].from;
      expect(ingress.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component']).sort()).toEqual([
        'api',
        'audit',
        ...(name === 'dev' ? ['backup'] : []),
        'coordinator',
        'gateway',
        'metrics',
        'sts',
      ]);
      expect(json.output.redis_endpoint.value).toEqual({ host: `redis.${env.namespace}.svc.cluster.local`, port: 6379 });
    },
  );

  test.each(['dev', 'staging', 'prod'])(
    'GIVEN %s WHEN its stack is synthesized THEN it has the audit partition maintenance CronJob with its schedule, window and retention',
    (name) => {
      // GIVEN the environment's data WHEN its stack is synthesized
      const env = envs[name];
      const json = synthEnv(env);
      // THEN the CronJob runs on the environment's schedule, after the migration release, as the owner login
      const cron = byName(json, 'kubernetes_cron_job_v1', 'caracal-audit-partition-maintenance');
      expect(cron.spec.schedule).toBe(env.auditMaintenance.schedule);
      expect(cron.spec.concurrency_policy).toBe('Forbid');
      const container = cron.spec.job_template.spec.template.spec.container[0];
      const envVars = Object.fromEntries(container.env.map((e: Json) => [e.name, e.value]));
      expect(envVars).toMatchObject({
        AUDIT_RETENTION_DAYS: String(env.auditMaintenance.retentionDays),
        AUDIT_DAYS_AHEAD: String(env.auditMaintenance.daysAhead ?? 14),
        PGUSER: `caracal_${env.name}_maintenance`,
        PGHOST: json.output.postgres_endpoint.value.host,
      });
      expect(cron.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/^helm_release\./)]));
      expect(json.output.audit_partition_maintenance.value).toEqual({
        cron_job: 'caracal-audit-partition-maintenance',
        namespace: env.namespace,
        schedule: env.auditMaintenance.schedule,
      });
    },
  );

  test('GIVEN dev WHEN its stack is synthesized THEN the in-cluster Postgres admits the maintenance and backup CronJobs, the migration Job, the services and postgres_exporter', () => {
    const from = byName(synthEnv(envs.dev), 'kubernetes_network_policy_v1', 'postgres-allow-caracal').spec.ingress[0].from;
    expect(from.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component']).sort()).toEqual([
      'api',
      'audit',
      'audit-partition-maintenance',
      'backup',
      'coordinator',
      'gateway',
      'metrics',
      'migration',
      'sts',
    ]);
  });

  test('GIVEN a stack built without the composite WHEN built through it THEN every resource keeps its Terraform address (nothing is replaced)', () => {
    // GIVEN dev built the way the stack did before CaracalStores: the constructs directly under the stack
    const before = synthStack((app) => new PreCompositeStack(app, 'dev', envs.dev)).json;
    // WHEN dev is built through the composite
    const after = synthEnv(envs.dev);
    // THEN every address of before is still there (Redis and the CronJob are only added)
    const addresses = (json: Json) =>
      Object.entries<Json>(json.resource)
        .flatMap(([type, rs]) => Object.keys(rs).map((id) => `${type}.${id}`))
        .sort();
    expect(addresses(before).length).toBeGreaterThan(20);
    expect(addresses(before).filter((a) => !addresses(after).includes(a))).toEqual([]);
    // AND the state that must never be replaced is at its fixed, path-independent addresses
    expect(Object.keys(resources(after, 'kubernetes_persistent_volume_claim_v1')).sort()).toEqual([
      'caracal_postgres_backup_volume',
      'caracal_postgres_data',
      'caracal_redis_data',
      'caracal_replay_gateway_0',
      'caracal_replay_sts_0',
    ]);
    expect(Object.keys(resources(after, 'random_bytes')).sort()).toEqual(['caracal_encryption_key', 'caracal_hmac_key']);
    expect(Object.keys(resources(after, 'random_password')).sort()).toEqual(
      [
        ...['api', 'audit', 'backup', 'coordinator', 'gateway', 'maintenance', 'monitoring', 'owner', 'sts'].map(
          (l) => `caracal_password_${l}`,
        ),
        // reloader: the ACL reloader sidecar's user (issue 18), added beside the others.
        ...['api', 'audit', 'backup', 'coordinator', 'exporter', 'gateway', 'healthcheck', 'ops', 'reloader', 'sts'].map(
          (u) => `caracal_redis_password_${u}`,
        ),
      ].sort(),
    );
  });

  test('GIVEN a managed environment WHEN its stack is synthesized THEN it outputs the managed parameter map, with max_connections derived from the pools', () => {
    const json = synthEnv(envs.prod);
    const params = json.output.postgres_parameters.value;
    expect(params).toMatchObject({ shared_buffers: '8GB', effective_cache_size: '24GB', huge_pages: 'off' });
    const budget = json.output.connection_budget.value;
    expect(Number(params.max_connections)).toBe(budget.max_connections);
    expect(budget.required).toBeLessThanOrEqual(budget.max_connections);
  });

  test("GIVEN an environment WHEN its stack is synthesized THEN it outputs what the services' release needs: endpoint, Secret and ConfigMap names, role settings, Helm values", () => {
    const out = synthEnv(envs.staging).output;
    expect(out.postgres_endpoint.value).toEqual({
      host: 'caracal-staging.db.internal.example.com',
      port: 5432,
      database: 'caracal',
      sslmode: 'verify-full',
    });
    expect(out.login_secrets.value.api).toBe('caracal-db-api');
    expect(out.service_config_maps.value.audit).toBe('caracal-audit-db');
    expect(out.role_settings.value).toContainEqual({
      role: 'caracal_staging_sts',
      settings: { statement_timeout: '5000', idle_in_transaction_session_timeout: '60000' },
    });
    expect(out.service_helm_values.value.api.envFrom).toEqual([
      { configMapRef: { name: 'caracal-api-db' } },
      { configMapRef: { name: 'caracal-api-redis' } },
    ]);
    expect(out.service_helm_values.value.api.volumes.map((v: Json) => v.secret?.secretName ?? `configMap ${v.configMap.name}`)).toEqual([
      'caracal-db-api',
      'caracal-db-ca',
      'caracal-redis-api',
      'configMap caracal-staging-migrate-runner',
    ]);
    expect(out.service_helm_values.value.api.initContainers.map((c: Json) => c.name)).toEqual(['caracal-wait-for-schema']);
    expect(out.redis_secrets.value).toMatchObject({
      users: { api: 'caracal-redis-api', healthcheck: 'caracal-redis-healthcheck' },
      acl: 'caracal-redis-acl',
    });
    expect(out.redis_config_maps.value).toMatchObject({ services: { gateway: 'caracal-gateway-redis' }, config: 'caracal-redis-config' });
  });

  test('GIVEN prod with existing Secrets WHEN its stack is synthesized THEN it uses their names instead of generating any', () => {
    const json = synthEnv(envs.prod);
    expect(resources(json, 'random_password')).toEqual({});
    expect(resources(json, 'random_bytes')).toEqual({});
    expect(json.output.login_secrets.value.owner).toBe('caracal-prod-db-owner');
    expect(json.output.key_material_secret.value.name).toBe('caracal-prod-keys');
    // Redis too: the users' Secrets and the ACL Secret come from the secret manager.
    expect(resources(json, 'kubernetes_secret_v1')).toEqual({});
    expect(json.output.redis_secrets.value).toMatchObject({ users: { api: 'caracal-prod-redis-api' }, acl: 'caracal-prod-redis-acl' });
    const volumes = byName(json, 'kubernetes_stateful_set_v1', 'redis').spec.template.spec.volume;
    expect(volumes.find((v: Json) => v.name === 'acl').secret.secret_name).toBe('caracal-prod-redis-acl');
  });

  test('GIVEN construct problems in several environments WHEN the app is built THEN one error reports them all', () => {
    // GIVEN dev whose Postgres memory cannot hold its settings, and prod whose pools exceed max_connections
    const badDev: EnvironmentSpec = {
      ...dev,
      postgres: { ...(dev.postgres as any), capacity: { kind: 'explicit', settings: { sharedBuffers: '900MB' } } },
    };
    const badProd: EnvironmentSpec = {
      ...prod,
      postgres: { ...(prod.postgres as any), capacity: { kind: 'resources', maxConnections: 100 } },
    };
    // WHEN the app is built THEN one error names both construct paths
    expect(() => buildApp({ environments: [badDev, badProd] })).toThrow(
      /^2 environments: 3 problems\n {2}- dev\/Default\/postgres: capacity\.sharedBuffers: [\s\S]*\n {2}- prod\/Default\/pools: services: connection budget .* > max_connections 100/,
    );
  });

  test('GIVEN a Redis setting the construct refuses WHEN the app is built THEN the error names the construct path, the field and the limit', () => {
    // GIVEN dev whose Redis maxmemory leaves no room for an AOF rewrite under its 256Mi limit
    const bad: EnvironmentSpec = { ...dev, redis: { ...dev.redis, maxmemory: '250Mi' } };
    // WHEN the app is built THEN the error names the field, the bad value and the limit
    expect(() => buildApp({ environments: [bad] })).toThrow(
      /^dev\/Default\/redis: 1 problem\n {2}- maxmemory: "250Mi" exceeds 75% of the memory limit \(256Mi\)/,
    );
  });
});
