// `caracal-migrate wait`, the services' init-container gate, against a real Postgres: as each service's own login
// (read on public.schema_migrations, docs/access-matrix.md), with the Job applying the needed version while it
// waits, at its deadline, before any migration ran, and with bad flags.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FreshDatabase, freshDatabase, serverUrl, withClient } from '../../support/postgres';
import { SERVICE_ROLES } from '../../support/schema';
import { envFor, migrationsDir, runCli, startCli } from '../../fixtures/migrate/cli';
import { MIGRATIONS_DIR } from '../../fixtures/validate/migration-sets';

const LOGIN_PASSWORD = 'wait-test-password';
const created: string[] = [];
/** The database every test reads (migrated once); tests that change the history get one of their own. */
let migrated: FreshDatabase;
let migratedDir: string;

/** The project's migrations in a directory the test may add to. */
function projectMigrations(extra: Record<string, string> = {}): string {
  const files: Record<string, string> = {};
  for (const f of readdirSync(MIGRATIONS_DIR).filter((n) => n.endsWith('.up.sql')))
    files[f] = readFileSync(path.join(MIGRATIONS_DIR, f), 'utf8');
  return migrationsDir({ ...files, ...extra });
}

const newest = () => Math.max(...readdirSync(MIGRATIONS_DIR).map((n) => Number(/^(\d+)_/.exec(n)?.[1] ?? 0)));

/** A login of this test that is a member of `group` (as the Job provisions `caracal_<env>_<service>`), with CONNECT. */
async function login(db: FreshDatabase, group: string): Promise<string> {
  const name = `wait_${group.replace(/^caracal_/, '') || 'nobody'}_${created.length}_${db.name.slice(-6)}`;
  await withClient(db.url, async (c) => {
    await c.query(`CREATE ROLE ${name} LOGIN PASSWORD '${LOGIN_PASSWORD}'`);
    await c.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${name}`);
    if (group) await c.query(`GRANT ${group} TO ${name}`);
  });
  created.push(name);
  return name;
}

const asLogin = (db: FreshDatabase, name: string) => envFor({ ...db, user: name, password: LOGIN_PASSWORD });

beforeAll(async () => {
  migrated = await freshDatabase();
  migratedDir = projectMigrations();
  const r = await runCli(['up', '--dir', migratedDir], envFor(migrated));
  if (r.code !== 0) throw new Error(r.stderr);
}, 120_000);

afterAll(async () => {
  await migrated?.drop();
  await withClient(serverUrl(), async (c) => {
    for (const name of created) await c.query(`DROP ROLE IF EXISTS ${name}`);
  });
});

describe('caracal-migrate wait', () => {
  test.each(SERVICE_ROLES.map((r) => [r]))(
    'GIVEN a migrated database WHEN the %s login waits for the newest version THEN it exits 0 at once',
    async (service) => {
      const r = await runCli(['wait', '--version', String(newest())], asLogin(migrated, await login(migrated, `caracal_${service}`)));
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/^schema ready: version \d+ applied/) });
    },
  );

  test('GIVEN a service waiting for the next version WHEN the Job applies it a moment later THEN the wait exits 0', async () => {
    const db = await freshDatabase();
    try {
      const dir = projectMigrations();
      expect((await runCli(['up', '--dir', dir], envFor(db))).code).toBe(0);
      const next = newest() + 1;
      const waiting = startCli(['wait', '--version', String(next), '--timeout', '60s'], asLogin(db, await login(db, 'caracal_api')));
      await waiting.waitForStderr(new RegExp(`schema at version ${newest()}; waiting for version ${next}`));
      writeFileSync(
        path.join(dir, `${String(next).padStart(4, '0')}_next.up.sql`),
        'ALTER TABLE public.zones ADD COLUMN wait_test text;\n',
      );
      expect((await runCli(['up', '--dir', dir], envFor(db))).code).toBe(0);
      const r = await waiting.result;
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`schema ready: version ${next} applied`));
    } finally {
      await db.drop();
    }
  });

  test('GIVEN a version that never comes WHEN the deadline passes THEN it exits 3 naming the version it saw and the one missing', async () => {
    const r = await runCli(['wait', '--version', '999', '--timeout', '1s'], asLogin(migrated, await login(migrated, 'caracal_gateway')));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`waited 1 s \\(--timeout\\) for version 999 .*the schema is at version ${newest()}, missing 999`));
  });

  test('GIVEN a directory of migrations with one not applied WHEN waiting --at-least-files THEN it exits 3 naming the missing version', async () => {
    const next = newest() + 1;
    const image = projectMigrations({ [`${String(next).padStart(4, '0')}_later.up.sql`]: 'SELECT 1;\n' });
    const sts = await login(migrated, 'caracal_sts');
    expect((await runCli(['wait', '--at-least-files', migratedDir], asLogin(migrated, sts))).code).toBe(0);
    const r = await runCli(['wait', '--at-least-files', image, '--timeout', '1s'], asLogin(migrated, sts));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`missing ${next}`));
  });

  test('GIVEN a database no migration has touched WHEN the deadline passes THEN it exits 3 saying the history does not exist yet', async () => {
    const db = await freshDatabase();
    try {
      const r = await runCli(['wait', '--version', '1', '--timeout', '1s'], envFor(db));
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/never read the schema version, missing 1; last error: public\.schema_migrations does not exist yet/);
    } finally {
      await db.drop();
    }
  });

  test('GIVEN a login outside every service role WHEN it waits THEN it exits 3 at the deadline saying it may not read the history', async () => {
    const r = await runCli(['wait', '--version', '1', '--timeout', '1s'], asLogin(migrated, await login(migrated, '')));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/permission denied for table schema_migrations.*may not read public\.schema_migrations yet/);
  });

  test('GIVEN a server that refuses connections WHEN the deadline passes THEN it exits 3 with the last connection error', async () => {
    const r = await runCli(['wait', '--version', '1', '--timeout', '1s'], { ...envFor(migrated), PGPORT: '1' });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/never read the schema version, missing 1; last error: .*connection refused/i);
  });

  test.each([
    ['neither --version nor --at-least-files', [], /wait needs exactly one of --version N .* or --at-least-files DIR/],
    ['both', ['--version', '3', '--at-least-files', MIGRATIONS_DIR], /wait needs exactly one of --version N/],
    ['a version that is not a number', ['--version', 'three'], /--version="three" is not valid: expected a migration version number/],
    ['two versions', ['--version', '2', '--version', '3'], /wait takes one --version/],
    ['a bad timeout', ['--version', '3', '--timeout', 'soon'], /--timeout="soon" is not valid: expected a duration/],
    ['a zero timeout', ['--version', '3', '--timeout', '0'], /--timeout="0" is out of range/],
    [
      'a directory without migrations',
      ['--at-least-files', path.join(MIGRATIONS_DIR, '..', 'docs')],
      /no migration files there|does not match NNNN_name\.up\.sql/,
    ],
    ['a flag of another command', ['--version', '3', '--dir', MIGRATIONS_DIR], /flag --dir does not apply to wait/],
  ])('GIVEN %s WHEN wait runs THEN it exits 2 naming the problem', async (_name, args, message) => {
    const r = await runCli(['wait', ...args], envFor(migrated));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
