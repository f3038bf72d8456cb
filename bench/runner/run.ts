// bench/runner: how caracal-migrate's cost grows with the work, against dbmate in the same run on the same server.
//   - a no-op run (everything applied) at 10 and at 1,000 applied files: against itself (goal: the 1,000-file run
//     within 1.2x of the 10-file run) and against dbmate at both sizes (goal: within 2x). Twice: with the checksum
//     manifest the Job's chart ships (applied files are not read), and without one (every file is read, as a
//     developer's `up` on a plain directory);
//   - applying 1,000 small files (a table, an index, a comment each) to an empty database (goal: at or under 1.0x dbmate).
// caracal-migrate runs as the Job does (the built bundle, `node dist/...cjs up`); dbmate 2.36.0 is its Go binary
// with --no-dump-schema, installed into bench/.cache on first use. Medians of runs that alternate the two tools.
// Uses DATABASE_URL when set, else starts its own Postgres with test/support/pg-cluster.mjs.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createHash } from 'node:crypto';
import { normalizeSql } from '../../common/migration-files';
import { MANIFEST_FILENAME, renderManifest } from '../../common/migration-manifest';
import { figure, writeFigures } from '../figures';

const ROOT = path.resolve(__dirname, '..', '..');
const SMALL = 10;
const LARGE = 1000;
const APPLY_RUNS = Number(process.env.BENCH_APPLY_RUNS ?? 3);
const NOOP_RUNS = Number(process.env.BENCH_NOOP_RUNS ?? 11);

function migrationSql(n: number): string {
  return [
    `-- migration ${n}: a table and an index`,
    `CREATE TABLE public.bench_${n} (id bigint PRIMARY KEY, zone_id bigint NOT NULL, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());`,
    `CREATE INDEX bench_${n}_zone ON public.bench_${n} (zone_id);`,
    `COMMENT ON TABLE public.bench_${n} IS 'bench table ${n}';`,
    '',
  ].join('\n');
}

/** The migration files three ways: plain, plain plus the manifest the Job's chart would carry, and dbmate's. */
function writeDirs(count: number): { caracal: string; manifest: string; dbmate: string } {
  const base = mkdtempSync(path.join(os.tmpdir(), `caracal-bench-${count}-`));
  const caracal = path.join(base, 'caracal');
  const manifest = path.join(base, 'manifest');
  const dbmate = path.join(base, 'dbmate');
  for (const d of [caracal, manifest, dbmate]) mkdirSync(d);
  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
  const entries: Array<{ filename: string; checksum: string }> = [];
  for (let n = 1; n <= count; n++) {
    const v = String(n).padStart(4, '0');
    const filename = `${v}_bench_${n}.up.sql`;
    writeFileSync(path.join(caracal, filename), migrationSql(n));
    writeFileSync(path.join(manifest, filename), migrationSql(n));
    entries.push({ filename, checksum: sha256(normalizeSql(migrationSql(n))) });
    writeFileSync(path.join(dbmate, `${v}_bench_${n}.sql`), `-- migrate:up\n${migrationSql(n)}\n-- migrate:down\n`);
  }
  writeFileSync(path.join(manifest, MANIFEST_FILENAME), renderManifest(entries, sha256));
  return { caracal, manifest, dbmate };
}

// dbmate is the peer, not a dependency: this registry serves only its linux-x64 binary package, and a lock
// file naming its other platforms' packages would break `npm ci`. The bench installs the pinned version
// into bench/.cache on first use instead.
const DBMATE_VERSION = '2.36.0';

function dbmateBinary(): string {
  const cache = path.join(ROOT, 'bench', '.cache', 'dbmate');
  const bin = path.join(cache, 'node_modules', '@dbmate', `${process.platform}-${process.arch}`, 'bin', 'dbmate');
  if (!existsSync(bin)) {
    mkdirSync(cache, { recursive: true });
    console.log(`installing dbmate@${DBMATE_VERSION} into ${path.relative(ROOT, cache)} (the bench's peer)`);
    execFileSync(
      'npm',
      ['install', '--prefix', cache, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `dbmate@${DBMATE_VERSION}`],
      { stdio: 'inherit' },
    );
  }
  execFileSync(bin, ['--version'], { stdio: 'pipe' });
  return bin;
}

// CPU time of the child (user+sys), through GNU time when present: on a shared, loaded machine wall time
// mostly measures the neighbours, CPU time much less so.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): { wall: number; cpu: number } {
  const [file, argv] = GNU_TIME ? [GNU_TIME, ['-f', 'CPU %U %S', cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  const m = /CPU ([0-9.]+) ([0-9.]+)\s*$/.exec(String(r.stderr));
  return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const loadAtStart = os.loadavg()[0];
  let serverUrl = process.env.DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!serverUrl) {
    const { startCluster } = await import(path.join(ROOT, 'test', 'support', 'pg-cluster.mjs'));
    const cluster = await startCluster();
    serverUrl = cluster.url as string;
    stop = () => cluster.destroy();
  }
  const outDir = path.join(ROOT, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  // BENCH_RUNNER_BUNDLE measures another build (an earlier commit's dist/caracal-migrate.cjs) in the same conditions.
  const bundle = process.env.BENCH_RUNNER_BUNDLE ? path.resolve(process.env.BENCH_RUNNER_BUNDLE) : path.join(outDir, 'caracal-migrate.cjs');
  if (!process.env.BENCH_RUNNER_BUNDLE) {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--outfile', bundle, '--quiet'], { cwd: ROOT });
  }
  const dbmate = dbmateBinary();
  const dirs: Record<number, { caracal: string; manifest: string; dbmate: string }> = {
    [SMALL]: writeDirs(SMALL),
    [LARGE]: writeDirs(LARGE),
  };
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  const urlFor = (db: string) => {
    const u = new URL(serverUrl!);
    u.pathname = `/${db}`;
    u.searchParams.set('sslmode', 'disable');
    return u.toString();
  };
  const fresh = async (db: string) => {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${db}`);
    return urlFor(db);
  };
  const env = { PATH: process.env.PATH, HOME: os.tmpdir() };
  const caracal = (n: number, url: string, mode: 'caracal' | 'manifest' = 'caracal') =>
    timed(process.execPath, [bundle, 'up', '--quiet', '--dir', dirs[n][mode], '--database-url', url], env);
  const dbm = (n: number, url: string) => timed(dbmate, ['--url', url, '--migrations-dir', dirs[n].dbmate, '--no-dump-schema', 'up'], env);

  const apply = { caracal: [] as number[], dbmate: [] as number[], caracalCpu: [] as number[], dbmateCpu: [] as number[] };
  type Runs = { caracal: number[]; manifest: number[]; dbmate: number[]; caracalCpu: number[]; manifestCpu: number[]; dbmateCpu: number[] };
  const runs = (): Runs => ({ caracal: [], manifest: [], dbmate: [], caracalCpu: [], manifestCpu: [], dbmateCpu: [] });
  const noop: Record<number, Runs> = { [SMALL]: runs(), [LARGE]: runs() };
  try {
    // The small databases, and a warm-up of both tools (page cache, server catalog caches), not counted.
    caracal(SMALL, await fresh('bench_small_caracal'));
    dbm(SMALL, await fresh('bench_small_dbmate'));
    for (let i = 0; i < APPLY_RUNS; i++) {
      // Alternate who goes first, so neither always gets a warmer server.
      const order = i % 2 === 0 ? ['caracal', 'dbmate'] : ['dbmate', 'caracal'];
      for (const who of order) {
        if (who === 'caracal') {
          const t = caracal(LARGE, await fresh('bench_large_caracal'));
          apply.caracal.push(t.wall);
          apply.caracalCpu.push(t.cpu);
        } else {
          const t = dbm(LARGE, await fresh('bench_large_dbmate'));
          apply.dbmate.push(t.wall);
          apply.dbmateCpu.push(t.cpu);
        }
      }
    }
    for (let i = 0; i < NOOP_RUNS; i++) {
      for (const n of [SMALL, LARGE]) {
        const size = n === SMALL ? 'small' : 'large';
        // Rotate who goes first, so no tool always follows the same neighbour.
        const order = (['caracal', 'manifest', 'dbmate'] as const).map((_, k, a) => a[(k + i) % a.length]);
        for (const who of order) {
          const t = who === 'dbmate' ? dbm(n, urlFor(`bench_${size}_dbmate`)) : caracal(n, urlFor(`bench_${size}_caracal`), who);
          noop[n][who].push(t.wall);
          noop[n][`${who}Cpu`].push(t.cpu);
        }
      }
    }
  } finally {
    for (const db of ['bench_small_caracal', 'bench_small_dbmate', 'bench_large_caracal', 'bench_large_dbmate']) {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    }
    await admin.end();
    await stop?.();
  }
  const m = (xs: number[]) => median(xs);
  const load = os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  console.log(
    `runner: medians of ${APPLY_RUNS} apply runs (${LARGE} files) and ${NOOP_RUNS} no-op runs (${SMALL} and ${LARGE} applied files), alternating with dbmate ${DBMATE_VERSION}; node ${process.version}, ${os.cpus().length} cores, load average ${load} (1 min: ${loadAtStart.toFixed(1)} at the start)`,
  );
  const row = (label: string, c: number, d: number, extra = '') =>
    console.log(
      `  ${label.padEnd(36)} caracal-migrate ${c.toFixed(0).padStart(6)} ms   dbmate ${d.toFixed(0).padStart(6)} ms   ratio ${(c / d).toFixed(2)}x${extra}`,
    );
  row(`apply ${LARGE} files (wall)`, m(apply.caracal), m(apply.dbmate));
  row(`apply ${LARGE} files (client CPU)`, m(apply.caracalCpu), m(apply.dbmateCpu));
  for (const n of [SMALL, LARGE]) {
    row(`no-op, ${n} applied, manifest (wall)`, m(noop[n].manifest), m(noop[n].dbmate));
    row(`no-op, ${n} applied, manifest (CPU)`, m(noop[n].manifestCpu), m(noop[n].dbmateCpu));
    row(`no-op, ${n} applied, no manifest (wall)`, m(noop[n].caracal), m(noop[n].dbmate));
    row(`no-op, ${n} applied, no manifest (CPU)`, m(noop[n].caracalCpu), m(noop[n].dbmateCpu));
  }
  const perFile = (who: 'caracal' | 'manifest' | 'dbmate') => ((m(noop[LARGE][who]) - m(noop[SMALL][who])) / (LARGE - SMALL)) * 1000;
  console.log(
    `  wall per applied file in a no-op run: caracal-migrate ${perFile('manifest').toFixed(1)} µs with the manifest, ${perFile('caracal').toFixed(1)} µs without; dbmate ${perFile('dbmate').toFixed(1)} µs`,
  );
  const modes = [
    ['manifest', 'with the checksum manifest (the Job)'],
    ['caracal', 'without a manifest'],
  ] as const;
  const figures = [
    ...modes.flatMap(([mode, label]) => [
      figure({
        name: `no-op run, ${LARGE} vs ${SMALL} applied files, ${label}`,
        project: m(noop[LARGE][mode]),
        peer: m(noop[SMALL][mode]),
        peerName: `caracal-migrate, ${SMALL} files`,
        unit: 'ms',
        goal: 'ratio <= 1.2',
        maxRatio: 1.2,
      }),
      ...[SMALL, LARGE].map((n) =>
        figure({
          name: `no-op run, ${n} applied files, ${label}`,
          project: m(noop[n][mode]),
          peer: m(noop[n].dbmate),
          peerName: `dbmate ${DBMATE_VERSION}`,
          unit: 'ms',
          goal: 'ratio <= 2',
          maxRatio: 2,
        }),
      ),
    ]),
    figure({
      name: `apply ${LARGE} small files`,
      project: m(apply.caracal),
      peer: m(apply.dbmate),
      peerName: `dbmate ${DBMATE_VERSION}`,
      unit: 'ms',
      goal: 'ratio <= 1.0',
      maxRatio: 1.0,
    }),
  ];
  writeFigures('runner', figures, {
    loadAverage: os.loadavg(),
    loadAverageAtStart: loadAtStart,
    perAppliedFileUs: { manifest: perFile('manifest'), noManifest: perFile('caracal'), dbmate: perFile('dbmate') },
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
