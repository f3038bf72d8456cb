// The one schema every environment file is validated against: plain data in, a typed spec out, or one
// ValidationError listing every problem (field path, bad value, accepted values).
import { Problems, ValidationError } from '../../constructs/internal/validation';
import { LOGINS, SERVICES, ServiceName, LoginName } from '../../common/names';
import {
  DNS_SUBDOMAIN,
  DNS_SUBDOMAIN_ACCEPTED,
  ENVIRONMENT_NAME_ACCEPTED,
  ENVIRONMENT_NAME_PATTERN,
} from '../../constructs/internal/naming';
import { REDIS_USERS, RedisUser } from '../../constructs/internal/redis-config';
import type { PostgresSettings, PostgresWorkload, StorageType } from '../../constructs/postgres-capacity';
import type { ResourceRequirements, SslMode } from '../../constructs/postgres-instance';
import type { OtherConnections, ServicePoolSettings } from '../../constructs/service-pools';

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
  | { readonly kind: 'generated'; readonly length?: number; readonly rotation?: Partial<Record<LoginName, string>> }
  | { readonly kind: 'existing'; readonly secretPrefix: string; readonly rotation?: Partial<Record<LoginName, string>> };

export type KeyMaterialSpec = { readonly kind: 'generated' } | { readonly kind: 'existing'; readonly secretName: string };

/** Where the Redis users' passwords come from; `existing` generates nothing (the secret manager also builds the ACL Secret). */
export type RedisPasswordsSpec =
  | { readonly kind: 'generated'; readonly length?: number; readonly rotation?: Partial<Record<RedisUser, string>> }
  | {
      readonly kind: 'existing';
      /** Secrets `<secretPrefix>-<user>` (key `password`). */
      readonly secretPrefix: string;
      /** @default `<secretPrefix>-acl` (key `users.acl`) */
      readonly aclSecretName?: string;
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

  int(path: string, v: unknown, min: number, max: number, optional = false): void {
    if (v === undefined && optional) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      this.problems.add(path, v, `is out of range: expected an integer from ${min} to ${max}`);
  }

  oneOf(path: string, v: unknown, values: readonly unknown[], optional = false): boolean {
    if (v === undefined && optional) return true;
    if (!values.includes(v)) {
      this.problems.add(path, v, `is not accepted: expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
      return false;
    }
    return true;
  }

  stringMap(path: string, v: unknown, keys: readonly string[], optional = true): void {
    if (v === undefined && optional) return;
    const o = this.object(path, v, keys);
    if (o) for (const [k, x] of Object.entries(o)) this.string(`${path}.${k}`, x);
  }
}

const DURATION = /^\d+(ms|s|min|h|d)?$/;
const QUANTITY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T|kB|MB|GB|TB)?$/;
const CPU = /^\d+(\.\d+)?m?$/;

function resources(w: Walker, path: string, v: unknown, requireMemoryLimit: boolean): void {
  const r = w.object(path, v, ['requests', 'limits']);
  if (!r) return;
  for (const kind of ['requests', 'limits'] as const) {
    if (r[kind] === undefined) {
      if (kind === 'limits' && requireMemoryLimit)
        w.problems.add(`${path}.limits.memory`, undefined, 'is missing: expected a memory quantity such as 2Gi');
      continue;
    }
    const q = w.object(`${path}.${kind}`, r[kind], ['cpu', 'memory']);
    if (!q) continue;
    if (q.cpu !== undefined && (typeof q.cpu !== 'string' || !CPU.test(q.cpu)))
      w.problems.add(`${path}.${kind}.cpu`, q.cpu, 'is not a CPU quantity: expected e.g. "500m" or "2"');
    if (q.memory !== undefined && (typeof q.memory !== 'string' || !QUANTITY.test(q.memory)))
      w.problems.add(`${path}.${kind}.memory`, q.memory, 'is not a memory quantity: expected e.g. "512Mi" or "2Gi"');
    if (kind === 'limits' && requireMemoryLimit && q.memory === undefined)
      w.problems.add(`${path}.limits.memory`, undefined, 'is missing: expected a memory quantity such as 2Gi');
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
    w.oneOf(`${path}.storage`, c.storage, ['ssd', 'hdd', 'san'], true);
    w.oneOf(`${path}.workload`, c.workload, ['web', 'oltp', 'dw', 'mixed'], true);
    w.int(`${path}.maxConnections`, c.maxConnections, 10, 10000, true);
    w.string(`${path}.memory`, c.memory, { optional: true, pattern: QUANTITY, accepted: 'a memory quantity such as "8Gi"' });
    w.int(`${path}.cpus`, c.cpus, 1, 256, true);
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
    w.int(`${sp}.replicas`, x.replicas, 1, 100, true);
    w.int(`${sp}.maxReplicas`, x.maxReplicas, 1, 200, true);
    w.int(`${sp}.maxSurge`, x.maxSurge, 0, 50, true);
    w.int(`${sp}.poolMax`, x.poolMax, 1, 200, true);
    for (const d of ['statementTimeout', 'idleInTransactionTimeout', 'connectionTimeout', 'idleTimeout']) {
      const val = x[d];
      if (
        val !== undefined &&
        !((typeof val === 'number' && Number.isInteger(val) && val > 0) || (typeof val === 'string' && DURATION.test(val)))
      ) {
        w.problems.add(`${sp}.${d}`, val, 'is not a duration: expected milliseconds or e.g. "30s", "5min"');
      }
    }
    if (x.resources !== undefined) resources(w, `${sp}.resources`, x.resources, false);
  }
}

/** A pinned image reference: a tag other than latest, or a digest. */
const PINNED_IMAGE = /^[^\s:@]+(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const CRON_SCHEDULE = /^(@(hourly|daily|weekly|monthly|yearly|annually|midnight)|(\S+\s+){4}\S+)$/;

function redis(w: Walker, path: string, v: unknown): void {
  if (!isObj(v))
    return w.problems.add(
      path,
      v,
      'is missing: expected { resources: { limits: { memory } }, storageSize, passwords: { kind: "generated" | "existing", ... } }',
    );
  const r = w.object(path, v, ['image', 'resources', 'maxmemory', 'storageSize', 'storageClassName', 'passwords']);
  if (!r) return;
  if (
    r.image !== undefined &&
    (typeof r.image !== 'string' || !PINNED_IMAGE.test(r.image) || r.image.endsWith(':latest') || !/[:@]/.test(r.image))
  ) {
    w.problems.add(
      `${path}.image`,
      r.image,
      'is not a pinned image reference: expected registry/name:tag or name@sha256:digest (never latest)',
    );
  }
  resources(w, `${path}.resources`, r.resources, true);
  w.string(`${path}.maxmemory`, r.maxmemory, {
    optional: true,
    pattern: QUANTITY,
    accepted: 'a memory quantity such as "256Mi" (at most 75% of the memory limit)',
  });
  w.string(`${path}.storageSize`, r.storageSize, { pattern: /^\d+(Gi|Ti)$/, accepted: 'a volume size in Gi or Ti, e.g. "8Gi"' });
  w.string(`${path}.storageClassName`, r.storageClassName, { optional: true, pattern: DNS_SUBDOMAIN, accepted: DNS_SUBDOMAIN_ACCEPTED });
  const pp = `${path}.passwords`;
  if (!isObj(r.passwords))
    return w.problems.add(pp, r.passwords, 'is missing: expected { kind: "generated" } or { kind: "existing", secretPrefix }');
  if (!w.oneOf(`${pp}.kind`, r.passwords.kind, ['generated', 'existing'])) return;
  const p = r.passwords;
  if (p.kind === 'generated') {
    w.object(pp, p, ['kind', 'length', 'rotation']);
    w.int(`${pp}.length`, p.length, 16, 128, true);
    w.stringMap(`${pp}.rotation`, p.rotation, REDIS_USERS);
  } else {
    w.object(pp, p, ['kind', 'secretPrefix', 'aclSecretName']);
    w.string(`${pp}.secretPrefix`, p.secretPrefix, { pattern: SECRET_NAME, accepted: 'a Secret name prefix' });
    w.string(`${pp}.aclSecretName`, p.aclSecretName, { optional: true, pattern: SECRET_NAME, accepted: 'a Secret name' });
  }
}

function auditMaintenance(w: Walker, path: string, v: unknown): void {
  if (!isObj(v))
    return w.problems.add(path, v, 'is missing: expected { schedule, retentionDays, daysBack?, daysAhead?, healthDaysAhead?, timeZone? }');
  const a = w.object(path, v, ['schedule', 'timeZone', 'retentionDays', 'daysBack', 'daysAhead', 'healthDaysAhead']);
  if (!a) return;
  w.string(`${path}.schedule`, a.schedule, {
    pattern: CRON_SCHEDULE,
    accepted: 'a cron schedule of five fields ("17 * * * *") or @hourly/@daily/...',
  });
  w.string(`${path}.timeZone`, a.timeZone, {
    optional: true,
    pattern: /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/,
    accepted: 'an IANA time zone such as "Etc/UTC" or "Europe/Berlin"',
  });
  w.int(`${path}.retentionDays`, a.retentionDays, 1, 36500);
  w.int(`${path}.daysBack`, a.daysBack, 0, 366, true);
  w.int(`${path}.daysAhead`, a.daysAhead, 1, 366, true);
  w.int(`${path}.healthDaysAhead`, a.healthDaysAhead, 0, 366, true);
}

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
  const env = w.object('', data, [
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
  ]);
  if (!env) return;
  w.string('name', env.name, { pattern: ENVIRONMENT_NAME_PATTERN, accepted: ENVIRONMENT_NAME_ACCEPTED });
  w.string('namespace', env.namespace, { pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, accepted: 'a DNS-1123 label' });

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

  if (!isObj(env.postgres)) problems.add('postgres', env.postgres, 'is missing: expected { mode: "in-cluster" | "external", ... }');
  else if (w.oneOf('postgres.mode', env.postgres.mode, ['in-cluster', 'external'])) {
    const p = env.postgres;
    if (p.mode === 'in-cluster') {
      w.object('postgres', p, ['mode', 'major', 'dataVolumeMajor', 'image', 'storageSize', 'storageClassName', 'resources', 'capacity']);
      w.int('postgres.major', p.major, 14, 18);
      w.int('postgres.dataVolumeMajor', p.dataVolumeMajor, 14, 18);
      w.string('postgres.image', p.image, { optional: true });
      w.string('postgres.storageSize', p.storageSize, { pattern: /^\d+(Gi|Ti)$/, accepted: 'a volume size in Gi or Ti, e.g. "20Gi"' });
      w.string('postgres.storageClassName', p.storageClassName, { optional: true });
      resources(w, 'postgres.resources', p.resources, true);
    } else {
      w.object('postgres', p, ['mode', 'host', 'port', 'database', 'sslMode', 'caCertSecret', 'instanceMemory', 'cpus', 'capacity']);
      w.string('postgres.host', p.host, { pattern: /^[A-Za-z0-9][-A-Za-z0-9.]*$/, accepted: 'a host name without scheme or port' });
      w.int('postgres.port', p.port, 1, 65535);
      w.string('postgres.database', p.database, { pattern: /^[a-z_][a-z0-9_]{0,62}$/, accepted: 'a lower-case SQL identifier' });
      w.oneOf('postgres.sslMode', p.sslMode, ['require', 'verify-ca', 'verify-full']);
      if (p.caCertSecret !== undefined) {
        const ca = w.object('postgres.caCertSecret', p.caCertSecret, ['secretName', 'key']);
        if (ca) {
          w.string('postgres.caCertSecret.secretName', ca.secretName);
          w.string('postgres.caCertSecret.key', ca.key, { optional: true });
        }
      }
      w.string('postgres.instanceMemory', p.instanceMemory, {
        optional: true,
        pattern: QUANTITY,
        accepted: 'a memory quantity such as "16Gi"',
      });
      w.int('postgres.cpus', p.cpus, 1, 256, true);
    }
    capacity(w, 'postgres.capacity', p.capacity);
  }

  const rotation = (path: string, v: unknown) => w.stringMap(path, v, LOGINS);
  if (!isObj(env.credentials))
    problems.add('credentials', env.credentials, 'is missing: expected { kind: "generated" } or { kind: "existing", secretPrefix }');
  else if (w.oneOf('credentials.kind', env.credentials.kind, ['generated', 'existing'])) {
    const c = env.credentials;
    if (c.kind === 'generated') {
      w.object('credentials', c, ['kind', 'length', 'rotation']);
      w.int('credentials.length', c.length, 16, 128, true);
    } else {
      w.object('credentials', c, ['kind', 'secretPrefix', 'rotation']);
      w.string('credentials.secretPrefix', c.secretPrefix, {
        pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
        accepted: 'a Secret name prefix',
      });
    }
    rotation('credentials.rotation', c.rotation);
  }

  if (!isObj(env.keyMaterial))
    problems.add('keyMaterial', env.keyMaterial, 'is missing: expected { kind: "generated" } or { kind: "existing", secretName }');
  else if (w.oneOf('keyMaterial.kind', env.keyMaterial.kind, ['generated', 'existing'])) {
    if (env.keyMaterial.kind === 'existing') {
      w.object('keyMaterial', env.keyMaterial, ['kind', 'secretName']);
      w.string('keyMaterial.secretName', env.keyMaterial.secretName, {
        pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
        accepted: 'a Secret name',
      });
    } else w.object('keyMaterial', env.keyMaterial, ['kind']);
  }

  pools(w, 'pools', env.pools);
  if (env.otherConnections !== undefined) {
    const o = w.object('otherConnections', env.otherConnections, ['migrationJob', 'cronJobs', 'exporters']);
    if (o) for (const k of ['migrationJob', 'cronJobs', 'exporters']) w.int(`otherConnections.${k}`, o[k], 0, 1000, true);
  }
  redis(w, 'redis', env.redis);
  auditMaintenance(w, 'auditMaintenance', env.auditMaintenance);
}

/** Validates several environments at once; one error lists every file's problems, prefixed by file. */
export function validateEnvironments(entries: ReadonlyArray<{ file: string; data: unknown }>): EnvironmentSpec[] {
  const problems = new Problems('src/environments');
  const names = new Set<string>();
  for (const { file, data } of entries) {
    const local = new Problems(file);
    collectEnvironmentProblems(data, local);
    for (const p of local.all) problems.addMessage(`${file}: ${p.field}`, p.message);
    const name = isObj(data) ? data.name : undefined;
    if (typeof name === 'string') {
      if (names.has(name)) problems.add(`${file}.name`, name, 'is used by another environment: expected unique names');
      names.add(name);
    }
  }
  problems.throwIfAny();
  return entries.map((e) => e.data as EnvironmentSpec);
}

export { ValidationError };
