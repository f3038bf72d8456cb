// CloudNativePgCluster: Caracal's Postgres as a highly available CloudNativePG `Cluster` (streaming replicas,
// automated failover, rolling updates, continuous backup with PITR), the third choice beside the single-pod
// PostgresInstance and an external database. It implements IPostgresDatabase, so the pools, the migration Job, the
// CronJobs and the exporters reach its `-rw` Service with verify-full against the cluster's own CA exactly as they
// reach the other two. The CNPG objects go out as a generated chart through a helm_release (it plans without a
// cluster); the operator (and the Barman Cloud plugin, when backups are on) through pinned Helm charts.
import { Construct } from 'constructs';
import { AssetType, ITerraformDependable, TerraformAsset } from 'cdktf';
import { Release } from '@cdktf/provider-helm/lib/release';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { Problems } from './errors';
import * as rules from './internal/rules';
import { standardLabels } from './internal/labels';
import { defaultClients } from './internal/default-clients';
import { writeChartDirectory } from './internal/chart-directory';
import { CNPG_FIXED_PARAMETERS, CNPG_METRICS_PORT, CNPG_STATUS_PORT, CnpgChart, renderCnpgChart } from './internal/cnpg-chart';
import { BARMAN_CLOUD_PLUGIN_CHART_VERSION, CNPG_CHART_REPOSITORY, CNPG_CHART_VERSION, DEFAULT_CNPG_IMAGE } from './cnpg-versions';
import { POSTGRES_18_SETTINGS } from './internal/postgres-settings';
import { AdmittingStore, ClientAdmission, ClientWorkload, admitClient } from './connections';
import { CAPACITY_SETTING_NAMES, PostgresCapacity, ResolvedCapacity } from './postgres-capacity';
import type { LoginSecretRef } from './database-secrets';
import type { IPostgresDatabase, PostgresEndpoint } from './postgres-database';
import type { ResourceRequirements } from './postgres-instance';
import { BACKUP_ROLE, ServiceName } from '../common/names';
import { REVOKE_LARGE_OBJECTS_SQL } from '../common/large-objects';
import { checkStackIdentity } from './internal/stack-identity';

/** How the operator (and the Barman Cloud plugin) get into the cluster. */
export interface CnpgOperatorOptions {
  /**
   * Install the operator's pinned chart (`cloudnative-pg` 0.29.0, operator 1.30.0) and, when backups are on, the
   * Barman Cloud plugin's (`plugin-barman-cloud` 0.7.0, which needs cert-manager). Set false where the operator is
   * already installed (one per Kubernetes cluster, shared by every environment in it). @default true
   */
  readonly install?: boolean;
  /** Namespace of the operator's releases. @default 'cnpg-system' */
  readonly namespace?: string;
}

/** The object store base backups and WAL go to (the Barman Cloud plugin's ObjectStore). */
export interface CnpgBackupOptions {
  /** `s3://bucket/prefix/` where backups and WAL go. */
  readonly destinationPath: string;
  /** The S3 API endpoint for a store other than AWS (MinIO, Ceph, R2), https only. @default AWS S3 */
  readonly endpointUrl?: string;
  /** The existing Secret holding the access key pair (never rendered: the plugin reads it). */
  readonly credentialsSecret: {
    readonly name: string;
    /** @default 'ACCESS_KEY_ID' */
    readonly accessKeyIdKey?: string;
    /** @default 'ACCESS_SECRET_KEY' */
    readonly secretAccessKeyKey?: string;
  };
  /** Cron (five fields, the cluster's time zone) of the base backups; WAL is archived continuously. @default '0 3 * * *' */
  readonly schedule?: string;
  /** How long backups and WAL are kept: `<n>d`, `<n>w` or `<n>m`. @default '30d' */
  readonly retention?: string;
}

export interface CloudNativePgClusterProps {
  /** Environment name (labels). */
  readonly environment: string;
  /** Namespace of the Cluster (and of its Services and Secrets). */
  readonly namespace: string;
  /** Owner login: the Cluster's `bootstrap.initdb` owner (no superuser), its password from its Secret. */
  readonly owner: LoginSecretRef;
  /** Cluster name: the Services are `<name>-rw` and `-ro`, the CA Secret `<name>-ca`. @default 'postgres' */
  readonly name?: string;
  /** Database name. @default 'caracal' */
  readonly database?: string;
  /** Postgres instances: one primary and instances - 1 streaming replicas. @default 3 */
  readonly instances?: number;
  /** CloudNativePG operand image, pinned, Postgres 18. @default DEFAULT_CNPG_IMAGE (the operator's 1.30.0 default, 18.4) */
  readonly imageName?: string;
  /** Server settings (one source for every choice). @default PostgresCapacity.of({}) (max_connections derived) */
  readonly capacity?: PostgresCapacity;
  /**
   * More server settings than the capacity's (Postgres 18 names, values in Postgres syntax). Settings the capacity
   * renders and settings the operator owns are refused. @default none
   */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Connections the pools, jobs and reserve need; max_connections is derived from it when not given. @default none */
  readonly requiredConnections?: number;
  /** Resources of each instance; the memory limit bounds the capacity's memory budget. @default requests 500m/2Gi, limits memory 2Gi */
  readonly resources?: ResourceRequirements;
  /** Data volume of each instance. @default '20Gi' */
  readonly storageSize?: string;
  /** Storage class of the data volumes. @default the cluster's default class */
  readonly storageClassName?: string;
  /** WAL volume of each instance (its own volume: a full WAL disk never fills the data disk). @default '5Gi' */
  readonly walStorageSize?: string;
  /** Storage class of the WAL volumes. @default storageClassName */
  readonly walStorageClassName?: string;
  /** `required`: never two instances on one node (a node per instance is needed); `preferred`: when possible. @default 'required' */
  readonly podAntiAffinity?: 'required' | 'preferred';
  /** Node label the instances also spread over (best effort). @default 'topology.kubernetes.io/zone' */
  readonly zoneTopologyKey?: string;
  /** Continuous backup (WAL archive and scheduled base backups) to an object store. @default none */
  readonly backup?: CnpgBackupOptions;
  /** A PodMonitor for the instances' metrics port (prometheus-operator). @default true */
  readonly podMonitor?: boolean;
  /** The operator's installation. @default { install: true, namespace: 'cnpg-system' } */
  readonly operator?: CnpgOperatorOptions;
  /**
   * More pod selectors the NetworkPolicy admits on 5432, besides the defaults (the services, the migration Job, the
   * maintenance CronJob, the exporters). See also allowFrom(). @default none
   */
  readonly allowedClients?: ReadonlyArray<Readonly<Record<string, string>>>;
  /** The services deployed (a subset of the five): only their pods are admitted by default. @default all five */
  readonly services?: readonly ServiceName[];
  /** Namespace the Prometheus pods run in, admitted to the metrics port. @default 'monitoring' */
  readonly metricsNamespace?: string;
  /** Prefix of the Cluster release's fixed Terraform logical id. @default 'caracal' */
  readonly logicalIdPrefix?: string;
}

/** Every prop of CloudNativePgClusterProps: a key not among them (from JavaScript) is an error naming the closest. */
const PROPS = rules.keysOf<CloudNativePgClusterProps>({
  environment: true,
  namespace: true,
  owner: true,
  name: true,
  database: true,
  instances: true,
  imageName: true,
  capacity: true,
  parameters: true,
  requiredConnections: true,
  resources: true,
  storageSize: true,
  storageClassName: true,
  walStorageSize: true,
  walStorageClassName: true,
  podAntiAffinity: true,
  zoneTopologyKey: true,
  backup: true,
  podMonitor: true,
  operator: true,
  allowedClients: true,
  services: true,
  metricsNamespace: true,
  logicalIdPrefix: true,
});
const BACKUP_KEYS = rules.keysOf<CnpgBackupOptions>({
  destinationPath: true,
  endpointUrl: true,
  credentialsSecret: true,
  schedule: true,
  retention: true,
});
const OPERATOR_KEYS = rules.keysOf<CnpgOperatorOptions>({ install: true, namespace: true });
const CREDENTIALS_KEYS = ['name', 'accessKeyIdKey', 'secretAccessKeyKey'];

/** A managed extension's settings (`pg_stat_statements.max`), which the operator loads when they are set. */
const EXTENSION_PREFIXES = ['pg_stat_statements.', 'auto_explain.', 'pgaudit.', 'pg_failover_slots.'];

export class CloudNativePgCluster extends Construct implements IPostgresDatabase {
  readonly mode = 'cloudnative-pg' as const;
  /** The read-write Service (`<name>-rw`: always the primary), verify-full against the cluster's CA. */
  readonly endpoint: PostgresEndpoint;
  /** The read-only Service (`<name>-ro`: the replicas), for consumers that only read. */
  readonly readOnlyEndpoint: PostgresEndpoint;
  readonly capacity: ResolvedCapacity;
  /** `postgresql.parameters` of the Cluster: the capacity's settings, then `parameters`. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly maxConnections: number;
  readonly reservedConnections: number;
  readonly connectionBudget: number;
  /** The instances' pods (the operator labels them `cnpg.io/cluster: <name>`). */
  readonly podLabels: Readonly<Record<string, string>>;
  /** The Cluster's name. */
  readonly clusterName: string;
  readonly instances: number;
  /** The generated chart (Cluster, ObjectStore, ScheduledBackup, PodMonitor). */
  readonly chart: CnpgChart;
  /** Where the chart was written (the app's outdir, `caracal-hook-charts/`). */
  readonly chartDirectory: string;
  /** The helm_release of the chart. */
  readonly release: Release;
  /** The operator's helm_release; undefined when `operator.install` is false. */
  readonly operatorRelease?: Release;
  /** The Barman Cloud plugin's helm_release; undefined without backups or when `operator.install` is false. */
  readonly pluginRelease?: Release;
  /** The instances' NetworkPolicy (ingress only). */
  readonly networkPolicy: NetworkPolicyV1;
  private readonly admitting: AdmittingStore;

  /** The Cluster's release and its NetworkPolicy (the operator's releases come before the Cluster's). */
  get readyResources(): readonly ITerraformDependable[] {
    return [this.release, this.networkPolicy];
  }

  constructor(scope: Construct, id: string, props: CloudNativePgClusterProps) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'CloudNativePgCluster prop');
    const name = props.name ?? 'postgres';
    const database = props.database ?? 'caracal';
    const instances = props.instances ?? 3;
    const image = props.imageName ?? DEFAULT_CNPG_IMAGE;
    const storageSize = props.storageSize ?? '20Gi';
    const walStorageSize = props.walStorageSize ?? '5Gi';
    const antiAffinity = props.podAntiAffinity ?? 'required';
    const zoneKey = props.zoneTopologyKey ?? 'topology.kubernetes.io/zone';
    const resources: ResourceRequirements = props.resources ?? { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '2Gi' } };
    const operator = props.operator ?? {};
    const operatorNamespace = operator.namespace ?? 'cnpg-system';
    const metricsNamespace = props.metricsNamespace ?? 'monitoring';

    rules.environmentName(problems, 'environment', props.environment);
    const idPrefix = rules.logicalIdPrefix(problems, 'logicalIdPrefix', props.logicalIdPrefix);
    rules.namespace(problems, 'namespace', props.namespace);
    // `<name>-rw`, `-ro`, `-ca`, `-daily` and the instances' `<name>-<n>` pods must stay DNS labels.
    rules.dnsLabel(problems, 'name', name, 'Cluster name', 50, 'its Services, Secrets and pods are named <name>-rw, <name>-ca, <name>-<n>');
    rules.databaseName(problems, 'database', database);
    rules.integer(problems, 'instances', instances, 1, 9, 'one primary and instances - 1 streaming replicas; 3 for automated failover');
    if (rules.pinnedImage(problems, 'imageName', image)) {
      const major = /:(\d+)(?:[.\-@]|$)/.exec(image)?.[1];
      if (major !== '18')
        problems.add(
          'imageName',
          image,
          'is not a Postgres 18 image: expected a CloudNativePG operand image tagged 18.x (the settings are checked against 18)',
        );
    }
    const storageBytes = rules.volumeSize(problems, 'storageSize', storageSize, '20Gi');
    rules.storageClassName(problems, 'storageClassName', props.storageClassName);
    rules.volumeSize(problems, 'walStorageSize', walStorageSize, '5Gi');
    rules.storageClassName(problems, 'walStorageClassName', props.walStorageClassName);
    if (antiAffinity !== 'required' && antiAffinity !== 'preferred')
      problems.add('podAntiAffinity', antiAffinity, 'is not an anti-affinity type: expected required or preferred');
    rules.dnsSubdomain(problems, 'zoneTopologyKey', zoneKey.replace(/^.*\//, ''), 'node label name');
    const memoryLimit = resources.limits?.memory;
    const memoryLimitBytes = rules.resources(problems, 'resources', resources, {
      limitRequired: 'Postgres without a memory limit is the first pod the kernel kills; expected a quantity such as 2Gi',
      minLimit: '256Mi',
      example: '2Gi',
    });
    if (props.requiredConnections !== undefined) rules.integer(problems, 'requiredConnections', props.requiredConnections, 1, 10000);
    if (props.podMonitor !== undefined && typeof props.podMonitor !== 'boolean')
      problems.add('podMonitor', props.podMonitor, 'is not a boolean: expected true (render a PodMonitor) or false');
    rules.knownKeys(problems, 'operator', operator, OPERATOR_KEYS, 'operator option');
    if (operator.install !== undefined && typeof operator.install !== 'boolean')
      problems.add(
        'operator.install',
        operator.install,
        'is not a boolean: expected true (install the pinned charts) or false (already installed)',
      );
    rules.namespace(problems, 'operator.namespace', operatorNamespace);
    rules.namespace(problems, 'metricsNamespace', metricsNamespace);
    // CloudNativePG reads the initdb owner's Secret by the basic-auth keys, whatever the Secret's type.
    if (props.owner.usernameKey !== 'username' || props.owner.passwordKey !== 'password')
      problems.add(
        'owner',
        `${props.owner.secretName} (${props.owner.usernameKey}, ${props.owner.passwordKey})`,
        'does not keep the credentials under the keys CloudNativePG reads: expected the keys username and password (kubernetes.io/basic-auth)',
      );

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
    const extra = checkParameters(problems, props.parameters, new Set([...CAPACITY_SETTING_NAMES, ...Object.keys(this.capacity.settings)]));
    const backup = props.backup === undefined ? undefined : checkBackup(problems, props.backup);
    const allowed = [
      ...defaultClients('postgres', props.environment, rules.serviceSet(problems, 'services', props.services)),
      ...rules.allowedClients(problems, 'allowedClients', props.allowedClients),
    ];
    problems.throwIfAny();

    this.clusterName = name;
    this.instances = instances;
    const service = (suffix: string, sslHost = `${name}-${suffix}.${props.namespace}.svc`): PostgresEndpoint => ({
      host: sslHost,
      port: 5432,
      database,
      // The server certificate names every `<name>-rw|ro|r[.ns[.svc[.cluster domain]]]`: `.svc` works in any cluster domain.
      sslMode: 'verify-full',
      caCertSecret: { secretName: `${name}-ca`, key: 'ca.crt' },
    });
    this.endpoint = service('rw');
    this.readOnlyEndpoint = service('ro');
    this.parameters = { ...this.capacity.settings, ...extra };
    this.maxConnections = this.capacity.maxConnections;
    this.reservedConnections = this.capacity.superuserReservedConnections;
    this.connectionBudget = this.maxConnections - this.reservedConnections;
    const instance = `caracal-${props.environment}`;
    const labels = standardLabels({ name: 'postgres', instance, component: 'database' });
    const pods = { 'cnpg.io/cluster': name };
    this.podLabels = pods;

    this.chart = renderCnpgChart({
      name,
      chartName: `caracal-${props.environment}-postgres`,
      labels,
      instances,
      imageName: image,
      database,
      owner: { username: props.owner.username, secretName: props.owner.secretName },
      postInitApplicationSql: cnpgBootstrapSql(props.owner.username),
      parameters: this.parameters,
      resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
      storage: { size: storageSize, storageClass: props.storageClassName },
      walStorage: { size: walStorageSize, storageClass: props.walStorageClassName ?? props.storageClassName },
      podAntiAffinity: antiAffinity,
      zoneTopologyKey: zoneKey,
      objectStore: backup && {
        name: `${name}-backups`,
        destinationPath: backup.destinationPath,
        endpointUrl: backup.endpointUrl,
        credentials: {
          secretName: backup.credentialsSecret.name,
          accessKeyIdKey: backup.credentialsSecret.accessKeyIdKey ?? 'ACCESS_KEY_ID',
          secretAccessKeyKey: backup.credentialsSecret.secretAccessKeyKey ?? 'ACCESS_SECRET_KEY',
        },
        retentionPolicy: backup.retention ?? '30d',
      },
      backupSchedule: backup && cnpgCron(backup.schedule ?? '0 3 * * *'),
      podMonitor: props.podMonitor ?? true,
    });

    // The operator first (its CRDs and webhooks), then the plugin (it registers with the operator), then the Cluster.
    const install = operator.install ?? true;
    if (install) {
      this.operatorRelease = new Release(this, 'operator', {
        name: 'cloudnative-pg',
        namespace: operatorNamespace,
        createNamespace: true,
        repository: CNPG_CHART_REPOSITORY,
        chart: 'cloudnative-pg',
        version: CNPG_CHART_VERSION,
        description: 'CloudNativePG operator (pinned chart)',
        atomic: true,
        wait: true,
        timeout: 600,
      });
      if (backup) {
        this.pluginRelease = new Release(this, 'barman-cloud-plugin', {
          name: 'plugin-barman-cloud',
          namespace: operatorNamespace,
          repository: CNPG_CHART_REPOSITORY,
          chart: 'plugin-barman-cloud',
          version: BARMAN_CLOUD_PLUGIN_CHART_VERSION,
          description: 'Barman Cloud plugin of CloudNativePG (pinned chart; needs cert-manager)',
          atomic: true,
          wait: true,
          timeout: 600,
          dependsOn: [this.operatorRelease],
        });
      }
    }

    this.chartDirectory = writeChartDirectory(this, `caracal-${props.environment}-postgres`, this.chart.files);
    const asset = new TerraformAsset(this, 'chart', { path: this.chartDirectory, type: AssetType.DIRECTORY });
    this.release = new Release(this, 'release', {
      name: `caracal-${props.environment}-postgres`,
      namespace: props.namespace,
      chart: asset.path,
      description: `CloudNativePG Cluster ${name} of Caracal (generated chart)`,
      // Helm cannot wait for a Cluster to become ready (a custom resource); the migration Job waits for the
      // database instead (--wait-for-db), and it depends on this release.
      atomic: true,
      maxHistory: 5,
      ...(this.operatorRelease
        ? { dependsOn: [this.operatorRelease, this.pluginRelease].filter((r): r is Release => r !== undefined) }
        : {}),
      // The Cluster owns the data volumes: Terraform must never delete the release that holds it.
      lifecycle: { preventDestroy: true },
    });
    this.release.overrideLogicalId(`${idPrefix}_cnpg_cluster`);

    // Ingress only: the instances dial the Kubernetes API, each other and the object store, which no pod selector
    // names. Admitted: Caracal's clients on 5432, the other instances (replication) on 5432, the operator on the
    // status port, Prometheus on the metrics port.
    this.admitting = { name, namespace: props.namespace, labels, pods, port: 5432 };
    const inNamespace = (ns: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } });
    this.networkPolicy = new NetworkPolicyV1(this, 'network-policy', {
      metadata: { name: `${name}-allow-caracal`, namespace: props.namespace, labels },
      spec: {
        podSelector: { matchLabels: { ...pods } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [...allowed, pods].map((sel) => ({ podSelector: { matchLabels: { ...sel } } })),
            ports: [{ port: '5432', protocol: 'TCP' }],
          },
          {
            from: [{ ...inNamespace(operatorNamespace), podSelector: { matchLabels: { 'app.kubernetes.io/name': 'cloudnative-pg' } } }],
            ports: [{ port: String(CNPG_STATUS_PORT), protocol: 'TCP' }],
          },
          { from: [inNamespace(metricsNamespace)], ports: [{ port: String(CNPG_METRICS_PORT), protocol: 'TCP' }] },
        ],
      },
    });
  }

  /**
   * Admits one more client workload on 5432, besides the defaults: the instances' ingress rule and (unless
   * `egress: false`) the client's egress rule to them and DNS. `id` names the policies (`<name>-allow-<id>`).
   */
  allowFrom(id: string, client: ClientWorkload): ClientAdmission {
    return admitClient(this, id, this.admitting, client);
  }
}

/**
 * What the superuser runs once in the new database (postInitApplicationSQL), the only time it is used: the owner gets
 * CREATEROLE (the migration Job provisions the logins), caracal_backup is created with BYPASSRLS (only a role that
 * has BYPASSRLS may give it) and its ADMIN given to the owner, and the large-object functions are closed to PUBLIC.
 */
export function cnpgBootstrapSql(owner: string): string[] {
  const ident = `"${owner.replace(/"/g, '""')}"`;
  return [
    `ALTER ROLE ${ident} CREATEROLE`,
    `DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '${BACKUP_ROLE}') THEN CREATE ROLE ${BACKUP_ROLE} NOLOGIN BYPASSRLS; END IF; END$$`,
    `GRANT ${BACKUP_ROLE} TO ${ident} WITH ADMIN OPTION`,
    REVOKE_LARGE_OBJECTS_SQL.replace(/\n\s*/g, ' '),
  ];
}

/** A five-field cron (the project's one schedule shape) as CloudNativePG's six fields (seconds first). */
export function cnpgCron(schedule: string): string {
  return schedule.trim().startsWith('@') ? schedule.trim() : `0 ${schedule.trim().split(/\s+/).join(' ')}`;
}

function checkParameters(
  problems: Problems,
  parameters: Readonly<Record<string, string>> | undefined,
  fromCapacity: ReadonlySet<string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (parameters === undefined) return out;
  if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) {
    problems.add(
      'parameters',
      parameters,
      'is not a map of setting names to values: expected e.g. { "idle_in_transaction_session_timeout": "60s" }',
    );
    return out;
  }
  for (const [key, value] of Object.entries(parameters).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const field = `parameters.${key}`;
    if (CNPG_FIXED_PARAMETERS.has(key)) {
      problems.add(field, key, 'is set by the CloudNativePG operator itself (replication, TLS, archiving, logging): remove it');
    } else if (fromCapacity.has(key)) {
      problems.add(field, key, 'comes from the capacity (one source for every Postgres choice): set it through capacity instead');
    } else if (!POSTGRES_18_SETTINGS.has(key) && !EXTENSION_PREFIXES.some((p) => key.startsWith(p))) {
      const near = rules.closestKey(key, [...POSTGRES_18_SETTINGS]);
      problems.add(
        field,
        key,
        `is not a Postgres 18 setting${near ? `; did you mean "${near}"?` : ''} (expected a name from postgres --describe-config, or ${EXTENSION_PREFIXES.map((p) => `${p}*`).join(', ')})`,
      );
    } else if (typeof value !== 'string' || value === '' || value.includes('{{')) {
      problems.add(field, value, 'is not a setting value: expected a non-empty string in Postgres syntax, e.g. "60s" or "on"');
    } else {
      out[key] = value;
    }
  }
  return out;
}

function checkBackup(problems: Problems, backup: CnpgBackupOptions): CnpgBackupOptions | undefined {
  const before = problems.count;
  rules.knownKeys(problems, 'backup', backup, BACKUP_KEYS, 'backup option');
  const path = backup.destinationPath;
  const m = typeof path === 'string' ? /^s3:\/\/([^/]+)(\/.*)?$/.exec(path) : null;
  if (!m)
    problems.add(
      'backup.destinationPath',
      path,
      'is not an object store path: expected s3://<bucket>/<prefix>/, e.g. s3://caracal-backups/prod/',
    );
  else {
    rules.bucketName(problems, 'backup.destinationPath', m[1]);
    if (m[2] !== undefined && m[2] !== '/') rules.objectPrefix(problems, 'backup.destinationPath', `${m[2].slice(1).replace(/\/?$/, '/')}`);
  }
  if (backup.endpointUrl !== undefined) rules.httpsUrl(problems, 'backup.endpointUrl', backup.endpointUrl, 'https://minio.example.com');
  const creds = backup.credentialsSecret;
  if (creds === undefined || creds === null)
    problems.add(
      'backup.credentialsSecret',
      creds,
      'is required: the Barman Cloud plugin reads the access key pair from an existing Secret; expected { name: "caracal-backup-s3" }',
    );
  else {
    rules.knownKeys(problems, 'backup.credentialsSecret', creds, CREDENTIALS_KEYS, 'credentialsSecret key');
    rules.secretName(problems, 'backup.credentialsSecret.name', creds.name);
    rules.secretKey(problems, 'backup.credentialsSecret.accessKeyIdKey', creds.accessKeyIdKey ?? 'ACCESS_KEY_ID');
    rules.secretKey(problems, 'backup.credentialsSecret.secretAccessKeyKey', creds.secretAccessKeyKey ?? 'ACCESS_SECRET_KEY');
  }
  rules.cronSchedule(problems, 'backup.schedule', backup.schedule ?? '0 3 * * *');
  const retention = backup.retention ?? '30d';
  if (typeof retention !== 'string' || !/^[1-9][0-9]*[dwm]$/.test(retention))
    problems.add(
      'backup.retention',
      retention,
      'is not a retention: expected a positive number of days, weeks or months, e.g. 30d, 4w, 6m',
    );
  return problems.count === before ? backup : undefined;
}
