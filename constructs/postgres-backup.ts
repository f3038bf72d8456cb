// PostgresBackup: the backup CronJob. One pod per run: the Redis RDB copy (optional, the Redis image's redis-cli),
// then the backup script (common/backup-script.ts, the same text the tests run) with the server's own pg_dump from
// its pinned Postgres image as the backup login with --role=caracal_backup, onto a protected volume; then, when
// configured, rclone copies the new backup to an S3-compatible bucket. Restricted pods, egress-only NetworkPolicy.
import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { CronJobV1 } from '@cdktf/provider-kubernetes/lib/cron-job-v1';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { PersistentVolumeClaimV1 } from '@cdktf/provider-kubernetes/lib/persistent-volume-claim-v1';
import { Problems } from './errors';
import { egressOnlyPolicy } from './internal/network-policy';
import { protectedDataVolume } from './internal/data-volume';
import { PgConnection } from './internal/pg-connection';
import { PART_OF, standardLabels } from './internal/labels';
import { restrictedContainerSecurityContext } from './internal/pod-security';
import { CronJobContainer, cronRun, restrictedCronJob } from './internal/cron-job';
import * as rules from './internal/rules';
import type { Duration } from '../common/durations';
import { BACKUP_ROLE } from '../common/names';
import { BACKUP_SCRIPT } from '../common/backup-script';
import { OFFSITE_COPY_SCRIPT } from '../common/backup-offsite-copy';
import { REDIS_BACKUP_USER, REDIS_COPY_SCRIPT } from '../common/redis-backup';
import type { LoginSecretRef } from './database-secrets';
import { DEFAULT_POSTGRES_IMAGE, POSTGRES_UID, PostgresEndpoint, ResourceRequirements } from './postgres-instance';
import { checkStackIdentity } from './internal/stack-identity';

/** rclone, pinned: the off-cluster copy's image (runs as the backup's uid; needs no config file, only env). */
export const RCLONE_IMAGE = 'docker.io/rclone/rclone:1.68.2';
/** Where the backup volume is mounted in every container of the pod. */
export const BACKUP_MOUNT = '/backups';

/** Where the off-cluster copy goes: an S3-compatible bucket, credentials from an existing Secret. */
export interface OffClusterCopyProps {
  /** The S3 API endpoint, https only, e.g. `https://s3.eu-central-1.amazonaws.com` or a MinIO/Ceph/R2 URL. */
  readonly endpoint: string;
  /** The bucket (create it with versioning or object lock, and a lifecycle rule for retention). */
  readonly bucket: string;
  /** Key prefix inside the bucket: "" or segments ending in "/". @default `caracal/<environment>/` */
  readonly prefix?: string;
  /** Region of the bucket. @default 'us-east-1' (what most S3-compatible stores accept) */
  readonly region?: string;
  /** rclone's S3 provider name (`AWS`, `Minio`, `Ceph`, `Cloudflare`, `Other`, ...). @default 'Other' */
  readonly provider?: string;
  /** The Secret holding the access key pair (never rendered: env valueFrom). */
  readonly credentialsSecret: {
    readonly name: string;
    /** @default 'access-key-id' */
    readonly accessKeyIdKey?: string;
    /** @default 'secret-access-key' */
    readonly secretAccessKeyKey?: string;
  };
  /** rclone image, pinned. @default RCLONE_IMAGE */
  readonly image?: string;
}

/** The Redis whose RDB is copied into each backup (redis-cli --rdb as the replicate-only `backup` ACL user). */
export interface BackupRedisSource {
  readonly host: string;
  readonly port: number;
  /** The `backup` ACL user's Secret (its key holds the password). */
  readonly passwordSecret: { readonly secretName: string; readonly passwordKey: string };
  /** Labels of the Redis pods: egress goes to them only. */
  readonly podSelector: Readonly<Record<string, string>>;
  /** Redis image with redis-cli, pinned. */
  readonly image: string;
  /** uid of the Redis image's user. @default 999 */
  readonly runAsUser?: number;
}

export interface PostgresBackupProps {
  /** Environment name (labels). */
  readonly environment: string;
  /** Namespace of the CronJob, its volume and the login's Secret. */
  readonly namespace: string;
  /** Where the database is. */
  readonly endpoint: PostgresEndpoint;
  /**
   * The backup login (`caracal_<env>_backup`, a member of caracal_backup, created by the migration Job). The script
   * runs pg_dump with --role=caracal_backup: BYPASSRLS is the role's own and is not inherited through membership.
   */
  readonly login: LoginSecretRef;
  /** Image with pg_dump, pinned: the server's own image (pg_dump must be the server's major or newer). @default the Postgres image of PostgresInstance */
  readonly image?: string;
  /** uid of the image's user. @default 999 */
  readonly runAsUser?: number;
  /** Cron schedule. @default '30 2 * * *' (daily, 02:30) */
  readonly schedule?: string;
  /** Time zone of the schedule. @default 'Etc/UTC' */
  readonly timeZone?: string;
  /** pg_dump --jobs (parallel table dumps; one more connection each). @default 2 */
  readonly jobs?: number;
  /** pg_dump --compress. @default '6' (gzip level 6) */
  readonly compress?: string;
  /** Finished backups kept, newest first. @default 7 */
  readonly keepCount?: number;
  /** Backups older than this go (never the newest); whole days. @default '14d' */
  readonly keepAge?: Duration;
  /** pg_dump --lock-wait-timeout: give up rather than queue behind a long ACCESS EXCLUSIVE lock. @default '120s' */
  readonly lockWait?: Duration;
  /** Size of the backup volume (room for keepCount backups plus one in progress). @default '50Gi' */
  readonly storageSize?: string;
  /** Storage class of the backup volume. @default the cluster's default class */
  readonly storageClassName?: string;
  /** Kill a run after this long (whole seconds). @default '3h' */
  readonly activeDeadline?: Duration;
  /** A run that could not start within this long of its schedule is skipped (whole seconds). @default '1h' */
  readonly startingDeadline?: Duration;
  /** Retries of a failed run. @default 1 */
  readonly backoffLimit?: number;
  /** Resources of the backup container. @default requests 100m/256Mi, limits memory 1Gi */
  readonly resources?: ResourceRequirements;
  /** Name of the CronJob (and prefix of its volume and policy). @default 'caracal-postgres-backup' */
  readonly name?: string;
  /** Copy each backup to an S3-compatible bucket. @default none (the backup stays on the cluster volume) */
  readonly offClusterCopy?: OffClusterCopyProps;
  /** Copy Redis's RDB into each backup, on the same schedule. @default none */
  readonly redis?: BackupRedisSource;
  /** Pod selector of an in-cluster database: egress then goes to it only (plus DNS). @default any address on the port */
  readonly databasePodSelector?: Readonly<Record<string, string>>;
  /** Prefix of the volume's fixed Terraform logical id. @default 'caracal' */
  readonly logicalIdPrefix?: string;
  /** Resources the CronJob is created after (the database, the migration Job that provisions the login). @default none */
  readonly dependsOn?: ITerraformDependable[];
}

const DAY_MS = 86_400_000;
const LOGIN_DIR = '/var/run/secrets/caracal/backup';
const CA_DIR = '/var/run/secrets/caracal/db-ca';
const REDIS_SECRET_DIR = '/var/run/secrets/caracal/redis-backup';
const RCLONE_REMOTE = ':s3:';

/** Every prop of PostgresBackupProps: a key not among them (from JavaScript) is an error naming the closest. */
const PROPS = rules.keysOf<PostgresBackupProps>({
  environment: true,
  namespace: true,
  endpoint: true,
  login: true,
  image: true,
  runAsUser: true,
  schedule: true,
  timeZone: true,
  jobs: true,
  compress: true,
  keepCount: true,
  keepAge: true,
  lockWait: true,
  storageSize: true,
  storageClassName: true,
  activeDeadline: true,
  startingDeadline: true,
  backoffLimit: true,
  resources: true,
  name: true,
  offClusterCopy: true,
  redis: true,
  databasePodSelector: true,
  logicalIdPrefix: true,
  dependsOn: true,
});
const COPY_PROPS = rules.keysOf<OffClusterCopyProps>({
  endpoint: true,
  bucket: true,
  prefix: true,
  region: true,
  provider: true,
  credentialsSecret: true,
  image: true,
});

export class PostgresBackup extends Construct {
  /** Labels of the backup's pods: admit them in the database's (and Redis's) NetworkPolicy. */
  static podSelector(environment: string): Record<string, string> {
    return {
      'app.kubernetes.io/instance': `caracal-${environment}`,
      'app.kubernetes.io/component': 'backup',
      'app.kubernetes.io/part-of': PART_OF,
    };
  }

  readonly cronJob: CronJobV1;
  /** The backup volume (prevent_destroy, fixed logical id). */
  readonly volume: PersistentVolumeClaimV1;
  readonly networkPolicy: NetworkPolicyV1;
  readonly podSelector: Readonly<Record<string, string>>;
  /** The CronJob's name (kube-state-metrics' `cronjob` label: the backup age alert reads it). */
  readonly name: string;
  /** The backup volume's claim name. */
  readonly volumeName: string;

  constructor(scope: Construct, id: string, props: PostgresBackupProps) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'PostgresBackup prop');
    rules.knownKeys(problems, 'offClusterCopy', props.offClusterCopy, COPY_PROPS, 'prop of offClusterCopy');
    const name = props.name ?? 'caracal-postgres-backup';
    const image = props.image ?? DEFAULT_POSTGRES_IMAGE;
    const jobs = props.jobs ?? 2;
    const compress = props.compress ?? '6';
    const keepCount = props.keepCount ?? 7;
    const storageSize = props.storageSize ?? '50Gi';
    const resources = props.resources ?? { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } };

    rules.environmentName(problems, 'environment', props.environment);
    rules.namespace(problems, 'namespace', props.namespace);
    const idPrefix = rules.logicalIdPrefix(problems, 'logicalIdPrefix', props.logicalIdPrefix);
    // Kubernetes adds 11 characters to a CronJob's name for its Jobs, within the 63 of a label.
    rules.dnsLabel(problems, 'name', name, 'CronJob name', 52);
    rules.pinnedImage(problems, 'image', image);
    const run = cronRun(problems, props, { runAsUser: POSTGRES_UID, schedule: '30 2 * * *', activeDeadline: '3h', startingDeadline: '1h' });
    const uid = run.runAsUser;
    rules.integer(problems, 'jobs', jobs, 1, 16, 'pg_dump parallel jobs, each one more connection');
    rules.pgDumpCompression(problems, 'compress', compress);
    rules.integer(problems, 'keepCount', keepCount, 1, 1000, 'finished backups kept');
    const keepAgeMs = rules.duration(problems, 'keepAge', props.keepAge ?? '14d', {
      minMs: DAY_MS,
      maxMs: 3650 * DAY_MS,
      accepted: 'whole days from 1d to 3650d',
    });
    if (keepAgeMs !== undefined && keepAgeMs % DAY_MS !== 0)
      problems.add('keepAge', props.keepAge, 'is not a whole number of days: expected e.g. 14d (retention runs per day)');
    const lockWait = rules.durationSeconds(problems, 'lockWait', props.lockWait ?? '120s', 1, 3600, 'pg_dump --lock-wait-timeout');
    rules.volumeSize(problems, 'storageSize', storageSize, '50Gi');
    rules.storageClassName(problems, 'storageClassName', props.storageClassName);
    rules.resources(problems, 'resources', resources, { limitRequired: 'expected a quantity such as 1Gi', example: '1Gi' });
    if (props.databasePodSelector !== undefined)
      rules.podSelector(problems, 'databasePodSelector', props.databasePodSelector, "the database pods' labels");
    rules.loginOf(
      problems,
      'login',
      props.login,
      BACKUP_ROLE,
      'the backup login',
      'only caracal_backup may read every row (BYPASSRLS), and the owner login could change what it backs up',
    );
    const copy = props.offClusterCopy;
    let s3Url: URL | undefined;
    if (copy) {
      s3Url = rules.httpsUrl(problems, 'offClusterCopy.endpoint', copy.endpoint, 'https://s3.eu-central-1.amazonaws.com');
      rules.bucketName(problems, 'offClusterCopy.bucket', copy.bucket);
      rules.objectPrefix(problems, 'offClusterCopy.prefix', copy.prefix ?? `caracal/${props.environment}/`);
      rules.regionName(problems, 'offClusterCopy.region', copy.region ?? 'us-east-1');
      if (copy.provider !== undefined && !/^[A-Za-z][A-Za-z0-9]{1,31}$/.test(copy.provider))
        problems.add(
          'offClusterCopy.provider',
          copy.provider,
          'is not an rclone S3 provider name: expected e.g. AWS, Minio, Ceph, Cloudflare or Other',
        );
      rules.secretName(problems, 'offClusterCopy.credentialsSecret.name', copy.credentialsSecret?.name);
      rules.secretKey(
        problems,
        'offClusterCopy.credentialsSecret.accessKeyIdKey',
        copy.credentialsSecret?.accessKeyIdKey ?? 'access-key-id',
      );
      rules.secretKey(
        problems,
        'offClusterCopy.credentialsSecret.secretAccessKeyKey',
        copy.credentialsSecret?.secretAccessKeyKey ?? 'secret-access-key',
      );
      rules.pinnedImage(problems, 'offClusterCopy.image', copy.image ?? RCLONE_IMAGE);
    }
    const redis = props.redis;
    if (redis) {
      rules.hostName(problems, 'redis.host', redis.host);
      rules.port(problems, 'redis.port', redis.port);
      rules.secretName(problems, 'redis.passwordSecret.secretName', redis.passwordSecret.secretName);
      rules.secretKey(problems, 'redis.passwordSecret.passwordKey', redis.passwordSecret.passwordKey);
      rules.podSelector(problems, 'redis.podSelector', redis.podSelector, "the Redis pods' labels");
      rules.pinnedImage(problems, 'redis.image', redis.image);
      rules.nonRootUid(problems, 'redis.runAsUser', redis.runAsUser ?? POSTGRES_UID);
    }
    problems.throwIfAny();

    this.name = name;
    this.volumeName = `${name}-volume`;
    this.podSelector = PostgresBackup.podSelector(props.environment);
    const labels = {
      ...standardLabels({ name: 'caracal-postgres-backup', instance: `caracal-${props.environment}`, component: 'backup' }),
      ...this.podSelector,
    };

    // The backups outlive any CronJob change: their own claim, a fixed address, prevent_destroy.
    this.volume = protectedDataVolume(this, 'volume', {
      name: this.volumeName,
      namespace: props.namespace,
      labels,
      storageClassName: props.storageClassName,
      storageSize,
      logicalId: `${idPrefix}_postgres_backup_volume`,
    });

    const redisDir = `${BACKUP_MOUNT}/.redis`;
    const connection = new PgConnection({
      endpoint: props.endpoint,
      login: props.login,
      password: { volume: 'backup-login', dir: LOGIN_DIR },
      ca: { volume: 'db-ca', dir: CA_DIR },
      extraEnv: [
        { name: 'PGCONNECT_TIMEOUT', value: '10' },
        { name: 'PGAPPNAME', value: name },
        { name: 'BACKUP_ROOT', value: BACKUP_MOUNT },
        { name: 'BACKUP_ROLE', value: BACKUP_ROLE },
        { name: 'BACKUP_JOBS', value: String(jobs) },
        { name: 'BACKUP_COMPRESS', value: compress },
        { name: 'BACKUP_KEEP_COUNT', value: String(keepCount) },
        { name: 'BACKUP_KEEP_DAYS', value: String((keepAgeMs ?? 0) / DAY_MS) },
        { name: 'BACKUP_LOCK_WAIT', value: `${lockWait}s` },
        ...(redis ? [{ name: 'BACKUP_REDIS_DIR', value: redisDir }] : []),
      ],
    });

    const backupsMount = (readOnly: boolean) => ({ name: 'backups', mountPath: BACKUP_MOUNT, readOnly });
    const tmpMount = { name: 'tmp', mountPath: '/tmp' };
    const sec = (runAsUser: number) => restrictedContainerSecurityContext({ runAsUser, runAsGroup: uid, readOnlyRootFilesystem: true });
    const limits = { requests: { ...resources.requests }, limits: { ...resources.limits } };
    const small = { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } };

    const backup: CronJobContainer = {
      name: 'backup',
      image,
      imagePullPolicy: 'IfNotPresent',
      // The one program of the backup (common/backup-script.ts): the tests run this same text.
      command: ['bash', '-c', BACKUP_SCRIPT],
      env: connection.env.map((e) => ({ ...e })),
      resources: limits,
      securityContext: sec(uid),
      volumeMount: [backupsMount(false), tmpMount, ...connection.mounts.map((m) => ({ ...m }))],
    };
    const redisCopy: CronJobContainer | undefined = redis && {
      name: 'redis-copy',
      image: redis.image,
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', '-c', REDIS_COPY_SCRIPT],
      env: [
        { name: 'BACKUP_REDIS_DIR', value: redisDir },
        { name: 'REDIS_HOST', value: redis.host },
        { name: 'REDIS_PORT', value: String(redis.port) },
        { name: 'REDIS_USER', value: REDIS_BACKUP_USER },
        { name: 'REDIS_PASSWORD_FILE', value: `${REDIS_SECRET_DIR}/${redis.passwordSecret.passwordKey}` },
      ],
      resources: small,
      securityContext: sec(redis.runAsUser ?? POSTGRES_UID),
      volumeMount: [backupsMount(false), tmpMount, { name: 'redis-backup-user', mountPath: REDIS_SECRET_DIR, readOnly: true }],
    };
    const offsite: CronJobContainer | undefined = copy && {
      name: 'offsite-copy',
      image: copy.image ?? RCLONE_IMAGE,
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', '-c', OFFSITE_COPY_SCRIPT],
      env: [
        { name: 'BACKUP_ROOT', value: BACKUP_MOUNT },
        { name: 'BACKUP_REMOTE', value: RCLONE_REMOTE },
        { name: 'BACKUP_BUCKET', value: copy.bucket },
        { name: 'BACKUP_PREFIX', value: copy.prefix ?? `caracal/${props.environment}/` },
        { name: 'RCLONE_CONFIG', value: '/tmp/rclone.conf' },
        { name: 'HOME', value: '/tmp' },
        { name: 'RCLONE_S3_PROVIDER', value: copy.provider ?? 'Other' },
        { name: 'RCLONE_S3_ENDPOINT', value: copy.endpoint },
        { name: 'RCLONE_S3_REGION', value: copy.region ?? 'us-east-1' },
        { name: 'RCLONE_S3_ENV_AUTH', value: 'true' },
        // References only: the key pair is never in the synthesized JSON.
        {
          name: 'AWS_ACCESS_KEY_ID',
          valueFrom: { secretKeyRef: { name: copy.credentialsSecret.name, key: copy.credentialsSecret.accessKeyIdKey ?? 'access-key-id' } },
        },
        {
          name: 'AWS_SECRET_ACCESS_KEY',
          valueFrom: {
            secretKeyRef: { name: copy.credentialsSecret.name, key: copy.credentialsSecret.secretAccessKeyKey ?? 'secret-access-key' },
          },
        },
      ],
      resources: small,
      securityContext: sec(uid),
      volumeMount: [backupsMount(true), tmpMount],
    };
    // Init containers run in order and each must succeed: the Redis copy, then the backup; the copy off the cluster
    // last. Without it the backup is the pod's one container.
    const initContainers = [redisCopy, offsite ? backup : undefined].filter((c) => c !== undefined);
    const containers = [offsite ?? backup];

    this.cronJob = restrictedCronJob(this, 'cron-job', {
      dependsOn: props.dependsOn,
      name,
      namespace: props.namespace,
      labels,
      ...run,
      initContainers,
      containers,
      volumes: [
        { name: 'backups', persistentVolumeClaim: { claimName: this.volume.metadata.name } },
        { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
        ...connection.providerVolumes(),
        ...(redis
          ? [
              {
                name: 'redis-backup-user',
                secret: {
                  secretName: redis.passwordSecret.secretName,
                  items: [{ key: redis.passwordSecret.passwordKey, path: redis.passwordSecret.passwordKey }],
                  defaultMode: '0440',
                },
              },
            ]
          : []),
      ],
    });

    // No ingress; egress to the database, DNS, and (when configured) Redis and the bucket's port.
    this.networkPolicy = egressOnlyPolicy(this, 'network-policy', {
      name,
      namespace: props.namespace,
      labels,
      podSelector: { ...this.podSelector },
      database: { port: props.endpoint.port, pods: props.databasePodSelector && { ...props.databasePodSelector } },
      alsoTo: [...(redis ? [{ port: redis.port, pods: redis.podSelector }] : []), ...(s3Url ? [{ port: Number(s3Url.port || 443) }] : [])],
    });
  }
}
