// doctor, row "Migration Job fails", on the run's real Postgres: a healthy database passes every first check, and
// each check, broken on its own, is a finding that names its fix and its runbook heading.
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolvePostgresTarget } from '../../../src/doctor';
import { ADVISORY_LOCK_KEY } from '../../../src/migrate/history';
import { freePort } from '../../support/redis';
import { MIGRATIONS_DIR } from '../../fixtures/validate/migration-sets';
import { DoctorWorld, doctor, startDoctorWorld, superuser, verdict } from './world';

let world: DoctorWorld;
beforeAll(async () => {
  world = await startDoctorWorld();
}, 120_000);
afterAll(async () => {
  await world?.destroy();
});

const ROW = { rows: ['migration-job-fails' as const] };

describe('doctor: Migration Job fails', () => {
  test('GIVEN a migrated database and the runner environment WHEN doctor runs THEN every first check of the row is ok', async () => {
    const db = await world.database();
    const report = await doctor(world.options(db, ROW));
    expect(report.rows.map((r) => r.id)).toEqual(['migration-job-fails']);
    expect(report.rows[0].checks.map((c) => [c.id, c.status])).toEqual([
      ['secret', 'ok'],
      ['dns', 'ok'],
      ['tcp', 'ok'],
      ['tls', 'ok'],
      ['auth', 'ok'],
      ['database', 'ok'],
      ['lock', 'ok'],
      ['migrations', 'ok'],
    ]);
    expect(report.serverRole).toBe('primary');
  });

  test.each([
    ['a path where no file is', (files: string) => path.join(files, 'no-such-password'), /does not exist/],
    [
      'an empty file',
      (files: string) => {
        const f = path.join(files, 'empty-password');
        writeFileSync(f, '');
        return f;
      },
      /is empty/,
    ],
  ])(
    'GIVEN PGPASSWORD_FILE names %s WHEN doctor runs THEN the password file is a finding naming the Secret, and the server is still checked up to TLS',
    async (_what, file, message) => {
      const db = await world.database();
      const target = resolvePostgresTarget(world.pgEnv(db, { PGPASSWORD_FILE: file(world.files) }));
      const report = await doctor(world.options(db, { ...ROW, postgres: target }));
      const secret = verdict(report, 'secret');
      expect(secret).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#password-file' });
      expect(secret.summary).toMatch(message);
      expect(secret.next).toMatch(/the database secret/);
      expect(['dns', 'tcp', 'tls'].map((id) => verdict(report, id as 'dns').status)).toEqual(['ok', 'ok', 'ok']);
      expect(verdict(report, 'auth').status).toBe('unchecked');
      expect(report.status).toBe('finding');
    },
  );

  test('GIVEN PGHOST is a name that does not resolve WHEN doctor runs THEN the host name is a finding naming PGHOST and TCP is not checked', async () => {
    const db = await world.database();
    const target = resolvePostgresTarget(world.pgEnv(db, { PGHOST: 'caracal-doctor-no-such-host.invalid' }));
    const report = await doctor(world.options(db, { ...ROW, postgres: target }));
    expect(verdict(report, 'dns')).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#host-name-resolution' });
    expect(verdict(report, 'dns').summary).toMatch(/"caracal-doctor-no-such-host.invalid" does not resolve/);
    expect(verdict(report, 'dns').next).toMatch(/PGHOST/);
    expect(verdict(report, 'tcp').status).toBe('unchecked');
  });

  test('GIVEN PGPORT where nothing listens WHEN doctor runs THEN TCP connect is a finding naming host and port', async () => {
    const db = await world.database();
    const port = await freePort();
    const target = resolvePostgresTarget(world.pgEnv(db, { PGPORT: String(port) }));
    const report = await doctor(world.options(db, { ...ROW, postgres: target }));
    expect(verdict(report, 'tcp')).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#tcp-connect' });
    expect(verdict(report, 'tcp').summary).toContain(`127.0.0.1:${port} (connection refused)`);
    expect(verdict(report, 'tcp').next).toMatch(/PGHOST\/PGPORT/);
    expect(verdict(report, 'auth').status).toBe('unchecked');
  });

  test('GIVEN sslmode=require against a server without TLS WHEN doctor runs THEN TLS is a finding that says the server does not support SSL', async () => {
    const db = await world.database();
    const target = resolvePostgresTarget(world.pgEnv(db, { PGSSLMODE: 'require' }));
    const report = await doctor(world.options(db, { ...ROW, postgres: target }));
    expect(verdict(report, 'tls')).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#tls-and-sslmode' });
    expect(verdict(report, 'tls').summary).toMatch(/does not support SSL, and sslmode=require requires it/);
    expect(verdict(report, 'tls').next).toMatch(/PGSSLMODE/);
  });

  test('GIVEN a wrong password in the password file WHEN doctor runs THEN authentication is a finding that names the Secret and the role', async () => {
    const db = await world.database();
    const wrong = path.join(world.files, 'wrong-password');
    writeFileSync(wrong, 'not-the-password\n');
    const target = resolvePostgresTarget(world.pgEnv(db, { PGPASSWORD_FILE: wrong }));
    const report = await doctor(world.options(db, { ...ROW, postgres: target }));
    const auth = verdict(report, 'auth');
    expect(auth).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#authentication' });
    expect(auth.summary).toMatch(/password authentication failed for user "postgres"/);
    expect(auth.next).toMatch(/the database secret: the password from PGPASSWORD_FILE=.*wrong-password does not match the role "postgres"/);
    expect(verdict(report, 'database').status).toBe('unchecked');
    expect(JSON.stringify(report)).not.toContain(db.password);
  });

  test('GIVEN PGDATABASE names no database WHEN doctor runs THEN the database is a finding and authentication is ok', async () => {
    const db = await world.database();
    const target = resolvePostgresTarget(world.pgEnv(db, { PGDATABASE: 'caracal_doctor_no_such_db' }));
    const report = await doctor(world.options(db, { ...ROW, postgres: target }));
    expect(verdict(report, 'auth').status).toBe('ok');
    expect(verdict(report, 'database')).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#database-and-connect' });
    expect(verdict(report, 'database').summary).toMatch(/database "caracal_doctor_no_such_db" does not exist/);
    expect(verdict(report, 'database').next).toMatch(/PGDATABASE/);
  });

  test('GIVEN a login without CONNECT on the database WHEN doctor runs as it THEN the database check says CONNECT is missing and how it is granted', async () => {
    const db = await world.database();
    const c = await superuser(db);
    await c.query(`REVOKE CONNECT ON DATABASE "${db.name}" FROM PUBLIC`);
    await c.end();
    const user = `caracal_${world.environment}_api`;
    const target = resolvePostgresTarget(world.pgEnv(db, { PGUSER: user, PGPASSWORD_FILE: world.loginPasswordFile('api') }));
    const report = await doctor(world.options(db, { ...ROW, postgres: target }));
    expect(verdict(report, 'auth').status).toBe('ok');
    expect(verdict(report, 'database').status).toBe('finding');
    expect(verdict(report, 'database').summary).toMatch(new RegExp(`${user} lacks CONNECT on database ${db.name}`));
    expect(verdict(report, 'database').next).toMatch(/up --provision/);
  });

  test('GIVEN another session holds the migration advisory lock WHEN doctor runs THEN the lock is a finding naming its pid, application_name and since when', async () => {
    const db = await world.database();
    const holder = await superuser(db, 'caracal-migrate');
    try {
      await holder.query(`SELECT pg_advisory_lock(${ADVISORY_LOCK_KEY})`);
      const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const report = await doctor(world.options(db, ROW));
      const lock = verdict(report, 'lock');
      expect(lock).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#migration-advisory-lock', replicaSafe: false });
      expect(lock.summary).toMatch(
        new RegExp(`held by pid ${pid} \\(application_name "caracal-migrate", user postgres\\) since \\d{4}-\\d\\d-\\d\\dT`),
      );
      expect(lock.next).toContain(`pg_terminate_backend(${pid})`);
    } finally {
      await holder.end();
    }
  });

  test('GIVEN the release has a migration the database lacks WHEN doctor runs THEN pending versions are a finding naming the file', async () => {
    const db = await world.database();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'caracal-doctor-migrations-'));
    for (const f of readdirSync(MIGRATIONS_DIR)) copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
    writeFileSync(path.join(dir, '9999_doctor_pending.up.sql'), 'SELECT 1;\n');
    const report = await doctor(world.options(db, { ...ROW, dir }));
    const m = verdict(report, 'migrations');
    expect(m).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#pending-or-drifted-versions' });
    expect(m.details).toContain('pending: 9999_doctor_pending.up.sql is not applied');
    expect(m.next).toMatch(/the Job has not applied this release/);
  });
});
