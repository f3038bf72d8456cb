// Secrets in caracal-migrate's output: masked where they can appear (URLs, connection strings, server messages that
// echo them), never by replacing every occurrence of the password in everything printed, which garbled the output
// (and broke --json) for short or common passwords and showed where the password's characters were.
import { randomBytes } from 'node:crypto';
import { freshDatabase, FreshDatabase, withClient } from '../../support/postgres';
import { BASIC, envFor, migrationsDir, runCli, tempDir } from '../../fixtures/migrate/cli';

let db: FreshDatabase;
beforeEach(async () => {
  db = await freshDatabase();
});
afterEach(async () => {
  await db.drop();
});

/** A login with this password that owns the test database, for the duration of `fn`. */
async function asMigratorWithPassword<T>(password: string, fn: (env: NodeJS.ProcessEnv, user: string) => Promise<T>): Promise<T> {
  const user = `caracal_redact_${randomBytes(4).toString('hex')}`;
  await withClient(db.url, async (c) => {
    await c.query(`CREATE ROLE ${user} LOGIN PASSWORD ${c.escapeLiteral(password)}`);
    await c.query(`ALTER DATABASE "${db.name}" OWNER TO ${user}`);
  });
  try {
    return await fn(envFor({ ...db, user, password }), user);
  } finally {
    await withClient(db.url, (c) => c.query(`ALTER DATABASE "${db.name}" OWNER TO CURRENT_USER; DROP OWNED BY ${user}; DROP ROLE ${user}`));
  }
}

describe('redaction', () => {
  test.each(['a', '0', 'caracal', 'migrate', '"', '\\'])(
    'GIVEN a migrator whose password is %j WHEN up and status --json run THEN the output reads as written and the JSON parses',
    async (password) => {
      await asMigratorWithPassword(password, async (env, user) => {
        const dir = migrationsDir(BASIC);
        const up = await runCli(['up', '--dir', dir], env);
        expect({ code: up.code, stdout: up.stdout }).toEqual({
          code: 0,
          stdout: expect.stringContaining('done: 3 applied, 0 already applied'),
        });
        expect(up.stderr).toContain('caracal-migrate: applying 0001_baseline.up.sql\n');
        expect(up.stderr).toContain('caracal-migrate: holding the migration advisory lock\n');
        const status = await runCli(['status', '--dir', dir, '--json'], env);
        const parsed = JSON.parse(status.stdout);
        expect({ database: parsed.database, file: parsed.migrations[0].filename }).toEqual({
          database: `${user}@${db.host}:${db.port}/${db.name} (sslmode=disable)`,
          file: '0001_baseline.up.sql',
        });
        expect(up.stdout + up.stderr + status.stdout + status.stderr).not.toContain('***');
      });
    },
  );

  test.each(['a', 'Tr0ub4dor&3'])(
    'GIVEN a migration whose failing statement makes the server echo the password %j WHEN up runs THEN the echo is masked and the rest of the message is intact',
    async (password) => {
      await asMigratorWithPassword(password, async (env) => {
        const dir = migrationsDir({ '0001_echo.up.sql': `SELECT ${"'"}${password.replace(/'/g, "''")}'::int;\n` });
        const r = await runCli(['up', '--dir', dir], env);
        expect({ code: r.code, stderr: r.stderr }).toEqual({
          code: 1,
          stderr: expect.stringContaining(
            'caracal-migrate: error: migration 0001_echo.up.sql:1:8 failed (SQLSTATE 22P02): invalid input syntax for type integer: "***"',
          ),
        });
        expect(r.stderr).not.toContain(`"${password}"`);
      });
    },
  );
});

describe('a DATABASE_URL with "@" after its authority', () => {
  const empty = tempDir('caracal-empty-migrations-');
  test.each([
    [
      'a "?" in the password',
      'postgres://migrator:pw4242?SecretTail@db.internal/caracal',
      ['pw4242', 'SecretTail', 'db.internal', 'migrator'],
    ],
    ['a "#" in the password', 'postgres://migrator:Xy#Zq@db.internal/caracal', ['Xy#', 'Zq@', 'db.internal', 'migrator']],
    ['a "/" in the password', 'postgres://migrator:Ab/Cd@db.internal/caracal', ['Ab/', 'Cd@', 'db.internal', 'migrator']],
  ])(
    'GIVEN %s WHEN a command reads it THEN it exits 2 saying how to encode it, without echoing any part of the URL',
    async (_t, url, parts) => {
      for (const [args, env] of [
        [['status', '--dir', empty], { PATH: process.env.PATH, HOME: tempDir('caracal-home-'), DATABASE_URL: url }],
        [['status', '--dir', empty, '--database-url', url], { PATH: process.env.PATH, HOME: tempDir('caracal-home-') }],
      ] as const) {
        const r = await runCli(args, env);
        expect({ code: r.code, stderr: r.stderr }).toEqual({
          code: 2,
          stderr: expect.stringMatching(/(DATABASE_URL|--database-url) has "@" after its host part: .*percent-encoded .*\(value not shown/),
        });
        for (const part of parts) expect(r.stdout + r.stderr).not.toContain(part);
      }
    },
  );
});
