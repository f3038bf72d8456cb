// 0002_harden_privileges on Postgres 18 (the run's server) and 15 (a server of this file's own), each in a
// database made the pre-15 way (PUBLIC may CREATE in public): the review's search_path hijack of the
// owner, functions created later, large objects, the bounds of audit_partition_health, and who may apply it.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { FreshDatabase, OwnCluster, freshDatabase, serverUrl, startOwnCluster, urlForDatabase, withClient } from '../../support/postgres';
import { applyBaseline, applySchema, readMigrations, roleName, seedZone } from '../../support/schema';

let pg15: OwnCluster;

beforeAll(async () => {
  pg15 = await startOwnCluster({ major: 15 });
}, 120_000);

afterAll(async () => {
  await pg15?.destroy();
});

const asLogin = (url: string, user: string, password: string) => {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
};

/** Runs `sql` as a fresh connection of `url` and returns the error it ends with (null when it succeeds). */
async function failureOf(url: string, sql: string, params: unknown[] = []): Promise<{ code?: string; message: string } | null> {
  return withClient(url, (c) => c.query(sql, params)).then(
    () => null,
    (e: { code?: string; message: string }) => ({ code: e.code, message: e.message }),
  );
}

describe.each([
  ['Postgres 18 (the run server)', () => serverUrl()],
  ['Postgres 15', () => pg15.url],
])('hardened schema on %s, in a database where PUBLIC could create in public', (_label, base) => {
  const suffix = randomBytes(3).toString('hex');
  const password = randomBytes(12).toString('hex');
  const logins = { audit: `caracal_h${suffix}_audit`, gateway: `caracal_h${suffix}_gateway` };
  let db: FreshDatabase;
  let su: Client;
  let zoneId: string;

  beforeAll(async () => {
    db = await freshDatabase(base());
    // The pre-15 default, and what a database upgraded from 14 keeps.
    await withClient(db.url, (c) => c.query('GRANT CREATE ON SCHEMA public TO PUBLIC'));
    await applySchema(db.url);
    su = new Client({ connectionString: db.url });
    await su.connect();
    for (const [service, login] of Object.entries(logins)) {
      await su.query(`CREATE ROLE ${login} LOGIN PASSWORD '${password}' IN ROLE ${roleName(service as 'audit' | 'gateway')}`);
      await su.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${login}`);
    }
    zoneId = (await seedZone(su)).zoneId;
  }, 60_000);

  afterAll(async () => {
    await su?.end();
    await db?.drop();
    await withClient(base(), async (c) => {
      for (const login of Object.values(logins)) await c.query(`DROP ROLE IF EXISTS ${login}`);
    });
  });

  const auditEvents = async () => (await su.query(`SELECT count(*)::int AS n FROM public.audit_events`)).rows[0].n;
  const disabledTriggers = async () =>
    (await su.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE 'audit_events_append_only%' AND tgenabled <> 'A'`)).rows[0]
      .n;

  test("GIVEN the review's attack WHEN an audit login plants public.to_char(date, text) THEN it may not create in public, and no event is lost", async () => {
    const before = await auditEvents();
    const failure = await failureOf(
      asLogin(db.url, logins.audit, password),
      `CREATE FUNCTION public.to_char(d date, f text) RETURNS text LANGUAGE plpgsql AS $$
       BEGIN
         IF current_user = 'caracal_owner' THEN
           EXECUTE 'ALTER TABLE public.audit_events DISABLE TRIGGER USER';
           DELETE FROM public.audit_events;
         END IF;
         RETURN pg_catalog.to_char(d::timestamp, f);
       END $$;
       SELECT * FROM public.audit_partition_health();`,
    );
    expect(failure).toEqual({ code: '42501', message: 'permission denied for schema public' });
    expect(await auditEvents()).toBe(before);
    expect(before).toBeGreaterThan(0);
  });

  test('GIVEN functions planted in public anyway (by a superuser) WHEN the owner and the audit login run the partition functions THEN none of them calls a planted function', async () => {
    // Every unqualified call the baseline's definer functions made that pg_catalog does not match exactly.
    await su.query(`CREATE FUNCTION public.to_char(d date, f text) RETURNS text LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION 'hijacked: public.to_char ran as %', current_user; END $$`);
    try {
      for (const sql of [
        'SELECT count(*) FROM public.audit_partition_health(14)',
        'SELECT count(*) FROM public.audit_partition_health_all(14)',
        'SELECT public.audit_partitions_ensure(3, 20)',
        'SELECT public.audit_partitions_apply_retention(400)',
      ]) {
        expect(await failureOf(db.url, `SET ROLE caracal_owner; ${sql}`)).toBeNull();
      }
      expect(await failureOf(asLogin(db.url, logins.audit, password), 'SELECT count(*) FROM public.audit_partition_health(14)')).toBeNull();
      expect(await disabledTriggers()).toBe(0);
    } finally {
      await su.query('DROP FUNCTION public.to_char(date, text)');
    }
  });

  test('GIVEN the migrations applied WHEN the catalog is read THEN PUBLIC has no CREATE on public and caracal_owner has it explicitly', async () => {
    const { rows } = await su.query(
      `SELECT coalesce(string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END, ',' ORDER BY 1), '') AS creators
         FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'public' AND a.privilege_type = 'CREATE'`,
    );
    expect(rows[0].creators.split(',').sort()).toEqual(['caracal_owner', 'pg_database_owner']);
  });

  test('GIVEN a function a later migration creates as caracal_owner (SECURITY DEFINER, reading every zone) WHEN the gateway login calls it THEN permission is denied', async () => {
    await su.query(`SET ROLE caracal_owner;
                    CREATE FUNCTION public.default_partition_rows() RETURNS bigint LANGUAGE sql SECURITY DEFINER
                      SET search_path = pg_catalog, pg_temp AS 'SELECT count(*) FROM public.audit_events_default';
                    RESET ROLE`);
    try {
      expect(await failureOf(asLogin(db.url, logins.gateway, password), 'SELECT public.default_partition_rows()')).toEqual({
        code: '42501',
        message: 'permission denied for function default_partition_rows',
      });
    } finally {
      await su.query('DROP FUNCTION public.default_partition_rows()');
    }
  });

  test.each([
    ["lo_from_bytea(0, 'x')", 'lo_from_bytea'],
    ['lo_create(0)', 'lo_create'],
    ['lo_creat(-1)', 'lo_creat'],
  ])('GIVEN a service login WHEN it calls %s THEN permission is denied (no large object is written)', async (call, fn) => {
    expect(await failureOf(asLogin(db.url, logins.gateway, password), `SELECT ${call}`)).toEqual({
      code: '42501',
      message: `permission denied for function ${fn}`,
    });
    expect((await su.query('SELECT count(*)::int AS n FROM pg_largeobject_metadata')).rows[0].n).toBe(0);
  });

  test.each([
    [-5, '-5'],
    [2_000_000_000, '2000000000'],
    [null, 'NULL'],
  ])('GIVEN days_ahead %p WHEN the audit login calls audit_partition_health THEN it is refused at once with 22023', async (days, shown) => {
    const started = Date.now();
    const failure = await failureOf(asLogin(db.url, logins.audit, password), 'SELECT * FROM public.audit_partition_health($1)', [days]);
    expect(failure).toEqual({ code: '22023', message: `audit_partition_health: days_ahead must be from 0 to 1000 (got ${shown})` });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('GIVEN a zone context WHEN the audit login ingests and runs health THEN ingest still works and health is ok', async () => {
    const c = new Client({ connectionString: asLogin(db.url, logins.audit, password) });
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SELECT set_config('caracal.zone_id', $1, true)`, [zoneId]);
      await c.query(
        `INSERT INTO public.audit_events (zone_id, event_id, occurred_at, source, event_type) VALUES ($1, gen_random_uuid(), now(), 'sts', 'x')`,
        [zoneId],
      );
      await c.query('COMMIT');
      const { rows } = await c.query('SELECT check_name FROM public.audit_partition_health(14) WHERE NOT ok');
      expect(rows).toEqual([]);
    } finally {
      await c.end();
    }
  });
});

describe('who may apply 0002_harden_privileges (the run server)', () => {
  const suffix = randomBytes(3).toString('hex');
  const migrator = `caracal_m${suffix}_owner`;
  const password = randomBytes(12).toString('hex');
  let dbName: string;
  const superuser = (fn: (c: Client) => Promise<unknown>) => withClient(serverUrl(), fn);
  const hardening = () => readMigrations().find((m) => m.file.startsWith('0002_'))!.sql;

  beforeAll(async () => {
    dbName = `caracal_m${process.pid}_${suffix}`;
    await superuser(async (c) => {
      await c.query(`CREATE ROLE ${migrator} LOGIN CREATEROLE PASSWORD '${password}'`);
      await c.query(`CREATE DATABASE "${dbName}" OWNER ${migrator}`);
    });
    // The baseline as a superuser (the group roles may already exist on this server), the migrator in caracal_owner.
    await applyBaseline(urlForDatabase(serverUrl(), dbName));
    await superuser((c) => c.query(`GRANT caracal_owner TO ${migrator}`));
    await withClient(urlForDatabase(serverUrl(), dbName), (c) => c.query('GRANT CREATE ON SCHEMA public TO PUBLIC'));
  });

  afterAll(async () => {
    await superuser(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${migrator}`);
    });
  });

  test('GIVEN schema public owned by another role (an upgraded database) WHEN the database owner applies it THEN it stops, saying who must revoke', async () => {
    await withClient(urlForDatabase(serverUrl(), dbName), (c) => c.query('ALTER SCHEMA public OWNER TO postgres'));
    try {
      const failure = await applyBaseline(asLogin(urlForDatabase(serverUrl(), dbName), migrator, password), hardening()).then(
        () => null,
        (e: { message: string; hint?: string }) => e,
      );
      expect(failure?.message).toBe(`could not revoke CREATE on schema public from PUBLIC: ${migrator} is not its owner (postgres)`);
      expect(failure?.hint).toBe('As the owner of schema public or a superuser: REVOKE CREATE ON SCHEMA public FROM PUBLIC; then rerun.');
    } finally {
      await withClient(urlForDatabase(serverUrl(), dbName), (c) => c.query('ALTER SCHEMA public OWNER TO pg_database_owner'));
    }
  });

  test('GIVEN a non-superuser database owner in caracal_owner WHEN it applies it THEN it succeeds, warning that large objects stay open, and closes public', async () => {
    const warnings: string[] = [];
    await withClient(asLogin(urlForDatabase(serverUrl(), dbName), migrator, password), async (c) => {
      c.on('notice', (n) => {
        if (n.severity === 'WARNING') warnings.push(String(n.message));
      });
      await c.query('BEGIN');
      await c.query(hardening());
      await c.query('COMMIT');
    });
    expect(warnings).toEqual([`PUBLIC keeps EXECUTE on the large-object functions: ${migrator} is not a superuser`]);
    const { rows } = await withClient(urlForDatabase(serverUrl(), dbName), (c) =>
      c.query(
        `SELECT EXISTS (SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) a
                         WHERE n.nspname = 'public' AND a.grantee = 0 AND a.privilege_type = 'CREATE') AS public_creates,
                has_function_privilege('caracal_maintenance', 'public.audit_partitions_ensure(integer, integer)', 'EXECUTE') AS maintenance_ensures`,
      ),
    );
    expect(rows[0]).toEqual({ public_creates: false, maintenance_ensures: true });
  });
});
