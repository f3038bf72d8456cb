// StoresMonitoring: the two exporters (pinned images, restricted pods, the monitoring login's password as a file,
// the exporter user's as a Secret reference), their NetworkPolicy, the rules file, the PrometheusRule and PodMonitor,
// the dashboard ConfigMap with the sidecar label, and bad props. (The exporters, rules and dashboard run for real in
// test/integration/constructs/monitoring.)
import { parse } from 'yaml';
import { StoresMonitoring, StoresMonitoringProps } from '../../../constructs';
import { POSTGRES_EXPORTER_IMAGE, REDIS_EXPORTER_IMAGE } from '../../../constructs/internal/monitoring/exporters';
import { TROUBLESHOOTING_ROWS } from '../../../common/troubleshooting';
import { checkTerraformJson, formatViolations } from '../../support/pod-security';
import { byName, Json, resources, scope, synthScope } from '../../support/synth';

const LOGIN = {
  login: 'monitoring' as const,
  username: 'caracal_dev_monitoring',
  groupRole: 'caracal_monitoring',
  secretName: 'caracal-db-monitoring',
  usernameKey: 'username',
  passwordKey: 'password',
  version: 'generated:32:0',
};
const base: StoresMonitoringProps = {
  environment: 'dev',
  namespace: 'caracal-dev',
  postgres: {
    host: 'db.example.com',
    port: 5432,
    database: 'caracal',
    sslMode: 'verify-full',
    caCertSecret: { secretName: 'db-ca', key: 'ca.crt' },
  },
  monitoringLogin: LOGIN,
  redis: { host: 'redis.caracal-dev.svc.cluster.local', port: 6379 },
  redisExporterSecret: { user: 'exporter', secretName: 'caracal-redis-exporter', passwordKey: 'password', version: 'generated:32:0' },
  redisPodSelector: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'caracal-dev' },
  pools: [{ applicationName: 'caracal-api', poolMax: 10, maxPods: 4 }],
  schemaVersion: 4,
};

function synth(extra: Partial<StoresMonitoringProps> = {}): { json: Json; text: string } {
  return synthScope((s) => new StoresMonitoring(s, 'monitoring', { ...base, ...extra }));
}
const container = (json: Json, name: string) =>
  byName(json, 'kubernetes_deployment_v1', `caracal-dev-${name}`).spec.template.spec.container[0];
const manifests = (json: Json) => Object.values(resources(json, 'kubernetes_manifest')).map((m) => m.manifest);

describe('StoresMonitoring', () => {
  test('GIVEN defaults WHEN synthesized THEN postgres_exporter and redis_exporter run from the pinned images the tests run', () => {
    const { json } = synth();

    expect([container(json, 'postgres-exporter').image, container(json, 'redis-exporter').image]).toEqual([
      POSTGRES_EXPORTER_IMAGE,
      REDIS_EXPORTER_IMAGE,
    ]);
    expect(POSTGRES_EXPORTER_IMAGE).toMatch(/:v0\.11\.1$/);
    expect(REDIS_EXPORTER_IMAGE).toMatch(/:v1\.45\.0$/);
  });

  test('GIVEN the synthesized pods WHEN checked against Pod Security "restricted" THEN there is no violation and the hardening holds', () => {
    const report = checkTerraformJson(synth().text);

    expect(report.pods).toHaveLength(2);
    expect(formatViolations(report.violations)).toBe('');
    expect(report.hardening).toEqual([]);
  });

  test('GIVEN defaults WHEN postgres_exporter is read THEN it logs in as the monitoring login with the password as a file, verifies TLS with the CA, and reads the rendered query file', () => {
    const { json } = synth();
    const c = container(json, 'postgres-exporter');
    const env = Object.fromEntries(c.env.map((e: Json) => [e.name, e.value]));

    expect(env).toEqual({
      DATA_SOURCE_URI: 'db.example.com:5432/caracal?sslmode=verify-full&sslrootcert=%2Fvar%2Frun%2Fsecrets%2Fcaracal%2Fdb-ca%2Fca.crt',
      DATA_SOURCE_USER: 'caracal_dev_monitoring',
      DATA_SOURCE_PASS_FILE: '/var/run/secrets/caracal/monitoring/password',
    });
    expect(c.args).toContain('--extend.query-path=/etc/postgres-exporter/queries.yaml');
    const queries = byName(json, 'kubernetes_config_map_v1', 'caracal-dev-postgres-exporter-queries').data['queries.yaml'];
    expect(Object.keys(parse(queries))).toEqual(expect.arrayContaining(['caracal_outbox', 'caracal_pool', 'caracal_schema']));
    expect(queries).toContain("('caracal-api', 10, 4)");
  });

  test('GIVEN defaults WHEN redis_exporter is read THEN it logs in as the exporter user with the password from a Secret reference, never a value', () => {
    const c = container(synth().json, 'redis-exporter');

    expect(c.args).toEqual(
      expect.arrayContaining(['--redis.addr=redis://redis.caracal-dev.svc.cluster.local:6379', '--redis.user=exporter']),
    );
    expect(c.env).toEqual([
      { name: 'REDIS_PASSWORD', value_from: { secret_key_ref: { name: 'caracal-redis-exporter', key: 'password' } } },
    ]);
  });

  test('GIVEN defaults WHEN the NetworkPolicy is read THEN Prometheus pods may scrape the two metrics ports and the exporters reach only Postgres, Redis and DNS', () => {
    const spec = byName(synth().json, 'kubernetes_network_policy_v1', 'caracal-dev-exporters').spec;

    expect(spec.pod_selector.match_labels).toEqual(StoresMonitoring.podSelector('dev'));
    expect(spec.ingress).toEqual([
      {
        from: [{ pod_selector: { match_labels: { 'app.kubernetes.io/name': 'prometheus' } }, namespace_selector: { match_labels: {} } }],
        ports: [
          { port: '9187', protocol: 'TCP' },
          { port: '9121', protocol: 'TCP' },
        ],
      },
    ]);
    expect(spec.egress.map((e: Json) => [e.to?.[0]?.pod_selector?.match_labels ?? null, e.ports.map((p: Json) => p.port)])).toEqual([
      [null, ['5432']],
      [base.redisPodSelector, ['6379']],
      [null, ['53', '53']],
    ]);
  });

  test('GIVEN defaults WHEN the rules are read THEN the plain rules file and the PrometheusRule hold the same groups, one or more rules per troubleshooting row', () => {
    const { json } = synth();
    const file = parse(byName(json, 'kubernetes_config_map_v1', 'caracal-dev-alert-rules').data['caracal.rules.yaml']);
    const rule = manifests(json).find((m) => m.kind === 'PrometheusRule');

    expect(rule.spec.groups).toEqual(file.groups);
    expect(rule.metadata).toMatchObject({ name: 'caracal-dev-alerts', namespace: 'caracal-dev' });
    const rows = new Set(file.groups[0].rules.map((r: Json) => r.labels.caracal_troubleshooting_row));
    expect(TROUBLESHOOTING_ROWS.filter((r) => !rows.has(r.id))).toEqual([]);
  });

  test('GIVEN defaults WHEN the PodMonitor is read THEN it selects both exporters by their metrics port', () => {
    const monitor = manifests(synth().json).find((m) => m.kind === 'PodMonitor');

    expect(monitor.spec).toEqual({
      selector: { matchLabels: StoresMonitoring.podSelector('dev') },
      podMetricsEndpoints: [{ port: 'metrics', interval: '30s' }],
    });
  });

  test('GIVEN prometheusOperator false WHEN synthesized THEN there is no kubernetes_manifest and the rules file remains', () => {
    const { json } = synth({ prometheusOperator: false });

    expect(resources(json, 'kubernetes_manifest')).toEqual({});
    expect(byName(json, 'kubernetes_config_map_v1', 'caracal-dev-alert-rules').data['caracal.rules.yaml']).toContain(
      'CaracalOutboxGrowing',
    );
  });

  test('GIVEN prometheusLabels WHEN synthesized THEN the PrometheusRule and PodMonitor carry them (the operator selects them)', () => {
    const labels = manifests(synth({ prometheusLabels: { release: 'kube-prometheus-stack' } }).json).map((m) => m.metadata.labels.release);

    expect(labels).toEqual(['kube-prometheus-stack', 'kube-prometheus-stack']);
  });

  test('GIVEN defaults WHEN the dashboard ConfigMap is read THEN it has the sidecar label and one row per troubleshooting row', () => {
    const cm = byName(synth().json, 'kubernetes_config_map_v1', 'caracal-dev-dashboard');
    const dashboard = JSON.parse(cm.data['caracal-stores-dev.json']);

    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    expect(dashboard.panels.filter((p: Json) => p.type === 'row').map((p: Json) => p.title)).toEqual([
      ...TROUBLESHOOTING_ROWS.map((r) => `${r.phase}: ${r.symptom}`),
      'Backups and replication',
    ]);
  });

  test('GIVEN thresholds WHEN synthesized THEN the rules use them', () => {
    const { json } = synth({ thresholds: { outboxPendingAge: '10m', redisMemoryPercent: 80, backupAge: '2d' } });
    const text = byName(json, 'kubernetes_config_map_v1', 'caracal-dev-alert-rules').data['caracal.rules.yaml'];

    expect(text).toContain('caracal_outbox_oldest_pending_age_seconds{namespace="caracal-dev"}) > 600');
    expect(text).toContain('> 0.8');
    expect(text).toContain('> 172800');
  });

  test('GIVEN the same props WHEN synthesized twice THEN the output is byte-identical', () => {
    expect(synth().text).toBe(synth().text);
  });

  test.each<[string, Partial<StoresMonitoringProps>, RegExp]>([
    ['environment', { environment: 'Prod' }, /environment: "Prod" is not a valid environment name/],
    ['namespace', { namespace: 'Caracal_Dev' }, /namespace: "Caracal_Dev"/],
    ['postgresExporterImage', { postgresExporterImage: 'postgres-exporter:latest' }, /postgresExporterImage: .* is not a pinned image/],
    ['redisExporterImage', { redisExporterImage: 'oliver006/redis_exporter' }, /redisExporterImage: .* is not a pinned image/],
    ['runAsUser', { runAsUser: 0 }, /runAsUser: 0 is not a non-root uid/],
    ['resources', { resources: { limits: { memory: '64MB' } } }, /resources\.limits\.memory: "64MB"/],
    ['schemaVersion', { schemaVersion: 0 }, /schemaVersion: 0 is out of range/],
    ['partitionDaysAhead', { partitionDaysAhead: 400 }, /partitionDaysAhead: 400 is out of range/],
    ['scrapeFrom.podSelector', { scrapeFrom: { podSelector: {} } }, /scrapeFrom\.podSelector: \{\} is an empty selector/],
    ['scrapeFrom.namespaceSelector', { scrapeFrom: { namespaceSelector: { 'bad key!': 'x' } } }, /scrapeFrom\.namespaceSelector\.bad key!/],
    ['prometheusLabels', { prometheusLabels: { release: 'not valid!' } }, /prometheusLabels\.release: "not valid!"/],
    ['redisPodSelector', { redisPodSelector: {} }, /redisPodSelector: \{\} is an empty selector/],
    ['postgresPodSelector', { postgresPodSelector: {} }, /postgresPodSelector: \{\} is an empty selector/],
    ['backupCronJob', { backupCronJob: 'Backup_Job' }, /backupCronJob: "Backup_Job"/],
    [
      'backupStatusSql',
      { backupStatusSql: 'SELECT 1' },
      /backupStatusSql: "SELECT 1" does not return a last_success_timestamp_seconds column/,
    ],
    ['thresholds.outboxPendingAge', { thresholds: { outboxPendingAge: 'soon' } }, /thresholds\.outboxPendingAge: "soon" is not a duration/],
    ['thresholds.streamStall', { thresholds: { streamStall: '2s' } }, /thresholds\.streamStall: "2s" is out of range: expected 1m to 24h/],
    ['thresholds.replicationLag', { thresholds: { replicationLag: '2d' } }, /thresholds\.replicationLag: "2d" is out of range/],
    ['thresholds.backupAge', { thresholds: { backupAge: '10m' } }, /thresholds\.backupAge: "10m" is out of range: expected 1h to 30d/],
    ['thresholds.pendingEntries', { thresholds: { pendingEntries: 0 } }, /thresholds\.pendingEntries: 0 is out of range/],
    [
      'thresholds.redisMemoryPercent',
      { thresholds: { redisMemoryPercent: 100 } },
      /thresholds\.redisMemoryPercent: 100 is out of range: expected an integer from 50 to 99/,
    ],
    [
      'thresholds.connectionBudgetPercent',
      { thresholds: { connectionBudgetPercent: 0.9 } },
      /thresholds\.connectionBudgetPercent: 0\.9 is out of range/,
    ],
  ])('GIVEN a bad %s WHEN constructed THEN synth fails naming it, the value and what is accepted', (_field, extra, message) => {
    expect(() => new StoresMonitoring(scope(), 'monitoring', { ...base, ...extra })).toThrow(message);
  });

  test('GIVEN several bad props WHEN constructed THEN every problem is reported at once', () => {
    expect(
      () => new StoresMonitoring(scope(), 'monitoring', { ...base, runAsUser: 0, schemaVersion: 0, thresholds: { backupAge: 'x' } }),
    ).toThrow(/3 problems[\s\S]*runAsUser[\s\S]*schemaVersion[\s\S]*thresholds\.backupAge/);
  });

  test("GIVEN two environments with other pool sizes, rendered in turn WHEN their query files are read THEN each has its own pools, and the first's file comes back byte for byte", () => {
    // GIVEN dev, then an environment whose api pool is larger, then dev again (the query files are rendered once per content)
    const first = new StoresMonitoring(scope(), 'monitoring', base).queryFile;
    const other = new StoresMonitoring(scope(), 'monitoring', {
      ...base,
      environment: 'qa',
      pools: [{ applicationName: 'caracal-api', poolMax: 20, maxPods: 4 }],
    }).queryFile;
    const again = new StoresMonitoring(scope(), 'monitoring', base).queryFile;
    // THEN
    expect(first).toContain("('caracal-api', 10, 4)");
    expect(other).toContain("('caracal-api', 20, 4)");
    expect(other).not.toContain("('caracal-api', 10, 4)");
    expect(again).toBe(first);
  });
});
