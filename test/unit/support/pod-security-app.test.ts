// Every pod the app synthesizes (all environments) against Pod Security "restricted" and the project
// hardening, with the one helper (test/support/pod-security.ts).
import { readFileSync, rmSync } from 'node:fs';
import { buildApp } from '../../../src/stacks/app';
import path from 'node:path';
import { checkChartDirectory, checkTerraformJson, formatViolations } from '../../support/pod-security';
import { readTree, tempOutdir } from '../../support/synth';

let files: Map<string, string>;
let dir: string;

beforeAll(() => {
  dir = tempOutdir();
  buildApp({ outdir: dir }).synth();
  files = readTree(dir);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('Pod Security over the synthesized app', () => {
  test('GIVEN every environment synthesized WHEN each stack is checked THEN at least one pod is found and none violates "restricted" or misses the hardening', () => {
    const stacks = [...files.keys()].filter((f) => f.endsWith('cdk.tf.json'));
    const reports = stacks.map((f) => ({ file: f, report: checkTerraformJson(files.get(f)!) }));

    expect(stacks.length).toBeGreaterThanOrEqual(3);
    expect(reports.reduce((n, r) => n + r.report.pods.length, 0)).toBeGreaterThan(0);
    expect(reports.map((r) => `${r.file}\n${formatViolations(r.report.violations)}`).join('\n')).toBe(
      stacks.map((f) => `${f}\n`).join('\n'),
    );
    expect(reports.flatMap((r) => r.report.hardening.map((h) => `${r.file} ${h.address} ${h.field}`))).toEqual([]);
  });

  test('GIVEN the Helm charts the app generates (the migration hook chart of every environment) WHEN their templates are checked THEN each has a pod and none violates "restricted" or misses the hardening', () => {
    // The CloudNativePG Cluster chart (the ha environment) has no pod of its own: the operator renders the instances'
    // pods from the Cluster, whose security fields test/unit/constructs/cloudnative-pg-cluster.test.ts checks.
    const all = [...files.keys()].filter((f) => path.basename(f) === 'Chart.yaml').map((f) => path.join(dir, path.dirname(f)));
    const isCnpg = (c: string) => /CloudNativePG Cluster/.test(readFileSync(path.join(c, 'Chart.yaml'), 'utf8'));
    const charts = all.filter((c) => !isCnpg(c));
    const reports = charts.map((c) => checkChartDirectory(c));

    expect(all.length - charts.length).toBeGreaterThanOrEqual(1);
    expect(charts.length).toBeGreaterThanOrEqual(3);
    expect(reports.every((r) => r.pods.length > 0)).toBe(true);
    expect(formatViolations(reports.flatMap((r) => r.violations))).toBe('');
    expect(reports.flatMap((r) => r.hardening.map((h) => `${h.address} ${h.field}`))).toEqual([]);
  });
});
