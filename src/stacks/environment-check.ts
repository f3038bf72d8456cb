// An environment data file checked in full, every problem at once: its shape (the schema) and, when the stores'
// part has that shape, its values (the constructs, built in a scratch app), each named by its field in the file.
import { App, TerraformStack } from 'cdktf';
import { CaracalStores, Problems, ValidationError } from '../../constructs';
import { collectEnvironmentProblems, ENVIRONMENT_FIELDS, EnvironmentSpec } from '../environments/schema';
import { dataFieldOf, storesPropsOf } from './stores-props';

/** The top-level fields the stores are built from: with a shape problem in one of them, no construct is built. */
const STORES_FIELDS: readonly string[] = ENVIRONMENT_FIELDS.filter((f) => f !== 'cluster' && f !== 'backend');

/** Whether the constructs can be built from data with these shape problems (only the cluster or backend is off). */
export function storesShapeIsValid(shapeProblems: ReadonlyArray<{ readonly field: string }>): boolean {
  return !shapeProblems.some((p) => p.field === '(environment)' || STORES_FIELDS.includes(p.field.split(/[.[]/)[0]));
}

/** The constructs' problems with an environment's values, from the stores built in a scratch app (undefined: none). */
export function storesProblems(env: EnvironmentSpec): ValidationError | undefined {
  try {
    new CaracalStores(new TerraformStack(new App(), env.name), 'Default', storesPropsOf(env));
    return undefined;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error;
  }
}

/** Checks one environment file's data; throws one ValidationError naming `file` and every problem by its field. */
export function checkEnvironment(data: unknown, file: string): EnvironmentSpec {
  const problems = new Problems(file);
  collectEnvironmentProblems(data, problems);
  const env = data as EnvironmentSpec;
  const error = storesShapeIsValid(problems.all) ? storesProblems(env) : undefined;
  if (error) {
    for (const p of error.problems) {
      const where = p.where ?? error.where;
      const field = dataFieldOf(`${env.name}/Default`, where, p.field);
      if (field === undefined) problems.addMessage(`${where}: ${p.field}`, p.message);
      else problems.addMessage(field, p.message);
    }
  }
  problems.throwIfAny();
  return env;
}
