// Redis in the backup, on real redis-servers with Caracal's rendered redis.conf and ACL: the backup pod's copy step
// (redis-cli --rdb as the replicate-only backup user) while consumers hold pending entries, then a fresh
// redis-server started on the copy (laid out as the AOF's base file) has the same groups and pending entries.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REDIS_BACKUP_USER, REDIS_COPY_SCRIPT, REDIS_RESTORE_SCRIPT } from '../../../common/redis-backup';
import { REDIS_USERS, renderAclFile, renderRedisConf, STREAMS } from '../../../constructs/internal/redis-config';
import { RedisConnection, RedisServer, startRedisServer } from '../../support/redis';

const passwords: Record<string, string> = {};
for (const u of REDIS_USERS) passwords[u] = randomBytes(18).toString('base64url');
const sha = (p: string) => createHash('sha256').update(p).digest('hex');

/** Caracal's rendered config and ACL (its backup user: REPLCONF and SYNC only); `prepare` lays out the data dir before the server starts. */
function caracalRedis(prepare: (dataDir: string) => void = () => undefined): Promise<RedisServer> {
  return startRedisServer(({ dataDir, aclfile }) => {
    prepare(dataDir);
    const hashes = Object.fromEntries(REDIS_USERS.map((u) => [u, sha(passwords[u])]));
    return {
      conf: renderRedisConf({ maxmemoryBytes: 64 * 1024 * 1024, aclfile, dir: dataDir, bind: '127.0.0.1' }),
      acl: renderAclFile(hashes),
    };
  });
}

function bash(script: string, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

/** What the restore must bring back: per stream, its length, groups (last delivered id) and each group's pending entries. */
async function streamState(port: number): Promise<unknown> {
  const ops = await RedisConnection.connect({ host: '127.0.0.1', port, auth: { user: 'ops', password: passwords.ops } });
  try {
    const out: Record<string, unknown> = {};
    for (const key of Object.values(STREAMS)) {
      if ((await ops.command('EXISTS', key)) === 0) continue;
      const groups = (await ops.command('XINFO', 'GROUPS', key)) as string[][];
      const detail: Record<string, unknown> = {};
      for (const g of groups) {
        const name = String(g[g.indexOf('name') + 1]);
        detail[name] = {
          lastDelivered: g[g.indexOf('last-delivered-id') + 1],
          // id, consumer and delivery count of each pending entry (its idle time moves on)
          pending: ((await ops.command('XPENDING', key, name, '-', '+', 100)) as unknown[][]).map(([id, consumer, , deliveries]) => [
            id,
            consumer,
            deliveries,
          ]),
        };
      }
      out[key] = { length: await ops.command('XLEN', key), groups: detail };
    }
    return out;
  } finally {
    await ops.close();
  }
}

let live: RedisServer;
let copyDir: string;
let copy: { code: number; stderr: string };
let before: unknown;

beforeAll(async () => {
  live = await caracalRedis();
  const as = (u: string) => RedisConnection.connect({ host: '127.0.0.1', port: live.port, auth: { user: u, password: passwords[u] } });
  const [api, gateway, sts, audit] = await Promise.all([as('api'), as('gateway'), as('sts'), as('audit')]);
  for (let i = 0; i < 5; i++) {
    await api.command('XADD', STREAMS.revocation, '*', 'session', `s${i}`);
    await gateway.command('XADD', STREAMS.audit, '*', 'event', `e${i}`);
  }
  for (const [conn, stream, group] of [
    [sts, STREAMS.revocation, 'sts'],
    [gateway, STREAMS.revocation, 'gateway'],
    [audit, STREAMS.audit, 'audit'],
  ] as const) {
    await conn.command('XGROUP', 'CREATE', stream, group, '0');
    await conn.command('XREADGROUP', 'GROUP', group, `${group}-1`, 'COUNT', 3, 'STREAMS', stream, '>');
  }
  // The audit service acknowledged one of its three: two stay pending.
  const pending = (await audit.command('XPENDING', STREAMS.audit, 'audit', '-', '+', 10)) as string[][];
  await audit.command('XACK', STREAMS.audit, 'audit', pending[0][0]);
  await Promise.all([api, gateway, sts, audit].map((c) => c.close()));
  before = await streamState(live.port);
  copyDir = mkdtempSync(path.join(tmpdir(), 'caracal-redis-copy-'));
  const passwordFile = path.join(copyDir, 'password');
  writeFileSync(passwordFile, passwords[REDIS_BACKUP_USER], { mode: 0o600 });
  copy = await bash(REDIS_COPY_SCRIPT, {
    BACKUP_REDIS_DIR: path.join(copyDir, 'redis'),
    REDIS_HOST: '127.0.0.1',
    REDIS_PORT: String(live.port),
    REDIS_PASSWORD_FILE: passwordFile,
  });
}, 60_000);

afterAll(async () => {
  await live?.destroy();
});

describe('the Redis copy of the backup', () => {
  test('GIVEN consumers holding pending entries WHEN the copy step runs as the backup user THEN it writes dump.rdb and status ok, never the password', () => {
    expect(Object.keys(before as object)).toEqual([STREAMS.revocation, STREAMS.audit]);
    expect(copy.code).toBe(0);
    expect(readFileSync(path.join(copyDir, 'redis', 'status'), 'utf8').trim()).toBe('ok');
    expect(
      readFileSync(path.join(copyDir, 'redis', 'dump.rdb'))
        .subarray(0, 5)
        .toString(),
    ).toBe('REDIS');
    expect(copy.stderr).toMatch(/redis RDB copied \(\d+ bytes\)/);
    expect(Object.values(passwords).some((p) => copy.stderr.includes(p))).toBe(false);
  });

  test.each([
    ['XRANGE', STREAMS.audit, '-', '+'],
    ['GET', 'caracal:ratelimit:api:x'],
    ['CONFIG', 'GET', 'dir'],
    ['XADD', STREAMS.audit, '*', 'a', '1'],
  ])('GIVEN the backup user WHEN it sends %s THEN Redis refuses it (NOPERM)', async (...command) => {
    const backup = await RedisConnection.connect({
      host: '127.0.0.1',
      port: live.port,
      auth: { user: REDIS_BACKUP_USER, password: passwords[REDIS_BACKUP_USER] },
    });
    try {
      await expect(backup.command(...command)).rejects.toThrow(/NOPERM/);
    } finally {
      await backup.close();
    }
  });

  test('GIVEN a wrong password WHEN the copy step runs THEN it records failed and still exits 0 (the Postgres backup goes on)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'caracal-redis-copy-'));
    writeFileSync(path.join(dir, 'password'), 'wrong');
    const r = await bash(REDIS_COPY_SCRIPT, {
      BACKUP_REDIS_DIR: path.join(dir, 'redis'),
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(live.port),
      REDIS_PASSWORD_FILE: path.join(dir, 'password'),
    });
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(dir, 'redis', 'status'), 'utf8').trim()).toBe('failed');
    expect(existsSync(path.join(dir, 'redis', 'dump.rdb'))).toBe(false);
  });

  test('GIVEN the copy WHEN a fresh redis-server starts on it with the same config THEN the streams, consumer groups and pending entries are back, and stay after a restart', async () => {
    const rdb = path.join(mkdtempSync(path.join(tmpdir(), 'caracal-redis-restore-')), 'dump.rdb');
    cpSync(path.join(copyDir, 'redis', 'dump.rdb'), rdb);
    const restored = await caracalRedis((dataDir) =>
      execFileSync('bash', ['-c', REDIS_RESTORE_SCRIPT], { env: { PATH: process.env.PATH, RDB: rdb, DATA_DIR: dataDir } }),
    );
    try {
      expect(existsSync(path.join(restored.dataDir, 'appendonlydir', 'appendonly.aof.1.base.rdb'))).toBe(true);
      expect(await streamState(restored.port)).toEqual(before);
      await restored.restart();
      expect(await streamState(restored.port)).toEqual(before);
    } finally {
      await restored.destroy();
    }
  });

  test('GIVEN the runbook WHEN its Redis restore step is read THEN it runs exactly the script this test restores with', () => {
    const runbook = readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'operations.md'), 'utf8');
    const step = /<<'SH'\n([\s\S]*?)\nSH\n/.exec(runbook);
    expect(step?.[1]).toBe(REDIS_RESTORE_SCRIPT.trimEnd());
  });

  test('GIVEN only dump.rdb in the data directory WHEN Redis starts with the AOF config THEN it starts empty, which is why the restore lays the copy out as the AOF base', async () => {
    const restored = await caracalRedis((dataDir) => cpSync(path.join(copyDir, 'redis', 'dump.rdb'), path.join(dataDir, 'dump.rdb')));
    try {
      expect(await streamState(restored.port)).toEqual({});
    } finally {
      await restored.destroy();
    }
  });
});
