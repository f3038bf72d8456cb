// The cdktf app: one stack per environment in src/environments, validated together before any synth.
import { buildApp } from './stacks/app';

buildApp().synth();
