// Entry of caracal-migrate (bin/caracal-migrate.js, and the esbuild bundle dist/caracal-migrate.cjs the Job runs).
import { runCli } from './main';

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** Run with these arguments and exit with the documented code once output is flushed. */
export function main(argv: readonly string[] = process.argv.slice(2)): void {
  // A Job being deleted gets SIGTERM: closing the socket is enough, since the server ends the backend (within
  // client_connection_check_interval), rolls back the file's transaction and frees the advisory lock.
  for (const signal of Object.keys(SIGNAL_EXIT)) {
    process.once(signal, () => {
      process.stderr.write(
        `caracal-migrate: interrupted by ${signal}: the file in progress is rolled back by the server; rerun to finish\n`,
        () => process.exit(SIGNAL_EXIT[signal]),
      );
    });
  }
  void runCli(argv).then((code) => {
    // Exit once stdout/stderr drained: a pending socket must not keep a finished Job alive.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}

if (require.main === module) main();
