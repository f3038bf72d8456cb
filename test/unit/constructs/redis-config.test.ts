// redis.conf and ACL rendering as pure functions (their effect on a real server: test/integration/redis).
import {
  aclRules,
  defaultMaxmemory,
  renderAclFile,
  renderRedisConf,
  REDIS_USERS,
  STREAM_ACCESS,
} from '../../../constructs/internal/redis-config';

const HASH = 'a'.repeat(64);

describe('Redis config rendering', () => {
  test('GIVEN a 1Gi container limit WHEN the default maxmemory is derived THEN it is half, in whole MiB', () => {
    expect(defaultMaxmemory(1024 ** 3)).toBe(512 * 1024 ** 2);
    expect(defaultMaxmemory(1000 * 1000 * 1000)).toBe(476 * 1024 ** 2);
  });

  test('GIVEN options WHEN redis.conf is rendered THEN AOF everysec, noeviction, the aclfile, dir and maxmemory are set', () => {
    const conf = renderRedisConf({ maxmemoryBytes: 268435456, aclfile: '/etc/redis/acl/users.acl', dir: '/data' });

    for (const line of [
      'appendonly yes',
      'appendfsync everysec',
      'maxmemory 268435456',
      'maxmemory-policy noeviction',
      'aclfile /etc/redis/acl/users.acl',
      'dir /data',
      'protected-mode yes',
      'bind * -::*',
    ]) {
      expect(conf.split('\n')).toContain(line);
    }
  });

  test('GIVEN hashes for some users WHEN the ACL file is rendered THEN the default user is off without password and only users with a hash exist', () => {
    const acl = renderAclFile({ api: HASH, healthcheck: HASH });
    const lines = acl.trim().split('\n');

    expect(lines[0]).toBe('user default off resetpass ~* &* +@all');
    expect(lines.slice(1).map((l) => l.split(' ')[1])).toEqual(['api', 'healthcheck']);
    expect(lines[1]).toContain(`on resetpass #${HASH} `);
    expect(acl).not.toMatch(/nopass|^#/m);
  });

  test('GIVEN every user WHEN its rules are rendered THEN none grants scripting, KEYS, FLUSH*, CONFIG, DEBUG or channels', () => {
    for (const user of REDIS_USERS) {
      const rules = aclRules(user);

      expect(rules).toMatch(/-@all/);
      expect(rules).toMatch(/resetchannels/);
      expect(rules).not.toMatch(/\+(eval|evalsha|script|function|keys|flushall|flushdb|config|debug|@all|@admin|@scripting|@dangerous)\b/);
    }
  });

  test('GIVEN the stream matrix WHEN read THEN every stream has a producer and a consumer, and only the audit service trims the audit stream', () => {
    for (const access of Object.values(STREAM_ACCESS)) {
      expect(access.producers.length).toBeGreaterThan(0);
      expect(access.consumers.length).toBeGreaterThan(0);
    }
    expect(STREAM_ACCESS.audit.trimmers).toEqual(['audit']);
  });
});
