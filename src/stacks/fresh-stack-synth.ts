// How the synth command runs the app (src/main.ts; bench/synth runs it the same way): built and synthesized on a
// fresh call stack, in the next turn of the event loop, not inside the module that loads it. cdktf records a complete
// stack trace (captureStackTrace with no depth limit) for every token, reference and nested provider block it
// creates, about 400 per environment, and formats each frame. Run from a module's top level, each trace also carried
// Node's and tsx's module-loading frames, 6 of its 23 and the costliest to format
// (`Function.executeUserEntryPoint [as runMain]`): about 18 ms of CPU per environment. `buildApp` is called straight
// from the timer, so a trace starts with two frames (the timer's and this module's) before the app's.
// Nothing process-wide changes; the construct frames stay in every trace.
// A ValidationError is printed as its list of problems (no stack trace) and sets exit code 1.
import { ValidationError } from '../../constructs';
import { buildApp } from './app';

type BuildOptions = Parameters<typeof buildApp>[0];

export function synthOnFreshStack(options?: BuildOptions): void {
  setImmediate(synthesize, options);
}

function synthesize(options: BuildOptions): void {
  try {
    buildApp(options).synth();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    console.error(`ValidationError: ${error.message}`);
    process.exitCode = 1;
  }
}
