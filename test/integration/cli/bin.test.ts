// bin/caracal-migrate.js from the sources (tsx, no build), and the Job bundle that scripts/build.mjs makes.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freshDatabase, withClient } from '../../support/postgres';
import { BASIC, envFor, migrationsDir, ROOT, runCli, tempDir } from '../../fixtures/migrate/cli';

describe('bin/caracal-migrate.js', () => {
  test('GIVEN the bin asked to run the TypeScript sources (no build needed) WHEN it runs up THEN it applies migrations', async () => {
    // GIVEN a fresh database and the bin forced onto the sources
    const db = await freshDatabase();
    try {
      const dir = migrationsDir(BASIC);
      // WHEN the bin runs `up`
      const r = await runCli(['up', '--dir', dir], envFor(db, { CARACAL_MIGRATE_FROM_SOURCE: '1' }), {
        entry: [path.join(ROOT, 'bin', 'caracal-migrate.js')],
      });
      // THEN it applies every file
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/applied 0003_zone_label\.up\.sql/) });
      const n = await withClient(db.url, (c) => c.query('SELECT count(*)::int AS n FROM public.schema_migrations'));
      expect(n.rows[0].n).toBe(3);
    } finally {
      await db.drop();
    }
  });
});

describe('scripts/build.mjs', () => {
  test('GIVEN the CLI WHEN scripts/build.mjs bundles it THEN it is one CommonJS file without the SQL parser, which runs on its own', () => {
    // GIVEN a build into a temp file
    const out = path.join(tempDir(), 'caracal-migrate.cjs');
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--outfile', out, '--quiet'], { cwd: ROOT });
    // THEN it holds pg and the runner but not the parser's code (validate's lazy require of it stays external),
    // and it runs with node alone
    const text = readFileSync(out, 'utf8');
    expect(text).not.toMatch(/wasm_parse_query|libpg-query\.wasm|pg_query_parse/);
    expect(text.length).toBeLessThan(1024 * 1024);
    expect(text).toMatch(/pg_try_advisory_lock/);
    const help = execFileSync(process.execPath, [out, '--help'], { cwd: tempDir(), env: { PATH: process.env.PATH } }).toString();
    expect(help).toMatch(/usage: caracal-migrate <command>/);
  });
});
