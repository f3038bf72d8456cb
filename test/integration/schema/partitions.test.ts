// The rolling audit partition window on a real Postgres: created by the baseline, idempotent and
// serialized, no event lost when a day has no partition, health checks, and export-gated retention.
import { Client } from 'pg';
import { FreshDatabase } from '../../support/postgres';
import { OWNER_ROLE, asRole, attempt, baselineDatabase, roleName } from '../../support/schema';

const connect = async (url: string) => {
  const c = new Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  return c;
};

/** A fresh baseline database and a superuser client on it, for tests whose state matters. */
async function withFreshBaseline(fn: (c: Client, db: FreshDatabase) => Promise<void>): Promise<void> {
  const db = await baselineDatabase();
  const c = await connect(db.url);
  try {
    await fn(c, db);
  } finally {
    await c.end();
    await db.drop();
  }
}

/** `YYYYMMDD` of today (UTC) + offset days, computed by the server's clock. */
async function utcDay(c: Client, offset: number): Promise<string> {
  const { rows } = await c.query(`SELECT to_char((now() AT TIME ZONE 'UTC')::date + $1::int, 'YYYYMMDD') AS d`, [offset]);
  return rows[0].d;
}

async function partitions(c: Client): Promise<string[]> {
  const { rows } = await c.query(`SELECT partition_name FROM public.audit_partition_bounds() WHERE NOT is_default ORDER BY lower_bound`);
  return rows.map((r) => r.partition_name);
}

/** audit_partition_health (the window) or audit_partition_health_all (every partition), by check name. */
async function health(
  c: Client,
  daysAhead = 7,
  fn: 'audit_partition_health' | 'audit_partition_health_all' = 'audit_partition_health',
): Promise<Record<string, { ok: boolean; detail: string }>> {
  const { rows } = await c.query(`SELECT check_name, ok, detail FROM public.${fn}($1)`, [daysAhead]);
  return Object.fromEntries(rows.map((r) => [r.check_name, { ok: r.ok, detail: r.detail }]));
}

const failing = (h: Record<string, { ok: boolean }>) =>
  Object.keys(h)
    .filter((k) => !h[k].ok)
    .sort();

let shared: FreshDatabase;
let client: Client;

beforeAll(async () => {
  shared = await baselineDatabase();
  client = await connect(shared.url);
});

afterAll(async () => {
  await client?.end();
  await shared?.drop();
});

describe('the rolling window', () => {
  test('GIVEN the baseline WHEN listing audit partitions THEN there is one per UTC day from 7 days back to 14 ahead', async () => {
    const expected: string[] = [];
    for (let i = -7; i <= 14; i++) expected.push(`audit_events_p${await utcDay(client, i)}`);
    expect(await partitions(client)).toEqual(expected);
    const { rows } = await client.query(
      `SELECT count(*)::int AS bad FROM public.audit_partition_bounds()
       WHERE NOT is_default AND (upper_bound - lower_bound <> interval '1 day'
                                 OR (lower_bound AT TIME ZONE 'UTC')::time <> '00:00')`,
    );
    expect(rows[0].bad).toBe(0);
  });

  test.each(['audit_partition_health', 'audit_partition_health_all'] as const)(
    'GIVEN a fresh baseline WHEN %s runs THEN every check is ok',
    async (fn) => {
      const h = await health(client, 14, fn);
      expect(Object.keys(h).sort()).toEqual([
        'append_only_triggers',
        'default_partition_empty',
        'future_partitions',
        'no_gaps',
        'no_partition_privileges',
        'rls_forced',
      ]);
      expect(failing(h)).toEqual([]);
    },
  );

  test('GIVEN a maintained window WHEN maintenance runs a second time THEN it creates nothing', async () => {
    const { rows } = await client.query(`SELECT public.audit_partitions_ensure() AS n`);
    expect(rows[0].n).toBe(0);
  });

  test('GIVEN a session time zone 14 hours ahead of UTC WHEN the window is extended THEN partitions are named and bounded in UTC', async () => {
    // GIVEN a session 14 hours ahead of UTC WHEN it extends the window
    await client.query(`SET TimeZone = 'Pacific/Kiritimati'`);
    try {
      await client.query(`SELECT public.audit_partitions_ensure(0, 16)`);
    } finally {
      await client.query(`RESET TimeZone`);
    }
    // THEN the new partitions are UTC days
    const names = await partitions(client);
    expect(names.slice(-2)).toEqual([`audit_events_p${await utcDay(client, 15)}`, `audit_events_p${await utcDay(client, 16)}`]);
    expect(failing(await health(client, 16))).toEqual([]);
  });

  test('GIVEN maintenance creates a new partition WHEN its controls are read THEN it has forced RLS, ALWAYS triggers and no service-role privileges', async () => {
    await client.query(`SELECT public.audit_partitions_ensure(0, 17)`);
    const part = `audit_events_p${await utcDay(client, 17)}`;
    const { rows } = await client.query(
      `SELECT c.relrowsecurity AND c.relforcerowsecurity AS rls,
              (SELECT array_agg(t.tgname || ':' || t.tgenabled::text ORDER BY t.tgname) FROM pg_trigger t WHERE t.tgrelid = c.oid) AS triggers,
              (SELECT array_agg(DISTINCT r.rolname::text ORDER BY r.rolname::text) FROM aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee) AS grantees
       FROM pg_class c WHERE c.oid = $1::regclass`,
      [`public.${part}`],
    );
    expect(rows[0]).toEqual({
      rls: true,
      triggers: ['audit_events_append_only:A', 'audit_events_append_only_row:A'],
      grantees: ['caracal_backup', 'caracal_owner'],
    });
  });

  test('GIVEN the maintenance function WHEN a service role runs it THEN it is refused: only the owner (the maintenance job) may', async () => {
    const failures = await asRole(client, roleName('audit'), async (c) => [
      await attempt(c, 'SELECT public.audit_partitions_ensure()'),
      await attempt(c, 'SELECT public.audit_partitions_apply_retention()'),
      await attempt(c, 'SELECT * FROM public.audit_partition_health()'),
    ]);
    expect(failures.map((f) => f?.message ?? 'ok')).toEqual([
      expect.stringMatching(/^permission denied for function audit_partitions_ensure/),
      expect.stringMatching(/^permission denied for function audit_partitions_apply_retention/),
      'ok',
    ]);
    const asOwner = await asRole(client, OWNER_ROLE, (c) => attempt(c, 'SELECT public.audit_partitions_ensure()'));
    expect(asOwner).toBeNull();
  });
});

describe('concurrent maintainers', () => {
  test('GIVEN one run holding the advisory lock WHEN a second run starts at the same time THEN they serialize and each missing partition is created exactly once', async () => {
    await withFreshBaseline(async (_c, db) => {
      const first = await connect(db.url);
      const second = await connect(db.url);
      try {
        // GIVEN one run inside an open transaction (it holds the advisory lock until it commits)
        await first.query('BEGIN');
        const firstCount = (await first.query(`SELECT public.audit_partitions_ensure(7, 40) AS n`)).rows[0].n;
        // WHEN a second run starts on another connection
        const pid = (await second.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        const secondRun = second.query(`SELECT public.audit_partitions_ensure(7, 40) AS n`);
        // THEN it waits on the advisory lock ...
        let waiting = false;
        while (!waiting) {
          const { rows } = await _c.query(`SELECT wait_event = 'advisory' AS w FROM pg_stat_activity WHERE pid = $1`, [pid]);
          waiting = rows[0]?.w === true;
          if (!waiting) await new Promise((r) => setTimeout(r, 20));
        }
        await first.query('COMMIT');
        // ... and, once the first commits, finds nothing left to create
        const secondCount = (await secondRun).rows[0].n;
        expect([firstCount, secondCount]).toEqual([26, 0]);
        expect(failing(await health(_c, 40))).toEqual([]);
      } finally {
        await first.end();
        await second.end();
      }
    });
  });

  test('GIVEN another session holding a long lock on the parent WHEN maintenance runs THEN it gives up after its lock_timeout instead of queueing', async () => {
    // GIVEN another session holding ACCESS EXCLUSIVE on the parent
    const holder = await connect(shared.url);
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE public.audit_events IN ACCESS EXCLUSIVE MODE');
      // WHEN the maintenance function needs the parent THEN it fails with lock_not_available
      const failure = await client.query('SELECT public.audit_partitions_ensure(0, 30)').then(
        () => null,
        (e) => e,
      );
      expect(failure?.code).toBe('55P03');
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  }, 30_000);
});

describe('partitions that ensure did not make', () => {
  // A no-op ensure() and health() look up each window day's partition by the name ensure gives it, with exactly
  // that day's bounds; any other shape of partition must still count, through the read of every bound.
  test('GIVEN window partitions renamed, and one name bounding two days WHEN ensure and health run THEN nothing is created and every check is ok', async () => {
    await withFreshBaseline(async (c) => {
      const [d2, d3, d5, d6, d7] = await Promise.all([2, 3, 5, 6, 7].map((i) => utcDay(c, i)));
      // GIVEN two of the window's partitions under other names
      await c.query(`ALTER TABLE public.audit_events_p${d2} RENAME TO audit_events_renamed_a`);
      await c.query(`ALTER TABLE public.audit_events_p${d3} RENAME TO audit_events_renamed_b`);
      // AND day 5's name on a partition that bounds days 5 and 6
      await c.query(`DROP TABLE public.audit_events_p${d5}, public.audit_events_p${d6}`);
      await c.query(
        `CREATE TABLE public.audit_events_p${d5} PARTITION OF public.audit_events
         FOR VALUES FROM ('${d5.slice(0, 4)}-${d5.slice(4, 6)}-${d5.slice(6)} 00:00:00+00') TO ('${d7.slice(0, 4)}-${d7.slice(4, 6)}-${d7.slice(6)} 00:00:00+00')`,
      );
      await c.query(`SELECT public.audit_partition_secure('public.audit_events_p${d5}'::regclass)`);
      // WHEN maintenance runs, in a session whose dates print differently
      await c.query(`SET DateStyle = 'SQL, DMY'`);
      await c.query(`SET TimeZone = 'America/St_Johns'`);
      const created = (await c.query(`SELECT public.audit_partitions_ensure() AS n`)).rows[0].n;
      const h = await health(c, 14);
      // THEN every day counts as covered, and nothing fails
      expect(created).toBe(0);
      expect(failing(h)).toEqual([]);
      await c.query(`RESET DateStyle`);
      await c.query(`RESET TimeZone`);
      const { rows } = await c.query(
        `SELECT partition_name, upper_bound - lower_bound AS span FROM public.audit_partition_bounds() WHERE partition_name = $1`,
        [`audit_events_p${d5}`],
      );
      expect(rows).toEqual([{ partition_name: `audit_events_p${d5}`, span: { days: 2 } }]);
    });
  });

  test('GIVEN a partition from MINVALUE and one to MAXVALUE WHEN the bounds and health are read THEN the open ends are NULL and the window has no gap', async () => {
    await withFreshBaseline(async (c) => {
      const [first, last] = await Promise.all([utcDay(c, -7), utcDay(c, 15)]);
      const iso = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)} 00:00:00+00`;
      // GIVEN a partition for everything before the window and one for everything after it
      await c.query(
        `CREATE TABLE public.audit_events_before PARTITION OF public.audit_events FOR VALUES FROM (MINVALUE) TO ('${iso(first)}')`,
      );
      await c.query(
        `CREATE TABLE public.audit_events_after PARTITION OF public.audit_events FOR VALUES FROM ('${iso(last)}') TO (MAXVALUE)`,
      );
      for (const p of ['audit_events_before', 'audit_events_after'])
        await c.query(`SELECT public.audit_partition_secure('public.${p}'::regclass)`);
      // WHEN the bounds are read THEN the open ends are NULL and the closed ones are the days
      const { rows } = await c.query(
        `SELECT partition_name, is_default, lower_bound, upper_bound FROM public.audit_partition_bounds()
          WHERE partition_name IN ('audit_events_before', 'audit_events_after', 'audit_events_default') ORDER BY partition_name`,
      );
      expect(rows).toEqual([
        { partition_name: 'audit_events_after', is_default: false, lower_bound: new Date(iso(last)), upper_bound: null },
        { partition_name: 'audit_events_before', is_default: false, lower_bound: null, upper_bound: new Date(iso(first)) },
        { partition_name: 'audit_events_default', is_default: true, lower_bound: null, upper_bound: null },
      ]);
      // AND health finds no gap and no missing day; ensure creates nothing
      expect(failing(await health(c, 30))).toEqual([]);
      expect((await c.query(`SELECT public.audit_partitions_ensure(30, 30) AS n`)).rows[0].n).toBe(0);
    });
  });
});

describe('no audit event is lost when its partition is missing', () => {
  test("GIVEN today's partition is missing WHEN an event is ingested THEN it lands in the default partition, is reported, and the next run moves it into the day's partition", async () => {
    await withFreshBaseline(async (c) => {
      const today = `audit_events_p${await utcDay(c, 0)}`;
      const zone = '00000000-0000-4000-8000-0000000000aa';
      // GIVEN today's partition is missing (as if the maintenance job had not run)
      await c.query(`DROP TABLE public.${today}`);
      // WHEN the audit role ingests an event
      await asRole(
        c,
        roleName('audit'),
        (r) =>
          r.query(
            `INSERT INTO public.audit_events (zone_id, event_id, occurred_at, source, event_type)
         VALUES ($1, gen_random_uuid(), now(), 'sts', 'token.issued')`,
            [zone],
          ),
        { zoneId: zone, commit: true },
      );
      // THEN it is stored, in the default partition, and health says so
      const where = await c.query(`SELECT tableoid::regclass::text AS part FROM public.audit_events`);
      expect(where.rows).toEqual([{ part: 'audit_events_default' }]);
      const before = await health(c);
      expect(failing(before)).toEqual(['default_partition_empty', 'future_partitions', 'no_gaps']);
      expect(before.future_partitions.detail).toContain(`${today.slice(14, 18)}-${today.slice(18, 20)}-${today.slice(20, 22)}`);
      // AND the trade-off: a plain CREATE ... PARTITION OF for that day is blocked by the row
      await c.query('BEGIN');
      const blocked = await attempt(
        c,
        `CREATE TABLE public.${today} PARTITION OF public.audit_events
        FOR VALUES FROM (date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') TO (date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day')`,
      );
      await c.query('ROLLBACK');
      expect(blocked?.message).toMatch(/updated partition constraint for default partition .* would be violated/);

      // WHEN the maintenance function runs
      const created = (await c.query(`SELECT public.audit_partitions_ensure() AS n`)).rows[0].n;
      // THEN it recreates the day, moves the event there, and everything is healthy again
      expect(created).toBe(1);
      const after = await c.query(`SELECT tableoid::regclass::text AS part FROM public.audit_events`);
      expect(after.rows).toEqual([{ part: today }]);
      expect(failing(await health(c))).toEqual([]);
      const seen = await asRole(c, roleName('audit'), (r) => r.query(`SELECT count(*)::int AS n FROM public.audit_events`), {
        zoneId: zone,
      });
      expect(seen.rows[0].n).toBe(1);
    });
  });
});

describe('health', () => {
  test('GIVEN partitions that lost their controls or the window WHEN health runs THEN it names each of them', async () => {
    await withFreshBaseline(async (c) => {
      const p1 = `audit_events_p${await utcDay(c, 1)}`;
      const p2 = `audit_events_p${await utcDay(c, 2)}`;
      const p3 = `audit_events_p${await utcDay(c, 3)}`;
      // GIVEN a partition without forced RLS, one with a disabled trigger, one granted to a service
      // role, and a missing future day
      await c.query(`ALTER TABLE public.${p1} NO FORCE ROW LEVEL SECURITY`);
      await c.query(`ALTER TABLE public.${p2} DISABLE TRIGGER audit_events_append_only`);
      await c.query(`GRANT SELECT ON public.${p2} TO caracal_gateway`);
      await c.query(`DROP TABLE public.${p3}`);
      // WHEN health runs, of the window or of every partition, THEN each problem is a failing check naming its partition
      for (const fn of ['audit_partition_health', 'audit_partition_health_all'] as const) {
        const h = await health(c, 7, fn);
        expect(failing(h)).toEqual(['append_only_triggers', 'future_partitions', 'no_gaps', 'no_partition_privileges', 'rls_forced']);
        expect(h.rls_forced.detail).toContain(p1);
        expect(h.append_only_triggers.detail).toContain(p2);
        expect(h.no_partition_privileges.detail).toContain(`${p2} (caracal_gateway)`);
      }
    });
  });

  test('GIVEN partitions behind the window that lost their controls, and a gap there WHEN health and health_all run THEN the window is ok and health_all names each of them', async () => {
    await withFreshBaseline(async (c) => {
      const [p3, p4, p5] = await Promise.all([-3, -4, -5].map(async (i) => `audit_events_p${await utcDay(c, i)}`));
      // GIVEN days behind today that lost forced RLS, a trigger and a grant, and a day dropped between them
      await c.query(`ALTER TABLE public.${p3} NO FORCE ROW LEVEL SECURITY`);
      await c.query(`ALTER TABLE public.${p5} DISABLE TRIGGER audit_events_append_only_row`);
      await c.query(`GRANT SELECT ON public.${p5} TO PUBLIC`);
      await c.query(`DROP TABLE public.${p4}`);
      // WHEN the window's health runs THEN it is ok, and says which partitions it looked at
      const window = await health(c, 7);
      expect(failing(window)).toEqual([]);
      expect(window.rls_forced.detail).toContain('audit_partition_health_all() checks every partition');
      // WHEN every partition's health runs THEN it names each problem
      const all = await health(c, 7, 'audit_partition_health_all');
      expect(failing(all)).toEqual(['append_only_triggers', 'no_gaps', 'no_partition_privileges', 'rls_forced']);
      expect(all.rls_forced.detail).toBe(`without forced RLS and the zone policy: ${p3}`);
      expect(all.append_only_triggers.detail).toBe(`without both append-only triggers ENABLE ALWAYS: ${p5}`);
      expect(all.no_partition_privileges.detail).toBe(`service roles hold privileges on partitions: ${p5} (PUBLIC)`);
      expect(all.no_gaps.detail).toMatch(/^gaps between partitions: \S+ \S+ \.\. \S+ \S+$/);
    });
  });

  test.each([
    [-5, '-5'],
    [1001, '1001'],
    [null, 'NULL'],
  ])('GIVEN days_ahead %p WHEN audit_partition_health_all runs THEN it is refused with 22023 naming itself', async (days, shown) => {
    const failure = await client.query('SELECT * FROM public.audit_partition_health_all($1)', [days]).then(
      () => null,
      (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message }),
    );
    expect(failure).toEqual({
      code: '22023',
      message: `audit_partition_health_all: days_ahead must be from 0 to 1000 (got ${shown})`,
    });
  });
});

describe('retention', () => {
  const notices = (c: Client) => {
    const seen: string[] = [];
    c.on('notice', (n) => seen.push(String(n.message)));
    return seen;
  };

  test('GIVEN expired partitions WHEN retention runs THEN it refuses to drop those not exported, and drops them once they are', async () => {
    await withFreshBaseline(async (c) => {
      const oldest = `audit_events_p${await utcDay(c, -7)}`;
      const next = `audit_events_p${await utcDay(c, -6)}`;
      const warnings = notices(c);
      // GIVEN events in the oldest partition and no export watermark
      await c.query(
        `INSERT INTO public.audit_events (zone_id, event_id, ingested_at, occurred_at, source, event_type)
         SELECT gen_random_uuid(), gen_random_uuid(), lo + interval '1 hour', lo, 'api', 'x'
         FROM (SELECT lower_bound AS lo FROM public.audit_partition_bounds() WHERE partition_name = $1) b, generate_series(1, 3)`,
        [oldest],
      );
      // WHEN retention of 5 days runs (the two oldest days are past it)
      const refused = (await c.query(`SELECT public.audit_partitions_apply_retention(5) AS n`)).rows[0].n;
      // THEN nothing is dropped and the warning names the partitions
      expect(refused).toBe(0);
      expect((await partitions(c)).slice(0, 2)).toEqual([oldest, next]);
      expect(warnings.join('\n')).toMatch(new RegExp(`refusing to drop ${oldest} .*not exported yet`));
      expect((await c.query(`SELECT count(*)::int AS n FROM public.audit_events`)).rows[0].n).toBe(3);
      const alerts = await c.query(`SELECT kind, occurrences FROM public.audit_ingest_alerts WHERE resolved_at IS NULL`);
      expect(alerts.rows).toEqual([{ kind: 'export_lag', occurrences: 1 }]);

      // GIVEN one sink exported through the oldest day, another one further
      await c.query(
        `INSERT INTO public.audit_export_watermark (sink, exported_through)
         SELECT 'siem', upper_bound FROM public.audit_partition_bounds() WHERE partition_name = $1
         UNION ALL SELECT 'archive', now()`,
        [oldest],
      );
      // WHEN retention runs again THEN only the partition every sink exported is dropped
      const dropped = (await c.query(`SELECT public.audit_partitions_apply_retention(5) AS n`)).rows[0].n;
      expect(dropped).toBe(1);
      expect((await partitions(c))[0]).toBe(next);
      expect(warnings.join('\n')).toMatch(new RegExp(`refusing to drop ${next}`));
      const refreshed = await c.query(`SELECT kind, occurrences FROM public.audit_ingest_alerts WHERE resolved_at IS NULL`);
      expect(refreshed.rows).toEqual([{ kind: 'export_lag', occurrences: 2 }]);
      expect((await c.query(`SELECT count(*)::int AS n FROM public.audit_events`)).rows[0].n).toBe(0);
      // AND the append-only controls are untouched
      expect(failing(await health(c))).toEqual([]);
    });
  });

  test('GIVEN exported partitions younger than the retention WHEN retention runs THEN they are kept', async () => {
    await client.query(`INSERT INTO public.audit_export_watermark (sink, exported_through) VALUES ('young-test', now())`);
    const before = await partitions(client);
    expect((await client.query(`SELECT public.audit_partitions_apply_retention(400) AS n`)).rows[0].n).toBe(0);
    expect(await partitions(client)).toEqual(before);
  });
});
