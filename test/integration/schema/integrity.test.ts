// The seed's integrity controls on a real Postgres: append-only audit tables and immutable policy
// versions (parent and partitions, for the owner and every role), hash-only tokens, key references.
import { Client } from 'pg';
import { FreshDatabase } from '../../support/postgres';
import { OWNER_ROLE, SERVICE_ROLES, SeededZone, asRole, attempt, baselineDatabase, roleName, seedZone } from '../../support/schema';

let db: FreshDatabase;
let client: Client;
let zone: SeededZone;
let todayPartition: string;

beforeAll(async () => {
  db = await baselineDatabase();
  client = new Client({ connectionString: db.url });
  await client.connect();
  zone = await seedZone(client);
  const { rows } = await client.query(`SELECT tableoid::regclass::text AS part FROM public.audit_events WHERE event_id = $1`, [
    zone.auditEventId,
  ]);
  todayPartition = rows[0].part;
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const MUTATIONS = {
  UPDATE: (t: string, col: string) => `UPDATE ${t} SET ${col} = ${col}`,
  DELETE: (t: string) => `DELETE FROM ${t}`,
  TRUNCATE: (t: string) => `TRUNCATE ${t} CASCADE`,
} as const;
type Mutation = keyof typeof MUTATIONS;

/** Protected tables and a column to "update"; partitions are resolved in beforeAll. */
const PROTECTED: Array<[string, string, 'append-only' | 'immutable']> = [
  ['public.audit_events', 'actor', 'append-only'],
  ['<today partition>', 'actor', 'append-only'],
  ['public.audit_events_default', 'actor', 'append-only'],
  ['public.admin_audit_events', 'actor', 'append-only'],
  ['public.policy_versions', 'created_by', 'immutable'],
  ['public.policy_set_versions', 'created_by', 'immutable'],
  ['public.delegation_graph_epochs', 'reason', 'append-only'],
];
const resolve = (t: string) => (t === '<today partition>' ? `public.${todayPartition}` : t);
const cases = PROTECTED.flatMap(([t, col, rule]) => (Object.keys(MUTATIONS) as Mutation[]).map((m) => [t, m, col, rule] as const));

describe('append-only and immutable tables', () => {
  test.each(cases)('GIVEN %s WHEN the owner role runs %s THEN the ENABLE ALWAYS trigger rejects it', async (table, mutation, col, rule) => {
    // GIVEN the non-superuser owner, in the zone whose rows exist
    const failure = await asRole(client, OWNER_ROLE, (c) => attempt(c, MUTATIONS[mutation](resolve(table), col)), { zoneId: zone.zoneId });
    // WHEN it runs the mutation THEN the trigger rejects it, naming the rule
    expect(failure?.message).toMatch(new RegExp(`is ${rule}: ${mutation} is not allowed`));
  });

  test.each(cases)(
    'GIVEN %s and a superuser with session_replication_role = replica WHEN it runs %s THEN the trigger still rejects it',
    async (table, mutation, col, rule) => {
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL session_replication_role = replica`);
        const failure = await attempt(client, MUTATIONS[mutation](resolve(table), col));
        expect(failure?.message).toMatch(new RegExp(`is ${rule}: ${mutation} is not allowed`));
      } finally {
        await client.query('ROLLBACK');
      }
    },
  );

  const serviceCases = PROTECTED.flatMap(([t, col]) =>
    SERVICE_ROLES.flatMap((role) => (Object.keys(MUTATIONS) as Mutation[]).map((m) => [t, m, role, col] as const)),
  );
  test.each(serviceCases)('GIVEN %s WHEN %s runs as caracal_%s THEN it is a permission error', async (table, mutation, role, col) => {
    const failure = await asRole(client, roleName(role), (c) => attempt(c, MUTATIONS[mutation](resolve(table), col)), {
      zoneId: zone.zoneId,
    });
    expect(failure?.message).toMatch(/^permission denied/);
  });

  test('GIVEN every rejected mutation attempt WHEN the protected rows are counted THEN they are all still in place', async () => {
    const { rows } = await client.query(
      `SELECT (SELECT count(*) FROM public.audit_events)::int AS audit, (SELECT count(*) FROM public.policy_versions)::int AS versions`,
    );
    expect(rows[0]).toEqual({ audit: 1, versions: 1 });
  });

  test('GIVEN the baseline WHEN listing the append-only and immutable triggers THEN every one is ENABLE ALWAYS, on every audit partition too', async () => {
    const { rows } = await client.query(
      `SELECT c.relname, t.tgname, t.tgenabled
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
         AND (t.tgname LIKE '%append_only%' OR t.tgname LIKE '%immutable%')`,
    );
    const { rows: parts } = await client.query(
      `SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'public.audit_events'::regclass`,
    );
    // parent: statement + row; each partition: statement + cloned row; 4 other tables: statement
    expect(rows).toHaveLength(2 + 2 * parts[0].n + 4);
    expect(rows.filter((r) => r.tgenabled !== 'A')).toEqual([]);
  });
});

describe('writes that the controls allow', () => {
  test('GIVEN a policy version WHEN the API inserts a new version THEN it is accepted and the old one stays unchanged', async () => {
    const failure = await asRole(
      client,
      roleName('api'),
      (c) =>
        attempt(
          c,
          `INSERT INTO public.policy_versions (zone_id, policy_id, version, document, document_sha256, created_by)
                  VALUES ($1, $2, 2, '{"allow": false}', decode(repeat('ab', 32), 'hex'), 'admin')`,
          [zone.zoneId, zone.policyId],
        ),
      { zoneId: zone.zoneId },
    );
    expect(failure).toBeNull();
  });

  test('GIVEN the audit role WHEN it sets ingested_at itself THEN it is refused: ingested_at is the server clock', async () => {
    const failure = await asRole(
      client,
      roleName('audit'),
      (c) =>
        attempt(
          c,
          `INSERT INTO public.audit_events (zone_id, event_id, ingested_at, occurred_at, source, event_type)
                  VALUES ($1, gen_random_uuid(), now() - interval '30 days', now(), 'sts', 'x')`,
          [zone.zoneId],
        ),
      { zoneId: zone.zoneId },
    );
    expect(failure?.message).toMatch(/permission denied/);
  });

  test('GIVEN audit_events, an RLS table with INSERT-based ingest WHEN a role runs COPY into it THEN it is refused', async () => {
    const failure = await asRole(
      client,
      roleName('audit'),
      (c) => attempt(c, `COPY public.audit_events (zone_id, event_id, occurred_at, source, event_type) FROM STDIN`),
      { zoneId: zone.zoneId },
    );
    expect(failure?.message).toBe('COPY FROM not supported with row-level security');
  });

  test('GIVEN the gateway role WHEN it reads sessions THEN it may read revocations but not token hashes', async () => {
    const [snapshot, hashes] = await asRole(
      client,
      roleName('gateway'),
      async (c) => [
        await attempt(c, `SELECT id, revoked_at, expires_at FROM public.sessions WHERE revoked_at IS NOT NULL`),
        await attempt(c, `SELECT token_hash FROM public.sessions`),
      ],
      { zoneId: zone.zoneId },
    );
    expect(snapshot).toBeNull();
    expect(hashes?.message).toMatch(/^permission denied for table sessions/);
  });

  test('GIVEN the API role WHEN it records an admin action THEN it is accepted, but choosing its id or time is not', async () => {
    const [ok, forged] = await asRole(client, roleName('api'), async (c) => [
      await attempt(c, `INSERT INTO public.admin_audit_events (actor, action, zone_id) VALUES ('admin', 'zone.update', $1)`, [zone.zoneId]),
      await attempt(
        c,
        `INSERT INTO public.admin_audit_events (actor, action, recorded_at) VALUES ('admin', 'x', now() - interval '1 day')`,
      ),
    ]);
    expect(ok).toBeNull();
    expect(forged?.message).toMatch(/permission denied/);
  });

  test('GIVEN an outbox row WHEN the dispatcher updates it THEN delivery state may change but the payload never', async () => {
    const [deliver, rewrite] = await asRole(client, roleName('api'), async (c) => [
      await attempt(
        c,
        `UPDATE public.event_outbox SET status = 'dispatched', dispatched_at = now(), stream_entry_id = '1-0', attempts = attempts + 1 WHERE status = 'pending'`,
      ),
      await attempt(c, `UPDATE public.event_outbox SET payload = '{"forged": true}'`),
    ]);
    expect(deliver).toBeNull();
    expect(rewrite?.message).toMatch(/permission denied/);
  });
});

describe('hash-only secrets and referenced keys', () => {
  const rejected: Array<[string, string, unknown[]]> = [
    [
      'an admin token stored as its bytes',
      `INSERT INTO public.admin_tokens (name, token_prefix, token_hash, hmac_key_id, scopes, created_by, expires_at)
      VALUES ('t', 'crcl', convert_to('crcl_live_0123456789abcdef', 'UTF8'), 'hmac-1', '{admin}', 'me', now() + interval '1 day')`,
      [],
    ],
    [
      'an HMAC admin token without its key reference',
      `INSERT INTO public.admin_tokens (name, token_prefix, token_hash, scopes, created_by, expires_at)
      VALUES ('t', 'crcl', decode(repeat('ab', 32), 'hex'), '{admin}', 'me', now() + interval '1 day')`,
      [],
    ],
    [
      'a session token stored instead of its hash',
      `INSERT INTO public.sessions (zone_id, subject, token_hash, expires_at)
      VALUES ($1, 'u', convert_to('session-token', 'UTF8'), now() + interval '1 hour')`,
      ['zone'],
    ],
    [
      'a PEM private key as a zone signing key reference',
      `UPDATE public.zones SET signing_key_ref = 'file:-----BEGIN PRIVATE KEY-----MIIE' WHERE id = $1`,
      ['zone'],
    ],
    [
      'a step-up challenge living longer than 15 minutes',
      `INSERT INTO public.step_up_challenges (zone_id, session_id, method, challenge_hash, expires_at)
      VALUES ($1, $2, 'totp', decode(repeat('ab', 32), 'hex'), now() + interval '1 hour')`,
      ['zone', 'session'],
    ],
    [
      'a session that expires before it starts',
      `INSERT INTO public.sessions (zone_id, subject, token_hash, expires_at)
      VALUES ($1, 'u', decode(repeat('cd', 32), 'hex'), now() - interval '1 hour')`,
      ['zone'],
    ],
    [
      'a row pointing into another zone',
      `INSERT INTO public.application_dependencies (zone_id, application_id, resource_id)
      VALUES (gen_random_uuid(), $1, $2)`,
      ['application', 'resource'],
    ],
  ];
  test.each(rejected)('GIVEN %s WHEN it is written THEN a check or foreign key constraint rejects it', async (_name, sql, params) => {
    const values = params.map(
      (p) => ({ zone: zone.zoneId, session: zone.sessionId, application: zone.applicationId, resource: zone.resourceId })[p as string],
    );
    await client.query('BEGIN');
    try {
      const failure = await attempt(client, sql, values);
      expect(failure?.code).toMatch(/^23(514|503)$/); // check or foreign key violation
    } finally {
      await client.query('ROLLBACK');
    }
  });
});

describe('the indexes the services poll', () => {
  const polls: Array<[string, string, string]> = [
    [
      'the event_outbox dispatcher',
      `SELECT id FROM public.event_outbox WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT 100 FOR UPDATE SKIP LOCKED`,
      'event_outbox_pending_idx',
    ],
    [
      'the caracal_outbox dispatcher',
      `SELECT id FROM public.caracal_outbox WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT 100 FOR UPDATE SKIP LOCKED`,
      'caracal_outbox_pending_idx',
    ],
    [
      'the "event_outbox dead rows" check',
      `SELECT count(*) FROM public.event_outbox WHERE status = 'dead' AND dead_at > now() - interval '1 day'`,
      'event_outbox_dead_idx',
    ],
    [
      'the Redis rebuild from dispatched rows',
      `SELECT id FROM public.caracal_outbox WHERE status = 'dispatched' AND stream = 'revocation' AND dispatched_at > now() - interval '1 day'`,
      'caracal_outbox_dispatched_idx',
    ],
    ['the expired session purge', `SELECT id FROM public.sessions WHERE expires_at < now()`, 'sessions_expires_idx'],
    ['the expired challenge purge', `SELECT id FROM public.step_up_challenges WHERE expires_at < now()`, 'step_up_challenges_expires_idx'],
    [
      'the expired agent session sweep',
      `SELECT id FROM public.agent_sessions WHERE status = 'active' AND expires_at < now()`,
      'agent_sessions_active_expires_idx',
    ],
    [
      'open ingest alerts',
      `SELECT id FROM public.audit_ingest_alerts WHERE resolved_at IS NULL ORDER BY last_seen_at DESC`,
      'audit_ingest_alerts_open_idx',
    ],
  ];
  test.each(polls)('GIVEN sequential scans discouraged WHEN %s is planned THEN it uses its index', async (_who, sql, index) => {
    // GIVEN sequential scans discouraged (tiny tables would otherwise always be scanned)
    await client.query('BEGIN');
    try {
      await client.query('SET LOCAL enable_seqscan = off');
      // WHEN planning the poll THEN it reads the partial/expiry index made for it
      const { rows } = await client.query(`EXPLAIN ${sql}`);
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toContain(index);
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
