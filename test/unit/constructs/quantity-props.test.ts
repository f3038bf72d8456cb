// Every Kubernetes quantity prop (storage, memory, CPU, sizeLimit) of every construct, reached through the composite,
// refuses a value the API server would refuse, naming the construct path, the field and the value, with the
// Kubernetes spellings it probably meant (issue 12 point 9). Memory sizes that never reach a Kubernetes field but are
// compared with one (Redis maxmemory, an external database's instanceMemory) take the same style and the same hint.
import { TerraformStack, Testing } from 'cdktf';
import { CaracalStores, CaracalStoresProps, StoresPostgres, ValidationError } from '../../../constructs';

function problemsOf(props: Partial<CaracalStoresProps>): string[] {
  const stack = new TerraformStack(Testing.app(), 'platform');
  try {
    new CaracalStores(stack, 'stores', { environment: 'qa', namespace: 'caracal-qa', postgres: StoresPostgres.inCluster(), ...props });
  } catch (e) {
    if (e instanceof ValidationError) return e.problems.map((p) => `${p.where ?? e.where}: ${p.field}: ${p.message}`);
    throw e;
  }
  return [];
}

const GB_HINT = (n: number) => `did you mean \`${n}Gi\` or \`${n}G\`?`;
const MB_HINT = (n: number) => `did you mean \`${n}Mi\` or \`${n}M\`?`;

describe('Kubernetes quantity props', () => {
  test.each<[string, Partial<CaracalStoresProps>, string, string]>([
    // Postgres (in-cluster)
    [
      'postgres storageSize',
      { postgres: StoresPostgres.inCluster({ storageSize: '5GB' }) },
      'platform/stores/postgres: storageSize: "5GB"',
      GB_HINT(5),
    ],
    [
      'postgres sharedMemorySize (the emptyDir sizeLimit)',
      { postgres: StoresPostgres.inCluster({ sharedMemorySize: '256MB' }) },
      'platform/stores/postgres: sharedMemorySize: "256MB"',
      MB_HINT(256),
    ],
    [
      'postgres memory limit',
      { postgres: StoresPostgres.inCluster({ resources: { limits: { memory: '2GB' } } }) },
      'platform/stores/postgres: resources.limits.memory: "2GB"',
      GB_HINT(2),
    ],
    [
      'postgres memory request',
      { postgres: StoresPostgres.inCluster({ resources: { requests: { memory: '1gb' }, limits: { memory: '2Gi' } } }) },
      'platform/stores/postgres: resources.requests.memory: "1gb"',
      GB_HINT(1),
    ],
    [
      'postgres CPU request',
      { postgres: StoresPostgres.inCluster({ resources: { requests: { cpu: '500 m' }, limits: { memory: '2Gi' } } }) },
      'platform/stores/postgres: resources.requests.cpu: "500 m"',
      'did you mean `500m`?',
    ],
    // CloudNativePG
    ['CloudNativePG storageSize', { postgres: StoresPostgres.cloudNativePg({ storageSize: '20GB' }) }, 'storageSize: "20GB"', GB_HINT(20)],
    [
      'CloudNativePG walStorageSize',
      { postgres: StoresPostgres.cloudNativePg({ walStorageSize: '5GB' }) },
      'walStorageSize: "5GB"',
      GB_HINT(5),
    ],
    [
      'CloudNativePG CPU',
      { postgres: StoresPostgres.cloudNativePg({ resources: { requests: { cpu: '2 CPU' }, limits: { memory: '2Gi' } } }) },
      'resources.requests.cpu: "2 CPU"',
      'did you mean `2` or `2000m`?',
    ],
    // Redis
    ['redis storageSize', { redis: { storageSize: '8GB' } }, 'platform/stores/redis: storageSize: "8GB"', GB_HINT(8)],
    [
      'redis memory limit',
      { redis: { resources: { limits: { memory: '1GB' } } } },
      'platform/stores/redis: resources.limits.memory: "1GB"',
      GB_HINT(1),
    ],
    [
      'redis CPU limit',
      { redis: { resources: { limits: { cpu: '0.5cores', memory: '1Gi' } } } },
      'platform/stores/redis: resources.limits.cpu: "0.5cores"',
      'did you mean `0.5` or `500m`?',
    ],
    [
      'redis maxmemory (Redis spelling)',
      { redis: { maxmemory: '256mb' } },
      'platform/stores/redis: maxmemory: "256mb" is not a Kubernetes quantity of at least 16Mi',
      MB_HINT(256),
    ],
    ['redis maxmemory (Postgres spelling)', { redis: { maxmemory: '256MB' } }, 'platform/stores/redis: maxmemory: "256MB"', MB_HINT(256)],
    // Replay volumes (sts, gateway)
    ['sts replay storageSize', { replay: { sts: { storageSize: '5GB' } } }, 'platform/stores/replay: sts.storageSize: "5GB"', GB_HINT(5)],
    // Backup
    ['backup storageSize', { backup: { storageSize: '50GB' } }, 'platform/stores/backup: storageSize: "50GB"', GB_HINT(50)],
    [
      'backup memory limit',
      { backup: { resources: { limits: { memory: '1GB' } } } },
      'platform/stores/backup: resources.limits.memory: "1GB"',
      GB_HINT(1),
    ],
    // Jobs, CronJobs, exporters, services
    [
      'migration Job CPU',
      { migrationJob: { resources: { requests: { cpu: '100 millicores' }, limits: { memory: '256Mi' } } } },
      'platform/stores/migration-job: resources.requests.cpu: "100 millicores"',
      'did you mean `100m`?',
    ],
    [
      'migration Job memory',
      { migrationJob: { resources: { limits: { memory: '256MB' } } } },
      'platform/stores/migration-job: resources.limits.memory: "256MB"',
      MB_HINT(256),
    ],
    [
      'maintenance CronJob memory',
      { auditMaintenance: { resources: { limits: { memory: '64MB' } } } },
      'platform/stores/audit-partition-maintenance: resources.limits.memory: "64MB"',
      MB_HINT(64),
    ],
    [
      'exporters memory',
      { monitoring: { resources: { limits: { memory: '64MB' } } } },
      'platform/stores/monitoring: resources.limits.memory: "64MB"',
      MB_HINT(64),
    ],
    [
      'service pool CPU',
      { pools: { api: { resources: { requests: { cpu: '1 vCPU' } } } } },
      'platform/stores/pools: services.api.resources.requests.cpu: "1 vCPU"',
      'did you mean `1` or `1000m`?',
    ],
    [
      'service pool memory',
      { pools: { api: { resources: { limits: { memory: '512MB' } } } } },
      'platform/stores/pools: services.api.resources.limits.memory: "512MB"',
      MB_HINT(512),
    ],
    // External Postgres: compared with the capacity's memory budget, in the same style as a memory limit
    [
      'external instanceMemory',
      { postgres: StoresPostgres.external({ host: 'db.example.com', instanceMemory: '16GB' }) },
      'platform/stores/postgres: instanceMemory: "16GB" is not a Kubernetes quantity',
      GB_HINT(16),
    ],
  ])(
    'GIVEN %s with a bad value WHEN the stores are built THEN the error names the path, field and value with the Kubernetes spelling',
    (_prop, props, start, hint) => {
      const problems = problemsOf(props);
      const mine = problems.filter((p) => p.includes(start));
      expect(mine).toHaveLength(1);
      expect(mine[0]).toContain(`; ${hint}`);
    },
  );

  test('GIVEN every quantity written in Kubernetes spelling WHEN the stores are built THEN nothing is refused', () => {
    expect(
      problemsOf({
        postgres: StoresPostgres.inCluster({
          storageSize: '5Gi',
          sharedMemorySize: '256Mi',
          resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '2G' } },
        }),
        redis: { storageSize: '8Gi', maxmemory: '256M', resources: { requests: { cpu: '0.5' }, limits: { memory: '1Gi' } } },
        pools: { api: { resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } } } },
      }),
    ).toEqual([]);
  });

  test('GIVEN an external instanceMemory in Kubernetes spelling WHEN the stores are built THEN the capacity budget is checked against it', () => {
    expect(problemsOf({ postgres: StoresPostgres.external({ host: 'db.example.com', instanceMemory: '16Gi' }) })).toEqual([]);
  });
});
