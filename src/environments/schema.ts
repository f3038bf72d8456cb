// The one schema every environment file is validated against: plain data in, a typed spec out, or one
// ValidationError listing every problem (field path, bad value, accepted values).
import { Problems, ValidationError } from '../../constructs/internal/validation';
import { ENVIRONMENT_NAME_ACCEPTED, ENVIRONMENT_NAME_PATTERN, LOGINS, SERVICES, ServiceName, LoginName } from '../../constructs/internal/naming';
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
      if (!allowed.includes(k)) this.problems.add(`${path ? `${path}.` : ''}${k}`, k, `is not a known field: expected one of ${allowed.join(', ')}`);
    }
    return v;
  }

  string(path: string, v: unknown, o: { optional?: boolean; pattern?: RegExp; accepted?: string } = {}): void {
    if (v === undefined && o.optional) return;
    if (typeof v !== 'string' || v.trim() === '') return this.problems.add(path, v, `is missing or empty: expected ${o.accepted ?? 'a non-empty string'}`);
    if (o.pattern && !o.pattern.test(v)) this.problems.add(path, v, `is not valid: expected ${o.accepted}`);
  }

  int(path: string, v: unknown, min: number, max: number, optional = false): void {
    if (v === undefined && optional) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.problems.add(path, v, `is out of range: expected an integer from ${min} to ${max}`);
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
      if (kind === 'limits' && requireMemoryLimit) w.problems.add(`${path}.limits.memory`, undefined, 'is missing: expected a memory quantity such as 2Gi');
      continue;
    }
    const q = w.object(`${path}.${kind}`, r[kind], ['cpu', 'memory']);
    if (!q) continue;
    if (q.cpu !== undefined && (typeof q.cpu !== 'string' || !CPU.test(q.cpu))) w.problems.add(`${path}.${kind}.cpu`, q.cpu, 'is not a CPU quantity: expected e.g. "500m" or "2"');
    if (q.memory !== undefined && (typeof q.memory !== 'string' || !QUANTITY.test(q.memory))) w.problems.add(`${path}.${kind}.memory`, q.memory, 'is not a memory quantity: expected e.g. "512Mi" or "2Gi"');
    if (kind === 'limits' && requireMemoryLimit && q.memory === undefined) w.problems.add(`${path}.limits.memory`, undefined, 'is missing: expected a memory quantity such as 2Gi');
  }
}

function capacity(w: Walker, path: string, v: unknown): void {
  if (!isObj(v)) return w.problems.add(path, v, 'is not an object: expected { kind: "explicit" | "compose" | "resources", ... }');
  if (!w.oneOf(`${path}.kind`, v.kind, ['explicit', 'compose', 'resources'])) return;
  if (v.kind === 'explicit') {
    const c = w.object(path, v, ['kind', 'settings']);
    if (c) w.object(`${path}.settings`, c.settings, [
      'maxConnections', 'sharedBuffers', 'effectiveCacheSize', 'workMem', 'maintenanceWorkMem', 'logMinDurationStatement', 'walBuffers',
      'minWalSize', 'maxWalSize', 'checkpointCompletionTarget', 'defaultStatisticsTarget', 'randomPageCost', 'effectiveIoConcurrency',
      'maxWorkerProcesses', 'maxParallelWorkersPerGather', 'maxParallelWorkers', 'maxParallelMaintenanceWorkers', 'hugePages',
      'superuserReservedConnections',
    ]);
  } else if (v.kind === 'compose') {
    const c = w.object(path, v, ['kind', 'env']);
    const names = ['POSTGRES_MAX_CONNECTIONS', 'POSTGRES_SHARED_BUFFERS', 'POSTGRES_EFFECTIVE_CACHE_SIZE', 'POSTGRES_WORK_MEM', 'POSTGRES_LOG_MIN_DURATION_MS'];
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
    const x = w.object(sp, p[s], ['replicas', 'maxReplicas', 'maxSurge', 'poolMax', 'statementTimeout', 'idleInTransactionTimeout', 'connectionTimeout', 'idleTimeout', 'resources']);
    if (!x) continue;
    w.int(`${sp}.replicas`, x.replicas, 1, 100, true);
    w.int(`${sp}.maxReplicas`, x.maxReplicas, 1, 200, true);
    w.int(`${sp}.maxSurge`, x.maxSurge, 0, 50, true);
    w.int(`${sp}.poolMax`, x.poolMax, 1, 200, true);
    for (const d of ['statementTimeout', 'idleInTransactionTimeout', 'connectionTimeout', 'idleTimeout']) {
      const val = x[d];
      if (val !== undefined && !((typeof val === 'number' && Number.isInteger(val) && val > 0) || (typeof val === 'string' && DURATION.test(val)))) {
        w.problems.add(`${sp}.${d}`, val, 'is not a duration: expected milliseconds or e.g. "30s", "5min"');
      }
    }
    if (x.resources !== undefined) resources(w, `${sp}.resources`, x.resources, false);
  }
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
  const env = w.object('', data, ['name', 'namespace', 'cluster', 'backend', 'postgres', 'credentials', 'keyMaterial', 'pools', 'otherConnections']);
  if (!env) return;
  w.string('name', env.name, { pattern: ENVIRONMENT_NAME_PATTERN, accepted: ENVIRONMENT_NAME_ACCEPTED });
  w.string('namespace', env.namespace, { pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, accepted: 'a DNS-1123 label' });

  // cluster: explicit, or a problem. A missing cluster must never fall back to ~/.kube/config or localhost.
  if (!isObj(env.cluster)) {
    problems.add('cluster', env.cluster, 'is missing: every environment names its cluster, { kind: "kubeconfig", configPath, context } or { kind: "host", host, clusterCaCertificate, exec }');
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
        w.string('cluster.clusterCaCertificate', c.clusterCaCertificate, { pattern: /-----BEGIN CERTIFICATE-----/, accepted: 'the cluster CA in PEM' });
        const e = w.object('cluster.exec', c.exec, ['apiVersion', 'command', 'args']);
        if (e) {
          w.string('cluster.exec.apiVersion', e.apiVersion, { pattern: /^client\.authentication\.k8s\.io\/v1(beta1)?$/, accepted: 'client.authentication.k8s.io/v1 or v1beta1' });
          w.string('cluster.exec.command', e.command);
          if (!Array.isArray(e.args) || e.args.some((a) => typeof a !== 'string')) problems.add('cluster.exec.args', e.args, 'is not a list of strings');
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
      w.string('postgres.instanceMemory', p.instanceMemory, { optional: true, pattern: QUANTITY, accepted: 'a memory quantity such as "16Gi"' });
      w.int('postgres.cpus', p.cpus, 1, 256, true);
    }
    capacity(w, 'postgres.capacity', p.capacity);
  }

  const rotation = (path: string, v: unknown) => w.stringMap(path, v, LOGINS);
  if (!isObj(env.credentials)) problems.add('credentials', env.credentials, 'is missing: expected { kind: "generated" } or { kind: "existing", secretPrefix }');
  else if (w.oneOf('credentials.kind', env.credentials.kind, ['generated', 'existing'])) {
    const c = env.credentials;
    if (c.kind === 'generated') {
      w.object('credentials', c, ['kind', 'length', 'rotation']);
      w.int('credentials.length', c.length, 16, 128, true);
    } else {
      w.object('credentials', c, ['kind', 'secretPrefix', 'rotation']);
      w.string('credentials.secretPrefix', c.secretPrefix, { pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, accepted: 'a Secret name prefix' });
    }
    rotation('credentials.rotation', c.rotation);
  }

  if (!isObj(env.keyMaterial)) problems.add('keyMaterial', env.keyMaterial, 'is missing: expected { kind: "generated" } or { kind: "existing", secretName }');
  else if (w.oneOf('keyMaterial.kind', env.keyMaterial.kind, ['generated', 'existing'])) {
    if (env.keyMaterial.kind === 'existing') {
      w.object('keyMaterial', env.keyMaterial, ['kind', 'secretName']);
      w.string('keyMaterial.secretName', env.keyMaterial.secretName, { pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, accepted: 'a Secret name' });
    } else w.object('keyMaterial', env.keyMaterial, ['kind']);
  }

  pools(w, 'pools', env.pools);
  if (env.otherConnections !== undefined) {
    const o = w.object('otherConnections', env.otherConnections, ['migrationJob', 'cronJobs', 'exporters']);
    if (o) for (const k of ['migrationJob', 'cronJobs', 'exporters']) w.int(`otherConnections.${k}`, o[k], 0, 1000, true);
  }
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
