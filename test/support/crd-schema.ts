// Validates Kubernetes objects against a CustomResourceDefinition's OpenAPI v3 schema with a real JSON-schema
// validator (ajv), the way the API server's structural schema would: unknown fields are errors (field validation
// Strict, what kubectl and Helm's server-side apply ask for), `x-kubernetes-int-or-string` accepts both, and
// `x-kubernetes-preserve-unknown-fields` keeps a subtree open. Not evaluated: the CEL rules of
// `x-kubernetes-validations` (only the API server runs them), and the `format`s Kubernetes itself does not enforce.
import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

type Schema = Record<string, unknown>;

export interface CrdSchema {
  /** `group/version` and kind the schema is for, e.g. `postgresql.cnpg.io/v1`, `Cluster`. */
  readonly apiVersion: string;
  readonly kind: string;
  /** Validates one object; returns the problems as `path: message` lines (empty when valid). */
  validate(object: unknown): string[];
}

/** Every served version of every CRD in the YAML file, one validator each. */
export function loadCrdSchemas(file: string): CrdSchema[] {
  const out: CrdSchema[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const crd = doc.toJS() as Schema | null;
    if (!crd || crd.kind !== 'CustomResourceDefinition') continue;
    const spec = crd.spec as {
      group: string;
      names: { kind: string };
      versions: Array<{ name: string; served: boolean; schema: { openAPIV3Schema: Schema } }>;
    };
    for (const v of spec.versions.filter((x) => x.served)) {
      const validator = compile(structural(v.schema.openAPIV3Schema));
      out.push({
        apiVersion: `${spec.group}/${v.name}`,
        kind: spec.names.kind,
        validate: (object) => (validator(object) ? [] : (validator.errors ?? []).map(describe)),
      });
    }
  }
  return out;
}

/** The schema for an object's apiVersion and kind among `schemas`, or an error naming what is there. */
export function schemaFor(schemas: readonly CrdSchema[], object: { apiVersion: string; kind: string }): CrdSchema {
  const found = schemas.find((s) => s.apiVersion === object.apiVersion && s.kind === object.kind);
  if (!found)
    throw new Error(
      `no CRD schema for ${object.apiVersion} ${object.kind}; have ${schemas.map((s) => `${s.apiVersion} ${s.kind}`).join(', ')}`,
    );
  return found;
}

function compile(schema: Schema): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(schema);
}

/**
 * The CRD schema as ajv reads it: objects with properties and no `additionalProperties` reject unknown fields (the
 * API server's strict field validation) unless `x-kubernetes-preserve-unknown-fields`; int-or-string accepts both.
 */
function structural(node: unknown): Schema {
  if (Array.isArray(node)) return node.map(structural) as unknown as Schema;
  if (!node || typeof node !== 'object') return node as Schema;
  const s: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) {
    if (k === 'x-kubernetes-validations') continue;
    s[k] = k === 'properties' || k === 'patternProperties' ? mapValues(v as Schema, structural) : structural(v);
  }
  if (s['x-kubernetes-int-or-string'] === true) {
    delete s.type;
    if (!s.anyOf) s.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  const open = s['x-kubernetes-preserve-unknown-fields'] === true;
  if (s.type === 'object' && s.properties && s.additionalProperties === undefined && !open) s.additionalProperties = false;
  // metadata is validated by the API server's own ObjectMeta schema, not the CRD's (which says only `type: object`).
  return s;
}

function mapValues(o: Schema, f: (v: unknown) => Schema): Schema {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

function describe(e: ErrorObject): string {
  const where = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') return `${where}: unknown field ${JSON.stringify(e.params.additionalProperty)}`;
  if (e.keyword === 'enum') return `${where}: ${e.message} (${(e.params.allowedValues as unknown[]).join(', ')})`;
  return `${where}: ${e.message}`;
}
