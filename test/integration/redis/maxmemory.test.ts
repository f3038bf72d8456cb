// At maxmemory a real redis-server with the rendered config refuses writes (OOM) and evicts nothing:
// stream entries and pending entries stay, consumers can still read and acknowledge.
import { CaracalRedis, RedisReplyError, startCaracalRedis } from '../../support/redis';

const STREAM = 'caracal:stream:audit';
const MAXMEMORY = 4 * 1024 * 1024;
let redis: CaracalRedis;

beforeAll(async () => {
  redis = await startCaracalRedis({ maxmemoryBytes: MAXMEMORY });
});

afterAll(async () => {
  await redis?.destroy();
});

afterEach(async () => {
  await redis.closeAll();
});

/** XADDs 1 KiB audit events as sts until the server refuses one; returns the accepted ids and the refusal. */
async function fillUntilRefused() {
  const sts = await redis.as('sts');
  const payload = 'x'.repeat(1024);
  const ids: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    try {
      ids.push((await sts.command('XADD', STREAM, '*', 'event', payload)) as string);
    } catch (e) {
      return { ids, refusal: e as Error };
    }
  }
  throw new Error('maxmemory was never reached');
}

describe('Redis at maxmemory (noeviction)', () => {
  test('GIVEN consumers with pending audit entries WHEN producers fill Redis to maxmemory THEN writes are refused with OOM, no entry is evicted, and consumers can still read and acknowledge', async () => {
    const audit = await redis.as('audit');
    await audit.command('XGROUP', 'CREATE', STREAM, 'audit', '$', 'MKSTREAM');

    const { ids, refusal } = await fillUntilRefused();
    const length = await audit.command('XLEN', STREAM);
    const read = (await audit.command('XREADGROUP', 'GROUP', 'audit', 'ingest-0', 'COUNT', ids.length, 'STREAMS', STREAM, '>')) as any[];
    const pending = (await audit.command('XPENDING', STREAM, 'audit')) as any[];
    const acked = await audit.command('XACK', STREAM, 'audit', ...ids);
    const stats = (await (await redis.as('healthcheck')).command('INFO', 'stats')) as string;

    expect(ids.length).toBeGreaterThan(100);
    expect(refusal).toBeInstanceOf(RedisReplyError);
    expect(refusal.message).toMatch(/^OOM command not allowed when used memory > 'maxmemory'/);
    expect(length).toBe(ids.length);
    expect(read[0][1][0][0]).toBe(ids[0]);
    expect(read[0][1]).toHaveLength(ids.length);
    expect(pending[0]).toBe(ids.length);
    expect(acked).toBe(ids.length);
    expect(stats).toMatch(/^evicted_keys:0\r?$/m);
  });

  test('GIVEN Redis refusing writes at maxmemory WHEN the audit service trims what it has ingested THEN producers can write again', async () => {
    const sts = await redis.as('sts');
    const audit = await redis.as('audit');
    await expect(sts.command('XADD', STREAM, '*', 'event', 'x'.repeat(1024))).rejects.toThrow(/^OOM/);

    await audit.command('XTRIM', STREAM, 'MAXLEN', 0);
    const id = await sts.command('XADD', STREAM, '*', 'event', 'after-trim');

    expect(id).toMatch(/^\d+-\d+$/);
  });
});
