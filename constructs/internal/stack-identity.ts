// Identity within one stack (issue 12 point 8): two constructs of this library never silently take the same
// Terraform address or the same Kubernetes object. Terraform merges two resources of one logical id into one (the
// first one's PVCs, Secrets and passwords vanish from the plan), and Kubernetes keeps one object per kind, namespace
// and name. The fixed logical ids (`<logicalIdPrefix>_password_api`, ...) keep every existing address, so they are
// not derived from the construct path: a collision is instead a synth error naming both construct paths.
//
// - `claimEnvironment`: one CaracalStores per environment and stack, checked when the second is built.
// - `checkStackIdentity`: an aspect on the stack (added once, by the first construct of this library in it) that,
//   when the stack is synthesized, reports every logical id and every Kubernetes name (kind, namespace, name) and
//   Helm release (namespace, name) that two resources share, all at once. It reads the literal names only: a name
//   that is a reference to another resource's is the same object, not a second one.
import { Aspects, IAspect, TerraformDataSource, TerraformStack, Token } from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import { Problems } from '../errors';

interface StackClaims {
  readonly environments: Map<string, string>;
}

const claims = new WeakMap<TerraformStack, StackClaims>();

/** The stack's claims, with the identity aspect added to it the first time; undefined outside a stack. */
function claimsOf(scope: Construct): StackClaims | undefined {
  let stack: TerraformStack;
  try {
    stack = TerraformStack.of(scope);
  } catch {
    return undefined;
  }
  let c = claims.get(stack);
  if (!c) {
    c = { environments: new Map() };
    claims.set(stack, c);
    Aspects.of(stack).add(new IdentityAspect(stack));
  }
  return c;
}

/** Makes sure the stack that holds `scope` checks its logical ids and Kubernetes names when synthesized. */
export function checkStackIdentity(scope: Construct): void {
  claimsOf(scope);
}

/**
 * Claims `environment` for `owner` (a CaracalStores) in its stack; a second claim of the same environment in that
 * stack is a problem naming both construct paths.
 */
export function claimEnvironment(problems: Problems, owner: Construct, environment: unknown): void {
  const c = claimsOf(owner);
  if (!c || typeof environment !== 'string') return;
  const first = c.environments.get(environment);
  if (first === undefined) c.environments.set(environment, owner.node.path);
  else
    problems.add(
      'environment',
      environment,
      `is already the environment of ${first} in this stack: one CaracalStores per environment and stack (expected another environment name; ${owner.node.path} and ${first} would share role names, Secrets and volumes)`,
    );
}

/** The one resource that first claimed each key, by key. */
type Owners = Map<string, string>;

class IdentityAspect implements IAspect {
  private checked = false;

  constructor(private readonly stack: TerraformStack) {}

  visit(node: IConstruct): void {
    // Aspects visit every node; the whole stack is checked once, from the stack itself.
    if (node !== this.stack || this.checked) return;
    this.checked = true;
    const problems = new Problems(this.stack.node.path);
    const ids: Owners = new Map();
    const objects: Owners = new Map();
    for (const c of this.stack.node.findAll()) {
      const type = resourceType(c);
      if (type === undefined) continue;
      const element = c as IConstruct & { friendlyUniqueId: string; toTerraform(): unknown };
      // A data source reads an object (often one of these resources): it has ids of its own and names nothing new.
      const data = c instanceof TerraformDataSource;
      const id = `${data ? 'data.' : ''}${type}.${element.friendlyUniqueId}`;
      claim(problems, ids, id, c.node.path, `logical id ${id}`, FIX_ID);
      if (!data && (type.startsWith('kubernetes_') || type === 'helm_release')) {
        const object = kubernetesObject(type, element);
        if (object) claim(problems, objects, `${type} ${object}`, c.node.path, `${type} ${object}`, FIX_NAME);
      }
    }
    problems.throwIfAny();
  }
}

const FIX_ID = 'give one of them another logicalIdPrefix (e.g. `caracal_<environment>`): the fixed ids are `<logicalIdPrefix>_…`';
const FIX_NAME = 'give one of them another namespace, name or namePrefix';

function claim(problems: Problems, owners: Owners, key: string, path: string, field: string, fix: string): void {
  const first = owners.get(key);
  if (first === undefined) owners.set(key, path);
  else problems.addMessage(field, `is claimed by both ${first} and ${path}: one would silently replace the other; ${fix}`);
}

function resourceType(c: IConstruct): string | undefined {
  const type = (c as { terraformResourceType?: unknown }).terraformResourceType;
  return typeof type === 'string' && typeof (c as { friendlyUniqueId?: unknown }).friendlyUniqueId === 'string' ? type : undefined;
}

/** `<namespace>/<name>` of a Kubernetes object or Helm release with a literal name; undefined otherwise. */
function kubernetesObject(type: string, element: { toTerraform(): unknown }): string | undefined {
  const body = configuration(type, element);
  if (!body) return undefined;
  // kubernetes_manifest holds any object (a CloudNativePG Cluster, say): its kind is part of what must be unique.
  const manifest = type === 'kubernetes_manifest' ? (body.manifest as { kind?: unknown; metadata?: unknown } | undefined) : undefined;
  const meta = type === 'helm_release' ? body : manifest ? manifest.metadata : [body.metadata].flat()[0];
  const { name, namespace } = (meta ?? {}) as { name?: unknown; namespace?: unknown };
  if (typeof name !== 'string' || Token.isUnresolved(name)) return undefined;
  if (namespace !== undefined && (typeof namespace !== 'string' || Token.isUnresolved(namespace))) return undefined;
  return `${manifest ? `${String(manifest.kind)} ` : ''}${namespace ?? ''}/${name}`;
}

/**
 * The resource's metadata, manifest, name and namespace as configured: the provider classes' `…Input` getters hand
 * back the values given, where `toTerraform()` would convert the whole resource (about 3 ms of synth per
 * environment). A resource with an escape-hatch override (`addOverride`) is read through `toTerraform()`, which
 * applies it.
 */
function configuration(type: string, element: { toTerraform(): unknown }): Record<string, unknown> | undefined {
  const overrides = (element as unknown as { rawOverrides?: object }).rawOverrides;
  if (overrides === undefined || Object.keys(overrides).length > 0) {
    const json = element.toTerraform() as { resource?: Record<string, Record<string, Record<string, unknown>>> };
    return Object.values(json.resource?.[type] ?? {})[0];
  }
  const { metadataInput, manifestInput, nameInput, namespaceInput } = element as {
    metadataInput?: unknown;
    manifestInput?: unknown;
    nameInput?: unknown;
    namespaceInput?: unknown;
  };
  return { metadata: metadataInput, manifest: manifestInput, name: nameInput, namespace: namespaceInput };
}
