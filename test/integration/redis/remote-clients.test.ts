// Pods reach Redis over the pod network, not loopback: the synthesized redis.conf (bind * -::*,
// protected-mode yes, default user off) must serve authenticated clients on a non-loopback address
// and still refuse unauthenticated ones there.
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { RedisStreams } from '../../../constructs/redis-streams';
import { RedisConnection, RedisServer, startRedisServer } from '../../support/redis';
import { Json, resources, synthScope } from '../../support/synth';

/** The first non-loopback IPv4 address of this machine (a pod IP stands in for it). */
function externalAddress(): string {
  const found = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal);
  if (!found) throw new Error('this test needs a non-loopback IPv4 interface (the address other pods would use)');
  return found.address;
}

let server: RedisServer;
const password = randomBytes(24).toString('base64url');

beforeAll(async () => {
  const { json } = synthScope((s) => new RedisStreams(s, 'redis', { environment: 'dev', namespace: 'caracal-dev' }));
  const conf: string = Object.values(resources(json, 'kubernetes_config_map_v1')).find(
    (c: Json) => c.metadata.name === 'caracal-redis-config',
  )!.data['redis.conf'];
  const acl: string = Object.values(resources(json, 'kubernetes_secret_v1')).find((c: Json) => c.metadata.name === 'caracal-redis-acl')!
    .data['users.acl'];
  const hash = createHash('sha256').update(password).digest('hex');
  server = await startRedisServer(({ dataDir, aclfile }) => ({
    // The listen address and protected mode exactly as synthesized; only the container paths differ.
    conf: conf.replace(/^dir \/data$/m, `dir ${dataDir}`).replace(/^aclfile .*$/m, `aclfile ${aclfile}`),
    acl: acl.replace(/\$\{sha256\(random_password\.caracal_redis_password_\w+\.result\)\}/g, hash),
  }));
});

afterAll(async () => {
  await server?.destroy();
});

describe('Redis reached over a non-loopback address', () => {
  test('GIVEN protected mode on and the default user off WHEN a service authenticates from another address THEN it is served', async () => {
    const c = await RedisConnection.connect({ host: externalAddress(), port: server.port, auth: { user: 'gateway', password } });

    const reply = await c.command('PING');
    await c.close();

    expect(reply).toBe('PONG');
  });

  test('GIVEN the same address WHEN a client does not authenticate THEN it is refused with NOAUTH', async () => {
    const c = await RedisConnection.connect({ host: externalAddress(), port: server.port });

    await expect(c.command('PING')).rejects.toThrow(/^NOAUTH/);
    await c.close();
  });
});
