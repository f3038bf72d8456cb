// PostgresInstance: Caracal's Postgres, either in the cluster (a StatefulSet of the official image on
// a protected volume, locked down by NetworkPolicy) or an external / managed endpoint. Both expose one endpoint.
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { PersistentVolumeClaimV1 } from '@cdktf/provider-kubernetes/lib/persistent-volume-claim-v1';
import { protectedDataVolume } from './internal/data-volume';
import { storeNetworkPolicy } from './internal/network-policy';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { Problems } from './errors';
import { selectorLabels, standardLabels } from './internal/labels';
import { defaultClients } from './internal/default-clients';
import { AdmittingStore, ClientAdmission, ClientWorkload, admitClient } from './connections';
import { HARDENED_POD_SPEC, restrictedContainerSecurityContext, restrictedPodSecurityContext } from './internal/pod-security';
import { SSL_MODES, SslMode, type ServiceName } from '../common/names';
import * as rules from './internal/rules';
import type { Duration } from '../common/durations';
import { PostgresCapacity, ResolvedCapacity } from './postgres-capacity';
import { LoginSecretRef } from './database-secrets';
import { CaCertSecretRef, ExternalPostgres, ExternalPostgresProps } from './external-postgres';
import type { IPostgresDatabase, PostgresEndpoint } from './postgres-database';
import { checkStackIdentity } from './internal/stack-identity';

export { SSL_MODES };
export type { SslMode };

export type { CaCertSecretRef, ExternalPostgresProps };
export type { PostgresEndpoint };

/** Container resources (Kubernetes quantities). */
export interface ResourceRequirements {
  readonly requests?: { readonly cpu?: string; readonly memory?: string };
  readonly limits?: { readonly cpu?: string; readonly memory?: string };
}

/** The officially supported major and its pinned image. */
export const DEFAULT_POSTGRES_MAJOR = 18;
export const DEFAULT_POSTGRES_IMAGE = 'docker.io/library/postgres:18.1-bookworm';
/** uid/gid of the `postgres` user in the official Debian-based image. */
export const POSTGRES_UID = 999;

export interface PostgresInstanceProps {
  /** Environment name (labels, role names). */
  readonly environment: string;
  /** Namespace the instance runs in. */
  readonly namespace: string;
  /** Owner login: the bootstrap superuser of an in-cluster instance (its password file is mounted). */
  readonly owner: LoginSecretRef;
  /** Name of the StatefulSet and Service (the in-cluster host name). @default 'postgres' */
  readonly name?: string;
  /** Database name. @default 'caracal' */
  readonly database?: string;
  /** Postgres major the image runs. @default 18 */
  readonly major?: number;
  /**
   * Major the data volume was initialized with. A different `major` on an existing volume would start an
   * empty cluster beside the old one, so it is a synth error until the upgrade procedure is followed.
   * @default same as `major` (a new volume)
   */
  readonly dataVolumeMajor?: number;
  /** Image, pinned; its major must equal `major`. @default 'docker.io/library/postgres:18.1-bookworm' */
  readonly image?: string;
  /** Server settings. @default PostgresCapacity.of({}) (Postgres defaults, max_connections derived) */
  readonly capacity?: PostgresCapacity;
  /** Connections the pools, jobs and reserve need; max_connections is derived from it when not given. @default none */
  readonly requiredConnections?: number;
  /** Container resources; the memory limit bounds the capacity's memory budget. @default requests 500m/2Gi, limits memory 2Gi (fits the default pools) */
  readonly resources?: ResourceRequirements;
  /** Initial size of the data volume (grow it in place, see docs/constructs.md). @default '20Gi' */
  readonly storageSize?: string;
  /** Storage class of the data volume. @default the cluster's default class */
  readonly storageClassName?: string;
  /**
   * More pod selectors the NetworkPolicy admits, besides the defaults (always admitted: the five services, the
   * migration Job, the maintenance CronJob and the exporters of this environment). See also allowFrom(). @default none
   */
  readonly allowedClients?: ReadonlyArray<Readonly<Record<string, string>>>;
  /** How long Kubernetes waits for the shutdown checkpoint before killing Postgres (whole seconds). @default '120s' */
  readonly terminationGracePeriod?: Duration;
  /** Size of the memory-backed /dev/shm (parallel query, dynamic shared memory). @default '256Mi' */
  readonly sharedMemorySize?: string;
  /** Prefix of the data volume's fixed Terraform logical id. @default 'caracal' */
  readonly logicalIdPrefix?: string;
  /** The services deployed (a subset of the five): only their pods are admitted by default. @default all five */
  readonly services?: readonly ServiceName[];
}

/** Every prop of PostgresInstanceProps: a key not among them (from JavaScript) is an error naming the closest. */
const PROPS = rules.keysOf<PostgresInstanceProps>({
  environment: true,
  namespace: true,
  owner: true,
  name: true,
  database: true,
  major: true,
  dataVolumeMajor: true,
  image: true,
  capacity: true,
  requiredConnections: true,
  resources: true,
  storageSize: true,
  storageClassName: true,
  allowedClients: true,
  terminationGracePeriod: true,
  sharedMemorySize: true,
  logicalIdPrefix: true,
  services: true,
});

export class PostgresInstance extends Construct implements IPostgresDatabase {
  /**
   * A database this library does not deploy (managed, or run elsewhere), imported by its attributes, the way
   * aws-rds has `fromDatabaseInstanceAttributes`: nothing is deployed; the capacity renders its parameter map.
   */
  static fromAttributes(scope: Construct, id: string, attributes: ExternalPostgresProps): ExternalPostgres {
    return new ExternalPostgres(scope, id, attributes);
  }

  /** The same as fromAttributes() (its earlier name). */
  static external(scope: Construct, id: string, attributes: ExternalPostgresProps): ExternalPostgres {
    return PostgresInstance.fromAttributes(scope, id, attributes);
  }

  /** Where clients connect. */
  readonly endpoint: PostgresEndpoint;
  readonly mode = 'in-cluster' as const;
  /** The resolved server settings. */
  readonly capacity: ResolvedCapacity;
  /** Server settings by name. */
  readonly parameters: Readonly<Record<string, string>>;
  /** `-c name=value` arguments the server runs with. */
  readonly serverArgs: readonly string[];
  /** max_connections the server runs with. */
  readonly maxConnections: number;
  /** superuser_reserved_connections, counted by the connection budget. */
  readonly reservedConnections: number;
  /** Connections the clients' logins may open (max_connections - superuser_reserved_connections). */
  readonly connectionBudget: number;
  /** The server's pinned image (the backup CronJob runs its pg_dump). */
  readonly image: string;
  /** Labels of the pods. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** The data volume (protected by prevent_destroy). */
  readonly dataVolume: PersistentVolumeClaimV1;
  /** The StatefulSet (for depends_on). */
  readonly statefulSet: StatefulSetV1;
  /** The NetworkPolicy admitting Caracal's clients (for depends_on). */
  readonly networkPolicy: NetworkPolicyV1;

  private readonly admitting: AdmittingStore;

  /** The StatefulSet and its NetworkPolicy: what must exist before anything connects. */
  get readyResources(): readonly ITerraformDependable[] {
    return [this.statefulSet, this.networkPolicy];
  }

  /**
   * Admits one more client workload on 5432, besides the defaults: the database's ingress rule and (unless
   * `egress: false`) the client's egress rule to it and DNS. `id` names the policies (`<name>-allow-<id>`).
   */
  allowFrom(id: string, client: ClientWorkload): ClientAdmission {
    return admitClient(this, id, this.admitting, client);
  }

  constructor(scope: Construct, id: string, props: PostgresInstanceProps) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'PostgresInstance prop');
    const name = props.name ?? 'postgres';
    const database = props.database ?? 'caracal';
    const major = props.major ?? DEFAULT_POSTGRES_MAJOR;
    const dataVolumeMajor = props.dataVolumeMajor ?? major;
    const image =
      props.image ?? (major === DEFAULT_POSTGRES_MAJOR ? DEFAULT_POSTGRES_IMAGE : `docker.io/library/postgres:${major}-bookworm`);
    const storageSize = props.storageSize ?? '20Gi';
    const shmSize = props.sharedMemorySize ?? '256Mi';
    const resources: ResourceRequirements = props.resources ?? { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '2Gi' } };

    rules.environmentName(problems, 'environment', props.environment);
    // The data volume's fixed logical id starts with it.
    const idPrefix = rules.logicalIdPrefix(problems, 'logicalIdPrefix', props.logicalIdPrefix);
    rules.namespace(problems, 'namespace', props.namespace);
    rules.dnsLabel(problems, 'name', name, 'Service name');
    rules.databaseName(problems, 'database', database);
    const supportedMajor = rules.integer(problems, 'major', major, 14, 18, 'the supported Postgres majors');
    if (!Number.isInteger(dataVolumeMajor))
      problems.add('dataVolumeMajor', dataVolumeMajor, 'is not a Postgres major: expected an integer');
    else if (supportedMajor && dataVolumeMajor !== major) {
      problems.add(
        'major',
        major,
        `differs from the data volume's major (${dataVolumeMajor}): the server would initialize an empty cluster beside the old data. ` +
          `To upgrade: keep major ${dataVolumeMajor}, dump with pg_dumpall (or run pg_upgrade in a one-off pod with both majors), ` +
          `restore into a new instance (new logicalIdPrefix / name) with major ${major}, switch the services, then set dataVolumeMajor to ${major}`,
      );
    }
    const imageMajor = /:(\d+)(?:[.\-@]|$)/.exec(image)?.[1];
    if (rules.pinnedImage(problems, 'image', image) && imageMajor !== undefined && Number(imageMajor) !== major)
      problems.add('image', image, `runs Postgres ${imageMajor} but major is ${major}: the tag's major must equal major`);
    const grace =
      rules.durationSeconds(
        problems,
        'terminationGracePeriod',
        props.terminationGracePeriod ?? '120s',
        30,
        3600,
        'long enough for the shutdown checkpoint',
      ) ?? 0;
    const storageBytes = rules.volumeSize(problems, 'storageSize', storageSize, '20Gi');
    rules.storageClassName(problems, 'storageClassName', props.storageClassName);
    const memoryLimit = resources.limits?.memory;
    const memoryLimitBytes = rules.resources(problems, 'resources', resources, {
      limitRequired: 'Postgres without a memory limit is the first pod the kernel kills; expected a quantity such as 2Gi',
      minLimit: '256Mi',
      example: '2Gi',
    });
    // A Kubernetes quantity (the emptyDir's sizeLimit): `256MB` gets the hint for its two Kubernetes spellings.
    const shmBytes = rules.quantity(problems, 'sharedMemorySize', shmSize, '256Mi');
    if (shmBytes !== undefined && shmBytes < 64 * 1024 ** 2)
      problems.add('sharedMemorySize', shmSize, 'is not a size of at least 64Mi: expected a quantity such as 256Mi');
    else if (shmBytes !== undefined && memoryLimitBytes !== undefined && shmBytes > memoryLimitBytes / 2)
      problems.add('sharedMemorySize', shmSize, `exceeds half the memory limit (${memoryLimit}); memory-backed /dev/shm counts against it`);
    if (props.requiredConnections !== undefined) rules.integer(problems, 'requiredConnections', props.requiredConnections, 1, 10000);
    const instance = `caracal-${props.environment}`;
    const allowed = [
      ...defaultClients('postgres', props.environment, rules.serviceSet(problems, 'services', props.services)),
      ...rules.allowedClients(problems, 'allowedClients', props.allowedClients),
    ];
    this.capacity = (props.capacity ?? PostgresCapacity.of({})).resolve(
      {
        requiredConnections: props.requiredConnections,
        memoryLimitBytes,
        memoryLimitLabel: memoryLimit,
        storageBytes,
        storageLabel: storageSize,
      },
      problems,
    );
    problems.throwIfAny();

    this.endpoint = { host: `${name}.${props.namespace}.svc.cluster.local`, port: 5432, database, sslMode: 'disable' };
    this.image = image;
    this.parameters = this.capacity.settings;
    this.serverArgs = this.capacity.serverArgs;
    this.maxConnections = this.capacity.maxConnections;
    this.reservedConnections = this.capacity.superuserReservedConnections;
    this.connectionBudget = this.maxConnections - this.reservedConnections;
    const labelProps = { name: 'postgres', instance, component: 'database' };
    const labels = standardLabels(labelProps);
    const selector = selectorLabels(labelProps);
    this.podLabels = labels;
    const metadata = { name, namespace: props.namespace, labels };

    // The data volume is its own resource with a fixed address and prevent_destroy (internal/data-volume.ts).
    const dataClaim = `${name}-data`;
    this.dataVolume = protectedDataVolume(this, 'data', {
      name: dataClaim,
      namespace: props.namespace,
      labels,
      annotations: { 'caracal.dev/postgres-major': String(dataVolumeMajor) },
      storageClassName: props.storageClassName,
      storageSize,
      logicalId: `${idPrefix}_postgres_data`,
    });

    const service = new ServiceV1(this, 'service', {
      metadata,
      spec: {
        type: 'ClusterIP',
        selector,
        port: [{ name: 'postgres', port: 5432, targetPort: 'postgres', protocol: 'TCP' }],
      },
    });

    const pgdata = `/var/lib/postgresql/${major}/docker`;
    const ownerMount = '/var/run/secrets/caracal/owner';
    // pg_isready exits 0 (accepting), 1 (rejecting: starting up or in crash recovery), 2 (no response).
    // Liveness and startup only fail on 2, so a database replaying WAL is never restarted mid-recovery.
    const alive = ['sh', '-c', 'pg_isready -q -h /var/run/postgresql -p 5432; test $? -le 1'];
    const ready = ['pg_isready', '-q', '-h', '/var/run/postgresql', '-p', '5432', '-d', database];
    const sec = { runAsUser: POSTGRES_UID };
    this.statefulSet = new StatefulSetV1(this, 'statefulset', {
      metadata,
      spec: {
        serviceName: service.metadata.name,
        replicas: '1',
        podManagementPolicy: 'OrderedReady',
        updateStrategy: [{ type: 'RollingUpdate' }],
        selector: { matchLabels: selector },
        template: {
          metadata: { labels, annotations: { 'sidecar.istio.io/inject': 'false' } },
          spec: {
            ...HARDENED_POD_SPEC,
            terminationGracePeriodSeconds: grace,
            securityContext: restrictedPodSecurityContext(sec),
            container: [
              {
                name: 'postgres',
                image,
                imagePullPolicy: 'IfNotPresent',
                args: ['postgres', ...this.serverArgs],
                port: [{ name: 'postgres', containerPort: 5432, protocol: 'TCP' }],
                env: [
                  { name: 'PGDATA', value: pgdata },
                  { name: 'POSTGRES_DB', value: database },
                  { name: 'POSTGRES_USER', value: props.owner.username },
                  { name: 'POSTGRES_PASSWORD_FILE', value: `${ownerMount}/${props.owner.passwordKey}` },
                  // Remote logins use scram-sha-256 (the image's default); checksums are on by default from 18.
                  { name: 'POSTGRES_HOST_AUTH_METHOD', value: 'scram-sha-256' },
                  ...(major < 18 ? [{ name: 'POSTGRES_INITDB_ARGS', value: '--data-checksums' }] : []),
                ],
                resources: {
                  requests: { ...resources.requests },
                  limits: { ...resources.limits },
                },
                securityContext: restrictedContainerSecurityContext({ ...sec, readOnlyRootFilesystem: true }),
                startupProbe: { exec: { command: alive }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 120 },
                livenessProbe: { exec: { command: alive }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
                readinessProbe: { exec: { command: ready }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 3 },
                lifecycle: {
                  // Kubernetes sends SIGTERM (a "smart" shutdown that waits for pooled clients); stop fast
                  // instead, leaving the rest of the grace period to the shutdown checkpoint.
                  preStop: [{ exec: { command: ['sh', '-c', `pg_ctl stop -D "$PGDATA" -m fast -w -t ${Math.max(grace - 10, 10)}`] } }],
                },
                volumeMount: [
                  { name: 'data', mountPath: '/var/lib/postgresql' },
                  { name: 'run', mountPath: '/var/run/postgresql' },
                  { name: 'tmp', mountPath: '/tmp' },
                  { name: 'shm', mountPath: '/dev/shm' },
                  { name: 'owner-credentials', mountPath: ownerMount, readOnly: true },
                ],
              },
            ],
            volume: [
              { name: 'data', persistentVolumeClaim: { claimName: this.dataVolume.metadata.name } },
              { name: 'run', emptyDir: { sizeLimit: '16Mi' } },
              { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
              { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: shmSize } },
              { name: 'owner-credentials', secret: { secretName: props.owner.secretName, defaultMode: '0440' } },
            ],
          },
        },
      },
      // apply waits until Postgres is ready, so what depends on the instance (the migration Job) starts after it.
      waitForRollout: true,
    });

    // Default deny in both directions; only Caracal's clients may connect, and Postgres dials out to nobody.
    this.admitting = { name, namespace: props.namespace, labels, pods: selector, port: 5432 };
    this.networkPolicy = storeNetworkPolicy(this, 'network-policy', {
      name: `${name}-allow-caracal`,
      namespace: props.namespace,
      labels,
      podSelector: selector,
      allowedClients: allowed,
      port: 5432,
    });

    // One replica: maxUnavailable 1 documents that a drain may evict it (a minAvailable 1 budget would block every drain).
    new PodDisruptionBudgetV1(this, 'disruption-budget', {
      metadata: { name, namespace: props.namespace, labels },
      spec: { maxUnavailable: '1', selector: { matchLabels: selector } },
    });
  }
}
