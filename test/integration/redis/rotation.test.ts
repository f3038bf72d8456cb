// A Redis password rotation without a restart and without WRONGPASS, on a real redis-server: the ACL file and the
// users' Secrets of three synthesized phases of RedisStreams (a new password beside the old one, the Secrets
// switched, the old one retired), applied live by the StatefulSet's own acl-reloader sidecar (its exact command and
// env, run with sh) while a producer and two consumer groups keep XADD / XREADGROUP / XACK running, and "pods"
// reconnect with whatever their mounted password file holds at that moment. The peer in the same run: a plain-token
// rotation (the old password replaced at once) gives those reconnecting pods WRONGPASS until their Secret switches.
import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AlternatingRotation } from '../../../common/rotation';
import { RedisPasswords, RedisStreams } from '../../../constructs/redis-streams';
import { SERVICES } from '../../../common/names';
import { RedisConnection, RedisServer, startRedisServer } from '../../support/redis';
import { parseInfo, replyFields } from '../../../src/redis/resp';
import { Json, byName, only, synthScope } from '../../support/synth';
import { until as pollUntil } from '../../support/until';

const STREAM = 'caracal:stream:revocation';
const ROTATION_PHASES: ReadonlyArray<AlternatingRotation | undefined> = [
  undefined,
  { b: '1' },
  { b: '1', active: 'b' },
  { b: '1', active: 'b', retireInactive: true },
];

/** Random passwords by Terraform address suffix (`api`, `api_b`, `reloader`): what random_password would hold. */
const generated: Record<string, string> = {};
const valueOf = (id: string) => (generated[id] ??= randomBytes(24).toString('base64url'));

function synthPhase(rotation: string | AlternatingRotation | undefined): Json {
  return synthScope(
    (s) =>
      new RedisStreams(s, 'redis', {
        environment: 'dev',
        namespace: 'caracal-dev',
        resources: { limits: { memory: '256Mi' } },
        passwords: RedisPasswords.generated({ rotation: Object.fromEntries(SERVICES.map((svc) => [svc, rotation ?? '0'])) }),
      }),
  ).json;
}

/** The ACL Secret's file with Terraform's sha256(random_password...) evaluated. */
function aclFile(json: Json): string {
  return byName(json, 'kubernetes_secret_v1', 'caracal-redis-acl').data['users.acl'].replace(
    /\$\{sha256\(random_password\.caracal_redis_password_(\w+)\.result\)\}/g,
    (_m: string, id: string) => createHash('sha256').update(valueOf(id)).digest('hex'),
  );
}

/** The password a user's Secret holds in this phase (its random_password reference, resolved). */
function secretPassword(json: Json, user: string): string {
  const ref: string = byName(json, 'kubernetes_secret_v1', `caracal-redis-${user}`).data.password;
  const m = /^\$\{random_password\.caracal_redis_password_(\w+)\.result\}$/.exec(ref);
  if (!m) throw new Error(`unexpected password reference ${ref}`);
  return valueOf(m[1]);
}

let phases: Json[];
let server: RedisServer;
let reloader: ChildProcess;
let reloaderLog = '';
const passwordFile = (user: string) => path.join(server.dir, `secret-${user}`);

/** Writes a file the way the kubelet updates a Secret volume: a complete new file swapped in at once. */
function swapIn(file: string, text: string): void {
  writeFileSync(`${file}.new`, text, { mode: 0o600 });
  renameSync(`${file}.new`, file);
}

beforeAll(async () => {
  phases = ROTATION_PHASES.map(synthPhase);
  const conf: string = byName(phases[0], 'kubernetes_config_map_v1', 'caracal-redis-config').data['redis.conf'];
  server = await startRedisServer(({ dataDir, aclfile }) => ({
    conf: `${conf.replace(/^dir \/data$/m, `dir ${dataDir}`).replace(/^aclfile .*$/m, `aclfile ${aclfile}`)}\nbind 127.0.0.1\n`,
    acl: aclFile(phases[0]),
  }));
  for (const user of [...SERVICES, 'ops', 'reloader']) writeFileSync(passwordFile(user), secretPassword(phases[0], user), { mode: 0o600 });
  // The sidecar exactly as synthesized; only the mounted paths, the port and the polling interval are local.
  const sidecar = only(phases[0], 'kubernetes_stateful_set_v1').spec.template.spec.container.find((c: Json) => c.name === 'acl-reloader');
  const env: Record<string, string> = Object.fromEntries(sidecar.env.map((e: Json) => [e.name, e.value]));
  reloader = spawn(sidecar.command[0], sidecar.command.slice(1), {
    env: {
      ...env,
      PATH: process.env.PATH,
      ACL_FILE: path.join(server.dir, 'users.acl'),
      RELOADER_PASSWORD_FILE: passwordFile('reloader'),
      REDIS_PORT: String(server.port),
      RELOAD_INTERVAL: '0.2',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  reloader.stdout!.on('data', (d) => (reloaderLog += String(d)));
  reloader.stderr!.on('data', (d) => (reloaderLog += String(d)));
});

afterAll(async () => {
  if (reloader && reloader.exitCode === null) {
    const exited = new Promise((resolve) => reloader.once('exit', resolve));
    reloader.kill('SIGTERM');
    await exited;
  }
  await server?.destroy();
});

const connectAs = async (user: string, password = secretPassword(phases[0], user)) =>
  RedisConnection.connect({ host: '127.0.0.1', port: server.port, auth: { user, password }, timeoutMs: 5000 });

async function authenticates(user: string, password: string): Promise<boolean> {
  try {
    await (await connectAs(user, password)).close();
    return true;
  } catch (e) {
    if (/^WRONGPASS/.test((e as Error).message)) return false;
    throw e;
  }
}

/** The shared poll, with the reloader's log in its error (a stuck rotation is most often the reloader's). */
const until = (what: string, check: () => Promise<boolean>, limitMs = 20_000): Promise<boolean> =>
  pollUntil(check, what, limitMs).catch((e: Error) => {
    throw new Error(`${e.message}; reloader log:\n${reloaderLog}`);
  });

/**
 * A service pod: one connection that runs `step` in a loop and, every `rollEvery` steps, is replaced by a new one
 * opened with the password file's content at that moment (a pod replaced by the rollout, or a reconnect).
 */
function pod(user: string, rollEvery: number, step: (c: RedisConnection) => Promise<void>) {
  const stats = { ops: 0, errors: [] as string[], connectedWith: new Set<string>() };
  let stop = false;
  const connect = async () => {
    const password = readFileSync(passwordFile(user), 'utf8');
    stats.connectedWith.add(password);
    return connectAs(user, password);
  };
  const done = (async () => {
    let conn = await connect();
    while (!stop) {
      try {
        await step(conn);
        stats.ops += 1;
        if (stats.ops % rollEvery === 0) {
          const next = await connect();
          await conn.close();
          conn = next;
        }
      } catch (e) {
        stats.errors.push((e as Error).message);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await conn.close();
  })();
  return {
    stats,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

describe('RedisStreams password rotation on a real redis-server', () => {
  test('GIVEN producers and consumer groups at work WHEN every service password rotates through the three phases THEN there is no error, no restart, the groups and pending entries are untouched and the old passwords stop working', async () => {
    const ops = await connectAs('ops');
    const runId = () => ops.command('INFO', 'server').then((t) => parseInfo(String(t)).run_id);
    const before = await runId();
    const api = await connectAs('api');
    const sts = await connectAs('sts');
    for (const group of ['sts', 'gateway']) await (await connectAs(group)).command('XGROUP', 'CREATE', STREAM, group, '0', 'MKSTREAM');
    for (let i = 0; i < 20; i++) await api.command('XADD', STREAM, '*', 'n', i);
    // A consumer of the sts group that read 10 entries and died before XACK: its pending entries must survive.
    await sts.command('XREADGROUP', 'GROUP', 'sts', 'crashed-pod', 'COUNT', 10, 'STREAMS', STREAM, '>');
    // Entry id, consumer and delivery count (the idle time grows by itself).
    const pending = async () =>
      ((await ops.command('XPENDING', STREAM, 'sts', '-', '+', 100, 'crashed-pod')) as Array<[string, string, number, number]>).map(
        ([id, owner, , deliveries]) => [id, owner, deliveries],
      );
    const pendingBefore = await pending();
    expect(pendingBefore).toHaveLength(10);

    const consumer = (group: string) => async (c: RedisConnection) => {
      const reply = (await c.command('XREADGROUP', 'GROUP', group, 'live', 'COUNT', 5, 'BLOCK', 10, 'STREAMS', STREAM, '>')) as Array<
        [string, Array<[string, string[]]>]
      > | null;
      const ids = (reply?.[0]?.[1] ?? []).map(([id]) => id);
      if (ids.length) await c.command('XACK', STREAM, group, ...ids);
    };
    const pods = [
      pod('api', 40, async (c) => void (await c.command('XADD', STREAM, 'MAXLEN', '~', 100000, '*', 'n', 'x'))),
      pod('coordinator', 40, async (c) => void (await c.command('XADD', STREAM, '*', 'n', 'y'))),
      pod('sts', 15, consumer('sts')),
      pod('gateway', 15, consumer('gateway')),
    ];
    const started = Date.now();
    const work = () => Math.min(...pods.map((p) => p.stats.ops));
    await until('every pod did some work', async () => work() >= 20);

    // Phase 1: both passwords are valid; the Secrets still hold the old one.
    swapIn(path.join(server.dir, 'users.acl'), aclFile(phases[1]));
    for (const s of SERVICES) expect(secretPassword(phases[1], s)).toBe(secretPassword(phases[0], s));
    await until('the new passwords authenticate', async () =>
      (await Promise.all(SERVICES.map((s) => authenticates(s, secretPassword(phases[2], s))))).every(Boolean),
    );
    expect(await Promise.all(SERVICES.map((s) => authenticates(s, secretPassword(phases[0], s))))).toEqual(SERVICES.map(() => true));

    // Phase 2: the Secrets switch to the new passwords; every pod rolls onto them.
    for (const s of SERVICES) swapIn(passwordFile(s), secretPassword(phases[2], s));
    await until('every pod reconnected with the new password', async () =>
      pods.every((p, i) => p.stats.connectedWith.has(secretPassword(phases[2], ['api', 'coordinator', 'sts', 'gateway'][i]))),
    );
    const rolledAt = pods.map((p) => p.stats.ops);
    await until('every pod worked on after rolling', async () => pods.every((p, i) => p.stats.ops >= rolledAt[i] + 40));

    // Phase 3: the old passwords are retired.
    swapIn(path.join(server.dir, 'users.acl'), aclFile(phases[3]));
    await until('the old passwords are refused', async () =>
      (await Promise.all(SERVICES.map((s) => authenticates(s, secretPassword(phases[0], s))))).every((ok) => !ok),
    );
    const retiredAt = pods.map((p) => p.stats.ops);
    await until('every pod worked on after the retirement', async () => pods.every((p, i) => p.stats.ops >= retiredAt[i] + 40));
    await Promise.all(pods.map((p) => p.stop()));
    const elapsed = Date.now() - started;

    expect(pods.map((p) => p.stats.errors)).toEqual([[], [], [], []]);
    expect(await runId()).toBe(before);
    expect(await pending()).toEqual(pendingBefore);
    const groups = ((await ops.command('XINFO', 'GROUPS', STREAM)) as unknown[]).map((g) => replyFields(g as never));
    expect(groups.map((g) => [g.name, g.pending])).toEqual([
      ['gateway', 0],
      ['sts', 10],
    ]);
    expect(await Promise.all(SERVICES.map((s) => authenticates(s, secretPassword(phases[3], s))))).toEqual(SERVICES.map(() => true));
    // The reloader logs counts, never a password or a hash of one.
    const secrets = Object.values(generated).flatMap((p) => [p, createHash('sha256').update(p).digest('hex')]);
    expect(secrets.filter((s) => reloaderLog.includes(s))).toEqual([]);
    expect(reloaderLog).toMatch(/applied the passwords of 8 users/);
    console.log(
      `rotation under load: ${pods.map((p) => p.stats.ops).join('/')} ops (api/coordinator/sts/gateway), 0 errors, ${elapsed} ms`,
    );
    for (const c of [ops, api, sts]) await c.close();
  });

  test('GIVEN the same pods WHEN the passwords are replaced with a plain token instead (the peer: the old password stops at once) THEN pods reconnecting before their Secret switched get WRONGPASS', async () => {
    // Continues from the rotation above: the pods hold slot b. A plain token replaces slot a and is active at once,
    // so b leaves the ACL file with no overlap; the Secrets switch 300 ms later (the kubelet's refresh lag, shortened).
    const plain = synthPhase('2');
    // The bumped keeper replaces slot a's random_password: a new value at the same address.
    for (const s of SERVICES) delete generated[s];
    const pods = SERVICES.filter((s) => s !== 'audit').map((s) => pod(s, 10, async (c) => void (await c.command('PING'))));
    await until('every pod did some work', async () => pods.every((p) => p.stats.ops >= 20));
    swapIn(path.join(server.dir, 'users.acl'), aclFile(plain));
    await until('the replaced passwords are refused', async () => !(await authenticates('api', secretPassword(phases[3], 'api'))));
    await new Promise((r) => setTimeout(r, 300));
    for (const s of SERVICES) swapIn(passwordFile(s), secretPassword(plain, s));
    const switchedAt = pods.map((p) => p.stats.ops);
    await until('every pod worked on after the switch', async () => pods.every((p, i) => p.stats.ops >= switchedAt[i] + 20));
    await Promise.all(pods.map((p) => p.stop()));

    const wrongpass = pods.flatMap((p) => p.stats.errors).filter((e) => /^WRONGPASS/.test(e)).length;
    expect(wrongpass).toBeGreaterThan(0);
    console.log(
      `plain-token rotation (peer) in the same run: ${wrongpass} WRONGPASS errors in a 300 ms Secret lag, against 0 for the alternating rotation`,
    );
  });
});
