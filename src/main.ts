// The cdktf app: one stack per environment in src/environments, validated together before any synth.
// A ValidationError is printed as its list of problems (no stack trace) and exits non-zero.
import './stacks/fast-start';
import { synthOnFreshStack } from './stacks/fresh-stack-synth';

void synthOnFreshStack();
