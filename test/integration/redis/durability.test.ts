// Streams on a real redis-server with the rendered config: consumer groups and pending entries survive
// a clean restart and a process crash (AOF), and the server runs with the settings Caracal relies on.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { CaracalRedis, startCaracalRedis } from '../../support/redis';

const STREAM = 'caracal:stream:revocation';
let redis: CaracalRedis;

beforeAll(async () => {
  redis = await startCaracalRedis({ maxmemoryBytes: 48 * 1024 * 1024 });
});

afterAll(async () => {
  await redis?.destroy();
});

beforeEach(async () => {
  const ops = await redis.as('ops');
  await ops.command('UNLINK', STREAM);
});

afterEach(async () => {
  await redis.closeAll();
});

/** A group `gateway` with two entries delivered to `pod-a` and not acknowledged, one acknowledged, one undelivered. */
async function streamWithPendingEntries() {
  const api = await redis.as('api');
  const gateway = await redis.as('gateway');
  await gateway.command('XGROUP', 'CREATE', STREAM, 'gateway', '$', 'MKSTREAM');
  const ids: string[] = [];
  for (const s of ['s1', 's2', 's3']) ids.push((await api.command('XADD', STREAM, '*', 'session', s)) as string);
  await gateway.command('XREADGROUP', 'GROUP', 'gateway', 'pod-a', 'COUNT', 3, 'STREAMS', STREAM, '>');
  await gateway.command('XACK', STREAM, 'gateway', ids[0]);
  const undelivered = (await api.command('XADD', STREAM, '*', 'session', 's4')) as string;
  await redis.closeAll();
  return { ids, undelivered };
}

async function groupState() {
  const gateway = await redis.as('gateway');
  const pending = (await gateway.command('XPENDING', STREAM, 'gateway', '-', '+', 10)) as any[];
  const groups = (await gateway.command('XINFO', 'GROUPS', STREAM)) as any[];
  const info = Object.fromEntries(Array.from({ length: groups[0].length / 2 }, (_, i) => [groups[0][2 * i], groups[0][2 * i + 1]]));
  const fresh = (await gateway.command('XREADGROUP', 'GROUP', 'gateway', 'pod-b', 'COUNT', 10, 'STREAMS', STREAM, '>')) as any[];
  return {
    pending: pending.map((p: any[]) => [p[0], p[1]]),
    lastDelivered: info['last-delivered-id'],
    undeliveredAfter: fresh[0][1].map((e: any[]) => e[0]),
  };
}

describe('Redis durability (AOF, appendfsync everysec)', () => {
  test('GIVEN a consumer group with pending entries WHEN Redis is stopped (SIGTERM) and started THEN the group, its pending entries and its position survive', async () => {
    const { ids, undelivered } = await streamWithPendingEntries();

    await redis.server.restart();

    expect(await groupState()).toEqual({
      pending: [
        [ids[1], 'pod-a'],
        [ids[2], 'pod-a'],
      ],
      lastDelivered: ids[2],
      undeliveredAfter: [undelivered],
    });
  });

  test('GIVEN a consumer group with pending entries WHEN the Redis process is killed (SIGKILL) and started THEN nothing acknowledged to a client is lost (the AOF is written before replies; only fsync is deferred)', async () => {
    const { ids, undelivered } = await streamWithPendingEntries();

    await redis.server.kill();
    await redis.server.start();

    expect(await groupState()).toEqual({
      pending: [
        [ids[1], 'pod-a'],
        [ids[2], 'pod-a'],
      ],
      lastDelivered: ids[2],
      undeliveredAfter: [undelivered],
    });
  });

  test('GIVEN the rendered config WHEN the server runs THEN AOF is on with everysec, noeviction at the configured maxmemory, and the AOF lives in the data dir', async () => {
    const h = await redis.as('healthcheck');

    const persistence = (await h.command('INFO', 'persistence')) as string;
    const memory = (await h.command('INFO', 'memory')) as string;
    const files = await readdir(path.join(redis.server.dataDir, 'appendonlydir'));

    expect(persistence).toMatch(/^aof_enabled:1\r?$/m);
    expect(memory).toMatch(/^maxmemory:50331648\r?$/m);
    expect(memory).toMatch(/^maxmemory_policy:noeviction\r?$/m);
    expect(files.some((f) => f.endsWith('.incr.aof'))).toBe(true);
  });
});

// Redis replays AOF transactions as the default user and re-checks the ACL at EXEC (redis/redis#14541):
// these restarts fail if the default user's (inert, `off`) permissions are narrowed.
describe('Redis durability of transactions (MULTI/EXEC in the AOF)', () => {
  test('GIVEN a rate-limit window counted with MULTI/EXEC WHEN Redis restarts THEN the counter and its expiry are still there', async () => {
    const gateway = await redis.as('gateway');
    const key = 'caracal:ratelimit:gateway:resource-1:60s';
    await gateway.command('MULTI');
    await gateway.command('INCR', key);
    await gateway.command('PEXPIRE', key, 600_000, 'NX');
    await gateway.command('EXEC');
    await redis.closeAll();

    await redis.server.restart();
    const after = await redis.as('gateway');

    expect(await after.command('GET', key)).toBe('1');
    expect(await after.command('PTTL', key)).toBeGreaterThan(0);
  });
});
