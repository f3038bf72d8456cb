// The audit partition CronJob's exact command (read from the synthesized JSON) run with Debian's sh and
// psql against a real Postgres with the migrations applied, as a maintenance login (a member of
// caracal_maintenance, never the owner), password from a file.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditPartitionMaintenance } from '../../../constructs/audit-partition-maintenance';
import { FreshDatabase, serverUrl, withClient } from '../../support/postgres';
import { baselineDatabase } from '../../support/schema';
import { Json, only, synthScope } from '../../support/synth';

const MAINTENANCE_SECRET = {
  login: 'maintenance' as const,
  username: 'placeholder',
  groupRole: 'caracal_maintenance',
  secretName: 'caracal-db-maintenance',
  usernameKey: 'username',
  passwordKey: 'password',
  version: 'test',
};

let db: FreshDatabase;
let login: string;
let password: string;
let tmp: string;
let container: Json;

beforeAll(async () => {
  const { json } = synthScope(
    (s) =>
      new AuditPartitionMaintenance(s, 'audit-maintenance', {
        environment: 'dev',
        namespace: 'caracal-dev',
        login: MAINTENANCE_SECRET,
        endpoint: { host: 'postgres.caracal-dev.svc.cluster.local', port: 5432, database: 'caracal', sslMode: 'disable' },
      }),
  );
  container = only(json, 'kubernetes_cron_job_v1').spec.job_template.spec.template.spec.container[0];
  db = await baselineDatabase();
  login = `caracal_t${randomBytes(4).toString('hex')}_maintenance`;
  password = randomBytes(18).toString('base64url');
  await withClient(serverUrl(), async (c) => {
    await c.query(`CREATE ROLE ${login} LOGIN PASSWORD '${password}' IN ROLE caracal_maintenance`);
    await c.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${login}`);
  });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'caracal-audit-job-'));
  writeFileSync(path.join(tmp, 'password'), password, { mode: 0o400 });
});

afterAll(async () => {
  await db?.drop();
  await withClient(serverUrl(), (c) => c.query(`DROP ROLE IF EXISTS ${login}`)).catch(() => undefined);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs the container's command with its env; only the connection target and the mounted file path are this machine's. */
function runJob(passwordFile = path.join(tmp, 'password')): Promise<{ code: number | null; out: string }> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const e of container.env as Array<{ name: string; value: string }>) env[e.name] = e.value;
  Object.assign(env, { PGHOST: db.host, PGPORT: String(db.port), PGDATABASE: db.name, PGUSER: login, PGPASSWORD_FILE: passwordFile });
  return new Promise((resolve) => {
    const child = spawn(container.command[0], container.command.slice(1), { env });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    child.on('close', (code) => resolve({ code, out }));
  });
}

const utcDay = (offset: number) => {
  const d = new Date(Date.now() + offset * 86_400_000);
  return d.toISOString().slice(0, 10).replace(/-/g, '');
};

async function partitions(): Promise<string[]> {
  return withClient(db.url, async (c) =>
    (
      await c.query(
        `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'public.audit_events'::regclass AND c.relname <> 'audit_events_default' ORDER BY 1`,
      )
    ).rows.map((r) => r.relname),
  );
}

describe('Audit partition maintenance CronJob command', () => {
  test('GIVEN the synthesized CronJob WHEN its container is read THEN it runs sh -c with the password from the mounted file, never an env literal', () => {
    expect(container.command[0]).toBe('sh');
    expect(container.env.find((e: Json) => e.name === 'PGPASSWORD')).toBeUndefined();
    expect(container.env.find((e: Json) => e.name === 'PGPASSWORD_FILE').value).toBe('/var/run/secrets/caracal/maintenance/password');
    expect(container.env.find((e: Json) => e.name === 'PGOPTIONS').value).toMatch(/-c lock_timeout=5000 /);
  });

  test('GIVEN a migrated database WHEN the job runs as the maintenance login THEN it exits 0 and the window from today-7 to today+14 is partitioned', async () => {
    const { code, out } = await runJob();
    const names = await partitions();

    expect({ code, out }).toMatchObject({ code: 0 });
    expect(out).toMatch(/health future_partitions ok/);
    for (let d = -7; d <= 14; d++) expect(names).toContain(`audit_events_p${utcDay(d)}`);
  });

  test('GIVEN an up-to-date window WHEN the job runs again THEN it creates nothing and exits 0', async () => {
    await runJob();
    const before = await partitions();

    const { code, out } = await runJob();

    expect(code).toBe(0);
    expect(out).toMatch(/audit partitions created: 0/);
    expect(await partitions()).toEqual(before);
  });

  test('GIVEN two runs at the same time WHEN both finish THEN both exit 0 and the window is the same (they serialize on the advisory lock)', async () => {
    await runJob();
    const before = await partitions();

    const [a, b] = await Promise.all([runJob(), runJob()]);

    expect([a.code, b.code]).toEqual([0, 0]);
    expect(await partitions()).toEqual(before);
  });

  test('GIVEN a future partition was dropped WHEN the job runs THEN it re-creates it and exits 0', async () => {
    await runJob();
    const victim = `audit_events_p${utcDay(3)}`;
    await withClient(db.url, (c) => c.query(`DROP TABLE public.${victim}`));

    const { code, out } = await runJob();

    expect(code).toBe(0);
    expect(out).toMatch(/audit partitions created: 1/);
    expect(await partitions()).toContain(victim);
  });

  // Day -5 is behind the window the exporter's audit_partition_health looks at: the daily run checks every partition.
  test.each([1, -5])(
    'GIVEN an append-only trigger disabled on the partition of day %p WHEN the job runs THEN health fails and the job exits non-zero naming the check',
    async (day) => {
      await runJob();
      const victim = `audit_events_p${utcDay(day)}`;
      await withClient(db.url, (c) => c.query(`ALTER TABLE public.${victim} DISABLE TRIGGER audit_events_append_only`));

      const { code, out } = await runJob();
      await withClient(db.url, (c) => c.query(`ALTER TABLE public.${victim} ENABLE ALWAYS TRIGGER audit_events_append_only`));

      expect(code).not.toBe(0);
      expect(out).toMatch(/health append_only_triggers FAILED/);
      expect(out).toMatch(new RegExp(`audit partition health failed: append_only_triggers: .*${victim}`));
    },
  );

  test('GIVEN a wrong password in the mounted file WHEN the job runs THEN it exits non-zero without printing the password', async () => {
    const wrong = path.join(tmp, 'wrong-password');
    writeFileSync(wrong, 'not-the-password', { mode: 0o400 });

    const { code, out } = await runJob(wrong);

    expect(code).not.toBe(0);
    expect(out).toMatch(/password authentication failed/);
    expect(out).not.toContain('not-the-password');
  });

  test('GIVEN a transaction holding a lock on audit_events WHEN the job must attach a partition THEN it gives up at lock_timeout and exits non-zero instead of queueing behind it', async () => {
    await runJob();
    await withClient(db.url, (c) => c.query(`DROP TABLE public.audit_events_p${utcDay(5)}`));

    const { code, out } = await withClient(db.url, async (holder) => {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE public.audit_events IN ACCESS EXCLUSIVE MODE');
      try {
        return await runJob();
      } finally {
        await holder.query('ROLLBACK');
      }
    });
    const after = await runJob();

    expect(code).not.toBe(0);
    expect(out).toMatch(/canceling statement due to lock timeout/);
    expect(after.code).toBe(0);
    expect(await partitions()).toContain(`audit_events_p${utcDay(5)}`);
  });
});
