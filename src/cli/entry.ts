// Entry of caracal-migrate (bin/caracal-migrate.js, and the esbuild bundle dist/caracal-migrate.cjs the Job runs).
import { runCli } from './main';

/** Run with these arguments and exit with the documented code once output is flushed. */
export function main(argv: readonly string[] = process.argv.slice(2)): void {
  void runCli(argv).then((code) => {
    // Exit once stdout/stderr drained: a pending socket must not keep a finished Job alive.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}

if (require.main === module) main();
