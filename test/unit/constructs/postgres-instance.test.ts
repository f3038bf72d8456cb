// PostgresInstance: the in-cluster StatefulSet (restricted pod, probes, volumes, NetworkPolicy, PDB)
// and the external endpoint; the data volume's protection; bad props.
import { IPostgresDatabase, PostgresCapacity, PostgresInstance, PostgresInstanceProps, ValidationError } from '../../../constructs';
import { Json, only, resources, scope, synthScope, testSecrets } from '../../support/synth';

function inCluster(extra: Partial<PostgresInstanceProps> = {}): { json: Json; instance: PostgresInstance } {
  let instance!: PostgresInstance;
  const { json } = synthScope((s) => {
    const secrets = testSecrets(s);
    instance = new PostgresInstance(s, 'postgres', {
      environment: 'dev',
      namespace: 'caracal-dev',
      owner: secrets.login('owner'),
      ...extra,
    });
  });
  return { json, instance };
}

const pod = (json: Json) => only(json, 'kubernetes_stateful_set_v1').spec.template.spec;
const container = (json: Json) => pod(json).container[0];

describe('PostgresInstance (in-cluster)', () => {
  test('GIVEN an in-cluster instance WHEN synthesized THEN it runs a pinned official image with the rendered server arguments', () => {
    const { json, instance } = inCluster({ capacity: PostgresCapacity.of({ maxConnections: 80, sharedBuffers: '256MB' }) });
    expect(container(json).image).toMatch(/^docker\.io\/library\/postgres:18\.\d+-bookworm$/);
    expect(container(json).args).toEqual(['postgres', ...instance.serverArgs]);
    expect(container(json).args).toContain('max_connections=80');
  });

  test('GIVEN an in-cluster instance WHEN synthesized THEN its pod meets Pod Security "restricted" and the project hardening', () => {
    const { json } = inCluster();
    const p = pod(json);
    const c = container(json);
    expect(p.security_context).toMatchObject({
      run_as_non_root: true,
      run_as_user: '999',
      fs_group: '999',
      seccomp_profile: { type: 'RuntimeDefault' },
    });
    expect(c.security_context).toMatchObject({
      run_as_non_root: true,
      allow_privilege_escalation: false,
      read_only_root_filesystem: true,
      capabilities: { drop: ['ALL'] },
      seccomp_profile: { type: 'RuntimeDefault' },
    });
    expect(p.automount_service_account_token).toBe(false);
    const volumeTypes = p.volume.map((v: Json) => Object.keys(v).filter((k) => k !== 'name')[0]);
    expect(new Set(volumeTypes)).toEqual(new Set(['persistent_volume_claim', 'empty_dir', 'secret']));
  });

  test('GIVEN an in-cluster instance WHEN synthesized THEN Postgres has writable emptyDirs, a memory-backed /dev/shm and no subPath mounts', () => {
    const { json } = inCluster({ sharedMemorySize: '128Mi' });
    const mounts = container(json).volume_mount;
    expect(mounts.map((m: Json) => m.mount_path)).toEqual(
      expect.arrayContaining(['/var/run/postgresql', '/tmp', '/dev/shm', '/var/lib/postgresql']),
    );
    expect(mounts.every((m: Json) => m.sub_path === undefined)).toBe(true);
    expect(pod(json).volume.find((v: Json) => v.name === 'shm').empty_dir).toEqual({ medium: 'Memory', size_limit: '128Mi' });
  });

  test('GIVEN an in-cluster instance WHEN synthesized THEN the owner password is read from a mounted file, never an env literal', () => {
    const { json } = inCluster();
    const env = Object.fromEntries(container(json).env.map((e: Json) => [e.name, e.value]));
    expect(env.POSTGRES_PASSWORD_FILE).toBe('/var/run/secrets/caracal/owner/password');
    expect(env.POSTGRES_PASSWORD).toBeUndefined();
    expect(env.POSTGRES_USER).toBe('caracal_dev_owner');
    expect(env.PGDATA).toBe('/var/lib/postgresql/18/docker');
    expect(env.POSTGRES_HOST_AUTH_METHOD).toBe('scram-sha-256');
  });

  test('GIVEN a database starting up or in crash recovery WHEN probed THEN the probes never restart it', () => {
    const { json } = inCluster();
    const c = container(json);
    // pg_isready exit 1 means "rejecting connections" (recovery): liveness and startup accept it.
    for (const probe of [c.liveness_probe, c.startup_probe]) expect(probe.exec.command.join(' ')).toMatch(/pg_isready .*; test \$\? -le 1/);
    expect(c.readiness_probe.exec.command[0]).toBe('pg_isready');
    expect(c.startup_probe.failure_threshold * c.startup_probe.period_seconds).toBeGreaterThanOrEqual(600);
  });

  test('GIVEN an in-cluster instance WHEN it is stopped THEN it has time for the shutdown checkpoint and stops fast instead of waiting for clients', () => {
    const { json } = inCluster({ terminationGracePeriod: '5min' });
    expect(pod(json).termination_grace_period_seconds).toBe(300);
    expect(container(json).lifecycle.pre_stop[0].exec.command.join(' ')).toContain('pg_ctl stop -D "$PGDATA" -m fast -w -t 290');
  });

  test('GIVEN an in-cluster instance WHEN synthesized THEN the data volume is its own protected resource at a fixed address', () => {
    const { json } = inCluster({ storageSize: '50Gi', storageClassName: 'fast-ssd' });
    const pvc = resources(json, 'kubernetes_persistent_volume_claim_v1').caracal_postgres_data;
    expect(pvc.lifecycle.prevent_destroy).toBe(true);
    expect(pvc.spec.resources.requests.storage).toBe('50Gi');
    expect(pvc.spec.storage_class_name).toBe('fast-ssd');
    expect(pvc.lifecycle.ignore_changes).toEqual(['spec[0].resources[0].requests']);
  });

  test('GIVEN an in-cluster instance WHEN synthesized THEN its NetworkPolicy denies all traffic except the services, the migration Job, the maintenance CronJob and the exporters of its environment', () => {
    const { json } = inCluster();
    const np = only(json, 'kubernetes_network_policy_v1');
    expect(np.spec.policy_types).toEqual(['Ingress', 'Egress']);
    expect(np.spec.egress).toBeUndefined();
    const components = np.spec.ingress[0].from.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component']);
    expect(components).toEqual(['api', 'coordinator', 'audit', 'sts', 'gateway', 'migration', 'audit-partition-maintenance', 'metrics']);
    expect(np.spec.ingress[0].from.every((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/instance'] === 'caracal-dev')).toBe(
      true,
    );
    expect(np.spec.ingress[0].ports).toEqual([{ port: '5432', protocol: 'TCP' }]);
  });

  test('GIVEN allowed client selectors as props WHEN synthesized THEN the NetworkPolicy admits them after the defaults, which stay', () => {
    const { json } = inCluster({ allowedClients: [{ app: 'my-api' }] });
    const from = only(json, 'kubernetes_network_policy_v1').spec.ingress[0].from;
    expect(from).toHaveLength(9);
    expect(from[8]).toEqual({ pod_selector: { match_labels: { app: 'my-api' } } });
    expect(from.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component'])).toContain('migration');
  });

  test('GIVEN an in-cluster instance WHEN synthesized THEN its disruption budget can never block a node drain', () => {
    const { json } = inCluster();
    const pdb = only(json, 'kubernetes_pod_disruption_budget_v1');
    expect(pdb.spec.max_unavailable).toBe('1');
    expect(pdb.spec.min_available).toBeUndefined();
  });

  test('GIVEN an in-cluster instance WHEN applied THEN apply waits until Postgres is ready, so the migration Job can depend on it', () => {
    const { json } = inCluster();
    expect(only(json, 'kubernetes_stateful_set_v1').wait_for_rollout).toBe(true);
  });

  test('GIVEN an in-cluster instance WHEN its properties are read THEN it exposes its endpoint and labels', () => {
    const { instance } = inCluster();
    expect(instance.endpoint).toEqual({
      host: 'postgres.caracal-dev.svc.cluster.local',
      port: 5432,
      database: 'caracal',
      sslMode: 'disable',
    });
    expect(instance.podLabels['app.kubernetes.io/part-of']).toBe('caracal');
  });

  test('GIVEN a major change on an existing volume WHEN the construct is created THEN it is refused, saying how to upgrade', () => {
    const build = () => inCluster({ major: 18, dataVolumeMajor: 17 });
    expect(build).toThrow(ValidationError);
    expect(build).toThrow(/major: 18 differs from the data volume's major \(17\).*pg_dumpall.*pg_upgrade/);
  });
});

describe('PostgresInstance.fromAttributes', () => {
  test('GIVEN an external instance WHEN synthesized THEN nothing is deployed and it exposes the managed endpoint and its parameter map', () => {
    let instance!: IPostgresDatabase;
    const { json } = synthScope((s) => {
      instance = PostgresInstance.fromAttributes(s, 'postgres', {
        host: 'db.example.com',
        caCertSecret: { secretName: 'db-ca' },
        instanceMemory: '8Gi',
        capacity: PostgresCapacity.fromResources({ memory: '8Gi', cpus: 2 }),
        requiredConnections: 120,
      });
    });
    expect(json.resource).toBeUndefined();
    expect(instance.endpoint).toEqual({
      host: 'db.example.com',
      port: 5432,
      database: 'caracal',
      sslMode: 'verify-full',
      caCertSecret: { secretName: 'db-ca', key: 'ca.crt' },
    });
    expect(instance.parameters.shared_buffers).toBe('2GB');
    expect(instance.maxConnections).toBeGreaterThanOrEqual(120);
    expect(instance.connectionBudget).toBe(instance.maxConnections - instance.reservedConnections);
    expect(instance.podLabels).toBeUndefined();
    expect(instance.readyResources).toEqual([]);
  });
});

describe('IPostgresDatabase', () => {
  test('GIVEN an in-cluster instance WHEN read through the interface THEN its StatefulSet and policy are what clients wait for, and its budget leaves the reserve out', () => {
    const { instance } = inCluster({ capacity: PostgresCapacity.of({ maxConnections: 80, superuserReservedConnections: 5 }) });
    const db: IPostgresDatabase = instance;
    expect(db.mode).toBe('in-cluster');
    expect(db.readyResources).toEqual([instance.statefulSet, instance.networkPolicy]);
    expect(db.connectionBudget).toBe(75);
    expect(db.podLabels).toMatchObject({ 'app.kubernetes.io/name': 'postgres', 'app.kubernetes.io/instance': 'caracal-dev' });
    // The StatefulSet is not optional on the in-cluster type: no `!`, no branching.
    expect(instance.statefulSet.terraformResourceType).toBe('kubernetes_stateful_set_v1');
  });

  test('GIVEN the external import WHEN it is handed to the composite-level consumers THEN the earlier name external() gives the same construct', () => {
    const s = scope();
    const a = PostgresInstance.external(s, 'a', { host: 'db.example.com' });
    const b = PostgresInstance.fromAttributes(s, 'b', { host: 'db.example.com' });
    expect(a.constructor).toBe(b.constructor);
    expect(a.endpoint).toEqual(b.endpoint);
  });
});

describe('PostgresInstance bad props', () => {
  const owner = () => testSecrets(scope()).login('owner');
  test.each<[string, Partial<PostgresInstanceProps>]>([
    ['namespace', { namespace: 'Caracal_Dev' }],
    ['environment', { environment: 'Dev-1' }],
    ['name', { name: 'postgres_primary' }],
    ['database', { database: 'caracal-db' }],
    ['major', { major: 12, dataVolumeMajor: 12 }],
    ['image', { image: 'postgres:latest' }],
    ['image', { image: 'docker.io/library/postgres:17.6' }],
    ['terminationGracePeriod', { terminationGracePeriod: '5s' }],
    ['terminationGracePeriod', { terminationGracePeriod: 120 as never }],
    ['storageSize', { storageSize: '500Mi' }],
    ['resources.limits.memory', { resources: { requests: { memory: '1Gi' } } }],
    ['resources.requests.memory', { resources: { requests: { memory: '4Gi' }, limits: { memory: '2Gi' } } }],
    ['resources.requests.cpu', { resources: { requests: { cpu: 'two' }, limits: { memory: '2Gi' } } }],
    ['sharedMemorySize', { sharedMemorySize: '16Mi' }],
    ['allowedClients', { allowedClients: { app: 'x' } as never }],
    ['allowedClients\\[0\\]', { allowedClients: [{}] }],
    ['requiredConnections', { requiredConnections: -3 }],
    ['logicalIdPrefix', { logicalIdPrefix: '9-stores' }],
  ])('GIVEN a bad %s WHEN the in-cluster instance is created THEN the error names it', (field, extra) => {
    const build = () =>
      new PostgresInstance(scope(), 'postgres', { environment: 'dev', namespace: 'caracal-dev', owner: owner(), ...extra });
    expect(build).toThrow(new RegExp(`- ${field}: `));
  });

  test.each<[string, Record<string, unknown>]>([
    ['host', { host: 'postgres://db.example.com:5432' }],
    ['port', { host: 'db.example.com', port: 70000 }],
    ['sslMode', { host: 'db.example.com', sslMode: 'prefer' }],
    ['sslMode', { host: 'db.example.com', sslMode: 'always' }],
    ['caCertSecret', { host: 'db.example.com', sslMode: 'verify-ca' }],
    ['caCertSecret.secretName', { host: 'db.example.com', caCertSecret: { secretName: 'DB CA' } }],
    ['instanceMemory', { host: 'db.example.com', instanceMemory: 'big' }],
  ])('GIVEN a bad external %s WHEN the external instance is created THEN the error names it', (field, props) => {
    expect(() => PostgresInstance.external(scope(), 'postgres', props as never)).toThrow(new RegExp(`- ${field}: `));
  });

  test.each<[string, Partial<PostgresInstanceProps>, string]>([
    ['storageSize', { storageSize: '5GB' }, '`5Gi` or `5G`'],
    ['resources.limits.memory', { resources: { limits: { memory: '2GB' } } }, '`2Gi` or `2G`'],
    ['sharedMemorySize', { sharedMemorySize: '256MB' }, '`256Mi` or `256M`'],
  ])(
    'GIVEN a Postgres-style %s WHEN the in-cluster instance is created THEN the error gives the Kubernetes spellings',
    (field, extra, hint) => {
      expect(
        () => new PostgresInstance(scope(), 'postgres', { environment: 'dev', namespace: 'caracal-dev', owner: owner(), ...extra }),
      ).toThrow(new RegExp(`- ${field.replace(/\./g, '\\.')}: [^\n]*did you mean ${hint}\\?`));
    },
  );

  test('GIVEN a bad prop WHEN the construct is created THEN the error names the construct path', () => {
    expect(() => PostgresInstance.external(scope(), 'postgres', { host: '' })).toThrow(/^test\/postgres: 1 problem/);
  });
});
