// The cdktf app: one stack per environment in src/environments, validated together before any synth.
// A ValidationError is printed as its list of problems (no stack trace) and exits non-zero.
import './stacks/fast-start';
import { buildApp } from './stacks/app';
import { ValidationError } from '../constructs';

try {
  buildApp().synth();
} catch (error) {
  if (!(error instanceof ValidationError)) throw error;
  console.error(`ValidationError: ${error.message}`);
  process.exitCode = 1;
}
