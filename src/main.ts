// The cdktf app: one stack per environment in src/environments, validated together before any synth.
import { App } from 'cdktf';
import { loadEnvironments } from './environments';
import { CaracalStoresStack } from './stacks/caracal-stores-stack';

const app = new App();
for (const env of loadEnvironments()) new CaracalStoresStack(app, env.name, env);
app.synth();
