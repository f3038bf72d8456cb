// bench/synth: wall time of the synth command (`node --require tsx/cjs src/main.ts`, all environments)
// against the same app with the providers imported from their package roots, alternating in one run; then how synth
// grows with the environments: 30 environments (copies of dev, staging, prod: bench/synth/environments.ts) against 3,
// alternating (goal: linear, at most 0.1 s per added environment).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ENVIRONMENT_FILES } from '../../src/environments';
import { figure, writeFigures } from '../figures';

const root = path.resolve(__dirname, '..', '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const GROWTH_ROUNDS = Number(process.env.BENCH_GROWTH_ROUNDS ?? 5);
const FEW = 3;
const MANY = 30;
const PER_ENV_GOAL_MS = 100;
const GOAL_MS = 1500;

// CPU time (user + sys) of the child, from GNU time when present: less sensitive than wall time to other
// processes competing for the same cores.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
/** The app's environments (src/environments): the stacks `src/main.ts` synthesizes. */
const APP_ENVIRONMENTS = ENVIRONMENT_FILES.map((f) => (f.data as { name: string }).name);
const APP_STACKS = [...APP_ENVIRONMENTS].sort().join(',');

function runOnce(extraRequire: string[], environments?: number): { wall: number; cpu?: number } {
  const outdir = mkdtempSync(path.join(tmpdir(), 'caracal-bench-synth-'));
  const timeFile = path.join(outdir, 'time.txt');
  const entry =
    environments === undefined
      ? ['src/main.ts']
      : [path.join(__dirname, 'environments.ts'), String(environments), path.join(outdir, 'out')];
  const node = [process.execPath, ...extraRequire.flatMap((m) => ['--require', m]), '--require', 'tsx/cjs', ...entry];
  const [cmd, ...args] = GNU_TIME ? [GNU_TIME, '-o', timeFile, '-f', '%U %S', ...node] : node;
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: root, env: { ...process.env, CDKTF_OUTDIR: path.join(outdir, 'out') }, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const stacks = r.status === 0 ? readdirSync(path.join(outdir, 'out', 'stacks')).sort() : [];
  const cpu =
    GNU_TIME && existsSync(timeFile)
      ? readFileSync(timeFile, 'utf8')
          .trim()
          .split(/\s+/)
          .map(Number)
          .reduce((a, b) => a + b, 0) * 1000
      : undefined;
  rmSync(outdir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`synth failed (${r.status}): ${r.stderr}`);
  if (environments === undefined ? stacks.join(',') !== APP_STACKS : stacks.length !== environments)
    throw new Error(`unexpected stacks: ${stacks.join(',')}`);
  return { wall, cpu };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};
const fmt = (n: number) => `${n.toFixed(0)} ms`;

const deep: Array<{ wall: number; cpu?: number }> = [];
const roots: Array<{ wall: number; cpu?: number }> = [];
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
const d = stats(deep.map((x) => x.wall));
const r = stats(roots.map((x) => x.wall));
const load = (require('node:os') as typeof import('node:os')).loadavg()[0];
console.log(
  `synth of ${APP_ENVIRONMENTS.join(', ')}: ${ROUNDS} alternating rounds, per run incl. node start-up (load average ${load.toFixed(1)})`,
);
console.log(`  wall  deep provider imports (the app):  median ${fmt(d.median)}  min ${fmt(d.min)}  max ${fmt(d.max)}`);
console.log(`  wall  package-root imports (peer):      median ${fmt(r.median)}  min ${fmt(r.min)}  max ${fmt(r.max)}`);
console.log(`  wall  ratio app/peer (median): ${(d.median / r.median).toFixed(2)}`);
if (deep.every((x) => x.cpu !== undefined)) {
  const dc = stats(deep.map((x) => x.cpu!));
  const rc = stats(roots.map((x) => x.cpu!));
  console.log(`  cpu   deep provider imports (the app):  median ${fmt(dc.median)}  min ${fmt(dc.min)}`);
  console.log(`  cpu   package-root imports (peer):      median ${fmt(rc.median)}  min ${fmt(rc.min)}`);
  console.log(`  cpu   ratio app/peer (median): ${(dc.median / rc.median).toFixed(2)}`);
}
console.log(
  `  goal: wall under ${GOAL_MS} ms for the app's ${APP_ENVIRONMENTS.length} environments: ${d.median < GOAL_MS ? 'met' : 'NOT met'} (median), ${d.min < GOAL_MS ? 'met' : 'NOT met'} (best run)`,
);

// Growth: 30 environments against 3, alternating, same entry point.
const few: Array<{ wall: number; cpu?: number }> = [];
const many: Array<{ wall: number; cpu?: number }> = [];
runOnce([], FEW);
for (let i = 0; i < GROWTH_ROUNDS; i++) {
  const order = i % 2 === 0 ? [FEW, MANY] : [MANY, FEW];
  for (const n of order) (n === FEW ? few : many).push(runOnce([], n));
}
const fw = stats(few.map((x) => x.wall)).median;
const mw = stats(many.map((x) => x.wall)).median;
const perEnvWall = (mw - fw) / (MANY - FEW);
console.log(
  `synth of ${MANY} environments against ${FEW}: ${GROWTH_ROUNDS} alternating rounds, incl. node start-up (load average ${(require('node:os') as typeof import('node:os')).loadavg()[0].toFixed(1)})`,
);
console.log(
  `  wall  ${FEW}: median ${fmt(fw)}   ${MANY}: median ${fmt(mw)}   ratio ${(mw / fw).toFixed(2)} (linear: at most ${MANY / FEW})`,
);
console.log(`  wall  per added environment: ${fmt(perEnvWall)} (goal <= ${PER_ENV_GOAL_MS} ms)`);
let perEnvCpu: number | undefined;
if ([...few, ...many].every((x) => x.cpu !== undefined)) {
  const fc = stats(few.map((x) => x.cpu!)).median;
  const mc = stats(many.map((x) => x.cpu!)).median;
  perEnvCpu = (mc - fc) / (MANY - FEW);
  console.log(`  cpu   ${FEW}: median ${fmt(fc)}   ${MANY}: median ${fmt(mc)}   per added environment ${fmt(perEnvCpu)}`);
}
writeFigures(
  'synth',
  [
    figure({
      name: `synth of ${APP_ENVIRONMENTS.join(', ')} (wall)`,
      project: d.median,
      peer: r.median,
      peerName: 'same app, providers from package roots',
      unit: 'ms',
      goal: `< ${GOAL_MS} ms`,
      maxValue: GOAL_MS - 1e-9,
    }),
    figure({
      name: `synth, ${MANY} vs ${FEW} environments (wall)`,
      project: mw,
      peer: fw,
      peerName: `${FEW} environments`,
      unit: 'ms',
      goal: `linear: ratio <= ${MANY / FEW}`,
      maxRatio: MANY / FEW,
    }),
    figure({
      name: 'synth, wall time per added environment',
      project: perEnvWall,
      unit: 'ms',
      goal: `<= ${PER_ENV_GOAL_MS} ms`,
      maxValue: PER_ENV_GOAL_MS,
    }),
    ...(perEnvCpu === undefined
      ? []
      : [
          figure({
            name: 'synth, CPU time per added environment',
            project: perEnvCpu,
            unit: 'ms',
            goal: `<= ${PER_ENV_GOAL_MS} ms`,
            maxValue: PER_ENV_GOAL_MS,
          }),
        ]),
  ],
  { loadAverage: (require('node:os') as typeof import('node:os')).loadavg(), rounds: ROUNDS, growthRounds: GROWTH_ROUNDS },
);
