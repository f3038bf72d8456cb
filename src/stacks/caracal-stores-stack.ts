// The one stack class: an environment's providers, backend, the stores (CaracalStores: Postgres, secrets,
// pools, the migration Job, Redis, audit partition maintenance) and outputs.
// Environments are data (src/environments); a new environment is a new data file, not new code.
import { Construct } from 'constructs';
import { LocalBackend, RemoteBackend, S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { HelmProvider } from '@cdktf/provider-helm/lib/provider';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { CaracalStores } from '../../constructs';
import type {
  AuditPartitionMaintenance,
  DatabaseSecrets,
  IPostgresDatabase,
  MigrationJob,
  IRedisStreams,
  ServicePools,
} from '../../constructs';
import { LOGINS, SERVICES } from '../../common/names';
import type { EnvironmentSpec } from '../environments/schema';
import { storesPropsOf } from './stores-props';

export class CaracalStoresStack extends TerraformStack {
  readonly stores: CaracalStores;
  readonly secrets: DatabaseSecrets;
  readonly postgres: IPostgresDatabase;
  readonly pools: ServicePools;
  readonly migrationJob: MigrationJob;
  readonly redis: IRedisStreams;
  readonly auditMaintenance: AuditPartitionMaintenance;

  constructor(scope: Construct, id: string, env: EnvironmentSpec) {
    super(scope, id);

    // Providers: always the environment's explicit cluster, never an implicit default.
    const cluster = env.cluster;
    if (cluster.kind === 'kubeconfig') {
      new KubernetesProvider(this, 'kubernetes', { configPath: cluster.configPath, configContext: cluster.context });
      new HelmProvider(this, 'helm', { kubernetes: { configPath: cluster.configPath, configContext: cluster.context } });
    } else {
      const exec = { apiVersion: cluster.exec.apiVersion, command: cluster.exec.command, args: [...cluster.exec.args] };
      new KubernetesProvider(this, 'kubernetes', { host: cluster.host, clusterCaCertificate: cluster.clusterCaCertificate, exec: [exec] });
      new HelmProvider(this, 'helm', { kubernetes: { host: cluster.host, clusterCaCertificate: cluster.clusterCaCertificate, exec } });
    }
    new RandomProvider(this, 'random', {});

    // State holds generated passwords and key material: remote backends are encrypted (schema-checked).
    const b = env.backend;
    if (b.kind === 'local') new LocalBackend(this, { path: b.path });
    else if (b.kind === 's3') {
      new S3Backend(this, {
        bucket: b.bucket,
        key: b.key,
        region: b.region,
        encrypt: true,
        kmsKeyId: b.kmsKeyId,
        dynamodbTable: b.dynamodbTable,
      });
    } else new RemoteBackend(this, { hostname: b.hostname, organization: b.organization, workspaces: { name: b.workspace } });

    const a = env.auditMaintenance;
    // The id `Default` is left out of Terraform logical ids (cdktf's makeUniqueId), so every resource keeps
    // the address it had when this stack built secrets, postgres, pools and migration-job itself: composing
    // them moved nothing (no replacement of the StatefulSet, the release or any Kubernetes object).
    this.stores = new CaracalStores(this, 'Default', storesPropsOf(env));
    this.secrets = this.stores.secrets;
    this.postgres = this.stores.postgres;
    this.pools = this.stores.pools;
    this.migrationJob = this.stores.migrationJob;
    this.redis = this.stores.redis;
    this.auditMaintenance = this.stores.auditMaintenance;

    const endpoint = this.postgres.endpoint;
    new TerraformOutput(this, 'postgres_endpoint', {
      description: 'Where Caracal services connect (PGHOST, PGPORT, PGDATABASE, PGSSLMODE)',
      value: { host: endpoint.host, port: endpoint.port, database: endpoint.database, sslmode: endpoint.sslMode },
    });
    new TerraformOutput(this, 'postgres_parameters', {
      description: 'Server settings: for a managed database, put these into its parameter group',
      value: this.postgres.parameters,
    });
    new TerraformOutput(this, 'login_secrets', {
      description: 'Kubernetes Secret (keys username, password) per database login',
      value: Object.fromEntries(LOGINS.map((l) => [l, this.secrets.secretName(l)])),
    });
    new TerraformOutput(this, 'key_material_secret', {
      description: 'Kubernetes Secret holding the HMAC and encryption keys',
      value: {
        name: this.stores.keyMaterial.secretName,
        hmac_key: this.stores.keyMaterial.hmacKey,
        encryption_key: this.stores.keyMaterial.encryptionKey,
      },
    });
    new TerraformOutput(this, 'service_config_maps', {
      description: 'ConfigMap per service: DB_POOL_MAX, timeouts and the PG* connection contract',
      value: Object.fromEntries(SERVICES.map((s) => [s, this.pools.configMapName(s)])),
    });
    new TerraformOutput(this, 'role_settings', {
      description: 'Per-role server settings the migration Job applies with ALTER ROLE ... SET',
      value: this.pools.roleSettings(),
    });
    new TerraformOutput(this, 'service_helm_values', {
      description:
        "Values fragment per service for the services' Helm release: env from the database and Redis ConfigMaps, own Secrets as files, resources, admitted pod labels",
      value: this.stores.helmValues(),
    });
    new TerraformOutput(this, 'migration_job', {
      description: "The migration Job's helm_release (services' releases depend on it) and what reruns it",
      value: {
        release: this.migrationJob.release.name,
        namespace: env.namespace,
        content_hash: this.migrationJob.contentHash,
        release_size_bytes: this.migrationJob.releaseSizeBytes,
      },
    });
    new TerraformOutput(this, 'redis_endpoint', {
      description: 'Where Caracal services reach Redis (REDIS_HOST, REDIS_PORT)',
      value: { host: this.redis.endpoint.host, port: this.redis.endpoint.port },
    });
    const names = { secrets: this.stores.secretNames, configMaps: this.stores.configMapNames };
    new TerraformOutput(this, 'redis_secrets', {
      description: 'Kubernetes Secret (keys username, password) per Redis ACL user, and the ACL file Secret',
      value: { users: names.secrets.redis, acl: names.secrets.redisAcl },
    });
    new TerraformOutput(this, 'redis_config_maps', {
      description: 'Redis connection ConfigMap per service (REDIS_HOST ... REDIS_PASSWORD_FILE, streams), and redis.conf',
      value: { services: names.configMaps.redis, config: names.configMaps.redisConfig },
    });
    new TerraformOutput(this, 'audit_partition_maintenance', {
      description: 'The audit partition CronJob: alert on its failed Jobs (kube_job_status_failed)',
      value: { cron_job: this.auditMaintenance.name, namespace: env.namespace, schedule: a.schedule },
    });
    new TerraformOutput(this, 'connection_budget', {
      description: 'Connections needed at the worst moment versus max_connections',
      value: { required: this.pools.requiredConnections, max_connections: this.postgres.maxConnections },
    });
  }
}
