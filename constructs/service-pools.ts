// ServicePools: connection pool settings of the five services that use Postgres, one ConfigMap each
// with the connection contract, the per-role server timeouts, and the connection budget check.
import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { Problems } from './errors';
import { serviceSelector, standardLabels } from './internal/labels';
import { SERVICES, ServiceName } from '../common/names';
import * as rules from './internal/rules';
import { parseDuration } from '../common/units';
import { Duration } from './postgres-capacity';
import { PostgresEndpoint, ResourceRequirements } from './postgres-instance';
import { DatabaseSecrets } from './database-secrets';
import type { KeyMaterialSecret } from './key-material';
import { PgConnection, PgEnvVar } from './internal/pg-connection';
import type { HelmConfigMapVolume, HelmSecretVolume, HelmVolumeMount, ServiceWorkload, WorkloadConnectionValues } from './workload-values';
import { serviceWorkloadOf } from './internal/provider-workload';
import { checkStackIdentity } from './internal/stack-identity';
import { credentialsAnnotation } from './internal/credentials-checksum';

/** One service's pool and pod settings. */
export interface ServicePoolSettings {
  /** Steady-state replicas. @default 2 */
  readonly replicas?: number;
  /** Autoscaling maximum; equal to `replicas` means no autoscaling. @default replicas */
  readonly maxReplicas?: number;
  /** Extra pods during a rolling update (counted in the connection budget). @default 1 */
  readonly maxSurge?: number;
  /** DB_POOL_MAX: connections each pod's pool may open. @default 10 */
  readonly poolMax?: number;
  /** statement_timeout, enforced by the server for the service's role. @default '30s' */
  readonly statementTimeout?: Duration;
  /** idle_in_transaction_session_timeout, enforced by the server for the service's role. @default '60s' */
  readonly idleInTransactionTimeout?: Duration;
  /** How long the pool waits to connect. @default '5s' */
  readonly connectionTimeout?: Duration;
  /** How long an idle pooled connection is kept. @default '30s' */
  readonly idleTimeout?: Duration;
  /** Pod resources for the service's own chart. @default requests 100m/256Mi, limits memory 512Mi */
  readonly resources?: ResourceRequirements;
}

/** Connections used by something other than the services. */
export interface OtherConnections {
  /** The migration Job (a lock session and a work session). @default 2 */
  readonly migrationJob?: number;
  /** CronJobs (audit partition maintenance, backup) that may run at once. @default 2 */
  readonly cronJobs?: number;
  /** Metrics exporters. @default 1 */
  readonly exporters?: number;
}

export interface ServicePoolsProps {
  /** Environment name (role names, labels). */
  readonly environment: string;
  /** Namespace of the ConfigMaps (the services' namespace). */
  readonly namespace: string;
  /** Where the services connect. */
  readonly endpoint: PostgresEndpoint;
  /** max_connections of the server, for the budget check. */
  readonly maxConnections: number;
  /** superuser_reserved_connections of the server. @default 3 */
  readonly reservedConnections?: number;
  /** The login Secrets; each service mounts only its own. Their `services` are the services deployed here. */
  readonly secrets: DatabaseSecrets;
  /** Per-service settings, for the services of `secrets` only; a service left out gets the defaults. @default defaults for each */
  readonly services?: Partial<Record<ServiceName, ServicePoolSettings>>;
  /** Connections of jobs and exporters. @default migration Job 2, CronJobs 2, exporters 1 */
  readonly otherConnections?: OtherConnections;
  /** Directory the login Secret is mounted at in service pods. @default '/var/run/secrets/caracal/db' */
  readonly secretMountPath?: string;
  /** ConfigMap name prefix (`<prefix>-<service>-db`). @default 'caracal' */
  readonly namePrefix?: string;
  /** Services whose pods mount the HMAC / encryption key material Secret (least privilege: only those that use it). @default none */
  readonly keyMaterialServices?: readonly ServiceName[];
  /** The key material those services mount; required when `keyMaterialServices` names any. @default none */
  readonly keyMaterial?: KeyMaterialSecret;
  /** Directory the key material Secret is mounted at. @default '/var/run/secrets/caracal/keys' */
  readonly keyMaterialMountPath?: string;
}

/** Settings after defaults, durations in milliseconds. */
export interface ResolvedPool {
  readonly service: ServiceName;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly maxSurge: number;
  /** Pods at the worst moment: autoscaling maximum plus rolling-update surge. */
  readonly maxPods: number;
  readonly poolMax: number;
  readonly statementTimeoutMs: number;
  readonly idleInTransactionTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly resources: ResourceRequirements;
}

/** Server-side settings for one login role, applied by the migration Job with `ALTER ROLE ... SET`. */
export interface RoleSettings {
  readonly role: string;
  readonly settings: Readonly<Record<string, string>>;
}

export type { HelmSecretVolume, HelmConfigMapVolume, HelmVolumeMount };

/** The values one service's chart needs to reach Postgres (a typed fragment of its values file). */
export interface ServiceHelmValues extends WorkloadConnectionValues {
  readonly replicaCount: number;
  readonly autoscaling: { readonly enabled: boolean; readonly minReplicas: number; readonly maxReplicas: number };
  readonly strategy: {
    readonly type: 'RollingUpdate';
    readonly rollingUpdate: { readonly maxSurge: number; readonly maxUnavailable: number };
  };
  readonly resources: ResourceRequirements;
  readonly automountServiceAccountToken: false;
}

const DEFAULTS = {
  replicas: 2,
  maxSurge: 1,
  poolMax: 10,
  statementTimeout: '30s',
  idleInTransactionTimeout: '60s',
  connectionTimeout: '5s',
  idleTimeout: '30s',
  resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } } as ResourceRequirements,
};
const OTHER_DEFAULTS = { migrationJob: 2, cronJobs: 2, exporters: 1 };

/** Every prop of ServicePoolsProps: a key not among them (from JavaScript) is an error naming the closest. */
const PROPS = rules.keysOf<ServicePoolsProps>({
  environment: true,
  namespace: true,
  endpoint: true,
  maxConnections: true,
  reservedConnections: true,
  secrets: true,
  services: true,
  otherConnections: true,
  secretMountPath: true,
  namePrefix: true,
  keyMaterialServices: true,
  keyMaterial: true,
  keyMaterialMountPath: true,
});

export class ServicePools extends Construct {
  /**
   * Connections everything needs at the worst moment (every service at max pods x pool, jobs, exporters,
   * reserved). Use it as PostgresInstance `requiredConnections` to derive max_connections. Assumes valid settings.
   */
  static requiredConnections(
    services: Partial<Record<ServiceName, ServicePoolSettings>> = {},
    other: OtherConnections = {},
    reservedConnections = 3,
    deployed: readonly ServiceName[] = SERVICES,
  ): number {
    return budgetTerms(
      deployed.map((s) => resolveDefaults(s, services[s])),
      other,
      reservedConnections,
    ).total;
  }

  /** The services deployed (those of `secrets`), in the canonical order. */
  readonly deployedServices: readonly ServiceName[];
  /** Resolved settings per deployed service. */
  readonly pools: Readonly<Partial<Record<ServiceName, ResolvedPool>>>;
  /** Connections needed at the worst moment. */
  readonly requiredConnections: number;
  private readonly configMaps = new Map<ServiceName, string>();
  private readonly secretMountPath: string;
  private readonly secrets: DatabaseSecrets;
  private readonly instance: string;
  private readonly endpoint: PostgresEndpoint;
  private readonly keyMaterialServices: ReadonlySet<ServiceName>;
  private readonly keyMaterial?: KeyMaterialSecret;
  private readonly keyMaterialMountPath: string;

  constructor(scope: Construct, id: string, props: ServicePoolsProps) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'ServicePools prop');
    this.secrets = props.secrets;
    const deployed = props.secrets.services;
    this.deployedServices = deployed;
    this.endpoint = props.endpoint;
    this.secretMountPath = props.secretMountPath ?? '/var/run/secrets/caracal/db';
    this.instance = `caracal-${props.environment}`;
    const prefix = props.namePrefix ?? 'caracal';
    this.keyMaterialServices = new Set(props.keyMaterialServices ?? []);
    this.keyMaterial = props.keyMaterial;
    if (this.keyMaterialServices.size > 0 && !props.keyMaterial)
      problems.add('keyMaterial', undefined, 'is required when keyMaterialServices names a service: expected a KeyMaterialSecret');
    this.keyMaterialMountPath = props.keyMaterialMountPath ?? '/var/run/secrets/caracal/keys';
    for (const s of props.keyMaterialServices ?? []) {
      if (!(SERVICES as readonly string[]).includes(s))
        problems.add('keyMaterialServices', s, `is not a Caracal service: expected one of ${SERVICES.join(', ')}`);
      else if (!deployed.includes(s))
        problems.add('keyMaterialServices', s, `is not a deployed service: expected one of ${deployed.join(', ')}`);
    }
    if (this.keyMaterialMountPath === this.secretMountPath)
      problems.add('keyMaterialMountPath', this.keyMaterialMountPath, "is the login Secret's mount path: expected a path of its own");
    else rules.absolutePath(problems, 'keyMaterialMountPath', this.keyMaterialMountPath, '/var/run/secrets/caracal/keys');
    rules.environmentName(problems, 'environment', props.environment);
    rules.namespace(problems, 'namespace', props.namespace);
    rules.namePrefix(problems, 'namePrefix', prefix, 48, 'names are <prefix>-<service>-db');
    rules.absolutePath(problems, 'secretMountPath', this.secretMountPath, '/var/run/secrets/caracal/db');
    rules.knownKeys(problems, 'services', props.services, SERVICES, 'Caracal service');
    for (const s of Object.keys(props.services ?? {}))
      if ((SERVICES as readonly string[]).includes(s) && !deployed.includes(s as ServiceName))
        problems.add(`services.${s}`, s, `is not a deployed service (secrets.services): expected one of ${deployed.join(', ')}`);
    // The budget is only meaningful when the numbers it adds up are valid; other problems do not hide it.
    const beforeNumbers = problems.count;
    const resolved = deployed.map((s) => {
      validatePool(problems, `services.${s}`, props.services?.[s]);
      return resolveDefaults(s, props.services?.[s]);
    });
    const other = props.otherConnections ?? {};
    for (const [k, v] of Object.entries(other)) {
      if (!(k in OTHER_DEFAULTS))
        problems.add(`otherConnections.${k}`, k, `is not a connection consumer: expected one of ${Object.keys(OTHER_DEFAULTS).join(', ')}`);
      else rules.integer(problems, `otherConnections.${k}`, v, 0, 1000);
    }
    const reserved = props.reservedConnections ?? 3;
    rules.integer(problems, 'maxConnections', props.maxConnections, 1, 100_000);
    if (problems.count === beforeNumbers) {
      const terms = budgetTerms(resolved, other, reserved);
      this.requiredConnections = terms.total;
      if (terms.total > props.maxConnections) {
        problems.addMessage(
          'services',
          `connection budget ${terms.text} = ${terms.total} > max_connections ${props.maxConnections}: ` +
            'lower DB_POOL_MAX or the replica maximums, or raise max_connections (capacity.maxConnections)',
        );
      }
    } else {
      this.requiredConnections = 0;
    }
    problems.throwIfAny();
    this.pools = Object.fromEntries(resolved.map((p) => [p.service, p])) as Partial<Record<ServiceName, ResolvedPool>>;

    for (const pool of resolved) {
      const name = `${prefix}-${pool.service}-db`;
      const data: Record<string, string> = {
        DB_POOL_MAX: String(pool.poolMax),
        DB_STATEMENT_TIMEOUT_MS: String(pool.statementTimeoutMs),
        DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: String(pool.idleInTransactionTimeoutMs),
        DB_CONNECTION_TIMEOUT_MS: String(pool.connectionTimeoutMs),
        DB_IDLE_TIMEOUT_MS: String(pool.idleTimeoutMs),
        ...this.connection(pool.service, [
          { name: 'PGAPPNAME', value: `caracal-${pool.service}` },
          { name: 'PGCONNECT_TIMEOUT', value: String(Math.max(2, Math.ceil(pool.connectionTimeoutMs / 1000))) },
        ]).envData(),
      };
      if (this.keyMaterial && this.keyMaterialServices.has(pool.service)) {
        data.CARACAL_HMAC_KEY_FILE = `${this.keyMaterialMountPath}/${this.keyMaterial.hmacKey}`;
        data.CARACAL_ENCRYPTION_KEY_FILE = `${this.keyMaterialMountPath}/${this.keyMaterial.encryptionKey}`;
      }
      new ConfigMapV1(this, `config-${pool.service}`, {
        metadata: {
          name,
          namespace: props.namespace,
          labels: standardLabels({ name: `caracal-${pool.service}`, instance: this.instance, component: pool.service }),
        },
        data,
      });
      this.configMaps.set(pool.service, name);
    }
  }

  /** A service's PG* connection: its own login Secret and the CA, mounted whole (the one contract, internal/pg-connection). */
  private connection(service: ServiceName, extraEnv: readonly PgEnvVar[] = []): PgConnection {
    return new PgConnection({
      endpoint: this.endpoint,
      login: this.secrets.login(service),
      password: { volume: 'caracal-db-credentials', dir: this.secretMountPath },
      ca: { volume: 'caracal-db-ca', dir: `${this.secretMountPath}-ca` },
      extraEnv,
    });
  }

  /** Name of a service's ConfigMap (DB_POOL_MAX, timeouts, PGHOST ... PGPASSWORD_FILE). */
  configMapName(service: ServiceName): string {
    const name = this.configMaps.get(rules.deployedService(this.node.path, this.deployedServices, service));
    if (!name) throw new Error(`${this.node.path}: no ConfigMap for ${service}`);
    return name;
  }

  /** Name of the Secret a service mounts (its own login only). */
  secretName(service: ServiceName): string {
    return this.secrets.secretName(service);
  }

  /** Pod labels a service's pods must carry to pass the Postgres NetworkPolicy. */
  podSelector(service: ServiceName): Readonly<Record<string, string>> {
    return serviceSelector(this.instance, service);
  }

  /** statement_timeout and idle_in_transaction_session_timeout per service login role (ms), for `ALTER ROLE ... SET`. */
  roleSettings(): RoleSettings[] {
    return this.deployedServices.map((s) => ({
      role: this.secrets.loginRole(s),
      settings: {
        statement_timeout: String(this.pool(s).statementTimeoutMs),
        idle_in_transaction_session_timeout: String(this.pool(s).idleInTransactionTimeoutMs),
      },
    }));
  }

  /** A deployed service's resolved settings; an error naming the deployed services for any other. */
  pool(service: ServiceName): ResolvedPool {
    const pool = this.pools[rules.deployedService(this.node.path, this.deployedServices, service)];
    if (!pool) throw new Error(`${this.node.path}: no pool for ${service}`);
    return pool;
  }

  /** Typed values fragment for the services' own Helm release, keyed by deployed service. */
  helmValues(): Partial<Record<ServiceName, ServiceHelmValues>> {
    const out: Partial<Record<ServiceName, ServiceHelmValues>> = {};
    for (const s of this.deployedServices) {
      const p = this.pool(s);
      const connection = this.connection(s);
      const volumes: HelmSecretVolume[] = connection.manifestVolumes();
      const volumeMounts: HelmVolumeMount[] = [...connection.mounts];
      const versions = [this.secrets.secretVersion(s)];
      if (this.keyMaterial && this.keyMaterialServices.has(s)) {
        versions.push(this.keyMaterial.version);
        volumes.push({ name: 'caracal-key-material', secret: { secretName: this.keyMaterial.secretName, defaultMode: 0o440 } });
        volumeMounts.push({ name: 'caracal-key-material', mountPath: this.keyMaterialMountPath, readOnly: true });
      }
      out[s] = {
        replicaCount: p.replicas,
        autoscaling: { enabled: p.maxReplicas > p.replicas, minReplicas: p.replicas, maxReplicas: p.maxReplicas },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: p.maxSurge, maxUnavailable: 0 } },
        resources: p.resources,
        podLabels: this.podSelector(s),
        podAnnotations: credentialsAnnotation('database', versions),
        envFrom: [{ configMapRef: { name: this.configMapName(s) } }],
        volumes,
        volumeMounts,
        automountServiceAccountToken: false,
      };
    }
    return out;
  }

  /**
   * One service's `helmValues()` in the kubernetes provider's shape, for a DeploymentV1/StatefulSetV1 of its own
   * (database connection only; CaracalStores.serviceWorkload adds Redis and the schema wait).
   */
  serviceWorkload(service: ServiceName): ServiceWorkload {
    return serviceWorkloadOf(this.node.path, this.helmValues(), service);
  }
}

function resolveDefaults(service: ServiceName, s: ServicePoolSettings = {}): ResolvedPool {
  const replicas = s.replicas ?? DEFAULTS.replicas;
  const maxReplicas = s.maxReplicas ?? replicas;
  const maxSurge = s.maxSurge ?? DEFAULTS.maxSurge;
  return {
    service,
    replicas,
    maxReplicas,
    maxSurge,
    maxPods: Math.max(replicas, maxReplicas) + maxSurge,
    poolMax: s.poolMax ?? DEFAULTS.poolMax,
    statementTimeoutMs: parseDuration(s.statementTimeout ?? DEFAULTS.statementTimeout) ?? 0,
    idleInTransactionTimeoutMs: parseDuration(s.idleInTransactionTimeout ?? DEFAULTS.idleInTransactionTimeout) ?? 0,
    connectionTimeoutMs: parseDuration(s.connectionTimeout ?? DEFAULTS.connectionTimeout) ?? 0,
    idleTimeoutMs: parseDuration(s.idleTimeout ?? DEFAULTS.idleTimeout) ?? 0,
    resources: s.resources ?? DEFAULTS.resources,
  };
}

function budgetTerms(pools: ResolvedPool[], other: OtherConnections, reserved: number): { total: number; text: string } {
  const o = { ...OTHER_DEFAULTS, ...other };
  const parts = pools.map((p) => ({ text: `${p.service} ${p.maxPods}x${p.poolMax}`, n: p.maxPods * p.poolMax }));
  parts.push({ text: `migration job ${o.migrationJob}`, n: o.migrationJob });
  parts.push({ text: `cron jobs ${o.cronJobs}`, n: o.cronJobs });
  parts.push({ text: `exporters ${o.exporters}`, n: o.exporters });
  parts.push({ text: `reserved ${reserved}`, n: reserved });
  return { total: parts.reduce((a, p) => a + p.n, 0), text: parts.map((p) => p.text).join(' + ') };
}

const POOL_SETTINGS = rules.keysOf<ServicePoolSettings>({
  replicas: true,
  maxReplicas: true,
  maxSurge: true,
  poolMax: true,
  statementTimeout: true,
  idleInTransactionTimeout: true,
  connectionTimeout: true,
  idleTimeout: true,
  resources: true,
});

function validatePool(problems: Problems, field: string, s: ServicePoolSettings | undefined): void {
  if (s === undefined) return;
  rules.knownKeys(problems, field, s, POOL_SETTINGS, 'pool setting');
  const int = (name: keyof ServicePoolSettings, min: number, max: number) => {
    if (s[name] !== undefined) rules.integer(problems, `${field}.${name}`, s[name], min, max);
  };
  int('replicas', 1, 100);
  int('maxReplicas', 1, 200);
  int('maxSurge', 0, 50);
  int('poolMax', 1, 200);
  if (s.maxReplicas !== undefined && s.replicas !== undefined && s.maxReplicas < s.replicas) {
    problems.add(`${field}.maxReplicas`, s.maxReplicas, `is below replicas (${s.replicas}): expected at least ${s.replicas}`);
  }
  const dur = (
    name: 'statementTimeout' | 'idleInTransactionTimeout' | 'connectionTimeout' | 'idleTimeout',
    minMs: number,
    maxMs: number,
    accepted: string,
  ) => {
    if (s[name] !== undefined) rules.duration(problems, `${field}.${name}`, s[name], { minMs, maxMs, accepted });
  };
  // 0 would disable the server-side timeouts; Caracal's services always run with them.
  dur('statementTimeout', 100, 3_600_000, '100ms to 1h (0 would disable it)');
  dur('idleInTransactionTimeout', 100, 3_600_000, '100ms to 1h (0 would disable it)');
  dur('connectionTimeout', 100, 120_000, '100ms to 2min');
  dur('idleTimeout', 1000, 3_600_000, '1s to 1h');
  if (s.resources) rules.resources(problems, `${field}.resources`, s.resources, { example: '512Mi' });
}
