// `caracal-migrate validate`: the CLI side of src/validate (loaded lazily by ./index.ts, so the parser it needs
// never weighs on `up`). One line per check, like the seed's validateMigrations.sh; exit 4 on any failure.
import { ExitCode } from '../../migrate/errors';
import { formatNotice, RunnerOptions } from '../../migrate/runner';
import { dropScratchDatabases, validateMigrations } from '../../validate';
import { formatChecks } from '../../verify';
import { checkAccessMatrixFlag } from '../../verify/access-matrix';
import type { CheckResult } from '../../verify/checks';
import { Flags, integerFlag, migrationsDir, runnerOptions, runnerTimings, str } from '../flags';
import type { Output } from '../output';

export function checkLine(c: CheckResult): string {
  return formatChecks([c]).split('\n').slice(0, -1).join('\n');
}

export async function run(flags: Flags, out: Output): Promise<number> {
  const staticOnly = flags.static === true;
  // --static needs no database, so no connection settings (and no password) either.
  const options = staticOnly
    ? ({ dir: migrationsDir(flags), ...runnerTimings(flags) } as Partial<RunnerOptions> & { dir: string })
    : runnerOptions(flags, out);
  const matrix = str(flags, 'access-matrix');
  if (matrix !== undefined) checkAccessMatrixFlag(matrix);
  const concurrency = integerFlag(flags, 'concurrency', 1, 64);
  // A cancelled CI job (SIGTERM) or Ctrl-C (SIGINT) must not leave scratch databases behind: drop them
  // (WITH (FORCE) ends the migrators' sessions), then exit 128 + signal number.
  // Dropping them ends the run's sessions, so the run itself then fails fast: its verdict must not win the
  // race with the drop, hence `cancelled`, awaited before any result is returned.
  let scratch: readonly string[] = [];
  let cancelled: Promise<never> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    out.progress(`${signal}: dropping scratch databases ${scratch.join(', ')}`);
    const code = 128 + (signal === 'SIGINT' ? 2 : 15);
    const server = 'connection' in options ? options.connection : undefined;
    const drop = server && scratch.length ? dropScratchDatabases(server, scratch) : Promise.resolve();
    cancelled = drop.catch(() => undefined).then(() => process.exit(code));
  };
  // While validate runs it owns SIGINT/SIGTERM: the CLI entry's handler exits at once (right for `up`, whose
  // transaction the server rolls back), which would leave the scratch databases. Its listeners come back after.
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const saved = signals.map((sig) => [sig, process.listeners(sig)] as const);
  for (const sig of signals) {
    process.removeAllListeners(sig);
    process.once(sig, onSignal);
  }
  const running = validateMigrations({
    dir: options.dir,
    server: options.connection,
    staticOnly,
    concurrency,
    accessMatrixFile: matrix,
    runner: {
      lockWaitMs: options.lockWaitMs,
      lockTimeoutMs: options.lockTimeoutMs,
      statementTimeoutMs: options.statementTimeoutMs,
      lockRetries: options.lockRetries,
      lockRetryBackoffMs: options.lockRetryBackoffMs,
    },
    onCheck: flags.json ? undefined : (c) => out.stdout(checkLine(c)),
    onProgress: (m) => out.progress(m),
    onNotice: (n) => out.notice(formatNotice(n)),
    onScratchDatabases: (names) => {
      scratch = names;
    },
  });
  const report = await running.finally(async () => {
    if (cancelled) await cancelled;
    for (const [sig, listeners] of saved) {
      process.removeListener(sig, onSignal);
      for (const l of listeners) process.on(sig, l as NodeJS.SignalsListener);
    }
  });
  if (flags.json) {
    out.json({ ok: report.ok, directory: options.dir, checks: report.checks, notices: report.notices });
  } else {
    const failed = report.checks.filter((c) => !c.ok).length;
    out.stdout(
      failed ? `validate: ${failed} of ${report.checks.length} checks failed` : `validate: all ${report.checks.length} checks passed`,
    );
  }
  return report.ok ? ExitCode.OK : ExitCode.CHECK_FAILED;
}
