// bench/backup: the backup CronJob's script and the documented restore against the plain tools with their default
// options (pg_dump -Fc, pg_restore -d, as the superuser) on the same database in the same run: 1M audit events over
// 30 daily partitions plus the other tables, on Postgres 15 with Debian's client 15 (no other major's pg_dump here).
// Times are the median of BENCH_ROUNDS rounds, each running both in alternating order.
// Run: `npm run bench backup`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readManifest, restoreAndCheck, restoreBackup } from '../../src/backup';
import { resolveConnection } from '../../src/migrate/connection';
import { managedDatabase, PG15_BIN, runBackupScript, seedThroughServices } from '../../test/support/backup';
import { startOwnCluster, withClient } from '../../test/support/postgres';
import { figure, writeFigures } from '../figures';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const DAYS = 30;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const JOBS = Number(process.env.BENCH_JOBS ?? 2);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function timed(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function timedAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function run(program: string, args: string[], env: NodeJS.ProcessEnv): void {
  const r = spawnSync(path.join(PG15_BIN, program), args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} failed: ${r.stderr}`);
}

async function main(): Promise<void> {
  const [source, target] = await Promise.all([startOwnCluster({ major: 15 }), startOwnCluster({ major: 15 })]);
  const work = mkdtempSync(path.join(tmpdir(), 'caracal-bench-backup-'));
  try {
    const db = await managedDatabase(source.url, 'bench');
    await seedThroughServices(db);
    const src = new URL(source.url);
    // 1M audit events over 30 daily partitions: a bulk load as the superuser (the services' path is tested elsewhere).
    await withClient(`postgres://postgres:${src.password}@${src.host}/${db.database}`, async (c) => {
      await c.query(`SELECT public.audit_partitions_ensure($1, 1)`, [DAYS - 1]);
      const zone = (await c.query(`SELECT id FROM public.zones LIMIT 1`)).rows[0].id;
      await c.query(
        `INSERT INTO public.audit_events (zone_id, event_id, ingested_at, occurred_at, source, event_type, actor, subject, decision, request_id, payload)
         SELECT $1, gen_random_uuid(), t, t - interval '2 seconds', 'gateway', 'request.authorized', 'agent:' || (g % 50), 'resource:' || (g % 200),
                CASE WHEN g % 10 = 0 THEN 'deny' ELSE 'allow' END, md5(g::text),
                jsonb_build_object('method', 'GET', 'path', '/v1/items/' || g, 'status', 200, 'latency_ms', g % 97)
           FROM generate_series(1, $2::int) g,
                LATERAL (SELECT date_trunc('day', now()) - ((g % $3::int) * interval '1 day') + ((g / $3::int) % 86000) * interval '1 second' AS t) x`,
        [zone, EVENTS, DAYS],
      );
      await c.query('VACUUM ANALYZE');
    });
    const counts = await withClient(`postgres://postgres:${src.password}@${src.host}/${db.database}`, (c) =>
      c.query(
        `SELECT (SELECT count(*) FROM public.audit_events)::int AS events,
                (SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.audit_events'::regclass AND inhrelid IN (SELECT relid FROM pg_partition_tree('public.audit_events') WHERE isleaf))::int AS partitions,
                (SELECT count(DISTINCT tableoid) FROM public.audit_events)::int AS filled,
                pg_database_size(current_database())::bigint AS bytes`,
      ),
    );
    const { events, partitions, filled, bytes } = counts.rows[0];

    const superuserEnv = { PGHOST: src.hostname, PGPORT: src.port, PGUSER: 'postgres', PGPASSWORD: decodeURIComponent(src.password) };
    const tgt = new URL(target.url);
    const targetSuperuserEnv = { ...superuserEnv, PGHOST: tgt.hostname, PGPORT: tgt.port };
    await withClient(target.url, (c) =>
      c.query(`CREATE ROLE ${db.login('owner')} LOGIN CREATEROLE CREATEDB PASSWORD '${db.passwords.get('owner')}'`),
    );
    const owner = resolveConnection({
      PGHOST: tgt.hostname,
      PGPORT: tgt.port,
      PGUSER: db.login('owner'),
      PGPASSWORD: db.passwords.get('owner'),
      PGDATABASE: 'postgres',
      PGSSLMODE: 'disable',
    });

    const ours = { backup: [] as number[], restore: [] as number[], check: [] as number[], bytes: 0 };
    const plain = { backup: [] as number[], restore: [] as number[], bytes: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const root = path.join(work, `ours-${round}`);
      const plainFile = path.join(work, `plain-${round}.dump`);
      const steps = [
        async () => {
          let code = 0;
          ours.backup.push(
            await timedAsync(async () => (code = (await runBackupScript(db, root, PG15_BIN, { BACKUP_JOBS: String(JOBS) })).code)),
          );
          if (code !== 0) throw new Error('backup script failed');
        },
        async () => {
          plain.backup.push(timed(() => run('pg_dump', ['-Fc', `--file=${plainFile}`, db.database], superuserEnv)));
        },
      ];
      for (const step of round % 2 === 0 ? steps : [...steps].reverse()) await step();
      const dir = path.join(root, readFileSync(path.join(root, 'LATEST'), 'utf8').trim());
      const manifest = readManifest(dir);
      ours.bytes = manifest.bytes;
      plain.bytes = statSync(plainFile).size;
      const restores = [
        async () => {
          const database = `ours_${round}`;
          ours.restore.push(
            await timedAsync(() =>
              restoreBackup({ backupDir: dir, manifest, connection: owner, targetDatabase: database, pgBin: PG15_BIN, jobs: JOBS }),
            ),
          );
          await withClient(target.url, (c) => c.query(`DROP DATABASE ${database} WITH (FORCE)`));
        },
        async () => {
          const database = `plain_${round}`;
          await withClient(target.url, (c) => c.query(`CREATE DATABASE ${database}`));
          plain.restore.push(timed(() => run('pg_restore', [`--dbname=${database}`, plainFile], targetSuperuserEnv)));
          await withClient(target.url, (c) => c.query(`DROP DATABASE ${database} WITH (FORCE)`));
        },
      ];
      for (const step of round % 2 === 0 ? restores : [...restores].reverse()) await step();
      if (round === 0) {
        let ok = false;
        ours.check.push(
          await timedAsync(async () => {
            const r = await restoreAndCheck({
              backupDir: dir,
              manifest,
              connection: owner,
              targetDatabase: 'ours_check',
              pgBin: PG15_BIN,
              jobs: JOBS,
              dropAfter: true,
            });
            ok = r.ok;
          }),
        );
        if (!ok) throw new Error('the restore check failed on the bench backup');
      }
      rmSync(root, { recursive: true, force: true });
      rmSync(plainFile, { force: true });
    }

    const b = { ours: median(ours.backup), plain: median(plain.backup) };
    const r = { ours: median(ours.restore), plain: median(plain.restore) };
    const lines = [
      `server: PostgreSQL 15 (own cluster), client: Debian ${PG15_BIN}; ${ROUNDS} rounds, medians; ${JOBS} jobs on ${require('node:os').cpus().length} cores`,
      `data: ${events.toLocaleString('en')} audit events in ${filled} of ${partitions} partitions, plus every other table seeded through the services; database ${mib(Number(bytes))}`,
      `backup (ours: the CronJob script, pg_dump -Fd -j ${JOBS} --compress=6 --snapshot + manifest stats + pg_dumpall + checksums, as the backup login)`,
      `  ours ${seconds(b.ours)}, plain pg_dump -Fc (superuser) ${seconds(b.plain)}: ratio ${(b.ours / b.plain).toFixed(2)}x`,
      `size: ours ${mib(ours.bytes)} (dump + globals), plain ${mib(plain.bytes)}: ratio ${(ours.bytes / plain.bytes).toFixed(2)}x`,
      `restore (ours: as the non-superuser owner, -j ${JOBS} then row security serially, database grants, ANALYZE)`,
      `  ours ${seconds(r.ours)}, plain pg_restore -d (superuser, serial, no ANALYZE) ${seconds(r.plain)}: ratio ${(r.ours / r.plain).toFixed(2)}x`,
      `restore check (restore + compare every domain + verify, scratch database dropped): ${seconds(ours.check[0])}`,
    ];
    console.log(lines.join('\n'));
    writeFigures(
      'backup',
      [
        figure({
          name: 'backup: CronJob script (pg_dump -Fd -j, manifest, globals, checksums) vs plain pg_dump -Fc',
          project: b.ours / 1000,
          peer: b.plain / 1000,
          peerName: 'pg_dump -Fc, superuser',
          unit: 's',
          goal: 'reported (same run)',
          met: true,
        }),
        figure({
          name: 'backup size (dump + globals) vs plain pg_dump -Fc',
          project: ours.bytes / 1024 / 1024,
          peer: plain.bytes / 1024 / 1024,
          peerName: 'pg_dump -Fc',
          unit: 'MiB',
          goal: 'reported (same run)',
          met: true,
        }),
        figure({
          name: 'restore as the non-superuser owner vs plain pg_restore -d',
          project: r.ours / 1000,
          peer: r.plain / 1000,
          peerName: 'pg_restore -d, superuser',
          unit: 's',
          goal: 'reported (same run)',
          met: true,
        }),
        figure({
          name: 'restore check (restore, every domain compared, verify)',
          project: ours.check[0] / 1000,
          unit: 's',
          goal: 'reported',
          met: true,
        }),
      ],
      { events, partitions, filled, databaseBytes: Number(bytes), rounds: ROUNDS, jobs: JOBS, ours, plain },
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
    await Promise.all([source.destroy(), target.destroy()]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
