// PostgresCapacity: the server settings Caracal's Postgres runs with, given explicitly, carried over from
// the Compose variables, or derived from the container's resources with PGTune's formulas.
import { Problems } from './errors';
import { keysOf, knownKeys } from './internal/rules';
import type { Duration } from '../common/durations';
import { DURATION_UNITS_ACCEPTED, SIZE_UNITS_ACCEPTED, formatPgSize, parseDuration, parseSize } from '../common/units';

/** A size: bytes as a number, or a string with a Postgres (`kB`, `MB`, `GB`) or Kubernetes (`Mi`, `Gi`) unit. */
export type Size = string | number;
export type { Duration };

/** PGTune's workload types (`web` applications, `oltp`, `dw` data warehouse, `mixed`). */
export type PostgresWorkload = 'web' | 'oltp' | 'dw' | 'mixed';
export const WORKLOADS: readonly PostgresWorkload[] = ['web', 'oltp', 'dw', 'mixed'];
/** Storage the data directory lives on; sets random_page_cost and effective_io_concurrency. */
export type StorageType = 'ssd' | 'hdd' | 'san';
export const STORAGE_TYPES: readonly StorageType[] = ['ssd', 'hdd', 'san'];
export type HugePages = 'off' | 'try' | 'on';

/** Settings given explicitly; anything left out keeps Postgres' default (or, for max_connections, is derived). */
export interface PostgresSettings {
  /** max_connections. @default derived from the service pools plus reserve, else 100 */
  readonly maxConnections?: number;
  /** shared_buffers. @default Postgres' default (128MB) */
  readonly sharedBuffers?: Size;
  /** effective_cache_size (a planner hint, not an allocation). @default Postgres' default (4GB) */
  readonly effectiveCacheSize?: Size;
  /** work_mem, per sort or hash node of a query. @default Postgres' default (4MB) */
  readonly workMem?: Size;
  /** maintenance_work_mem (VACUUM, CREATE INDEX). @default Postgres' default (64MB) */
  readonly maintenanceWorkMem?: Size;
  /** log_min_duration_statement; -1 disables. @default Postgres' default (-1) */
  readonly logMinDurationStatement?: Duration | -1;
  /** wal_buffers. @default Postgres' default (-1: 1/32 of shared_buffers) */
  readonly walBuffers?: Size;
  /** min_wal_size. @default Postgres' default (80MB) */
  readonly minWalSize?: Size;
  /** max_wal_size. @default Postgres' default (1GB) */
  readonly maxWalSize?: Size;
  /** checkpoint_completion_target (0..1). @default Postgres' default (0.9) */
  readonly checkpointCompletionTarget?: number;
  /** default_statistics_target (1..10000). @default Postgres' default (100) */
  readonly defaultStatisticsTarget?: number;
  /** random_page_cost. @default Postgres' default (4) */
  readonly randomPageCost?: number;
  /** effective_io_concurrency (0..1000). @default Postgres' default */
  readonly effectiveIoConcurrency?: number;
  /** max_worker_processes. @default Postgres' default (8) */
  readonly maxWorkerProcesses?: number;
  /** max_parallel_workers_per_gather. @default Postgres' default (2) */
  readonly maxParallelWorkersPerGather?: number;
  /** max_parallel_workers. @default Postgres' default (8) */
  readonly maxParallelWorkers?: number;
  /** max_parallel_maintenance_workers. @default Postgres' default (2) */
  readonly maxParallelMaintenanceWorkers?: number;
  /** huge_pages; `on` can stop Postgres from starting (or crash it) under Kubernetes without hugepage resources. @default 'off' */
  readonly hugePages?: HugePages;
  /** superuser_reserved_connections, counted in the connection budget. @default 3 */
  readonly superuserReservedConnections?: number;
}

/** The Compose variables of the seed's "Capacity Controls" table. */
export interface ComposeCapacityEnv {
  readonly POSTGRES_MAX_CONNECTIONS?: string;
  readonly POSTGRES_SHARED_BUFFERS?: string;
  readonly POSTGRES_EFFECTIVE_CACHE_SIZE?: string;
  readonly POSTGRES_WORK_MEM?: string;
  readonly POSTGRES_LOG_MIN_DURATION_MS?: string;
  readonly [other: string]: string | undefined;
}

/** The resources PGTune sizes from. */
export interface PostgresResources {
  /** Memory available to Postgres (the container's memory limit). */
  readonly memory: Size;
  /** CPUs available to Postgres (whole CPUs). */
  readonly cpus: number;
  /** Storage type of the data volume. @default 'ssd' */
  readonly storage?: StorageType;
  /** Workload type. @default 'oltp' (Caracal's control plane: many short transactions) */
  readonly workload?: PostgresWorkload;
  /** max_connections. @default derived from the service pools plus reserve, else PGTune's default for the workload */
  readonly maxConnections?: number;
  /** log_min_duration_statement. @default 1s */
  readonly logMinDurationStatement?: Duration | -1;
  /** huge_pages. @default 'off' */
  readonly hugePages?: HugePages;
}

/** What the capacity is resolved against (given by PostgresInstance). */
export interface CapacityContext {
  /** Connections the pools, jobs, exporters and reserve need (the connection budget). */
  readonly requiredConnections?: number;
  /** The container (or managed instance) memory in bytes, when known. */
  readonly memoryLimitBytes?: number;
  /** How the memory limit was given, for messages (e.g. `1Gi`). */
  readonly memoryLimitLabel?: string;
  /** Size of the data volume in bytes, when known: WAL must fit in it. */
  readonly storageBytes?: number;
  /** How the storage size was given, for messages (e.g. `10Gi`). */
  readonly storageLabel?: string;
}

/** Settings after defaults, derivation and validation. */
export interface ResolvedCapacity {
  readonly maxConnections: number;
  readonly superuserReservedConnections: number;
  /** Every setting this capacity sets, by Postgres name, values in Postgres syntax, in a stable order. */
  readonly settings: Readonly<Record<string, string>>;
  /** Server arguments (`-c name=value` pairs) for an in-cluster `postgres` command line. */
  readonly serverArgs: readonly string[];
  /** Estimated worst-case memory: shared_buffers + wal_buffers + autovacuum x maintenance_work_mem + connections x (work_mem + 2MiB). */
  readonly memoryBudgetBytes: number;
}

/** The order settings are rendered in (stable output). */
const ORDER = [
  'max_connections',
  'superuser_reserved_connections',
  'shared_buffers',
  'effective_cache_size',
  'work_mem',
  'maintenance_work_mem',
  'huge_pages',
  'wal_buffers',
  'min_wal_size',
  'max_wal_size',
  'checkpoint_completion_target',
  'default_statistics_target',
  'random_page_cost',
  'effective_io_concurrency',
  'max_worker_processes',
  'max_parallel_workers_per_gather',
  'max_parallel_workers',
  'max_parallel_maintenance_workers',
  'log_min_duration_statement',
] as const;
type SettingName = (typeof ORDER)[number];
/** Every server setting a capacity may render (by Postgres name): nothing else may set them. */
export const CAPACITY_SETTING_NAMES: readonly string[] = ORDER;

const MB = 1024 * 1024;
const GB = 1024 * MB;
/** Autovacuum workers each may take maintenance_work_mem (autovacuum_max_workers default). */
const AUTOVACUUM_WORKERS = 3;
/** Per-backend memory beyond work_mem (catalog caches, buffers), for the budget estimate. */
const PER_CONNECTION_OVERHEAD = 2 * MB;
/** shared_buffers above this share of the memory limit leaves too little for backends and the page cache. */
export const SHARED_BUFFERS_MAX_SHARE = 0.4;

type Source =
  | { kind: 'explicit'; settings: PostgresSettings }
  | { kind: 'compose'; env: ComposeCapacityEnv }
  | { kind: 'resources'; resources: PostgresResources };

interface Bound {
  readonly min: number;
  readonly max: number;
  readonly accepted: string;
}
const SIZE_BOUNDS: Partial<Record<SettingName, Bound>> = {
  shared_buffers: { min: 128 * 1024, max: 1024 * GB, accepted: '128kB to 1TB' },
  effective_cache_size: { min: 8 * 1024, max: 4096 * GB, accepted: '8kB to 4TB' },
  work_mem: { min: 64 * 1024, max: 2 * GB, accepted: '64kB to 2GB' },
  maintenance_work_mem: { min: 1 * MB, max: 2 * GB, accepted: '1MB to 2GB' },
  wal_buffers: { min: 32 * 1024, max: 256 * MB, accepted: '32kB to 256MB' },
  min_wal_size: { min: 32 * MB, max: 1024 * GB, accepted: '32MB to 1TB' },
  max_wal_size: { min: 32 * MB, max: 1024 * GB, accepted: '32MB to 1TB' },
};
const INT_BOUNDS: Partial<Record<SettingName, Bound>> = {
  max_connections: { min: 10, max: 10000, accepted: 'an integer from 10 to 10000' },
  superuser_reserved_connections: { min: 1, max: 100, accepted: 'an integer from 1 to 100' },
  default_statistics_target: { min: 1, max: 10000, accepted: 'an integer from 1 to 10000' },
  effective_io_concurrency: { min: 0, max: 1000, accepted: 'an integer from 0 to 1000' },
  max_worker_processes: { min: 1, max: 256, accepted: 'an integer from 1 to 256' },
  max_parallel_workers_per_gather: { min: 0, max: 256, accepted: 'an integer from 0 to 256' },
  max_parallel_workers: { min: 0, max: 256, accepted: 'an integer from 0 to 256' },
  max_parallel_maintenance_workers: { min: 0, max: 256, accepted: 'an integer from 0 to 256' },
};
const MAX_LOG_DURATION_MS = 24 * 3_600_000;

/** Postgres' own defaults, used for the memory budget when a setting is not given. */
const PG_DEFAULTS = { shared_buffers: 128 * MB, work_mem: 4 * MB, maintenance_work_mem: 64 * MB, max_connections: 100 };

const SETTINGS_KEYS = keysOf<PostgresSettings>({
  maxConnections: true,
  sharedBuffers: true,
  effectiveCacheSize: true,
  workMem: true,
  maintenanceWorkMem: true,
  logMinDurationStatement: true,
  walBuffers: true,
  minWalSize: true,
  maxWalSize: true,
  checkpointCompletionTarget: true,
  defaultStatisticsTarget: true,
  randomPageCost: true,
  effectiveIoConcurrency: true,
  maxWorkerProcesses: true,
  maxParallelWorkersPerGather: true,
  maxParallelWorkers: true,
  maxParallelMaintenanceWorkers: true,
  hugePages: true,
  superuserReservedConnections: true,
});
const RESOURCES_KEYS = keysOf<PostgresResources>({
  memory: true,
  cpus: true,
  storage: true,
  workload: true,
  maxConnections: true,
  logMinDurationStatement: true,
  hugePages: true,
});

export class PostgresCapacity {
  /** Settings given explicitly (camelCase names of the Postgres settings). */
  static of(settings: PostgresSettings): PostgresCapacity {
    return new PostgresCapacity({ kind: 'explicit', settings });
  }

  /**
   * The seed's Compose variables (`POSTGRES_MAX_CONNECTIONS`, `POSTGRES_SHARED_BUFFERS`,
   * `POSTGRES_EFFECTIVE_CACHE_SIZE`, `POSTGRES_WORK_MEM`, `POSTGRES_LOG_MIN_DURATION_MS`), so a Compose
   * deployment's settings carry over unchanged. Other variables are ignored.
   */
  static fromComposeEnv(env: ComposeCapacityEnv): PostgresCapacity {
    return new PostgresCapacity({ kind: 'compose', env });
  }

  /** Derived from memory, CPUs, storage type and workload with PGTune's formulas; huge_pages off. */
  static fromResources(resources: PostgresResources): PostgresCapacity {
    return new PostgresCapacity({ kind: 'resources', resources });
  }

  private constructor(private readonly source: Source) {}

  /** Which factory made this capacity. */
  get kind(): 'explicit' | 'compose' | 'resources' {
    return this.source.kind;
  }

  /**
   * Validates and resolves the settings against the instance they run on; problems go into `problems`
   * under `prefix` (e.g. `capacity.sharedBuffers`). The result is usable even when problems were found.
   */
  resolve(ctx: CapacityContext, problems: Problems, prefix = 'capacity'): ResolvedCapacity {
    const values = new Map<SettingName, number | string>();
    const field = (name: string) => `${prefix}.${name}`;
    const size = (name: SettingName, fieldName: string, raw: Size | undefined) => {
      if (raw === undefined || raw === '') return;
      const bytes = parseSize(raw);
      const bound = SIZE_BOUNDS[name]!;
      if (bytes === undefined) problems.add(field(fieldName), raw, `is not a size: expected ${SIZE_UNITS_ACCEPTED}`);
      else if (bytes < bound.min || bytes > bound.max)
        problems.add(field(fieldName), raw, `is out of range for ${name}: expected ${bound.accepted}`);
      else values.set(name, bytes);
    };
    const int = (name: SettingName, fieldName: string, raw: number | string | undefined) => {
      if (raw === undefined || raw === '') return;
      const n = typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
      const bound = INT_BOUNDS[name]!;
      if (typeof n !== 'number' || !Number.isInteger(n))
        problems.add(field(fieldName), raw, `is not an integer: expected ${bound.accepted}`);
      else if (n < bound.min || n > bound.max)
        problems.add(field(fieldName), raw, `is out of range for ${name}: expected ${bound.accepted}`);
      else values.set(name, n);
    };
    const real = (name: SettingName, fieldName: string, raw: number | undefined, min: number, max: number, exclusiveMin = false) => {
      if (raw === undefined) return;
      const ok = typeof raw === 'number' && Number.isFinite(raw) && (exclusiveMin ? raw > min : raw >= min) && raw <= max;
      if (!ok)
        problems.add(
          field(fieldName),
          raw,
          `is out of range for ${name}: expected a number ${exclusiveMin ? 'above' : 'from'} ${min} ${exclusiveMin ? 'and up' : ''}to ${max}`.replace(
            '  ',
            ' ',
          ),
        );
      else values.set(name, raw);
    };
    const logDuration = (fieldName: string, raw: Duration | -1 | undefined) => {
      const given: unknown = raw; // JavaScript callers and environment data may pass '' or '-1'
      if (given === undefined || given === '') return;
      if (given === -1 || given === '-1') return void values.set('log_min_duration_statement', -1);
      const ms = typeof raw === 'string' ? parseDuration(raw) : undefined;
      if (ms === undefined) problems.add(field(fieldName), raw, `is not a duration: expected -1 (disabled) or ${DURATION_UNITS_ACCEPTED}`);
      else if (ms > MAX_LOG_DURATION_MS)
        problems.add(field(fieldName), raw, 'is out of range for log_min_duration_statement: expected -1 or 0 to 24h');
      else values.set('log_min_duration_statement', ms);
    };
    const hugePages = (fieldName: string, raw: HugePages | undefined) => {
      if (raw === undefined) return void values.set('huge_pages', 'off');
      if (!['off', 'try', 'on'].includes(raw))
        problems.add(field(fieldName), raw, 'is not a huge_pages mode: expected "off", "try" or "on"');
      else values.set('huge_pages', raw);
    };

    let workloadDefaultConnections = PG_DEFAULTS.max_connections;
    let pgtune: { memory: number; cpus: number; storage: StorageType; workload: PostgresWorkload } | undefined;

    const src = this.source;
    if (src.kind === 'explicit') {
      const s = src.settings;
      knownKeys(problems, prefix, s, SETTINGS_KEYS, 'Postgres setting');
      int('max_connections', 'maxConnections', s.maxConnections);
      int('superuser_reserved_connections', 'superuserReservedConnections', s.superuserReservedConnections);
      size('shared_buffers', 'sharedBuffers', s.sharedBuffers);
      size('effective_cache_size', 'effectiveCacheSize', s.effectiveCacheSize);
      size('work_mem', 'workMem', s.workMem);
      size('maintenance_work_mem', 'maintenanceWorkMem', s.maintenanceWorkMem);
      size('wal_buffers', 'walBuffers', s.walBuffers);
      size('min_wal_size', 'minWalSize', s.minWalSize);
      size('max_wal_size', 'maxWalSize', s.maxWalSize);
      real('checkpoint_completion_target', 'checkpointCompletionTarget', s.checkpointCompletionTarget, 0, 1);
      int('default_statistics_target', 'defaultStatisticsTarget', s.defaultStatisticsTarget);
      real('random_page_cost', 'randomPageCost', s.randomPageCost, 0, 100, true);
      int('effective_io_concurrency', 'effectiveIoConcurrency', s.effectiveIoConcurrency);
      int('max_worker_processes', 'maxWorkerProcesses', s.maxWorkerProcesses);
      int('max_parallel_workers_per_gather', 'maxParallelWorkersPerGather', s.maxParallelWorkersPerGather);
      int('max_parallel_workers', 'maxParallelWorkers', s.maxParallelWorkers);
      int('max_parallel_maintenance_workers', 'maxParallelMaintenanceWorkers', s.maxParallelMaintenanceWorkers);
      logDuration('logMinDurationStatement', s.logMinDurationStatement);
      hugePages('hugePages', s.hugePages);
    } else if (src.kind === 'compose') {
      const e = src.env;
      int('max_connections', 'POSTGRES_MAX_CONNECTIONS', e.POSTGRES_MAX_CONNECTIONS);
      size('shared_buffers', 'POSTGRES_SHARED_BUFFERS', e.POSTGRES_SHARED_BUFFERS);
      size('effective_cache_size', 'POSTGRES_EFFECTIVE_CACHE_SIZE', e.POSTGRES_EFFECTIVE_CACHE_SIZE);
      size('work_mem', 'POSTGRES_WORK_MEM', e.POSTGRES_WORK_MEM);
      const log = e.POSTGRES_LOG_MIN_DURATION_MS;
      if (log !== undefined && log !== '' && !/^\s*-?\d+\s*$/.test(log)) {
        problems.add(
          field('POSTGRES_LOG_MIN_DURATION_MS'),
          log,
          'is not a number of milliseconds: expected -1 (disabled) or an integer from 0 to 86400000',
        );
      } else logDuration('POSTGRES_LOG_MIN_DURATION_MS', log === undefined || log === '' ? undefined : msDuration(Number(log)));
      hugePages('hugePages', undefined);
    } else {
      const r = src.resources;
      knownKeys(problems, prefix, r, RESOURCES_KEYS, 'PostgresCapacity.fromResources option');
      const memory = parseSize(r.memory);
      if (memory === undefined) problems.add(field('memory'), r.memory, `is not a size: expected ${SIZE_UNITS_ACCEPTED}`);
      else if (memory < 256 * MB || memory > 4096 * GB) problems.add(field('memory'), r.memory, 'is out of range: expected 256Mi to 4Ti');
      if (!Number.isInteger(r.cpus) || r.cpus < 1 || r.cpus > 256)
        problems.add(field('cpus'), r.cpus, 'is out of range: expected an integer from 1 to 256');
      const storage = r.storage ?? 'ssd';
      if (!STORAGE_TYPES.includes(storage))
        problems.add(field('storage'), storage, `is not a storage type: expected one of ${STORAGE_TYPES.join(', ')}`);
      const workload = r.workload ?? 'oltp';
      if (!WORKLOADS.includes(workload))
        problems.add(field('workload'), workload, `is not a workload: expected one of ${WORKLOADS.join(', ')}`);
      int('max_connections', 'maxConnections', r.maxConnections);
      logDuration('logMinDurationStatement', r.logMinDurationStatement ?? '1s');
      hugePages('hugePages', r.hugePages);
      workloadDefaultConnections = ({ web: 200, oltp: 300, dw: 40, mixed: 100 } as const)[workload] ?? 100;
      if (
        memory !== undefined &&
        Number.isInteger(r.cpus) &&
        r.cpus >= 1 &&
        STORAGE_TYPES.includes(storage) &&
        WORKLOADS.includes(workload)
      ) {
        pgtune = { memory, cpus: r.cpus, storage, workload };
      }
    }

    // max_connections: given, else derived from what the pools need plus headroom, else the default.
    if (!values.has('max_connections')) {
      const required = ctx.requiredConnections;
      values.set('max_connections', required !== undefined ? deriveMaxConnections(required) : workloadDefaultConnections);
    }
    if (!values.has('superuser_reserved_connections')) values.set('superuser_reserved_connections', 3);
    const maxConnections = values.get('max_connections') as number;

    if (pgtune) applyPgtune(values, pgtune, maxConnections, ctx.storageBytes);

    // Cross-field checks.
    const bytes = (n: SettingName, d: number) => (values.get(n) as number | undefined) ?? d;
    const minWal = values.get('min_wal_size') as number | undefined;
    const maxWal = values.get('max_wal_size') as number | undefined;
    if (minWal !== undefined && maxWal !== undefined && minWal > maxWal) {
      problems.add(
        field(fieldNameFor(src, 'min_wal_size')),
        formatPgSize(minWal),
        `exceeds max_wal_size (${formatPgSize(maxWal)}): min_wal_size must not exceed max_wal_size`,
      );
    }
    if (ctx.storageBytes !== undefined && maxWal !== undefined && maxWal > ctx.storageBytes / 2) {
      problems.add(
        field(fieldNameFor(src, 'max_wal_size')),
        formatPgSize(maxWal),
        `exceeds half the data volume (${ctx.storageLabel ?? formatPgSize(ctx.storageBytes)}): WAL could fill the disk; lower it or grow the volume`,
      );
    }
    const sharedBuffers = bytes('shared_buffers', PG_DEFAULTS.shared_buffers);
    const walBuffers =
      (values.get('wal_buffers') as number | undefined) ?? Math.min(16 * MB, Math.max(64 * 1024, Math.floor(sharedBuffers / 32)));
    const memoryBudgetBytes =
      sharedBuffers +
      walBuffers +
      AUTOVACUUM_WORKERS * bytes('maintenance_work_mem', PG_DEFAULTS.maintenance_work_mem) +
      maxConnections * (bytes('work_mem', PG_DEFAULTS.work_mem) + PER_CONNECTION_OVERHEAD);
    const limit = ctx.memoryLimitBytes;
    if (limit !== undefined) {
      const label = ctx.memoryLimitLabel ?? formatPgSize(limit);
      if (sharedBuffers > SHARED_BUFFERS_MAX_SHARE * limit) {
        problems.add(
          field(fieldNameFor(src, 'shared_buffers')),
          formatPgSize(sharedBuffers),
          `exceeds ${SHARED_BUFFERS_MAX_SHARE * 100}% of the memory limit (${label}): lower it or raise the limit`,
        );
      }
      if (memoryBudgetBytes > limit) {
        problems.addMessage(
          prefix,
          `memory budget ${formatPgSize(memoryBudgetBytes)} (shared_buffers ${formatPgSize(sharedBuffers)} + wal_buffers ${formatPgSize(walBuffers)} + ` +
            `${AUTOVACUUM_WORKERS} x maintenance_work_mem ${formatPgSize(bytes('maintenance_work_mem', PG_DEFAULTS.maintenance_work_mem))} + ` +
            `${maxConnections} connections x (work_mem ${formatPgSize(bytes('work_mem', PG_DEFAULTS.work_mem))} + 2MB)) exceeds the memory limit (${label}): ` +
            'lower work_mem, max_connections or shared_buffers, or raise the limit',
        );
      }
    }

    const settings: Record<string, string> = {};
    for (const name of ORDER) {
      const v = values.get(name);
      if (v === undefined) continue;
      settings[name] = render(name, v);
    }
    const serverArgs = Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
    return {
      maxConnections,
      superuserReservedConnections: values.get('superuser_reserved_connections') as number,
      settings,
      serverArgs,
      memoryBudgetBytes,
    };
  }
}

/** max_connections for a required connection count: 10% headroom (at least 5), rounded up to a multiple of 10. */
export function deriveMaxConnections(required: number): number {
  const withHeadroom = required + Math.max(5, Math.ceil(required * 0.1));
  return Math.max(20, Math.ceil(withHeadroom / 10) * 10);
}

const SIZE_SETTINGS = new Set<SettingName>([
  'shared_buffers',
  'effective_cache_size',
  'work_mem',
  'maintenance_work_mem',
  'wal_buffers',
  'min_wal_size',
  'max_wal_size',
]);

function render(name: SettingName, v: number | string): string {
  if (typeof v === 'string') return v;
  if (SIZE_SETTINGS.has(name)) return formatPgSize(v);
  if (name === 'log_min_duration_statement') return v < 0 ? '-1' : String(v);
  return String(v);
}

function fieldNameFor(src: Source, name: SettingName): string {
  if (src.kind === 'compose') {
    const compose: Partial<Record<SettingName, string>> = {
      shared_buffers: 'POSTGRES_SHARED_BUFFERS',
      work_mem: 'POSTGRES_WORK_MEM',
      max_connections: 'POSTGRES_MAX_CONNECTIONS',
    };
    return compose[name] ?? name;
  }
  if (src.kind === 'resources' && name === 'shared_buffers') return 'memory';
  if (src.kind === 'resources' && (name === 'min_wal_size' || name === 'max_wal_size')) return 'storage';
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** PGTune (le0pard/pgtune) formulas for Linux, Postgres 14+. Sizes in bytes. */
function applyPgtune(
  values: Map<SettingName, number | string>,
  r: { memory: number; cpus: number; storage: StorageType; workload: PostgresWorkload },
  maxConnections: number,
  storageBytes: number | undefined,
): void {
  const kb = (b: number) => Math.floor(b / 1024) * 1024;
  const { memory, cpus, storage, workload } = r;
  const sharedBuffers = kb(memory / 4);
  values.set('shared_buffers', sharedBuffers);
  values.set('effective_cache_size', kb((memory * 3) / 4));
  values.set('maintenance_work_mem', Math.min(2 * GB, kb(memory / (workload === 'dw' ? 8 : 16))));
  // wal_buffers: 3% of shared_buffers, at most 16MB (values near 16MB are rounded up to it), at least 32kB.
  let wal = Math.floor((3 * sharedBuffers) / 100);
  if (wal > 16 * MB || (wal > 14 * MB && wal < 16 * MB)) wal = 16 * MB;
  values.set('wal_buffers', Math.max(32 * 1024, kb(wal)));
  const walSizes: Record<PostgresWorkload, [number, number]> = {
    web: [1 * GB, 4 * GB],
    oltp: [2 * GB, 8 * GB],
    dw: [4 * GB, 16 * GB],
    mixed: [1 * GB, 4 * GB],
  };
  // On a small volume WAL is capped at a quarter of it (PGTune assumes a disk far larger than max_wal_size).
  const walCap = storageBytes === undefined ? Infinity : Math.max(64 * MB, Math.floor(storageBytes / 4 / MB) * MB);
  const maxWal = Math.min(walSizes[workload][1], walCap);
  values.set('min_wal_size', Math.max(32 * MB, Math.min(walSizes[workload][0], Math.floor(maxWal / 4 / MB) * MB)));
  values.set('max_wal_size', maxWal);
  values.set('checkpoint_completion_target', 0.9);
  values.set('default_statistics_target', workload === 'dw' ? 500 : 100);
  values.set('random_page_cost', storage === 'hdd' ? 4 : 1.1);
  values.set('effective_io_concurrency', { ssd: 200, hdd: 2, san: 300 }[storage]);
  let parallelPerGather = 1;
  if (cpus >= 2) {
    parallelPerGather = Math.min(4, Math.ceil(cpus / 2));
    values.set('max_worker_processes', cpus);
    values.set('max_parallel_workers_per_gather', parallelPerGather);
    values.set('max_parallel_workers', cpus);
    values.set('max_parallel_maintenance_workers', Math.min(4, Math.ceil(cpus / 2)));
  }
  // work_mem = (RAM - shared_buffers) / (max_connections * 3) / parallel workers per gather, / 2 for dw and mixed.
  let workMem = (memory - sharedBuffers) / (maxConnections * 3) / parallelPerGather;
  if (workload === 'dw' || workload === 'mixed') workMem /= 2;
  values.set('work_mem', Math.max(64 * 1024, kb(workMem)));
}

/** The Compose variable's milliseconds as a duration prop (-1, disabled, stays -1). */
function msDuration(ms: number): Duration | -1 {
  return ms === -1 ? -1 : `${ms}ms`;
}
