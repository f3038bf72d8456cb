// The runner's words: counts agree with their nouns, transaction-control commands are named as SQL spells them,
// and the first check for a bad file name states the grammar the runner enforces.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freshDatabase, FreshDatabase } from '../../support/postgres';
import { BASIC, envFor, migrationsDir, runCli } from '../../fixtures/migrate/cli';

let db: FreshDatabase;
beforeEach(async () => {
  db = await freshDatabase();
});
afterEach(async () => {
  await db.drop();
});

describe('runner messages', () => {
  test.each([
    [1, 'nothing to do: 1 migration applied'],
    [3, 'nothing to do: 3 migrations applied'],
  ])('GIVEN %i applied migration(s) WHEN up runs again THEN it says %j', async (n, line) => {
    const dir = migrationsDir(Object.fromEntries(Object.entries(BASIC).slice(0, n)));
    const env = envFor(db);
    expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
    const r = await runCli(['up', '--dir', dir], env);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining(`caracal-migrate: ${line}\n`) });
  });

  test.each([
    ['START TRANSACTION;\nCREATE TABLE public.t (i int);\nCOMMIT;\n', 'START TRANSACTION'],
    ["CREATE TABLE public.t (i int);\nPREPARE TRANSACTION 'x';\n", 'PREPARE TRANSACTION'],
    ['SAVEPOINT s;\nCREATE TABLE public.t (i int);\nRELEASE s;\n', 'SAVEPOINT'],
    ['CREATE TABLE public.t (i int);\nROLLBACK TO SAVEPOINT s;\n', 'ROLLBACK TO SAVEPOINT'],
  ])('GIVEN a file without the marker holding %j WHEN up runs THEN the refusal names %s', async (sql, command) => {
    const dir = migrationsDir({ '0001_own_tx.up.sql': sql });
    const r = await runCli(['up', '--dir', dir], envFor(db));
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(new RegExp(`0001_own_tx\\.up\\.sql:[0-9]+ has its own ${command}: `)),
    });
  });

  test('GIVEN a file name outside the grammar WHEN up runs THEN the first check states 4 to 18 digits', async () => {
    const dir = migrationsDir(BASIC);
    writeFileSync(path.join(dir, '004_short.up.sql'), 'SELECT 1;\n');
    const r = await runCli(['up', '--dir', dir], envFor(db));
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(/first check: the migrations directory: files are NNNN_name\.up\.sql \(4 to 18 digits, /),
    });
  });
});
