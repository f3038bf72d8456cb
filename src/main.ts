// The cdktf app: one stack per environment in src/environments (stacks arrive with the constructs issue).
import { App } from 'cdktf';

const app = new App();
app.synth();
