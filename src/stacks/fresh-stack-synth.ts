// How the synth command runs the app (src/main.ts; bench/synth runs it the same way): built and synthesized on a
// fresh call stack, in a microtask once the loading module has finished, not inside that module. cdktf records a
// complete stack trace (captureStackTrace with no depth limit) for every token, reference and nested provider block
// it creates, about 400 per environment, and formats every frame of it. Run from a module's top level, each trace
// also carried Node's and tsx's module-loading frames, 6 of its 23 and the costliest to format
// (`Function.executeUserEntryPoint [as runMain]`, whose name V8 finds by searching the receiver's properties).
// A microtask starts the trace at `synthesize` itself, where a timer adds two frames
// (`Immediate.synthesize [as _onImmediate]`, `process.processImmediate`). Nothing process-wide changes; the construct
// frames stay in every trace. A ValidationError is printed as its list of problems (no stack trace) and sets exit
// code 1; any other error rejects the returned promise (Node reports it and exits non-zero, as for a throw).
import { ValidationError } from '../../constructs';
import { buildApp } from './app';

type BuildOptions = Parameters<typeof buildApp>[0];

export function synthOnFreshStack(options?: BuildOptions): Promise<void> {
  return Promise.resolve(options).then(synthesize);
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
