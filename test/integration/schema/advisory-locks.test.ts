// Advisory locks are open to every login with CONNECT (issue 14 item 5): what a service login that holds the
// runner's, provisioning's or the partition maintenance's key does to each of them, measured with the real CLI
// and functions on the run's Postgres. docs/operations.md "Advisory locks" documents the keys and the diagnosis.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { envFor, runCli, tempDir } from '../../fixtures/migrate/cli';
import { ADVISORY_LOCK_KEY } from '../../../src/migrate/history';
import { provisionRoles } from '../../../src/provision/provision-roles';
import { ExitCode } from '../../../src/migrate/errors';
import { FreshDatabase, freshDatabase, serverUrl, withClient } from '../../support/postgres';
import { MIGRATIONS_DIR } from '../../support/schema';

const suffix = randomBytes(3).toString('hex');
const password = randomBytes(12).toString('hex');
const squatter = `caracal_k${suffix}_gateway`;
const maintenance = `caracal_k${suffix}_maintenance`;
let db: FreshDatabase;

beforeAll(async () => {
  db = await freshDatabase();
  await withClient(db.url, async (c) => {
    // Any login with CONNECT will do (advisory locks need no privilege); the group roles may not exist yet.
    await c.query(`CREATE ROLE ${squatter} LOGIN PASSWORD '${password}'`);
    await c.query(`CREATE ROLE ${maintenance} LOGIN PASSWORD '${password}'`);
    await c.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${squatter}, ${maintenance}`);
  });
});

afterAll(async () => {
  await db?.drop();
  await withClient(serverUrl(), (c) => c.query(`DROP ROLE IF EXISTS ${squatter}, ${maintenance}, caracal_k${suffix}_api`));
});

/** A session of the gateway login holding `key` (session-level, as pg_advisory_lock takes it) until released. */
async function holdAs(login: string, keySql: string): Promise<{ pid: number; release: () => Promise<void> }> {
  const u = new URL(db.url);
  u.username = login;
  u.password = password;
  const c = new Client({ connectionString: u.toString(), application_name: 'caracal-gateway' });
  await c.connect();
  const { rows } = await c.query(`SELECT pg_backend_pid() AS pid, pg_advisory_lock(${keySql})`);
  return { pid: rows[0].pid, release: () => c.end() };
}

describe('a service login holding an advisory key', () => {
  test("GIVEN pending migrations and the runner's key held by the gateway login WHEN the Job's up runs THEN it exits 3 at --lock-wait naming the holder", async () => {
    const held = await holdAs(squatter, ADVISORY_LOCK_KEY);
    try {
      const started = Date.now();
      const r = await runCli(['up', '--dir', MIGRATIONS_DIR, '--lock-wait', '2s'], envFor(db, { PGSSLMODE: 'disable' }));
      expect(r.code).toBe(ExitCode.LOCK_TIMEOUT);
      expect(r.stderr).toContain(
        `could not take the migration advisory lock within 2 s: held by pid ${held.pid} (application_name "caracal-gateway")`,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    } finally {
      await held.release();
    }
  });

  test("GIVEN an up-to-date database and the runner's key held WHEN up runs THEN it exits 0: nothing to apply needs no lock", async () => {
    await applySchemaWithRunner();
    const held = await holdAs(squatter, ADVISORY_LOCK_KEY);
    try {
      const r = await runCli(['up', '--dir', MIGRATIONS_DIR, '--lock-wait', '2s'], envFor(db, { PGSSLMODE: 'disable' }));
      expect(r.stdout).toMatch(/nothing to do/);
      expect(r.code).toBe(0);
    } finally {
      await held.release();
    }
  });

  test("GIVEN provisioning's key held by the gateway login WHEN the Job provisions THEN it fails with exit 3 naming the holder's user", async () => {
    const dir = tempDir('caracal-lock-provision-');
    const passwordFile = path.join(dir, 'api.password');
    writeFileSync(passwordFile, password);
    const held = await holdAs(squatter, "hashtext('caracal-provision-roles')");
    try {
      const failure = await withClient(db.url, (c) =>
        provisionRoles(c, [{ loginRole: `caracal_k${suffix}_api`, groupRole: 'caracal_api', passwordFile }], { lockWaitMs: 1_000 }),
      ).then(
        () => null,
        (e: Error & { exitCode?: number }) => e,
      );
      expect(failure?.exitCode).toBe(ExitCode.LOCK_TIMEOUT);
      expect(failure?.message).toBe(
        `provisioning: the provisioning advisory lock (hashtext('caracal-provision-roles')) was held for 1 s by pid ${held.pid} (user ${squatter}, application_name "caracal-gateway")`,
      );
    } finally {
      await held.release();
    }
  });

  test("GIVEN the partition maintenance key held by the gateway login WHEN the maintenance login runs ensure THEN it waits (the function's 60 s lock wait), while health still answers", async () => {
    await withClient(db.url, (c) => c.query(`GRANT caracal_maintenance TO ${maintenance}`));
    const held = await holdAs(squatter, "hashtext('caracal.audit_partitions')");
    const u = new URL(db.url);
    u.username = maintenance;
    u.password = password;
    try {
      // statement_timeout stands in for the 60 s the function waits before failing with 55P03 (measured by hand).
      const failure = await withClient(u.toString(), (c) =>
        c.query(`SET statement_timeout = '1500ms'; SELECT public.audit_partitions_ensure(7, 14)`).then(
          () => null,
          (e: { code?: string }) => e.code,
        ),
      );
      expect(failure).toBe('57014');
      const health = await withClient(u.toString(), (c) =>
        c.query(`SELECT count(*)::int AS n FROM public.audit_partition_health(7) WHERE NOT ok`),
      );
      expect(health.rows[0].n).toBe(0);
    } finally {
      await held.release();
    }
  });
});

/** The schema through the runner itself (so schema_migrations says nothing is pending). */
async function applySchemaWithRunner(): Promise<void> {
  const r = await runCli(['up', '--dir', MIGRATIONS_DIR], envFor(db, { PGSSLMODE: 'disable' }));
  if (r.code !== 0) throw new Error(`up failed: ${r.stderr}`);
}
