// caracal_maintenance and caracal_owner side by side, as logins on a real Postgres: the maintenance login runs
// the partition functions and nothing else; the owner can still do everything docs/access-matrix.md ("What
// caracal_owner can still do") lists, which is why the CronJob no longer runs as it. Each action is tried in a
// rolled-back transaction.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { FreshDatabase, serverUrl, withClient } from '../../support/postgres';
import { attempt, baselineDatabase } from '../../support/schema';
import { FUNCTION_ACCESS } from '../../../src/verify/function-checks';
import { MATRIX_ROLES, roleName } from '../../../src/verify/access-matrix';

const suffix = randomBytes(3).toString('hex');
const password = randomBytes(12).toString('hex');
const logins = {
  owner: `caracal_r${suffix}_owner`,
  maintenance: `caracal_r${suffix}_maintenance`,
  api: `caracal_r${suffix}_api`,
};
let db: FreshDatabase;
let today: string;

beforeAll(async () => {
  db = await baselineDatabase();
  await withClient(db.url, async (c) => {
    // The owner login as the Job's migrator is made on a managed server: CREATEROLE, a member of caracal_owner.
    await c.query(`CREATE ROLE ${logins.owner} LOGIN CREATEROLE PASSWORD '${password}' IN ROLE caracal_owner`);
    await c.query(`CREATE ROLE ${logins.maintenance} LOGIN PASSWORD '${password}' IN ROLE caracal_maintenance`);
    await c.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${logins.owner}, ${logins.maintenance}`);
  });
  // The service login is created by the owner login, as the Job's provisioning does (so on Postgres 16+ it
  // holds ADMIN on it).
  const owner = new URL(db.url);
  owner.username = logins.owner;
  owner.password = password;
  await withClient(owner.toString(), (c) => c.query(`CREATE ROLE ${logins.api} LOGIN PASSWORD '${password}'`));
  await withClient(db.url, async (c) => {
    await c.query(`GRANT caracal_api TO ${logins.api}`);
    await c.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${logins.api}`);
    today = (await c.query(`SELECT 'audit_events_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') AS p`)).rows[0].p;
  });
});

afterAll(async () => {
  await db?.drop();
  await withClient(serverUrl(), async (c) => {
    for (const l of Object.values(logins)) await c.query(`DROP ROLE IF EXISTS ${l}`);
  });
});

/** Runs `sql` as `login` in a transaction that is rolled back; null when it succeeded, else the error message. */
async function tryAs(login: string, sql: string): Promise<string | null> {
  const u = new URL(db.url);
  u.username = login;
  u.password = password;
  const c = new Client({ connectionString: u.toString() });
  await c.connect();
  try {
    await c.query('BEGIN');
    const failure = await attempt(c, sql);
    await c.query('ROLLBACK');
    return failure ? failure.message : null;
  } finally {
    await c.end();
  }
}

const ownerCan = (): Array<[string, () => string]> => [
  ['disable the append-only triggers', () => `ALTER TABLE public.${today} DISABLE TRIGGER audit_events_append_only`],
  ['drop an append-only trigger', () => 'DROP TRIGGER admin_audit_events_append_only ON public.admin_audit_events'],
  [
    'replace reject_mutation()',
    () => `CREATE OR REPLACE FUNCTION public.reject_mutation() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`,
  ],
  ['unforce row-level security', () => 'ALTER TABLE public.sessions NO FORCE ROW LEVEL SECURITY'],
  ['drop a policy', () => 'DROP POLICY zone_isolation ON public.sessions'],
  ['detach an audit partition', () => `ALTER TABLE public.audit_events DETACH PARTITION public.${today}`],
  ['drop an audit partition', () => `DROP TABLE public.${today}`],
  ['grant a table to a service role', () => 'GRANT DELETE ON public.audit_events TO caracal_audit'],
  ['change another login password', () => `ALTER ROLE ${logins.api} PASSWORD 'taken-over'`],
];

describe('caracal_owner (the migrator login): what the triggers do not stop', () => {
  test.each(ownerCan())('GIVEN the owner login WHEN it tries to %s THEN it succeeds (DDL, not DML)', async (_what, sql) => {
    expect(await tryAs(logins.owner, sql())).toBeNull();
  });
});

describe('caracal_maintenance (the audit CronJob login)', () => {
  test.each(ownerCan())('GIVEN the maintenance login WHEN it tries to %s THEN it is refused', async (_what, sql) => {
    expect(await tryAs(logins.maintenance, sql())).toMatch(/^(must be owner|permission denied|must have CREATEROLE)/);
  });

  test.each([
    ['SELECT public.audit_partitions_ensure(7, 14)'],
    ['SELECT count(*) FROM public.audit_partition_health(7)'],
    ['SELECT public.audit_partitions_apply_retention(400)'],
  ])('GIVEN the maintenance login WHEN it runs %s THEN it succeeds', async (sql) => {
    expect(await tryAs(logins.maintenance, sql)).toBeNull();
  });

  test.each<[string, () => string]>([
    ['read a table', () => 'SELECT 1 FROM public.zones LIMIT 1'],
    ['read the audit events', () => 'SELECT 1 FROM public.audit_events LIMIT 1'],
    ['read a partition', () => `SELECT 1 FROM public.${today} LIMIT 1`],
    ['call a helper', () => "SELECT public.audit_partition_secure('public.audit_events_default')"],
    ['create in public', () => 'CREATE TABLE public.maintenance_notes (id int)'],
    ['write a large object', () => "SELECT lo_from_bytea(0, '\\x00')"],
  ])('GIVEN the maintenance login WHEN it tries to %s THEN permission is denied', async (_what, sql) => {
    expect(await tryAs(logins.maintenance, sql())).toMatch(/^permission denied/);
  });

  test('GIVEN the catalog WHEN each function of public is checked for the maintenance role THEN EXECUTE is exactly FUNCTION_ACCESS', async () => {
    const { rows } = await withClient(db.url, (c) =>
      c.query<{ fn: string; roles: string[] }>(
        `SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS fn,
                ARRAY(SELECT r FROM unnest($1::text[]) r WHERE has_function_privilege(r, p.oid, 'EXECUTE') ORDER BY r) AS roles
           FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace`,
        [MATRIX_ROLES.map(roleName)],
      ),
    );
    const held = Object.fromEntries(rows.map((r) => [r.fn.replace(/\w+ (\w+)/g, '$1'), r.roles]));
    const expected = Object.fromEntries(Object.entries(FUNCTION_ACCESS).map(([f, r]) => [f, r.map(roleName).sort()]));
    expect(held).toEqual(expected);
  });
});
