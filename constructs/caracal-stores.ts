// CaracalStores: everything Caracal's control plane needs from its stores, from plain props: Postgres
// (in-cluster, CloudNativePG or external), database secrets and key material, service pools, Redis for the streams,
// the audit partition maintenance, and the exporters, alert rules and dashboard. Exposes what a platform stack needs
// to deploy the services.
import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { ChildProblems } from './internal/child-problems';
import { Problems } from './errors';
import * as rules from './internal/rules';
import { LoginName, REPLAY_SERVICES, SERVICES, ServiceName } from '../common/names';
import type { RedisUser } from './internal/redis-config';
import { DatabaseCredentials, DatabaseSecrets } from './database-secrets';
import { KeyMaterial, KeyMaterialSecret } from './key-material';
import { ExternalPostgresProps, PostgresEndpoint, PostgresInstance, PostgresInstanceProps } from './postgres-instance';
import type { IPostgresDatabase } from './postgres-database';
import {
  HelmConfigMapVolume,
  HelmSecretVolume,
  OtherConnections,
  ServiceHelmValues,
  ServicePools,
  ServicePoolSettings,
} from './service-pools';
import { ExternalRedisProps, RedisEndpoint, RedisStreams, RedisStreamsProps } from './redis-streams';
import type { IRedisStreams } from './redis-store';
import { AuditPartitionMaintenance, AuditPartitionMaintenanceProps } from './audit-partition-maintenance';
import { MigrationJob, MigrationJobProps, SchemaWaitInitContainer } from './migration-job';
import { StoresMonitoring, StoresMonitoringProps } from './stores-monitoring';
import type { ServiceWorkload } from './workload-values';
import { serviceWorkloadOf } from './internal/provider-workload';
import { PostgresBackup, PostgresBackupProps } from './postgres-backup';
import { CloudNativePgCluster, CloudNativePgClusterProps } from './cloudnative-pg-cluster';
import { checkStackIdentity, claimEnvironment } from './internal/stack-identity';
import { ReplayStatefulSetValues, ReplayVolumes, ReplayVolumesProps } from './replay-volumes';

export type StoresMonitoringOptions = Omit<
  StoresMonitoringProps,
  | 'environment'
  | 'namespace'
  | 'postgres'
  | 'monitoringLogin'
  | 'postgresPodSelector'
  | 'redis'
  | 'redisExporterSecret'
  | 'redisPodSelector'
  | 'pools'
  | 'schemaVersion'
  | 'services'
>;

/** In-cluster instance settings the composite does not decide itself. */
export type InClusterPostgresOptions = Omit<
  PostgresInstanceProps,
  'environment' | 'namespace' | 'owner' | 'requiredConnections' | 'services'
>;
/** External instance settings the composite does not decide itself. */
export type ExternalPostgresOptions = Omit<ExternalPostgresProps, 'requiredConnections'>;
/** CloudNativePG Cluster settings the composite does not decide itself. */
export type CloudNativePgOptions = Omit<
  CloudNativePgClusterProps,
  'environment' | 'namespace' | 'owner' | 'requiredConnections' | 'services'
>;

type PostgresChoice =
  | { kind: 'in-cluster'; options: InClusterPostgresOptions }
  | { kind: 'cloudnative-pg'; options: CloudNativePgOptions }
  | { kind: 'external'; options: ExternalPostgresOptions };

/** Where Postgres runs: exactly one of the three. */
export class StoresPostgres {
  /** A StatefulSet in the stores' namespace. */
  static inCluster(options: InClusterPostgresOptions = {}): StoresPostgres {
    return new StoresPostgres({ kind: 'in-cluster', options });
  }

  /**
   * A highly available CloudNativePG Cluster in the stores' namespace (3 instances by default), reached at its `-rw`
   * Service with verify-full against the cluster's CA; the operator is installed from its pinned chart unless
   * `operator.install` is false.
   */
  static cloudNativePg(options: CloudNativePgOptions = {}): StoresPostgres {
    return new StoresPostgres({ kind: 'cloudnative-pg', options });
  }

  /** A managed database reached at `host`; nothing is deployed for it. */
  static external(options: ExternalPostgresOptions): StoresPostgres {
    return new StoresPostgres({ kind: 'external', options });
  }

  private constructor(readonly choice: PostgresChoice) {}
}

export type StoresRedisOptions = Omit<RedisStreamsProps, 'environment' | 'namespace' | 'backupUser' | 'services'>;
/** An external Redis's attributes the composite does not decide itself. */
export type ExternalRedisOptions = Omit<ExternalRedisProps, 'environment' | 'namespace' | 'services'>;

/**
 * Where Redis runs, when it is not the in-cluster default: `StoresRedis.external()` imports a managed Redis (as
 * `RedisStreams.fromAttributes` does) the way `StoresPostgres.external()` imports a database. A plain
 * `StoresRedisOptions` object is the in-cluster Redis, as before.
 */
export class StoresRedis {
  /** A StatefulSet in the stores' namespace (the same as passing the options directly). */
  static inCluster(options: StoresRedisOptions = {}): StoresRedis {
    return new StoresRedis({ kind: 'in-cluster', options });
  }

  /**
   * A Redis this library does not deploy: its owner sets up the ACL users (`RedisStreams.aclFileTemplate()`) and
   * their password Secrets (`<secretPrefix>-<user>`). Its own backup is the provider's: the backup CronJob then
   * copies no RDB.
   */
  static external(options: ExternalRedisOptions): StoresRedis {
    return new StoresRedis({ kind: 'external', options });
  }

  private constructor(
    readonly choice: { kind: 'in-cluster'; options: StoresRedisOptions } | { kind: 'external'; options: ExternalRedisOptions },
  ) {}
}
export type StoresMigrationJobOptions = Omit<MigrationJobProps, 'environment' | 'namespace' | 'database' | 'secrets' | 'pools'>;
export type StoresAuditMaintenanceOptions = Omit<
  AuditPartitionMaintenanceProps,
  'environment' | 'namespace' | 'endpoint' | 'login' | 'databasePodSelector' | 'dependsOn'
>;

/** The backup CronJob's settings the composite does not decide itself, and whether it runs. */
export type StoresBackupOptions = Omit<
  PostgresBackupProps,
  'environment' | 'namespace' | 'endpoint' | 'login' | 'databasePodSelector' | 'redis' | 'logicalIdPrefix' | 'dependsOn'
> & {
  /**
   * Run the backup CronJob. An external database is backed up by its provider (snapshots and point-in-time
   * recovery, docs/operations.md "Backup"); enable this to add a logical backup of it as well.
   * @default true for the in-cluster and CloudNativePG Postgres, false for an external one
   */
  readonly enabled?: boolean;
};

/** The STS and Gateway replay volumes' settings; the claims per service follow its pool's autoscaling maximum. */
export type StoresReplayOptions = Omit<ReplayVolumesProps, 'environment' | 'namespace' | 'pods' | 'logicalIdPrefix'>;

export interface CaracalStoresProps<S extends ServiceName = ServiceName> {
  /** Environment name: part of role names, labels and selectors. */
  readonly environment: string;
  /**
   * The services deployed, a subset of the five (e.g. `['api', 'audit']`): only their database logins and Secrets,
   * pool ConfigMaps, Redis ACL users, Secrets and connection ConfigMaps exist, the Job provisions only their logins,
   * the NetworkPolicies admit only their pods, and the connection budget counts only their pools. @default all five
   */
  readonly services?: readonly S[];
  /** Namespace of everything the stores create (and of the services that use them). */
  readonly namespace: string;
  /** Where Postgres runs. */
  readonly postgres: StoresPostgres;
  /** Database logins. @default DatabaseCredentials.generated() */
  readonly credentials?: DatabaseCredentials;
  /** HMAC and encryption keys. @default KeyMaterial.generated() */
  readonly keyMaterial?: KeyMaterial;
  /** Pool settings per deployed service. @default ServicePools defaults for each */
  readonly pools?: Partial<Record<ServiceName, ServicePoolSettings>>;
  /** Connections of jobs and exporters in the budget. @default ServicePools defaults */
  readonly otherConnections?: OtherConnections;
  /** Redis for the streams: in-cluster options, or `StoresRedis.external({...})`. @default RedisStreams defaults, in the cluster */
  readonly redis?: StoresRedisOptions | StoresRedis;
  /** The migration Job hook (image, deadlines, migrations directory). @default MigrationJob defaults */
  readonly migrationJob?: StoresMigrationJobOptions;
  /** Audit partition maintenance CronJob. @default AuditPartitionMaintenance defaults */
  readonly auditMaintenance?: StoresAuditMaintenanceOptions;
  /** The exporters, alert rules and dashboard (scrapers, thresholds, prometheus-operator). @default StoresMonitoring defaults */
  readonly monitoring?: StoresMonitoringOptions;
  /** The backup CronJob (pg_dump as caracal_<env>_backup onto a protected volume). @default PostgresBackup defaults, on for in-cluster Postgres */
  readonly backup?: StoresBackupOptions;
  /** STS's and Gateway's replay volumes (size, storage class, mount path) and their VolumeSnapshot option. @default ReplayVolumes defaults */
  readonly replay?: StoresReplayOptions;
  /** Prefix of fixed Terraform logical ids (key material, passwords, data volumes). @default 'caracal' */
  readonly logicalIdPrefix?: string;
}

/**
 * What one service's Helm release needs from the stores (merge it into the service's values): the pool's values
 * with the Redis labels, env, volumes and mounts added, and the schema wait.
 */
export interface StoresServiceValues extends Omit<ServiceHelmValues, 'volumes'> {
  readonly volumes: ReadonlyArray<HelmSecretVolume | HelmConfigMapVolume>;
  /** `caracal-migrate wait` for the newest migration, as the service's login: the pod starts on its schema. */
  readonly initContainers: readonly SchemaWaitInitContainer[];
  /** sts and gateway: they run as a StatefulSet with these parts, so each pod mounts its protected replay claim. */
  readonly statefulSet?: ReplayStatefulSetValues;
}

/** Every prop of CaracalStoresProps: a key not among them (from JavaScript) is an error naming the closest. */
const PROPS = rules.keysOf<CaracalStoresProps>({
  environment: true,
  namespace: true,
  postgres: true,
  credentials: true,
  keyMaterial: true,
  pools: true,
  otherConnections: true,
  redis: true,
  migrationJob: true,
  auditMaintenance: true,
  monitoring: true,
  logicalIdPrefix: true,
  backup: true,
  services: true,
  replay: true,
});

export class CaracalStores<S extends ServiceName = ServiceName> extends Construct {
  readonly environment: string;
  readonly namespace: string;
  /** The services deployed, in the canonical order (SERVICES). */
  readonly services: readonly S[];
  readonly secrets: DatabaseSecrets;
  /** The HMAC and encryption keys (generated once, or an existing Secret). */
  readonly keyMaterial: KeyMaterialSecret;
  /** The database: the in-cluster PostgresInstance, the CloudNativePgCluster, or the imported external one. */
  readonly postgres: IPostgresDatabase;
  readonly pools: ServicePools;
  /** Redis: the in-cluster RedisStreams, or the imported external one. */
  readonly redis: IRedisStreams;
  readonly auditMaintenance: AuditPartitionMaintenance;
  /** The migration Job's helm_release (pre-install/pre-upgrade hook): migrates, then provisions the logins. */
  readonly migrationJob: MigrationJob;
  /** postgres_exporter, redis_exporter, their NetworkPolicy, the alert rules and the dashboard. */
  readonly monitoring: StoresMonitoring;
  /** The backup CronJob and its volume; undefined when off (an external database by default). */
  readonly backup?: PostgresBackup;
  /** The STS and Gateway replay volumes (protected claims) and their snapshots. */
  readonly replay: ReplayVolumes;

  constructor(scope: Construct, id: string, props: CaracalStoresProps<S>) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'CaracalStores prop');
    // One CaracalStores per environment and stack; two environments must also differ in logicalIdPrefix and
    // namespace, which the stack checks at synth (internal/stack-identity).
    claimEnvironment(problems, this, props.environment);
    if (!(props.postgres instanceof StoresPostgres)) {
      problems.add(
        'postgres',
        props.postgres,
        'is not a Postgres choice: expected StoresPostgres.inCluster({...}), StoresPostgres.cloudNativePg({...}) or StoresPostgres.external({...})',
      );
    }
    rules.knownKeys(problems, 'pools', props.pools, SERVICES, 'Caracal service');
    const services = rules.serviceSet(problems, 'services', props.services);
    for (const s of Object.keys(props.pools ?? {}))
      if ((SERVICES as readonly string[]).includes(s) && !services.includes(s as ServiceName))
        problems.add(`pools.${s}`, s, `is not among services: expected one of ${services.join(', ')} (or add ${s} to services)`);
    this.environment = props.environment;
    this.namespace = props.namespace;
    this.services = services as readonly S[];
    // Every child is built and checked even when one before it, or the composite's own props, are bad: one error
    // lists them all. The children get only what the composite's own checks let through (no problem twice).
    const children = new ChildProblems(this.node.path);
    children.build(() => problems.throwIfAny());
    const poolSettings =
      props.pools && Object.fromEntries(Object.entries(props.pools).filter(([k]) => services.includes(k as ServiceName)));

    const secrets =
      children.build(
        () =>
          new DatabaseSecrets(this, 'secrets', {
            environment: props.environment,
            namespace: props.namespace,
            credentials: props.credentials,
            logicalIdPrefix: props.logicalIdPrefix,
            services,
          }),
      ) ??
      children.standIn((scratch) => new DatabaseSecrets(scratch, 'secrets', { environment: 'standin', namespace: 'stand-in', services }));

    // Its own construct; its logical ids are fixed (`<prefix>_hmac_key`, ...), so the move from under the secrets
    // kept every Terraform address.
    const keyMaterial = children.build(
      () =>
        new KeyMaterialSecret(this, 'keys', {
          environment: props.environment,
          namespace: props.namespace,
          keyMaterial: props.keyMaterial,
          logicalIdPrefix: props.logicalIdPrefix,
        }),
    );

    // Derived from the pool settings; when they are bad (ServicePools reports them), max_connections is not derived.
    const required = ServicePools.requiredConnections(poolSettings, props.otherConnections, undefined, services);
    const requiredConnections = Number.isInteger(required) && required >= 1 && required <= 10_000 ? required : undefined;
    const choice = props.postgres instanceof StoresPostgres ? props.postgres.choice : StoresPostgres.inCluster().choice;
    // The logical backup (and the Redis RDB copy) runs for every database this library deploys.
    const backupEnabled = props.backup?.enabled ?? choice.kind !== 'external';
    // What the composite decides for a database it deploys, either kind. Admitted by default: the services, the
    // migration Job, the maintenance CronJob and the exporters (internal/default-clients.ts); `allowedClients` in the
    // options and allowFrom() add to them, and so does the backup CronJob when it runs.
    const deployed = (allowedClients: ReadonlyArray<Readonly<Record<string, string>>> | undefined) => ({
      allowedClients: [...(allowedClients ?? []), ...(backupEnabled ? [PostgresBackup.podSelector(props.environment)] : [])],
      environment: props.environment,
      namespace: props.namespace,
      owner: secrets.login('owner'),
      requiredConnections,
      services,
    });
    const realPostgres = children.build<IPostgresDatabase>(() =>
      choice.kind === 'cloudnative-pg'
        ? new CloudNativePgCluster(this, 'postgres', {
            logicalIdPrefix: props.logicalIdPrefix,
            // The CNPG PodMonitor follows the exporters' prometheus-operator switch unless set.
            podMonitor: props.monitoring?.prometheusOperator ?? true,
            ...choice.options,
            ...deployed(choice.options.allowedClients),
          })
        : choice.kind === 'in-cluster'
          ? new PostgresInstance(this, 'postgres', {
              logicalIdPrefix: props.logicalIdPrefix,
              ...choice.options,
              ...deployed(choice.options.allowedClients),
            })
          : PostgresInstance.external(this, 'postgres', { ...choice.options, requiredConnections }),
    );
    const postgres =
      realPostgres ?? children.standIn((scratch) => PostgresInstance.external(scratch, 'postgres', { host: 'postgres.stand-in.invalid' }));

    const pools = children.build(
      () =>
        new ServicePools(this, 'pools', {
          environment: props.environment,
          namespace: props.namespace,
          endpoint: postgres.endpoint,
          // Without a valid instance there is no max_connections to hold the budget against.
          maxConnections: realPostgres ? postgres.maxConnections : 100_000,
          reservedConnections: postgres.reservedConnections,
          secrets,
          services: poolSettings,
          otherConnections: props.otherConnections,
        }),
    );

    const redisChoice = props.redis instanceof StoresRedis ? props.redis.choice : StoresRedis.inCluster(props.redis).choice;
    const inClusterRedis = (options: StoresRedisOptions) =>
      new RedisStreams(this, 'redis', {
        // Admitted by default: the services and redis_exporter; `allowedClients` and allowFrom() add to them.
        logicalIdPrefix: props.logicalIdPrefix,
        ...options,
        // The backup's RDB copy (redis-cli --rdb as the replicate-only backup user), when the backup runs.
        allowedClients: [...(options.allowedClients ?? []), ...(backupEnabled ? [PostgresBackup.podSelector(props.environment)] : [])],
        backupUser: backupEnabled,
        environment: props.environment,
        namespace: props.namespace,
        services,
      });
    const redis = children.build<IRedisStreams>(() =>
      redisChoice.kind === 'in-cluster'
        ? inClusterRedis(redisChoice.options)
        : RedisStreams.fromAttributes(this, 'redis', {
            ...redisChoice.options,
            environment: props.environment,
            namespace: props.namespace,
            services,
          }),
    );
    // The backup copies the RDB of the in-cluster Redis only; an external one is backed up by its provider.
    const redisToCopy = redis instanceof RedisStreams && redisChoice.kind === 'in-cluster' ? redis : undefined;

    const migrationJob = children.build(
      () =>
        new MigrationJob(this, 'migration-job', {
          // A new Cluster bootstraps its primary and clones each replica before `-rw` answers: wait longer.
          ...(choice.kind === 'cloudnative-pg' ? { waitForDb: '300s' } : {}),
          ...props.migrationJob,
          environment: props.environment,
          namespace: props.namespace,
          database: postgres,
          secrets,
          pools,
        }),
    );

    const auditMaintenance = children.build(
      () =>
        new AuditPartitionMaintenance(this, 'audit-partition-maintenance', {
          ...props.auditMaintenance,
          image: props.auditMaintenance?.image ?? (choice.kind === 'in-cluster' ? choice.options.image : undefined),
          environment: props.environment,
          namespace: props.namespace,
          endpoint: postgres.endpoint,
          // Its own login, which the migration Job provisions: never the owner's.
          login: secrets.login('maintenance'),
          databasePodSelector: postgres.podLabels && { ...postgres.podLabels },
          // The CronJob calls the migrations' partition functions as the login the Job creates: it needs the Job.
          dependsOn: [...postgres.readyResources, ...(migrationJob ? [migrationJob.release] : [])],
        }),
    );

    const backup = backupEnabled
      ? children.build(() => {
          const { enabled: _enabled, ...options } = props.backup ?? {};
          return new PostgresBackup(this, 'backup', {
            ...options,
            // The server's own image: its pg_dump is the server's major.
            image: options.image ?? (postgres instanceof PostgresInstance ? postgres.image : undefined),
            // Redis's RDB on the same schedule, in the same pod, before the dump (docs/operations.md "Backup").
            redis: redisToCopy && {
              host: redisToCopy.endpoint.host,
              port: redisToCopy.endpoint.port,
              passwordSecret: redisToCopy.userSecret('backup'),
              podSelector: { ...redisToCopy.podLabels },
              image: redisToCopy.image,
              runAsUser: redisChoice.kind === 'in-cluster' ? redisChoice.options.runAsUser : undefined,
            },
            environment: props.environment,
            namespace: props.namespace,
            endpoint: postgres.endpoint,
            // Its own login, which the migration Job provisions: a member of caracal_backup, never the owner's.
            login: secrets.login('backup'),
            databasePodSelector: postgres.podLabels && { ...postgres.podLabels },
            logicalIdPrefix: props.logicalIdPrefix,
            dependsOn: [...postgres.readyResources, ...(migrationJob ? [migrationJob.release] : [])],
          });
        })
      : undefined;

    const replay = children.build(
      () =>
        new ReplayVolumes(this, 'replay', {
          ...props.replay,
          environment: props.environment,
          namespace: props.namespace,
          // One claim per StatefulSet ordinal the autoscaler may create, for sts and gateway where deployed.
          pods: Object.fromEntries(REPLAY_SERVICES.flatMap((s) => (pools?.pools[s] ? [[s, pools.pools[s].maxReplicas]] : []))),
          logicalIdPrefix: props.logicalIdPrefix,
        }),
    );

    const monitoring = children.build(() =>
      redis && pools && migrationJob
        ? new StoresMonitoring(this, 'monitoring', {
            ...props.monitoring,
            environment: props.environment,
            namespace: props.namespace,
            postgres: postgres.endpoint,
            monitoringLogin: secrets.login('monitoring'),
            postgresPodSelector: postgres.podLabels && { ...postgres.podLabels },
            redis: redis.endpoint,
            redisExporterSecret: redis.userSecret('exporter'),
            redisPodSelector: redis.podLabels && { ...redis.podLabels },
            pools: services.map((s) => ({
              applicationName: `caracal-${s}`,
              poolMax: pools.pool(s).poolMax,
              maxPods: pools.pool(s).maxPods,
            })),
            schemaVersion: Number(migrationJob.schemaVersion),
            // CaracalBackupTooOld reads kube-state-metrics' last successful time of this CronJob.
            backupCronJob: props.monitoring?.backupCronJob ?? backup?.name,
            services,
          })
        : undefined,
    );

    children.throwIfAny();
    this.secrets = secrets;
    this.keyMaterial = built(keyMaterial);
    this.postgres = postgres;
    this.pools = built(pools);
    this.redis = built(redis);
    this.migrationJob = built(migrationJob);
    this.auditMaintenance = built(auditMaintenance);
    this.monitoring = built(monitoring);
    this.backup = backupEnabled ? built(backup) : undefined;
    this.replay = built(replay);
  }

  /** Resources that must exist before anything connects to the database (for depends_on). */
  get databaseReady(): ITerraformDependable[] {
    return [...this.postgres.readyResources];
  }

  /** Resources the services' release should depend on: the migrated database, Redis and their policies. */
  get servicesDependOn(): ITerraformDependable[] {
    return [...this.databaseReady, this.migrationJob.release, ...this.redis.readyResources];
  }

  get postgresEndpoint(): PostgresEndpoint {
    return this.postgres.endpoint;
  }

  get redisEndpoint(): RedisEndpoint {
    return this.redis.endpoint;
  }

  /** Secret names: database login per login, Redis user per user, key material. */
  get secretNames(): {
    readonly database: Readonly<Record<Exclude<LoginName, ServiceName> | S, string>>;
    readonly redis: Readonly<Record<RedisUser, string>>;
    readonly keyMaterial: string;
    /** The ACL file's Secret of the in-cluster Redis; undefined for an external one. */
    readonly redisAcl: string | undefined;
  } {
    return {
      database: Object.fromEntries(this.secrets.loginNames.map((l) => [l, this.secrets.secretName(l)])) as Record<
        Exclude<LoginName, ServiceName> | S,
        string
      >,
      redis: Object.fromEntries(this.redis.users.map((u) => [u, this.redis.secretName(u)])) as Record<RedisUser, string>,
      keyMaterial: this.keyMaterial.secretName,
      redisAcl: this.redis instanceof RedisStreams ? this.redis.aclSecretName : undefined,
    };
  }

  /** ConfigMap names: each service's database and Redis connection settings, and redis.conf. */
  get configMapNames(): {
    readonly database: Readonly<Record<S, string>>;
    readonly redis: Readonly<Record<S, string>>;
    /** redis.conf of the in-cluster Redis; undefined for an external one. */
    readonly redisConfig: string | undefined;
  } {
    return {
      database: Object.fromEntries(this.services.map((s) => [s, this.pools.configMapName(s)])) as Record<S, string>,
      redis: Object.fromEntries(this.services.map((s) => [s, this.redis.connectionConfigMapName(s)])) as Record<S, string>,
      redisConfig: this.redis instanceof RedisStreams ? this.redis.configMapName : undefined,
    };
  }

  /**
   * The values fragment for the services' Helm release, keyed by service: pool sizing and resources,
   * env from the database and Redis ConfigMaps, each service's own database and Redis Secrets as files
   * (no subPath), the pod labels both NetworkPolicies admit, no service-account token, and the init container that
   * waits until the schema has the newest migration (MigrationJob.schemaWait, as the service's own login).
   */
  helmValues(): Record<S, StoresServiceValues> {
    const all = this.pools.helmValues();
    const out = {} as Record<S, StoresServiceValues>;
    for (const s of this.services) {
      const db = all[s];
      if (!db) throw new Error(`${this.node.path}: the pools have no values for ${s}`);
      const r = this.redis.helmValues(s);
      const wait = this.migrationJob.schemaWait(db);
      const replay = this.replay.workloadValues(s);
      out[s] = {
        ...db,
        podLabels: { ...db.podLabels, ...r.podLabels },
        podAnnotations: { ...db.podAnnotations, ...r.podAnnotations },
        envFrom: [...db.envFrom, ...r.envFrom],
        volumes: [...db.volumes, ...r.volumes, ...wait.volumes],
        volumeMounts: [...db.volumeMounts, ...r.volumeMounts, ...(replay ? [replay.volumeMount] : [])],
        initContainers: [wait.initContainer],
        ...(replay ? { statefulSet: replay.statefulSet } : {}),
      };
    }
    return out;
  }

  /**
   * One service's `helmValues()` in the kubernetes provider's shape, for a platform stack that deploys the service
   * with its own DeploymentV1 or StatefulSetV1: the pod labels both NetworkPolicies admit, env from the database and
   * Redis ConfigMaps, the service's own Secrets as files (octal modes as the provider writes them), the
   * `caracal-wait-for-schema` init container, replicas and the rolling-update surge of the connection budget.
   */
  serviceWorkload(service: S): ServiceWorkload {
    return serviceWorkloadOf(this.node.path, this.helmValues(), service);
  }
}

/** A child that was built: children.throwIfAny() has thrown for any that was not. */
function built<T>(child: T | undefined): T {
  if (child === undefined) throw new Error('CaracalStores: a child failed without a ValidationError being thrown');
  return child;
}
