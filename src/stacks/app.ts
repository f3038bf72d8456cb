// Builds the cdktf app: one CaracalStoresStack per environment. Used by src/main.ts and the tests.
import { App } from 'cdktf';
import { loadEnvironments, EnvironmentSpec } from '../environments';
import { CaracalStoresStack } from './caracal-stores-stack';

export function buildApp(options: { outdir?: string; environments?: readonly EnvironmentSpec[] } = {}): App {
  const app = new App(options.outdir ? { outdir: options.outdir } : {});
  for (const env of options.environments ?? loadEnvironments()) new CaracalStoresStack(app, env.name, env);
  return app;
}

export { CaracalStoresStack };
