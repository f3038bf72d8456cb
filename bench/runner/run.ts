// bench/runner: 100 small migrations applied to an empty database, and a no-op run, by caracal-migrate (the
// built Job bundle) and by dbmate (its Go binary, --no-dump-schema) in the same run, on the same server.
// Prints both medians and the ratio. Goals (reported, not gated): apply within 1.2x of dbmate; no-op < 300 ms.
// Uses DATABASE_URL when set, else starts its own Postgres with test/support/pg-cluster.mjs.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

const ROOT = path.resolve(__dirname, '..', '..');
const MIGRATIONS = 100;
const APPLY_RUNS = 5;
const NOOP_RUNS = 9;

function migrationSql(n: number): string {
  return [
    `-- migration ${n}: a table and an index`,
    `CREATE TABLE public.bench_${n} (id bigint PRIMARY KEY, zone_id bigint NOT NULL, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());`,
    `CREATE INDEX bench_${n}_zone ON public.bench_${n} (zone_id);`,
    `COMMENT ON TABLE public.bench_${n} IS 'bench table ${n}';`,
    '',
  ].join('\n');
}

function writeDirs(): { caracal: string; dbmate: string } {
  const base = mkdtempSync(path.join(os.tmpdir(), 'caracal-bench-'));
  const caracal = path.join(base, 'caracal');
  const dbmate = path.join(base, 'dbmate');
  mkdirSync(caracal);
  mkdirSync(dbmate);
  for (let n = 1; n <= MIGRATIONS; n++) {
    const v = String(n).padStart(4, '0');
    writeFileSync(path.join(caracal, `${v}_bench_${n}.up.sql`), migrationSql(n));
    writeFileSync(path.join(dbmate, `${v}_bench_${n}.sql`), `-- migrate:up\n${migrationSql(n)}\n-- migrate:down\n`);
  }
  return { caracal, dbmate };
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
const cpu = { caracal: [] as number[], dbmate: [] as number[] };

function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv, cpuInto?: number[]): number {
  const [file, argv] = GNU_TIME ? [GNU_TIME, ['-f', 'CPU %U %S', cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, argv, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  const m = /CPU ([0-9.]+) ([0-9.]+)\s*$/.exec(String(r.stderr));
  if (m && cpuInto) cpuInto.push((Number(m[1]) + Number(m[2])) * 1000);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
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
  const bundle = path.join(outDir, 'caracal-migrate.cjs');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--outfile', bundle, '--quiet'], { cwd: ROOT });
  const dbmate = dbmateBinary();
  const dirs = writeDirs();
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
  let cpuApply = true;
  const caracal = (url: string) =>
    timed(
      process.execPath,
      [bundle, 'up', '--quiet', '--dir', dirs.caracal, '--database-url', url],
      env,
      cpuApply ? cpu.caracal : cpuNoop.caracal,
    );
  const dbm = (url: string) =>
    timed(dbmate, ['--url', url, '--migrations-dir', dirs.dbmate, '--no-dump-schema', 'up'], env, cpuApply ? cpu.dbmate : cpuNoop.dbmate);
  const cpuNoop = { caracal: [] as number[], dbmate: [] as number[] };

  const apply = { caracal: [] as number[], dbmate: [] as number[] };
  const noop = { caracal: [] as number[], dbmate: [] as number[] };
  try {
    // warm-up (page cache, server catalog caches), not counted
    caracal(await fresh('bench_warm_caracal'));
    dbm(await fresh('bench_warm_dbmate'));
    cpu.caracal.length = 0;
    cpu.dbmate.length = 0;
    for (let i = 0; i < APPLY_RUNS; i++) {
      // alternate who goes first, so neither always gets a warmer server
      if (i % 2 === 0) {
        apply.caracal.push(caracal(await fresh('bench_caracal')));
        apply.dbmate.push(dbm(await fresh('bench_dbmate')));
      } else {
        apply.dbmate.push(dbm(await fresh('bench_dbmate')));
        apply.caracal.push(caracal(await fresh('bench_caracal')));
      }
    }
    cpuApply = false;
    for (let i = 0; i < NOOP_RUNS; i++) {
      noop.caracal.push(caracal(urlFor('bench_caracal')));
      noop.dbmate.push(dbm(urlFor('bench_dbmate')));
    }
    const check = await admin.query('SELECT 1');
    void check;
  } finally {
    for (const db of ['bench_warm_caracal', 'bench_warm_dbmate', 'bench_caracal', 'bench_dbmate']) {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    }
    await admin.end();
    await stop?.();
  }
  const row = (label: string, c: number[], d: number[], goal: string) => {
    const mc = median(c);
    const md = median(d);
    console.log(
      `${label.padEnd(34)} caracal-migrate ${mc.toFixed(0).padStart(5)} ms   dbmate ${md.toFixed(0).padStart(5)} ms   ratio ${(mc / md).toFixed(2)}x   (${goal})`,
    );
    return { mc, md };
  };
  console.log(
    `runner: ${MIGRATIONS} migrations, medians of ${APPLY_RUNS} apply and ${NOOP_RUNS} no-op runs; node ${process.version}, ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const a = row(`apply ${MIGRATIONS} to an empty database`, apply.caracal, apply.dbmate, 'goal: ratio <= 1.20');
  const n = row('no-op run', noop.caracal, noop.dbmate, 'goal: caracal-migrate < 300 ms');
  if (cpu.caracal.length > 0) {
    row('  CPU time (user+sys), apply', cpu.caracal, cpu.dbmate, 'client CPU only');
    row('  CPU time (user+sys), no-op', cpuNoop.caracal, cpuNoop.dbmate, 'client CPU only');
  }
  console.log(
    `verdict: apply ${a.mc / a.md <= 1.2 ? 'meets' : 'misses'} the 1.2x goal; no-op ${n.mc < 300 ? 'meets' : 'misses'} the 300 ms goal`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
