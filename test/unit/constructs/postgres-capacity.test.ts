// PostgresCapacity: explicit, Compose and PGTune-derived settings; units; range and memory budget errors.
import { PostgresCapacity, PostgresInstance, ValidationError, deriveMaxConnections } from '../../../constructs';
import { Problems } from '../../../constructs/errors';
import { scope } from '../../support/synth';

const resolve = (c: PostgresCapacity, ctx = {}) => {
  const problems = new Problems('test');
  const r = c.resolve(ctx, problems);
  problems.throwIfAny();
  return r;
};

describe('PostgresCapacity', () => {
  test('GIVEN explicit settings in mixed units WHEN resolved THEN they become normalized Postgres values and -c server arguments', () => {
    // GIVEN settings in mixed units
    const c = PostgresCapacity.of({ maxConnections: 150, sharedBuffers: '512Mi', workMem: 4 * 1024 * 1024, logMinDurationStatement: '2s' });
    // WHEN resolved
    const r = resolve(c);
    // THEN units are normalized and the arguments are -c name=value pairs
    expect(r.settings).toEqual({
      max_connections: '150',
      superuser_reserved_connections: '3',
      shared_buffers: '512MB',
      work_mem: '4MB',
      huge_pages: 'off',
      log_min_duration_statement: '2000',
    });
    expect(r.serverArgs.slice(0, 4)).toEqual(['-c', 'max_connections=150', '-c', 'superuser_reserved_connections=3']);
  });

  test("GIVEN the seed's Compose variables WHEN resolved THEN they are carried over unchanged", () => {
    // GIVEN the five Compose variables (and an unrelated one)
    const c = PostgresCapacity.fromComposeEnv({
      POSTGRES_MAX_CONNECTIONS: '200',
      POSTGRES_SHARED_BUFFERS: '2GB',
      POSTGRES_EFFECTIVE_CACHE_SIZE: '6GB',
      POSTGRES_WORK_MEM: '8MB',
      POSTGRES_LOG_MIN_DURATION_MS: '500',
      POSTGRES_DB: 'caracal',
    });
    // WHEN resolved
    const r = resolve(c);
    // THEN each maps to its setting
    expect(r.settings).toMatchObject({
      max_connections: '200',
      shared_buffers: '2GB',
      effective_cache_size: '6GB',
      work_mem: '8MB',
      log_min_duration_statement: '500',
    });
  });

  test("GIVEN a 4GB, 2-CPU web server with SSD WHEN derived from resources THEN the values are PGTune's", () => {
    // GIVEN PGTune's own example inputs (web, 4 GB, 2 CPUs, ssd, 200 connections)
    const c = PostgresCapacity.fromResources({ memory: '4GB', cpus: 2, storage: 'ssd', workload: 'web', maxConnections: 200 });
    // WHEN resolved
    const r = resolve(c);
    // THEN the settings are PGTune's
    expect(r.settings).toMatchObject({
      max_connections: '200',
      shared_buffers: '1GB',
      effective_cache_size: '3GB',
      maintenance_work_mem: '256MB',
      checkpoint_completion_target: '0.9',
      wal_buffers: '16MB',
      default_statistics_target: '100',
      random_page_cost: '1.1',
      effective_io_concurrency: '200',
      work_mem: '5242kB',
      min_wal_size: '1GB',
      max_wal_size: '4GB',
      max_worker_processes: '2',
      max_parallel_workers_per_gather: '1',
      max_parallel_workers: '2',
      max_parallel_maintenance_workers: '1',
      huge_pages: 'off',
    });
  });

  test('GIVEN no huge_pages setting WHEN resolved THEN huge_pages is off, since it can crash Postgres under Kubernetes', () => {
    const r = resolve(PostgresCapacity.fromResources({ memory: '64Gi', cpus: 16 }));
    expect(r.settings.huge_pages).toBe('off');
  });

  test('GIVEN the connections the pools need WHEN max_connections is derived THEN it covers them plus headroom', () => {
    // GIVEN no max_connections and a requirement of 186 connections
    const r = resolve(PostgresCapacity.fromResources({ memory: '8Gi', cpus: 4 }), { requiredConnections: 186 });
    // THEN max_connections covers it with headroom, rounded to tens
    expect(r.maxConnections).toBe(deriveMaxConnections(186));
    expect(r.maxConnections).toBeGreaterThanOrEqual(186 + 5);
    expect(r.maxConnections % 10).toBe(0);
  });

  test('GIVEN a small data volume WHEN resolved THEN WAL sizes are capped to a quarter of it', () => {
    const r = resolve(PostgresCapacity.fromResources({ memory: '1Gi', cpus: 1, workload: 'oltp' }), { storageBytes: 10 * 1024 ** 3 });
    expect(r.settings.max_wal_size).toBe('2560MB');
    expect(r.settings.min_wal_size).toBe('640MB');
  });

  test('GIVEN 512Mi, 512MB, 524288kB and a byte count WHEN resolved THEN they are the same size', () => {
    const values = ['512Mi', '512MB', '524288kB', 536870912].map(
      (v) => resolve(PostgresCapacity.of({ sharedBuffers: v })).settings.shared_buffers,
    );
    expect(new Set(values)).toEqual(new Set(['512MB']));
  });

  test('GIVEN a memory budget that cannot fit the container limit WHEN resolved THEN synth fails with the arithmetic', () => {
    // GIVEN 500 connections with 64MB work_mem in a 2Gi container
    const build = () =>
      new PostgresInstance(scope(), 'postgres', {
        environment: 'dev',
        namespace: 'caracal-dev',
        owner: ownerRef(),
        resources: { limits: { memory: '2Gi' } },
        capacity: PostgresCapacity.of({ maxConnections: 500, sharedBuffers: '512MB', workMem: '64MB' }),
      });
    // THEN one ValidationError shows the budget sum against the limit
    expect(build).toThrow(ValidationError);
    expect(build).toThrow(
      /memory budget .* \(shared_buffers 512MB .* 500 connections x \(work_mem 64MB \+ 2MB\)\) exceeds the memory limit \(2Gi\)/,
    );
  });

  test('GIVEN several bad settings WHEN resolved THEN every problem is collected at once', () => {
    const problems = new Problems('test');
    PostgresCapacity.of({ sharedBuffers: 'lots', workMem: '1kB', maxConnections: 5 }).resolve({}, problems);
    expect(problems.all.map((p) => p.field)).toEqual(['capacity.maxConnections', 'capacity.sharedBuffers', 'capacity.workMem']);
  });

  test.each([
    ['capacity.maxConnections', PostgresCapacity.of({ maxConnections: 0 }), {}],
    ['capacity.maxConnections', PostgresCapacity.of({ maxConnections: 12.5 }), {}],
    ['capacity.sharedBuffers', PostgresCapacity.of({ sharedBuffers: '12 parsecs' }), {}],
    [
      'capacity.sharedBuffers',
      PostgresCapacity.of({ sharedBuffers: '12GB' }),
      { memoryLimitBytes: 16 * 1024 ** 3, memoryLimitLabel: '16Gi' },
    ],
    ['capacity.workMem', PostgresCapacity.of({ workMem: '3GB' }), {}],
    ['capacity.maintenanceWorkMem', PostgresCapacity.of({ maintenanceWorkMem: '512kB' }), {}],
    ['capacity.effectiveCacheSize', PostgresCapacity.of({ effectiveCacheSize: '-1GB' }), {}],
    ['capacity.logMinDurationStatement', PostgresCapacity.of({ logMinDurationStatement: '2 weeks' as never }), {}],
    ['capacity.checkpointCompletionTarget', PostgresCapacity.of({ checkpointCompletionTarget: 1.5 }), {}],
    ['capacity.randomPageCost', PostgresCapacity.of({ randomPageCost: 0 }), {}],
    ['capacity.hugePages', PostgresCapacity.of({ hugePages: 'maybe' as never }), {}],
    ['capacity.minWalSize', PostgresCapacity.of({ minWalSize: '4GB', maxWalSize: '1GB' }), {}],
    ['capacity.maxWalSize', PostgresCapacity.of({ maxWalSize: '8GB' }), { storageBytes: 10 * 1024 ** 3 }],
    ['capacity.POSTGRES_SHARED_BUFFERS', PostgresCapacity.fromComposeEnv({ POSTGRES_SHARED_BUFFERS: '2 gigs' }), {}],
    ['capacity.POSTGRES_MAX_CONNECTIONS', PostgresCapacity.fromComposeEnv({ POSTGRES_MAX_CONNECTIONS: 'many' }), {}],
    ['capacity.POSTGRES_LOG_MIN_DURATION_MS', PostgresCapacity.fromComposeEnv({ POSTGRES_LOG_MIN_DURATION_MS: '1s' }), {}],
    ['capacity.memory', PostgresCapacity.fromResources({ memory: '64Mi', cpus: 1 }), {}],
    ['capacity.cpus', PostgresCapacity.fromResources({ memory: '4Gi', cpus: 0 }), {}],
    ['capacity.workload', PostgresCapacity.fromResources({ memory: '4Gi', cpus: 2, workload: 'batch' as never }), {}],
    ['capacity.storage', PostgresCapacity.fromResources({ memory: '4Gi', cpus: 2, storage: 'tape' as never }), {}],
  ])('GIVEN bad capacity input for %s WHEN resolved THEN the error names it', (field, capacity, ctx) => {
    // GIVEN a bad value WHEN resolved THEN the error names the field
    const problems = new Problems('CaracalStores/dev/postgres');
    capacity.resolve(ctx, problems);
    expect(() => problems.throwIfAny()).toThrow(new RegExp(`- ${field.replace(/\./g, '\\.')}: `));
  });
});

function ownerRef() {
  return {
    login: 'owner' as const,
    username: 'caracal_dev_owner',
    groupRole: 'caracal_owner',
    secretName: 'caracal-db-owner',
    usernameKey: 'username',
    passwordKey: 'password',
    version: 'generated:32:0',
  };
}
