// The constructs find the package's own runner bundle and migrations from their own location, not the cwd.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultMigrationsDir, defaultRunnerBundlePath, packageRoot } from '../../../../constructs/internal/package-files';

describe('package files', () => {
  test('GIVEN the source tree WHEN the package root is looked up THEN it is the directory of the @caracal/stores package.json', () => {
    const root = packageRoot();

    expect(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).name).toBe('@caracal/stores');
    expect(root).toBe(path.resolve(__dirname, '../../../..'));
  });

  test('GIVEN the package root THEN the defaults are its dist/caracal-migrate.cjs and its migrations/ with the baseline', () => {
    expect(defaultRunnerBundlePath()).toBe(path.join(packageRoot(), 'dist', 'caracal-migrate.cjs'));
    expect(existsSync(path.join(defaultMigrationsDir(), '0001_baseline.up.sql'))).toBe(true);
  });
});
