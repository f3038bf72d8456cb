// resolveConnection: the seed's environment contract, precedence, validation and libpq's sslmode semantics.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, resolveConnection } from '../../../src/migrate';
import { tempDir } from '../../fixtures/migrate/cli';

function secretsHome(password = 's3cret-pw') {
  const home = tempDir();
  mkdirSync(path.join(home, '.local/share/caracal/secrets'), { recursive: true });
  writeFileSync(path.join(home, '.local/share/caracal/secrets/postgresPassword'), `${password}\n`);
  return home;
}

describe('resolveConnection', () => {
  test('GIVEN no settings WHEN resolved THEN the seed defaults apply and the password is read from the default file, trimming one newline', () => {
    const home = secretsHome();
    const s = resolveConnection({ HOME: home });
    expect({ host: s.host, port: s.port, user: s.user, database: s.database, sslMode: s.sslMode, app: s.applicationName }).toEqual({
      host: 'localhost',
      port: 5432,
      user: 'caracal',
      database: 'caracal',
      sslMode: 'prefer',
      app: 'caracal-migrate',
    });
    expect(s.password).toBe('s3cret-pw');
    expect(s.passwordSource).toContain(path.join(home, '.local/share/caracal/secrets/postgresPassword'));
  });

  test('GIVEN a resolved connection WHEN it is turned into JSON or inspected THEN the password never shows', () => {
    const s = resolveConnection({ HOME: secretsHome('hidden-pw-9') });
    expect(JSON.stringify(s)).not.toContain('hidden-pw-9');
    expect(inspect(s, { depth: 5 })).not.toContain('hidden-pw-9');
  });

  test('GIVEN DATABASE_URL, PG* variables, PGPASSWORD and a password file WHEN resolved THEN URL parts win over PG*, and PGPASSWORD over the file', () => {
    const s = resolveConnection({
      HOME: secretsHome(),
      PGHOST: 'envhost',
      PGUSER: 'envuser',
      PGPASSWORD: 'env-pw',
      DATABASE_URL: 'postgres://urluser@urlhost:6543/urldb?sslmode=disable',
    });
    expect([s.host, s.port, s.user, s.database, s.sslMode, s.password, s.passwordSource]).toEqual([
      'urlhost',
      6543,
      'urluser',
      'urldb',
      'disable',
      'env-pw',
      'PGPASSWORD',
    ]);
  });

  test.each([
    [{ PGPORT: '0' }, /PGPORT="0" is not valid/],
    [{ PGPORT: '5432x' }, /PGPORT="5432x"/],
    [{ PGSSLMODE: 'VERIFY-FULL' }, /PGSSLMODE="VERIFY-FULL" is not valid: expected one of/],
    [{ PGUSER: 'x'.repeat(64) }, /PGUSER=.* is not valid: expected a Postgres name of at most 63 bytes/],
    [{ PGDATABASE: 'a\nb' }, /PGDATABASE=.* is not valid/],
    [{ PGPASSWORD_FILE: '/nonexistent/pw' }, /password file \/nonexistent\/pw \(PGPASSWORD_FILE\) does not exist/],
    [{ PGSSLMODE: 'verify-ca' }, /PGSSLMODE=verify-ca needs a root certificate, and .*root\.crt \(PGSSLROOTCERT default\) does not exist/],
    [{ PGSSLMODE: 'require', PGSSLROOTCERT: 'system' }, /PGSSLROOTCERT=system needs sslmode verify-full: PGSSLMODE=require is weaker/],
    [
      { PGSSLMODE: 'verify-full', PGSSLROOTCERT: '/nonexistent/ca.crt' },
      /PGSSLROOTCERT=\/nonexistent\/ca\.crt: the root certificate cannot be read/,
    ],
    [
      { PGSSLMODE: 'require', PGSSLCERT: '/nonexistent/client.crt' },
      /PGSSLCERT=\/nonexistent\/client\.crt: the client certificate cannot be read/,
    ],
  ])('GIVEN %j WHEN resolved THEN it is rejected naming the variable', (env, message) => {
    expect(() => resolveConnection({ HOME: secretsHome(), ...env })).toThrow(ConfigError);
    expect(() => resolveConnection({ HOME: secretsHome(), ...env })).toThrow(message);
  });

  test('GIVEN a client key readable by group or others WHEN resolved THEN it is refused, like libpq', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'c.crt'), 'cert');
    writeFileSync(path.join(dir, 'c.key'), 'key');
    chmodSync(path.join(dir, 'c.key'), 0o644);
    expect(() =>
      resolveConnection({
        HOME: secretsHome(),
        PGSSLMODE: 'require',
        PGSSLCERT: path.join(dir, 'c.crt'),
        PGSSLKEY: path.join(dir, 'c.key'),
      }),
    ).toThrow(/PGSSLKEY=.*c\.key: private key file has group or world access \(mode 644\)/);
  });

  test.each<[string, { root?: boolean }, object | undefined]>([
    ['disable', {}, undefined],
    ['allow', {}, { rejectUnauthorized: false }],
    ['prefer', {}, { rejectUnauthorized: false }],
    ['require', {}, { rejectUnauthorized: false }],
    ['require', { root: true }, { rejectUnauthorized: true, ca: true, identity: 'skipped' }],
    ['verify-ca', { root: true }, { rejectUnauthorized: true, ca: true, identity: 'skipped' }],
    ['verify-full', { root: true }, { rejectUnauthorized: true, ca: true, identity: 'checked against PGHOST' }],
  ])('GIVEN sslmode %s %j WHEN resolved THEN the TLS options are like libpq', (mode, opts, expected) => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'ca.crt'), 'ca');
    const s = resolveConnection({
      HOME: secretsHome(),
      PGSSLMODE: mode,
      ...(opts.root ? { PGSSLROOTCERT: path.join(dir, 'ca.crt') } : {}),
    });
    const tls = s.tls && {
      rejectUnauthorized: s.tls.rejectUnauthorized,
      ...(s.tls.ca ? { ca: true } : {}),
      ...(s.tls.rejectUnauthorized
        ? {
            identity: s.tls.checkServerIdentity?.('localhost', { subject: { CN: 'elsewhere' }, subjectaltname: 'DNS:elsewhere' } as never)
              ? 'checked against PGHOST'
              : 'skipped',
          }
        : {}),
    };
    expect(tls).toEqual(expected);
  });
});
