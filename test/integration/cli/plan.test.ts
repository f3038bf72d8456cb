// `caracal-migrate plan` as a real child process: offline from the files, and against a real Postgres where the
// pending files come from its history and the duration class from its table sizes; JSON; bad flags.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FreshDatabase, freshDatabase, withClient } from '../../support/postgres';
import { envFor, migrationsDir, runCli as runBundle } from '../../fixtures/migrate/cli';
import { MIGRATIONS_DIR } from '../../fixtures/validate/migration-sets';

// plan needs the SQL parser, which the bundle leaves out: run bin/caracal-migrate.js from this checkout, as CI does.
const BIN = path.join(MIGRATIONS_DIR, '..', 'bin', 'caracal-migrate.js');
const runCli = (args: string[], env: NodeJS.ProcessEnv) => runBundle(args, env, { entry: [BIN] });

const newest = Math.max(...readdirSync(MIGRATIONS_DIR).map((n) => Number(/^(\d+)_/.exec(n)?.[1] ?? 0)));
const v = (n: number) => String(newest + n).padStart(4, '0');

/** The project's migrations plus two pending files: a column on sessions and a non-concurrent index on audit_events. */
function withPending(): string {
  const files: Record<string, string> = {};
  for (const f of readdirSync(MIGRATIONS_DIR).filter((n) => n.endsWith('.up.sql')))
    files[f] = readFileSync(path.join(MIGRATIONS_DIR, f), 'utf8');
  files[`${v(1)}_sessions_hint.up.sql`] = '-- a nullable column\nALTER TABLE public.sessions ADD COLUMN hint text;\n';
  files[`${v(2)}_audit_actor_idx.up.sql`] =
    'SET LOCAL ROLE caracal_owner;\nCREATE INDEX audit_events_actor_idx ON public.audit_events (actor);\nRESET ROLE;\n';
  return migrationsDir(files);
}

/** An environment with no database configured (plan stays offline). */
function offlineEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME };
}

let db: FreshDatabase;

beforeAll(async () => {
  db = await freshDatabase();
  const dir = migrationsDir(
    Object.fromEntries(
      readdirSync(MIGRATIONS_DIR)
        .filter((n) => n.endsWith('.up.sql'))
        .map((f) => [f, readFileSync(path.join(MIGRATIONS_DIR, f), 'utf8')]),
    ),
  );
  const r = await runCli(['up', '--dir', dir], envFor(db));
  if (r.code !== 0) throw new Error(r.stderr);
  // Enough rows that the sizes are real: sessions of one zone.
  await withClient(db.url, async (c) => {
    await c.query(`INSERT INTO public.zones (id, slug, display_name) VALUES ('00000000-0000-0000-0000-000000000001', 'z', 'Z')`);
    await c.query(
      `INSERT INTO public.sessions (zone_id, subject, token_hash, expires_at)
       SELECT '00000000-0000-0000-0000-000000000001', 'u' || g, sha256(g::text::bytea), now() + interval '1 day' FROM generate_series(1, 5000) g`,
    );
    await c.query('ANALYZE public.sessions');
  });
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

describe('caracal-migrate plan', () => {
  test('GIVEN pending files and no database WHEN planned THEN each statement shows its lock, its work and its duration class, and exits 0', async () => {
    const r = await runCli(['plan', '--dir', withPending()], offlineEnv());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/from the files alone/);
    expect(r.stdout).toContain(`${v(1)}_sessions_hint.up.sql (one transaction)`);
    expect(r.stdout).toMatch(
      /ALTER TABLE public\.sessions ADD COLUMN hint text\n\s+ACCESS EXCLUSIVE on public\.sessions: blocks reads and writes; no scan, no rewrite\n\s+duration: instant/,
    );
    expect(r.stdout).toMatch(
      /CREATE INDEX audit_events_actor_idx ON public\.audit_events \(actor\)\n\s+SHARE on public\.audit_events: blocks writes; scans \(builds the index\)\n\s+duration: table size\n\s+validate refuses it: index-not-concurrent/,
    );
  });

  test('GIVEN --from on the files alone WHEN planned THEN only files from that version on are listed', async () => {
    const r = await runCli(['plan', '--dir', withPending(), '--from', v(2)], offlineEnv());
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('sessions_hint');
    expect(r.stdout).toContain('audit_actor_idx');
  });

  test('GIVEN a migrated database WHEN planned against it THEN only its pending files are listed, with table sizes and an estimate', async () => {
    const r = await runCli(['plan', '--dir', withPending()], envFor(db));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/plan of 2 pending file\(s\) for .* \(\d+ applied; table sizes from the database\)/);
    expect(r.stdout).not.toContain('0001_baseline');
    expect(r.stdout).toMatch(
      /ACCESS EXCLUSIVE on public\.sessions: blocks reads and writes; no scan, no rewrite, 5,000 rows, \d+(\.\d)? (kB|MB)/,
    );
    expect(r.stdout).toMatch(/duration: table size \(estimate from the table sizes: under a second\)/);
  });

  test('GIVEN --json WHEN planned THEN the plan is JSON with every statement, its tables and the refusing rules', async () => {
    const r = await runCli(['plan', '--dir', withPending(), '--json', '--offline'], envFor(db));
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    const index = plan.files.find((f: { filename: string }) => f.filename.endsWith('audit_actor_idx.up.sql'));
    expect(index.statements.find((s: { sql: string }) => s.sql.startsWith('CREATE INDEX'))).toMatchObject({
      tables: [{ table: 'public.audit_events', lock: 'SHARE', work: 'scan', existing: true }],
      duration: 'table size',
      refusedBy: ['index-not-concurrent'],
    });
  });

  test('GIVEN a database with nothing pending WHEN planned THEN it says so and exits 0', async () => {
    const dir = migrationsDir(
      Object.fromEntries(
        readdirSync(MIGRATIONS_DIR)
          .filter((n) => n.endsWith('.up.sql'))
          .map((f) => [f, readFileSync(path.join(MIGRATIONS_DIR, f), 'utf8')]),
      ),
    );
    const r = await runCli(['plan', '--dir', dir], envFor(db));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^plan of 0 pending file\(s\)/);
  });

  test.each([
    ['--from that is not a version', ['--from', 'two'], offlineEnv, /--from="two" is not valid: expected a migration version/],
    [
      '--from with a database',
      ['--from', '0002'],
      () => envFor(db),
      /--from plans offline; with a database the pending files come from public\.schema_migrations/,
    ],
    ['a missing directory', ['--from', '2'], offlineEnv, /\/nonexistent\/migrations/],
    ['a flag of another command', ['--lock-timeout', '1s'], offlineEnv, /flag --lock-timeout does not apply to plan/],
    [
      'an unreachable database',
      ['--database-url', 'postgres://nobody:x@127.0.0.1:1/x?sslmode=disable'],
      offlineEnv,
      /127\.0\.0\.1:1.*connection refused/,
    ],
  ])('GIVEN %s WHEN plan runs THEN it exits 2 naming the problem', async (name, args, env, message) => {
    const dir = name === 'a missing directory' ? '/nonexistent/migrations' : MIGRATIONS_DIR;
    const r = await runCli(['plan', '--dir', dir, ...args], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
