// CloudNativePgCluster: the CloudNativePG Cluster (instances, storage and WAL storage, the capacity's parameters,
// resources, spread, pod security, TLS, monitoring), its delivery (a generated chart after the pinned operator), the
// ScheduledBackup, the NetworkPolicy; and every bad prop with its message.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CloudNativePgCluster,
  CloudNativePgClusterProps,
  DatabaseCredentials,
  DatabaseSecrets,
  IPostgresDatabase,
  PostgresCapacity,
  ValidationError,
} from '../../../constructs';
import { cnpgBootstrapSql, cnpgCron } from '../../../constructs/cloudnative-pg-cluster';
import { Json, resources, scope, synthScope, testSecrets } from '../../support/synth';

function build(extra: Partial<CloudNativePgClusterProps> = {}): { json: Json; text: string; cluster: CloudNativePgCluster } {
  let cluster!: CloudNativePgCluster;
  const { json, text } = synthScope((s) => {
    const secrets = testSecrets(s, 'ha', 'caracal-ha');
    cluster = new CloudNativePgCluster(s, 'postgres', {
      environment: 'ha',
      namespace: 'caracal-ha',
      owner: secrets.login('owner'),
      ...extra,
    });
  });
  return { json, text, cluster };
}

const objectOf = (c: CloudNativePgCluster, kind: string) => c.chart.manifests.find((o) => o.kind === kind) as Json | undefined;
const clusterSpec = (c: CloudNativePgCluster) => objectOf(c, 'Cluster')!.spec;
const BACKUP = { destinationPath: 's3://caracal-backups/ha/', credentialsSecret: { name: 'caracal-backup-s3' } };

describe('CloudNativePgCluster', () => {
  test('GIVEN the defaults WHEN synthesized THEN a Cluster of 3 instances with data and WAL volumes runs the pinned 18.4 image', () => {
    const { cluster } = build();
    const spec = clusterSpec(cluster);
    expect(spec.instances).toBe(3);
    expect(spec.storage).toEqual({ size: '20Gi' });
    expect(spec.walStorage).toEqual({ size: '5Gi' });
    expect(spec.imageName).toBe('ghcr.io/cloudnative-pg/postgresql:18.4-system-trixie');
    expect(cluster.mode).toBe('cloudnative-pg');
  });

  test('GIVEN a capacity WHEN synthesized THEN postgresql.parameters are exactly its settings, then the extra parameters', () => {
    const capacity = PostgresCapacity.of({ maxConnections: 100, sharedBuffers: '512MB', workMem: '8MB' });
    const { cluster } = build({ capacity, parameters: { idle_in_transaction_session_timeout: '60s' } });
    const params = clusterSpec(cluster).postgresql.parameters;
    expect(params).toEqual({ ...cluster.capacity.settings, idle_in_transaction_session_timeout: '60s' });
    expect(params).toMatchObject({ max_connections: '100', shared_buffers: '512MB', work_mem: '8MB' });
    expect(cluster.maxConnections).toBe(100);
    expect(cluster.connectionBudget).toBe(100 - cluster.reservedConnections);
  });

  test('GIVEN resources and storage classes WHEN synthesized THEN each instance gets them, and the WAL volume the data class by default', () => {
    const { cluster } = build({
      resources: { requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '4Gi' } },
      storageClassName: 'fast',
      storageSize: '50Gi',
    });
    const spec = clusterSpec(cluster);
    expect(spec.resources).toEqual({ requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '4Gi' } });
    expect(spec.storage).toEqual({ size: '50Gi', storageClass: 'fast' });
    expect(spec.walStorage).toEqual({ size: '5Gi', storageClass: 'fast' });
  });

  test('GIVEN the defaults WHEN synthesized THEN no two instances share a node and they spread over zones', () => {
    const spec = clusterSpec(build().cluster);
    expect(spec.affinity).toEqual({ enablePodAntiAffinity: true, topologyKey: 'kubernetes.io/hostname', podAntiAffinityType: 'required' });
    expect(spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: { 'cnpg.io/cluster': 'postgres' } },
      },
    ]);
    expect(spec.enablePDB).toBe(true);
  });

  test('GIVEN the defaults WHEN synthesized THEN the pods meet "restricted" as the operator renders them: non-root uid 26, RuntimeDefault seccomp', () => {
    const spec = clusterSpec(build().cluster);
    // The operator's pod template drops every capability, forbids escalation and mounts the root read-only; the
    // Cluster fixes what it lets a user change.
    expect(spec).toMatchObject({ postgresUID: 26, postgresGID: 26, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.podSecurityContext).toBeUndefined();
    expect(spec.securityContext).toBeUndefined();
  });

  test('GIVEN the defaults WHEN synthesized THEN clients reach -rw with verify-full against the <cluster>-ca Secret, readers may use -ro', () => {
    const { cluster } = build();
    expect(cluster.endpoint).toEqual({
      host: 'postgres-rw.caracal-ha.svc',
      port: 5432,
      database: 'caracal',
      sslMode: 'verify-full',
      caCertSecret: { secretName: 'postgres-ca', key: 'ca.crt' },
    });
    expect(cluster.readOnlyEndpoint.host).toBe('postgres-ro.caracal-ha.svc');
    expect(cluster.readOnlyEndpoint.caCertSecret).toEqual(cluster.endpoint.caCertSecret);
  });

  test('GIVEN the owner login WHEN synthesized THEN it is the initdb owner from its Secret, and no superuser access exists', () => {
    const spec = clusterSpec(build().cluster);
    expect(spec.enableSuperuserAccess).toBe(false);
    expect(spec.superuserSecret).toBeUndefined();
    expect(spec.bootstrap.initdb).toMatchObject({
      database: 'caracal',
      owner: 'caracal_ha_owner',
      secret: { name: 'caracal-db-owner' },
      dataChecksums: true,
      postInitApplicationSQL: cnpgBootstrapSql('caracal_ha_owner'),
    });
    expect(spec.managed).toBeUndefined();
  });

  test('GIVEN the bootstrap SQL WHEN read THEN it gives the owner CREATEROLE (never SUPERUSER), creates caracal_backup with BYPASSRLS and closes large objects', () => {
    const sql = cnpgBootstrapSql('caracal_ha_owner');
    expect(sql[0]).toBe('ALTER ROLE "caracal_ha_owner" CREATEROLE');
    expect(sql.join('\n')).not.toMatch(/SUPERUSER/i);
    expect(sql[1]).toMatch(/CREATE ROLE caracal_backup NOLOGIN BYPASSRLS/);
    expect(sql[2]).toBe('GRANT caracal_backup TO "caracal_ha_owner" WITH ADMIN OPTION');
    expect(sql[3]).toMatch(/REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC/);
  });

  test('GIVEN monitoring WHEN synthesized THEN a PodMonitor scrapes the instances, and the deprecated enablePodMonitor stays off', () => {
    const { cluster } = build();
    expect(objectOf(cluster, 'PodMonitor')!.spec).toEqual({
      selector: { matchLabels: { 'cnpg.io/cluster': 'postgres' } },
      podMetricsEndpoints: [{ port: 'metrics' }],
    });
    expect(clusterSpec(cluster).monitoring).toEqual({ enablePodMonitor: false });
    expect(objectOf(build({ podMonitor: false }).cluster, 'PodMonitor')).toBeUndefined();
  });

  test('GIVEN the defaults WHEN synthesized THEN the operator chart is pinned and the Cluster release depends on it and never is destroyed', () => {
    const { json } = build();
    const releases = resources(json, 'helm_release');
    const operator = Object.entries(releases).find(([, r]) => r.chart === 'cloudnative-pg')!;
    expect(operator[1]).toMatchObject({
      repository: 'https://cloudnative-pg.github.io/charts',
      version: '0.29.0',
      namespace: 'cnpg-system',
      create_namespace: true,
      wait: true,
    });
    const cluster = releases.caracal_cnpg_cluster;
    expect(cluster.depends_on).toEqual([`helm_release.${operator[0]}`]);
    expect(cluster.lifecycle).toEqual({ prevent_destroy: true });
    expect(cluster.chart).toMatch(/^assets\//);
  });

  test('GIVEN operator.install false WHEN synthesized THEN only the Cluster release is created, depending on nothing', () => {
    const { json } = build({ operator: { install: false }, backup: BACKUP });
    const releases = resources(json, 'helm_release');
    expect(Object.keys(releases)).toEqual(['caracal_cnpg_cluster']);
    expect(releases.caracal_cnpg_cluster.depends_on).toBeUndefined();
  });

  test('GIVEN backups WHEN synthesized THEN the plugin chart follows the operator, the Cluster archives WAL through it, and a ScheduledBackup runs', () => {
    const { json, cluster } = build({ backup: { ...BACKUP, schedule: '30 2 * * *', retention: '4w' } });
    const releases = resources(json, 'helm_release');
    const [pluginId, plugin] = Object.entries(releases).find(([, r]) => r.chart === 'plugin-barman-cloud')!;
    const operatorId = Object.entries(releases).find(([, r]) => r.chart === 'cloudnative-pg')![0];
    expect(plugin).toMatchObject({ version: '0.7.0', depends_on: [`helm_release.${operatorId}`] });
    expect(releases.caracal_cnpg_cluster.depends_on).toEqual([`helm_release.${operatorId}`, `helm_release.${pluginId}`]);
    expect(clusterSpec(cluster).plugins).toEqual([
      { name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: 'postgres-backups' } },
    ]);
    expect(objectOf(cluster, 'ObjectStore')!.spec).toMatchObject({
      retentionPolicy: '4w',
      configuration: {
        destinationPath: 's3://caracal-backups/ha/',
        s3Credentials: {
          accessKeyId: { name: 'caracal-backup-s3', key: 'ACCESS_KEY_ID' },
          secretAccessKey: { name: 'caracal-backup-s3', key: 'ACCESS_SECRET_KEY' },
        },
      },
    });
    expect(objectOf(cluster, 'ScheduledBackup')!.spec).toMatchObject({
      schedule: '0 30 2 * * *',
      cluster: { name: 'postgres' },
      method: 'plugin',
      pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' },
      immediate: true,
    });
  });

  test('GIVEN no backup WHEN synthesized THEN there is no plugin, ObjectStore or ScheduledBackup', () => {
    const { cluster } = build();
    expect(clusterSpec(cluster).plugins).toBeUndefined();
    expect(objectOf(cluster, 'ObjectStore')).toBeUndefined();
    expect(objectOf(cluster, 'ScheduledBackup')).toBeUndefined();
  });

  test.each([
    ['0 3 * * *', '0 0 3 * * *'],
    ['17 * * * *', '0 17 * * * *'],
    ['@daily', '@daily'],
  ])('GIVEN the five-field schedule %s WHEN converted for CloudNativePG THEN it is %s (seconds first)', (five, six) => {
    expect(cnpgCron(five)).toBe(six);
  });

  test('GIVEN the Cluster and the ObjectStore WHEN Helm uninstalls the release THEN both are kept (their volumes and backups with them)', () => {
    const { cluster } = build({ backup: BACKUP });
    for (const kind of ['Cluster', 'ObjectStore'])
      expect(objectOf(cluster, kind)!.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
  });

  test('GIVEN the defaults WHEN synthesized THEN the NetworkPolicy admits Caracal clients and the other instances on 5432, the operator on 8000, Prometheus on 9187', () => {
    const { json } = build({ allowedClients: [{ app: 'reporting' }] });
    const policy = Object.values(resources(json, 'kubernetes_network_policy_v1'))[0];
    expect(policy.spec.policy_types).toEqual(['Ingress']);
    expect(policy.spec.pod_selector.match_labels).toEqual({ 'cnpg.io/cluster': 'postgres' });
    const [clients, operator, metrics] = policy.spec.ingress;
    const peers = clients.from.map((f: Json) => f.pod_selector.match_labels);
    expect(peers).toContainEqual({ 'cnpg.io/cluster': 'postgres' });
    expect(peers).toContainEqual({ app: 'reporting' });
    expect(peers).toContainEqual(expect.objectContaining({ 'app.kubernetes.io/component': 'migration' }));
    expect(clients.ports).toEqual([{ port: '5432', protocol: 'TCP' }]);
    expect(operator.from[0].namespace_selector.match_labels).toEqual({ 'kubernetes.io/metadata.name': 'cnpg-system' });
    expect(operator.ports).toEqual([{ port: '8000', protocol: 'TCP' }]);
    expect(metrics.ports).toEqual([{ port: '9187', protocol: 'TCP' }]);
  });

  test('GIVEN a subset of the services WHEN synthesized THEN only their pods are admitted by default', () => {
    const { json } = build({ services: ['api', 'audit'] });
    const policy = Object.values(resources(json, 'kubernetes_network_policy_v1'))[0];
    const components = policy.spec.ingress[0].from.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component']);
    expect(components).toEqual(expect.arrayContaining(['api', 'audit', 'migration']));
    expect(components).not.toContain('sts');
  });

  test('GIVEN allowFrom WHEN called THEN the instances admit the client and the client gets its egress rule to them', () => {
    let db!: IPostgresDatabase;
    const { json } = synthScope((s) => {
      const secrets = testSecrets(s, 'ha', 'caracal-ha');
      db = new CloudNativePgCluster(s, 'postgres', { environment: 'ha', namespace: 'caracal-ha', owner: secrets.login('owner') });
      db.allowFrom('reporting', { podSelector: { app: 'reporting' } });
    });
    const names = Object.values(resources(json, 'kubernetes_network_policy_v1')).map((p) => p.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['postgres-allow-reporting', 'reporting-to-postgres']));
  });

  test('GIVEN the same props WHEN synthesized twice THEN the chart files and the JSON are byte-identical', () => {
    const a = build({ backup: BACKUP });
    const b = build({ backup: BACKUP });
    expect([...a.cluster.chart.files]).toEqual([...b.cluster.chart.files]);
    expect(a.text.replace(/"assets\/[^"]+"/g, '')).toEqual(b.text.replace(/"assets\/[^"]+"/g, ''));
  });

  test('GIVEN generated passwords WHEN synthesized THEN no password value is in the chart files', () => {
    const { cluster } = build({ backup: BACKUP });
    const files = [...cluster.chart.files.values()].join('\n');
    expect(files).not.toMatch(/"password"\s*:/);
    expect(files).not.toMatch(/random_password/);
    const onDisk = readFileSync(path.join(cluster.chartDirectory, 'templates', 'cluster.yaml'), 'utf8');
    expect(onDisk).toBe(cluster.chart.files.get('templates/cluster.yaml'));
  });
});

describe('CloudNativePgCluster bad props', () => {
  const make = (extra: Record<string, unknown>) => () => {
    const s = scope();
    const secrets = testSecrets(s, 'ha', 'caracal-ha');
    new CloudNativePgCluster(s, 'postgres', {
      environment: 'ha',
      namespace: 'caracal-ha',
      owner: secrets.login('owner'),
      ...(extra as object),
    });
  };

  test.each<[string, string, Record<string, unknown>, RegExp]>([
    ['instances 0', 'instances', { instances: 0 }, /0 is out of range: expected an integer from 1 to 9/],
    ['storage 5GB', 'storageSize', { storageSize: '5GB' }, /"5GB" is not a volume size .*did you mean `5Gi` or `5G`\?/],
    ['WAL storage 2GB', 'walStorageSize', { walStorageSize: '2GB' }, /did you mean `2Gi` or `2G`\?/],
    [
      'an unknown parameter',
      'parameters.shared_bufers',
      { parameters: { shared_bufers: '1GB' } },
      /is not a Postgres 18 setting; did you mean "shared_buffers"\?/,
    ],
    [
      'a parameter the operator owns',
      'parameters.archive_mode',
      { parameters: { archive_mode: 'on' } },
      /is set by the CloudNativePG operator itself/,
    ],
    ['a parameter of the capacity', 'parameters.work_mem', { parameters: { work_mem: '8MB' } }, /comes from the capacity/],
    ['an empty parameter value', 'parameters.statement_timeout', { parameters: { statement_timeout: '' } }, /is not a setting value/],
    [
      'a missing object-store secret',
      'backup.credentialsSecret',
      { backup: { destinationPath: 's3://caracal-backups/ha/' } },
      /is required: the Barman Cloud plugin reads the access key pair from an existing Secret/,
    ],
    [
      'a bad object-store secret name',
      'backup.credentialsSecret.name',
      { backup: { ...BACKUP, credentialsSecret: { name: 'Bad_Name' } } },
      /Bad_Name/,
    ],
    [
      'a destination that is no s3 path',
      'backup.destinationPath',
      { backup: { ...BACKUP, destinationPath: 'caracal-backups/ha' } },
      /expected s3:\/\/<bucket>\/<prefix>\//,
    ],
    ['an http endpoint', 'backup.endpointUrl', { backup: { ...BACKUP, endpointUrl: 'http://minio:9000' } }, /is not an https URL/],
    [
      'a six-field schedule',
      'backup.schedule',
      { backup: { ...BACKUP, schedule: '0 0 3 * * *' } },
      /is not a cron schedule: expected five fields/,
    ],
    [
      'a retention in hours',
      'backup.retention',
      { backup: { ...BACKUP, retention: '48h' } },
      /expected a positive number of days, weeks or months/,
    ],
    ['a misspelled backup option', 'backup.retension', { backup: { ...BACKUP, retension: '30d' } }, /did you mean "retention"\?/],
    [
      'an image of another major',
      'imageName',
      { imageName: 'ghcr.io/cloudnative-pg/postgresql:17.6-system-trixie' },
      /is not a Postgres 18 image/,
    ],
    ['an unpinned image', 'imageName', { imageName: 'ghcr.io/cloudnative-pg/postgresql' }, /is not a pinned image reference/],
    ['an anti-affinity type of its own', 'podAntiAffinity', { podAntiAffinity: 'sometimes' }, /expected required or preferred/],
    ['no memory limit', 'resources.limits.memory', { resources: { requests: { cpu: '1' } } }, /is required/],
    ['operator.install as a string', 'operator.install', { operator: { install: 'yes' } }, /is not a boolean/],
    ['a misspelled operator option', 'operator.namepsace', { operator: { namepsace: 'cnpg' } }, /did you mean "namespace"\?/],
    ['a misspelled prop', 'instnaces', { instnaces: 3 }, /did you mean "instances"\?/],
    ['a cluster name too long for its pods', 'name', { name: 'a'.repeat(51) }, /Cluster name/],
  ])('GIVEN %s WHEN synthesized THEN the error names %s, the value and what is accepted', (_name, field, extra, message) => {
    expect(make(extra)).toThrow(ValidationError);
    expect(make(extra)).toThrow(new RegExp(`- ${field.replace(/\./g, '\\.')}: `));
    expect(make(extra)).toThrow(message);
  });

  test('GIVEN several bad props WHEN synthesized THEN one error lists every problem', () => {
    expect(
      make({ instances: 0, storageSize: '5GB', parameters: { shared_bufers: '1GB' }, backup: { destinationPath: 's3://b-1/' } }),
    ).toThrow(/4 problems/);
  });

  test('GIVEN existing credentials under other keys WHEN synthesized THEN the owner is refused: CloudNativePG reads username and password', () => {
    const build = () => {
      const s = scope();
      const secrets = new DatabaseSecrets(s, 'secrets', {
        environment: 'ha',
        namespace: 'caracal-ha',
        credentials: DatabaseCredentials.fromExistingSecret('caracal-db', { usernameKey: 'user', passwordKey: 'pass' }),
      });
      new CloudNativePgCluster(s, 'postgres', { environment: 'ha', namespace: 'caracal-ha', owner: secrets.login('owner') });
    };
    expect(build).toThrow(/- owner: "caracal-db-owner \(user, pass\)" does not keep the credentials under the keys CloudNativePG reads/);
  });
});
