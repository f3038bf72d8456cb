// Where the CLI writes: results on stdout, progress and errors on stderr. Secrets are masked only where they can
// appear (src/migrate/redact.ts): connection strings everywhere, registered secrets in unexpected errors. Server
// messages reach here already masked by the core, which knows what it sent.
import { ExitCode, MigrateError } from '../migrate/errors';
import { maskConnectionStrings, maskUnknownText } from '../migrate/redact';

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

  /** A secret (a password) this run knows: masked in an unexpected error, whose text could come from anywhere. */
  redact(secret: string | undefined): void {
    if (secret && secret.length > 0) this.secrets.push(secret);
  }

  stdout(text: string): void {
    this.out(maskConnectionStrings(text.endsWith('\n') ? text : `${text}\n`));
  }

  /** A value as JSON on stdout; strings are masked before serializing, so the JSON always parses. */
  json(value: unknown): void {
    this.out(`${JSON.stringify(value, (_key, v) => (typeof v === 'string' ? maskConnectionStrings(v) : v), 2)}\n`);
  }

  progress(text: string): void {
    if (!this.quiet) this.err(maskConnectionStrings(`caracal-migrate: ${text}\n`));
  }

  /** A line the operator must see even with --quiet (server warnings and notices). */
  notice(text: string): void {
    this.err(maskConnectionStrings(`caracal-migrate: ${text}\n`));
  }

  fail(e: unknown): number {
    if (e instanceof MigrateError) {
      this.err(maskConnectionStrings(`caracal-migrate: error: ${e.message}\n${e.firstCheck ? `  first check: ${e.firstCheck}\n` : ''}`));
      return e.exitCode;
    }
    const msg = maskUnknownText(e instanceof Error ? (e.stack ?? e.message) : String(e), this.secrets);
    this.err(
      `caracal-migrate: unexpected error: ${msg}\n  first check: database secret, host, port, user, database, SSL mode, and advisory-lock connectivity\n`,
    );
    return ExitCode.MIGRATION_FAILED;
  }
}
