// `caracal-migrate validate` and `verify` as CI and operators run them: real child processes of bin/caracal-migrate.js
// against the run's Postgres. Each migration set broken on purpose makes validate exit 4 naming the failed check.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { envFor, runCli, startCli, tempDir } from '../../fixtures/migrate/cli';
import { applySet, MIGRATIONS_DIR, migrationSet, REPO_ROOT } from '../../fixtures/validate/migration-sets';
import { freshDatabase, serverUrl, withClient } from '../../support/postgres';

const BIN = path.join(REPO_ROOT, 'bin', 'caracal-migrate.js');
const PROJECT_MIGRATIONS = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.up.sql')).length;

function cliEnv(): NodeJS.ProcessEnv {
  // Sources through tsx, so a stale dist/ bundle never stands in for the code under test.
  return { PATH: process.env.PATH, HOME: tempDir('caracal-home-'), CARACAL_MIGRATE_FROM_SOURCE: '1' };
}

function serverArg(): string {
  const u = new URL(serverUrl());
  u.searchParams.set('sslmode', 'disable');
  return u.toString();
}

async function validate(fixture: string | undefined, extra: string[] = []) {
  const set = migrationSet(fixture);
  try {
    return await runCli(['validate', '--dir', set.dir, '--database-url', serverArg(), '--concurrency', '3', ...extra], cliEnv(), {
      entry: [BIN],
    });
  } finally {
    set.remove();
  }
}

describe('caracal-migrate validate (CLI)', () => {
  test('GIVEN the migrations as they are WHEN validated THEN every check prints ok and it exits 0', async () => {
    const r = await validate(undefined);
    expect(r.stdout).toMatch(/^validate: all 28 checks passed$/m);
    for (const id of [
      'filenames',
      'expand-only',
      'apply',
      'idempotent',
      'concurrent-migrators',
      'expected-tables',
      'privileges',
      'append-only-triggers',
      'immutability-triggers',
      'rls-zone',
      'no-bypassrls',
      'partition-privileges',
      'audit-partition-window',
      'audit-retention',
      'indexes',
      'foreign-keys',
      'ownership',
      'function-execute',
      'definer-search-path',
      'schema-create',
      'large-objects',
      'backup-role-reads',
      'database-privileges',
      'migrations',
      'behaviour-privileges',
      'behaviour-append-only',
      'behaviour-immutability',
      'behaviour-rls',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^ok   ${id}: `, 'm'));
    }
    expect(r.code).toBe(0);
  });

  test('GIVEN a realistic expand set (new column and table, no-transaction concurrent index, NOT VALID then VALIDATE in the next file, a tagged contract file) WHEN validated THEN it passes', async () => {
    // The project's own migrations come first in the set (the fixture's files are numbered from 0102).
    const files = PROJECT_MIGRATIONS + 6;
    const r = await validate('good-expand-set');
    expect(r.stdout).toMatch(
      new RegExp(
        `^ok {3}expand-only: ${files} file\\(s\\) are expand-only \\(baseline exempt, 1 contract-phase statement\\(s\\) allowed\\)$`,
        'm',
      ),
    );
    expect(r.stdout).toMatch(new RegExp(`^ok {3}apply: ${files} migration\\(s\\) applied to an empty database$`, 'm'));
    expect(r.stdout).toMatch(/^validate: all 28 checks passed$/m);
    expect(r.code).toBe(0);
  });

  test.each([
    ['grant-update-audit-events', ['privileges', 'behaviour-privileges']],
    ['dropped-trigger', ['expand-only', 'append-only-triggers', 'behaviour-append-only']],
    ['disabled-trigger', ['immutability-triggers', 'behaviour-immutability']],
    ['rls-not-forced', ['rls-zone']],
    ['partition-without-rls', ['rls-zone', 'audit-partition-window']],
    ['missing-future-partition', ['audit-partition-window']],
    ['drop-column', ['expand-only']],
    ['index-not-concurrent', ['expand-only']],
    ['missing-table', ['expand-only', 'expected-tables']],
    ['unattached-partitioned-index', ['indexes']],
    ['table-not-owned', ['expand-only', 'privileges', 'ownership']],
    ['grant-on-partition', ['partition-privileges']],
    ['open-policy', ['rls-zone', 'behaviour-rls']],
  ])(
    'GIVEN the broken set %s WHEN validated THEN it exits 4, prints FAIL for %j and drops its scratch databases',
    async (fixture, failing) => {
      const r = await validate(fixture);
      for (const id of failing) expect(r.stdout).toMatch(new RegExp(`^FAIL ${id}: `, 'm'));
      expect(r.stdout).toMatch(/^validate: \d+ of \d+ checks failed$/m);
      expect(r.code).toBe(4);
      // and the scratch databases it created are gone, failure or not
      const names = /scratch databases (caracal_validate_\w+), (caracal_validate_\w+) created/.exec(r.stderr);
      const left = await withClient(serverUrl(), (c) =>
        c.query('SELECT datname FROM pg_database WHERE datname = ANY($1)', [[names?.[1], names?.[2]]]),
      );
      expect(names).not.toBeNull();
      expect(left.rows).toEqual([]);
    },
  );

  test('GIVEN an untagged DROP COLUMN WHEN validated statically THEN the finding names file:line, rule, why and instead', async () => {
    const r = await validate('drop-column', ['--static']);
    expect(r.stdout).toContain('- 0902_sessions_slim.up.sql:2: drop-column: ALTER TABLE public.sessions DROP COLUMN revoked_reason');
    expect(r.stdout).toMatch(/why: the previous application version still selects or inserts this column/);
    expect(r.stdout).toMatch(/instead: .*caracal:phase contract/);
    expect(r.code).toBe(4);
  });

  test('GIVEN a file that breaks the filename grammar WHEN validated statically THEN filenames fails naming it', async () => {
    const set = migrationSet();
    try {
      writeFileSync(path.join(set.dir, '0002_Add Zones.up.sql'), 'SELECT 1;\n');
      const r = await runCli(['validate', '--static', '--dir', set.dir], cliEnv(), { entry: [BIN] });
      expect(r.stdout).toMatch(/^FAIL filenames: unsafe migration file "0002_Add Zones\.up\.sql"/m);
      expect(r.code).toBe(4);
    } finally {
      set.remove();
    }
  });

  test('GIVEN a validate run cancelled with SIGTERM mid-run WHEN it exits THEN its scratch databases are gone and it exits 143', async () => {
    const set = migrationSet();
    try {
      const cli = startCli(['validate', '--dir', set.dir, '--database-url', serverArg()], cliEnv(), { entry: [BIN] });
      await cli.waitForStderr(/scratch databases caracal_validate_\w+, caracal_validate_\w+ created/);
      cli.child.kill('SIGTERM');
      const r = await cli.result;
      const names = /scratch databases (caracal_validate_\w+), (caracal_validate_\w+) created/.exec(r.stderr)!;
      const left = await withClient(serverUrl(), (c) =>
        c.query('SELECT datname FROM pg_database WHERE datname = ANY($1)', [[names[1], names[2]]]),
      );
      expect(r.stderr).toMatch(/SIGTERM: dropping scratch databases/);
      expect(left.rows).toEqual([]);
      expect(r.code).toBe(143);
    } finally {
      set.remove();
    }
  });

  test('GIVEN a user without CREATEDB WHEN validate runs THEN it exits 2 saying it needs a server where it may create databases', async () => {
    const role = `validate_nocreatedb_${process.pid}`;
    await withClient(serverUrl(), (c) => c.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw-${process.pid}'`));
    const set = migrationSet();
    try {
      const u = new URL(serverArg());
      u.username = role;
      u.password = `pw-${process.pid}`;
      const r = await runCli(['validate', '--dir', set.dir, '--database-url', u.toString()], cliEnv(), { entry: [BIN] });
      expect(r.stderr).toMatch(/cannot create the scratch database caracal_validate_\w+ .*permission denied to create database/);
      expect(r.stderr).toMatch(/first check: validate needs a server where its user may CREATE DATABASE/);
      expect(r.code).toBe(2);
    } finally {
      set.remove();
      await withClient(serverUrl(), (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
    }
  });
});

describe('caracal-migrate verify (CLI)', () => {
  test('GIVEN a migrated database WHEN verify --json runs THEN it exits 0 with every check ok', async () => {
    const db = await freshDatabase();
    const set = migrationSet();
    try {
      await applySet(set.dir, db.url);
      const r = await runCli(
        ['verify', '--json', '--dir', set.dir],
        envFor(db, { PGSSLMODE: 'disable', CARACAL_MIGRATE_FROM_SOURCE: '1' }),
        { entry: [BIN] },
      );
      const report = JSON.parse(r.stdout);
      expect(report.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(r.code).toBe(0);
    } finally {
      set.remove();
      await db.drop();
    }
  });

  test("GIVEN RLS not forced on sessions WHEN verify runs THEN it exits 4 with the check and the seed's first check", async () => {
    const db = await freshDatabase();
    const set = migrationSet('rls-not-forced');
    try {
      await applySet(set.dir, db.url);
      const r = await runCli(['verify', '--dir', set.dir], envFor(db, { PGSSLMODE: 'disable', CARACAL_MIGRATE_FROM_SOURCE: '1' }), {
        entry: [BIN],
      });
      expect(r.stdout).toMatch(/^FAIL rls-zone: 1 row-level security problem/m);
      expect(r.stdout).toContain('public.sessions: row-level security is not forced');
      expect(r.stdout).toContain('first check: RLS errors: Confirm service role and zone context handling before widening permissions');
      expect(r.code).toBe(4);
    } finally {
      set.remove();
      await db.drop();
    }
  });
  test.each([['Prod'], ['prod_eu'], ['1prod'], ['a-very-long-environment-name']])(
    'GIVEN --environment %s WHEN verify runs THEN it exits 2 naming the flag, the value and what is accepted',
    async (environment) => {
      const r = await runCli(['verify', '--environment', environment], cliEnv(), { entry: [BIN] });
      expect(r.stderr).toContain(
        `--environment ${JSON.stringify(environment)} is not an environment name: expected lower-case letters and digits, starting with a letter, at most 16 characters`,
      );
      expect(r.code).toBe(2);
    },
  );
});
