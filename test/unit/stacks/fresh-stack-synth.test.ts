// The synth command's runner (src/stacks/fresh-stack-synth.ts): the app is built and synthesized in a microtask once
// the caller has returned, on a stack without the caller's frames; a ValidationError becomes its message and exit
// code 1, any other error rejects.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { App } from 'cdktf';
import { dev } from '../../../src/environments/dev';
import { synthOnFreshStack } from '../../../src/stacks/fresh-stack-synth';
import { tempOutdir } from '../../support/synth';

describe('synthOnFreshStack', () => {
  test('GIVEN one environment WHEN synthOnFreshStack runs THEN nothing is written before the caller returns, and its stack is written when the promise settles', async () => {
    // GIVEN dev alone
    const outdir = tempOutdir();
    const stackFile = path.join(outdir, 'stacks', 'dev', 'cdk.tf.json');
    try {
      // WHEN
      const done = synthOnFreshStack({ outdir, environments: [dev] });
      const writtenSynchronously = existsSync(stackFile);
      await done;
      // THEN
      expect(writtenSynchronously).toBe(false);
      expect(existsSync(stackFile)).toBe(true);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test("GIVEN a named caller WHEN the app is synthesized THEN the caller's frame is not on the synth's stack", async () => {
    // GIVEN synth that records its call stack instead of writing
    let stackAtSynth: string | undefined;
    const synth = jest.spyOn(App.prototype, 'synth').mockImplementation(() => void (stackAtSynth = new Error().stack));
    const outdir = tempOutdir();
    function callerOfSynthOnFreshStack() {
      return synthOnFreshStack({ outdir, environments: [dev] });
    }
    // WHEN
    await callerOfSynthOnFreshStack();
    synth.mockRestore();
    rmSync(outdir, { recursive: true, force: true });
    // THEN
    expect(stackAtSynth).toContain('Error');
    expect(stackAtSynth).not.toContain('callerOfSynthOnFreshStack');
  });

  test('GIVEN a synth that fails with an error other than a ValidationError WHEN synthOnFreshStack runs THEN the promise rejects with it', async () => {
    const synth = jest.spyOn(App.prototype, 'synth').mockImplementation(() => {
      throw new Error('disk full');
    });
    const outdir = tempOutdir();
    try {
      await expect(synthOnFreshStack({ outdir, environments: [dev] })).rejects.toThrow('disk full');
    } finally {
      synth.mockRestore();
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('GIVEN an environment with a refused namespace WHEN synthOnFreshStack runs it THEN its problems are printed without a stack trace and the exit code is 1', async () => {
    // GIVEN dev in a namespace that is not a DNS label
    const printed: string[] = [];
    const error = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
    const exitCode = process.exitCode;
    const outdir = tempOutdir();
    // WHEN it runs
    await synthOnFreshStack({ outdir, environments: [{ ...dev, namespace: 'Not_A_Label' }] });
    const code = process.exitCode;
    process.exitCode = exitCode;
    error.mockRestore();
    rmSync(outdir, { recursive: true, force: true });
    // THEN one message names the field and the value, with no stack frame, and the exit code is 1
    expect(code).toBe(1);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^ValidationError: [\s\S]*namespace[\s\S]*Not_A_Label/);
    expect(printed[0]).not.toMatch(/\n\s+at /);
  });
});
