// bench/synth: wall time of the synth command (`node --require tsx/cjs src/main.ts`, all environments)
// against the same app with the providers imported from their package roots, alternating in one run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const GOAL_MS = 1500;

function runOnce(extraRequire: string[]): number {
  const outdir = mkdtempSync(path.join(tmpdir(), 'caracal-bench-synth-'));
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...extraRequire.flatMap((m) => ['--require', m]), '--require', 'tsx/cjs', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, CDKTF_OUTDIR: outdir },
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const stacks = r.status === 0 ? readdirSync(path.join(outdir, 'stacks')).sort() : [];
  rmSync(outdir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`synth failed (${r.status}): ${r.stderr}`);
  if (stacks.join(',') !== 'dev,prod,staging') throw new Error(`unexpected stacks: ${stacks.join(',')}`);
  return ms;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};
const fmt = (n: number) => `${n.toFixed(0)} ms`;

const deep: number[] = [];
const roots: number[] = [];
runOnce([]); // warm the file system cache and tsx's transform cache for both variants
runOnce([path.join(__dirname, 'root-imports.cjs')]);
for (let i = 0; i < ROUNDS; i++) {
  // Alternate the order each round so neither variant always runs on a warmer machine.
  if (i % 2 === 0) {
    deep.push(runOnce([]));
    roots.push(runOnce([path.join(__dirname, 'root-imports.cjs')]));
  } else {
    roots.push(runOnce([path.join(__dirname, 'root-imports.cjs')]));
    deep.push(runOnce([]));
  }
}
const d = stats(deep);
const r = stats(roots);
console.log(`synth of dev, staging, prod (${ROUNDS} alternating rounds, wall time per run incl. node start-up)`);
console.log(`  deep provider imports (the app):   median ${fmt(d.median)}  min ${fmt(d.min)}  max ${fmt(d.max)}`);
console.log(`  package-root imports (peer):       median ${fmt(r.median)}  min ${fmt(r.min)}  max ${fmt(r.max)}`);
console.log(`  ratio app/peer (median): ${(d.median / r.median).toFixed(2)}  (peer is ${(r.median / d.median).toFixed(2)}x slower)`);
console.log(`  goal: under ${GOAL_MS} ms for three environments: ${d.median < GOAL_MS ? 'met' : 'NOT met'}`);
