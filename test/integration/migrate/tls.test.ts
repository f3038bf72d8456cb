// PGSSLMODE with libpq's semantics, against a Postgres of this file's own with TLS on and a CA made here by
// openssl. Each case runs caracal-migrate and Debian's psql (libpq) with the same settings: same verdict.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { freshDatabase, FreshDatabase, OwnCluster, startOwnCluster, withClient } from '../../support/postgres';
import { envFor, runCli, tempDir } from '../../fixtures/migrate/cli';

const certs = tempDir('caracal-tls-');
chmodSync(certs, 0o755);
const f = (name: string) => path.join(certs, name);
const TLS_PASSWORD = 'tls-user-pw-3b8e';

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: certs, stdio: 'pipe' });
}

function makeCertificates() {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=Caracal test ${ca}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  }
  const leaf = (name: string, cn: string, ext: string) => {
    openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(f(`${name}.ext`), ext);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  // The server certificate names localhost only: verify-full to 127.0.0.1 must fail, verify-ca must pass.
  leaf('server', 'localhost', 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'certuser', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  // The server runs as the postgres OS user: its key must be owned by it and 0600.
  if (userInfo().uid === 0) {
    const pg = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    chownSync(f('server.key'), pg, 0);
  }
  chmodSync(f('server.key'), 0o600);
  chmodSync(f('client.key'), 0o600);
  writeFileSync(
    f('pg_hba.conf'),
    [
      'local all all trust',
      'host all postgres 127.0.0.1/32 scram-sha-256',
      'hostssl all certuser 127.0.0.1/32 cert',
      'hostssl all tlsuser 127.0.0.1/32 scram-sha-256',
      '',
    ].join('\n'),
  );
  chmodSync(f('pg_hba.conf'), 0o644);
}

let own: OwnCluster;
let db: FreshDatabase;
beforeAll(async () => {
  makeCertificates();
  own = await startOwnCluster({
    postgresFlags: [
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${f('server.crt')}`,
      '-c',
      `ssl_key_file=${f('server.key')}`,
      '-c',
      `ssl_ca_file=${f('ca.crt')}`,
      '-c',
      `hba_file=${f('pg_hba.conf')}`,
    ],
  });
  db = await freshDatabase(own.url);
  await withClient(own.url, async (c) => {
    await c.query(`CREATE ROLE tlsuser LOGIN PASSWORD '${TLS_PASSWORD}'`);
    await c.query('CREATE ROLE certuser LOGIN');
  });
}, 120_000);
afterAll(async () => {
  await db?.drop();
  await own?.destroy();
});

type Verdict = 'connects' | RegExp;
/** `home`: a file of the CA directory copied to ~/.postgresql/root.crt, which libpq reads whenever it exists. */
type Case = [
  string,
  { user: 'tlsuser' | 'certuser' | 'postgres'; host: 'localhost' | '127.0.0.1'; env: NodeJS.ProcessEnv; home?: string },
  Verdict,
];

const cases: Case[] = [
  [
    'disable is refused by a server that requires TLS',
    { user: 'tlsuser', host: 'localhost', env: { PGSSLMODE: 'disable' } },
    /no encryption[\s\S]*first check: SSL mode and user/,
  ],
  ['allow falls back to TLS when plain is refused', { user: 'tlsuser', host: 'localhost', env: { PGSSLMODE: 'allow' } }, 'connects'],
  ['prefer uses TLS without verifying', { user: 'tlsuser', host: '127.0.0.1', env: { PGSSLMODE: 'prefer' } }, 'connects'],
  [
    'require encrypts without verifying when there is no root certificate',
    { user: 'tlsuser', host: '127.0.0.1', env: { PGSSLMODE: 'require' } },
    'connects',
  ],
  [
    'require verifies the chain when a root certificate is given (libpq)',
    { user: 'tlsuser', host: 'localhost', env: { PGSSLMODE: 'require', PGSSLROOTCERT: f('other-ca.crt') } },
    /TLS with localhost:[0-9]+ failed under PGSSLMODE=require[\s\S]*first check: SSL mode/,
  ],
  [
    'verify-ca accepts the right CA without checking the host name',
    { user: 'tlsuser', host: '127.0.0.1', env: { PGSSLMODE: 'verify-ca', PGSSLROOTCERT: f('ca.crt') } },
    'connects',
  ],
  [
    'verify-ca refuses a server certificate from another CA',
    { user: 'tlsuser', host: 'localhost', env: { PGSSLMODE: 'verify-ca', PGSSLROOTCERT: f('other-ca.crt') } },
    /TLS with localhost:[0-9]+ failed under PGSSLMODE=verify-ca[\s\S]*first check: SSL mode/,
  ],
  [
    'verify-ca without any root certificate is an error',
    { user: 'tlsuser', host: 'localhost', env: { PGSSLMODE: 'verify-ca' } },
    /PGSSLMODE=verify-ca needs a root certificate, and .*root\.crt \(PGSSLROOTCERT default\) does not exist/,
  ],
  [
    'verify-full accepts the right CA and a host name in the certificate',
    { user: 'tlsuser', host: 'localhost', env: { PGSSLMODE: 'verify-full', PGSSLROOTCERT: f('ca.crt') } },
    'connects',
  ],
  [
    'verify-full refuses a host that is not in the certificate',
    { user: 'tlsuser', host: '127.0.0.1', env: { PGSSLMODE: 'verify-full', PGSSLROOTCERT: f('ca.crt') } },
    /TLS with 127\.0\.0\.1:[0-9]+ failed under PGSSLMODE=verify-full[\s\S]*first check: SSL mode/,
  ],
  [
    'verify-full with the system roots refuses the test CA',
    { user: 'tlsuser', host: 'localhost', env: { PGSSLMODE: 'verify-full', PGSSLROOTCERT: 'system' } },
    /failed under PGSSLMODE=verify-full[\s\S]*first check: SSL mode/,
  ],
  [
    'a client certificate (PGSSLCERT/PGSSLKEY) authenticates a cert user',
    {
      user: 'certuser',
      host: 'localhost',
      env: { PGSSLMODE: 'verify-full', PGSSLROOTCERT: f('ca.crt'), PGSSLCERT: f('client.crt'), PGSSLKEY: f('client.key') },
    },
    'connects',
  ],
  [
    'prefer verifies the chain when ~/.postgresql/root.crt exists, and fails on another CA (libpq)',
    { user: 'tlsuser', host: 'localhost', env: { PGSSLMODE: 'prefer' }, home: 'other-ca.crt' },
    /TLS with localhost:[0-9]+ failed under PGSSLMODE=prefer against the root certificate .*\.postgresql\/root\.crt .*: certificate verify failed[\s\S]*first check: SSL mode/,
  ],
  [
    'allow verifies the chain of its TLS retry when ~/.postgresql/root.crt exists (libpq)',
    { user: 'tlsuser', host: 'localhost', env: { PGSSLMODE: 'allow' }, home: 'other-ca.crt' },
    /TLS with localhost:[0-9]+ failed under PGSSLMODE=allow against the root certificate .*\.postgresql\/root\.crt .*: certificate verify failed[\s\S]*first check: SSL mode/,
  ],
  [
    'require verifies the chain when ~/.postgresql/root.crt exists (libpq)',
    { user: 'tlsuser', host: 'localhost', env: { PGSSLMODE: 'require' }, home: 'other-ca.crt' },
    /TLS with localhost:[0-9]+ failed under PGSSLMODE=require against the root certificate .*\.postgresql\/root\.crt .*: certificate verify failed[\s\S]*first check: SSL mode/,
  ],
  [
    'prefer with the right CA in ~/.postgresql/root.crt connects without checking the host name',
    { user: 'tlsuser', host: '127.0.0.1', env: { PGSSLMODE: 'prefer' }, home: 'ca.crt' },
    'connects',
  ],
  [
    'prefer retries without TLS after a failed verification where the server admits plain connections (libpq)',
    { user: 'postgres', host: 'localhost', env: { PGSSLMODE: 'prefer' }, home: 'other-ca.crt' },
    'connects',
  ],
  [
    'a cert user without a client certificate is refused',
    { user: 'certuser', host: 'localhost', env: { PGSSLMODE: 'verify-full', PGSSLROOTCERT: f('ca.crt') } },
    /certificate[\s\S]*first check: SSL mode/,
  ],
];

describe('PGSSLMODE against a TLS server', () => {
  const passwordOf = (user: Case[1]['user']) =>
    user === 'tlsuser' ? TLS_PASSWORD : user === 'postgres' ? decodeURIComponent(new URL(own.url).password) : 'unused-password';

  test.each(cases)(
    'GIVEN a TLS server WHEN the runner and psql (libpq) connect with the same settings THEN both agree: %s',
    async (_title, { user, host, env: extra, home }, verdict) => {
      // GIVEN the runner's environment for this user, host and TLS settings
      const password = passwordOf(user);
      const env = envFor({ ...db, host, user, password }, extra);
      if (home) {
        mkdirSync(path.join(env.HOME!, '.postgresql'));
        copyFileSync(f(home), path.join(env.HOME!, '.postgresql', 'root.crt'));
      }
      const emptyDir = tempDir('caracal-empty-migrations-');
      mkdirSync(emptyDir, { recursive: true });
      // WHEN caracal-migrate connects (status over no files), and psql (libpq) with the same settings
      const r = await runCli(['status', '--dir', emptyDir], env);
      const psql = spawnSync('psql', ['-w', '-X', '-At', '-c', 'SELECT 1'], {
        env: {
          ...env,
          PGPASSWORD: password,
          PGPASSWORD_FILE: undefined,
          PGCONNECT_TIMEOUT: '5',
        },
      });
      // THEN both accept or both refuse, and the runner's message names the SSL mode
      if (verdict === 'connects') {
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      } else {
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(verdict) });
      }
      expect({ psqlConnects: psql.status === 0, psql: String(psql.stderr) }).toEqual({
        psqlConnects: verdict === 'connects',
        // libpq refuses the other CA found in ~/.postgresql/root.crt the same way.
        psql: home && verdict !== 'connects' ? expect.stringContaining('SSL error: certificate verify failed') : expect.any(String),
      });
      expect(r.stdout + r.stderr).not.toContain(password);
    },
  );
});
