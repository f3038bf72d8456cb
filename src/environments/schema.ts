// The one schema every environment file is validated against: the shape of the data (fields, types, kinds),
// plain data in, a typed spec out, or one ValidationError listing every problem (field path, bad value, accepted
// values). Values (names, quantities, durations, ranges) are the constructs' to check, with their rule library;
// the app reaches the constructs only through their public API (constructs/index.ts). src/stacks/environment-check.ts reports both at once for a file. Only what no
// construct sees (the cluster, the backend) is checked here in full.
import { Problems, ValidationError } from '../../constructs';
import type {
  KeyRingOptions,
  OtherConnections,
  PostgresSettings,
  PostgresWorkload,
  Problem,
  ResourceRequirements,
  ServicePoolSettings,
  SslMode,
  CnpgBackupOptions,
  CnpgOperatorOptions,
  StorageType,
} from '../../constructs';
import { ENVIRONMENT_NAME_ACCEPTED, ENVIRONMENT_NAME_PATTERN, LOGINS, SERVICES, ServiceName, LoginName } from '../../common/names';
import { REDIS_USERS, RedisUser } from '../../common/redis-streams';
import { ALTERNATING_ROTATION_KEYS, type AlternatingRotation } from '../../common/rotation';

/** How Terraform reaches the cluster. Always explicit: never a silent fallback to localhost or in-cluster credentials. */
export type ClusterSpec =
  | { readonly kind: 'kubeconfig'; readonly configPath: string; readonly context: string }
  | {
      readonly kind: 'host';
      readonly host: string;
      /** PEM of the cluster CA. */
      readonly clusterCaCertificate: string;
      /** Credential plugin (e.g. `aws eks get-token`). */
      readonly exec: { readonly apiVersion: string; readonly command: string; readonly args: readonly string[] };
    };

/** Where Terraform state lives. It holds generated secrets: remote backends must encrypt it. */
export type BackendSpec =
  | { readonly kind: 'local'; readonly path: string }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      readonly key: string;
      readonly region: string;
      readonly encrypt: true;
      readonly kmsKeyId?: string;
      readonly dynamodbTable?: string;
    }
  | { readonly kind: 'remote'; readonly hostname?: string; readonly organization: string; readonly workspace: string };

export type CapacitySpec =
  | { readonly kind: 'explicit'; readonly settings: PostgresSettings }
  | { readonly kind: 'compose'; readonly env: Readonly<Record<string, string>> }
  | {
      readonly kind: 'resources';
      readonly storage?: StorageType;
      readonly workload?: PostgresWorkload;
      readonly maxConnections?: number;
      /** @default the in-cluster memory limit / the external instanceMemory */
      readonly memory?: string;
      /** @default the in-cluster CPU limit or request, rounded up */
      readonly cpus?: number;
    };

export type PostgresSpec =
  | {
      readonly mode: 'in-cluster';
      readonly major: number;
      readonly dataVolumeMajor: number;
      readonly image?: string;
      readonly storageSize: string;
      readonly storageClassName?: string;
      readonly resources: ResourceRequirements;
      readonly capacity: CapacitySpec;
    }
  | {
      /** A CloudNativePG Cluster (constructs/cloudnative-pg-cluster.ts); values are the construct's to check. */
      readonly mode: 'cloudnative-pg';
      /** @default 3 */
      readonly instances?: number;
      readonly imageName?: string;
      readonly storageSize: string;
      readonly walStorageSize?: string;
      readonly storageClassName?: string;
      readonly resources: ResourceRequirements;
      readonly capacity: CapacitySpec;
      readonly parameters?: Readonly<Record<string, string>>;
      readonly podAntiAffinity?: 'required' | 'preferred';
      readonly backup?: CnpgBackupOptions;
      readonly operator?: CnpgOperatorOptions;
    }
  | {
      readonly mode: 'external';
      readonly host: string;
      readonly port: number;
      readonly database: string;
      readonly sslMode: SslMode;
      readonly caCertSecret?: { readonly secretName: string; readonly key?: string };
      readonly instanceMemory?: string;
      readonly cpus?: number;
      readonly capacity: CapacitySpec;
    };

export type CredentialsSpec =
  | {
      readonly kind: 'generated';
      readonly length?: number;
      /** A token, or (not the owner) an alternating rotation ({ a?, b?, active?, retireInactive? }: docs/operations.md#postgres-logins). */
      readonly rotation?: Partial<Record<LoginName, string | AlternatingRotation>>;
      /** How long a retired slot's password keeps working (e.g. "1h"). @default '1h' */
      readonly retireGrace?: string;
    }
  | {
      readonly kind: 'existing';
      readonly secretPrefix: string;
      /** A token, or (not the owner) an alternating rotation whose slot b is `<secretPrefix>-<login>-b`: docs/operations.md#postgres-logins. */
      readonly rotation?: Partial<Record<LoginName, string | AlternatingRotation>>;
      /** How long a retired slot's password keeps working (e.g. "1h"). @default '1h' */
      readonly retireGrace?: string;
    };

export type KeyMaterialSpec =
  | { readonly kind: 'generated'; readonly hmacRing?: KeyRingOptions; readonly encryptionRing?: KeyRingOptions }
  | {
      readonly kind: 'existing';
      readonly secretName: string;
      /** Bumped (or the secret manager's version id) when the keys change: rolls the services that mount them. */
      readonly version?: string;
    };

/** Where the Redis users' passwords come from; `existing` generates nothing (the secret manager also builds the ACL Secret). */
export type RedisPasswordsSpec =
  | {
      readonly kind: 'generated';
      readonly length?: number;
      /** A token, or an alternating rotation ({ a?, b?, active?, retireInactive? }: docs/operations.md#redis-passwords). */
      readonly rotation?: Partial<Record<RedisUser, string | AlternatingRotation>>;
      readonly reloaderRotation?: string;
    }
  | {
      readonly kind: 'existing';
      /** Secrets `<secretPrefix>-<user>` (key `password`). */
      readonly secretPrefix: string;
      /** @default `<secretPrefix>-acl` (key `users.acl`) */
      readonly aclSecretName?: string;
      /** Version token per user, bumped when the secret manager rotates that user's password (rolls its pods). */
      readonly rotation?: Partial<Record<RedisUser, string>>;
    };

/** Redis for Caracal's streams (always in the cluster). */
export interface RedisSpec {
  /** Pinned image (tag or digest). @default RedisStreams' DEFAULT_REDIS_IMAGE */
  readonly image?: string;
  /** `limits.memory` is required: maxmemory is derived from it. */
  readonly resources: ResourceRequirements;
  /** @default half the memory limit (at most 75%) */
  readonly maxmemory?: string;
  /** Initial size of the data volume (AOF + RDB). */
  readonly storageSize: string;
  /** @default the cluster's default storage class */
  readonly storageClassName?: string;
  readonly passwords: RedisPasswordsSpec;
}

/** The audit partition maintenance CronJob. Cross-field rules (health within the window, retention beyond it) are the construct's. */
export interface AuditMaintenanceSpec {
  /** Cron schedule: five fields or @hourly/@daily/... */
  readonly schedule: string;
  /** @default 'Etc/UTC' */
  readonly timeZone?: string;
  /** Partitions older than this are dropped, once exported. */
  readonly retentionDays: number;
  /** @default 7 */
  readonly daysBack?: number;
  /** @default 14 */
  readonly daysAhead?: number;
  /** @default 7 */
  readonly healthDaysAhead?: number;
}

/** One environment, as plain data. */
export interface EnvironmentSpec {
  /** Lower-case name: stack name and part of login role names (`caracal_<name>_api`). */
  readonly name: string;
  readonly namespace: string;
  readonly cluster: ClusterSpec;
  readonly backend: BackendSpec;
  readonly postgres: PostgresSpec;
  readonly credentials: CredentialsSpec;
  readonly keyMaterial: KeyMaterialSpec;
  readonly pools: Partial<Record<ServiceName, ServicePoolSettings>>;
  readonly otherConnections?: OtherConnections;
  readonly redis: RedisSpec;
  readonly auditMaintenance: AuditMaintenanceSpec;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A small hand-written walker: every check records a problem and carries on. */
class Walker {
  constructor(readonly problems: Problems) {}

  object(path: string, v: unknown, allowed: readonly string[]): Obj | undefined {
    if (!isObj(v)) {
      this.problems.add(path, v, 'is not an object');
      return undefined;
    }
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k))
        this.problems.add(`${path ? `${path}.` : ''}${k}`, k, `is not a known field: expected one of ${allowed.join(', ')}`);
    }
    return v;
  }

  string(path: string, v: unknown, o: { optional?: boolean; pattern?: RegExp; accepted?: string } = {}): void {
    if (v === undefined && o.optional) return;
    if (typeof v !== 'string' || v.trim() === '')
      return this.problems.add(path, v, `is missing or empty: expected ${o.accepted ?? 'a non-empty string'}`);
    if (o.pattern && !o.pattern.test(v)) this.problems.add(path, v, `is not valid: expected ${o.accepted}`);
  }

  /** A number (its range is the constructs' to check). */
  number(path: string, v: unknown, optional = false): void {
    if (v === undefined && optional) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.problems.add(path, v, 'is not a number');
  }

  oneOf(path: string, v: unknown, values: readonly unknown[], optional = false): boolean {
    if (v === undefined && optional) return true;
    if (!values.includes(v)) {
      this.problems.add(path, v, `is not accepted: expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
      return false;
    }
    return true;
  }

  /** Rotations by key: a token, or an alternating rotation object (the constructs check the tokens and slots). */
  rotationMap(path: string, v: unknown, keys: readonly string[]): void {
    if (v === undefined) return;
    const o = this.object(path, v, keys);
    for (const [k, x] of Object.entries(o ?? {})) {
      if (isObj(x)) this.object(`${path}.${k}`, x, ALTERNATING_ROTATION_KEYS);
      else this.string(`${path}.${k}`, x, { accepted: 'a rotation token or { a?, b?, active?, retireInactive? }' });
    }
  }

  stringMap(path: string, v: unknown, keys: readonly string[], optional = true): void {
    if (v === undefined && optional) return;
    const o = this.object(path, v, keys);
    if (o) for (const [k, x] of Object.entries(o)) this.string(`${path}.${k}`, x);
  }
}

function resources(w: Walker, path: string, v: unknown): void {
  const r = w.object(path, v, ['requests', 'limits']);
  if (!r) return;
  for (const kind of ['requests', 'limits'] as const) {
    if (r[kind] === undefined) continue;
    const q = w.object(`${path}.${kind}`, r[kind], ['cpu', 'memory']);
    if (!q) continue;
    w.string(`${path}.${kind}.cpu`, q.cpu, { optional: true, accepted: 'a CPU quantity such as "500m" or "2"' });
    w.string(`${path}.${kind}.memory`, q.memory, { optional: true, accepted: 'a memory quantity such as "512Mi" or "2Gi"' });
  }
}

function capacity(w: Walker, path: string, v: unknown): void {
  if (!isObj(v)) return w.problems.add(path, v, 'is not an object: expected { kind: "explicit" | "compose" | "resources", ... }');
  if (!w.oneOf(`${path}.kind`, v.kind, ['explicit', 'compose', 'resources'])) return;
  if (v.kind === 'explicit') {
    const c = w.object(path, v, ['kind', 'settings']);
    if (c)
      w.object(`${path}.settings`, c.settings, [
        'maxConnections',
        'sharedBuffers',
        'effectiveCacheSize',
        'workMem',
        'maintenanceWorkMem',
        'logMinDurationStatement',
        'walBuffers',
        'minWalSize',
        'maxWalSize',
        'checkpointCompletionTarget',
        'defaultStatisticsTarget',
        'randomPageCost',
        'effectiveIoConcurrency',
        'maxWorkerProcesses',
        'maxParallelWorkersPerGather',
        'maxParallelWorkers',
        'maxParallelMaintenanceWorkers',
        'hugePages',
        'superuserReservedConnections',
      ]);
  } else if (v.kind === 'compose') {
    const c = w.object(path, v, ['kind', 'env']);
    const names = [
      'POSTGRES_MAX_CONNECTIONS',
      'POSTGRES_SHARED_BUFFERS',
      'POSTGRES_EFFECTIVE_CACHE_SIZE',
      'POSTGRES_WORK_MEM',
      'POSTGRES_LOG_MIN_DURATION_MS',
    ];
    if (c) w.stringMap(`${path}.env`, c.env, names, false);
  } else {
    const c = w.object(path, v, ['kind', 'storage', 'workload', 'maxConnections', 'memory', 'cpus']);
    if (!c) return;
    w.string(`${path}.storage`, c.storage, { optional: true, accepted: 'a storage type such as "ssd"' });
    w.string(`${path}.workload`, c.workload, { optional: true, accepted: 'a workload such as "oltp"' });
    w.number(`${path}.maxConnections`, c.maxConnections, true);
    w.string(`${path}.memory`, c.memory, { optional: true, accepted: 'a memory quantity such as "8Gi"' });
    w.number(`${path}.cpus`, c.cpus, true);
  }
}

function pools(w: Walker, path: string, v: unknown): void {
  const p = w.object(path, v, SERVICES);
  if (!p) return;
  for (const s of SERVICES) {
    if (p[s] === undefined) continue;
    const sp = `${path}.${s}`;
    const x = w.object(sp, p[s], [
      'replicas',
      'maxReplicas',
      'maxSurge',
      'poolMax',
      'statementTimeout',
      'idleInTransactionTimeout',
      'connectionTimeout',
      'idleTimeout',
      'resources',
    ]);
    if (!x) continue;
    for (const n of ['replicas', 'maxReplicas', 'maxSurge', 'poolMax']) w.number(`${sp}.${n}`, x[n], true);
    for (const d of ['statementTimeout', 'idleInTransactionTimeout', 'connectionTimeout', 'idleTimeout'])
      w.string(`${sp}.${d}`, x[d], { optional: true, accepted: 'a duration such as "30s"' });
    if (x.resources !== undefined) resources(w, `${sp}.resources`, x.resources);
  }
}

function redis(w: Walker, path: string, v: unknown): void {
  if (!isObj(v))
    return w.problems.add(
      path,
      v,
      'is missing: expected { resources: { limits: { memory } }, storageSize, passwords: { kind: "generated" | "existing", ... } }',
    );
  const r = w.object(path, v, ['image', 'resources', 'maxmemory', 'storageSize', 'storageClassName', 'passwords']);
  if (!r) return;
  w.string(`${path}.image`, r.image, { optional: true, accepted: 'a pinned image reference' });
  resources(w, `${path}.resources`, r.resources);
  w.string(`${path}.maxmemory`, r.maxmemory, { optional: true, accepted: 'a memory quantity such as "256Mi"' });
  w.string(`${path}.storageSize`, r.storageSize, { accepted: 'a volume size such as "8Gi"' });
  w.string(`${path}.storageClassName`, r.storageClassName, { optional: true, accepted: 'a storage class name' });
  const pp = `${path}.passwords`;
  if (!isObj(r.passwords))
    return w.problems.add(pp, r.passwords, 'is missing: expected { kind: "generated" } or { kind: "existing", secretPrefix }');
  if (!w.oneOf(`${pp}.kind`, r.passwords.kind, ['generated', 'existing'])) return;
  const p = r.passwords;
  if (p.kind === 'generated') {
    w.object(pp, p, ['kind', 'length', 'rotation', 'reloaderRotation']);
    w.number(`${pp}.length`, p.length, true);
    w.rotationMap(`${pp}.rotation`, p.rotation, REDIS_USERS);
    w.string(`${pp}.reloaderRotation`, p.reloaderRotation, { optional: true, accepted: 'a rotation token' });
  } else {
    w.object(pp, p, ['kind', 'secretPrefix', 'aclSecretName', 'rotation']);
    w.string(`${pp}.secretPrefix`, p.secretPrefix, { accepted: 'a Secret name prefix' });
    w.string(`${pp}.aclSecretName`, p.aclSecretName, { optional: true, accepted: 'a Secret name' });
    w.stringMap(`${pp}.rotation`, p.rotation, REDIS_USERS);
  }
}

function auditMaintenance(w: Walker, path: string, v: unknown): void {
  if (!isObj(v))
    return w.problems.add(path, v, 'is missing: expected { schedule, retentionDays, daysBack?, daysAhead?, healthDaysAhead?, timeZone? }');
  const a = w.object(path, v, ['schedule', 'timeZone', 'retentionDays', 'daysBack', 'daysAhead', 'healthDaysAhead']);
  if (!a) return;
  w.string(`${path}.schedule`, a.schedule, { accepted: 'a cron schedule such as "17 * * * *"' });
  w.string(`${path}.timeZone`, a.timeZone, { optional: true, accepted: 'an IANA time zone such as "Etc/UTC"' });
  w.number(`${path}.retentionDays`, a.retentionDays);
  for (const n of ['daysBack', 'daysAhead', 'healthDaysAhead']) w.number(`${path}.${n}`, a[n], true);
}

/** The top-level fields of an environment file. */
export const ENVIRONMENT_FIELDS = [
  'name',
  'namespace',
  'cluster',
  'backend',
  'postgres',
  'credentials',
  'keyMaterial',
  'pools',
  'otherConnections',
  'redis',
  'auditMaintenance',
] as const;

/** Validates one environment's data; throws a ValidationError naming `where` with every problem found. */
export function validateEnvironment(data: unknown, where: string): EnvironmentSpec {
  const problems = new Problems(where);
  collectEnvironmentProblems(data, problems);
  problems.throwIfAny();
  return data as EnvironmentSpec;
}

/** Records every problem of one environment's data into `problems`. */
export function collectEnvironmentProblems(data: unknown, problems: Problems): void {
  const w = new Walker(problems);
  if (!isObj(data)) return problems.add('(environment)', data, 'is not an object: expected the environment data');
  const env = w.object('', data, ENVIRONMENT_FIELDS);
  if (!env) return;
  // The name is the stack's id and output directory (stacks/<name>) before any construct sees it.
  w.string('name', env.name, { pattern: ENVIRONMENT_NAME_PATTERN, accepted: ENVIRONMENT_NAME_ACCEPTED });
  w.string('namespace', env.namespace, { accepted: 'the namespace of the stores and the services' });

  // cluster: explicit, or a problem. A missing cluster must never fall back to ~/.kube/config or localhost.
  if (!isObj(env.cluster)) {
    problems.add(
      'cluster',
      env.cluster,
      'is missing: every environment names its cluster, { kind: "kubeconfig", configPath, context } or { kind: "host", host, clusterCaCertificate, exec }',
    );
  } else if (w.oneOf('cluster.kind', env.cluster.kind, ['kubeconfig', 'host'])) {
    if (env.cluster.kind === 'kubeconfig') {
      const c = w.object('cluster', env.cluster, ['kind', 'configPath', 'context']);
      if (c) {
        w.string('cluster.configPath', c.configPath, { accepted: 'the kubeconfig file path, e.g. "~/.kube/config"' });
        w.string('cluster.context', c.context, { accepted: 'the kubeconfig context naming the cluster, e.g. "kind-caracal"' });
      }
    } else {
      const c = w.object('cluster', env.cluster, ['kind', 'host', 'clusterCaCertificate', 'exec']);
      if (c) {
        w.string('cluster.host', c.host, { pattern: /^https:\/\/[^\s/]+/, accepted: 'the API server URL, https://...' });
        w.string('cluster.clusterCaCertificate', c.clusterCaCertificate, {
          pattern: /-----BEGIN CERTIFICATE-----/,
          accepted: 'the cluster CA in PEM',
        });
        const e = w.object('cluster.exec', c.exec, ['apiVersion', 'command', 'args']);
        if (e) {
          w.string('cluster.exec.apiVersion', e.apiVersion, {
            pattern: /^client\.authentication\.k8s\.io\/v1(beta1)?$/,
            accepted: 'client.authentication.k8s.io/v1 or v1beta1',
          });
          w.string('cluster.exec.command', e.command);
          if (!Array.isArray(e.args) || e.args.some((a) => typeof a !== 'string'))
            problems.add('cluster.exec.args', e.args, 'is not a list of strings');
        }
      }
    }
  }

  if (!isObj(env.backend)) problems.add('backend', env.backend, 'is missing: expected { kind: "local" | "s3" | "remote", ... }');
  else if (w.oneOf('backend.kind', env.backend.kind, ['local', 's3', 'remote'])) {
    const b = env.backend;
    if (b.kind === 'local') {
      w.object('backend', b, ['kind', 'path']);
      w.string('backend.path', b.path, { pattern: /\.tfstate$/, accepted: 'a state file path ending in .tfstate' });
    } else if (b.kind === 's3') {
      w.object('backend', b, ['kind', 'bucket', 'key', 'region', 'encrypt', 'kmsKeyId', 'dynamodbTable']);
      w.string('backend.bucket', b.bucket, { pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, accepted: 'an S3 bucket name' });
      w.string('backend.key', b.key);
      w.string('backend.region', b.region, { pattern: /^[a-z]{2}(-[a-z]+)+-\d$/, accepted: 'an AWS region such as eu-west-1' });
      if (b.encrypt !== true) problems.add('backend.encrypt', b.encrypt, 'must be true: state holds generated passwords and key material');
      w.string('backend.kmsKeyId', b.kmsKeyId, { optional: true });
      w.string('backend.dynamodbTable', b.dynamodbTable, { optional: true });
    } else {
      w.object('backend', b, ['kind', 'hostname', 'organization', 'workspace']);
      w.string('backend.hostname', b.hostname, { optional: true });
      w.string('backend.organization', b.organization);
      w.string('backend.workspace', b.workspace);
    }
  }

  if (!isObj(env.postgres))
    problems.add('postgres', env.postgres, 'is missing: expected { mode: "in-cluster" | "cloudnative-pg" | "external", ... }');
  else if (w.oneOf('postgres.mode', env.postgres.mode, ['in-cluster', 'cloudnative-pg', 'external'])) {
    const p = env.postgres;
    if (p.mode === 'in-cluster') {
      w.object('postgres', p, ['mode', 'major', 'dataVolumeMajor', 'image', 'storageSize', 'storageClassName', 'resources', 'capacity']);
      w.number('postgres.major', p.major);
      w.number('postgres.dataVolumeMajor', p.dataVolumeMajor);
      w.string('postgres.image', p.image, { optional: true });
      w.string('postgres.storageSize', p.storageSize, { accepted: 'a volume size such as "20Gi"' });
      w.string('postgres.storageClassName', p.storageClassName, { optional: true });
      resources(w, 'postgres.resources', p.resources);
    } else if (p.mode === 'cloudnative-pg') {
      w.object('postgres', p, [
        'mode',
        'instances',
        'imageName',
        'storageSize',
        'walStorageSize',
        'storageClassName',
        'resources',
        'capacity',
        'parameters',
        'podAntiAffinity',
        'backup',
        'operator',
      ]);
      w.number('postgres.instances', p.instances, true);
      w.string('postgres.imageName', p.imageName, { optional: true });
      w.string('postgres.storageSize', p.storageSize, { accepted: 'a volume size such as "20Gi"' });
      w.string('postgres.walStorageSize', p.walStorageSize, { optional: true, accepted: 'a volume size such as "5Gi"' });
      w.string('postgres.storageClassName', p.storageClassName, { optional: true });
      resources(w, 'postgres.resources', p.resources);
      if (p.parameters !== undefined) w.object('postgres.parameters', p.parameters, Object.keys(p.parameters as Obj));
      w.oneOf('postgres.podAntiAffinity', p.podAntiAffinity, ['required', 'preferred'], true);
      if (p.backup !== undefined) {
        const b = w.object('postgres.backup', p.backup, ['destinationPath', 'endpointUrl', 'credentialsSecret', 'schedule', 'retention']);
        if (b) {
          w.string('postgres.backup.destinationPath', b.destinationPath, { accepted: 's3://<bucket>/<prefix>/' });
          w.object('postgres.backup.credentialsSecret', b.credentialsSecret, ['name', 'accessKeyIdKey', 'secretAccessKeyKey']);
        }
      }
      if (p.operator !== undefined) w.object('postgres.operator', p.operator, ['install', 'namespace']);
    } else {
      w.object('postgres', p, ['mode', 'host', 'port', 'database', 'sslMode', 'caCertSecret', 'instanceMemory', 'cpus', 'capacity']);
      w.string('postgres.host', p.host, { accepted: 'a host name without scheme or port' });
      w.number('postgres.port', p.port);
      w.string('postgres.database', p.database, { accepted: 'a database name' });
      w.string('postgres.sslMode', p.sslMode, { accepted: 'require, verify-ca or verify-full' });
      if (p.caCertSecret !== undefined) {
        const ca = w.object('postgres.caCertSecret', p.caCertSecret, ['secretName', 'key']);
        if (ca) {
          w.string('postgres.caCertSecret.secretName', ca.secretName);
          w.string('postgres.caCertSecret.key', ca.key, { optional: true });
        }
      }
      w.string('postgres.instanceMemory', p.instanceMemory, { optional: true, accepted: 'a memory quantity such as "16Gi"' });
      w.number('postgres.cpus', p.cpus, true);
    }
    capacity(w, 'postgres.capacity', p.capacity);
  }

  if (!isObj(env.credentials))
    problems.add('credentials', env.credentials, 'is missing: expected { kind: "generated" } or { kind: "existing", secretPrefix }');
  else if (w.oneOf('credentials.kind', env.credentials.kind, ['generated', 'existing'])) {
    const c = env.credentials;
    if (c.kind === 'generated') {
      w.object('credentials', c, ['kind', 'length', 'rotation', 'retireGrace']);
      w.number('credentials.length', c.length, true);
      w.rotationMap('credentials.rotation', c.rotation, LOGINS);
      w.string('credentials.retireGrace', c.retireGrace, { optional: true, accepted: 'a duration such as "1h"' });
    } else {
      w.object('credentials', c, ['kind', 'secretPrefix', 'rotation', 'retireGrace']);
      w.string('credentials.secretPrefix', c.secretPrefix, { accepted: 'a Secret name prefix' });
      w.rotationMap('credentials.rotation', c.rotation, LOGINS);
      w.string('credentials.retireGrace', c.retireGrace, { optional: true, accepted: 'a duration such as "1h"' });
    }
  }

  if (!isObj(env.keyMaterial))
    problems.add('keyMaterial', env.keyMaterial, 'is missing: expected { kind: "generated" } or { kind: "existing", secretName }');
  else if (w.oneOf('keyMaterial.kind', env.keyMaterial.kind, ['generated', 'existing'])) {
    if (env.keyMaterial.kind === 'existing') {
      w.object('keyMaterial', env.keyMaterial, ['kind', 'secretName', 'version']);
      w.string('keyMaterial.secretName', env.keyMaterial.secretName, { accepted: 'a Secret name' });
      w.string('keyMaterial.version', env.keyMaterial.version, { optional: true, accepted: 'a version token' });
    } else {
      w.object('keyMaterial', env.keyMaterial, ['kind', 'hmacRing', 'encryptionRing']);
      // The ids and the ring's consistency are KeyMaterialSecret's to check (one rule for both).
      for (const ring of ['hmacRing', 'encryptionRing'])
        if (env.keyMaterial[ring] !== undefined) w.object(`keyMaterial.${ring}`, env.keyMaterial[ring], ['keys', 'active', 'retired']);
    }
  }

  pools(w, 'pools', env.pools);
  if (env.otherConnections !== undefined) {
    const o = w.object('otherConnections', env.otherConnections, ['migrationJob', 'cronJobs', 'exporters']);
    if (o) for (const k of ['migrationJob', 'cronJobs', 'exporters']) w.number(`otherConnections.${k}`, o[k], true);
  }
  redis(w, 'redis', env.redis);
  auditMaintenance(w, 'auditMaintenance', env.auditMaintenance);
}

/** One file's shape problems, and whether its name is taken by an earlier file. */
export interface EnvironmentFileCheck {
  readonly file: string;
  readonly data: unknown;
  readonly problems: readonly Problem[];
  readonly nameTaken: boolean;
}

/** The shape problems of every file, and names used twice. */
export function checkEnvironmentFiles(entries: ReadonlyArray<{ file: string; data: unknown }>): EnvironmentFileCheck[] {
  const names = new Set<string>();
  return entries.map(({ file, data }) => {
    const local = new Problems(file);
    collectEnvironmentProblems(data, local);
    const name = isObj(data) ? data.name : undefined;
    const nameTaken = typeof name === 'string' && names.has(name);
    if (typeof name === 'string') names.add(name);
    return { file, data, problems: local.all, nameTaken };
  });
}

/** Records the problems of checked files into `problems`, each prefixed by its file. */
export function addFileProblems(problems: Problems, checks: readonly EnvironmentFileCheck[]): void {
  for (const c of checks) {
    for (const p of c.problems) problems.addMessage(`${c.file}: ${p.field}`, p.message);
    if (c.nameTaken)
      problems.add(`${c.file}.name`, (c.data as EnvironmentSpec).name, 'is used by another environment: expected unique names');
  }
}

/** Validates the shape of several environments at once; one error lists every file's problems, prefixed by file. */
export function validateEnvironments(entries: ReadonlyArray<{ file: string; data: unknown }>): EnvironmentSpec[] {
  const problems = new Problems('src/environments');
  addFileProblems(problems, checkEnvironmentFiles(entries));
  problems.throwIfAny();
  return entries.map((e) => e.data as EnvironmentSpec);
}

export { ValidationError };
