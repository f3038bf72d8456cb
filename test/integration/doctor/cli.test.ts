// `caracal-migrate doctor` as a process (the bundle the Job image carries), against the run's Postgres and a real
// redis-server: exit 0 when all is well, 4 on a finding, 2 when something could not be checked; a table a person
// can read and JSON for machines; the services' mounted ConfigMaps as synthesized by the constructs; every bad
// flag reported at once; no password in any output.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Testing } from 'cdktf';
import { SERVICES } from '../../../common/names';
import { REDIS_USERS } from '../../../common/redis-streams';
import { CaracalStores, StoresPostgres } from '../../../constructs/caracal-stores';
import { byName, Json } from '../../support/synth';
import { withClient } from '../../support/postgres';
import { runCli } from '../../fixtures/migrate/cli';
import { MIGRATIONS_DIR } from '../../fixtures/validate/migration-sets';
import { DoctorWorld, POOL_MAX, startDoctorWorld } from './world';

let world: DoctorWorld;
beforeAll(async () => {
  world = await startDoctorWorld();
}, 120_000);
afterAll(async () => {
  await world?.destroy();
});

/** Every flag a full run needs: each Redis user's password file, each service's pool, the release's files. */
function fullArgs(): string[] {
  return [
    'doctor',
    '--dir',
    MIGRATIONS_DIR,
    '--environment',
    world.environment,
    ...REDIS_USERS.flatMap((u) => ['--redis-password-file', `${u}=${world.redisPasswordFile(u)}`]),
    ...SERVICES.flatMap((s) => ['--pool-max', `${s}=${POOL_MAX}`]),
  ];
}

function redisEnv(): NodeJS.ProcessEnv {
  return { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(world.redis.server.port) };
}

/** Every secret the world holds: none may appear in any output. */
function secrets(dbPassword: string): string[] {
  return [dbPassword, ...Object.values(world.redis.passwords)];
}

/** A ConfigMap mounted the way the kubelet does it: files are symlinks through ..data to a timestamped directory. */
function mountConfigMap(data: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'caracal-doctor-cm-'));
  const real = path.join(dir, '..2026_01_01_00_00_00.000000000');
  mkdirSync(real);
  for (const [k, v] of Object.entries(data)) writeFileSync(path.join(real, k), v);
  symlinkSync(path.basename(real), path.join(dir, '..data'));
  for (const k of Object.keys(data)) symlinkSync(path.join('..data', k), path.join(dir, k));
  return dir;
}

describe('caracal-migrate doctor', () => {
  test('GIVEN a healthy database and Redis and every setting WHEN doctor runs THEN it exits 0 and every row of the table reads ok', async () => {
    const db = await world.database();
    await world.resetStreams();
    const started = Date.now();
    const r = await runCli(fullArgs(), { ...world.pgEnv(db), ...redisEnv() });
    const ms = Date.now() - started;
    const notOk = r.stdout.split('\n').filter((l) => /^ {2}(FINDING|NOT CHECKED)/.test(l));
    expect({ code: r.code, notOk, stderr: r.stderr.replace(/caracal-migrate: doctor: .*\n/, '') }).toEqual({
      code: 0,
      notOk: [],
      stderr: '',
    });
    const heads = r.stdout.split('\n').filter((l) => /^(Bootstrap|Operations|Performance|Access control|Next step):/.test(l));
    expect(heads.map((l) => l.replace(/\s+/g, ' '))).toEqual([
      'Bootstrap: Migration Job fails ok',
      'Operations: API outbox grows ok',
      'Performance: Audit queries slow ok',
      'Access control: RLS errors ok',
      'Next step: Streams: groups, pending entries, invalidation, revocation, audit delivery ok',
    ]);
    expect(r.stdout.trim().split('\n').pop()).toBe('26 ok, 0 finding(s), 0 not checked: all well');
    for (const s of secrets(db.password)) expect(r.stdout + r.stderr).not.toContain(s);
    expect(ms).toBeGreaterThan(0); // measured, printed in the lead's report (not asserted: timing)
  });

  test("GIVEN the environment's monitoring login WHEN doctor runs THEN every check reads ok but the one-day plan and the RLS probes, which say they need more", async () => {
    const db = await world.database();
    await world.resetStreams();
    const r = await runCli(fullArgs(), {
      ...world.pgEnv(db, { PGUSER: `caracal_${world.environment}_monitoring`, PGPASSWORD_FILE: world.loginPasswordFile('monitoring') }),
      ...redisEnv(),
    });
    const notOk = r.stdout.split('\n').filter((l) => /^ {2}(FINDING|NOT CHECKED)/.test(l));
    expect(notOk.map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      expect.stringMatching(/^NOT CHECKED one-day query plan /),
      expect.stringMatching(/^NOT CHECKED RLS probes /),
    ]);
    expect(r.stdout.trim().split('\n').pop()).toBe('24 ok, 0 finding(s), 2 not checked: some checks could not run; see why above (exit 2)');
    expect(r.code).toBe(2);
    expect(
      secrets(readFileSync(world.loginPasswordFile('monitoring'), 'utf8')).filter((p) => `${r.stdout}${r.stderr}`.includes(p)),
    ).toEqual([]);
  });

  test('GIVEN --json WHEN doctor runs THEN it prints one object with a verdict per row, each check with its runbook anchor and replica safety', async () => {
    const db = await world.database();
    await world.resetStreams();
    const r = await runCli([...fullArgs(), '--json'], { ...world.pgEnv(db), ...redisEnv() });
    const report = JSON.parse(r.stdout) as Json;
    expect(r.code).toBe(0);
    expect(report).toMatchObject({ status: 'ok', serverRole: 'primary', counts: { ok: 26, finding: 0, unchecked: 0 } });
    expect(report.rows.map((row: Json) => [row.id, row.status, row.runbook])).toEqual([
      ['migration-job-fails', 'ok', 'docs/operations.md#migration-job-fails'],
      ['api-outbox-grows', 'ok', 'docs/operations.md#api-outbox-grows'],
      ['audit-queries-slow', 'ok', 'docs/operations.md#audit-queries-slow'],
      ['rls-errors', 'ok', 'docs/operations.md#rls-errors'],
      ['streams', 'ok', 'docs/operations.md#streams-groups-pending-entries-invalidation-revocation-audit-delivery'],
    ]);
    const replicaUnsafe = report.rows.flatMap((row: Json) => row.checks).filter((c: Json) => !c.replicaSafe);
    expect(replicaUnsafe.map((c: Json) => c.id)).toEqual(['lock', 'rls-probe']);
  });

  test('GIVEN dead outbox rows WHEN doctor runs THEN it exits 4 and the table says what is wrong, what to do next and where the runbook explains it', async () => {
    const db = await world.database();
    await world.resetStreams();
    await withClient(db.url, async (c) => {
      const z = await c.query<{ id: string }>(`INSERT INTO public.zones (slug, display_name) VALUES ('cli-dead', 'CLI') RETURNING id`);
      await c.query(
        `INSERT INTO public.event_outbox (zone_id, topic, aggregate_type, aggregate_id, payload, status, attempts, last_error, dead_at)
         VALUES ($1, 'zone.updated', 'zone', 'z1', '{}', 'dead', 12, 'OOM command not allowed when used memory > ''maxmemory''', now())`,
        [z.rows[0].id],
      );
    });
    const r = await runCli([...fullArgs(), '--row', 'api-outbox-grows'], { ...world.pgEnv(db), ...redisEnv() });
    expect(r.code).toBe(4);
    const lines = r.stdout.trimEnd().split('\n');
    const at = lines.findIndex((l) => l.startsWith('  FINDING') && l.includes('outbox dead rows'));
    expect(lines[at]).toMatch(/^ {2}FINDING {5}outbox dead rows +1 dead row\(s\): the dispatcher gave up on them$/);
    expect(lines[at + 1]).toMatch(
      /^ {14}- event_outbox: 1 dead \(.*\), last_error: "OOM command not allowed when used memory > 'maxmemory'"$/,
    );
    expect(lines[at + 2]).toMatch(/^ {14}next: read last_error, fix its cause/);
    expect(lines[at + 3]).toBe('              runbook: docs/operations.md#outbox-dead-rows');
    expect(lines.at(-1)).toBe('5 ok, 1 finding(s), 0 not checked: act on the findings above (exit 4)');
  });

  test('GIVEN no Redis settings at all WHEN doctor runs THEN it exits 2 and says which settings would let it check Redis', async () => {
    const db = await world.database();
    const r = await runCli(['doctor', '--row', 'streams'], world.pgEnv(db));
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/NOT CHECKED stream groups +no Redis given\n +next: set REDIS_HOST and REDIS_PORT/);
  });

  test("GIVEN the services' database and Redis ConfigMaps as synthesized, mounted like the kubelet does WHEN doctor reads them THEN it uses their pool sizes and Redis users", async () => {
    const db = await world.database();
    await world.resetStreams();
    const json = JSON.parse(
      Testing.synthScope((scope) => {
        new CaracalStores(scope, 'stores', {
          environment: 'dev',
          namespace: 'caracal-dev',
          postgres: StoresPostgres.inCluster(),
          pools: { api: { poolMax: 3 } },
        });
      }),
    ) as Json;
    const dbCm = byName(json, 'kubernetes_config_map_v1', 'caracal-api-db').data as Record<string, string>;
    const redisCm = {
      ...(byName(json, 'kubernetes_config_map_v1', 'caracal-api-redis').data as Record<string, string>),
      // Where this test's Redis is: the rendered one names the in-cluster Service.
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(world.redis.server.port),
    };
    const r = await runCli(
      [
        'doctor',
        '--row',
        'api-outbox-grows',
        '--pool-config',
        mountConfigMap(dbCm),
        '--redis-config',
        mountConfigMap(redisCm),
        // The ConfigMap names the pod's mount path; here the api password is elsewhere.
        '--redis-password-file',
        `api=${world.redisPasswordFile('api')}`,
        '--json',
      ],
      world.pgEnv(db),
    );
    const report = JSON.parse(r.stdout) as Json;
    const checks = report.rows[0].checks as Json[];
    const auth = checks.find((c) => c.id === 'redis-auth')!;
    expect(auth).toMatchObject({ status: 'ok', summary: `1 user(s) authenticated at 127.0.0.1:${world.redis.server.port}: api` });
    expect(dbCm.DB_POOL_MAX).toBe('3');
    const pool = checks.find((c) => c.id === 'pool')!;
    expect(pool.status).toBe('ok');
  });

  test('GIVEN a bad value in every doctor flag WHEN doctor runs THEN it exits 2 and names every problem at once, before connecting', async () => {
    const db = await world.database();
    const r = await runCli(
      [
        'doctor',
        '--pool-max',
        'api=lots',
        '--pool-max',
        'web=3',
        '--pool-max',
        'sts',
        '--pool-config',
        '/nonexistent/caracal-sts-db',
        '--redis-password-file',
        'nobody=/tmp/x',
        '--environment',
        'Prod',
        '--stale-after',
        'soon',
        '--row',
        'everything',
      ],
      { ...world.pgEnv(db), PGPORT: '1' },
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    for (const problem of [
      '--pool-max "sts" is not valid: expected KEY=VALUE',
      '--pool-max api="lots" is not valid: expected a whole number from 1 to 200',
      '--pool-max web=3: "web" is not a Caracal service: expected one of api, coordinator, audit, sts, gateway',
      '--pool-config /nonexistent/caracal-sts-db: /nonexistent/caracal-sts-db/PGAPPNAME cannot be read (ENOENT)',
      '--redis-password-file nobody=/tmp/x: Redis user "nobody" is not one of the ACL users api, coordinator, audit, sts, gateway, healthcheck, ops, exporter',
      '--environment "Prod" is not valid: expected lower-case letters and digits',
      '--row "everything" is not a troubleshooting row: expected one of migration-job-fails, api-outbox-grows, audit-queries-slow, rls-errors, streams',
      '--stale-after="soon" is not valid',
    ])
      expect(r.stderr).toContain(problem);
    expect(r.stderr).not.toContain('connection refused');
  });
});
