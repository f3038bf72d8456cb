// The rendered ACL file on a real redis-server: each Caracal service can do what its streams and
// rate limits need and is refused everything else; no unauthenticated or default-user access.
import { CaracalRedis, startCaracalRedis } from '../../support/redis';

// The decided matrix (docs/redis.md), written out here rather than read from the code under test.
const STREAM = {
  propagation: 'caracal:stream:propagation',
  invalidation: 'caracal:stream:invalidation',
  revocation: 'caracal:stream:revocation',
  audit: 'caracal:stream:audit',
} as const;
type Stream = keyof typeof STREAM;
const SERVICES = ['api', 'coordinator', 'audit', 'sts', 'gateway'] as const;
type Service = (typeof SERVICES)[number];

const PRODUCERS: Record<Stream, Service[]> = {
  propagation: ['api', 'coordinator'],
  invalidation: ['api', 'coordinator'],
  revocation: ['api', 'coordinator', 'sts'],
  audit: ['api', 'coordinator', 'sts', 'gateway'],
};
const CONSUMERS: Record<Stream, Service[]> = {
  propagation: ['coordinator', 'sts', 'gateway'],
  invalidation: ['sts', 'gateway'],
  revocation: ['sts', 'gateway'],
  audit: ['audit'],
};
const RATE_LIMITED: Service[] = ['api', 'sts', 'gateway'];

const pairs = <T>(table: Record<Stream, Service[]>, pick: (members: Service[], s: Service) => boolean) =>
  (Object.keys(table) as Stream[]).flatMap((stream) =>
    SERVICES.filter((s) => pick(table[stream], s)).map((s) => [s, stream] as [Service, Stream]),
  ) as T;

/** DEBUG is refused by `enable-debug-command no` before the ACL is consulted; everything else by the ACL. */
const refusal = (args: Array<string | number>) => (args[0] === 'DEBUG' ? /^ERR DEBUG command not allowed/ : /^NOPERM/);

let redis: CaracalRedis;

beforeAll(async () => {
  redis = await startCaracalRedis();
});

afterAll(async () => {
  await redis?.destroy();
});

beforeEach(async () => {
  // Reset through the ops user (nobody may FLUSHALL): unlink every caracal: key.
  const ops = await redis.as('ops');
  let cursor = '0';
  do {
    const [next, keys] = (await ops.command('SCAN', cursor, 'MATCH', 'caracal:*', 'COUNT', 1000)) as [string, string[]];
    if (keys.length) await ops.command('UNLINK', ...keys);
    cursor = next;
  } while (cursor !== '0');
});

afterEach(async () => {
  await redis.closeAll();
});

describe('Redis ACL: authentication', () => {
  test('GIVEN no AUTH WHEN a client sends PING or XADD THEN the server answers NOAUTH', async () => {
    const anon = await redis.anonymous();

    await expect(anon.command('PING')).rejects.toThrow(/^NOAUTH/);
    await expect(anon.command('XADD', STREAM.audit, '*', 'e', '1')).rejects.toThrow(/^NOAUTH/);
  });

  test.each([
    ['default', 'anything'],
    ['default', ''],
    ['api', 'not-the-password'],
    ['nobody', 'x'],
  ])('GIVEN AUTH %s with a wrong or no password WHEN sent THEN it is refused with WRONGPASS', async (user, password) => {
    const anon = await redis.anonymous();

    await expect(anon.command('AUTH', user, password)).rejects.toThrow(/^WRONGPASS/);
  });

  test('GIVEN the ACL file WHEN the ops user lists users with ACL THEN it is refused (ACL is not for connections)', async () => {
    const ops = await redis.as('ops');

    await expect(ops.command('ACL', 'LIST')).rejects.toThrow(/^NOPERM/);
  });
});

describe('Redis ACL: producers', () => {
  test.each(pairs<Array<[Service, Stream]>>(PRODUCERS, (m, s) => m.includes(s)))(
    'GIVEN %s WHEN it XADDs to the %s stream THEN the entry is added',
    async (service, stream) => {
      const c = await redis.as(service);

      const id = await c.command('XADD', STREAM[stream], '*', 'type', 'test');

      expect(id).toMatch(/^\d+-\d+$/);
    },
  );

  test.each(pairs<Array<[Service, Stream]>>(PRODUCERS, (m, s) => !m.includes(s)))(
    'GIVEN %s WHEN it XADDs to the %s stream it does not produce THEN NOPERM',
    async (service, stream) => {
      const c = await redis.as(service);

      await expect(c.command('XADD', STREAM[stream], '*', 'type', 'forged')).rejects.toThrow(/^NOPERM/);
    },
  );
});

describe('Redis ACL: consumer groups', () => {
  test.each(pairs<Array<[Service, Stream]>>(CONSUMERS, (m, s) => m.includes(s)))(
    'GIVEN %s WHEN it consumes the %s stream through its group (create, read, pending, claim, ack) THEN every step succeeds',
    async (service, stream) => {
      const key = STREAM[stream];
      const producer = await redis.as(PRODUCERS[stream][0]);
      const consumer = await redis.as(service);

      await consumer.command('XGROUP', 'CREATE', key, service, '$', 'MKSTREAM');
      const first = await producer.command('XADD', key, '*', 'type', 'one');
      const second = await producer.command('XADD', key, '*', 'type', 'two');
      const read = (await consumer.command('XREADGROUP', 'GROUP', service, 'pod-a', 'COUNT', 10, 'STREAMS', key, '>')) as any[];
      const pending = (await consumer.command('XPENDING', key, service)) as any[];
      const claimed = (await consumer.command('XCLAIM', key, service, 'pod-b', 0, first as string)) as any[];
      const autoclaimed = (await consumer.command('XAUTOCLAIM', key, service, 'pod-b', 0, '0-0')) as any[];
      const acked = await consumer.command('XACK', key, service, first as string, second as string);
      const groups = (await consumer.command('XINFO', 'GROUPS', key)) as any[];
      const length = await consumer.command('XLEN', key);

      expect(read[0][1].map((e: any[]) => e[0])).toEqual([first, second]);
      expect(pending[0]).toBe(2);
      expect(claimed.map((e: any[]) => e[0])).toEqual([first]);
      expect(autoclaimed[1].map((e: any[]) => e[0])).toEqual([first, second]);
      expect(acked).toBe(2);
      expect(groups[0]).toContain(service);
      expect(length).toBe(2);
    },
  );

  test.each(pairs<Array<[Service, Stream]>>(CONSUMERS, (m, s) => !m.includes(s)))(
    'GIVEN %s WHEN it reads the %s stream through a consumer group THEN NOPERM',
    async (service, stream) => {
      const c = await redis.as(service);

      await expect(c.command('XGROUP', 'CREATE', STREAM[stream], service, '$', 'MKSTREAM')).rejects.toThrow(/^NOPERM/);
      await expect(c.command('XREADGROUP', 'GROUP', service, 'x', 'STREAMS', STREAM[stream], '>')).rejects.toThrow(/^NOPERM/);
    },
  );

  test('GIVEN gateway WHEN one XREADGROUP names a stream it consumes and one it does not THEN the whole command is refused', async () => {
    const gateway = await redis.as('gateway');
    await gateway.command('XGROUP', 'CREATE', STREAM.revocation, 'gateway', '$', 'MKSTREAM');

    await expect(
      gateway.command('XREADGROUP', 'GROUP', 'gateway', 'x', 'STREAMS', STREAM.revocation, STREAM.audit, '>', '>'),
    ).rejects.toThrow(/^NOPERM/);
  });
});

describe('Redis ACL: trimming and rate limits', () => {
  test('GIVEN acknowledged audit entries WHEN the audit service trims below them with XTRIM MINID THEN they are removed', async () => {
    const sts = await redis.as('sts');
    const audit = await redis.as('audit');
    await sts.command('XADD', STREAM.audit, '1-1', 'e', 'a');
    await sts.command('XADD', STREAM.audit, '2-1', 'e', 'b');

    const removed = await audit.command('XTRIM', STREAM.audit, 'MINID', '2-0');

    expect(removed).toBe(1);
    expect(await audit.command('XLEN', STREAM.audit)).toBe(1);
  });

  test.each(['api', 'coordinator', 'sts', 'gateway'] as Service[])(
    'GIVEN %s WHEN it trims or deletes from the audit stream THEN NOPERM (audit events are never dropped before ingestion)',
    async (service) => {
      const c = await redis.as(service);

      await expect(c.command('XTRIM', STREAM.audit, 'MAXLEN', 0)).rejects.toThrow(/^NOPERM/);
      await expect(c.command('XDEL', STREAM.audit, '1-1')).rejects.toThrow(/^NOPERM/);
      await expect(c.command('DEL', STREAM.audit)).rejects.toThrow(/^NOPERM/);
    },
  );

  test.each(RATE_LIMITED)(
    'GIVEN %s WHEN it counts a fixed window (MULTI INCR PEXPIRE NX EXEC) in its key space THEN the counter and expiry are set',
    async (service) => {
      const c = await redis.as(service);
      const key = `caracal:ratelimit:${service}:tenant-1:60s`;

      await c.command('MULTI');
      await c.command('INCR', key);
      await c.command('PEXPIRE', key, 60_000, 'NX');
      const result = await c.command('EXEC');
      const ttl = (await c.command('PTTL', key)) as number;

      expect(result).toEqual([1, 1]);
      expect(ttl).toBeGreaterThan(0);
    },
  );

  test.each([
    ['api', 'caracal:ratelimit:gateway:x'],
    ['gateway', 'caracal:ratelimit:sts:x'],
    ['sts', 'caracal:ratelimit:api:x'],
    ['coordinator', 'caracal:ratelimit:coordinator:x'],
    ['audit', 'caracal:ratelimit:audit:x'],
  ])("GIVEN %s WHEN it INCRs %s (another service's or no rate-limit space) THEN NOPERM", async (service, key) => {
    const c = await redis.as(service);

    await expect(c.command('INCR', key)).rejects.toThrow(/^NOPERM/);
  });
});

describe('Redis ACL: what no service may do', () => {
  const forbidden: Array<[string, Array<string | number>]> = [
    ['FLUSHALL', ['FLUSHALL']],
    ['FLUSHDB', ['FLUSHDB']],
    ['CONFIG GET', ['CONFIG', 'GET', 'requirepass']],
    ['CONFIG SET', ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru']],
    ['KEYS', ['KEYS', '*']],
    ['SCAN', ['SCAN', '0']],
    ['DEBUG', ['DEBUG', 'SLEEP', '0']],
    ['SHUTDOWN', ['SHUTDOWN', 'NOSAVE']],
    ['ACL LIST', ['ACL', 'LIST']],
    ['ACL SETUSER', ['ACL', 'SETUSER', 'default', 'on', 'nopass']],
    ['EVAL', ['EVAL', 'return 1', 0]],
    ['SCRIPT LOAD', ['SCRIPT', 'LOAD', 'return 1']],
    ['FUNCTION LOAD', ['FUNCTION', 'LIST']],
    ['MONITOR', ['MONITOR']],
    ['INFO', ['INFO']],
    ['CLIENT LIST', ['CLIENT', 'LIST']],
    ['CLIENT KILL', ['CLIENT', 'KILL', 'ID', 1]],
    ['SAVE', ['SAVE']],
    ['BGREWRITEAOF', ['BGREWRITEAOF']],
    ['REPLICAOF', ['REPLICAOF', '127.0.0.1', 1]],
    ['SELECT', ['SELECT', 1]],
    ['SET outside caracal', ['SET', 'other', '1']],
    ['SET inside caracal', ['SET', 'caracal:anything', '1']],
    ['GET a stream key', ['GET', 'caracal:stream:audit']],
    ['XGROUP DESTROY', ['XGROUP', 'DESTROY', 'caracal:stream:revocation', 'gateway']],
    ['XGROUP SETID', ['XGROUP', 'SETID', 'caracal:stream:revocation', 'gateway', '$']],
    ['XRANGE (reads outside a group)', ['XRANGE', 'caracal:stream:audit', '-', '+']],
    ['SUBSCRIBE', ['SUBSCRIBE', 'caracal']],
    ['PUBLISH', ['PUBLISH', 'caracal', 'x']],
  ];
  const cases = SERVICES.flatMap((s) => forbidden.map(([name, args]) => [s, name, args] as [Service, string, Array<string | number>]));

  test.each(cases)('GIVEN %s WHEN it sends %s THEN NOPERM', async (service, _name, args) => {
    const c = await redis.as(service);

    await expect(c.command(...args)).rejects.toThrow(refusal(args));
  });
});

describe('Redis ACL: healthcheck and ops users', () => {
  test('GIVEN the healthcheck user WHEN it sends PING and INFO THEN both answer', async () => {
    const h = await redis.as('healthcheck');

    expect(await h.command('PING')).toBe('PONG');
    expect(await h.command('INFO', 'persistence')).toMatch(/aof_enabled:1/);
  });

  test.each<[string, Array<string | number>]>([
    ['GET', ['GET', 'caracal:ratelimit:api:x']],
    ['XADD', ['XADD', 'caracal:stream:audit', '*', 'e', '1']],
    ['XREADGROUP', ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'caracal:stream:audit', '>']],
    ['XLEN', ['XLEN', 'caracal:stream:audit']],
    ['CONFIG GET', ['CONFIG', 'GET', '*']],
    ['CLIENT LIST', ['CLIENT', 'LIST']],
  ])('GIVEN the healthcheck user WHEN it sends %s THEN NOPERM', async (_name, args) => {
    const h = await redis.as('healthcheck');

    await expect(h.command(...args)).rejects.toThrow(/^NOPERM/);
  });

  test('GIVEN a stuck consumer group WHEN the ops user inspects and repairs it THEN XPENDING, XRANGE, XCLAIM, XGROUP SETID/DESTROY and SCAN work', async () => {
    const api = await redis.as('api');
    const gateway = await redis.as('gateway');
    const ops = await redis.as('ops');
    await gateway.command('XGROUP', 'CREATE', STREAM.revocation, 'gateway', '$', 'MKSTREAM');
    const id = (await api.command('XADD', STREAM.revocation, '*', 'session', 's1')) as string;
    await gateway.command('XREADGROUP', 'GROUP', 'gateway', 'dead-pod', 'STREAMS', STREAM.revocation, '>');

    const pending = (await ops.command('XPENDING', STREAM.revocation, 'gateway', '-', '+', 10)) as any[];
    const range = (await ops.command('XRANGE', STREAM.revocation, '-', '+')) as any[];
    const claimed = (await ops.command('XCLAIM', STREAM.revocation, 'gateway', 'live-pod', 0, id, 'JUSTID')) as any[];
    const keys = (await ops.command('SCAN', '0', 'MATCH', 'caracal:*')) as any[];
    await ops.command('XGROUP', 'SETID', STREAM.revocation, 'gateway', '$');
    const destroyed = await ops.command('XGROUP', 'DESTROY', STREAM.revocation, 'gateway');

    expect(pending[0][1]).toBe('dead-pod');
    expect(range.map((e: any[]) => e[0])).toEqual([id]);
    expect(claimed).toEqual([id]);
    expect(keys[1]).toContain(STREAM.revocation);
    expect(destroyed).toBe(1);
  });

  test.each<[string, Array<string | number>]>([
    ['FLUSHALL', ['FLUSHALL']],
    ['CONFIG SET', ['CONFIG', 'SET', 'appendonly', 'no']],
    ['KEYS', ['KEYS', '*']],
    ['DEBUG', ['DEBUG', 'SLEEP', '0']],
    ['ACL SETUSER', ['ACL', 'SETUSER', 'ops', '+@all']],
    ['SHUTDOWN', ['SHUTDOWN', 'NOSAVE']],
    ['EVAL', ['EVAL', 'return 1', 0]],
    ['MONITOR', ['MONITOR']],
    ['GET outside caracal', ['GET', 'other']],
  ])('GIVEN the ops user WHEN it sends %s THEN NOPERM', async (_name, args) => {
    const ops = await redis.as('ops');

    await expect(ops.command(...args)).rejects.toThrow(refusal(args));
  });
});

describe('Redis ACL: the exporter user (redis_exporter)', () => {
  test('GIVEN a stream with a group WHEN the exporter user sends what redis_exporter sends THEN PING, INFO, SELECT 0, CLIENT SETNAME and XINFO STREAM/GROUPS/CONSUMERS answer', async () => {
    const api = await redis.as('api');
    const gateway = await redis.as('gateway');
    await gateway.command('XGROUP', 'CREATE', STREAM.revocation, 'gateway', '$', 'MKSTREAM');
    await api.command('XADD', STREAM.revocation, '*', 'session', 's1');
    const exporter = await redis.as('exporter');

    const answers = [
      await exporter.command('PING'),
      await exporter.command('SELECT', 0),
      await exporter.command('CLIENT', 'SETNAME', 'redis_exporter'),
    ];
    const info = await exporter.command('INFO', 'memory');
    const stream = (await exporter.command('XINFO', 'STREAM', STREAM.revocation)) as any[];
    const groups = (await exporter.command('XINFO', 'GROUPS', STREAM.revocation)) as any[];
    const consumers = (await exporter.command('XINFO', 'CONSUMERS', STREAM.revocation, 'gateway')) as any[];

    expect(answers).toEqual(['PONG', 'OK', 'OK']);
    expect(info).toMatch(/maxmemory:/);
    expect(stream[stream.indexOf('length') + 1]).toBe(1);
    expect(groups[0]).toContain('gateway');
    expect(consumers).toEqual([]);
  });

  test.each<[string, Array<string | number>]>([
    ['XRANGE (an entry)', ['XRANGE', STREAM.revocation, '-', '+']],
    ['XREAD', ['XREAD', 'STREAMS', STREAM.revocation, '0']],
    ['XREADGROUP', ['XREADGROUP', 'GROUP', 'gateway', 'x', 'STREAMS', STREAM.revocation, '>']],
    ['XPENDING', ['XPENDING', STREAM.revocation, 'gateway']],
    ['XADD', ['XADD', STREAM.revocation, '*', 'forged', '1']],
    ['XGROUP DESTROY', ['XGROUP', 'DESTROY', STREAM.revocation, 'gateway']],
    ['XINFO on a rate-limit key', ['XINFO', 'STREAM', 'caracal:ratelimit:api:x']],
    ['GET a rate-limit counter', ['GET', 'caracal:ratelimit:api:x']],
    ['SCAN', ['SCAN', '0']],
    ['KEYS', ['KEYS', '*']],
    ['CONFIG GET', ['CONFIG', 'GET', 'maxmemory']],
    ['SLOWLOG GET', ['SLOWLOG', 'GET']],
    ['CLIENT LIST', ['CLIENT', 'LIST']],
    ['DEL', ['DEL', STREAM.revocation]],
    ['FLUSHALL', ['FLUSHALL']],
    ['EVAL', ['EVAL', 'return 1', 0]],
    ['SUBSCRIBE', ['SUBSCRIBE', 'caracal']],
  ])('GIVEN the exporter user WHEN it sends %s THEN NOPERM', async (_name, args) => {
    const exporter = await redis.as('exporter');

    await expect(exporter.command(...args)).rejects.toThrow(/^NOPERM/);
  });
});
