// How the synth command runs the app (src/main.ts; bench/synth runs it the same way): on a fresh call stack, in the
// next turn of the event loop, not inside the module that loads it. cdktf records a complete stack trace
// (captureStackTrace with no depth limit) for every token, reference and nested provider block it creates, about
// 400 per environment. Run from a module's top level, each trace also carries Node's and tsx's module-loading
// frames, 6 of its 23 frames and the costliest to format (`Function.executeUserEntryPoint [as runMain]`):
// about 18 ms of CPU per environment. Nothing process-wide changes; the construct frames stay in every trace.
// A ValidationError is printed as its list of problems (no stack trace) and sets exit code 1.
import type { App } from 'cdktf';
import { ValidationError } from '../../constructs';

export function synthOnFreshStack(build: () => App): void {
  setImmediate(() => {
    try {
      build().synth();
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      console.error(`ValidationError: ${error.message}`);
      process.exitCode = 1;
    }
  });
}
