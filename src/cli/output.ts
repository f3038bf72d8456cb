// Where the CLI writes: results on stdout, progress and errors on stderr, with every known secret redacted.
import { ExitCode, MigrateError } from '../migrate/errors';

export class Output {
  quiet = false;
  private readonly secrets: string[] = [];

  constructor(
    private readonly out: (s: string) => void,
    private readonly err: (s: string) => void,
  ) {}

  static process(): Output {
    return new Output(
      (s) => process.stdout.write(s),
      (s) => process.stderr.write(s),
    );
  }

  /** Never print this value (a password), whatever message carries it. */
  redact(secret: string | undefined): void {
    if (secret && secret.length > 0) this.secrets.push(secret);
  }

  private clean(s: string): string {
    let r = s;
    for (const secret of this.secrets) r = r.split(secret).join('***');
    return r;
  }

  stdout(text: string): void {
    this.out(this.clean(text.endsWith('\n') ? text : `${text}\n`));
  }

  progress(text: string): void {
    if (!this.quiet) this.err(this.clean(`caracal-migrate: ${text}\n`));
  }

  fail(e: unknown): number {
    if (e instanceof MigrateError) {
      this.err(this.clean(`caracal-migrate: error: ${e.message}\n${e.firstCheck ? `  first check: ${e.firstCheck}\n` : ''}`));
      return e.exitCode;
    }
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    this.err(
      this.clean(
        `caracal-migrate: unexpected error: ${msg}\n  first check: database secret, host, port, user, database, SSL mode, and advisory-lock connectivity\n`,
      ),
    );
    return ExitCode.MIGRATION_FAILED;
  }
}
