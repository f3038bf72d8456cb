// The platform team's app: its "qa" environment with the Caracal stores and the api, and a standalone reporting
// database. `npm run synth` compiles it and runs it with plain node; the output is cdktf.out/.
import { App } from 'cdktf';
import { PlatformStack } from './src/platform-stack';
import { ReportingDatabaseStack } from './src/reporting-database';

const app = new App();
new PlatformStack(app, 'qa', {
  environment: 'qa',
  namespace: 'caracal-qa',
  kubeContext: 'qa-cluster',
  apiImage: 'ghcr.io/example/caracal-api:1.4.0',
});
new ReportingDatabaseStack(app, 'reporting', { environment: 'reporting', namespace: 'reporting', kubeContext: 'qa-cluster' });
app.synth();
