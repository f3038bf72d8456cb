// Runs the repository's real ESLint (eslint.config.mjs, as `npm run lint` does) over probe sources, each linted as
// if it were the named file of the repository, in one ESLint process. Used by the import-boundary tests.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** ESLint's messages for each [file, source] probe, keyed by file. */
export function lintProbes(probes: ReadonlyArray<readonly [string, string]>): Record<string, string[]> {
  const script = `
    const { ESLint } = require('eslint');
    const probes = JSON.parse(process.argv[1]);
    (async () => {
      const eslint = new ESLint({ cwd: process.cwd() });
      const out = {};
      for (const [file, source] of probes) {
        const [r] = await eslint.lintText(source, { filePath: require('node:path').resolve(file) });
        out[file] = r.messages.map((m) => m.message);
      }
      process.stdout.write(JSON.stringify(out));
    })();`;
  const r = spawnSync(process.execPath, ['-e', script, JSON.stringify(probes)], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout) throw new Error(`eslint did not run: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
