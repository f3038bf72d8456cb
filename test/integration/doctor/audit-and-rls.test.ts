// doctor, rows "Audit queries slow" and "RLS errors", on the run's real Postgres: healthy passes, and a missing
// partition, an invalid index, partitions past retention, a widened login, RLS not forced and RLS disabled each
// are a finding that names its fix; a login that may not SET ROLE gets "not checked" with the login to use.
import { resolvePostgresTarget } from '../../../src/doctor';
import { withClient } from '../../support/postgres';
import { DoctorWorld, doctor, startDoctorWorld, superuser, verdict, zone } from './world';

let world: DoctorWorld;
beforeAll(async () => {
  world = await startDoctorWorld();
}, 120_000);
afterAll(async () => {
  await world?.destroy();
});

const AUDIT = { rows: ['audit-queries-slow' as const] };
const RLS = { rows: ['rls-errors' as const] };

async function partitionName(db: { url: string }, daysFromToday: number): Promise<string> {
  return withClient(db.url, async (c) => {
    const r = await c.query<{ p: string }>(
      `SELECT 'audit_events_p' || to_char((now() AT TIME ZONE 'UTC')::date + $1::int, 'YYYYMMDD') AS p`,
      [daysFromToday],
    );
    return r.rows[0].p;
  });
}

describe('doctor: Audit queries slow', () => {
  test('GIVEN a migrated database WHEN doctor runs THEN partitions, indexes, retention and the one-day plan are ok', async () => {
    const db = await world.database();
    const report = await doctor(world.options(db, AUDIT));
    expect(report.rows[0].checks.map((c) => [c.id, c.status])).toEqual([
      ['partitions', 'ok'],
      ['indexes', 'ok'],
      ['retention', 'ok'],
      ['query-plan', 'ok'],
    ]);
    expect(verdict(report, 'query-plan').summary).toBe(`a one-day query scans one partition (${await partitionName(db, 0)})`);
  });

  test("GIVEN tomorrow's audit partition is missing WHEN doctor runs THEN partition health is a finding that says to run audit_partitions_ensure", async () => {
    const db = await world.database();
    const tomorrow = await partitionName(db, 1);
    await withClient(db.url, (c) => c.query(`DROP TABLE public.${tomorrow}`));
    const report = await doctor(world.options(db, AUDIT));
    const p = verdict(report, 'partitions');
    expect(p).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#audit-partition-health' });
    expect(p.details.join('\n')).toMatch(/no partition for \d{4}-\d\d-\d\d/);
    expect(p.next).toMatch(/audit_partitions_ensure\(\)/);
  });

  test("GIVEN today's audit partition is missing WHEN doctor runs THEN the one-day query plan is a finding: it scans the default partition", async () => {
    const db = await world.database();
    await withClient(db.url, async (c) => c.query(`DROP TABLE public.${await partitionName(db, 0)}`));
    const report = await doctor(world.options(db, AUDIT));
    const plan = verdict(report, 'query-plan');
    expect(plan).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#one-day-query-plan' });
    expect(plan.summary).toMatch(/scans audit_events_default: today has no partition of its own/);
    expect(plan.details.some((d) => d.startsWith('scans audit_events_default'))).toBe(true);
  });

  test('GIVEN an INVALID index left by a failed CREATE INDEX CONCURRENTLY WHEN doctor runs THEN indexes is a finding that says to rebuild it', async () => {
    const db = await world.database();
    const c = await superuser(db);
    await zone(c);
    await zone(c);
    await expect(c.query('CREATE UNIQUE INDEX CONCURRENTLY zones_display_name_doctor ON public.zones (display_name)')).rejects.toThrow(
      /could not create unique index/,
    );
    await c.end();
    const report = await doctor(world.options(db, AUDIT));
    const idx = verdict(report, 'indexes');
    expect(idx).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#invalid-indexes' });
    expect(idx.details).toContain(
      'public.zones_display_name_doctor on zones is INVALID (a failed CREATE INDEX CONCURRENTLY): DROP INDEX CONCURRENTLY and build it again',
    );
  });

  test('GIVEN partitions older than a 3-day retention and never exported WHEN doctor runs THEN retention is a finding that the exporter lags', async () => {
    const db = await world.database();
    const report = await doctor(world.options(db, { ...AUDIT, retentionDays: 3 }));
    const r = verdict(report, 'retention');
    expect(r).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#audit-retention' });
    expect(r.details[0]).toMatch(/is past 3 days but not exported \(audit_export_watermark\): the exporter lags, retention keeps it/);
  });
});

describe('doctor: RLS errors', () => {
  test("GIVEN the environment's provisioned logins WHEN doctor runs as a superuser THEN memberships, forced RLS and the probes are ok", async () => {
    const db = await world.database();
    const report = await doctor(world.options(db, RLS));
    expect(report.rows[0].checks.map((c) => [c.id, c.status])).toEqual([
      ['memberships', 'ok'],
      ['rls-forced', 'ok'],
      ['rls-probe', 'ok'],
    ]);
    expect(verdict(report, 'memberships').details).toContain(`caracal_${world.environment}_api: member of caracal_api, CONNECT`);
  });

  test('GIVEN a service login also granted another group role WHEN doctor runs THEN memberships is a finding that permissions were widened', async () => {
    const db = await world.database();
    const login = `caracal_${world.environment}_gateway`;
    await withClient(db.url, (c) => c.query(`GRANT caracal_audit TO ${login}`));
    try {
      const report = await doctor(world.options(db, RLS));
      const m = verdict(report, 'memberships');
      expect(m).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#login-role-memberships' });
      expect(m.details).toContain(
        `${login} is a member of caracal_audit and caracal_gateway: a login holds one group role (permissions were widened)`,
      );
      expect(m.next).toMatch(/never widen a login/);
    } finally {
      await withClient(db.url, (c) => c.query(`REVOKE caracal_audit FROM ${login}`));
    }
  });

  test('GIVEN an environment whose logins were never provisioned WHEN doctor runs for it THEN memberships lists each missing login', async () => {
    const db = await world.database();
    const report = await doctor(world.options(db, { ...RLS, environment: 'neverprovisioned' }));
    const m = verdict(report, 'memberships');
    expect(m.status).toBe('finding');
    expect(m.details).toContain('caracal_neverprovisioned_api does not exist or belongs to no Caracal group role');
  });

  test('GIVEN RLS no longer forced on sessions WHEN doctor runs THEN RLS forced is a finding that says the owner bypasses it', async () => {
    const db = await world.database();
    await withClient(db.url, (c) => c.query('ALTER TABLE public.sessions NO FORCE ROW LEVEL SECURITY'));
    const report = await doctor(world.options(db, RLS));
    const f = verdict(report, 'rls-forced');
    expect(f).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#rls-forced-and-policies' });
    expect(f.details).toContain('public.sessions: row-level security is not forced (the owner bypasses it)');
    expect(f.next).toMatch(/FORCE ROW LEVEL SECURITY/);
  });

  test('GIVEN RLS disabled on providers and a row in it WHEN doctor probes THEN the probe is a finding: rows are visible without a zone context', async () => {
    const db = await world.database();
    await withClient(db.url, async (c) => {
      const z = await zone(c);
      await c.query(`INSERT INTO public.providers (zone_id, name, kind) VALUES ($1, 'idp', 'oidc')`, [z]);
      await c.query('ALTER TABLE public.providers DISABLE ROW LEVEL SECURITY');
    });
    const report = await doctor(world.options(db, RLS));
    const probe = verdict(report, 'rls-probe');
    expect(probe).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#rls-probes', replicaSafe: false });
    expect(probe.details).toContain('public.providers: as caracal_api without zone context, rows are visible');
    expect(probe.next).toMatch(/caracal.zone_id/);
  });

  test('GIVEN doctor runs as a service login WHEN it reaches the probes THEN they are not checked and the message names the login to use', async () => {
    const db = await world.database();
    const target = resolvePostgresTarget(
      world.pgEnv(db, { PGUSER: `caracal_${world.environment}_api`, PGPASSWORD_FILE: world.loginPasswordFile('api') }),
    );
    const report = await doctor(world.options(db, { ...RLS, postgres: target }));
    const probe = verdict(report, 'rls-probe');
    expect(probe.status).toBe('unchecked');
    expect(probe.summary).toMatch(/may not SET ROLE to caracal_coordinator, caracal_audit, caracal_sts, caracal_gateway,/);
    expect(probe.next).toMatch(/superuser/);
    expect(report.status).toBe('unchecked');
  });
});
