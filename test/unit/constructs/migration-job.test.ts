// MigrationJob: the generated hook chart (schemas, hook annotations, pod security, byte-exact files,
// determinism, content hash, release size), the helm_release, the egress policy, and props validation.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { Construct } from 'constructs';
import { App } from 'cdktf';
import { DatabaseCredentials, DatabaseSecrets, PostgresInstance, ServicePools } from '../../../constructs';
import type { AlternatingRotation, Duration } from '../../../constructs';
import { MigrationJob, MigrationJobProps, MigrationRunnerImage, DEFAULT_NODE_IMAGE } from '../../../constructs/migration-job';
import { checkChartDirectory, checkManifests, formatViolations, fromTerraformShape } from '../../support/pod-security';
import { Json, only, scope, synthScope } from '../../support/synth';
import { discoverMigrations, discoverMigrationsForUp, MANIFEST_FILENAME } from '../../../src/migrate';

const REPO = path.resolve(__dirname, '..', '..', '..');

function fixtureBundle(content = '#!/usr/bin/env node\n// caracal-migrate test bundle: `{{ .Values.x }}` stays text\n'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'caracal-bundle-'));
  writeFileSync(path.join(dir, 'caracal-migrate.cjs'), content);
  return path.join(dir, 'caracal-migrate.cjs');
}

function fixtureMigrations(extra: Record<string, string | Buffer> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'caracal-migrations-'));
  for (const f of readdirSync(path.join(REPO, 'migrations'))) copyFileSync(path.join(REPO, 'migrations', f), path.join(dir, f));
  for (const [name, content] of Object.entries(extra)) writeFileSync(path.join(dir, name), content);
  return dir;
}

const BUNDLE = fixtureBundle();
const MIGRATIONS = fixtureMigrations();

interface Built {
  json: Json;
  text: string;
  job: MigrationJob;
}

type Extra = Partial<MigrationJobProps> & {
  external?: boolean;
  rotation?: string | AlternatingRotation;
  statementTimeout?: Duration;
  /** Existing Secrets (`vault-db-<login>`) instead of generated credentials. */
  existing?: boolean;
};

function addJob(s: Construct, extra: Extra = {}): MigrationJob {
  const { external, rotation, statementTimeout, existing, ...props } = extra;
  const byLogin = { rotation: rotation ? { api: rotation } : {} };
  const secrets = new DatabaseSecrets(s, 'secrets', {
    environment: 'dev',
    namespace: 'caracal-dev',
    credentials: existing ? DatabaseCredentials.fromExistingSecret('vault-db', byLogin) : DatabaseCredentials.generated(byLogin),
  });
  const database = external
    ? PostgresInstance.external(s, 'postgres', { host: 'db.example.com', sslMode: 'verify-full', caCertSecret: { secretName: 'db-ca' } })
    : new PostgresInstance(s, 'postgres', { environment: 'dev', namespace: 'caracal-dev', owner: secrets.login('owner') });
  const pools = new ServicePools(s, 'pools', {
    environment: 'dev',
    namespace: 'caracal-dev',
    endpoint: database.endpoint,
    maxConnections: 300,
    secrets,
    services: statementTimeout ? { api: { statementTimeout } } : {},
  });
  return new MigrationJob(s, 'migrate', {
    environment: 'dev',
    namespace: 'caracal-dev',
    database,
    secrets,
    pools,
    runnerBundlePath: BUNDLE,
    migrationsDir: MIGRATIONS,
    ...props,
  });
}

function build(extra: Extra = {}): Built {
  let job!: MigrationJob;
  const { json, text } = synthScope((s) => {
    job = addJob(s, extra);
  });
  return { json, text, job };
}

const manifest = (b: Built, kind: string, suffix = '') =>
  b.job.chart.manifests.find((m) => m.kind === kind && m.metadata.name.endsWith(suffix)) as Json;
const podSpec = (b: Built) => manifest(b, 'Job').spec.template.spec;
const container = (b: Built) => podSpec(b).containers[0];

describe('MigrationJob chart', () => {
  const b = build();

  test('GIVEN the defaults THEN the chart has Chart.yaml, values.yaml and three templates', () => {
    expect([...b.job.chart.files.keys()]).toEqual([
      'Chart.yaml',
      'templates/configmap-migrations.yaml',
      'templates/configmap-runner.yaml',
      'templates/job.yaml',
      'values.yaml',
    ]);
  });

  test.each([
    ['ConfigMap', (o: Json) => new ConfigMap(o as never)],
    ['Job', (o: Json) => new Job(o as never)],
  ])('GIVEN every %s of the chart WHEN validated against the Kubernetes schema THEN it is valid', (kind, model) => {
    const objects = b.job.chart.manifests.filter((m) => m.kind === kind);
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) expect(() => model(o as Json).validate()).not.toThrow();
  });

  test("GIVEN a synth WHEN the chart is written THEN it is in the app's own outdir, never in node_modules", () => {
    const outdir = path.resolve(App.of(b.job).outdir);

    expect(b.job.chartDirectory.startsWith(path.join(outdir, 'caracal-hook-charts') + path.sep)).toBe(true);
    expect(b.job.chartDirectory).not.toMatch(/node_modules/);
  });

  test('GIVEN the chart THEN only ConfigMaps and the Job are in it, no Secret', () => {
    expect(b.job.chart.manifests.map((m) => m.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'Job']);
  });

  test('GIVEN the chart THEN every object is a pre-install,pre-upgrade hook kept until the next run', () => {
    for (const m of b.job.chart.manifests) {
      const a = m.metadata.annotations as Record<string, string>;
      expect([a['helm.sh/hook'], a['helm.sh/hook-delete-policy']]).toEqual(['pre-install,pre-upgrade', 'before-hook-creation']);
    }
  });

  test('GIVEN the chart rendered for Argo CD WHEN its annotations are read THEN every object is a PreSync hook in the Helm weight order, deleted only before the next run (the last run and its logs stay)', () => {
    for (const m of b.job.chart.manifests) {
      const a = m.metadata.annotations as Record<string, string>;
      expect({
        hook: a['argocd.argoproj.io/hook'],
        deletePolicy: a['argocd.argoproj.io/hook-delete-policy'],
        wave: a['argocd.argoproj.io/sync-wave'],
      }).toEqual({ hook: 'PreSync', deletePolicy: 'BeforeHookCreation', wave: a['helm.sh/hook-weight'] });
    }
    // The templates on disk (what `helm template` gives Argo CD) carry the same annotations.
    const job = b.job.chart.files.get('templates/job.yaml')!;
    expect(job).toContain('argocd.argoproj.io/hook: PreSync');
    expect(job).toContain('argocd.argoproj.io/hook-delete-policy: BeforeHookCreation');
  });

  test('GIVEN the chart THEN the ConfigMaps weigh less than the Job, so they exist before it', () => {
    const weight = (m: Json) => Number(m.metadata.annotations['helm.sh/hook-weight']);
    const job = weight(manifest(b, 'Job'));
    const maps = b.job.chart.manifests.filter((m) => m.kind === 'ConfigMap').map((m) => weight(m as Json));
    expect(maps.every((w) => w < job)).toBe(true);
  });

  test('GIVEN the Job THEN it has a bounded run: backoffLimit, activeDeadlineSeconds, restartPolicy Never, no ttlSecondsAfterFinished', () => {
    const spec = manifest(b, 'Job').spec;
    expect({
      backoffLimit: spec.backoffLimit,
      activeDeadlineSeconds: spec.activeDeadlineSeconds,
      restartPolicy: spec.template.spec.restartPolicy,
      ttl: spec.ttlSecondsAfterFinished,
    }).toEqual({ backoffLimit: 1, activeDeadlineSeconds: 600, restartPolicy: 'Never', ttl: undefined });
  });

  test('GIVEN the Job pod WHEN checked by the Pod Security helper THEN it meets "restricted" and the project hardening', () => {
    const report = checkManifests(b.job.chart.manifests, 'hook-chart');
    expect(report.pods).toHaveLength(1);
    expect(formatViolations(report.violations)).toBe('');
    expect(report.hardening).toEqual([]);
  });

  test('GIVEN the chart directory on disk WHEN the Pod Security helper reads its templates THEN the Job pod passes', () => {
    const report = checkChartDirectory(b.job.chartDirectory);
    expect([report.pods.length, formatViolations(report.violations), report.hardening]).toEqual([1, '', []]);
  });

  test('GIVEN the chart directory on disk THEN it holds exactly the generated files', () => {
    const onDisk = new Map([...b.job.chart.files.keys()].map((f) => [f, readFileSync(path.join(b.job.chartDirectory, f), 'utf8')]));
    expect(onDisk).toEqual(b.job.chart.files);
  });

  test('GIVEN the Job pod THEN service-mesh sidecars are not injected and no API token is mounted', () => {
    const t = manifest(b, 'Job').spec.template;
    expect([
      t.metadata.annotations['sidecar.istio.io/inject'],
      t.metadata.annotations['linkerd.io/inject'],
      t.spec.automountServiceAccountToken,
    ]).toEqual(['false', 'disabled', false]);
  });

  test('GIVEN the Job container THEN it has the env contract with PGPASSWORD_FILE on the owner Secret volume, mounted whole', () => {
    const c = container(b);
    expect(Object.fromEntries(c.env.map((e: Json) => [e.name, e.value]))).toEqual({
      PGHOST: 'postgres.caracal-dev.svc.cluster.local',
      PGPORT: '5432',
      PGDATABASE: 'caracal',
      PGUSER: 'caracal_dev_owner',
      PGPASSWORD_FILE: '/var/run/secrets/caracal/owner/password',
      PGSSLMODE: 'disable',
      HOME: '/tmp',
    });
    const mount = c.volumeMounts.find((m: Json) => m.mountPath === '/var/run/secrets/caracal/owner');
    const volume = podSpec(b).volumes.find((v: Json) => v.name === mount.name);
    expect(volume.secret).toEqual({ secretName: 'caracal-db-owner', items: [{ key: 'password', path: 'password' }], defaultMode: 0o440 });
    expect(c.volumeMounts.filter((m: Json) => 'subPath' in m)).toEqual([]);
  });

  test('GIVEN the Job container THEN each service login Secret and the maintenance, monitoring and backup login Secrets are mounted for provisioning', () => {
    const secretNames = podSpec(b)
      .volumes.filter((v: Json) => v.secret)
      .map((v: Json) => v.secret.secretName);
    expect(secretNames).toEqual([
      'caracal-db-owner',
      'caracal-db-api',
      'caracal-db-coordinator',
      'caracal-db-audit',
      'caracal-db-sts',
      'caracal-db-gateway',
      'caracal-db-maintenance',
      'caracal-db-monitoring',
      'caracal-db-backup',
    ]);
  });

  test('GIVEN the defaults THEN the container runs the public Node image with the bundled runner: up, then provision', () => {
    const c = container(b);
    expect([c.image, c.command]).toEqual([
      DEFAULT_NODE_IMAGE,
      [
        'node',
        '/opt/caracal/runner/caracal-migrate.cjs',
        'up',
        '--wait-for-db=120s',
        '--dir',
        '/opt/caracal/migrations',
        '--provision',
        '/opt/caracal/runner/provision.json',
      ],
    ]);
  });

  test('GIVEN the Job container THEN it has requests and a memory limit, and a read-only root filesystem', () => {
    const c = container(b);
    expect([c.resources, c.securityContext.readOnlyRootFilesystem]).toEqual([
      { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      true,
    ]);
  });

  test('GIVEN migration files THEN they are in the ConfigMap as base64 binaryData, byte-exact', () => {
    const data = manifest(b, 'ConfigMap', '-migrations').binaryData as Record<string, string>;
    for (const f of readdirSync(MIGRATIONS))
      expect(Buffer.from(data[f], 'base64').equals(readFileSync(path.join(MIGRATIONS, f)))).toBe(true);
    const runner = manifest(b, 'ConfigMap', '-runner').binaryData as Record<string, string>;
    expect(Buffer.from(runner['caracal-migrate.cjs'], 'base64').equals(readFileSync(BUNDLE))).toBe(true);
  });

  test('GIVEN migration files (one with CRLF and a BOM) THEN the ConfigMap carries the checksum manifest, and the runner reading the mounted files takes every checksum from it, equal to reading each file', () => {
    const built = build({ migrationsDir: fixtureMigrations({ '0099_crlf.up.sql': '\uFEFFSELECT 1;\r\nSELECT 2;\r\n' }) });
    const data = manifest(built, 'ConfigMap', '-migrations').binaryData as Record<string, string>;
    const mounted = mkdtempSync(path.join(tmpdir(), 'caracal-mounted-'));
    for (const [key, value] of Object.entries(data)) writeFileSync(path.join(mounted, key), Buffer.from(value, 'base64'));
    const up = discoverMigrationsForUp(mounted);
    expect([up.manifest, up.read]).toEqual([path.join(mounted, MANIFEST_FILENAME), 0]);
    expect(up.files.map((f) => [f.filename, f.checksum])).toEqual(discoverMigrations(mounted).map((f) => [f.filename, f.checksum]));
    expect(up.files.map((f) => f.filename)).toContain('0099_crlf.up.sql');
  });

  test('GIVEN SQL and JS that contain "{{" THEN the templates hold no template action but the content hash', () => {
    const withBraces = build({ migrationsDir: fixtureMigrations({ '0002_braces.up.sql': "SELECT '{{ .Values.nope }}';\n" }) });
    const actions = [...withBraces.job.chart.files].flatMap(([p, t]) => (t.match(/\{\{.*?\}\}/g) ?? []).map((a) => `${p}: ${a}`));
    expect(actions).toEqual(['templates/job.yaml: {{ .Values.contentHash | quote }}']);
  });

  test('GIVEN provisioning config THEN it lists every service login and the maintenance, monitoring and backup logins, each with its group role, mounted password path and settings', () => {
    const runner = manifest(b, 'ConfigMap', '-runner').binaryData as Record<string, string>;
    const config = JSON.parse(Buffer.from(runner['provision.json'], 'base64').toString('utf8'));
    expect(config.logins[0]).toEqual({
      loginRole: 'caracal_dev_api',
      groupRole: 'caracal_api',
      passwordFile: '/var/run/secrets/caracal/logins/caracal_dev_api/password',
      settings: { idle_in_transaction_session_timeout: '60000', statement_timeout: '30000' },
    });
    expect(config.logins.map((l: Json) => l.loginRole)).toEqual(
      ['api', 'coordinator', 'audit', 'sts', 'gateway', 'maintenance', 'monitoring', 'backup'].map((s) => `caracal_dev_${s}`),
    );
    expect(config.logins[5]).toEqual({
      loginRole: 'caracal_dev_maintenance',
      groupRole: 'caracal_maintenance',
      passwordFile: '/var/run/secrets/caracal/logins/caracal_dev_maintenance/password',
      settings: {},
    });
    expect(config.logins[6]).toEqual({
      loginRole: 'caracal_dev_monitoring',
      groupRole: 'caracal_monitoring',
      passwordFile: '/var/run/secrets/caracal/logins/caracal_dev_monitoring/password',
      settings: {},
    });
    expect(config.logins[7]).toEqual({
      loginRole: 'caracal_dev_backup',
      groupRole: 'caracal_backup',
      passwordFile: '/var/run/secrets/caracal/logins/caracal_dev_backup/password',
      settings: {},
    });
  });

  test('GIVEN the same input twice THEN the chart files and the Terraform JSON are byte-identical', () => {
    const again = build();
    expect([...again.job.chart.files]).toEqual([...b.job.chart.files]);
    expect(again.text).toBe(b.text);
  });

  test('GIVEN generated credentials THEN no password value is in the chart and the Job env holds no secret', () => {
    const all = [...b.job.chart.files.values()].join('\n');
    expect(all).not.toMatch(/random_password|\$\{/);
    expect(container(b).env.filter((e: Json) => e.valueFrom || /PASSWORD$/.test(e.name))).toEqual([]);
  });
});

describe('MigrationJob release', () => {
  const b = build();
  const release = () => only(b.json, 'helm_release');

  test('GIVEN the defaults THEN the helm_release is atomic, waits for the Job, keeps bounded history and carries the content hash', () => {
    const r = release();
    expect({
      name: r.name,
      namespace: r.namespace,
      atomic: r.atomic,
      wait: r.wait,
      wait_for_jobs: r.wait_for_jobs,
      max_history: r.max_history,
      set: r.set,
    }).toEqual({
      name: 'caracal-dev-migrate',
      namespace: 'caracal-dev',
      atomic: true,
      wait: true,
      wait_for_jobs: true,
      max_history: 5,
      set: [{ name: 'contentHash', type: 'string', value: b.job.contentHash }],
    });
    expect(r.chart).toMatch(/assets\//);
  });

  test('GIVEN the defaults THEN the timeout outlasts activeDeadlineSeconds x (backoffLimit + 1) + the wait for the database', () => {
    expect(release().timeout).toBe(600 * 2 + 120 + 60);
  });

  test('GIVEN an in-cluster database THEN the release waits for its Secrets, StatefulSet, NetworkPolicies and the Job egress policy', () => {
    const deps: string[] = release().depends_on;
    for (const type of ['kubernetes_secret_v1', 'kubernetes_stateful_set_v1', 'kubernetes_network_policy_v1', 'random_password']) {
      expect(deps.some((d) => d.startsWith(`${type}.`))).toBe(true);
    }
  });

  test('GIVEN an in-cluster database THEN the Job may reach only its pods on 5432 and DNS, and nothing may reach the Job', () => {
    const np = Object.values(b.json.resource.kubernetes_network_policy_v1 as Record<string, Json>).find(
      (p) => p.metadata.name === 'caracal-dev-migrate-egress',
    )!;
    expect(np.spec.pod_selector.match_labels).toEqual(b.job.podLabels);
    expect(np.spec.policy_types).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress).toBeUndefined();
    expect(np.spec.egress).toEqual([
      {
        to: [
          {
            pod_selector: {
              match_labels: {
                'app.kubernetes.io/name': 'postgres',
                'app.kubernetes.io/instance': 'caracal-dev',
                'app.kubernetes.io/component': 'database',
                'app.kubernetes.io/part-of': 'caracal',
              },
            },
          },
        ],
        ports: [{ port: '5432', protocol: 'TCP' }],
      },
      {
        to: [
          {
            namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            pod_selector: { match_labels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { port: '53', protocol: 'UDP' },
          { port: '53', protocol: 'TCP' },
        ],
      },
    ]);
    const api = fromTerraformShape({ metadata: np.metadata, spec: np.spec }) as Json;
    api.spec.egress.forEach((e: Json) => e.ports.forEach((p: Json) => (p.port = Number(p.port))));
    expect(() => new NetworkPolicy(api as never).validate()).not.toThrow();
  });

  test('GIVEN the in-cluster Postgres NetworkPolicy THEN it admits the Job pod labels', () => {
    const pg = Object.values(b.json.resource.kubernetes_network_policy_v1 as Record<string, Json>).find(
      (p) => p.metadata.name !== 'caracal-dev-migrate-egress',
    )!;
    const admitted = pg.spec.ingress[0].from.map((f: Json) => f.pod_selector.match_labels);
    expect(admitted).toContainEqual(b.job.podLabels);
  });

  test('GIVEN an external database THEN egress goes to the given CIDRs on its port, with the CA mounted and PGSSLROOTCERT set', () => {
    const e = build({ external: true, externalDatabaseCidrs: ['10.20.0.0/16'] });
    const np = only(e.json, 'kubernetes_network_policy_v1');
    expect(np.spec.egress[0]).toEqual({ to: [{ ip_block: { cidr: '10.20.0.0/16' } }], ports: [{ port: '5432', protocol: 'TCP' }] });
    const c = container(e);
    expect(c.env.find((v: Json) => v.name === 'PGSSLROOTCERT').value).toBe('/var/run/secrets/caracal/ca/ca.crt');
    expect(podSpec(e).volumes.find((v: Json) => v.name === 'ca-cert').secret.secretName).toBe('db-ca');
  });

  test('GIVEN the release size THEN it is reported and well under the 1 MiB limit', () => {
    expect(b.job.releaseSizeBytes).toBeGreaterThan(0);
    expect(b.job.releaseSizeBytes).toBeLessThan(1024 * 1024 * 0.9);
  });

  test('GIVEN the release size WHEN the whole release record is gzipped as Helm stores it THEN the reported size is within 0.5% of it', () => {
    // The large ConfigMap values are sized apart, once per process (hook-chart.ts releaseSize); the sum must stay
    // the size Helm's record has, so the 90% check means what it says.
    const whole = b.job.chart.wholeReleaseSizeBytes();
    expect(Math.abs(b.job.releaseSizeBytes - whole) / whole).toBeLessThan(0.005);
  });

  test("GIVEN migrations that would overflow Helm's release Secret WHEN synthesizing THEN it fails naming migrationsDir and the limit", () => {
    const big = fixtureMigrations({ '0002_big.up.sql': `-- ${randomBytes(700 * 1024).toString('base64')}\nSELECT 1;\n` });
    expect(() => build({ migrationsDir: big })).toThrow(
      /- migrationsDir: the Helm release record would be \d+ bytes .* 1 MiB Secret limit/,
    );
  });
});

describe('MigrationJob custom image', () => {
  test('GIVEN an image that ships the runner THEN the chart carries no bundle and the command runs the CLI on PATH', () => {
    const b = build({ image: MigrationRunnerImage.custom('registry.example.com/caracal/tools:1.4.2'), runnerBundlePath: undefined });
    const runner = manifest(b, 'ConfigMap', '-runner').binaryData as Record<string, string>;
    expect(Object.keys(runner)).toEqual(['provision.json']);
    expect([container(b).image, container(b).command]).toEqual([
      'registry.example.com/caracal/tools:1.4.2',
      [
        'caracal-migrate',
        'up',
        '--wait-for-db=120s',
        '--dir',
        '/opt/caracal/migrations',
        '--provision',
        '/opt/caracal/runner/provision.json',
      ],
    ]);
  });

  test('GIVEN a custom command and user THEN the container runs exactly that, as that user', () => {
    const command = [
      '/usr/local/bin/caracal-migrate',
      'up',
      '--dir',
      '/opt/caracal/migrations',
      '--provision',
      '/opt/caracal/runner/provision.json',
    ];
    const b = build({
      image: MigrationRunnerImage.custom('registry.example.com/caracal/tools@sha256:' + 'a'.repeat(64), { command, runAsUser: 10001 }),
      runnerBundlePath: undefined,
    });
    expect([container(b).command, container(b).securityContext.runAsUser]).toEqual([command, 10001]);
  });
});

describe('MigrationJob content hash', () => {
  const base = build().job.contentHash;

  test('GIVEN the same inputs THEN the hash is the same', () => {
    expect(build().job.contentHash).toBe(base);
  });

  test.each<[string, () => Extra]>([
    ['the runner bundle', () => ({ runnerBundlePath: fixtureBundle('// another build\n') })],
    [
      'a migration file byte',
      () => ({
        migrationsDir: fixtureMigrations({
          '0001_baseline.up.sql': `${readFileSync(path.join(REPO, 'migrations', '0001_baseline.up.sql'), 'utf8')} `,
        }),
      }),
    ],
    ['an added migration', () => ({ migrationsDir: fixtureMigrations({ '0002_more.up.sql': 'SELECT 1;\n' }) })],
    ['the image', () => ({ image: MigrationRunnerImage.publicNode('docker.io/library/node:22.11.0-alpine') })],
    [
      'the command',
      () => ({
        image: MigrationRunnerImage.custom('registry.example.com/t:1', { command: ['caracal-migrate', 'up'] }),
        runnerBundlePath: undefined,
      }),
    ],
    ['the wait for the database', () => ({ waitForDb: '60s' })],
    ['the Job spec (backoffLimit)', () => ({ backoffLimit: 2 })],
    ['the Job spec (resources)', () => ({ resources: { requests: { cpu: '200m', memory: '128Mi' }, limits: { memory: '256Mi' } } })],
    ['a rotated password', () => ({ rotation: '2' })],
    ['slot b given a token (rotation apply 1)', () => ({ rotation: { a: '0', b: '1' } })],
    ['a pool setting', () => ({ statementTimeout: '20s' })],
  ])('GIVEN a change of %s THEN the hash changes', (_what, extra) => {
    expect(build(extra()).job.contentHash).not.toBe(base);
  });

  test.each<[string, Extra]>([
    ['maxHistory', { maxHistory: 3 }],
    ['timeout', { timeout: '1h' }],
    ['externalDatabaseCidrs', { externalDatabaseCidrs: ['10.0.0.0/8'] }],
  ])('GIVEN a change of %s (not a Job input) THEN the hash stays', (_what, extra) => {
    expect(build(extra).job.contentHash).toBe(base);
  });
});

describe('MigrationJob validation', () => {
  const make = (extra: Extra) => () => addJob(scope(), extra);

  test.each<[string, Extra]>([
    ['environment', { environment: 'Prod' }],
    ['namespace', { namespace: 'Caracal_Dev' }],
    ['releaseName', { releaseName: 'caracal_dev' }],
    ['releaseName', { releaseName: 'x'.repeat(60) }],
    ['image', { image: MigrationRunnerImage.publicNode('node') }],
    ['image', { image: MigrationRunnerImage.publicNode('docker.io/library/node:latest') }],
    ['image', { image: MigrationRunnerImage.publicNode('node@sha256:1234') }],
    ['image', { image: MigrationRunnerImage.publicNode('Node:20 -it') }],
    ['waitForDb', { waitForDb: '0s' }],
    ['waitForDb', { waitForDb: 120 as never }],
    ['waitForDb', { waitForDb: '1500ms' }],
    ['backoffLimit', { backoffLimit: -1 }],
    ['backoffLimit', { backoffLimit: 1.5 }],
    ['activeDeadline', { activeDeadline: '10s' }],
    ['activeDeadline', { activeDeadline: '100s', waitForDb: '90s' }],
    ['timeout', { timeout: '10min' }],
    ['maxHistory', { maxHistory: 0 }],
    ['resources.requests.cpu', { resources: { requests: { cpu: 'lots' }, limits: { memory: '256Mi' } } }],
    ['resources.limits.memory', { resources: { requests: { cpu: '100m' } } }],
    ['resources.limits.memory', { resources: { limits: { memory: '32Mi' } } }],
    ['externalDatabaseCidrs\\[0\\]', { externalDatabaseCidrs: ['10.0.0.0'] }],
    ['externalDatabaseCidrs', { externalDatabaseCidrs: [] }],
    ['dns.namespace', { dns: { namespace: 'Kube System', podLabels: { 'k8s-app': 'kube-dns' } } }],
    ['dns.podLabels', { dns: { namespace: 'kube-system', podLabels: {} } }],
    ['dns.podLabels.k8s-app', { dns: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube dns' } } }],
    ['migrationsDir', { migrationsDir: '/nonexistent/migrations' }],
    ['migrationsDir', { migrationsDir: fixtureMigrations({ 'notes.txt': 'x' }) }],
    ['migrationsDir', { migrationsDir: fixtureMigrations({ '0002_trailing_.up.sql': 'SELECT 1;\n' }) }],
    ['runnerBundlePath', { runnerBundlePath: '/nonexistent/caracal-migrate.cjs' }],
    ['runnerBundlePath', { image: MigrationRunnerImage.custom('registry.example.com/t:1'), runnerBundlePath: BUNDLE }],
    ['image.command', { image: MigrationRunnerImage.custom('registry.example.com/t:1', { command: [] }), runnerBundlePath: undefined }],
    ['image.runAsUser', { image: MigrationRunnerImage.custom('registry.example.com/t:1', { runAsUser: 0 }), runnerBundlePath: undefined }],
  ])('GIVEN a bad %s THEN synth fails naming it', (field, extra) => {
    expect(make(extra)).toThrow(new RegExp(`- ${field}: `));
  });

  test('GIVEN several bad props THEN every problem is reported at once', () => {
    expect(make({ waitForDb: '0s', maxHistory: 0, image: MigrationRunnerImage.publicNode('node') })).toThrow(
      /3 problems[\s\S]*- image: [\s\S]*- waitForDb: [\s\S]*- maxHistory: /,
    );
  });

  test('GIVEN the runner bundle was not built THEN the message says to run npm run build', () => {
    expect(make({ runnerBundlePath: '/nonexistent/caracal-migrate.cjs' })).toThrow(/npm run build/);
  });
});

describe('MigrationJob alternating logins', () => {
  const staged = build({ rotation: { a: '0', b: '1' } });
  const provision = (b: Built) =>
    JSON.parse(
      Buffer.from((manifest(b, 'ConfigMap', '-runner').binaryData as Record<string, string>)['provision.json'], 'base64').toString('utf8'),
    );

  test('GIVEN slot b has a token THEN the Job provisions both api logins, members of caracal_api with the same settings, from the Job-only slots Secret', () => {
    const logins = provision(staged).logins as Json[];
    expect(logins.slice(0, 2)).toEqual([
      {
        loginRole: 'caracal_dev_api',
        groupRole: 'caracal_api',
        passwordFile: '/var/run/secrets/caracal/logins/caracal_dev_api/password',
        settings: { idle_in_transaction_session_timeout: '60000', statement_timeout: '30000' },
      },
      {
        loginRole: 'caracal_dev_api_b',
        groupRole: 'caracal_api',
        passwordFile: '/var/run/secrets/caracal/logins/caracal_dev_api_b/password',
        settings: { idle_in_transaction_session_timeout: '60000', statement_timeout: '30000' },
      },
    ]);
    expect(logins).toHaveLength(9);
    const volumes = (podSpec(staged).volumes as Json[]).filter((v) => v.secret?.secretName === 'caracal-db-api-slots');
    expect(volumes.map((v) => v.secret.items)).toEqual([
      [{ key: 'password-a', path: 'password' }],
      [{ key: 'password-b', path: 'password' }],
    ]);
  });

  test('GIVEN slot b made active (rotation apply 2) THEN the Job has nothing new to do: its hash is unchanged', () => {
    expect(build({ rotation: { a: '0', b: '1', active: 'b' } }).job.contentHash).toBe(staged.job.contentHash);
  });

  test('GIVEN slot a retired (rotation apply 3) THEN the hash changes and provision.json gives slot a the grace, in seconds', () => {
    const retired = build({ rotation: { a: '0', b: '1', active: 'b', retireInactive: true } });
    expect(retired.job.contentHash).not.toBe(staged.job.contentHash);
    const [a, b] = provision(retired).logins as Json[];
    expect(a.retireAfterSeconds).toBe(3600);
    expect(b.retireAfterSeconds).toBeUndefined();
  });
});

describe('MigrationJob alternating logins from existing Secrets', () => {
  const staged = build({ existing: true, rotation: { a: '0', b: '1' } });
  const provision = (b: Built) =>
    JSON.parse(
      Buffer.from((manifest(b, 'ConfigMap', '-runner').binaryData as Record<string, string>)['provision.json'], 'base64').toString('utf8'),
    );

  test("GIVEN slot b has a token THEN the Job provisions both api logins and mounts each slot's own existing Secret", () => {
    const logins = (provision(staged).logins as Json[]).filter((l) => l.groupRole === 'caracal_api');
    expect(logins.map((l) => [l.loginRole, l.passwordFile])).toEqual([
      ['caracal_dev_api', '/var/run/secrets/caracal/logins/caracal_dev_api/password'],
      ['caracal_dev_api_b', '/var/run/secrets/caracal/logins/caracal_dev_api_b/password'],
    ]);
    const volumes = (podSpec(staged).volumes as Json[]).filter((v) => /^vault-db-api/.test(v.secret?.secretName ?? ''));
    expect(volumes.map((v) => [v.secret.secretName, v.secret.items])).toEqual([
      ['vault-db-api', [{ key: 'password', path: 'password' }]],
      ['vault-db-api-b', [{ key: 'password', path: 'password' }]],
    ]);
    expect(staged.job.contentHash).not.toBe(build({ existing: true }).job.contentHash);
  });

  test('GIVEN slot b made active, then slot a retired THEN the switch leaves the hash alone and the retirement gives slot a the grace', () => {
    expect(build({ existing: true, rotation: { a: '0', b: '1', active: 'b' } }).job.contentHash).toBe(staged.job.contentHash);
    const retired = build({ existing: true, rotation: { a: '0', b: '1', active: 'b', retireInactive: true } });
    expect(retired.job.contentHash).not.toBe(staged.job.contentHash);
    const [a, b] = (provision(retired).logins as Json[]).filter((l) => l.groupRole === 'caracal_api');
    expect([a.retireAfterSeconds, b.retireAfterSeconds]).toEqual([3600, undefined]);
  });
});
