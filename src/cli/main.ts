// caracal-migrate: the thin CLI over src/migrate. It parses flags, calls the core, prints, and maps typed
// errors to the documented exit codes. Subcommands load lazily, so heavy ones never weigh on `up`.
import { ExitCode, MigrateError } from '../migrate/errors';
import { parseArgs, FlagSpec, UsageError } from './args';
import { Output } from './output';

export interface CommandModule {
  run(flags: Record<string, string | string[] | true>, out: Output): Promise<number>;
}

/** Subcommands, required only when chosen (validate/verify/repair add here without touching the Job's path). */
/** The flags runnerOptions reads (and so validates). */
const RUNNER_FLAGS = [
  'dir',
  'database-url',
  'wait-for-db',
  'connect-timeout',
  'lock-wait',
  'lock-timeout',
  'lock-retries',
  'lock-retry-backoff',
  'statement-timeout',
  'concurrent-statement-timeout',
  'connection-check-interval',
];
/** Flags every command takes. */
const GLOBAL_FLAGS = ['quiet', 'help'];

/** Each command lists the flags it reads: any other is refused rather than silently ignored (and so never validated). */
export const COMMANDS: Record<string, { summary: string; flags: readonly string[]; load: () => CommandModule }> = {
  up: {
    summary: 'apply every pending migration (the migration Job runs this)',
    flags: [...RUNNER_FLAGS, 'provision'],
    load: () => require('./commands/up'),
  },
  status: {
    summary: 'show applied, pending, drifted, missing and ahead versions (exit 4 on drift, gap or order problems)',
    flags: [...RUNNER_FLAGS, 'json'],
    load: () => require('./commands/status'),
  },
  repair: {
    summary: 'accept a reviewed edit of applied files: record the new checksum, who and when (--version N)',
    flags: [...RUNNER_FLAGS, 'version', 'reason'],
    load: () => require('./commands/repair'),
  },
  validate: {
    summary: 'check the migration files (grammar, expand-only) and apply them to scratch databases (exit 4 on a failed check)',
    flags: [...RUNNER_FLAGS, 'static', 'access-matrix', 'concurrency', 'json'],
    load: () => require('../validate/command'),
  },
  verify: {
    summary: 'read-only checks of a live database against the seed (exit 4 on a failed check)',
    flags: [
      'dir',
      'database-url',
      'connect-timeout',
      'lock-timeout',
      'statement-timeout',
      'access-matrix',
      'behavioural',
      'partition-days-ahead',
      'retention-days',
      'json',
    ],
    load: () => require('../verify/command'),
  },
  provision: {
    summary: 'create/update the per-environment login roles from --config FILE (the schema must be migrated)',
    flags: ['config', 'database-url', 'connect-timeout'],
    load: () => require('../provision/command'),
  },
};

export const FLAGS: Record<string, FlagSpec> = {
  dir: { value: true, help: 'migrations directory (default: migrations/); may be a ConfigMap mount' },
  'database-url': {
    value: true,
    help: 'postgres://user[:password]@host:port/database[?sslmode=...]; wins over DATABASE_URL and PG* variables',
  },
  'wait-for-db': { optionalValue: '60s', help: 'retry connecting until this deadline (bare flag: 60s)' },
  'connect-timeout': { value: true, help: 'timeout of one connection attempt (default: PGCONNECT_TIMEOUT, else 10s)' },
  'lock-wait': { value: true, help: 'deadline for taking the migration advisory lock (default 5m); exit 3 past it' },
  'lock-timeout': { value: true, help: 'lock_timeout of migration statements (default 5s)' },
  'lock-retries': { value: true, help: 'retries of a file that hit lock_timeout or a deadlock (default 5)' },
  'lock-retry-backoff': { value: true, help: 'first wait between those retries, doubled each time (default 1s)' },
  'statement-timeout': { value: true, help: 'session statement_timeout (default 15m; 0 disables)' },
  'concurrent-statement-timeout': {
    value: true,
    help: 'statement_timeout of CONCURRENTLY statements in no-transaction files (default 0: none)',
  },
  'connection-check-interval': { value: true, help: 'client_connection_check_interval on Postgres 14+ (default 2s; 0 disables)' },
  provision: { value: true, help: 'up: after migrating, provision the login roles from this provision.json (what the Job runs)' },
  config: { value: true, help: 'provision: the provision.json the hook chart mounts' },
  'access-matrix': { value: true, help: 'validate/verify: the access matrix file (default: the one built in from docs/access-matrix.md)' },
  static: { help: 'validate: static checks only (no scratch databases)' },
  concurrency: { value: true, help: 'validate: concurrent migrators to race on a scratch database' },
  behavioural: { help: 'verify: also run rolled-back behavioural probes as each role' },
  'partition-days-ahead': { value: true, help: 'verify: audit partitions that must exist ahead of today' },
  'retention-days': { value: true, help: 'verify: audit retention in days (default 400); older partitions are reported' },
  json: { help: 'status/validate/verify: print JSON for machines' },
  version: { value: true, repeat: true, help: 'repair: a version to accept (repeatable)' },
  reason: { value: true, help: 'repair: why the edit is accepted (recorded)' },
  quiet: { help: 'print no progress lines, only results and errors' },
  help: { help: 'show this help' },
};

export function usage(): string {
  const cmds = Object.entries(COMMANDS)
    .map(([n, c]) => `  ${n.padEnd(8)} ${c.summary}`)
    .join('\n');
  const flags = Object.entries(FLAGS)
    .map(([n, f]) => `  --${(n + (f.value ? ' VALUE' : f.optionalValue ? '[=DURATION]' : '')).padEnd(36)} ${f.help}`)
    .join('\n');
  return `usage: caracal-migrate <command> [flags]

commands:
${cmds}

flags:
${flags}

connection (libpq names): PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGPASSWORD_FILE
  (default \${CARACAL_SECRETS_DIR:-\${CARACAL_HOME:-$HOME/.local/share/caracal}/secrets}/postgresPassword),
  DATABASE_URL, PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY, PGCONNECT_TIMEOUT

exit codes: 0 done / nothing to do / database ahead (rollback), 1 a migration failed, 2 usage, configuration,
  connection or unsafe file, 3 advisory lock deadline passed, 4 drift, gap or order violation
`;
}

/** Run the CLI; resolves to the exit code. Never throws. */
export async function runCli(argv: readonly string[], out: Output = Output.process()): Promise<number> {
  try {
    const { command, flags } = parseArgs(argv, FLAGS, Object.keys(COMMANDS));
    if (flags.help) {
      out.stdout(usage());
      return ExitCode.OK;
    }
    if (!command) throw new UsageError(`a command is required: ${Object.keys(COMMANDS).join(', ')} (see --help)`);
    const accepted = [...COMMANDS[command].flags, ...GLOBAL_FLAGS];
    for (const name of Object.keys(flags)) {
      if (!accepted.includes(name))
        throw new UsageError(`flag --${name} does not apply to ${command}: ${command} accepts ${accepted.map((f) => `--${f}`).join(', ')}`);
    }
    if (flags.quiet) out.quiet = true;
    return await COMMANDS[command].load().run(flags, out);
  } catch (e) {
    return out.fail(e);
  }
}

/** Print an error in the runner's format and return its exit code. */
export function exitCodeOf(e: unknown): number {
  return e instanceof MigrateError ? e.exitCode : ExitCode.MIGRATION_FAILED;
}
