// The file name of an applied version is part of what was applied: a different file under the same version is drift
// that names both files, and `repair` accepts a changed name only when told it is a rename of the same change.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freshDatabase, FreshDatabase, withClient } from '../../support/postgres';
import { envFor, migrationsDir, runCli, tempDir } from '../../fixtures/migrate/cli';

let db: FreshDatabase;
beforeEach(async () => {
  db = await freshDatabase();
});
afterEach(async () => {
  await db.drop();
});

const W = 'CREATE TABLE public.w (i int);\n';
const OTHER = 'CREATE TABLE public.other (i int);\n';
const history = (url: string) =>
  withClient(url, async (c) => (await c.query('SELECT version::int AS v, name, checksum FROM public.schema_migrations ORDER BY 1')).rows);

/** 0001_w applied, then the directory's 0001 replaced by 0001_other (with `content`). */
async function replaced(content: string): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = migrationsDir({ '0001_w.up.sql': W });
  const env = envFor(db);
  expect((await runCli(['up', '--dir', dir], env)).code).toBe(0);
  writeFileSync(path.join(dir, '0001_w.up.sql'), content);
  renameSync(path.join(dir, '0001_w.up.sql'), path.join(dir, '0001_other.up.sql'));
  return { dir, env };
}

describe('an applied version whose file name changed', () => {
  test('GIVEN 0001_w applied and replaced by a different 0001_other WHEN status runs THEN the drifted row names the recorded file too, as text and as JSON', async () => {
    const { dir, env } = await replaced(OTHER);
    const text = await runCli(['status', '--dir', dir], env);
    const json = await runCli(['status', '--dir', dir, '--json'], env);
    expect({ code: text.code, stdout: text.stdout }).toEqual({
      code: 4,
      stdout: expect.stringMatching(/^drifted\s+0001\s+0001_other\.up\.sql \(applied as 0001_w\.up\.sql\)/m),
    });
    expect(JSON.parse(json.stdout).migrations).toEqual([
      expect.objectContaining({ version: '1', state: 'drifted', filename: '0001_other.up.sql', appliedName: 'w' }),
    ]);
  });

  test.each([
    ['a different file', OTHER],
    ['the same content under another name', W],
  ])(
    'GIVEN 0001_w applied and replaced by %s named 0001_other WHEN up runs THEN it exits 4 naming both files and changes nothing',
    async (_t, content) => {
      const { dir, env } = await replaced(content);
      const before = await history(db.url);
      const r = await runCli(['up', '--dir', dir], env);
      expect({ code: r.code, stderr: r.stderr }).toEqual({
        code: 4,
        stderr: expect.stringMatching(/0001_other\.up\.sql: version 1 was applied as 0001_w\.up\.sql/),
      });
      expect(await history(db.url)).toEqual(before);
    },
  );

  test('GIVEN that drift WHEN repair --version 1 runs without --rename THEN it exits 2 naming the directory and both files, and records nothing', async () => {
    const { dir, env } = await replaced(OTHER);
    const before = await history(db.url);
    const r = await runCli(['repair', '--dir', dir, '--version', '1', '--reason', 'reviewed'], env);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(/version 1: the file is 0001_other\.up\.sql but 0001_w\.up\.sql was applied[\s\S]*--rename/),
    });
    expect(r.stdout + r.stderr).toContain(dir);
    expect(await history(db.url)).toEqual(before);
  });

  test('GIVEN a reviewed rename WHEN repair --version 1 --rename runs THEN it prints the directory and the files compared, records the new name, and up has nothing to do', async () => {
    const { dir, env } = await replaced(W);
    const r = await runCli(['repair', '--dir', dir, '--version', '1', '--rename', '--reason', 'renamed, same change'], env);
    expect({ code: r.code, stdout: r.stdout }).toEqual({
      code: 0,
      stdout: expect.stringMatching(/comparing .*: version 1: file 0001_other\.up\.sql, applied as 0001_w\.up\.sql/),
    });
    expect(r.stdout).toContain(`migrations directory: ${dir}`);
    expect((await history(db.url)).map((h) => [h.v, h.name])).toEqual([[1, 'other']]);
    const up = await runCli(['up', '--dir', dir], env);
    expect({ code: up.code, stdout: up.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/nothing to do: 1 already applied/) });
  });

  test('GIVEN a project directory WHEN repair runs without --dir THEN its output names the ./migrations directory it compared', async () => {
    const project = tempDir('caracal-project-');
    mkdirSync(path.join(project, 'migrations'));
    writeFileSync(path.join(project, 'migrations', '0001_w.up.sql'), W);
    const env = envFor(db);
    expect((await runCli(['up'], env, { cwd: project })).code).toBe(0);
    writeFileSync(path.join(project, 'migrations', '0001_w.up.sql'), `${W}-- reviewed edit\n`);
    const r = await runCli(['repair', '--version', '1', '--reason', 'comment only'], env, { cwd: project });
    expect({ code: r.code, stdout: r.stdout }).toEqual({
      code: 0,
      stdout: expect.stringContaining(
        `migrations directory: ${path.join(project, 'migrations')} (the default, ./migrations; --dir chooses another)`,
      ),
    });
  });
});
