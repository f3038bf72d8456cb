// What RedisStreams synthesizes, run on a real redis-server: the ConfigMap's redis.conf and the Secret's
// ACL file (with Terraform's sha256() of each password evaluated as Terraform would), and the exact
// probe commands of the StatefulSet, run with sh as the kubelet would run them.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RedisStreams } from '../../../constructs/redis-streams';
import { RedisConnection, RedisServer, startRedisServer } from '../../support/redis';
import { Json, only, resources, synthScope } from '../../support/synth';

let json: Json;
let server: RedisServer;
const passwords: Record<string, string> = {};

beforeAll(async () => {
  ({ json } = synthScope(
    (s) => new RedisStreams(s, 'redis', { environment: 'dev', namespace: 'caracal-dev', resources: { limits: { memory: '256Mi' } } }),
  ));
  const conf: string = Object.values(resources(json, 'kubernetes_config_map_v1')).find(
    (c: Json) => c.metadata.name === 'caracal-redis-config',
  )!.data['redis.conf'];
  const acl: string = Object.values(resources(json, 'kubernetes_secret_v1')).find((c: Json) => c.metadata.name === 'caracal-redis-acl')!
    .data['users.acl'];
  server = await startRedisServer(({ dataDir, aclfile }) => ({
    // Only the container paths and the listen address differ from the ConfigMap.
    conf: `${conf.replace(/^dir \/data$/m, `dir ${dataDir}`).replace(/^aclfile .*$/m, `aclfile ${aclfile}`)}\nbind 127.0.0.1\n`,
    acl: acl.replace(/\$\{sha256\(random_password\.caracal_redis_password_(\w+)\.result\)\}/g, (_m, user: string) => {
      passwords[user] = randomBytes(24).toString('base64url');
      return createHash('sha256').update(passwords[user]).digest('hex');
    }),
  }));
});

afterAll(async () => {
  await server?.destroy();
});

const probes = () => {
  const c = only(json, 'kubernetes_stateful_set_v1').spec.template.spec.container[0];
  return {
    startup: c.startup_probe.exec.command,
    liveness: c.liveness_probe.exec.command,
    readiness: c.readiness_probe.exec.command,
  } as Record<string, string[]>;
};

/** Runs a probe command with the container's env, the password file laid out in a temp dir. */
function runProbe(command: string[], password: string, port = server.port): number {
  const file = path.join(server.dir, `probe-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, password, { mode: 0o400 });
  const result = spawnSync(command[0], command.slice(1), {
    env: { PATH: process.env.PATH, REDIS_PORT: String(port), REDIS_PROBE_PASSWORD_FILE: file },
    encoding: 'utf8',
  });
  return result.status ?? -1;
}

describe('RedisStreams output on a real redis-server', () => {
  test('GIVEN the synthesized redis.conf and ACL file WHEN redis-server starts with them THEN every generated user can authenticate and the config is in force', async () => {
    const whoami: string[] = [];
    for (const [user, password] of Object.entries(passwords)) {
      if (user === 'reloader') continue; // ACL SETUSER only (test/integration/redis/rotation.test.ts)
      const c = await RedisConnection.connect({ host: '127.0.0.1', port: server.port, auth: { user, password } });
      whoami.push(((await c.command('PING')) as string) === 'PONG' ? user : `${user}: no PONG`);
      await c.close();
    }
    const health = await RedisConnection.connect({
      host: '127.0.0.1',
      port: server.port,
      auth: { user: 'healthcheck', password: passwords.healthcheck },
    });
    const memory = (await health.command('INFO', 'memory')) as string;
    await health.close();

    expect(whoami.sort()).toEqual(['api', 'audit', 'coordinator', 'exporter', 'gateway', 'healthcheck', 'ops', 'sts']);
    const reloader = await RedisConnection.connect({
      host: '127.0.0.1',
      port: server.port,
      auth: { user: 'reloader', password: passwords.reloader },
    });
    await expect(reloader.command('PING')).rejects.toThrow(/^NOPERM/);
    await expect(reloader.command('ACL', 'LIST')).rejects.toThrow(/^NOPERM/);
    await expect(reloader.command('XADD', 'caracal:stream:audit', '*', 'e', '1')).rejects.toThrow(/^NOPERM/);
    await reloader.close();
    expect(memory).toMatch(/^maxmemory:134217728\r?$/m);
    expect(memory).toMatch(/^maxmemory_policy:noeviction\r?$/m);
  });

  test.each(['startup', 'liveness', 'readiness'])(
    'GIVEN the healthcheck password file WHEN the exact %s probe command runs THEN it succeeds',
    (probe) => {
      expect(runProbe(probes()[probe], passwords.healthcheck)).toBe(0);
    },
  );

  test.each(['startup', 'liveness', 'readiness'])('GIVEN a wrong password in the file WHEN the %s probe runs THEN it fails', (probe) => {
    expect(runProbe(probes()[probe], 'wrong-password')).not.toBe(0);
  });

  test("GIVEN another user's password (not the healthcheck user) WHEN the readiness probe runs THEN it fails", () => {
    expect(runProbe(probes().readiness, passwords.api)).not.toBe(0);
  });

  test('GIVEN no server on the port WHEN the liveness probe runs THEN it fails', async () => {
    const { freePort } = await import('../../support/redis');

    expect(runProbe(probes().liveness, passwords.healthcheck, await freePort())).not.toBe(0);
  });
});
