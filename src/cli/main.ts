// caracal-migrate: the thin CLI over the cores (src/migrate, src/validate, src/verify, src/provision). It parses
// flags, dispatches to a command adapter in ./commands, and maps typed errors to the documented exit codes.
// Commands load lazily, so heavy ones never weigh on `up`. How to add a command: ./commands/index.ts.
import { ExitCode } from '../migrate/errors';
import { parseArgs, UsageError } from './args';
import { COMMANDS } from './commands';
import { FLAGS, GLOBAL_FLAGS } from './flags';
import { Output } from './output';

export { COMMANDS } from './commands';
export type { CommandModule, CommandSpec } from './commands';
export { FLAGS } from './flags';

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
  doctor: 0 all well, 4 a finding, 2 something could not be checked (and nothing was found)

doctor also reads REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD_FILE, and DB_POOL_MAX with PGAPPNAME
`;
}

/** Run the CLI; resolves to the exit code. Never throws: errors are printed by Output.fail. */
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
