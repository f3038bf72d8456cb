// docs/access-matrix.md against the migrations on a real Postgres (applied by the runner, so the runner's history
// table is there too): every cell, in the catalog and by doing it as the role; the roles' attributes; nothing for
// PUBLIC; everything but the runner's history owned by caracal_owner.
import { Client } from 'pg';
import { FreshDatabase, freshDatabase } from '../../support/postgres';
import { applySet, migrationSet } from '../../fixtures/validate/migration-sets';
import { MATRIX_ROLES, SERVICE_ROLES, asRole, grantedCell, readAccessMatrix, roleName } from '../../support/schema';
import { cellByBehaviour } from './probes';
import { provisionRoles } from '../../../src/provision/provision-roles';
import { authenticatorFor, connectAs, dropLogins, newPassword } from '../provision/support';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** Every table the seeds name ("Store State" ownership table and issue 5). */
const SEED_TABLES = [
  'zones',
  'providers',
  'applications',
  'resources',
  'application_dependencies',
  'sessions',
  'delegated_grants',
  'provider_grants',
  'step_up_challenges',
  'policies',
  'policy_versions',
  'policy_sets',
  'policy_set_versions',
  'policy_set_bindings',
  'audit_events',
  'audit_export_watermark',
  'audit_ingest_alerts',
  'admin_audit_events',
  'agent_sessions',
  'agent_topology',
  'agent_services',
  'agent_invocations',
  'delegation_edges',
  'delegation_graph_epochs',
  'event_outbox',
  'caracal_outbox',
  'admin_tokens',
  'gateway_resource_bindings',
  'gateway_binding_revision',
  'resource_rate_limits',
];

const matrix = readAccessMatrix();
let db: FreshDatabase;
let client: Client;

/** Not a seed table: the runner's history, created and owned by the migrator login (a matrix row of its own). */
const RUNNER_TABLE = 'schema_migrations';

beforeAll(async () => {
  db = await freshDatabase(undefined, 'caracal_schema');
  const set = migrationSet();
  try {
    await applySet(set.dir, db.url);
  } finally {
    set.remove();
  }
  client = new Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

describe('docs/access-matrix.md', () => {
  test("GIVEN the baseline applied WHEN listing tables THEN the matrix has one row per seed table, and the seed tables are exactly the schema's tables", async () => {
    // GIVEN the baseline applied WHEN listing the top-level tables of public (partitions aside)
    const { rows } = await client.query<{ relname: string }>(
      `SELECT relname FROM pg_class
       WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition`,
    );
    // THEN they, the matrix rows and the seed's tables with the runner's history are the same set
    const sorted = (xs: string[]) => [...xs].sort();
    expect(sorted(rows.map((r) => r.relname))).toEqual(sorted([...SEED_TABLES, RUNNER_TABLE]));
    expect(sorted(matrix.rows.map((r) => r.table))).toEqual(sorted([...SEED_TABLES, RUNNER_TABLE]));
  });

  test('GIVEN the baseline applied WHEN reading RLS THEN the matrix marks as zone exactly the tables with forced RLS and the zone policy', async () => {
    const { rows } = await client.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c
       WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
         AND c.relrowsecurity AND c.relforcerowsecurity
         AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'zone_isolation'
                     AND pg_get_expr(p.polqual, p.polrelid) LIKE '%current_setting(''caracal.zone_id''::text, true)%'
                     AND pg_get_expr(p.polwithcheck, p.polrelid) = pg_get_expr(p.polqual, p.polrelid))`,
    );
    expect(rows.map((r) => r.relname).sort()).toEqual([...matrix.zoneScopedTables].sort());
  });

  test('GIVEN docs/access-matrix.md WHEN parsed THEN every row gives a reason', () => {
    for (const row of matrix.rows) expect(row.why.length).toBeGreaterThan(20);
  });
});

const cells = matrix.rows.flatMap((row) => MATRIX_ROLES.map((role) => [row.table, role, row.cells[role]] as const));

describe('every cell of the matrix', () => {
  test.each(cells)(
    'GIVEN the cell %s / caracal_%s WHEN asking the catalog THEN the role holds exactly "%s"',
    async (table, role, expected) => {
      // GIVEN the matrix cell WHEN asking the catalog THEN the role holds exactly those privileges
      expect(await grantedCell(client, roleName(role), table)).toBe(expected);
    },
  );

  test.each(cells)(
    'GIVEN the cell %s / caracal_%s WHEN the role tries each privilege THEN it can do exactly "%s"',
    async (table, role, expected) => {
      // GIVEN the role, in a transaction that is rolled back WHEN it runs SELECT, INSERT, UPDATE and
      // DELETE on the table THEN exactly the cell's statements pass the privilege check
      expect(await cellByBehaviour(client, roleName(role), table)).toBe(expected);
    },
  );
});

describe('roles', () => {
  test('GIVEN the baseline applied WHEN listing group roles THEN every one is NOLOGIN, and only caracal_backup has BYPASSRLS', async () => {
    const { rows } = await client.query<{ rolname: string; rolcanlogin: boolean; rolbypassrls: boolean; rolsuper: boolean }>(
      `SELECT rolname, rolcanlogin, rolbypassrls, rolsuper FROM pg_roles WHERE rolname LIKE 'caracal\\_%' AND NOT rolcanlogin ORDER BY rolname`,
    );
    const byName = Object.fromEntries(rows.map((r) => [r.rolname, r]));
    for (const role of ['owner', ...SERVICE_ROLES, 'backup', 'maintenance'] as const) {
      const r = byName[roleName(role)];
      expect(r).toBeDefined();
      expect(r.rolsuper).toBe(false);
      expect(r.rolbypassrls).toBe(role === 'backup');
    }
  });

  test('GIVEN the baseline applied WHEN reading table grants THEN PUBLIC has nothing, and no group role has TRUNCATE, REFERENCES or TRIGGER', async () => {
    const { rows } = await client.query(
      `SELECT c.relname, coalesce(r.rolname, 'PUBLIC') AS grantee, a.privilege_type
       FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
       WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
         AND (a.grantee = 0 OR (r.rolname <> 'caracal_owner' AND a.grantee <> c.relowner AND a.privilege_type IN ('TRUNCATE', 'REFERENCES', 'TRIGGER')))`,
    );
    expect(rows).toEqual([]);
  });

  test('GIVEN the baseline applied WHEN listing owners THEN caracal_owner owns every table, sequence, function and partition', async () => {
    const { rows } = await client.query(
      `SELECT relname AS name, relowner::regrole::text AS owner FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'S', 'v', 'm')
       UNION ALL
       SELECT proname, proowner::regrole::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace`,
    );
    expect(rows.length).toBeGreaterThan(30);
    // The runner's history belongs to the migrator login that created it (docs/runner.md).
    expect(rows.filter((r) => r.owner !== 'caracal_owner' && r.name !== RUNNER_TABLE)).toEqual([]);
  });

  test('GIVEN the baseline applied WHEN reading comments THEN every table and partition has one', async () => {
    const { rows } = await client.query(
      `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')
         AND coalesce(obj_description(oid, 'pg_class'), '') = '' AND relname <> '${RUNNER_TABLE}'`,
    );
    expect(rows).toEqual([]);
  });

  test('GIVEN the baseline applied WHEN the backup role reads every sequence THEN it may (pg_dump restores identity positions)', async () => {
    const { rows: sequences } = await client.query(
      `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'S'`,
    );
    expect(sequences[0].n).toBe(4);
    const { rows } = await client.query(
      `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace
         AND CASE WHEN relkind = 'S' THEN NOT has_sequence_privilege('caracal_backup', oid, 'SELECT') ELSE false END`,
    );
    expect(rows).toEqual([]);
  });

  test('GIVEN every audit partition WHEN roles touch it directly THEN no service role may, and backups read them all', async () => {
    const { rows } = await client.query<{ relname: string }>(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'public.audit_events'::regclass ORDER BY 1`,
    );
    expect(rows.length).toBeGreaterThan(20);
    for (const { relname } of rows) {
      for (const role of SERVICE_ROLES) expect(await grantedCell(client, roleName(role), relname)).toBe('');
      expect(await grantedCell(client, roleName('backup'), relname)).toBe('S');
    }
  });

  test('GIVEN the maintenance functions WHEN reading EXECUTE grants THEN PUBLIC and service roles have none, except health for the audit role and the four for the maintenance role', async () => {
    const { rows } = await client.query<{ fn: string; role: string; can: boolean }>(
      `SELECT p.oid::regprocedure::text AS fn, r AS role, has_function_privilege(r, p.oid, 'EXECUTE') AS can
       FROM pg_proc p, unnest($1::text[]) AS r
       WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'audit\\_%' ORDER BY 1, 2`,
      [MATRIX_ROLES.map((r) => roleName(r))],
    );
    const allowed = rows.filter((r) => r.can).map((r) => `${r.fn} ${r.role}`);
    expect(allowed).toEqual([
      'audit_partition_health(integer) caracal_audit',
      'audit_partition_health(integer) caracal_maintenance',
      'audit_partition_health_all(integer) caracal_maintenance',
      'audit_partitions_apply_retention(integer) caracal_maintenance',
      'audit_partitions_ensure(integer,integer) caracal_maintenance',
    ]);
  });

  test('GIVEN a zone WHEN the audit role ingests a batch with its zone context THEN it reads the batch back', async () => {
    // GIVEN a zone WHEN caracal_audit inserts a multi-row batch in that zone's context
    const zone = '00000000-0000-4000-8000-00000000000a';
    const n = await asRole(
      client,
      roleName('audit'),
      async (c) => {
        await c.query(
          `INSERT INTO public.audit_events (zone_id, event_id, occurred_at, source, event_type)
         SELECT $1, gen_random_uuid(), now() - interval '1 hour', 'gateway', 'request' FROM generate_series(1, 50)`,
          [zone],
        );
        const { rows } = await c.query(`SELECT count(*)::int AS n FROM public.audit_events`);
        return rows[0].n as number;
      },
      { zoneId: zone },
    );
    // THEN it sees its 50 events
    expect(n).toBe(50);
  });
});

/**
 * Alternating logins (docs/access-matrix.md "Logins"): slot a `caracal_<env>_<login>` and slot b `..._b`, provisioned
 * by the Job's code as members of the same group role, hold exactly the group role's cells; a retired slot cannot log in.
 */
describe('both logins of every matrix role', () => {
  const env = `m${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'caracal-matrix-logins-'));
  const specs = MATRIX_ROLES.flatMap((role) =>
    ['', '_b'].map((suffix) => {
      const loginRole = `caracal_${env}_${role}${suffix}`;
      const passwordFile = path.join(dir, loginRole);
      writeFileSync(passwordFile, newPassword());
      return { loginRole, groupRole: roleName(role), passwordFile };
    }),
  );

  beforeAll(async () => {
    await provisionRoles(client, specs, { canAuthenticate: authenticatorFor(db.url) });
  });

  afterAll(async () => {
    await client.query(`REVOKE CONNECT ON DATABASE ${db.name} FROM ${specs.map((s) => s.loginRole).join(', ')}`);
    await dropLogins(client, specs);
    rmSync(dir, { recursive: true, force: true });
  });

  test.each(cells)(
    'GIVEN the cell %s / caracal_%s WHEN asking the catalog for slot a and slot b THEN each login holds exactly "%s"',
    async (table, role, expected) => {
      expect(await grantedCell(client, `caracal_${env}_${role}`, table)).toBe(expected);
      expect(await grantedCell(client, `caracal_${env}_${role}_b`, table)).toBe(expected);
    },
  );

  test("GIVEN slot b of every role WHEN listing its memberships and attributes THEN they are exactly slot a's: its group role, LOGIN, INHERIT, nothing else", async () => {
    const { rows } = await client.query<{ rolname: string; groups: string[]; attrs: string }>(
      `SELECT l.rolname, ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = l.oid) AS groups,
              concat_ws(',', l.rolcanlogin, l.rolinherit, l.rolsuper, l.rolbypassrls, l.rolcreaterole, l.rolcreatedb, l.rolreplication) AS attrs
         FROM pg_roles l WHERE l.rolname = ANY($1) ORDER BY 1`,
      [specs.map((s) => s.loginRole)],
    );
    const byName = new Map(rows.map((r) => [r.rolname, r]));
    for (const role of MATRIX_ROLES) {
      const [a, b] = [byName.get(`caracal_${env}_${role}`)!, byName.get(`caracal_${env}_${role}_b`)!];
      expect(b.groups).toEqual([roleName(role)]);
      expect({ groups: b.groups, attrs: b.attrs }).toEqual({ groups: a.groups, attrs: a.attrs });
    }
  });

  test('GIVEN slot a of the api role retired with no grace WHEN it logs in THEN it is refused, and after the next run it is NOLOGIN, while slot b still connects', async () => {
    const [a, b] = specs.filter((s) => s.loginRole.startsWith(`caracal_${env}_api`));
    const password = (file: string) => readFileSync(file, 'utf8');
    await provisionRoles(client, [{ ...a, retireAfterSeconds: 0 }]);
    await expect(connectAs(db.url, a.loginRole, password(a.passwordFile))).rejects.toThrow(/password authentication failed/);
    expect((await provisionRoles(client, [{ ...a, retireAfterSeconds: 0 }]))[0].actions).toEqual(['nologin']);
    // The server does not tell a client why (NOLOGIN, expired or a wrong password all read the same).
    await expect(connectAs(db.url, a.loginRole, password(a.passwordFile))).rejects.toThrow(/password authentication failed/);
    const { rows } = await client.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [a.loginRole]);
    expect(rows).toEqual([{ rolcanlogin: false }]);
    const c = await connectAs(db.url, b.loginRole, password(b.passwordFile));
    await c.end();
  });
});
