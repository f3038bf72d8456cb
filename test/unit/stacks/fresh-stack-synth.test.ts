// The synth command's runner (src/stacks/fresh-stack-synth.ts): the app is built and synthesized in the next turn of
// the event loop, on a stack without its caller's frames; a ValidationError becomes its message and exit code 1.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { App } from 'cdktf';
import { dev } from '../../../src/environments/dev';
import { synthOnFreshStack } from '../../../src/stacks/fresh-stack-synth';
import { tempOutdir } from '../../support/synth';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('synthOnFreshStack', () => {
  test("GIVEN one environment WHEN synthOnFreshStack runs THEN nothing is written in the caller's turn and the next turn writes its stack", async () => {
    // GIVEN dev alone
    const outdir = tempOutdir();
    const stackFile = path.join(outdir, 'stacks', 'dev', 'cdk.tf.json');
    try {
      // WHEN
      synthOnFreshStack({ outdir, environments: [dev] });
      const writtenSynchronously = existsSync(stackFile);
      await nextTurn();
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
      synthOnFreshStack({ outdir, environments: [dev] });
    }
    // WHEN
    callerOfSynthOnFreshStack();
    await nextTurn();
    synth.mockRestore();
    rmSync(outdir, { recursive: true, force: true });
    // THEN
    expect(stackAtSynth).toContain('Error');
    expect(stackAtSynth).not.toContain('callerOfSynthOnFreshStack');
  });

  test('GIVEN an environment with a refused namespace WHEN synthOnFreshStack runs it THEN its problems are printed without a stack trace and the exit code is 1', async () => {
    // GIVEN dev in a namespace that is not a DNS label
    const printed: string[] = [];
    const error = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
    const exitCode = process.exitCode;
    const outdir = tempOutdir();
    // WHEN it runs
    synthOnFreshStack({ outdir, environments: [{ ...dev, namespace: 'Not_A_Label' }] });
    await nextTurn();
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
