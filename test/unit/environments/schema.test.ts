// The environment schema: the three environments validate; bad data is reported field by field, all at once.
import { ENVIRONMENT_FILES, loadEnvironments, validateEnvironment, validateEnvironments, ValidationError } from '../../../src/environments';
import { checkEnvironment } from '../../../src/stacks/environment-check';
import { dev } from '../../../src/environments/dev';
import { prod } from '../../../src/environments/prod';

/** A deep copy of dev with one change applied. */
function devWith(change: (d: any) => void): unknown {
  const d = JSON.parse(JSON.stringify(dev));
  change(d);
  return d;
}

describe('environment schema', () => {
  test('GIVEN dev, staging, prod and ha WHEN validated THEN all are accepted', () => {
    expect(loadEnvironments().map((e) => e.name)).toEqual(['dev', 'staging', 'prod', 'ha']);
  });

  test('GIVEN dev with an alternating Redis rotation and a reloader token WHEN validated THEN it is accepted', () => {
    const d = devWith((x) => {
      x.redis.passwords.rotation = { api: { b: '1', active: 'b', retireInactive: true }, sts: '2' };
      x.redis.passwords.reloaderRotation = '1';
    });
    expect(() => checkEnvironment(d, 'src/environments/dev.ts')).not.toThrow();
  });

  test('GIVEN dev with alternating Postgres logins and a retire grace WHEN validated THEN it is accepted', () => {
    const d = devWith((x) => {
      x.credentials.rotation = { api: { a: '0', b: '1', active: 'b', retireInactive: true }, backup: '2' };
      x.credentials.retireGrace = '2h';
    });
    expect(() => checkEnvironment(d, 'src/environments/dev.ts')).not.toThrow();
  });

  test('GIVEN existing Secrets with an alternating login and a retire grace WHEN validated THEN it is accepted', () => {
    const d = devWith((x) => {
      x.credentials = {
        kind: 'existing',
        secretPrefix: 'caracal-dev-db',
        rotation: { api: { a: '0', b: '1', active: 'b' } },
        retireGrace: '2h',
      };
    });
    expect(() => checkEnvironment(d, 'src/environments/dev.ts')).not.toThrow();
  });

  test('GIVEN dev, staging and prod WHEN compared THEN dev is in-cluster and small, staging and prod managed and larger', () => {
    const [d, s, p] = loadEnvironments();
    expect(d.postgres.mode).toBe('in-cluster');
    expect([s.postgres.mode, p.postgres.mode]).toEqual(['external', 'external']);
    expect(d.backend.kind).toBe('local');
    expect(s.backend.kind).not.toBe('local');
    expect(p.backend.kind).not.toBe('local');
  });

  test.each<[string, (d: any) => void]>([
    ['cluster', (d) => delete d.cluster],
    ['cluster.context', (d) => (d.cluster.context = '')],
    ['cluster.configPath', (d) => delete d.cluster.configPath],
    ['cluster.kind', (d) => (d.cluster = { kind: 'in-cluster' })],
    [
      'cluster.host',
      (d) =>
        (d.cluster = {
          kind: 'host',
          host: 'http://localhost:8080',
          clusterCaCertificate: '-----BEGIN CERTIFICATE-----x',
          exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws', args: [] },
        }),
    ],
    [
      'cluster.exec',
      (d) => (d.cluster = { kind: 'host', host: 'https://k8s.example.com', clusterCaCertificate: '-----BEGIN CERTIFICATE-----x' }),
    ],
    ['name', (d) => (d.name = 'Dev Env')],
    ['namespace', (d) => (d.namespace = 'Caracal')],
    ['backend.path', (d) => (d.backend.path = 'state.json')],
    [
      'backend.encrypt',
      (d) => (d.backend = { kind: 's3', bucket: 'caracal-state', key: 'dev.tfstate', region: 'eu-west-1', encrypt: false }),
    ],
    ['backend.region', (d) => (d.backend = { kind: 's3', bucket: 'caracal-state', key: 'dev.tfstate', region: 'mars', encrypt: true })],
    ['backend.workspace', (d) => (d.backend = { kind: 'remote', organization: 'caracal' })],
    ['postgres.mode', (d) => (d.postgres.mode = 'serverless')],
    ['postgres.major', (d) => (d.postgres.major = 9)],
    ['postgres.storageSize', (d) => (d.postgres.storageSize = '10GB')],
    ['postgres.resources.limits.memory', (d) => delete d.postgres.resources.limits.memory],
    ['postgres.capacity.kind', (d) => (d.postgres.capacity = { kind: 'magic' })],
    ['postgres.capacity.workload', (d) => (d.postgres.capacity.workload = 'batch')],
    [
      'postgres.capacity.env.POSTGRES_SHARED_BUFFER',
      (d) => (d.postgres.capacity = { kind: 'compose', env: { POSTGRES_SHARED_BUFFER: '1GB' } }),
    ],
    [
      'postgres.sslMode',
      (d) =>
        (d.postgres = {
          mode: 'external',
          host: 'db.example.com',
          port: 5432,
          database: 'caracal',
          sslMode: 'disable',
          capacity: { kind: 'explicit', settings: {} },
        }),
    ],
    [
      'postgres.port',
      (d) =>
        (d.postgres = {
          mode: 'external',
          host: 'db.example.com',
          port: '5432',
          database: 'caracal',
          sslMode: 'require',
          capacity: { kind: 'explicit', settings: {} },
        }),
    ],
    ['credentials.kind', (d) => (d.credentials = { kind: 'plaintext' })],
    ['credentials.length', (d) => (d.credentials.length = 8)],
    ['credentials.rotation.api.retire', (d) => (d.credentials.rotation = { api: { b: '1', retire: true } })],
    ['credentials.retireGrace', (d) => (d.credentials.retireGrace = 3600)],
    ['credentials.retireGrace', (d) => (d.credentials.retireGrace = 'an hour')],
    [
      'credentials.rotation.api.retire',
      (d) => (d.credentials = { kind: 'existing', secretPrefix: 'caracal-dev-db', rotation: { api: { b: '1', retire: true } } }),
    ],
    ['credentials.retireGrace', (d) => (d.credentials = { kind: 'existing', secretPrefix: 'caracal-dev-db', retireGrace: 3600 })],
    ['keyMaterial', (d) => delete d.keyMaterial],
    ['pools.api.poolMax', (d) => (d.pools.api.poolMax = 0)],
    ['pools.sts.statementTimeout', (d) => (d.pools.sts.statementTimeout = '5 seconds')],
    ['pools.billing', (d) => (d.pools.billing = { poolMax: 5 })],
    ['otherConnections.exporters', (d) => (d.otherConnections = { exporters: -1 })],
    ['redis', (d) => delete d.redis],
    ['redis.resources.limits.memory', (d) => delete d.redis.resources.limits.memory],
    ['redis.resources.requests.cpu', (d) => (d.redis.resources.requests.cpu = 'half')],
    ['redis.storageSize', (d) => (d.redis.storageSize = '8GB')],
    ['redis.storageClassName', (d) => (d.redis.storageClassName = 'Fast SSD')],
    ['redis.maxmemory', (d) => (d.redis.maxmemory = 'half')],
    ['redis.image', (d) => (d.redis.image = 'docker.io/library/redis:latest')],
    ['redis.image', (d) => (d.redis.image = 'redis')],
    ['redis.persistence', (d) => (d.redis.persistence = 'aof')],
    ['redis.passwords', (d) => delete d.redis.passwords],
    ['redis.passwords.kind', (d) => (d.redis.passwords = { kind: 'plaintext' })],
    ['redis.passwords.length', (d) => (d.redis.passwords.length = 8)],
    ['redis.passwords.rotation.root', (d) => (d.redis.passwords.rotation = { root: '2027-01' })],
    ['redis.passwords.rotation.api.retire', (d) => (d.redis.passwords.rotation = { api: { b: '1', retire: true } })],
    ['redis.passwords.rotation.api', (d) => (d.redis.passwords.rotation = { api: 7 })],
    ['redis.passwords.reloaderRotation', (d) => (d.redis.passwords.reloaderRotation = '')],
    ['keyMaterial.hmacRing.keyz', (d) => (d.keyMaterial = { kind: 'generated', hmacRing: { keyz: ['hmac-1'] } })],
    ['keyMaterial.encryptionRing', (d) => (d.keyMaterial = { kind: 'generated', encryptionRing: 'encryption-2' })],
    ['redis.passwords.secretPrefix', (d) => (d.redis.passwords = { kind: 'existing', secretPrefix: 'Caracal Redis' })],
    ['redis.passwords.aclSecretName', (d) => (d.redis.passwords = { kind: 'existing', secretPrefix: 'caracal-redis', aclSecretName: '' })],
    ['auditMaintenance', (d) => delete d.auditMaintenance],
    ['auditMaintenance.schedule', (d) => (d.auditMaintenance.schedule = 'every hour')],
    ['auditMaintenance.timeZone', (d) => (d.auditMaintenance.timeZone = 'UTC+2')],
    ['auditMaintenance.retentionDays', (d) => (d.auditMaintenance.retentionDays = 0)],
    ['auditMaintenance.retentionDays', (d) => delete d.auditMaintenance.retentionDays],
    ['auditMaintenance.daysAhead', (d) => (d.auditMaintenance.daysAhead = 0)],
    ['auditMaintenance.daysBack', (d) => (d.auditMaintenance.daysBack = 1.5)],
    ['auditMaintenance.healthDaysAhead', (d) => (d.auditMaintenance.healthDaysAhead = '7')],
    ['auditMaintenance.window', (d) => (d.auditMaintenance.window = 14)],
  ])('GIVEN dev with a bad %s WHEN validated THEN the error names that field', (field, change) => {
    // GIVEN dev with one bad field WHEN validated THEN the error names that field
    expect(() => checkEnvironment(devWith(change), 'src/environments/dev.ts')).toThrow(new RegExp(`- ${field.replace(/\./g, '\\.')}: `));
  });

  test('GIVEN several problems WHEN validated THEN all are reported at once, with the file, field path, bad value and accepted values', () => {
    const bad = devWith((d) => {
      d.cluster.context = '';
      d.postgres.major = 9;
      d.pools.api.poolMax = 0;
    });
    let error: ValidationError | undefined;
    try {
      checkEnvironment(bad, 'src/environments/dev.ts');
    } catch (e) {
      error = e as ValidationError;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(error!.message).toMatch(/^src\/environments\/dev\.ts: 3 problems/);
    expect(error!.problems.map((p) => p.field)).toEqual(['cluster.context', 'postgres.major', 'pools.api.poolMax']);
    expect(error!.message).toContain('- postgres.major: 9 is out of range: expected an integer from 14 to 18');
  });

  test('GIVEN Redis and maintenance problems WHEN validated THEN they are reported with the others, each with the bad value and what is accepted', () => {
    // GIVEN dev with a bad Redis volume size, an unpinned Redis image and a cron schedule that is not one
    const bad = devWith((d) => {
      d.redis.storageSize = '8GB';
      d.redis.image = 'redis:latest';
      d.auditMaintenance.schedule = 'hourly';
    });
    // WHEN validated THEN all three are in one error, in field order, each saying what is accepted
    let error: ValidationError | undefined;
    try {
      checkEnvironment(bad, 'src/environments/dev.ts');
    } catch (e) {
      error = e as ValidationError;
    }
    expect(error!.problems.map((p) => p.field)).toEqual(['redis.image', 'redis.storageSize', 'auditMaintenance.schedule']);
    expect(error!.message).toContain(
      '- redis.storageSize: "8GB" is not a volume size of at least 1Gi: expected a Kubernetes quantity such as 8Gi',
    );
    expect(error!.message).toContain('- redis.image: "redis:latest" is not a pinned image reference');
    expect(error!.message).toContain('- auditMaintenance.schedule: "hourly" is not a cron schedule: expected five fields');
  });

  test('GIVEN problems in several files WHEN all are validated together THEN each problem is prefixed with its file', () => {
    const entries = [...ENVIRONMENT_FILES, { file: 'src/environments/qa.ts', data: { ...prod, name: 'prod', cluster: undefined } }];
    expect(() => validateEnvironments(entries)).toThrow(
      /src\/environments\/qa\.ts: cluster: undefined is missing[\s\S]*src\/environments\/qa\.ts\.name: "prod" is used by another environment/,
    );
  });

  test('GIVEN an unknown field (a token pasted in the wrong place) WHEN validated THEN its value is never echoed', () => {
    const bad = devWith((d) => (d.cluster.token = 'tok-3f9a1c7e-secret'));
    expect(() => validateEnvironment(bad, 'dev')).toThrow(/cluster\.token: "token" is not a known field/);
    expect(() => validateEnvironment(bad, 'dev')).not.toThrow(/tok-3f9a1c7e-secret/);
  });
});
