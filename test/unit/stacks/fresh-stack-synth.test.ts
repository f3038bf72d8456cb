// The synth command's runner (src/stacks/fresh-stack-synth.ts): the app is built and synthesized in the next turn of
// the event loop, on a stack without its caller's frames; a ValidationError becomes its message and exit code 1.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { Problems } from '../../../constructs';
import { synthOnFreshStack } from '../../../src/stacks/fresh-stack-synth';
import { tempOutdir } from '../../support/synth';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('synthOnFreshStack', () => {
  test('GIVEN an app built by a callback WHEN synthOnFreshStack runs it THEN it is built and synthesized in the next turn, without the caller on its stack', async () => {
    // GIVEN a build that records its call stack
    const outdir = tempOutdir();
    let stackAtBuild: string | undefined;
    const build = () => {
      stackAtBuild = new Error().stack;
      const app = new App({ outdir });
      new TerraformStack(app, 'fresh');
      return app;
    };
    // WHEN a named caller hands it over
    function callerOfSynthOnFreshStack() {
      synthOnFreshStack(build);
    }
    callerOfSynthOnFreshStack();
    const builtSynchronously = stackAtBuild !== undefined;
    await nextTurn();
    // THEN nothing ran in the caller's turn; the next turn built and synthesized the app, the caller gone from the stack
    try {
      expect(builtSynchronously).toBe(false);
      expect(stackAtBuild).toContain('Error');
      expect(stackAtBuild).not.toContain('callerOfSynthOnFreshStack');
      expect(existsSync(path.join(outdir, 'stacks', 'fresh', 'cdk.tf.json'))).toBe(true);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('GIVEN a build that throws a ValidationError WHEN synthOnFreshStack runs it THEN its problems are printed without a stack trace and the exit code is 1', async () => {
    // GIVEN a build whose props are refused
    const build = (): App => {
      const problems = new Problems('app/stack');
      problems.add('replicas', -1, 'is negative: expected 1 to 10');
      problems.throwIfAny();
      return new App();
    };
    const printed: string[] = [];
    const error = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
    const exitCode = process.exitCode;
    // WHEN it runs
    synthOnFreshStack(build);
    await nextTurn();
    const code = process.exitCode;
    process.exitCode = exitCode;
    error.mockRestore();
    // THEN the one line names the field and the value, with no stack frame, and the exit code is 1
    expect(code).toBe(1);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^ValidationError: .*replicas.*-1/s);
    expect(printed[0]).not.toMatch(/\n\s+at /);
  });
});
