// Builds the cdktf app: one CaracalStoresStack per environment. Used by src/main.ts and the tests.
// Every environment is built even when one fails, so one ValidationError reports the problems of all.
import { App } from 'cdktf';
import { loadEnvironments, EnvironmentSpec } from '../environments';
import { Problems, ValidationError } from '../../constructs/internal/validation';
import { CaracalStoresStack } from './caracal-stores-stack';

export function buildApp(options: { outdir?: string; environments?: readonly EnvironmentSpec[] } = {}): App {
  const app = new App(options.outdir ? { outdir: options.outdir } : {});
  const failures: ValidationError[] = [];
  for (const env of options.environments ?? loadEnvironments()) {
    try {
      new CaracalStoresStack(app, env.name, env);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      failures.push(error);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    const problems = new Problems(`${failures.length} environments`);
    for (const f of failures) for (const p of f.problems) problems.addMessage(`${f.where}: ${p.field}`, p.message);
    problems.throwIfAny();
  }
  return app;
}

export { CaracalStoresStack };
