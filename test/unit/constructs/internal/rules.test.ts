// The constructs' one rule library: each domain rule accepts what Kubernetes, Postgres and the runner accept,
// refuses the rest with one wording, and returns the parsed value.
import * as rules from '../../../../constructs/internal/rules';
import { Problems } from '../../../../constructs/errors';

/** The problems one rule records for a value. */
function problemsOf(check: (p: Problems) => unknown): string[] {
  const p = new Problems('test');
  check(p);
  return p.all.map((x) => `${x.field}: ${x.message}`);
}

describe('pinnedImage', () => {
  test.each([
    'docker.io/library/postgres:18.1-bookworm',
    'postgres:17',
    'registry.example.com:5000/team/runner:1.2.3',
    'node@sha256:' + 'a'.repeat(64),
    'docker.io/library/node:20@sha256:' + 'b'.repeat(64),
  ])('GIVEN %s WHEN checked THEN it is a pinned image', (image) => {
    expect(problemsOf((p) => rules.pinnedImage(p, 'image', image))).toEqual([]);
  });

  test.each<[unknown, RegExp]>([
    ['postgres', /no version tag/],
    ['postgres:latest', /":latest" changes under the same name/],
    ['registry.example.com:5000/runner', /no version tag/],
    ['node@sha256:1234', /digest is malformed/],
    ['Node:20', /expected registry\/name:tag/],
    ['node:20 -it', /expected registry\/name:tag/],
    [42, /expected registry\/name:tag/],
  ])('GIVEN %j WHEN checked THEN it is not a pinned image reference', (image, why) => {
    const found = problemsOf((p) => rules.pinnedImage(p, 'image', image));
    expect(found).toEqual([expect.stringMatching(/^image: .* is not a pinned image reference: /)]);
    expect(found[0]).toMatch(why);
  });
});

describe('Kubernetes quantities', () => {
  test.each<[string, number]>([
    ['1Gi', 1024 ** 3],
    ['2G', 2e9],
    ['1073741824', 1024 ** 3],
  ])('GIVEN the volume size %s WHEN checked THEN it is %d bytes', (size, bytes) => {
    const p = new Problems('test');
    expect(rules.volumeSize(p, 'storageSize', size, '8Gi')).toBe(bytes);
    expect(p.all).toEqual([]);
  });

  test.each(['100Mi', 'lots', ''])(
    'GIVEN the volume size %j WHEN checked THEN it is refused as a Kubernetes quantity of at least 1Gi, with no unit hint',
    (size) => {
      expect(problemsOf((p) => rules.volumeSize(p, 'storageSize', size, '8Gi'))).toEqual([
        expect.stringMatching(/^storageSize: .* is not a volume size of at least 1Gi: expected a Kubernetes quantity such as 8Gi$/),
      ]);
    },
  );

  test.each<[string, string]>([
    ['5GB', '`5Gi` or `5G`'],
    ['512MB', '`512Mi` or `512M`'],
    ['1GiB', '`1Gi` or `1G`'],
    ['2 Ti', '`2Ti` or `2T`'],
    ['64kB', '`64Ki` or `64k`'],
  ])(
    'GIVEN the Postgres- or SI-style size %j WHEN checked as a volume and as memory THEN both name the two Kubernetes spellings',
    (size, hint) => {
      expect(problemsOf((p) => rules.volumeSize(p, 'storageSize', size, '8Gi'))).toEqual([
        `storageSize: ${JSON.stringify(size)} is not a volume size of at least 1Gi: expected a Kubernetes quantity such as 8Gi; did you mean ${hint}?`,
      ]);
      expect(problemsOf((p) => rules.quantity(p, 'resources.limits.memory', size, '256Mi'))).toEqual([
        `resources.limits.memory: ${JSON.stringify(size)} is not a Kubernetes quantity: expected e.g. 256Mi; did you mean ${hint}?`,
      ]);
    },
  );

  test.each([
    ['500 m', '; did you mean `500m`?'],
    ['500M', '; did you mean `500m`?'],
    ['250 millicores', '; did you mean `250m`?'],
    ['0.5cores', '; did you mean `0.5` or `500m`?'],
    ['2 CPU', '; did you mean `2` or `2000m`?'],
    ['1 vCPU', '; did you mean `1` or `1000m`?'],
    [' 2', '; did you mean `2` or `2000m`?'],
    ['two', ''],
  ])('GIVEN the CPU amount %j WHEN it is checked THEN it is refused with the Kubernetes spellings it probably meant', (value, hint) => {
    expect(problemsOf((p) => rules.cpu(p, 'resources.requests.cpu', value))).toEqual([
      `resources.requests.cpu: ${JSON.stringify(value)} is not a CPU quantity: expected e.g. 500m or 2${hint}`,
    ]);
  });

  test.each(['500m', '2', '0.5', '1.25'])('GIVEN the CPU quantity %j WHEN it is checked THEN it is accepted', (value) => {
    expect(problemsOf((p) => rules.cpu(p, 'cpu', value))).toEqual([]);
  });

  test('GIVEN a request above the limit, a bad CPU and a limit below the minimum WHEN resources are checked THEN each is reported', () => {
    const r = { requests: { cpu: 'two', memory: '1Gi' }, limits: { memory: '32Mi' } };
    expect(problemsOf((p) => rules.resources(p, 'resources', r, { minLimit: '64Mi', example: '256Mi' }))).toEqual([
      'resources.requests.cpu: "two" is not a CPU quantity: expected e.g. 500m or 2',
      'resources.limits.memory: "32Mi" is not a memory limit of at least 64Mi: expected e.g. 256Mi',
    ]);
  });

  test('GIVEN no memory limit where one is required WHEN resources are checked THEN it is required, saying why', () => {
    expect(problemsOf((p) => rules.resources(p, 'resources', {}, { limitRequired: 'the kernel kills it first', example: '1Gi' }))).toEqual([
      'resources.limits.memory: undefined is required: the kernel kills it first',
    ]);
  });
});

describe('names, prefixes and tokens', () => {
  test.each<[string, (p: Problems) => unknown, RegExp]>([
    ['an environment name with upper case', (p) => rules.environmentName(p, 'environment', 'Prod'), /is not a valid environment name/],
    ['a namespace with "_"', (p) => rules.namespace(p, 'namespace', 'caracal_dev'), /is not a namespace: expected a DNS-1123 label/],
    ['a 53-character CronJob name', (p) => rules.dnsLabel(p, 'name', 'a'.repeat(53), 'CronJob name', 52), /at most 52 characters/],
    ['a Secret name with a space', (p) => rules.secretName(p, 'secretName', 'Vault DB'), /is not a Secret name/],
    ['a Secret key with a space', (p) => rules.secretKey(p, 'passwordKey', 'pass word'), /is not a Secret key/],
    [
      'a logical-id prefix starting with a digit',
      (p) => rules.logicalIdPrefix(p, 'logicalIdPrefix', '9-stores'),
      /is not a valid logical id prefix/,
    ],
    [
      'a rotation token with a space',
      (p) => rules.rotationTokens(p, 'rotation', { api: 'a b' }, ['api'], 'login'),
      /rotation\.api: .* is not a rotation token/,
    ],
    [
      'a rotation for an unknown login',
      (p) => rules.rotationTokens(p, 'rotation', { billing: '1' }, ['api'], 'login'),
      /rotation\.billing: .* is not a login/,
    ],
    ['an empty selector', (p) => rules.podSelector(p, 'dns.podLabels', {}, 'the DNS pods'), /is an empty selector/],
    [
      'a duration below its range',
      (p) => rules.duration(p, 'lockTimeout', '10ms', { minMs: 100, maxMs: 1000, accepted: '100ms to 1s' }),
      /is out of range: expected 100ms to 1s/,
    ],
    [
      "the owner's login where the maintenance login belongs",
      (p) =>
        rules.loginOf(
          p,
          'login',
          { username: 'caracal_dev_owner', groupRole: 'caracal_owner' },
          'caracal_maintenance',
          'the maintenance login',
          'why',
        ),
      /login: "caracal_dev_owner" is a member of caracal_owner: expected the maintenance login \(a member of caracal_maintenance\); why/,
    ],
    [
      'no login at all',
      (p) => rules.loginOf(p, 'login', undefined, 'caracal_maintenance', 'the maintenance login', 'why'),
      /login: undefined is a member of no group role/,
    ],
    ['a cron schedule of four fields', (p) => rules.cronSchedule(p, 'schedule', '* * * *'), /is not a cron schedule/],
  ])("GIVEN %s WHEN checked THEN it is refused with the rule's wording", (_what, check, message) => {
    expect(problemsOf(check)).toEqual([expect.stringMatching(message)]);
  });

  test('GIVEN a prefix WHEN turned into a logical-id fragment THEN it is lower-case with "_" for the rest', () => {
    expect(rules.logicalIdPrefix(new Problems('test'), 'logicalIdPrefix', 'Caracal-Prod')).toBe('caracal_prod');
  });
});

describe('backup targets', () => {
  test.each<[string, (p: Problems) => unknown]>([
    ['https URL', (p) => rules.httpsUrl(p, 'f', 'https://minio.storage.svc:9000', 'https://s3.example.com')],
    ['https URL with a path', (p) => rules.httpsUrl(p, 'f', 'https://s3.example.com/storage', 'https://s3.example.com')],
    ['bucket', (p) => rules.bucketName(p, 'f', 'caracal.backups-1')],
    ['empty prefix', (p) => rules.objectPrefix(p, 'f', '')],
    ['prefix', (p) => rules.objectPrefix(p, 'f', 'caracal/prod/')],
    ['region', (p) => rules.regionName(p, 'f', 'eu-central-1')],
    ['gzip level', (p) => rules.pgDumpCompression(p, 'f', '9')],
    ['zstd with a level', (p) => rules.pgDumpCompression(p, 'f', 'zstd:3')],
    ['lz4', (p) => rules.pgDumpCompression(p, 'f', 'lz4')],
  ])('GIVEN a valid %s WHEN checked THEN there is no problem', (_what, check) => {
    expect(problemsOf(check)).toEqual([]);
  });

  test.each<[string, (p: Problems) => unknown, RegExp]>([
    [
      'http URL',
      (p) => rules.httpsUrl(p, 'f', 'http://s3.example.com', 'https://x'),
      /^f: "http:\/\/s3\.example\.com" is not an https URL/,
    ],
    ['URL with credentials', (p) => rules.httpsUrl(p, 'f', 'https://a:b@s3.example.com', 'https://x'), /without credentials/],
    ['URL with a query', (p) => rules.httpsUrl(p, 'f', 'https://s3.example.com/?x=1', 'https://x'), /without credentials, query/],
    ['not a URL', (p) => rules.httpsUrl(p, 'f', 's3.example.com', 'https://x'), /expected e\.g\. https:\/\/x/],
    ['short bucket', (p) => rules.bucketName(p, 'f', 'ab'), /^f: "ab" is not an S3 bucket name: expected 3 to 63/],
    ['bucket with ..', (p) => rules.bucketName(p, 'f', 'a..b'), /is not an S3 bucket name/],
    ['prefix without a trailing /', (p) => rules.objectPrefix(p, 'f', 'caracal'), /^f: "caracal" is not an object key prefix/],
    ['absolute prefix', (p) => rules.objectPrefix(p, 'f', '/caracal/'), /is not an object key prefix/],
    ['region with spaces', (p) => rules.regionName(p, 'f', 'eu central'), /^f: "eu central" is not a region name/],
    ['compression level 10', (p) => rules.pgDumpCompression(p, 'f', '10'), /^f: "10" is not a pg_dump compression/],
    ['unknown compression', (p) => rules.pgDumpCompression(p, 'f', 'xz'), /expected a gzip level 0-9, or gzip, lz4 or zstd/],
  ])('GIVEN a bad %s WHEN checked THEN the problem names the field, the value and what is accepted', (_what, check, message) => {
    const found = problemsOf(check);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });
});

describe('rules.knownKeys', () => {
  test.each<[string, string, string]>([
    ['poolmax', 'poolMax', 'a different case'],
    ['poolMx', 'poolMax', 'a letter missing'],
    ['storagesize', 'storageSize', 'a different case'],
    ['logicalIdPrefx', 'logicalIdPrefix', 'a letter missing'],
  ])('GIVEN the key %s WHEN checked against the known keys THEN the problem names it and the closest known key (%s)', (key, near) => {
    const problems = problemsOf((p) =>
      rules.knownKeys(p, 'pools.api', { [key]: 1 }, ['poolMax', 'replicas', 'storageSize', 'logicalIdPrefix'], 'pool setting'),
    );
    expect(problems).toEqual([
      `pools.api.${key}: "${key}" is not a pool setting: expected one of poolMax, replicas, storageSize, logicalIdPrefix; did you mean "${near}"?`,
    ]);
  });

  test("GIVEN a key far from every known one WHEN checked THEN no guess is offered, and a construct's own props are named without a prefix", () => {
    expect(problemsOf((p) => rules.knownKeys(p, '', { billing: 1 }, ['environment', 'namespace'], 'prop'))).toEqual([
      'billing: "billing" is not a prop: expected one of environment, namespace',
    ]);
  });

  test('GIVEN known keys only, or no object WHEN checked THEN there is no problem', () => {
    expect(problemsOf((p) => rules.knownKeys(p, 'x', { environment: 1 }, ['environment'], 'prop'))).toEqual([]);
    expect(problemsOf((p) => rules.knownKeys(p, 'x', undefined, ['environment'], 'prop'))).toEqual([]);
  });
});
