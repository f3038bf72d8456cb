// `npm run bench [name...] [--json]`: runs bench/<name>/run.ts (all of them by default), one after another, then
// prints one table of every figure the benches reported (bench/figures.ts): this project, the peer measured in the
// same run, the ratio, the goal, met or not. `--json` prints that table as JSON instead (comparable across runs);
// the benches' own output then goes to stderr.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(here, d.name, 'run.ts')))
  .map((d) => d.name)
  .sort();
const argv = process.argv.slice(2).filter((a) => a !== '--json');
const json = process.argv.includes('--json');
// Leading bench names, then (after an optional `--`) the benches' own flags: `npm run bench upgrade -- --short`.
const wanted = [];
let i = 0;
for (; i < argv.length && argv[i] !== '--' && !argv[i].startsWith('-'); i++) wanted.push(argv[i]);
const passThrough = argv.slice(argv[i] === '--' ? i + 1 : i);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(', ')}; available: ${all.join(', ') || '(none)'}`);
  process.exit(2);
}
const names = wanted.length > 0 ? wanted : all;
const figuresFile = (name) => path.join(here, 'out', `${name}.figures.json`);
const say = (line) => (json ? process.stderr : process.stdout).write(`${line}\n`);
const failed = [];
for (const name of names) {
  say(`\n== bench/${name}`);
  rmSync(figuresFile(name), { force: true });
  const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(here, name, 'run.ts'), ...passThrough], {
    stdio: ['ignore', json ? process.stderr : 'inherit', 'inherit'],
  });
  if (r.status !== 0) failed.push(name);
}

const rows = [];
for (const name of names) {
  if (!existsSync(figuresFile(name))) continue;
  const report = JSON.parse(readFileSync(figuresFile(name), 'utf8'));
  for (const f of report.figures) rows.push({ bench: name, at: report.at, ...f });
}
const missing = names.filter((n) => !existsSync(figuresFile(n)));
if (json) {
  process.stdout.write(`${JSON.stringify({ figures: rows, failed, withoutFigures: missing }, null, 2)}\n`);
} else {
  const num = (v, unit) => (v === undefined ? '-' : `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${unit}`);
  const table = [
    ['bench', 'figure', 'this project', 'peer', 'peer value', 'ratio', 'goal', 'met'],
    ...rows.map((f) => [
      f.bench,
      f.name,
      num(f.project, f.unit),
      f.peerName ?? '-',
      num(f.peer, f.unit),
      f.ratio === undefined ? '-' : `${f.ratio.toFixed(2)}x`,
      f.goal,
      f.met ? 'met' : 'NOT MET',
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  console.log(`\n== every figure (${rows.filter((r) => r.met).length} of ${rows.length} goals met)`);
  for (const r of table)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  if (missing.length > 0) console.log(`(no figures from: ${missing.join(', ')})`);
}
process.exit(failed.length > 0 ? 1 : 0);
