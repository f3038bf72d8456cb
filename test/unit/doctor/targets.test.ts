// What doctor reads before it connects: the runner's environment (the password file and TLS files judged, not
// thrown), the services' pool settings and their Redis settings; every bad value named with where it came from.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPoolLimits, resolvePostgresTarget, resolveRedisTarget, SettingsError } from '../../../src/doctor';

const dir = mkdtempSync(path.join(os.tmpdir(), 'caracal-doctor-targets-'));
function configMap(name: string, data: Record<string, string>): string {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  for (const [k, v] of Object.entries(data)) writeFileSync(path.join(d, k), v);
  return d;
}
const passwordFile = path.join(dir, 'pw');
writeFileSync(passwordFile, 'secret-value\n');

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof SettingsError) return e.problems;
    throw e;
  }
  throw new Error('expected a SettingsError');
}

describe('doctor pool settings', () => {
  test('GIVEN a mounted database ConfigMap, a flag and the environment WHEN read THEN each application gets its DB_POOL_MAX and where it came from', () => {
    const api = configMap('api-db', { DB_POOL_MAX: '12\n', PGAPPNAME: 'caracal-api', PGHOST: 'db' });
    expect(readPoolLimits({ configDirs: [api], pairs: [['sts', '4']], env: { DB_POOL_MAX: '6', PGAPPNAME: 'caracal-gateway' } })).toEqual([
      { applicationName: 'caracal-api', poolMax: 12, source: `--pool-config ${api}` },
      { applicationName: 'caracal-gateway', poolMax: 6, source: 'DB_POOL_MAX (environment)' },
      { applicationName: 'caracal-sts', poolMax: 4, source: '--pool-max sts=4' },
    ]);
  });

  test.each([
    ['DB_POOL_MAX without PGAPPNAME', { env: { DB_POOL_MAX: '5' } }, /DB_POOL_MAX is set but PGAPPNAME is not/],
    [
      'DB_POOL_MAX 0',
      { env: { DB_POOL_MAX: '0', PGAPPNAME: 'caracal-api' } },
      /DB_POOL_MAX="0" is not valid: expected a whole number from 1 to 200/,
    ],
    ['--pool-max 201', { pairs: [['api', '201']] }, /--pool-max api="201" is not valid/],
    ['--pool-max ten', { pairs: [['api', 'ten']] }, /--pool-max api="ten" is not valid/],
    [
      'an unknown service',
      { pairs: [['web', '3']] },
      /"web" is not a Caracal service: expected one of api, coordinator, audit, sts, gateway/,
    ],
    [
      'a ConfigMap without DB_POOL_MAX',
      { configDirs: [configMap('no-max', { PGAPPNAME: 'caracal-api' })] },
      /no-max\/DB_POOL_MAX cannot be read \(ENOENT\)/,
    ],
    ['a directory that does not exist', { configDirs: [path.join(dir, 'absent')] }, /absent\/PGAPPNAME cannot be read \(ENOENT\)/],
  ] as const)('GIVEN %s WHEN pool settings are read THEN the problem names the source and what is accepted', (_what, inputs, message) => {
    expect(problemsOf(() => readPoolLimits(inputs as never)).join('\n')).toMatch(message);
  });

  test('GIVEN three bad pool settings WHEN read THEN all three are reported at once', () => {
    expect(
      problemsOf(() =>
        readPoolLimits({
          pairs: [
            ['api', '0'],
            ['web', '1'],
          ],
          env: { DB_POOL_MAX: 'x', PGAPPNAME: 'a' },
        }),
      ),
    ).toHaveLength(3);
  });
});

describe('doctor Redis settings', () => {
  test('GIVEN a mounted service Redis ConfigMap and a password file flag WHEN read THEN the endpoint comes from the ConfigMap and the flag wins for its user', () => {
    const cm = configMap('api-redis', {
      REDIS_HOST: 'redis.caracal-dev.svc.cluster.local',
      REDIS_PORT: '6379',
      REDIS_USERNAME: 'api',
      REDIS_PASSWORD_FILE: '/var/run/secrets/caracal/redis/password',
    });
    expect(resolveRedisTarget({ configDirs: [cm], passwordFiles: [['ops', passwordFile]] })).toEqual({
      host: 'redis.caracal-dev.svc.cluster.local',
      port: 6379,
      users: [
        { user: 'api', passwordFile: '/var/run/secrets/caracal/redis/password', source: `--redis-config ${cm}` },
        { user: 'ops', passwordFile, source: `--redis-password-file ops=${passwordFile}` },
      ],
    });
  });

  test('GIVEN no Redis setting WHEN read THEN there is no Redis target (its checks are not checked)', () => {
    expect(resolveRedisTarget({ env: {} })).toBeUndefined();
  });

  test.each([
    ['REDIS_PORT=0', { env: { REDIS_HOST: 'redis', REDIS_PORT: '0' } }, /REDIS_PORT="0" is not valid: expected a port from 1 to 65535/],
    ['REDIS_HOST with a space', { env: { REDIS_HOST: 'redis one' } }, /REDIS_HOST="redis one" is not valid/],
    [
      'an unknown ACL user',
      { env: { REDIS_HOST: 'redis' }, passwordFiles: [['root', passwordFile]] },
      /Redis user "root" is not one of the ACL users/,
    ],
    ['users but no host', { passwordFiles: [['ops', passwordFile]] }, /no REDIS_HOST \(or --redis-config\) says where Redis is/],
    [
      'REDIS_USERNAME without REDIS_PASSWORD_FILE',
      { env: { REDIS_HOST: 'redis', REDIS_USERNAME: 'api' } },
      /REDIS_USERNAME api has no REDIS_PASSWORD_FILE/,
    ],
    [
      'two ConfigMaps naming different hosts',
      {
        configDirs: [
          configMap('a', { REDIS_HOST: 'redis-a', REDIS_PORT: '6379' }),
          configMap('b', { REDIS_HOST: 'redis-b', REDIS_PORT: '6379' }),
        ],
      },
      /REDIS_HOST "redis-b" differs from "redis-a": one Redis at a time/,
    ],
  ] as const)('GIVEN %s WHEN Redis settings are read THEN the problem names the setting', (_what, inputs, message) => {
    expect(problemsOf(() => resolveRedisTarget(inputs as never)).join('\n')).toMatch(message);
  });
});

describe('doctor Postgres target', () => {
  const base = { HOME: dir, PGHOST: 'db.example', PGUSER: 'caracal_prod_owner', PGSSLMODE: 'disable' };

  test('GIVEN PGPASSWORD_FILE names a readable file WHEN resolved THEN the password file is ok and the doctor has its own application_name', () => {
    const t = resolvePostgresTarget({ ...base, PGPASSWORD_FILE: passwordFile });
    expect(t.secret).toMatchObject({ status: 'ok', summary: `${passwordFile} (PGPASSWORD_FILE) is readable and not empty` });
    expect(t.settings?.applicationName).toBe('caracal-doctor');
    expect(t.settings?.password).toBe('secret-value');
    expect(JSON.stringify(t)).not.toContain('secret-value');
  });

  test('GIVEN PGPASSWORD_FILE names a missing file WHEN resolved THEN it is a finding and host, port and TLS can still be checked', () => {
    const t = resolvePostgresTarget({ ...base, PGPASSWORD_FILE: path.join(dir, 'absent') });
    expect(t.secret.status).toBe('finding');
    expect(t.secret.summary).toMatch(/absent \(PGPASSWORD_FILE\) does not exist/);
    expect(t.hasPassword).toBe(false);
    expect(t.settings?.host).toBe('db.example');
  });

  test('GIVEN PGSSLROOTCERT names a missing file under verify-full WHEN resolved THEN TLS is a finding found before connecting', () => {
    const t = resolvePostgresTarget({
      ...base,
      PGPASSWORD_FILE: passwordFile,
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: path.join(dir, 'no-ca.crt'),
    });
    expect(t.tlsConfig?.status).toBe('finding');
    expect(t.tlsConfig?.summary).toMatch(/PGSSLROOTCERT=.*no-ca\.crt: the root certificate cannot be read \(ENOENT\)/);
    expect(t.settings?.host).toBe('db.example');
  });

  test('GIVEN PGPORT is not a port WHEN resolved THEN it is a configuration error naming PGPORT', () => {
    expect(() => resolvePostgresTarget({ ...base, PGPASSWORD_FILE: passwordFile, PGPORT: 'fivefourthreetwo' })).toThrow(
      /PGPORT="fivefourthreetwo" is not valid: expected a whole number from 1 to 65535/,
    );
  });
});
