// Fail-closed zone row-level security on a real Postgres: no context, own zone, another zone, and
// straight through an audit partition, as the owner and as the service roles.
import { Client } from 'pg';
import { FreshDatabase } from '../../support/postgres';
import { OWNER_ROLE, SeededZone, asRole, attempt, baselineDatabase, readAccessMatrix, roleName, seedZone } from '../../support/schema';

const matrix = readAccessMatrix();
const zoneTables = matrix.zoneScopedTables.map((t) => [t] as const);
let db: FreshDatabase;
let client: Client;
let a: SeededZone;
let b: SeededZone;
let todayPartition: string;

beforeAll(async () => {
  db = await baselineDatabase();
  client = new Client({ connectionString: db.url });
  await client.connect();
  a = await seedZone(client, 'zone-a');
  b = await seedZone(client, 'zone-b');
  const { rows } = await client.query(`SELECT tableoid::regclass::text AS part FROM public.audit_events WHERE event_id = $1`, [
    a.auditEventId,
  ]);
  todayPartition = rows[0].part;
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** Zone ids of the rows `role` sees in `table` with the given zone context. */
async function visibleZones(role: string, table: string, zoneId: string | null): Promise<string[]> {
  return asRole(
    client,
    role,
    async (c) => {
      const { rows } = await c.query(`SELECT DISTINCT zone_id::text FROM ${table} ORDER BY 1`);
      return rows.map((r) => r.zone_id);
    },
    { zoneId },
  );
}

/** A matrix role that may SELECT the table (the owner when no service role may). */
function readerOf(table: string): string {
  const row = matrix.row(table);
  const role = (['api', 'coordinator', 'audit', 'sts', 'gateway'] as const).find((r) => row.cells[r].includes('S'));
  return role ? roleName(role) : OWNER_ROLE;
}

describe('zone row-level security', () => {
  test.each(zoneTables)(
    'GIVEN %s with rows in zones A and B WHEN the owner reads without zone context THEN it sees no rows',
    async (table) => {
      // GIVEN rows in zones A and B WHEN the owner (forced RLS) reads without context THEN nothing
      expect(await visibleZones(OWNER_ROLE, `public.${table}`, null)).toEqual([]);
    },
  );

  test.each(zoneTables)(
    'GIVEN %s with rows in zones A and B WHEN a reader reads with zone A context THEN it sees zone A rows only',
    async (table) => {
      expect(await visibleZones(readerOf(table), `public.${table}`, a.zoneId)).toEqual([a.zoneId]);
    },
  );

  test.each(zoneTables)(
    'GIVEN %s with rows in zones A and B WHEN a reader reads with zone B context THEN it sees zone B rows only',
    async (table) => {
      expect(await visibleZones(readerOf(table), `public.${table}`, b.zoneId)).toEqual([b.zoneId]);
    },
  );

  test.each(zoneTables)(
    'GIVEN %s with rows in zones A and B WHEN the zone context is empty THEN it counts as no context',
    async (table) => {
      expect(await visibleZones(readerOf(table), `public.${table}`, '')).toEqual([]);
      const rows = await asRole(client, readerOf(table), async (c) => {
        await c.query(`SELECT set_config('caracal.zone_id', '', true)`);
        return (await c.query(`SELECT count(*)::int AS n FROM public.${table}`)).rows[0].n;
      });
      expect(rows).toBe(0);
    },
  );

  test.each(zoneTables)('GIVEN %s with a zone A row WHEN the owner moves it into zone B THEN it is refused', async (table) => {
    const failure = await asRole(client, OWNER_ROLE, (c) => attempt(c, `UPDATE public.${table} SET zone_id = $1`, [b.zoneId]), {
      zoneId: a.zoneId,
    });
    // audit_events and the immutable tables refuse any UPDATE by trigger; the rest by the policy
    expect(failure?.message).toMatch(/new row violates row-level security policy|is (append-only|immutable)/);
  });

  test('GIVEN rows in every zone WHEN the backup role (BYPASSRLS) reads without context THEN it sees every zone', async () => {
    expect(await visibleZones(roleName('backup'), 'public.applications', null)).toEqual([a.zoneId, b.zoneId].sort());
    expect(await visibleZones(roleName('backup'), 'public.audit_events', null)).toEqual([a.zoneId, b.zoneId].sort());
  });

  test('GIVEN every relation pg_dump reads WHEN the backup role reads them with row_security = off THEN it reads every table, partition and sequence', async () => {
    // GIVEN every relation pg_dump would read, and what a superuser counts in each
    const { rows: relations } = await client.query<{ name: string; kind: string }>(
      `SELECT format('public.%I', relname) AS name, relkind::text AS kind FROM pg_class
       WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S') ORDER BY 1`,
    );
    const expected: Record<string, number> = {};
    for (const r of relations.filter((x) => x.kind === 'r')) {
      expected[r.name] = (await client.query(`SELECT count(*)::int AS n FROM ${r.name}`)).rows[0].n;
    }
    // WHEN the backup role reads them with row security off THEN it sees every row, nothing fails
    const seen = await asRole(client, roleName('backup'), async (c) => {
      await c.query('SET LOCAL row_security = off');
      const counts: Record<string, number> = {};
      for (const r of relations) {
        if (r.kind === 'S') await c.query(`SELECT last_value FROM ${r.name}`);
        else counts[r.name] = (await c.query(`SELECT count(*)::int AS n FROM ${r.name}`)).rows[0].n;
      }
      return counts;
    });
    expect(seen).toEqual(expected);
    expect(Object.values(seen).reduce((x, y) => x + y, 0)).toBeGreaterThan(50);
  });

  test('GIVEN a service role WHEN it turns row security off THEN it is refused instead of shown every zone', async () => {
    const failure = await asRole(
      client,
      roleName('sts'),
      async (c) => {
        await c.query('SET LOCAL row_security = off');
        return attempt(c, 'SELECT count(*) FROM public.policies');
      },
      { zoneId: a.zoneId },
    );
    expect(failure?.message).toMatch(/query would be affected by row-level security policy for table "policies"/);
  });

  test('GIVEN a malformed zone context WHEN a zone table is read THEN it is rejected instead of guessed', async () => {
    const failure = await asRole(client, roleName('sts'), (c) => attempt(c, 'SELECT count(*) FROM public.policies'), {
      zoneId: 'not-a-uuid',
    });
    expect(failure?.code).toBe('22P02');
  });
});

describe('writes under zone context', () => {
  const event = (zone: string): [string, unknown[]] => [
    `INSERT INTO public.audit_events (zone_id, event_id, occurred_at, source, event_type) VALUES ($1, gen_random_uuid(), now(), 'gateway', 'request')`,
    [zone],
  ];

  test('GIVEN no zone context WHEN an audit event is written THEN it is rejected', async () => {
    const failure = await asRole(client, roleName('audit'), (c) => attempt(c, ...event(a.zoneId)));
    expect(failure?.message).toMatch(/new row violates row-level security policy for table "audit_events"/);
  });

  test('GIVEN a zone context WHEN an audit event for another zone is written THEN it is rejected', async () => {
    const failure = await asRole(client, roleName('audit'), (c) => attempt(c, ...event(b.zoneId)), { zoneId: a.zoneId });
    expect(failure?.message).toMatch(/new row violates row-level security policy/);
  });

  test('GIVEN a zone context WHEN an audit event for that zone is written THEN it is accepted', async () => {
    const failure = await asRole(client, roleName('audit'), (c) => attempt(c, ...event(a.zoneId)), { zoneId: a.zoneId });
    expect(failure).toBeNull();
  });

  test('GIVEN the API in a zone context WHEN it creates an application THEN one in another zone is rejected and one in its own is accepted', async () => {
    const insert = `INSERT INTO public.applications (zone_id, name) VALUES ($1, 'new-app')`;
    const [other, own] = await asRole(
      client,
      roleName('api'),
      async (c) => [await attempt(c, insert, [b.zoneId]), await attempt(c, insert, [a.zoneId])],
      { zoneId: a.zoneId },
    );
    expect(other?.message).toMatch(/new row violates row-level security policy/);
    expect(own).toBeNull();
  });

  test('GIVEN a zone context WHEN rows of another zone are updated or deleted THEN nothing changes', async () => {
    const counts = await asRole(
      client,
      roleName('api'),
      async (c) => {
        const u = await c.query(`UPDATE public.resource_rate_limits SET requests = 1 WHERE zone_id = $1`, [b.zoneId]);
        const d = await c.query(`DELETE FROM public.gateway_resource_bindings WHERE zone_id = $1`, [b.zoneId]);
        return [u.rowCount, d.rowCount];
      },
      { zoneId: a.zoneId },
    );
    expect(counts).toEqual([0, 0]);
  });
});

describe('audit partitions are no way around RLS', () => {
  test('GIVEN an audit partition WHEN the audit role accesses it directly THEN every access is denied', async () => {
    const failure = await asRole(client, roleName('audit'), (c) => attempt(c, `SELECT count(*) FROM public.${todayPartition}`), {
      zoneId: a.zoneId,
    });
    expect(failure?.message).toMatch(/^permission denied for table audit_events_p\d{8}/);
  });

  test('GIVEN an audit partition WHEN a role inserts into it directly THEN the insert is denied', async () => {
    const failure = await asRole(
      client,
      roleName('audit'),
      (c) =>
        attempt(
          c,
          `INSERT INTO public.${todayPartition} (zone_id, event_id, occurred_at, source, event_type) VALUES ($1, gen_random_uuid(), now(), 'sts', 'x')`,
          [a.zoneId],
        ),
      { zoneId: a.zoneId },
    );
    expect(failure?.message).toMatch(/^permission denied/);
  });

  test('GIVEN an audit partition WHEN the owner reads it directly THEN it sees nothing without context and its zone with it', async () => {
    expect(await visibleZones(OWNER_ROLE, `public.${todayPartition}`, null)).toEqual([]);
    expect(await visibleZones(OWNER_ROLE, `public.${todayPartition}`, a.zoneId)).toEqual([a.zoneId]);
    expect(await visibleZones(OWNER_ROLE, 'public.audit_events_default', null)).toEqual([]);
  });

  test('GIVEN every audit partition WHEN its RLS is read THEN it is forced, with the zone policy', async () => {
    const { rows } = await client.query(
      `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
              (SELECT pg_get_expr(p.polqual, p.polrelid) FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'zone_isolation') AS qual
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'public.audit_events'::regclass`,
    );
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows) {
      expect([r.relname, r.relrowsecurity, r.relforcerowsecurity]).toEqual([r.relname, true, true]);
      expect(r.qual).toContain(`current_setting('caracal.zone_id'::text, true)`);
    }
  });
});
