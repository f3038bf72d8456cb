// Server warnings and notices reach the operator: `up` prints each WARNING/NOTICE a migration's statement raised to
// stderr with the file and line it came from (also with --quiet), masked like any server message, and `validate
// --json` includes them. The baseline's BYPASSRLS warning is checked as a CREATEROLE migrator on a server of its own.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { freshDatabase, FreshDatabase, OwnCluster, serverUrl, startOwnCluster, urlForDatabase, withClient } from '../../support/postgres';
import { envFor, migrationsDir, runCli } from '../../fixtures/migrate/cli';
import { REPO_ROOT } from '../../fixtures/validate/migration-sets';

const NOTICES = {
  '0001_noisy.up.sql': [
    'CREATE TABLE public.noisy (i int);',
    "DO $$ BEGIN RAISE WARNING 'zone labels are not backfilled' USING DETAIL = '3 zones', HINT = 'run the backfill job'; END $$;",
    "DO $$ BEGIN RAISE NOTICE 'created %', 'noisy'; END $$;",
    '',
  ].join('\n'),
};

describe('server notices on the run server', () => {
  let db: FreshDatabase;
  beforeEach(async () => {
    db = await freshDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  test.each([[[]], [['--quiet']]])(
    'GIVEN a migration that raises a WARNING and a NOTICE WHEN up runs with %j THEN both are on stderr with file, line, DETAIL and HINT',
    async (extra) => {
      const r = await runCli(['up', '--dir', migrationsDir(NOTICES), ...extra], envFor(db));
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(
        'caracal-migrate: WARNING from 0001_noisy.up.sql:2: zone labels are not backfilled\n  DETAIL: 3 zones\n  HINT: run the backfill job\n',
      );
      expect(r.stderr).toContain('caracal-migrate: NOTICE from 0001_noisy.up.sql:3: created noisy\n');
    },
  );

  test("GIVEN a notice that echoes the migrator's password from its statement WHEN up runs THEN the echo is masked", async () => {
    const user = `caracal_notice_${randomBytes(4).toString('hex')}`;
    const password = 'Tr0ub4dor&3';
    await withClient(db.url, async (c) => {
      await c.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
      await c.query(`ALTER DATABASE "${db.name}" OWNER TO ${user}`);
    });
    try {
      const dir = migrationsDir({ '0001_echo.up.sql': `DO $$ BEGIN RAISE WARNING 'pw=%', '${password}'; END $$;\n` });
      const r = await runCli(['up', '--dir', dir], envFor({ ...db, user, password }));
      expect({ code: r.code, stderr: r.stderr }).toEqual({
        code: 0,
        stderr: expect.stringContaining('caracal-migrate: WARNING from 0001_echo.up.sql:1: pw=***\n'),
      });
      expect(r.stdout + r.stderr).not.toContain(password);
    } finally {
      await withClient(db.url, (c) =>
        c.query(`ALTER DATABASE "${db.name}" OWNER TO CURRENT_USER; DROP OWNED BY ${user}; DROP ROLE ${user}`),
      );
    }
  });

  test('GIVEN that migration WHEN validate --json runs THEN its JSON lists the notices of the first apply', async () => {
    const u = new URL(serverUrl());
    u.searchParams.set('sslmode', 'disable');
    const r = await runCli(
      ['validate', '--dir', migrationsDir(NOTICES), '--database-url', u.toString(), '--concurrency', '1', '--json'],
      { PATH: process.env.PATH, HOME: path.dirname(migrationsDir({})), CARACAL_MIGRATE_FROM_SOURCE: '1' },
      { entry: [path.join(REPO_ROOT, 'bin', 'caracal-migrate.js')] },
    );
    expect(JSON.parse(r.stdout).notices).toEqual([
      {
        severity: 'WARNING',
        message: 'zone labels are not backfilled',
        detail: '3 zones',
        hint: 'run the backfill job',
        sqlState: '01000',
        file: '0001_noisy.up.sql',
        line: 2,
      },
      { severity: 'NOTICE', message: 'created noisy', sqlState: '00000', file: '0001_noisy.up.sql', line: 3 },
    ]);
  });
});

describe('the baseline applied by a CREATEROLE migrator that may not grant BYPASSRLS', () => {
  const migrator = 'caracal_admin';
  const password = randomBytes(12).toString('hex');
  let cluster: OwnCluster;
  beforeAll(async () => {
    cluster = await startOwnCluster({ major: 15 });
    await withClient(cluster.url, async (c) => {
      await c.query(`CREATE ROLE ${migrator} LOGIN CREATEROLE PASSWORD '${password}'`);
      await c.query(`CREATE DATABASE caracal OWNER ${migrator}`);
    });
  }, 120_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  test("GIVEN a fresh Postgres 15 server WHEN up applies the real migrations THEN the baseline's WARNING and HINT reach stderr", async () => {
    const u = new URL(urlForDatabase(cluster.url, 'caracal'));
    const r = await runCli(
      ['up', '--dir', path.join(REPO_ROOT, 'migrations')],
      envFor({ host: u.hostname, port: Number(u.port), user: migrator, password, name: 'caracal' }),
    );
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 0,
      stderr: expect.stringMatching(
        new RegExp(
          `caracal-migrate: WARNING from 0001_baseline\\.up\\.sql:[0-9]+: caracal_backup was created without BYPASSRLS: ${migrator} may not grant it\\n  HINT: As a superuser: ALTER ROLE caracal_backup BYPASSRLS`,
        ),
      ),
    });
    expect(r.stdout + r.stderr).not.toContain(password);
  });
});
