// The hook chart is written into the app's own outdir, one directory per construct, rewritten by every synth.
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { CHART_DIRECTORY, writeChartDirectory } from '../../../../constructs/internal/chart-directory';

function appWithOutdir(): { outdir: string; stack: TerraformStack } {
  const outdir = mkdtempSync(path.join(tmpdir(), 'caracal-outdir-'));
  return { outdir, stack: new TerraformStack(new App({ outdir }), 'stack') };
}

describe('writeChartDirectory', () => {
  test('GIVEN an app with its outdir WHEN a chart is written THEN it is under <outdir>/caracal-hook-charts with every file', () => {
    const { outdir, stack } = appWithOutdir();
    const owner = new Construct(stack, 'migrate');

    const dir = writeChartDirectory(
      owner,
      'caracal-dev-migrate',
      new Map([
        ['Chart.yaml', 'name: x\n'],
        ['templates/job.yaml', 'kind: Job\n'],
      ]),
    );

    expect(path.dirname(dir)).toBe(path.join(outdir, CHART_DIRECTORY));
    expect(path.basename(dir)).toMatch(/^caracal-dev-migrate-[0-9a-f]{12}$/);
    expect(readFileSync(path.join(dir, 'templates/job.yaml'), 'utf8')).toBe('kind: Job\n');
  });

  test('GIVEN a chart written by an earlier synth WHEN written again THEN the directory holds only the new files', () => {
    const { stack } = appWithOutdir();
    const owner = new Construct(stack, 'migrate');
    const first = writeChartDirectory(owner, 'job', new Map([['old.yaml', 'x\n']]));
    writeFileSync(path.join(first, 'stray.txt'), 'left behind');

    const second = writeChartDirectory(owner, 'job', new Map([['Chart.yaml', 'name: y\n']]));

    expect(second).toBe(first);
    expect(readdirSync(second)).toEqual(['Chart.yaml']);
  });

  test('GIVEN two constructs with the same chart name in one app WHEN both write THEN their directories differ', () => {
    const { stack } = appWithOutdir();
    const a = writeChartDirectory(new Construct(stack, 'a'), 'job', new Map([['Chart.yaml', 'a\n']]));
    const b = writeChartDirectory(new Construct(stack, 'b'), 'job', new Map([['Chart.yaml', 'b\n']]));

    expect(a).not.toBe(b);
    expect([existsSync(a), existsSync(b)]).toEqual([true, true]);
  });
});
