// Builds the cdktf app: one CaracalStoresStack per environment. Used by src/main.ts and the tests.
// Every environment is built even when one fails, so one ValidationError reports the problems of all: the shape
// problems of every data file, and the construct problems of every environment whose stores have that shape.
import { App } from 'cdktf';
import { addFileProblems, checkEnvironmentFiles, ENVIRONMENT_FILES, EnvironmentSpec } from '../environments';
import { Problems, ValidationError } from '../../constructs';
import { CaracalStoresStack } from './caracal-stores-stack';
import { storesProblems, storesShapeIsValid } from './environment-check';

export function buildApp(options: { outdir?: string; environments?: readonly EnvironmentSpec[] } = {}): App {
  const app = new App(options.outdir ? { outdir: options.outdir } : {});
  const fileChecks = options.environments ? [] : checkEnvironmentFiles(ENVIRONMENT_FILES);
  const environments =
    options.environments ?? fileChecks.filter((c) => c.problems.length === 0 && !c.nameTaken).map((c) => c.data as EnvironmentSpec);
  const failures: ValidationError[] = [];
  for (const env of environments) {
    try {
      new CaracalStoresStack(app, env.name, env);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      failures.push(error);
    }
  }
  // A file whose cluster or backend is off still has its stores' values checked (in a scratch app).
  for (const c of fileChecks.filter((c) => c.problems.length > 0 && !c.nameTaken && storesShapeIsValid(c.problems))) {
    const error = storesProblems(c.data as EnvironmentSpec);
    if (error) failures.push(error);
  }
  const shape = new Problems('src/environments');
  addFileProblems(shape, fileChecks);
  if (shape.count === 0 && failures.length === 1) throw failures[0];
  const problems = shape.count > 0 ? shape : new Problems(`${failures.length} environments`);
  for (const f of failures) problems.mergeError(f);
  problems.throwIfAny();
  return app;
}

export { CaracalStoresStack };
