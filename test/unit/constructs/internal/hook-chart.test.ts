// The hook chart's ConfigMap templates (constructs/internal/hook-chart.ts): their long base64 values are spliced into
// the JSON after JSON.stringify; the text must stay byte for byte toJsonManifest of the ConfigMap.
import { randomBytes } from 'node:crypto';
import {
  HookChartSpec,
  defaultCommand,
  indexOfLong,
  lastIndexOfLong,
  renderHookChart,
  toJsonManifest,
} from '../../../../constructs/internal/hook-chart';

function spec(labels: Record<string, string> = {}): HookChartSpec {
  return {
    name: 'caracal-qa-migrate',
    labels: { 'app.kubernetes.io/name': 'caracal-migrate', ...labels },
    podLabels: { 'caracal.dev/job': 'migrate' },
    // Long enough to be spliced (a bundle of 64 KiB, a migration of 8 KiB); a short one stays in JSON.stringify.
    runnerBundle: randomBytes(64 * 1024),
    migrations: [
      { name: '0001_baseline.up.sql', content: Buffer.from(`SELECT 1;\n${'-- padding\n'.repeat(800)}`) },
      { name: '0002_small.up.sql', content: Buffer.from('SELECT 2;\n') },
    ],
    owner: { username: 'caracal_qa_owner', secretName: 'caracal-db-owner', passwordKey: 'password' },
    logins: [],
    database: { host: 'db', port: 5432, database: 'caracal', sslMode: 'require' },
    image: 'node:22.12.0-bookworm-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000',
    command: defaultCommand(120),
    waitForDbSeconds: 120,
    backoffLimit: 1,
    activeDeadlineSeconds: 600,
    resources: { limits: { memory: '256Mi' } },
    runAsUser: 1000,
    configMapWeight: -10,
    jobWeight: 0,
    secretVersions: { owner: 'generated:32:0' },
  };
}

function configMapTemplates(s: HookChartSpec): Array<[string, string]> {
  const chart = renderHookChart(s);
  return chart.manifests
    .filter((m) => m.kind === 'ConfigMap')
    .map((m) => {
      const file = m.metadata.name.endsWith('-runner') ? 'templates/configmap-runner.yaml' : 'templates/configmap-migrations.yaml';
      return [chart.files.get(file)!, toJsonManifest(m)];
    });
}

describe('hook chart ConfigMap templates', () => {
  test('GIVEN a long runner bundle and migration WHEN the chart is rendered THEN each ConfigMap template is byte for byte the JSON of its ConfigMap', () => {
    const pairs = configMapTemplates(spec());
    expect(pairs).toHaveLength(2);
    for (const [template, json] of pairs) expect(template).toBe(json);
    expect(pairs[0][0].length + pairs[1][0].length).toBeGreaterThan(64 * 1024);
  });

  test('GIVEN a label whose value is the splice marker WHEN the chart is rendered THEN the templates are still the JSON of their ConfigMaps', () => {
    const pairs = configMapTemplates(spec({ 'caracal.dev/odd': '__CARACAL_BASE64_0__' }));
    for (const [template, json] of pairs) expect(template).toBe(json);
    expect(pairs[0][0]).toContain('"caracal.dev/odd": "__CARACAL_BASE64_0__"');
  });
});

describe('indexOfLong and lastIndexOfLong', () => {
  // Values sharing their first and last 64 characters, as migration files with one header do, next to each other.
  const head = 'H'.repeat(64);
  const tail = 'T'.repeat(64);
  const a = `${head}${'a'.repeat(100)}${tail}`;
  const b = `${head}${'b'.repeat(100)}${tail}`;
  const text = `{"x": "${b}", "y": "${a}", "z": "${b}", "w": "${a}"}`;

  test.each([
    ['a', a],
    ['b', b],
    ['absent', `${head}${'c'.repeat(100)}${tail}`],
    ['a head alone', head],
  ])(
    'GIVEN a text where values share heads and tails WHEN %s is searched THEN both find what indexOf and lastIndexOf find',
    (_, needle) => {
      expect(indexOfLong(text, needle)).toBe(text.indexOf(needle));
      expect(lastIndexOfLong(text, needle)).toBe(text.lastIndexOf(needle));
    },
  );
});
