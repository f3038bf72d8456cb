// The baseline on Postgres 15 (the oldest supported major), on a server of this file's own: the migrations applied by
// the runner to two databases at once on a fresh server (the group roles race), then a representative set of checks.
import { Client } from 'pg';
import { applySet, migrationSet } from '../../fixtures/validate/migration-sets';
import { FreshDatabase, OwnCluster, freshDatabase, startOwnCluster } from '../../support/postgres';
import {
  MATRIX_ROLES,
  OWNER_ROLE,
  SeededZone,
  asRole,
  attempt,
  grantedCell,
  readAccessMatrix,
  roleName,
  seedZone,
} from '../../support/schema';
import { cellByBehaviour } from './probes';

const matrix = readAccessMatrix();
let cluster: OwnCluster;
let a: FreshDatabase;
let b: FreshDatabase;
let client: Client;
let zoneA: SeededZone;
let zoneB: SeededZone;

beforeAll(async () => {
  cluster = await startOwnCluster({ major: 15 });
  a = await freshDatabase(cluster.url);
  b = await freshDatabase(cluster.url);
  // Both at once on a server where no caracal role exists yet, by the runner (its history table is in the matrix).
  const set = migrationSet();
  try {
    await Promise.all([applySet(set.dir, a.url), applySet(set.dir, b.url)]);
  } finally {
    set.remove();
  }
  client = new Client({ connectionString: a.url });
  await client.connect();
  zoneA = await seedZone(client, 'zone-a');
  zoneB = await seedZone(client, 'zone-b');
}, 120_000);

afterAll(async () => {
  await client?.end();
  await cluster?.destroy();
});

describe('baseline on Postgres 15', () => {
  test('GIVEN the Postgres 15 harness WHEN asking its version THEN it is a 15.x server', async () => {
    const { rows } = await client.query(`SELECT current_setting('server_version_num')::int AS v`);
    expect(Math.floor(rows[0].v / 10000)).toBe(15);
  });

  test('GIVEN the migrations applied on 15 WHEN listing group roles THEN the nine exist once, with BYPASSRLS on caracal_backup only', async () => {
    const { rows } = await client.query(`SELECT rolname, rolbypassrls FROM pg_roles WHERE rolname LIKE 'caracal\\_%' ORDER BY rolname`);
    expect(rows).toEqual(
      ['api', 'audit', 'backup', 'coordinator', 'gateway', 'maintenance', 'monitoring', 'owner', 'sts'].map((r) => ({
        rolname: `caracal_${r}`,
        rolbypassrls: r === 'backup',
      })),
    );
  });

  test('GIVEN the baseline applied on 15 WHEN every role is checked THEN it holds exactly the access matrix, in the catalog and by behaviour', async () => {
    const mismatches: string[] = [];
    for (const row of matrix.rows) {
      for (const role of MATRIX_ROLES) {
        const catalog = await grantedCell(client, roleName(role), row.table);
        const behaviour = await cellByBehaviour(client, roleName(role), row.table);
        if (catalog !== row.cells[role] || behaviour !== row.cells[role]) {
          mismatches.push(`${row.table}/${role}: matrix "${row.cells[role]}", catalog "${catalog}", behaviour "${behaviour}"`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  test('GIVEN both databases migrated on 15 WHEN reading their ACLs THEN CONNECT is revoked from PUBLIC', async () => {
    const { rows } = await client.query(
      `SELECT d.datname FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) x
       WHERE d.datname IN ($1, $2) AND x.grantee = 0 AND x.privilege_type = 'CONNECT'`,
      [a.name, b.name],
    );
    expect(rows).toEqual([]);
  });

  test.each([
    ['public.audit_events', 'UPDATE public.audit_events SET actor = actor'],
    ['public.audit_events', 'DELETE FROM public.audit_events'],
    ['public.audit_events', 'TRUNCATE public.audit_events'],
    ['public.audit_events_default', 'DELETE FROM public.audit_events_default'],
    ['public.policy_versions', 'UPDATE public.policy_versions SET created_by = created_by'],
    ['public.policy_set_versions', 'TRUNCATE public.policy_set_versions CASCADE'],
    ['public.admin_audit_events', 'DELETE FROM public.admin_audit_events'],
  ])('GIVEN %s on 15 WHEN the owner role runs %s THEN the ENABLE ALWAYS trigger stops it', async (_table, sql) => {
    const failure = await asRole(client, OWNER_ROLE, (c) => attempt(c, sql), { zoneId: zoneA.zoneId });
    expect(failure?.message).toMatch(/is (append-only|immutable): (UPDATE|DELETE|TRUNCATE) is not allowed/);
  });

  test('GIVEN a day partition on 15 WHEN UPDATE or DELETE runs on it THEN both are rejected too', async () => {
    const { rows } = await client.query(`SELECT tableoid::regclass::text AS p FROM public.audit_events LIMIT 1`);
    const failures = await asRole(
      client,
      OWNER_ROLE,
      async (c) => [await attempt(c, `UPDATE public.${rows[0].p} SET actor = 'x'`), await attempt(c, `DELETE FROM public.${rows[0].p}`)],
      { zoneId: zoneA.zoneId },
    );
    expect(failures.map((f) => f?.message)).toEqual([
      expect.stringMatching(/is append-only: UPDATE/),
      expect.stringMatching(/is append-only: DELETE/),
    ]);
  });

  test.each(matrix.zoneScopedTables.map((t) => [t]))(
    'GIVEN %s on 15 WHEN read without and with zone context THEN RLS fails closed: nothing without context, its own zone with it',
    async (table) => {
      const zonesSeen = (zoneId: string | null) =>
        asRole(
          client,
          OWNER_ROLE,
          async (c) => (await c.query(`SELECT DISTINCT zone_id::text AS z FROM public.${table}`)).rows.map((r) => r.z),
          { zoneId },
        );
      expect(await zonesSeen(null)).toEqual([]);
      expect(await zonesSeen(zoneA.zoneId)).toEqual([zoneA.zoneId]);
      expect(await zonesSeen(zoneB.zoneId)).toEqual([zoneB.zoneId]);
    },
  );

  test('GIVEN the baseline applied on 15 WHEN maintenance and health run THEN the partition window is healthy and a rerun is idempotent', async () => {
    const { rows } = await client.query(`SELECT check_name FROM public.audit_partition_health(14) WHERE NOT ok`);
    expect(rows).toEqual([]);
    expect((await client.query('SELECT public.audit_partitions_ensure() AS n')).rows[0].n).toBe(0);
  });

  test('GIVEN a missing partition on 15 WHEN an event is ingested and the partition is then created THEN no event is lost and it is moved there', async () => {
    const { rows: today } = await client.query(`SELECT 'audit_events_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') AS p`);
    await client.query(`DROP TABLE public.${today[0].p}`);
    await asRole(
      client,
      roleName('audit'),
      (c) =>
        c.query(
          `INSERT INTO public.audit_events (zone_id, event_id, occurred_at, source, event_type) VALUES ($1, gen_random_uuid(), now(), 'api', 'x')`,
          [zoneA.zoneId],
        ),
      { zoneId: zoneA.zoneId, commit: true },
    );
    const inDefault = await client.query(`SELECT count(*)::int AS n FROM public.audit_events_default`);
    expect(inDefault.rows[0].n).toBe(1);
    expect((await client.query('SELECT public.audit_partitions_ensure() AS n')).rows[0].n).toBe(1);
    const moved = await client.query(`SELECT count(*)::int AS n FROM public.${today[0].p}`);
    expect(moved.rows[0].n).toBe(1);
    const { rows } = await client.query(`SELECT check_name FROM public.audit_partition_health() WHERE NOT ok`);
    expect(rows).toEqual([]);
  });
});
