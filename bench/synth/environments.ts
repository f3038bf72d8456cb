// bench/synth's child for the growth figure: synthesizes N environments (copies of dev, staging and prod, each
// with its own name, namespace and state) with the same code path as `npm run synth` (buildApp().synth() on a
// fresh call stack: src/stacks/fresh-stack-synth.ts).
//   node --require tsx/cjs bench/synth/environments.ts <N> <outdir>
import '../../src/stacks/fast-start';
import { synthOnFreshStack } from '../../src/stacks/fresh-stack-synth';
import { dev } from '../../src/environments/dev';
import { prod } from '../../src/environments/prod';
import { staging } from '../../src/environments/staging';
import type { EnvironmentSpec } from '../../src/environments/schema';

/** The n-th copy (0-based) of a spec: copy 0 is the spec itself; later copies get a numbered name everywhere it is used. */
export function copyOf(spec: EnvironmentSpec, n: number): EnvironmentSpec {
  if (n === 0) return spec;
  const name = `${spec.name}${n + 1}`;
  const clone = JSON.parse(JSON.stringify(spec)) as EnvironmentSpec & { backend: Record<string, unknown> };
  const backend = { ...clone.backend };
  if (typeof backend.path === 'string') backend.path = backend.path.replace(spec.name, name);
  if (typeof backend.workspace === 'string') backend.workspace = `${backend.workspace}-${n + 1}`;
  if (typeof backend.key === 'string') backend.key = backend.key.replace(spec.name, name);
  return { ...clone, name, namespace: `${spec.namespace}-${n + 1}`, backend } as EnvironmentSpec;
}

export function environments(count: number): EnvironmentSpec[] {
  const bases = [dev, staging, prod];
  return Array.from({ length: count }, (_, i) => copyOf(bases[i % 3], Math.floor(i / 3)));
}

if (require.main === module) {
  const [count, outdir] = [Number(process.argv[2]), process.argv[3]];
  void synthOnFreshStack({ outdir, environments: environments(count) });
}
