// The package's own files a construct reads at synth: the runner bundle (`dist/caracal-migrate.cjs`, made by
// `npm run build`, never at synth) and `migrations/`, found from this module in the source tree or a compiled dist/.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const PACKAGE_NAME = '@caracal/stores';

/** The package root (the directory of the package.json named @caracal/stores above this module). */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === PACKAGE_NAME) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(__dirname, '..', '..');
    dir = up;
  }
}

/** The runner bundle the migration Job's chart carries by default. */
export function defaultRunnerBundlePath(): string {
  return path.join(packageRoot(), 'dist', 'caracal-migrate.cjs');
}

/** The package's migrations directory (0001_baseline.up.sql and the expand-only files after it). */
export function defaultMigrationsDir(): string {
  return path.join(packageRoot(), 'migrations');
}
