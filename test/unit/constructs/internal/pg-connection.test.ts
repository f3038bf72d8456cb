// The one PG* connection contract: libpq's variables, the password as a file, the CA or the system trust store,
// and the Secret volumes and mounts, in the API shape and the provider shape.
import { PgConnection, PgConnectionSpec } from '../../../../constructs/internal/pg-connection';
import type { PostgresEndpoint } from '../../../../constructs';

const LOGIN = { username: 'caracal_dev_api', secretName: 'caracal-db-api', passwordKey: 'password' };
const ENDPOINT: PostgresEndpoint = { host: 'db.example.com', port: 5432, database: 'caracal', sslMode: 'verify-full' };

function connection(endpoint: Partial<PostgresEndpoint> = {}, spec: Partial<PgConnectionSpec> = {}): PgConnection {
  return new PgConnection({
    endpoint: { ...ENDPOINT, ...endpoint },
    login: LOGIN,
    password: { volume: 'db', dir: '/run/db' },
    ca: { volume: 'db-ca', dir: '/run/db-ca' },
    ...spec,
  });
}

describe('PgConnection', () => {
  test('GIVEN a login and an endpoint WHEN rendered THEN the env is libpq’s, in order, with the password as a file and the workload’s own before PGSSLROOTCERT', () => {
    const c = connection({ caCertSecret: { secretName: 'ca', key: 'ca.pem' } }, { extraEnv: [{ name: 'PGAPPNAME', value: 'x' }] });

    expect(c.env.map((e) => e.name)).toEqual([
      'PGHOST',
      'PGPORT',
      'PGDATABASE',
      'PGUSER',
      'PGSSLMODE',
      'PGPASSWORD_FILE',
      'PGAPPNAME',
      'PGSSLROOTCERT',
    ]);
    expect(c.envData()).toMatchObject({ PGPASSWORD_FILE: '/run/db/password', PGSSLROOTCERT: '/run/db-ca/ca.pem', PGPORT: '5432' });
    expect(c.env.some((e) => /^PGPASSWORD$/.test(e.name))).toBe(false);
  });

  test.each<[string, Partial<PostgresEndpoint>, string | undefined]>([
    ['verify-full without a CA', { sslMode: 'verify-full' }, 'system'],
    ['verify-full with a CA', { sslMode: 'verify-full', caCertSecret: { secretName: 'ca', key: 'ca.crt' } }, '/run/db-ca/ca.crt'],
    ['require without a CA', { sslMode: 'require' }, undefined],
    ['disable', { sslMode: 'disable' }, undefined],
  ])('GIVEN %s WHEN rendered THEN PGSSLROOTCERT is %s', (_what, endpoint, rootCert) => {
    expect(connection(endpoint).envData().PGSSLROOTCERT).toBe(rootCert);
  });

  test('GIVEN a CA WHEN the volumes are rendered THEN the password is 0440 and the CA 0444, in the API shape and the provider shape', () => {
    const c = connection({ caCertSecret: { secretName: 'ca', key: 'ca.crt' } });

    expect(c.manifestVolumes()).toEqual([
      { name: 'db', secret: { secretName: 'caracal-db-api', defaultMode: 0o440 } },
      { name: 'db-ca', secret: { secretName: 'ca', defaultMode: 0o444 } },
    ]);
    expect(c.providerVolumes().map((v) => v.secret?.defaultMode)).toEqual(['0440', '0444']);
    expect(c.mounts).toEqual([
      { name: 'db', mountPath: '/run/db', readOnly: true },
      { name: 'db-ca', mountPath: '/run/db-ca', readOnly: true },
    ]);
  });

  test('GIVEN mounts that project one file WHEN rendered THEN only that key is mounted, under that name, and the paths follow', () => {
    const c = connection(
      { caCertSecret: { secretName: 'ca', key: 'root.pem' } },
      { password: { volume: 'pw', dir: '/s/owner', file: 'password' }, ca: { volume: 'ca', dir: '/s/ca', file: 'ca.crt' } },
    );

    expect(c.manifestVolumes().map((v) => v.secret.items)).toEqual([
      [{ key: 'password', path: 'password' }],
      [{ key: 'root.pem', path: 'ca.crt' }],
    ]);
    expect(c.envData()).toMatchObject({ PGPASSWORD_FILE: '/s/owner/password', PGSSLROOTCERT: '/s/ca/ca.crt' });
  });

  test('GIVEN no CA WHEN rendered THEN only the login Secret is mounted', () => {
    const c = connection({ sslMode: 'require' });

    expect([c.manifestVolumes().length, c.mounts.length]).toEqual([1, 1]);
  });
});
