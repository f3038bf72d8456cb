// Group roles are cluster-wide: the baseline on several databases of one server, CONNECT revoked
// from PUBLIC, and who may apply it (superuser, or a non-superuser migrator in caracal_owner).
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { FreshDatabase, freshDatabase, serverUrl, urlForDatabase, withClient } from '../../support/postgres';
import { applyBaseline, readBaseline } from '../../support/schema';

const suffix = randomBytes(3).toString('hex');
const loginUrl = (database: string, user: string, password: string) => {
  const u = new URL(urlForDatabase(serverUrl(), database));
  u.username = user;
  u.password = password;
  return u.toString();
};
const superuser = (fn: (c: Client) => Promise<unknown>) => withClient(serverUrl(), fn);

describe('two databases on one server', () => {
  let a: FreshDatabase;
  let b: FreshDatabase;
  const login = `caracal_t${suffix}_api`;
  const password = randomBytes(12).toString('hex');

  beforeAll(async () => {
    a = await freshDatabase();
    b = await freshDatabase();
    await applyBaseline(a.url);
    await applyBaseline(b.url);
    await superuser((c) => c.query(`CREATE ROLE ${login} LOGIN PASSWORD '${password}' IN ROLE caracal_api`));
  });

  afterAll(async () => {
    await a?.drop();
    await b?.drop();
    await superuser((c) => c.query(`DROP ROLE IF EXISTS ${login}`));
  });

  test('GIVEN two databases on one server WHEN the baseline is applied to both THEN both succeed, the second reusing the group roles the first created', async () => {
    const roles = await withClient(b.url, (c) =>
      c.query(
        `SELECT count(*)::int AS n FROM pg_roles WHERE rolname IN ('caracal_owner', 'caracal_api', 'caracal_coordinator',
         'caracal_audit', 'caracal_sts', 'caracal_gateway', 'caracal_backup') AND NOT rolcanlogin`,
      ),
    );
    expect(roles.rows[0].n).toBe(7);
    for (const db of [a, b]) {
      const tables = await withClient(db.url, (c) =>
        c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'audit_events'`),
      );
      expect(tables.rows[0].n).toBe(1);
    }
  });

  test('GIVEN two databases with the baseline WHEN reading their ACLs THEN CONNECT is revoked from PUBLIC on each', async () => {
    for (const db of [a, b]) {
      const { rows } = await withClient(db.url, (c) =>
        c.query(
          `SELECT count(*)::int AS n FROM pg_database d, aclexplode(d.datacl) x
         WHERE d.datname = current_database() AND x.grantee = 0 AND x.privilege_type = 'CONNECT'`,
        ),
      );
      expect(rows[0].n).toBe(0);
    }
  });

  test('GIVEN a service login WHEN it connects THEN it is kept out until granted CONNECT, and then still kept out of the other database', async () => {
    // GIVEN a login in caracal_api WHEN it connects without CONNECT THEN it is refused
    const refused = await withClient(loginUrl(a.name, login, password), async () => null).catch((e) => e);
    expect(refused?.message).toMatch(/permission denied for database/);
    // WHEN it gets CONNECT on database a THEN it connects there with caracal_api's rights ...
    await withClient(a.url, (c) => c.query(`GRANT CONNECT ON DATABASE "${a.name}" TO ${login}`));
    const rights = await withClient(loginUrl(a.name, login, password), async (c) => {
      await c.query(`SELECT set_config('caracal.zone_id', gen_random_uuid()::text, false)`);
      const read = await c.query('SELECT count(*)::int AS n FROM public.applications');
      const audit = await c.query('SELECT count(*) FROM public.audit_events').then(
        () => 'allowed',
        (e) => e.message,
      );
      return { applications: read.rows[0].n, audit };
    });
    expect(rights).toEqual({ applications: 0, audit: 'permission denied for table audit_events' });
    // ... and still not into database b
    const other = await withClient(loginUrl(b.name, login, password), async () => null).catch((e) => e);
    expect(other?.message).toMatch(/permission denied for database/);
  });
});

describe('the migrator login', () => {
  const migrator = `caracal_t${suffix}_migrator`;
  const password = randomBytes(12).toString('hex');
  let dbName: string;

  beforeAll(async () => {
    dbName = `caracal_migrator_${process.pid}_${suffix}`;
    await superuser(async (c) => {
      // No CREATEROLE needed once the group roles exist; and on Postgres 15 CREATEROLE alone would
      // let it grant itself caracal_owner.
      await c.query(`CREATE ROLE ${migrator} LOGIN NOCREATEROLE PASSWORD '${password}'`);
      await c.query(`CREATE DATABASE "${dbName}" OWNER ${migrator}`);
      // The group roles exist already (other databases on this server), so the migrator must be
      // made a member of caracal_owner by whoever administers it (see the baseline's header).
      await c.query(
        `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'caracal_owner') THEN CREATE ROLE caracal_owner NOLOGIN; END IF; END $$`,
      );
    });
  });

  afterAll(async () => {
    await superuser(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${migrator}`);
    });
  });

  test('GIVEN a migrator login that cannot become caracal_owner WHEN it applies the baseline THEN it fails clearly and changes nothing', async () => {
    const failure = await applyBaseline(loginUrl(dbName, migrator, password)).then(
      () => null,
      (e) => e,
    );
    expect(failure?.message).toBe(`migrator login ${migrator} cannot SET ROLE caracal_owner and may not grant it to itself`);
    expect(failure?.hint).toBe(`As a superuser (or a role with ADMIN on caracal_owner): GRANT caracal_owner TO ${migrator};`);
    const tables = await withClient(urlForDatabase(serverUrl(), dbName), (c) =>
      c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`),
    );
    expect(tables.rows[0].n).toBe(0);
  });

  test('GIVEN a non-superuser migrator that is a member of caracal_owner WHEN it applies the baseline THEN everything is owned by caracal_owner', async () => {
    // GIVEN the migrator (owner of the database) is a member of caracal_owner
    await superuser((c) => c.query(`GRANT caracal_owner TO ${migrator}`));
    // WHEN it applies the baseline the way the runner does: its own table first, then one
    // transaction of the file and the version record
    const warnings: string[] = [];
    const endedAs = await withClient(loginUrl(dbName, migrator, password), async (c) => {
      c.on('notice', (n) => {
        if (n.severity === 'WARNING') warnings.push(String(n.message));
      });
      await c.query('CREATE TABLE public.schema_migrations (version text PRIMARY KEY)');
      await c.query('BEGIN');
      await c.query(readBaseline());
      const { rows } = await c.query('SELECT current_user AS u');
      await c.query(`INSERT INTO public.schema_migrations VALUES ('0001')`);
      await c.query('COMMIT');
      return rows[0].u;
    });
    // THEN the file ends as the login again (the version is recorded in the login's own table),
    // without warnings, backups can read that table, and caracal_owner owns everything else
    expect(endedAs).toBe(migrator);
    expect(warnings).toEqual([]);
    const backupReads = await withClient(urlForDatabase(serverUrl(), dbName), (c) =>
      c.query(`SELECT has_table_privilege('caracal_backup', 'public.schema_migrations', 'SELECT') AS ok`),
    );
    expect(backupReads.rows[0].ok).toBe(true);
    await withClient(urlForDatabase(serverUrl(), dbName), (c) => c.query('DROP TABLE public.schema_migrations'));
    const { rows } = await withClient(urlForDatabase(serverUrl(), dbName), (c) =>
      c.query(
        `SELECT relowner::regrole::text AS owner, count(*)::int AS n FROM pg_class
       WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'S', 'i', 'I') GROUP BY 1`,
      ),
    );
    expect(rows).toEqual([{ owner: 'caracal_owner', n: expect.any(Number) }]);
    expect(rows[0].n).toBeGreaterThan(100);
  });
});
