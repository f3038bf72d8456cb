// PostgresBackup: the CronJob (schedule, Forbid, deadlines), the one backup script from common/, the backup login's
// password as a file, the protected volume, the restricted pod with the Redis and off-cluster steps, the egress-only
// NetworkPolicy, the objects against the Kubernetes schema, and bad props. (Its command runs for real in
// test/integration/constructs/postgres-backup.test.ts.)
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { BACKUP_SCRIPT } from '../../../common/backup-script';
import { OFFSITE_COPY_SCRIPT } from '../../../common/backup-offsite-copy';
import { REDIS_COPY_SCRIPT } from '../../../common/redis-backup';
import { PostgresBackup, PostgresBackupProps, RCLONE_IMAGE } from '../../../constructs/postgres-backup';
import { checkTerraformJson, formatViolations, fromTerraformShape } from '../../support/pod-security';
import { Json, only, scope, synthScope } from '../../support/synth';

const BACKUP_LOGIN = {
  login: 'backup' as const,
  username: 'caracal_dev_backup',
  groupRole: 'caracal_backup',
  secretName: 'caracal-db-backup',
  usernameKey: 'username',
  passwordKey: 'password',
  version: 'generated:32:0',
};
const OWNER = { ...BACKUP_LOGIN, login: 'owner' as const, username: 'caracal_dev_owner', groupRole: 'caracal_owner' };
const ENDPOINT = { host: 'postgres.caracal-dev.svc.cluster.local', port: 5432, database: 'caracal', sslMode: 'disable' as const };
const base: PostgresBackupProps = {
  environment: 'dev',
  namespace: 'caracal-dev',
  login: BACKUP_LOGIN,
  endpoint: ENDPOINT,
  databasePodSelector: { 'app.kubernetes.io/name': 'postgres' },
};
const REDIS = {
  host: 'redis.caracal-dev.svc.cluster.local',
  port: 6379,
  passwordSecret: { secretName: 'caracal-redis-backup', passwordKey: 'password' },
  podSelector: { 'app.kubernetes.io/name': 'redis' },
  image: 'docker.io/library/redis:7.2.16-bookworm',
};
const S3 = {
  endpoint: 'https://s3.eu-central-1.amazonaws.com',
  bucket: 'caracal-backups',
  region: 'eu-central-1',
  credentialsSecret: { name: 'caracal-backup-s3' },
};

function synth(extra: Partial<PostgresBackupProps> = {}): { json: Json; text: string } {
  return synthScope((s) => new PostgresBackup(s, 'backup', { ...base, ...extra }));
}
const podSpec = (json: Json) => only(json, 'kubernetes_cron_job_v1').spec.job_template.spec.template.spec;
const envOf = (c: Json) => Object.fromEntries(c.env.map((e: Json) => [e.name, e.value ?? e.value_from]));

/** The provider's shape in the Kubernetes API's (numbers the provider keeps as strings, its singular block names). */
function apiShape(value: unknown): unknown {
  const fix = (v: unknown, key = ''): unknown => {
    if (Array.isArray(v)) return v.map((x) => fix(x, key));
    if (typeof v !== 'object' || v === null) {
      if (['runAsUser', 'runAsGroup', 'fsGroup'].includes(key)) return Number(v);
      if (key === 'defaultMode') return parseInt(String(v), 8);
      return v;
    }
    const out: Json = {};
    for (const [k, x] of Object.entries(v as Json)) {
      const name = k === 'volumeMount' ? 'volumeMounts' : k === 'timezone' ? 'timeZone' : k;
      out[name] = k === 'labels' || k === 'matchLabels' || k === 'annotations' ? x : fix(x, k);
    }
    return out;
  };
  return fix(fromTerraformShape(value));
}

describe('PostgresBackup', () => {
  test('GIVEN defaults WHEN synthesized THEN the CronJob runs daily in UTC, never concurrently, with starting and active deadlines and no restarts', () => {
    const spec = only(synth().json, 'kubernetes_cron_job_v1').spec;

    expect(spec).toMatchObject({
      schedule: '30 2 * * *',
      timezone: 'Etc/UTC',
      concurrency_policy: 'Forbid',
      starting_deadline_seconds: 3600,
    });
    expect(spec.job_template.spec).toMatchObject({ active_deadline_seconds: 10800, backoff_limit: 1 });
    expect(spec.job_template.spec.template.spec.restart_policy).toBe('Never');
  });

  test('GIVEN defaults WHEN the container is read THEN it runs the one backup script with bash from the pinned Postgres image, as the backup login with its password file and caracal_backup', () => {
    const spec = podSpec(synth().json);
    const c = spec.container[0];

    expect(spec.init_container).toBeUndefined();
    expect(c.image).toMatch(/^docker\.io\/library\/postgres:\d+\.\d+-bookworm$/);
    expect(c.command).toEqual(['bash', '-c', BACKUP_SCRIPT]);
    expect(envOf(c)).toMatchObject({
      PGUSER: 'caracal_dev_backup',
      PGPASSWORD_FILE: '/var/run/secrets/caracal/backup/password',
      BACKUP_ROOT: '/backups',
      BACKUP_ROLE: 'caracal_backup',
      BACKUP_JOBS: '2',
      BACKUP_COMPRESS: '6',
      BACKUP_KEEP_COUNT: '7',
      BACKUP_KEEP_DAYS: '14',
      BACKUP_LOCK_WAIT: '120s',
    });
    expect(envOf(c).PGPASSWORD).toBeUndefined();
    expect(envOf(c).BACKUP_REDIS_DIR).toBeUndefined();
    expect(c.volume_mount.map((m: Json) => [m.name, m.mount_path, m.read_only])).toEqual([
      ['backups', '/backups', false],
      ['tmp', '/tmp', undefined],
      ['backup-login', '/var/run/secrets/caracal/backup', true],
    ]);
  });

  test('GIVEN props WHEN synthesized THEN jobs, compression, retention and the lock wait reach the script as its variables', () => {
    const c = podSpec(synth({ jobs: 4, compress: 'zstd:3', keepCount: 30, keepAge: '35d', lockWait: '5min' }).json).container[0];

    expect(envOf(c)).toMatchObject({
      BACKUP_JOBS: '4',
      BACKUP_COMPRESS: 'zstd:3',
      BACKUP_KEEP_COUNT: '30',
      BACKUP_KEEP_DAYS: '35',
      BACKUP_LOCK_WAIT: '300s',
    });
  });

  test('GIVEN defaults WHEN the volume is read THEN it is its own claim at a fixed address with prevent_destroy, mounted by the pod', () => {
    const { json } = synth({ storageSize: '100Gi', storageClassName: 'fast-ssd' });
    const pvcs = json.resource.kubernetes_persistent_volume_claim_v1;

    expect(Object.keys(pvcs)).toEqual(['caracal_postgres_backup_volume']);
    const pvc = pvcs.caracal_postgres_backup_volume;
    expect(pvc.lifecycle.prevent_destroy).toBe(true);
    expect(pvc.spec).toMatchObject({ storage_class_name: 'fast-ssd', resources: { requests: { storage: '100Gi' } } });
    expect(pvc.metadata.name).toBe('caracal-postgres-backup-volume');
    expect(podSpec(json).volume[0]).toEqual({
      name: 'backups',
      persistent_volume_claim: { claim_name: '${kubernetes_persistent_volume_claim_v1.caracal_postgres_backup_volume.metadata[0].name}' },
    });
  });

  test.each([
    ['defaults', {}, 1],
    ['the Redis copy and the off-cluster copy', { redis: REDIS, offClusterCopy: S3 }, 1],
  ])(
    'GIVEN %s WHEN the pod is checked against Pod Security "restricted" THEN there is no violation and the hardening holds',
    (_n, extra, pods) => {
      const report = checkTerraformJson(synth(extra).text);

      expect(report.pods).toHaveLength(pods);
      expect(formatViolations(report.violations)).toBe('');
      expect(report.hardening).toEqual([]);
    },
  );

  test('GIVEN the Redis copy WHEN synthesized THEN redis-cli copies the RDB first, as the backup ACL user with its password file, into the directory the backup script reads', () => {
    const spec = podSpec(synth({ redis: REDIS }).json);
    const [redis] = spec.init_container;

    expect(spec.init_container.map((c: Json) => c.name)).toEqual(['redis-copy']);
    expect(spec.container.map((c: Json) => c.name)).toEqual(['backup']);
    expect(redis.image).toBe(REDIS.image);
    expect(redis.command).toEqual(['sh', '-c', REDIS_COPY_SCRIPT]);
    expect(envOf(redis)).toEqual({
      BACKUP_REDIS_DIR: '/backups/.redis',
      REDIS_HOST: REDIS.host,
      REDIS_PORT: '6379',
      REDIS_USER: 'backup',
      REDIS_PASSWORD_FILE: '/var/run/secrets/caracal/redis-backup/password',
    });
    expect(envOf(spec.container[0]).BACKUP_REDIS_DIR).toBe('/backups/.redis');
    expect(spec.volume.find((v: Json) => v.name === 'redis-backup-user').secret).toEqual({
      secret_name: 'caracal-redis-backup',
      items: [{ key: 'password', path: 'password' }],
      default_mode: '0440',
    });
  });

  test('GIVEN the off-cluster copy WHEN synthesized THEN rclone from its pinned image copies LATEST last, reading the volume read-only, with the key pair only referenced', () => {
    const { json, text } = synth({ redis: REDIS, offClusterCopy: { ...S3, prefix: 'stores/dev/' } });
    const spec = podSpec(json);
    const rclone = spec.container[0];

    expect(spec.init_container.map((c: Json) => c.name)).toEqual(['redis-copy', 'backup']);
    expect(spec.container.map((c: Json) => c.name)).toEqual(['offsite-copy']);
    expect(rclone.image).toBe(RCLONE_IMAGE);
    expect(rclone.command).toEqual(['sh', '-c', OFFSITE_COPY_SCRIPT]);
    expect(envOf(rclone)).toMatchObject({
      BACKUP_ROOT: '/backups',
      BACKUP_REMOTE: ':s3:',
      BACKUP_BUCKET: 'caracal-backups',
      BACKUP_PREFIX: 'stores/dev/',
      RCLONE_S3_PROVIDER: 'Other',
      RCLONE_S3_ENDPOINT: S3.endpoint,
      RCLONE_S3_REGION: 'eu-central-1',
      RCLONE_S3_ENV_AUTH: 'true',
      AWS_ACCESS_KEY_ID: { secret_key_ref: { name: 'caracal-backup-s3', key: 'access-key-id' } },
      AWS_SECRET_ACCESS_KEY: { secret_key_ref: { name: 'caracal-backup-s3', key: 'secret-access-key' } },
    });
    expect(rclone.volume_mount.find((m: Json) => m.name === 'backups').read_only).toBe(true);
    expect(text).not.toMatch(/AKIA|aws_secret_access_key\s*=/i);
  });

  test('GIVEN an in-cluster database, Redis and a bucket WHEN synthesized THEN the policy admits nothing in and lets the pod reach only the database pods, DNS, the Redis pods and the bucket port', () => {
    const np = only(synth({ redis: REDIS, offClusterCopy: S3 }).json, 'kubernetes_network_policy_v1').spec;

    expect(np.policy_types).toEqual(['Ingress', 'Egress']);
    expect(np.ingress).toBeUndefined();
    expect(np.egress[0]).toEqual({
      to: [{ pod_selector: { match_labels: { 'app.kubernetes.io/name': 'postgres' } } }],
      ports: [{ port: '5432', protocol: 'TCP' }],
    });
    expect(np.egress[1].ports.map((p: Json) => p.port)).toEqual(['53', '53']);
    expect(np.egress[2]).toEqual({
      to: [{ pod_selector: { match_labels: { 'app.kubernetes.io/name': 'redis' } } }],
      ports: [{ port: '6379', protocol: 'TCP' }],
    });
    expect(np.egress[3]).toEqual({ ports: [{ port: '443', protocol: 'TCP' }] });
    expect(np.pod_selector.match_labels).toEqual(PostgresBackup.podSelector('dev'));
  });

  test('GIVEN the CronJob, its volume and its policy WHEN validated against the Kubernetes schema THEN each is valid', () => {
    const { json } = synth({ redis: REDIS, offClusterCopy: S3 });
    const cron = only(json, 'kubernetes_cron_job_v1');
    const pvc = only(json, 'kubernetes_persistent_volume_claim_v1');
    const np = only(json, 'kubernetes_network_policy_v1');

    expect(() => new CronJob(apiShape({ metadata: cron.metadata, spec: cron.spec }) as never).validate()).not.toThrow();
    expect(() => new PersistentVolumeClaim(apiShape({ metadata: pvc.metadata, spec: pvc.spec }) as never).validate()).not.toThrow();
    expect(() => new NetworkPolicy(apiShape({ metadata: np.metadata, spec: np.spec }) as never).validate()).not.toThrow();
  });

  test('GIVEN the same props twice WHEN synthesized THEN the output is byte-identical', () => {
    expect(synth({ redis: REDIS, offClusterCopy: S3 }).text).toBe(synth({ redis: REDIS, offClusterCopy: S3 }).text);
  });

  test.each<[string, Partial<PostgresBackupProps>, RegExp]>([
    ['schedule', { schedule: 'nightly' }, /schedule: "nightly" is not a cron schedule/],
    ['timeZone', { timeZone: 'UTC+2' }, /timeZone: "UTC\+2" is not an IANA time zone/],
    ['image', { image: 'postgres:latest' }, /image: "postgres:latest" is not a pinned image reference/],
    ['jobs', { jobs: 0 }, /jobs: 0 is out of range: expected an integer from 1 to 16/],
    [
      'compress',
      { compress: 'brotli' },
      /compress: "brotli" is not a pg_dump compression: expected a gzip level 0-9, or gzip, lz4 or zstd/,
    ],
    ['keepCount', { keepCount: 0 }, /keepCount: 0 is out of range: expected an integer from 1 to 1000/],
    ['keepAge unit', { keepAge: '2w' as never }, /keepAge: "2w" is not a duration/],
    ['keepAge below a day', { keepAge: '12h' }, /keepAge: "12h" is out of range: expected whole days from 1d to 3650d/],
    ['keepAge not whole days', { keepAge: '36h' }, /keepAge: "36h" is not a whole number of days/],
    ['lockWait', { lockWait: '0s' }, /lockWait: "0s" is out of range/],
    ['activeDeadline', { activeDeadline: '10s' }, /activeDeadline: "10s" is out of range/],
    [
      'storageSize',
      { storageSize: '50GB' },
      /storageSize: "50GB" is not a volume size of at least 1Gi: expected a Kubernetes quantity such as 50Gi; did you mean `50Gi` or `50G`\?/,
    ],
    ['storageClassName', { storageClassName: 'Fast_SSD' }, /storageClassName: "Fast_SSD"/],
    ['resources', { resources: { requests: { memory: '256Mi' } } }, /resources\.limits\.memory/],
    ['name', { name: 'x'.repeat(53) }, /name: "x{53}" is not a CronJob name: expected a DNS-1123 label/],
    [
      'owner login',
      { login: OWNER },
      /login: "caracal_dev_owner" is a member of caracal_owner: expected the backup login \(a member of caracal_backup\)/,
    ],
    ['databasePodSelector', { databasePodSelector: {} }, /databasePodSelector: \{\} is an empty selector/],
    [
      'S3 endpoint',
      { offClusterCopy: { ...S3, endpoint: 'http://minio:9000' } },
      /offClusterCopy\.endpoint: "http:\/\/minio:9000" is not an https URL/,
    ],
    [
      'S3 endpoint with credentials',
      { offClusterCopy: { ...S3, endpoint: 'https://key:secret@s3.example.com' } },
      /offClusterCopy\.endpoint: "https:\/\/key:secret@s3\.example\.com" is not an https URL without credentials/,
    ],
    [
      'S3 bucket',
      { offClusterCopy: { ...S3, bucket: 'Caracal_Backups' } },
      /offClusterCopy\.bucket: "Caracal_Backups" is not an S3 bucket name/,
    ],
    ['S3 prefix', { offClusterCopy: { ...S3, prefix: '/backups' } }, /offClusterCopy\.prefix: "\/backups" is not an object key prefix/],
    [
      'S3 prefix with ..',
      { offClusterCopy: { ...S3, prefix: 'a/../b/' } },
      /offClusterCopy\.prefix: "a\/\.\.\/b\/" is not an object key prefix/,
    ],
    ['S3 region', { offClusterCopy: { ...S3, region: 'EU Central' } }, /offClusterCopy\.region: "EU Central" is not a region name/],
    [
      'S3 provider',
      { offClusterCopy: { ...S3, provider: 'my provider' } },
      /offClusterCopy\.provider: "my provider" is not an rclone S3 provider name/,
    ],
    [
      'S3 credentials Secret',
      { offClusterCopy: { ...S3, credentialsSecret: { name: 'Creds', secretAccessKeyKey: 'a key' } } },
      /offClusterCopy\.credentialsSecret\.name: "Creds"[\s\S]*offClusterCopy\.credentialsSecret\.secretAccessKeyKey: "a key"/,
    ],
    [
      'rclone image',
      { offClusterCopy: { ...S3, image: 'rclone/rclone' } },
      /offClusterCopy\.image: "rclone\/rclone" is not a pinned image reference/,
    ],
    ['Redis image', { redis: { ...REDIS, image: 'redis:latest' } }, /redis\.image: "redis:latest" is not a pinned image reference/],
    ['Redis port', { redis: { ...REDIS, port: 0 } }, /redis\.port: 0 is not a TCP port/],
    ['Redis selector', { redis: { ...REDIS, podSelector: {} } }, /redis\.podSelector: \{\} is an empty selector/],
    [
      'prop name (from JavaScript)',
      { keepcount: 3 } as Partial<PostgresBackupProps>,
      /keepcount: "keepcount" is not a PostgresBackup prop: .*did you mean "keepCount"\?/,
    ],
    [
      'off-cluster copy key (from JavaScript)',
      { offClusterCopy: { ...S3, bucekt: 'b' } } as Partial<PostgresBackupProps>,
      /offClusterCopy\.bucekt: "bucekt" is not a prop of offClusterCopy: .*did you mean "bucket"\?/,
    ],
  ])('GIVEN a bad %s WHEN constructed THEN a ValidationError names the prop, the value and what is accepted', (_n, extra, message) => {
    expect(() => new PostgresBackup(scope(), 'backup', { ...base, ...extra })).toThrow(message);
  });

  test('GIVEN several bad props WHEN constructed THEN one error lists them all', () => {
    expect(() => new PostgresBackup(scope(), 'backup', { ...base, schedule: 'x', jobs: 99, keepCount: -1 })).toThrow(
      /backup: 3 problems\n {2}- schedule: "x"[^\n]*\n {2}- jobs: 99[^\n]*\n {2}- keepCount: -1/,
    );
  });
});
