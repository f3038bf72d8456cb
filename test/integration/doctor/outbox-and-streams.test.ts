// doctor, rows "API outbox grows" and the seed's next step (the Redis streams), on the run's real Postgres and a
// real redis-server with the rendered config and ACL users: healthy passes, and each sub-verdict broken on its
// own (Redis down, a wrong password, a group missing, a backlog, dead rows, a saturated pool, stale pending and
// undelivered entries, open audit ingest alerts, memory near maxmemory) is a finding that names its fix.
import type { Client } from 'pg';
import { STREAMS } from '../../../common/redis-streams';
import { freePort, startCaracalRedis } from '../../support/redis';
import { DoctorWorld, doctor, POOL_MAX, startDoctorWorld, superuser, verdict, zone } from './world';

let world: DoctorWorld;
beforeAll(async () => {
  world = await startDoctorWorld();
}, 120_000);
afterAll(async () => {
  await world?.destroy();
});
beforeEach(async () => {
  await world.resetStreams();
});

const ROWS = { rows: ['api-outbox-grows' as const, 'streams' as const] };
const TEN_MINUTES_AGO = () => Date.now() - 10 * 60_000;

async function outboxRow(
  c: Client,
  table: 'event_outbox' | 'caracal_outbox',
  state: { status: 'pending' | 'dead'; stream?: string; error?: string },
) {
  const z = await zone(c);
  const dead = state.status === 'dead' ? `now() - interval '1 minute'` : 'NULL';
  if (table === 'event_outbox')
    await c.query(
      `INSERT INTO public.event_outbox (zone_id, topic, aggregate_type, aggregate_id, payload, created_at, status, attempts, last_error, dead_at)
       VALUES ($1, 'zone.updated', 'zone', 'z1', '{}', now() - interval '10 minutes', $2, 7, $3, ${dead})`,
      [z, state.status, state.error ?? null],
    );
  else
    await c.query(
      `INSERT INTO public.caracal_outbox (zone_id, stream, message_key, payload, created_at, status, attempts, last_error, dead_at)
       VALUES ($1, $2, 'k1', '{}', now() - interval '10 minutes', $3, 7, $4, ${dead})`,
      [z, state.stream ?? 'propagation', state.status, state.error ?? null],
    );
}

describe('doctor: API outbox grows, and the streams', () => {
  test('GIVEN a healthy database and Redis with every group WHEN doctor runs THEN both rows are ok', async () => {
    const db = await world.database();
    const report = await doctor(world.options(db, ROWS));
    expect(report.rows.flatMap((r) => r.checks.map((c) => [c.id, c.status, c.status === 'ok' ? '' : c.summary]))).toEqual([
      ['redis-auth', 'ok', ''],
      ['redis-memory', 'ok', ''],
      ['streams', 'ok', ''],
      ['outbox-pending', 'ok', ''],
      ['outbox-dead', 'ok', ''],
      ['pool', 'ok', ''],
      ['stream-groups', 'ok', ''],
      ['pending-entries', 'ok', ''],
      ['invalidation', 'ok', ''],
      ['revocation', 'ok', ''],
      ['audit-delivery', 'ok', ''],
    ]);
  });

  test('GIVEN Redis is down WHEN doctor runs THEN Redis reachability is a finding and the stream checks are not checked', async () => {
    const db = await world.database();
    const options = world.options(db, ROWS);
    const port = await freePort();
    const report = await doctor({ ...options, redis: { ...options.redis!, port } });
    const auth = verdict(report, 'redis-auth');
    expect(auth).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#redis-reachability' });
    expect(auth.summary).toBe(`nothing accepts connections at 127.0.0.1:${port} (connection refused)`);
    expect(auth.next).toMatch(/the Redis pod and Service/);
    expect(['streams', 'stream-groups', 'pending-entries'].map((id) => verdict(report, id as 'streams').status)).toEqual([
      'unchecked',
      'unchecked',
      'unchecked',
    ]);
  });

  test("GIVEN a service's Redis password file holds a wrong password WHEN doctor runs THEN Redis users is a finding naming the user and its Secret", async () => {
    const db = await world.database();
    const options = world.options(db, ROWS);
    const users = options.redis!.users.map((u) =>
      u.user === 'gateway' ? { ...u, passwordFile: world.redisPasswordFile('gateway', 'wrong\n') } : u,
    );
    const report = await doctor({ ...options, redis: { ...options.redis!, users } });
    const auth = verdict(report, 'redis-auth');
    expect(auth.status).toBe('finding');
    expect(auth.summary).toMatch(/^gateway: WRONGPASS/);
    expect(auth.next).toMatch(/the gateway user's Redis Secret/);
    expect(JSON.stringify(report)).not.toContain(world.redis.passwords.gateway);
  });

  test('GIVEN the sts group of the invalidation stream is missing WHEN doctor runs THEN the streams, stream groups and invalidation checks name it', async () => {
    const db = await world.database();
    const ops = await world.redis.as('ops');
    await ops.command('XGROUP', 'DESTROY', STREAMS.invalidation, 'sts');
    const report = await doctor(world.options(db, ROWS));
    for (const id of ['streams', 'stream-groups', 'invalidation'] as const) {
      expect(verdict(report, id).status).toBe('finding');
      expect(verdict(report, id).summary).toMatch(/caracal:stream:invalidation: consumer group sts is missing/);
    }
    expect(verdict(report, 'stream-groups').next).toMatch(/start \(or restart\) the service whose group is missing/);
    expect(verdict(report, 'stream-groups').runbook).toBe('docs/operations.md#stream-groups');
  });

  test('GIVEN event_outbox rows pending for 10 minutes WHEN doctor runs THEN the outbox backlog is a finding with counts and the oldest age', async () => {
    const db = await world.database();
    const c = await superuser(db);
    await outboxRow(c, 'event_outbox', { status: 'pending' });
    await c.end();
    const report = await doctor(world.options(db, ROWS));
    const backlog = verdict(report, 'outbox-pending');
    expect(backlog).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#outbox-backlog' });
    expect(backlog.summary).toMatch(/^event_outbox: pending rows older than 5 min \(oldest 10 min\)/);
    expect(backlog.details).toEqual(['event_outbox: 1 pending (1 due now), oldest 10 min, up to 7 attempt(s)']);
    expect(backlog.next).toMatch(/outbox dispatcher/);
  });

  test('GIVEN dead rows in event_outbox WHEN doctor runs THEN dead rows are a finding that shows their last_error', async () => {
    const db = await world.database();
    const c = await superuser(db);
    await outboxRow(c, 'event_outbox', { status: 'dead', error: 'NOPERM this user has no permissions to access the stream key' });
    await outboxRow(c, 'event_outbox', { status: 'dead', error: 'NOPERM this user has no permissions to access the stream key' });
    await c.end();
    const report = await doctor(world.options(db, ROWS));
    const dead = verdict(report, 'outbox-dead');
    expect(dead).toMatchObject({
      status: 'finding',
      summary: '2 dead row(s): the dispatcher gave up on them',
      runbook: 'docs/operations.md#outbox-dead-rows',
    });
    expect(dead.details[0]).toMatch(
      /^event_outbox: 2 dead \(.*\), last_error: "NOPERM this user has no permissions to access the stream key"$/,
    );
    expect(dead.next).toMatch(/requeue/);
  });

  test('GIVEN every pooled connection of a caracal-api pod is busy WHEN doctor runs THEN pool saturation is a finding naming the application and DB_POOL_MAX', async () => {
    const db = await world.database();
    const sessions = await Promise.all(Array.from({ length: POOL_MAX }, () => superuser(db, 'caracal-api')));
    try {
      for (const s of sessions) await s.query('BEGIN; SELECT 1');
      const report = await doctor(world.options(db, ROWS));
      const pool = verdict(report, 'pool');
      expect(pool).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#pool-saturation' });
      expect(pool.summary).toBe(
        `caracal-api from 127.0.0.1: ${POOL_MAX} of DB_POOL_MAX ${POOL_MAX} connections busy: the pool is saturated, requests queue for a connection`,
      );
      expect(pool.details).toContain(
        `caracal-api from 127.0.0.1: ${POOL_MAX} connection(s), ${POOL_MAX} busy, ${POOL_MAX} idle in transaction, 0 waiting on locks (DB_POOL_MAX ${POOL_MAX})`,
      );
      expect(pool.next).toMatch(/DB_POOL_MAX/);
    } finally {
      await Promise.all(sessions.map((s) => s.end()));
    }
  });

  test('GIVEN a propagation entry delivered to the coordinator 10 minutes ago and never acknowledged WHEN doctor runs THEN pending entries is a finding naming the consumer', async () => {
    const db = await world.database();
    const ops = await world.redis.as('ops');
    await ops.command('XADD', STREAMS.propagation, `${TEN_MINUTES_AGO()}-0`, 'kind', 'zone.updated');
    const coordinator = await world.redis.as('coordinator');
    await coordinator.command('XREADGROUP', 'GROUP', 'coordinator', 'coordinator-7f9c', 'COUNT', 1, 'STREAMS', STREAMS.propagation, '>');
    const report = await doctor(world.options(db, ROWS));
    const pending = verdict(report, 'pending-entries');
    expect(pending).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#pending-entries' });
    expect(pending.details[0]).toBe(
      'caracal:stream:propagation group coordinator: oldest pending 10 min, held by coordinator-7f9c, delivered 1x',
    );
    expect(pending.next).toMatch(/XAUTOCLAIM/);
    expect(verdict(report, 'streams').status).toBe('finding');
  });

  test('GIVEN an invalidation entry no reader took for 10 minutes WHEN doctor runs THEN invalidation is a finding about undelivered entries', async () => {
    const db = await world.database();
    const ops = await world.redis.as('ops');
    await ops.command('XADD', STREAMS.invalidation, `${TEN_MINUTES_AGO()}-0`, 'kind', 'policy.changed');
    const report = await doctor(world.options(db, ROWS));
    const inv = verdict(report, 'invalidation');
    expect(inv).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#invalidation-stream' });
    expect(inv.summary).toMatch(
      /^caracal:stream:invalidation group (sts|gateway): 1 entries not delivered, the oldest for 10 min: its consumers do not read/,
    );
    expect(inv.next).toMatch(/stale policy, grants or bindings/);
  });

  test('GIVEN revocation rows waiting in caracal_outbox for 10 minutes WHEN doctor runs THEN revocation is a finding that they were not dispatched', async () => {
    const db = await world.database();
    const c = await superuser(db);
    await outboxRow(c, 'caracal_outbox', { status: 'pending', stream: 'revocation' });
    await c.end();
    const report = await doctor(world.options(db, ROWS));
    const rev = verdict(report, 'revocation');
    expect(rev).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#revocation-stream' });
    expect(rev.summary).toMatch(/^caracal_outbox has revocation rows pending for 10 min: not dispatched to Redis/);
    expect(rev.next).toMatch(/revoked session or grant usable/);
  });

  test('GIVEN an open critical audit ingest alert WHEN doctor runs THEN audit delivery is a finding that shows it', async () => {
    const db = await world.database();
    const c = await superuser(db);
    await c.query(
      `INSERT INTO public.audit_ingest_alerts (source, kind, severity, detail) VALUES ('sts', 'replay_gap', 'critical', 'gap in replay sequence')`,
    );
    await c.end();
    const report = await doctor(world.options(db, ROWS));
    const audit = verdict(report, 'audit-delivery');
    expect(audit).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#audit-delivery' });
    expect(audit.summary).toMatch(/^audit_ingest_alerts: open critical replay_gap from sts \(1x, last /);
    expect(audit.next).toMatch(/the audit service/);
  });

  test('GIVEN only a producer user (no reader of any stream) WHEN doctor runs THEN the stream checks are not checked and ask for the ops user', async () => {
    const db = await world.database();
    const options = world.options(db, ROWS);
    const report = await doctor({ ...options, redis: { ...options.redis!, users: options.redis!.users.filter((u) => u.user === 'api') } });
    expect(verdict(report, 'redis-auth').status).toBe('ok');
    expect(verdict(report, 'redis-memory')).toMatchObject({ status: 'unchecked', next: expect.stringMatching(/ops=FILE/) });
    expect(verdict(report, 'stream-groups')).toMatchObject({
      status: 'unchecked',
      next: expect.stringMatching(/ops user reads every stream/),
    });
  });

  test('GIVEN Redis filled to 90% of maxmemory WHEN doctor runs THEN Redis memory is a finding that writes are about to be refused', async () => {
    const db = await world.database();
    const small = await startCaracalRedis({ maxmemoryBytes: 4 * 1024 * 1024 });
    try {
      const ops = await small.as('ops');
      const info = async () => {
        const text = String(await ops.command('INFO', 'memory'));
        return Number(/used_memory:(\d+)/.exec(text)![1]) / Number(/maxmemory:(\d+)/.exec(text)![1]);
      };
      while ((await info()) < 0.93) await ops.command('XADD', STREAMS.audit, '*', 'event', 'x'.repeat(16 * 1024));
      const options = world.options(db, ROWS);
      const users = (['ops'] as const).map((user) => {
        const file = world.redisPasswordFile(user, small.passwords[user]);
        return { user, passwordFile: file, source: 'test' };
      });
      const report = await doctor({ ...options, redis: { host: '127.0.0.1', port: small.server.port, users } });
      const memory = verdict(report, 'redis-memory');
      expect(memory).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#redis-memory' });
      expect(memory.summary).toMatch(/^Redis uses 9\d% of maxmemory: at 100% it refuses writes/);
      expect(memory.next).toMatch(/raise maxmemory/);
    } finally {
      await small.destroy();
    }
  });
});
