// caracal_monitoring, cell by cell against docs/access-matrix.md ("Monitoring"): every listed grant holds, and
// nothing else does (no other table, column, function or write), checked in the catalog and as the role itself.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { FreshDatabase, freshDatabase, serverUrl, withClient } from '../../support/postgres';
import { applySet, MIGRATIONS_DIR } from '../../fixtures/validate/migration-sets';

const ROLE = 'caracal_monitoring';

interface GrantRow {
  readonly object: string;
  readonly privilege: string;
  /** Column names, ['*'] for all, [] for none. */
  readonly columns: readonly string[];
}

/** The table between <!-- monitoring:begin --> and <!-- monitoring:end --> of docs/access-matrix.md. */
function monitoringGrants(): GrantRow[] {
  const text = readFileSync(path.resolve(__dirname, '..', '..', '..', 'docs', 'access-matrix.md'), 'utf8');
  const body = text.slice(text.indexOf('<!-- monitoring:begin -->'), text.indexOf('<!-- monitoring:end -->'));
  return body
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| object') && !l.startsWith('|---'))
    .map((l) => {
      const [object, privilege, columns] = l
        .split('|')
        .slice(1, 4)
        .map((c) => c.trim());
      return { object, privilege, columns: columns === '-' ? [] : columns.split(',').map((c) => c.trim()) };
    });
}

const grants = monitoringGrants();
let db: FreshDatabase;

beforeAll(async () => {
  db = await freshDatabase(serverUrl(), 'caracal_monitoring_role');
  await applySet(MIGRATIONS_DIR, db.url);
}, 120_000);
afterAll(async () => {
  await db?.drop();
});

describe('caracal_monitoring (docs/access-matrix.md, Monitoring)', () => {
  test('GIVEN the documented grants WHEN the table is read THEN it lists pg_monitor, the schema, five tables and three functions', () => {
    expect(grants.map((g) => `${g.privilege} ${g.object}`)).toEqual([
      'member pg_monitor',
      'USAGE public',
      'SELECT public.schema_migrations',
      'SELECT public.event_outbox',
      'SELECT public.caracal_outbox',
      'SELECT public.audit_export_watermark',
      'SELECT public.audit_ingest_alerts',
      'EXECUTE public.audit_partition_health(integer)',
      'EXECUTE public.audit_partition_health_all(integer)',
      'EXECUTE public.audit_partition_bounds()',
    ]);
  });

  test('GIVEN a migrated database WHEN every column of every table is checked THEN the role reads exactly the documented columns and writes nothing', async () => {
    const cells = await withClient(db.url, (c) =>
      c.query<{ table: string; column: string; sel: boolean; ins: boolean; upd: boolean; ref: boolean }>(
        `SELECT c.relname AS table, a.attname AS column,
                has_column_privilege($1, c.oid, a.attnum, 'SELECT') AS sel, has_column_privilege($1, c.oid, a.attnum, 'INSERT') AS ins,
                has_column_privilege($1, c.oid, a.attnum, 'UPDATE') AS upd, has_column_privilege($1, c.oid, a.attnum, 'REFERENCES') AS ref
           FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1, 2`,
        [ROLE],
      ),
    );
    const expected = (table: string, column: string) => {
      const g = grants.find((x) => x.object === `public.${table}` && x.privilege === 'SELECT');
      return !!g && (g.columns[0] === '*' || g.columns.includes(column));
    };
    const wrong = cells.rows.filter((r) => r.sel !== expected(r.table, r.column) || r.ins || r.upd || r.ref);
    expect(wrong.map((r) => `${r.table}.${r.column}: SELECT ${r.sel}, INSERT ${r.ins}, UPDATE ${r.upd}, REFERENCES ${r.ref}`)).toEqual([]);
    const tableLevel = await withClient(db.url, (c) =>
      c.query<{ table: string }>(
        `SELECT c.relname AS table FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'S')
            AND has_table_privilege($1, c.oid, 'DELETE, TRUNCATE, TRIGGER, UPDATE, INSERT')`,
        [ROLE],
      ),
    );
    expect(tableLevel.rows).toEqual([]);
  });

  test('GIVEN a migrated database WHEN every function in public is checked THEN the role executes exactly the documented two', async () => {
    const listed = grants.filter((g) => g.privilege === 'EXECUTE').map((g) => g.object);
    const r = await withClient(db.url, (c) =>
      c.query<{ fn: string; direct: boolean }>(
        `SELECT p.oid::regprocedure::text AS fn,
                EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = $1::regrole AND a.privilege_type = 'EXECUTE') AS direct
           FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1`,
        [ROLE],
      ),
    );
    expect(r.rows.filter((x) => x.direct).map((x) => `public.${x.fn.replace(/^public\./, '')}`)).toEqual(listed.slice().sort());
  });

  test('GIVEN the role WHEN its attributes and memberships are read THEN it is NOLOGIN, NOBYPASSRLS, a member of pg_monitor and of no Caracal role', async () => {
    const r = await withClient(db.url, (c) =>
      c.query(
        `SELECT rolcanlogin, rolbypassrls, rolsuper, pg_has_role($1, 'pg_monitor', 'MEMBER') AS monitor,
                ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS groups
           FROM pg_roles r WHERE rolname = $1`,
        [ROLE],
      ),
    );
    expect(r.rows[0]).toEqual({ rolcanlogin: false, rolbypassrls: false, rolsuper: false, monitor: true, groups: ['pg_monitor'] });
  });

  test('GIVEN a login in caracal_monitoring WHEN it reads as itself THEN counts and delivery columns work, payloads and writes are denied, and it sees other sessions', async () => {
    const login = `caracal_monmatrix_${randomBytes(3).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await withClient(db.url, async (c) => {
      await c.query(`CREATE ROLE ${login} LOGIN PASSWORD '${password}' IN ROLE ${ROLE}`);
      await c.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${login}`);
    });
    const other = new Client({ connectionString: db.url, application_name: 'caracal-api' });
    await other.connect();
    const u = new URL(db.url);
    u.username = login;
    u.password = password;
    const c = new Client({ connectionString: u.toString() });
    await c.connect();
    const denied = async (sql: string) =>
      (await c.query(sql).then(
        () => 'allowed',
        (e: { code?: string }) => e.code ?? 'error',
      )) as string;
    try {
      await other.query('BEGIN; SELECT 1');
      expect(
        (await c.query(`SELECT count(*)::int AS n, min(created_at) FROM public.event_outbox WHERE status = 'pending'`)).rows[0].n,
      ).toBe(0);
      expect((await c.query(`SELECT count(*)::int AS n FROM public.audit_partition_health(7)`)).rows[0].n).toBeGreaterThan(0);
      expect((await c.query(`SELECT count(*)::int AS n FROM public.audit_partition_health_all(7)`)).rows[0].n).toBeGreaterThan(0);
      const seen = await c.query(`SELECT state FROM pg_stat_activity WHERE application_name = 'caracal-api'`);
      expect(seen.rows).toEqual([{ state: 'idle in transaction' }]);
      expect({
        payload: await denied('SELECT payload FROM public.event_outbox'),
        messageKey: await denied('SELECT message_key FROM public.caracal_outbox'),
        alertDetail: await denied('SELECT detail FROM public.audit_ingest_alerts'),
        audit: await denied('SELECT 1 FROM public.audit_events'),
        sessions: await denied('SELECT 1 FROM public.sessions'),
        insert: await denied(`INSERT INTO public.audit_export_watermark (sink, exported_through) VALUES ('x', now())`),
        update: await denied(`UPDATE public.event_outbox SET status = 'pending' WHERE false`),
        ensure: await denied('SELECT public.audit_partitions_ensure()'),
      }).toEqual({
        payload: '42501',
        messageKey: '42501',
        alertDetail: '42501',
        audit: '42501',
        sessions: '42501',
        insert: '42501',
        update: '42501',
        ensure: '42501',
      });
    } finally {
      await c.end();
      await other.end();
      await withClient(db.url, async (s) => {
        await s.query(`REVOKE CONNECT ON DATABASE "${db.name}" FROM ${login}`);
        await s.query(`DROP ROLE ${login}`);
      });
    }
  });
});
