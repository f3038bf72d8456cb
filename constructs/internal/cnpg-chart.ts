// The CloudNativePG objects of one Postgres cluster as a generated Helm chart, in pure functions: the `Cluster`, the
// Barman Cloud plugin's `ObjectStore`, the `ScheduledBackup` and the `PodMonitor`, as deterministic JSON manifests.
// A chart (installed by a helm_release, as the migration Job's is) plans without a cluster: kubernetes_manifest would
// need the CRDs at plan time.
import { toJsonManifest, toYaml, type KubeObject } from './hook-chart';
import { BARMAN_CLOUD_PLUGIN, CNPG_OPERATOR_VERSION } from '../cnpg-versions';

/** uid/gid of `postgres` in CloudNativePG's images. */
export const CNPG_POSTGRES_UID = 26;
/** The metrics port of every instance (the operator's built-in exporter). */
export const CNPG_METRICS_PORT = 9187;
/** The instance manager's status port, which the operator dials. */
export const CNPG_STATUS_PORT = 8000;

/** Settings the operator owns or refuses (pkg/postgres/configuration.go FixedConfigurationParameters, v1.30.0). */
export const CNPG_FIXED_PARAMETERS: ReadonlySet<string> = new Set([
  'allow_system_table_mods',
  'archive_mode',
  'bonjour',
  'bonjour_name',
  'cluster_name',
  'config_file',
  'data_directory',
  'data_sync_retry',
  'event_source',
  'external_pid_file',
  'hba_file',
  'hot_standby',
  'ident_file',
  'jit_provider',
  'listen_addresses',
  'logging_collector',
  'port',
  'primary_conninfo',
  'primary_slot_name',
  'recovery_target',
  'recovery_target_action',
  'recovery_target_inclusive',
  'recovery_target_lsn',
  'recovery_target_name',
  'recovery_target_time',
  'recovery_target_timeline',
  'recovery_target_xid',
  'restore_command',
  'shared_preload_libraries',
  'temp_tablespaces',
  'unix_socket_directories',
  'unix_socket_group',
  'unix_socket_permissions',
  'archive_cleanup_command',
  'archive_command',
  'log_destination',
  'log_directory',
  'log_file_mode',
  'log_filename',
  'log_rotation_age',
  'log_rotation_size',
  'log_truncate_on_rotation',
  'pg_failover_slots.primary_dsn',
  'pg_failover_slots.standby_slot_names',
  'promote_trigger_file',
  'recovery_end_command',
  'recovery_min_apply_delay',
  'restart_after_crash',
  'ssl',
  'ssl_ca_file',
  'ssl_cert_file',
  'ssl_crl_file',
  'ssl_dh_params_file',
  'ssl_ecdh_curve',
  'ssl_key_file',
  'ssl_passphrase_command',
  'ssl_passphrase_command_supports_reload',
  'ssl_prefer_server_ciphers',
  'stats_temp_directory',
  'synchronous_standby_names',
  'synchronized_standby_slots',
  'syslog_facility',
  'syslog_ident',
  'syslog_sequence_numbers',
  'syslog_split_messages',
]);

export interface CnpgObjectStoreSpec {
  /** ObjectStore name. */
  readonly name: string;
  /** `s3://bucket/prefix/`. */
  readonly destinationPath: string;
  readonly endpointUrl?: string;
  readonly credentials: { readonly secretName: string; readonly accessKeyIdKey: string; readonly secretAccessKeyKey: string };
  /** `30d` (days, weeks or months). */
  readonly retentionPolicy: string;
}

export interface CnpgChartSpec {
  /** Cluster name (its Services are `<name>-rw`, `-ro`, `-r`; its CA Secret `<name>-ca`). */
  readonly name: string;
  /** Chart name (a DNS label). */
  readonly chartName: string;
  /** Labels of every object and (inheritedMetadata) of the instances' pods. */
  readonly labels: Readonly<Record<string, string>>;
  readonly instances: number;
  readonly imageName: string;
  readonly database: string;
  /** The owner login: CloudNativePG's `bootstrap.initdb` owner, its password from this Secret (`username`, `password`). */
  readonly owner: { readonly username: string; readonly secretName: string };
  /** Run once, as the superuser, in the new database after initdb (then the superuser is never used again). */
  readonly postInitApplicationSql: readonly string[];
  readonly parameters: Readonly<Record<string, string>>;
  readonly resources: object;
  readonly storage: { readonly size: string; readonly storageClass?: string };
  readonly walStorage: { readonly size: string; readonly storageClass?: string };
  /** `required`: never two instances on one node; `preferred`: spread when possible. */
  readonly podAntiAffinity: 'required' | 'preferred';
  /** Node label the instances spread over besides nodes (`topology.kubernetes.io/zone`). */
  readonly zoneTopologyKey: string;
  readonly objectStore?: CnpgObjectStoreSpec;
  /** Six-field cron (seconds first) of the ScheduledBackup; undefined: no ScheduledBackup. */
  readonly backupSchedule?: string;
  /** Render a PodMonitor (prometheus-operator) for the instances' metrics port. */
  readonly podMonitor: boolean;
}

export interface CnpgChart {
  /** Chart files by path relative to the chart directory, sorted. */
  readonly files: ReadonlyMap<string, string>;
  /** The objects as Helm installs them (there are no template actions). */
  readonly manifests: readonly KubeObject[];
}

/** `helm uninstall` (or a replaced release) must never delete the Cluster: its PVCs go with it. */
const KEEP = { 'helm.sh/resource-policy': 'keep' };

/** Renders the chart. Pure: the same spec gives byte-identical files. */
export function renderCnpgChart(spec: CnpgChartSpec): CnpgChart {
  const selector = { 'cnpg.io/cluster': spec.name };
  const metadata = (name: string, keep = false) => ({
    name,
    labels: { ...spec.labels },
    ...(keep ? { annotations: { ...KEEP } } : {}),
  });
  const store = spec.objectStore;

  const cluster: KubeObject = {
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Cluster',
    metadata: metadata(spec.name, true),
    spec: {
      instances: spec.instances,
      imageName: spec.imageName,
      imagePullPolicy: 'IfNotPresent',
      // A switchover to an updated standby first, then the old primary restarts as a standby: no manual step.
      primaryUpdateStrategy: 'unsupervised',
      primaryUpdateMethod: 'switchover',
      // The owner is no superuser; the postgres superuser's password is never put into a Secret.
      enableSuperuserAccess: false,
      enablePDB: true,
      postgresUID: CNPG_POSTGRES_UID,
      postgresGID: CNPG_POSTGRES_UID,
      seccompProfile: { type: 'RuntimeDefault' },
      inheritedMetadata: { labels: { ...spec.labels } },
      bootstrap: {
        initdb: {
          database: spec.database,
          owner: spec.owner.username,
          secret: { name: spec.owner.secretName },
          dataChecksums: true,
          postInitApplicationSQL: [...spec.postInitApplicationSql],
        },
      },
      postgresql: { parameters: { ...spec.parameters } },
      resources: spec.resources,
      storage: { size: spec.storage.size, ...(spec.storage.storageClass ? { storageClass: spec.storage.storageClass } : {}) },
      walStorage: {
        size: spec.walStorage.size,
        ...(spec.walStorage.storageClass ? { storageClass: spec.walStorage.storageClass } : {}),
      },
      affinity: {
        enablePodAntiAffinity: true,
        topologyKey: 'kubernetes.io/hostname',
        podAntiAffinityType: spec.podAntiAffinity,
      },
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: spec.zoneTopologyKey,
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: { ...selector } },
        },
      ],
      // enablePodMonitor is deprecated in 1.30: the PodMonitor is rendered below instead.
      monitoring: { enablePodMonitor: false },
      ...(store ? { plugins: [{ name: BARMAN_CLOUD_PLUGIN, isWALArchiver: true, parameters: { barmanObjectName: store.name } }] } : {}),
    },
  };

  const objects = new Map<string, KubeObject>([['templates/cluster.yaml', cluster]]);
  if (store) {
    objects.set('templates/object-store.yaml', {
      apiVersion: 'barmancloud.cnpg.io/v1',
      kind: 'ObjectStore',
      metadata: metadata(store.name, true),
      spec: {
        retentionPolicy: store.retentionPolicy,
        configuration: {
          destinationPath: store.destinationPath,
          ...(store.endpointUrl ? { endpointURL: store.endpointUrl } : {}),
          s3Credentials: {
            accessKeyId: { name: store.credentials.secretName, key: store.credentials.accessKeyIdKey },
            secretAccessKey: { name: store.credentials.secretName, key: store.credentials.secretAccessKeyKey },
          },
          wal: { compression: 'gzip' },
          data: { compression: 'gzip' },
        },
      },
    });
  }
  if (store && spec.backupSchedule) {
    objects.set('templates/scheduled-backup.yaml', {
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'ScheduledBackup',
      metadata: metadata(`${spec.name}-daily`),
      spec: {
        schedule: spec.backupSchedule,
        cluster: { name: spec.name },
        method: 'plugin',
        pluginConfiguration: { name: BARMAN_CLOUD_PLUGIN },
        // A base backup right away: without one the WAL archive alone restores nothing.
        immediate: true,
        backupOwnerReference: 'self',
        target: 'prefer-standby',
      },
    });
  }
  if (spec.podMonitor) {
    objects.set('templates/pod-monitor.yaml', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: metadata(spec.name),
      spec: {
        selector: { matchLabels: { ...selector } },
        podMetricsEndpoints: [{ port: 'metrics' }],
      },
    });
  }

  // JSON (valid YAML): Helm parses YAML 1.1, where a bare `off` or `on` (huge_pages) would become a boolean.
  const templates = [...objects].map(([p, o]) => [p, toJsonManifest(o)] as [string, string]);
  for (const [p, text] of templates) {
    // The chart has no template actions: Helm would read `{{` in a value as one.
    if (text.includes('{{')) throw new Error(`${p}: a value contains "{{", which Helm would render as a template action`);
  }
  const chartYaml = toYaml({
    apiVersion: 'v2',
    name: spec.chartName,
    description: `CloudNativePG Cluster ${spec.name} of Caracal (operator ${CNPG_OPERATOR_VERSION}; generated, do not edit)`,
    type: 'application',
    version: '1.0.0',
    appVersion: CNPG_OPERATOR_VERSION,
  });
  const files = new Map<string, string>([['Chart.yaml', chartYaml], ...templates]);
  return {
    files: new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    manifests: [...objects.values()],
  };
}
