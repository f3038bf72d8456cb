// Typed errors of the migration runner core. Each carries the CLI exit code it maps to, so the core never
// exits and the CLI never guesses. Messages say what failed, where, and the first thing to check.

/** Stable, documented exit codes of `caracal-migrate`. */
export const ExitCode = {
  /** Done, nothing to do, or the database is ahead of the files (an application rollback). */
  OK: 0,
  /** A migration failed (its transaction was rolled back), or the connection was lost while applying. */
  MIGRATION_FAILED: 1,
  /** Usage, configuration, connection settings, precondition, or an unsafe migration file. */
  CONFIG: 2,
  /** The advisory lock deadline (`--lock-wait`) passed while another runner held the lock. */
  LOCK_TIMEOUT: 3,
  /** Checksum drift, a gap, an out-of-order file, or a failed `verify`/`validate` check. */
  CHECK_FAILED: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: every error the core throws on purpose. */
export class MigrateError extends Error {
  readonly exitCode: ExitCodeValue;
  /** One line on what to check first (the seed's troubleshooting words), when there is one. */
  readonly firstCheck?: string;
  constructor(message: string, exitCode: ExitCodeValue, firstCheck?: string) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.firstCheck = firstCheck;
  }
}

/** Bad flag or environment variable value, missing password file, bad TLS files. */
export class ConfigError extends MigrateError {
  constructor(message: string, firstCheck?: string) {
    super(message, ExitCode.CONFIG, firstCheck);
  }
}

/** The password file (PGPASSWORD_FILE or its default path) is missing, unreadable or empty. */
export class PasswordFileError extends ConfigError {
  readonly path: string;
  constructor(message: string, path: string, firstCheck: string) {
    super(message, firstCheck);
    this.path = path;
  }
}

/** A precondition that must hold before anything runs (privileges, direct endpoint). */
export class PreconditionError extends MigrateError {
  constructor(message: string, firstCheck?: string) {
    super(message, ExitCode.CONFIG, firstCheck);
  }
}

/** A file in the migrations directory that does not follow the grammar or is unsafe to run. */
export class UnsafeFilenameError extends MigrateError {
  readonly file: string;
  constructor(file: string, reason: string) {
    super(
      `unsafe migration file ${JSON.stringify(file)}: ${reason}`,
      ExitCode.CONFIG,
      'the migrations directory: files are NNNN_name.up.sql (4 to 18 digits, lower-case name), forward-only',
    );
    this.file = file;
  }
}

/**
 * The directory's checksum manifest (common/migration-manifest.ts) is damaged, or disagrees with the directory or with
 * a file `up` was about to apply: the migrations ConfigMap is not what synth wrote.
 */
export class ChecksumManifestError extends MigrateError {
  readonly problems: readonly string[];
  constructor(manifest: string, problems: readonly string[]) {
    super(
      `checksum manifest ${manifest} refused, nothing was applied:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      ExitCode.CONFIG,
      'the migrations ConfigMap: it must hold exactly what synth wrote (files and manifest); synthesize and deploy the chart again rather than editing it',
    );
    this.problems = problems;
  }
}

/** Could not connect (or lost the connection before any migration started). */
export class ConnectionError extends MigrateError {
  /** The connection part to check first: secret, host, port, user, database, SSL mode, advisory lock. */
  readonly field: 'secret' | 'host' | 'port' | 'user' | 'database' | 'sslmode' | 'connection';
  readonly code?: string;
  constructor(message: string, field: ConnectionError['field'], firstCheck: string, code?: string) {
    super(message, ExitCode.CONFIG, firstCheck);
    this.field = field;
    this.code = code;
  }
}

/** Another runner held the advisory lock past the deadline. */
export class LockTimeoutError extends MigrateError {
  readonly holderPid?: number;
  readonly holderApplicationName?: string;
  constructor(waitedMs: number, holder?: { pid: number; applicationName: string }) {
    const who = holder
      ? `held by pid ${holder.pid} (application_name ${JSON.stringify(holder.applicationName)})`
      : 'held by another session';
    super(
      `could not take the migration advisory lock within ${formatMs(waitedMs)}: ${who}`,
      ExitCode.LOCK_TIMEOUT,
      'advisory-lock connectivity: is another caracal-migrate still running (or stuck) against this database? ' +
        'raise --lock-wait, or end the holder with pg_terminate_backend(pid) once you are sure it is dead',
    );
    this.holderPid = holder?.pid;
    this.holderApplicationName = holder?.applicationName;
  }
}

/** Problems found by comparing the files with public.schema_migrations (exit 4). */
export class MigrationHistoryError extends MigrateError {
  readonly problems: readonly string[];
  constructor(summary: string, problems: readonly string[], firstCheck: string) {
    super(`${summary}:\n${problems.map((p) => `  - ${p}`).join('\n')}\nthe database was not changed`, ExitCode.CHECK_FAILED, firstCheck);
    this.problems = problems;
  }
}

/** An applied file whose content (or name) changed since it was applied. */
export class ChecksumDriftError extends MigrationHistoryError {
  constructor(problems: readonly string[], renamed = false) {
    super(
      renamed ? 'drift: applied migration files were renamed or replaced' : 'checksum drift: applied migration files were edited',
      problems,
      renamed
        ? 'restore the applied files under their recorded names and give a new change a new version; if a file was only renamed (the same change), run `caracal-migrate repair --version N --rename`'
        : 'restore the applied files as they were and add a new migration instead; if the change is deliberate and reviewed, run `caracal-migrate repair --version N`',
    );
  }
}

/** An applied version in the middle of the history whose file is gone. */
export class MigrationGapError extends MigrationHistoryError {
  constructor(problems: readonly string[]) {
    super(
      'gap: applied migrations are missing from the directory',
      problems,
      'the migrations directory (or ConfigMap) is incomplete: deploy every file up to the newest one',
    );
  }
}

/** A new file whose version sorts before the newest applied one. */
export class OutOfOrderError extends MigrationHistoryError {
  constructor(problems: readonly string[]) {
    super(
      'out of order: new migration files sort before the newest applied version',
      problems,
      'renumber the new file after the newest applied version',
    );
  }
}

/** A migration's SQL failed; its transaction was rolled back. */
export class MigrationFailedError extends MigrateError {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly sqlState?: string;
  /** The connection was lost while applying (a restart, a failover or a switchover), not a failure of the SQL. */
  readonly connectionLost: boolean;
  constructor(args: {
    file: string;
    line?: number;
    column?: number;
    sqlState?: string;
    detail: string;
    firstCheck?: string;
    transactional: boolean;
    connectionLost?: boolean;
  }) {
    const where = `${args.file}${args.line !== undefined ? `:${args.line}${args.column !== undefined ? `:${args.column}` : ''}` : ''}`;
    const state = args.sqlState ? ` (SQLSTATE ${args.sqlState})` : '';
    const undo = args.transactional
      ? 'its transaction was rolled back and nothing of this file was recorded'
      : 'this file runs without a transaction: statements before the failing one stay applied; rerun after fixing (its statements must be idempotent)';
    super(`migration ${where} failed${state}: ${args.detail}\n${undo}`, ExitCode.MIGRATION_FAILED, args.firstCheck);
    this.file = args.file;
    this.line = args.line;
    this.column = args.column;
    this.sqlState = args.sqlState;
    this.connectionLost = args.connectionLost ?? false;
  }
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}
