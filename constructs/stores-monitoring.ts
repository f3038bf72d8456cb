// StoresMonitoring: what watches one environment's stores: postgres_exporter (as the environment's monitoring login,
// with Caracal's query file) and redis_exporter (as the exporter ACL user), locked down by a NetworkPolicy; the alert
// rules as a plain rules file (ConfigMap) and, for prometheus-operator, a PrometheusRule and a PodMonitor; and the
// Grafana dashboard in a ConfigMap for Grafana's sidecar. Secrets are only referenced, never rendered.
import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import {
  DeploymentV1,
  DeploymentV1SpecTemplateSpecContainer,
  DeploymentV1SpecTemplateSpecVolume,
} from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { Problems } from './errors';
import { componentSelector, standardLabels } from './internal/labels';
import { HARDENED_POD_SPEC, restrictedContainerSecurityContext, restrictedPodSecurityContext } from './internal/pod-security';
import * as rules from './internal/rules';
import { alertRules, renderRulesFile } from './internal/monitoring/alert-rules';
import { renderDashboard } from './internal/monitoring/dashboard';
import {
  POSTGRES_EXPORTER_IMAGE,
  POSTGRES_EXPORTER_PORT,
  postgresExporterArgs,
  postgresExporterEnv,
  REDIS_EXPORTER_IMAGE,
  REDIS_EXPORTER_PASSWORD_ENV,
  REDIS_EXPORTER_PORT,
  redisExporterArgs,
} from './internal/monitoring/exporters';
import { MonitoredPool, renderPostgresQueries } from './internal/monitoring/postgres-queries';
import type { LoginSecretRef } from './database-secrets';
import type { PostgresEndpoint, ResourceRequirements } from './postgres-instance';
import type { RedisEndpoint, RedisUserSecretRef } from './redis-streams';
import { checkStackIdentity } from './internal/stack-identity';
import type { ServiceName } from '../common/names';

/** The uid both exporter images run as (`nobody`); any non-root uid works, neither writes to its filesystem. */
export const EXPORTER_UID = 65534;
export { POSTGRES_EXPORTER_IMAGE, REDIS_EXPORTER_IMAGE };

/** Who may scrape the exporters (the NetworkPolicy's ingress peer). */
export interface ScrapeSource {
  /** Labels of the Prometheus pods. @default { 'app.kubernetes.io/name': 'prometheus' } */
  readonly podSelector?: Readonly<Record<string, string>>;
  /** Labels of their namespace. @default any namespace */
  readonly namespaceSelector?: Readonly<Record<string, string>>;
}

/** When the alerts fire. Durations use the one duration grammar ('5m', '26h'). */
export interface MonitoringThresholds {
  /** Oldest pending outbox row. @default '5m' */
  readonly outboxPendingAge?: string;
  /** A consumer group has taken nothing newer for this long while entries wait. @default '5m' */
  readonly streamStall?: string;
  /** Pending entries of a group above which growth alerts. @default 100 */
  readonly pendingEntries?: number;
  /** Redis memory as a percentage of maxmemory. @default 90 */
  readonly redisMemoryPercent?: number;
  /** Client connections as a percentage of max_connections - superuser_reserved_connections. @default 90 */
  readonly connectionBudgetPercent?: number;
  /** Replay lag of a standby. @default '1m' */
  readonly replicationLag?: string;
  /** Age of the last successful backup. @default '26h' (a daily backup plus slack) */
  readonly backupAge?: string;
}

export interface StoresMonitoringProps {
  /** Environment name (labels, rule group, dashboard uid). */
  readonly environment: string;
  /** Namespace of the exporters and ConfigMaps (the stores' namespace: every rule selects it). */
  readonly namespace: string;
  /** Where Postgres is. */
  readonly postgres: PostgresEndpoint;
  /** The environment's monitoring login (caracal_monitoring); its Secret is mounted as a file. */
  readonly monitoringLogin: LoginSecretRef;
  /** Labels of an in-cluster Postgres's pods: egress then goes to them only. @default any address on the port (managed) */
  readonly postgresPodSelector?: Readonly<Record<string, string>>;
  /** Where Redis is. */
  readonly redis: RedisEndpoint;
  /** The `exporter` ACL user's Secret. */
  readonly redisExporterSecret: RedisUserSecretRef;
  /** Labels of an in-cluster Redis's pods: egress then goes to them only. @default any address on the port (an external Redis) */
  readonly redisPodSelector?: Readonly<Record<string, string>>;
  /** The services' pools, compared with their connections. */
  readonly pools: readonly MonitoredPool[];
  /** The newest migration version of the release: CaracalMigrationsBehind fires below it. */
  readonly schemaVersion: number;
  /** Days ahead the partition health requires (as the maintenance CronJob's healthDaysAhead). @default 7 */
  readonly partitionDaysAhead?: number;
  /**
   * Extension point for the backup: a query readable by caracal_monitoring returning one row with a column
   * `last_success_timestamp_seconds`. @default none (CaracalBackupTooOld then reads `backupCronJob` or nothing)
   */
  readonly backupStatusSql?: string;
  /** The backup CronJob, read through kube-state-metrics' last successful time. @default none */
  readonly backupCronJob?: string;
  /** The services deployed: CaracalStreamGroupMissing expects consumer groups of their readers only. @default all five */
  readonly services?: readonly ServiceName[];
  /** Who may scrape the exporters. @default pods labelled app.kubernetes.io/name=prometheus, any namespace */
  readonly scrapeFrom?: ScrapeSource;
  /**
   * Create a PrometheusRule and a PodMonitor (kubernetes_manifest: the CRDs must exist at plan time). Set false
   * where prometheus-operator is not installed; the rules file and the pod annotations remain. @default true
   */
  readonly prometheusOperator?: boolean;
  /** Labels of the PrometheusRule and the PodMonitor (the operator's ruleSelector, e.g. `release: kube-prometheus-stack`). @default none */
  readonly prometheusLabels?: Readonly<Record<string, string>>;
  /** Where docs/operations.md is served; each runbook_url is `<it>#<alert>`. @default 'docs/operations.md' */
  readonly runbookBaseUrl?: string;
  readonly thresholds?: MonitoringThresholds;
  /** postgres_exporter image, pinned. @default POSTGRES_EXPORTER_IMAGE */
  readonly postgresExporterImage?: string;
  /** redis_exporter image, pinned. @default REDIS_EXPORTER_IMAGE */
  readonly redisExporterImage?: string;
  /** uid the exporters run as. @default 65534 */
  readonly runAsUser?: number;
  /** Resources of each exporter. @default requests 10m/32Mi, limits memory 64Mi */
  readonly resources?: ResourceRequirements;
}

const SECRET_DIR = '/var/run/secrets/caracal/monitoring';
const CA_DIR = '/var/run/secrets/caracal/db-ca';
const QUERY_DIR = '/etc/postgres-exporter';
const QUERY_FILE = 'queries.yaml';
const SECOND = 1000;

const THRESHOLDS = rules.keysOf<MonitoringThresholds>({
  outboxPendingAge: true,
  streamStall: true,
  pendingEntries: true,
  redisMemoryPercent: true,
  connectionBudgetPercent: true,
  replicationLag: true,
  backupAge: true,
});

/** Every prop of StoresMonitoringProps: a key not among them (from JavaScript) is an error naming the closest. */
const PROPS = rules.keysOf<StoresMonitoringProps>({
  services: true,
  environment: true,
  namespace: true,
  postgres: true,
  monitoringLogin: true,
  postgresPodSelector: true,
  redis: true,
  redisExporterSecret: true,
  redisPodSelector: true,
  pools: true,
  schemaVersion: true,
  partitionDaysAhead: true,
  backupStatusSql: true,
  backupCronJob: true,
  scrapeFrom: true,
  prometheusOperator: true,
  prometheusLabels: true,
  runbookBaseUrl: true,
  thresholds: true,
  postgresExporterImage: true,
  redisExporterImage: true,
  runAsUser: true,
  resources: true,
});

export class StoresMonitoring extends Construct {
  /** Labels of the exporters' pods: admit them in the Postgres and Redis NetworkPolicies. */
  static podSelector(environment: string): Record<string, string> {
    return componentSelector(`caracal-${environment}`, 'metrics');
  }

  readonly postgresExporter: DeploymentV1;
  readonly redisExporter: DeploymentV1;
  readonly networkPolicy: NetworkPolicyV1;
  /** The plain Prometheus rules file (`rules.yaml` of this ConfigMap). */
  readonly rulesConfigMap: ConfigMapV1;
  readonly dashboardConfigMap: ConfigMapV1;
  /** The PrometheusRule and PodMonitor (prometheus-operator); empty when `prometheusOperator` is false. */
  readonly operatorResources: readonly Manifest[];
  /** The rendered rules file, query file and dashboard (no secrets). */
  readonly rulesFile: string;
  readonly queryFile: string;
  readonly dashboardJson: string;

  constructor(scope: Construct, id: string, props: StoresMonitoringProps) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'StoresMonitoring prop');
    const t = props.thresholds ?? {};
    const pgImage = props.postgresExporterImage ?? POSTGRES_EXPORTER_IMAGE;
    const redisImage = props.redisExporterImage ?? REDIS_EXPORTER_IMAGE;
    const uid = props.runAsUser ?? EXPORTER_UID;
    const resources = props.resources ?? { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } };
    const daysAhead = props.partitionDaysAhead ?? 7;
    const prometheusPods = props.scrapeFrom?.podSelector ?? { 'app.kubernetes.io/name': 'prometheus' };

    rules.environmentName(problems, 'environment', props.environment);
    rules.namespace(problems, 'namespace', props.namespace);
    rules.pinnedImage(problems, 'postgresExporterImage', pgImage);
    rules.pinnedImage(problems, 'redisExporterImage', redisImage);
    rules.nonRootUid(problems, 'runAsUser', uid);
    rules.resources(problems, 'resources', resources, { limitRequired: 'expected a quantity such as 64Mi', example: '64Mi' });
    rules.integer(problems, 'schemaVersion', props.schemaVersion, 1, Number.MAX_SAFE_INTEGER, 'the newest migration version');
    rules.integer(problems, 'partitionDaysAhead', daysAhead, 0, 366);
    rules.knownKeys(problems, 'scrapeFrom', props.scrapeFrom, ['podSelector', 'namespaceSelector'], 'scrapeFrom key');
    rules.knownKeys(problems, 'thresholds', t, THRESHOLDS, 'threshold');
    rules.podSelector(problems, 'scrapeFrom.podSelector', prometheusPods, "the Prometheus pods' labels");
    rules.selectorEntries(problems, 'scrapeFrom.namespaceSelector', props.scrapeFrom?.namespaceSelector);
    rules.selectorEntries(problems, 'prometheusLabels', props.prometheusLabels);
    if (props.redisPodSelector !== undefined)
      rules.podSelector(problems, 'redisPodSelector', props.redisPodSelector, "the Redis pods' labels");
    if (props.postgresPodSelector !== undefined)
      rules.podSelector(problems, 'postgresPodSelector', props.postgresPodSelector, "the Postgres pods' labels");
    if (props.backupCronJob !== undefined) rules.dnsLabel(problems, 'backupCronJob', props.backupCronJob, 'CronJob name', 52);
    if (props.backupStatusSql !== undefined && !/\blast_success_timestamp_seconds\b/.test(props.backupStatusSql))
      problems.add(
        'backupStatusSql',
        props.backupStatusSql,
        'does not return a last_success_timestamp_seconds column: expected one row with it',
      );
    const seconds = (field: string, value: string, min: string, max: string, minMs: number, maxMs: number) =>
      rules.duration(problems, `thresholds.${field}`, value, { minMs, maxMs, accepted: `${min} to ${max}` });
    const outboxMs = seconds('outboxPendingAge', t.outboxPendingAge ?? '5m', '1m', '24h', 60 * SECOND, 86_400 * SECOND);
    const stallMs = seconds('streamStall', t.streamStall ?? '5m', '1m', '24h', 60 * SECOND, 86_400 * SECOND);
    const lagMs = seconds('replicationLag', t.replicationLag ?? '1m', '5s', '24h', 5 * SECOND, 86_400 * SECOND);
    const backupMs = seconds('backupAge', t.backupAge ?? '26h', '1h', '30d', 3_600 * SECOND, 30 * 86_400 * SECOND);
    const pendingEntries = t.pendingEntries ?? 100;
    const memoryPercent = t.redisMemoryPercent ?? 90;
    const budgetPercent = t.connectionBudgetPercent ?? 90;
    rules.integer(problems, 'thresholds.pendingEntries', pendingEntries, 1, 10_000_000);
    rules.integer(problems, 'thresholds.redisMemoryPercent', memoryPercent, 50, 99, 'percent of maxmemory');
    rules.integer(problems, 'thresholds.connectionBudgetPercent', budgetPercent, 50, 99, 'percent of the connection budget');
    const services = rules.serviceSet(problems, 'services', props.services);
    problems.throwIfAny();

    const instance = `caracal-${props.environment}`;
    const podSelector = StoresMonitoring.podSelector(props.environment);
    const labels = (name: string) => ({ ...standardLabels({ name, instance, component: 'metrics' }), ...podSelector });
    const ns = props.namespace;

    this.queryFile = renderPostgresQueries({ pools: props.pools, partitionDaysAhead: daysAhead, backupStatusSql: props.backupStatusSql });
    const groups = alertRules({
      environment: props.environment,
      namespace: ns,
      schemaVersion: props.schemaVersion,
      runbookBaseUrl: props.runbookBaseUrl,
      backupCronJob: props.backupCronJob,
      services,
      thresholds: {
        outboxPendingAgeSeconds: outboxMs! / SECOND,
        streamStallSeconds: stallMs! / SECOND,
        pendingEntries,
        redisMemoryShare: memoryPercent / 100,
        connectionShare: budgetPercent / 100,
        replicationLagSeconds: lagMs! / SECOND,
        backupAgeSeconds: backupMs! / SECOND,
      },
    });
    this.rulesFile = renderRulesFile(groups);
    this.dashboardJson = renderDashboard({ environment: props.environment, namespace: ns, schemaVersion: props.schemaVersion });

    const queries = new ConfigMapV1(this, 'postgres-exporter-queries', {
      metadata: { name: `${instance}-postgres-exporter-queries`, namespace: ns, labels: labels('postgres-exporter') },
      data: { [QUERY_FILE]: this.queryFile },
    });

    // postgres_exporter: lib/pq knows disable, require, verify-ca and verify-full; allow/prefer become require.
    const pg = props.postgres;
    const sslMode = pg.sslMode === 'allow' || pg.sslMode === 'prefer' ? 'require' : pg.sslMode;
    const pgEnv = postgresExporterEnv({
      host: pg.host,
      port: pg.port,
      database: pg.database,
      sslMode,
      rootCertFile: pg.caCertSecret ? `${CA_DIR}/${pg.caCertSecret.key}` : undefined,
      user: props.monitoringLogin.username,
      passwordFile: `${SECRET_DIR}/${props.monitoringLogin.passwordKey}`,
      queryFile: `${QUERY_DIR}/${QUERY_FILE}`,
    });
    const pgVolumes: DeploymentV1SpecTemplateSpecVolume[] = [
      { name: 'monitoring-login', secret: { secretName: props.monitoringLogin.secretName, defaultMode: '0440' } },
      { name: 'queries', configMap: { name: queries.metadata.name } },
    ];
    const pgMounts = [
      { name: 'monitoring-login', mountPath: SECRET_DIR, readOnly: true },
      { name: 'queries', mountPath: QUERY_DIR, readOnly: true },
    ];
    if (pg.caCertSecret) {
      pgVolumes.push({ name: 'db-ca', secret: { secretName: pg.caCertSecret.secretName, defaultMode: '0444' } });
      pgMounts.push({ name: 'db-ca', mountPath: CA_DIR, readOnly: true });
    }
    const container = (name: string, image: string, port: number, args: string[]): DeploymentV1SpecTemplateSpecContainer => ({
      name,
      image,
      imagePullPolicy: 'IfNotPresent',
      args,
      port: [{ name: 'metrics', containerPort: port, protocol: 'TCP' }],
      readinessProbe: { httpGet: { path: '/', port: 'metrics' }, periodSeconds: 10 },
      resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
      securityContext: restrictedContainerSecurityContext({ runAsUser: uid, readOnlyRootFilesystem: true }),
    });
    const deployment = (
      name: string,
      port: number,
      c: DeploymentV1SpecTemplateSpecContainer,
      volumes: DeploymentV1SpecTemplateSpecVolume[],
    ) => {
      const podLabels = { ...podSelector, 'app.kubernetes.io/name': name };
      return new DeploymentV1(this, name, {
        metadata: { name: `${instance}-${name}`, namespace: ns, labels: labels(name) },
        spec: {
          replicas: '1',
          selector: { matchLabels: podLabels },
          template: {
            metadata: {
              labels: { ...labels(name), ...podLabels },
              // For Prometheus setups without the operator (kubernetes_sd_configs with the usual relabeling).
              annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port) },
            },
            spec: {
              ...HARDENED_POD_SPEC,
              securityContext: restrictedPodSecurityContext({ runAsUser: uid }),
              container: [c],
              volume: volumes,
            },
          },
        },
      });
    };
    this.postgresExporter = deployment(
      'postgres-exporter',
      POSTGRES_EXPORTER_PORT,
      {
        ...container(
          'postgres-exporter',
          pgImage,
          POSTGRES_EXPORTER_PORT,
          postgresExporterArgs({ queryFile: `${QUERY_DIR}/${QUERY_FILE}` }),
        ),
        env: Object.entries(pgEnv).map(([name, value]) => ({ name, value })),
        volumeMount: pgMounts,
      },
      pgVolumes,
    );
    this.redisExporter = deployment(
      'redis-exporter',
      REDIS_EXPORTER_PORT,
      {
        ...container(
          'redis-exporter',
          redisImage,
          REDIS_EXPORTER_PORT,
          redisExporterArgs({ redisUri: `redis://${props.redis.host}:${props.redis.port}` }),
        ),
        // A reference to the exporter user's Secret: the value is never in the manifest.
        env: [
          {
            name: REDIS_EXPORTER_PASSWORD_ENV,
            valueFrom: { secretKeyRef: { name: props.redisExporterSecret.secretName, key: props.redisExporterSecret.passwordKey } },
          },
        ],
      },
      [],
    );

    // Ingress: the metrics ports from Prometheus only. Egress: Postgres, Redis and DNS only.
    const dbPort = { port: String(pg.port), protocol: 'TCP' };
    const redisPort = { port: String(props.redis.port), protocol: 'TCP' };
    this.networkPolicy = new NetworkPolicyV1(this, 'network-policy', {
      metadata: { name: `${instance}-exporters`, namespace: ns, labels: labels('exporters') },
      spec: {
        podSelector: { matchLabels: { ...podSelector } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            from: [
              {
                podSelector: { matchLabels: { ...prometheusPods } },
                namespaceSelector: { matchLabels: { ...(props.scrapeFrom?.namespaceSelector ?? {}) } },
              },
            ],
            ports: [POSTGRES_EXPORTER_PORT, REDIS_EXPORTER_PORT].map((p) => ({ port: String(p), protocol: 'TCP' })),
          },
        ],
        egress: [
          props.postgresPodSelector
            ? { to: [{ podSelector: { matchLabels: { ...props.postgresPodSelector } } }], ports: [dbPort] }
            : { ports: [dbPort] },
          props.redisPodSelector
            ? { to: [{ podSelector: { matchLabels: { ...props.redisPodSelector } } }], ports: [redisPort] }
            : { ports: [redisPort] },
          {
            ports: [
              { port: '53', protocol: 'UDP' },
              { port: '53', protocol: 'TCP' },
            ],
          },
        ],
      },
    });

    this.rulesConfigMap = new ConfigMapV1(this, 'alert-rules', {
      metadata: { name: `${instance}-alert-rules`, namespace: ns, labels: labels('alert-rules') },
      data: { 'caracal.rules.yaml': this.rulesFile },
    });
    this.dashboardConfigMap = new ConfigMapV1(this, 'dashboard', {
      // Grafana's dashboard sidecar (kube-prometheus-stack, the grafana chart) loads every ConfigMap with this label.
      metadata: { name: `${instance}-dashboard`, namespace: ns, labels: { ...labels('dashboard'), grafana_dashboard: '1' } },
      data: { [`caracal-stores-${props.environment}.json`]: this.dashboardJson },
    });

    const operator: Manifest[] = [];
    if (props.prometheusOperator ?? true) {
      const meta = (name: string) => ({ name, namespace: ns, labels: { ...labels(name), ...(props.prometheusLabels ?? {}) } });
      operator.push(
        new Manifest(this, 'prometheus-rule', {
          manifest: {
            apiVersion: 'monitoring.coreos.com/v1',
            kind: 'PrometheusRule',
            metadata: meta(`${instance}-alerts`),
            spec: { groups: groups.map((g) => ({ name: g.name, rules: g.rules.map((r) => ({ ...r })) })) },
          },
        }),
        new Manifest(this, 'pod-monitor', {
          manifest: {
            apiVersion: 'monitoring.coreos.com/v1',
            kind: 'PodMonitor',
            metadata: meta(`${instance}-exporters`),
            spec: {
              selector: { matchLabels: { ...podSelector } },
              podMetricsEndpoints: [{ port: 'metrics', interval: '30s' }],
            },
          },
        }),
      );
    }
    this.operatorResources = operator;
  }
}
