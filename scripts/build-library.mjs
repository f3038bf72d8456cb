// `npm run build`, second step: compiles the construct library (constructs/ and the common/ it uses) to CommonJS
// with .d.ts into dist/constructs and dist/common, what the package's `exports` point at. Plain `node` loads it, and
// a consumer's compiler settings never apply to the library's code. Stale output of removed modules goes first.
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (const dir of ['constructs', 'common']) rmSync(path.join(root, 'dist', dir), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (run.status !== 0) {
  console.error('build: the library does not compile (tsc -p tsconfig.build.json)');
  process.exit(run.status ?? 1);
}
if (!process.argv.includes('--quiet')) console.log('built dist/constructs and dist/common (JavaScript and .d.ts)');
