// The synth command itself (`npm run synth`): every environment, and the same bytes as an in-process synth,
// with or without the fast-start loader.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { buildApp } from '../../../src/stacks/app';
import { readTree, tempOutdir } from '../../support/synth';

const root = path.resolve(__dirname, '..', '..', '..');

function synthCommand(env: Record<string, string> = {}): Map<string, string> {
  const outdir = tempOutdir();
  try {
    const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, ...env, CDKTF_OUTDIR: outdir },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`synth exited ${r.status}: ${r.stderr}`);
    return readTree(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('npm run synth', () => {
  test('GIVEN an in-process synth WHEN npm run synth runs, fast-start or not THEN every environment is synthesized byte for byte the same', () => {
    // GIVEN an in-process synth
    const outdir = tempOutdir();
    buildApp({ outdir }).synth();
    const expected = readTree(outdir);
    rmSync(outdir, { recursive: true, force: true });
    // WHEN the command runs with and without the fast-start loader
    const fast = synthCommand();
    const debug = synthCommand({ CARACAL_SYNTH_DEBUG: '1' });
    // THEN all three outputs are identical and hold the four stacks
    expect([...fast.keys()].filter((f) => f.endsWith('cdk.tf.json'))).toEqual([
      'stacks/dev/cdk.tf.json',
      'stacks/ha/cdk.tf.json',
      'stacks/prod/cdk.tf.json',
      'stacks/staging/cdk.tf.json',
    ]);
    expect(Object.fromEntries(fast)).toEqual(Object.fromEntries(expected));
    expect(Object.fromEntries(debug)).toEqual(Object.fromEntries(expected));
  });
});
