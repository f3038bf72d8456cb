// The managed-Postgres path on a server of this file's own where no caracal role exists yet: a
// non-superuser CREATEROLE login that owns the database applies the baseline by itself.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { OwnCluster, startOwnCluster, urlForDatabase, withClient } from '../../support/postgres';
import { readBaseline } from '../../support/schema';

const major = Number(process.env.CARACAL_TEST_PG_MAJOR ?? 18);
const migrator = 'caracal_admin';
const password = randomBytes(12).toString('hex');
let cluster: OwnCluster;
let warnings: string[];
let migratorRoles: Array<{ rolname: string }>;

const asSuperuser = <T>(fn: (c: Client) => Promise<T>) => withClient(urlForDatabase(cluster.url, 'caracal'), fn);

beforeAll(async () => {
  cluster = await startOwnCluster({ major });
  await withClient(cluster.url, async (c) => {
    await c.query(`CREATE ROLE ${migrator} LOGIN CREATEROLE PASSWORD '${password}'`);
    await c.query(`CREATE DATABASE caracal OWNER ${migrator}`);
  });
  const u = new URL(urlForDatabase(cluster.url, 'caracal'));
  u.username = migrator;
  u.password = password;
  warnings = [];
  await withClient(u.toString(), async (c) => {
    c.on('notice', (n) => {
      if (n.severity === 'WARNING') warnings.push(`${n.message} | ${n.hint}`);
    });
    await c.query('BEGIN');
    await c.query(readBaseline());
    await c.query('COMMIT');
    migratorRoles = (
      await c.query(`SELECT rolname FROM pg_roles WHERE pg_has_role($1, oid, 'MEMBER') AND rolname LIKE 'caracal\\_%' ORDER BY 1`, [
        migrator,
      ])
    ).rows;
  });
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe(`a CREATEROLE migrator on a fresh Postgres ${major} server`, () => {
  test('GIVEN a fresh server WHEN the migrator applies the baseline THEN it creates the group roles and makes itself a member of caracal_owner', async () => {
    expect(migratorRoles.map((r) => r.rolname)).toContain('caracal_owner');
    const { rows } = await asSuperuser((c) =>
      c.query(`SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'caracal\\_%' AND NOT rolcanlogin`),
    );
    expect(rows[0].n).toBe(7);
  });

  test('GIVEN the baseline applied WHEN listing object owners THEN every object is owned by caracal_owner', async () => {
    const { rows } = await asSuperuser((c) =>
      c.query(
        `SELECT DISTINCT relowner::regrole::text AS owner FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'S', 'i', 'I')
       UNION SELECT DISTINCT proowner::regrole::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace`,
      ),
    );
    expect(rows).toEqual([{ owner: 'caracal_owner' }]);
  });

  test('GIVEN a migrator without superuser WHEN it applies the baseline THEN it cannot give caracal_backup BYPASSRLS, says so, and says how to fix it', async () => {
    expect(warnings).toEqual([
      `caracal_backup was created without BYPASSRLS: ${migrator} may not grant it | As a superuser: ALTER ROLE caracal_backup BYPASSRLS; until then pg_dump as the backup role fails on RLS tables.`,
    ]);
    const before = await asSuperuser((c) => c.query(`SELECT rolbypassrls FROM pg_roles WHERE rolname = 'caracal_backup'`));
    expect(before.rows[0].rolbypassrls).toBe(false);
  });

  test('GIVEN a backup role without BYPASSRLS WHEN a backup runs THEN it fails loudly instead of dumping filtered rows, until the fix is applied', async () => {
    const dumpLike = () =>
      asSuperuser(async (c) => {
        await c.query('BEGIN');
        try {
          await c.query('SET LOCAL ROLE caracal_backup');
          await c.query('SET LOCAL row_security = off');
          return await c.query('SELECT count(*) FROM public.audit_events').then(
            () => 'read',
            (e) => e.message,
          );
        } finally {
          await c.query('ROLLBACK');
        }
      });
    expect(await dumpLike()).toMatch(/query would be affected by row-level security policy/);
    await asSuperuser((c) => c.query('ALTER ROLE caracal_backup BYPASSRLS'));
    expect(await dumpLike()).toBe('read');
  });

  test('GIVEN the baseline applied WHEN health runs THEN the audit partition window is healthy', async () => {
    const { rows } = await asSuperuser((c) => c.query(`SELECT check_name FROM public.audit_partition_health(14) WHERE NOT ok`));
    expect(rows).toEqual([]);
  });
});
