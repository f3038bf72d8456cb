// Helpers for construct and stack tests: synthesize a scope and read resources out of the JSON.
import { App, TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseCredentials, DatabaseSecrets } from '../../constructs/database-secrets';
import { ValidationError } from '../../constructs/errors';

export type Json = Record<string, any>;

/** Synthesizes what `fn` builds into a fresh stack; returns the stack JSON as text and parsed. */
export function synthScope(fn: (scope: Construct) => void): { text: string; json: Json } {
  const text = Testing.synthScope(fn);
  return { text, json: JSON.parse(text) };
}

/** Synthesizes a whole stack (providers, backend, outputs included). */
export function synthStack(build: (app: App) => TerraformStack): { text: string; json: Json } {
  const app = Testing.app();
  const stack = build(app);
  const text = Testing.synth(stack);
  return { text, json: JSON.parse(text) };
}

/** All resources of a type, by logical id. */
export function resources(json: Json, type: string): Record<string, Json> {
  return json.resource?.[type] ?? {};
}

/** The only resource of a type (fails the test when there is not exactly one). */
export function only(json: Json, type: string): Json {
  const all = Object.values(resources(json, type));
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}

/** The resource of a type whose metadata.name is `name`. */
export function byName(json: Json, type: string, name: string): Json {
  const found = Object.values(resources(json, type)).find((r) => r.metadata?.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
}

/** Default DatabaseSecrets for construct tests. */
export function testSecrets(scope: Construct, environment = 'dev', namespace = 'caracal-dev', generated = true): DatabaseSecrets {
  return new DatabaseSecrets(scope, 'secrets', {
    environment,
    namespace,
    credentials: generated ? DatabaseCredentials.generated() : DatabaseCredentials.fromExistingSecret('caracal-db'),
  });
}

/** A stack-less scope for props validation tests. */
export function scope(): Construct {
  return new TerraformStack(Testing.app(), 'test');
}

/** A fresh output directory for a full app synth. */
export function tempOutdir(prefix = 'caracal-synth-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Every file under a directory, relative path -> content. */
export function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

/** The ValidationError `fn` throws (fails the test when it throws nothing or something else). */
export function validationErrorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('expected a ValidationError');
}
