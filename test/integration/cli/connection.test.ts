// Connection failures and bad settings, through the real CLI: each names the field to check first (the seed's
// troubleshooting row: secret, host, port, user, database, SSL mode) and never prints a password.
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freshDatabase, FreshDatabase } from '../../support/postgres';
import { BASIC, envFor, migrationsDir, runCli, tempDir } from '../../fixtures/migrate/cli';

let db: FreshDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const WRONG_PASSWORD = 'not-the-password-7f3a9c';

describe('caracal-migrate connection failures', () => {
  type Case = [string, () => Promise<NodeJS.ProcessEnv>, RegExp];
  const cases: Case[] = [
    [
      'a missing password file names the path and PGPASSWORD_FILE',
      async () => envFor(db, { PGPASSWORD_FILE: '/run/secrets/nowhere/postgresPassword' }),
      /password file \/run\/secrets\/nowhere\/postgresPassword \(PGPASSWORD_FILE\) does not exist[\s\S]*first check: the database secret/,
    ],
    [
      'a missing default password file names the path and CARACAL_SECRETS_DIR',
      async () => ({ ...envFor(db), PGPASSWORD_FILE: undefined, CARACAL_SECRETS_DIR: '/srv/caracal-secrets' }),
      /password file \/srv\/caracal-secrets\/postgresPassword \(PGPASSWORD_FILE's default, chosen by CARACAL_SECRETS_DIR\) does not exist/,
    ],
    [
      'a missing default password file names the path and CARACAL_HOME',
      async () => ({ ...envFor(db), PGPASSWORD_FILE: undefined, CARACAL_HOME: '/srv/caracal' }),
      /password file \/srv\/caracal\/secrets\/postgresPassword \(PGPASSWORD_FILE's default, chosen by CARACAL_HOME\) does not exist/,
    ],
    [
      'a wrong password points at the database secret',
      async () => {
        const file = path.join(tempDir(), 'postgresPassword');
        writeFileSync(file, WRONG_PASSWORD);
        return envFor(db, { PGPASSWORD_FILE: file });
      },
      /password authentication failed for user "postgres"[\s\S]*SQLSTATE 28P01[\s\S]*first check: the database secret: the password from PGPASSWORD_FILE=/,
    ],
    [
      'a closed local port points at host and port',
      async () => envFor(db, { PGPORT: String(await closedPort()) }),
      /nothing accepts connections at 127\.0\.0\.1:[0-9]+ \(connection refused\)[\s\S]*first check: host and port/,
    ],
    [
      'an unresolvable .invalid host points at the host',
      async () => envFor(db, { PGHOST: 'postgres.caracal.invalid' }),
      /host name "postgres\.caracal\.invalid" does not resolve[\s\S]*first check: the host: PGHOST/,
    ],
    [
      'a missing database points at the database',
      async () => envFor(db, { PGDATABASE: 'caracal_nonexistent' }),
      /database "caracal_nonexistent" does not exist[\s\S]*SQLSTATE 3D000[\s\S]*first check: the database: PGDATABASE/,
    ],
    [
      'sslmode=require against a server without TLS points at the SSL mode',
      async () => envFor(db, { PGSSLMODE: 'require' }),
      /does not support SSL, and PGSSLMODE=require requires it[\s\S]*first check: SSL mode/,
    ],
  ];

  test.each(cases)(
    'GIVEN one connection setting wrong WHEN the runner starts THEN it exits 2 and the message says: %s',
    async (_title, makeEnv, message) => {
      // GIVEN migrations and an environment with one thing wrong
      const dir = migrationsDir(BASIC);
      const env = await makeEnv();
      // WHEN the runner starts
      const r = await runCli(['up', '--dir', dir], env);
      // THEN it exits 2 with the message, and no password appears anywhere in its output
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
      for (const secret of [db.password, WRONG_PASSWORD]) {
        expect(r.stdout + r.stderr).not.toContain(secret);
      }
    },
  );
});

describe('caracal-migrate rejects bad settings, naming the variable or flag and what is accepted', () => {
  const URL_PASSWORD = 'url-secret-5d1e';
  type Case = [string, string[], NodeJS.ProcessEnv, RegExp];
  const cases: Case[] = [
    ['PGPORT not a number', ['up'], { PGPORT: 'abc' }, /PGPORT="abc" is not valid: expected a whole number from 1 to 65535/],
    ['PGPORT out of range', ['up'], { PGPORT: '70000' }, /PGPORT="70000" is not valid/],
    [
      'PGSSLMODE unknown',
      ['up'],
      { PGSSLMODE: 'maybe' },
      /PGSSLMODE="maybe" is not valid: expected one of disable, allow, prefer, require, verify-ca, verify-full/,
    ],
    [
      'PGCONNECT_TIMEOUT not a duration',
      ['up'],
      { PGCONNECT_TIMEOUT: 'soon' },
      /PGCONNECT_TIMEOUT="soon" is not valid: expected a duration/,
    ],
    ['PGHOST with a space', ['up'], { PGHOST: 'db one' }, /PGHOST="db one" is not valid: expected one host name/],
    [
      'DATABASE_URL with another scheme',
      ['up'],
      { DATABASE_URL: `mysql://u:${URL_PASSWORD}@h/db` },
      /DATABASE_URL has scheme "mysql:": expected postgres:\/\//,
    ],
    ['DATABASE_URL not a URL', ['up'], { DATABASE_URL: `::${URL_PASSWORD}::` }, /DATABASE_URL is not a valid URL/],
    [
      'DATABASE_URL with an unknown parameter',
      ['up'],
      { DATABASE_URL: `postgres://u:${URL_PASSWORD}@h/db?sslmod=require` },
      /DATABASE_URL has query parameter "sslmod": accepted are sslmode/,
    ],
    [
      'DATABASE_URL with an application_name (always caracal-migrate)',
      ['up'],
      { DATABASE_URL: `postgres://u:${URL_PASSWORD}@h/db?application_name=mine` },
      /DATABASE_URL has query parameter "application_name": accepted are sslmode, sslrootcert, sslcert, sslkey, connect_timeout \(application_name is always caracal-migrate\)/,
    ],
    [
      '--database-url with a bad sslmode',
      ['up', `--database-url=postgres://u:${URL_PASSWORD}@h/db?sslmode=strict`],
      {},
      /--database-url sslmode="strict" is not valid: expected one of disable/,
    ],
    [
      'DATABASE_URL with a bad percent-escape in the password',
      ['up'],
      { DATABASE_URL: `postgres://u:${URL_PASSWORD}%zz@h/db` },
      /DATABASE_URL password is not valid percent-encoding \(value not shown: it is a password\): a % must be followed by two hex digits/,
    ],
    [
      '--database-url with a bad percent-escape in the database',
      ['up', `--database-url=postgres://u:${URL_PASSWORD}@h/cara%zzcal`],
      {},
      /--database-url database "cara%zzcal" is not valid percent-encoding: a % must be followed by two hex digits/,
    ],
    [
      'PGSSLKEY missing beside a client certificate',
      ['up'],
      { PGSSLMODE: 'require', PGSSLCERT: __filename, PGSSLKEY: '/nonexistent/client.key' },
      /PGSSLKEY=\/nonexistent\/client\.key: the client key cannot be read \(ENOENT\)[\s\S]*first check: SSL mode/,
    ],
    [
      '--lock-wait not a duration',
      ['up', '--lock-wait=forever'],
      {},
      /--lock-wait="forever" is not valid: expected a duration such as 30, 30s, 500ms, 5m or 1h/,
    ],
    ['--lock-timeout zero', ['up', '--lock-timeout', '0'], {}, /--lock-timeout="0" is out of range/],
    ['--lock-retries negative', ['up', '--lock-retries=-1'], {}, /--lock-retries="-1" is not valid: expected a whole number from 0 to 100/],
    ['--wait-for-db not a duration', ['up', '--wait-for-db=later'], {}, /--wait-for-db="later" is not valid/],
    ['--statement-timeout not a duration', ['up', '--statement-timeout', '5 minutes'], {}, /--statement-timeout="5 minutes" is not valid/],
    ['an unknown flag', ['up', '--force'], {}, /unknown flag --force: accepted flags are --dir/],
    [
      'a flag of another command (status --provision)',
      ['status', '--provision', '/etc/caracal/provision.json'],
      {},
      /flag --provision does not apply to status: status accepts --dir, --database-url/,
    ],
    [
      'a flag verify does not take (--wait-for-db)',
      ['verify', '--wait-for-db=later'],
      {},
      /flag --wait-for-db does not apply to verify: verify accepts /,
    ],
    ['an unknown command', ['down'], {}, /unknown command "down": accepted commands are up, status, repair/],
    ['no command', [], {}, /a command is required: up, status, repair/],
    ['a flag without its value', ['up', '--dir'], {}, /flag --dir needs a value/],
    [
      'a missing migrations directory',
      ['up', '--dir', '/nonexistent/migrations'],
      {},
      /--dir "\/nonexistent\/migrations": not a readable directory/,
    ],
    [
      'verify --access-matrix not an access matrix',
      ['verify', '--access-matrix', __filename],
      {},
      /--access-matrix ".*connection\.test\.ts" is not a usable access matrix: .*markers <!-- access-matrix:begin -->.* not found; expected a markdown file like docs\/access-matrix\.md/,
    ],
    [
      'validate --static --access-matrix a directory',
      ['validate', '--static', '--access-matrix', __dirname],
      {},
      /--access-matrix ".*cli" is not a usable access matrix: it cannot be read \(EISDIR\)/,
    ],
    [
      'validate --static with a bad --lock-wait',
      ['validate', '--static', '--lock-wait=forever'],
      {},
      /--lock-wait="forever" is not valid: expected a duration/,
    ],
    ['repair without --version', ['repair'], {}, /repair needs --version N/],
    ['repair with a bad --version', ['repair', '--version', 'v3'], {}, /--version="v3" is not valid: expected a migration version number/],
    ['repair with an empty --reason', ['repair', '--version', '1', '--reason='], {}, /flag --reason needs a value, got an empty one/],
    [
      'repair with a multi-line --reason',
      ['repair', '--version', '1', '--reason', 'ok\nforged'],
      {},
      /--reason="ok\\nforged" is not valid: expected one line of text/,
    ],
  ];

  test.each(cases)(
    'GIVEN %s WHEN the runner starts THEN it exits 2 naming the setting and what is accepted',
    async (_title, args, extraEnv, message) => {
      // GIVEN a setting that is wrong (and a working database otherwise)
      const env = { ...envFor(db), ...extraEnv };
      const dir = migrationsDir(BASIC);
      const withDir = args.includes('--dir') || args.length === 0 || args[0] === 'down' ? args : [...args, '--dir', dir];
      // WHEN the runner starts
      const r = await runCli(withDir, env);
      // THEN it exits 2 naming the setting, and prints no password
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
      expect(r.stdout + r.stderr).not.toContain(URL_PASSWORD);
      expect(r.stdout + r.stderr).not.toContain(db.password);
    },
  );

  test('GIVEN --help WHEN the runner starts THEN it prints usage and exits 0', async () => {
    const r = await runCli(['--help'], envFor(db));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: caracal-migrate <command>[\s\S]*exit codes: 0 done/);
  });
});
