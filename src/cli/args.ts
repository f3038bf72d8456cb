// Strict command-line parsing for caracal-migrate: every flag is known, typed, and named in its error.
import { ConfigError } from '../migrate/errors';

export interface FlagSpec {
  /** Takes a value (`--flag value` or `--flag=value`). */
  readonly value?: boolean;
  /** The value is optional (`--flag` alone uses `implicit`); only `--flag=value` or a following duration sets it. */
  readonly optionalValue?: string;
  /** May be repeated (values collected). */
  readonly repeat?: boolean;
  readonly help: string;
}

export interface ParsedArgs {
  readonly command?: string;
  readonly flags: Record<string, string | string[] | true>;
}

export class UsageError extends ConfigError {}

export function parseArgs(argv: readonly string[], specs: Record<string, FlagSpec>, commands: readonly string[]): ParsedArgs {
  const flags: Record<string, string | string[] | true> = {};
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') {
      flags.help = true;
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const spec = specs[name];
      if (!spec) {
        throw new UsageError(
          `unknown flag --${name}: accepted flags are ${Object.keys(specs)
            .map((f) => `--${f}`)
            .join(', ')}`,
        );
      }
      let value: string | true;
      if (eq >= 0) {
        if (!spec.value && spec.optionalValue === undefined)
          throw new UsageError(`flag --${name} takes no value (got ${JSON.stringify(arg.slice(eq + 1))})`);
        value = arg.slice(eq + 1);
      } else if (spec.value) {
        if (i + 1 >= argv.length || (argv[i + 1].startsWith('--') && argv[i + 1].length > 2)) {
          throw new UsageError(`flag --${name} needs a value: ${spec.help}`);
        }
        value = argv[++i];
      } else if (spec.optionalValue !== undefined) {
        value = i + 1 < argv.length && /^[0-9]+(\.[0-9]+)?(ms|s|m|h)?$/.test(argv[i + 1]) ? argv[++i] : spec.optionalValue;
      } else {
        value = true;
      }
      // An empty value (`--dir=`, `--dir ""`) would silently mean the current directory, no reason, and so on.
      if (spec.value && value === '') throw new UsageError(`flag --${name} needs a value, got an empty one: ${spec.help}`);
      if (spec.repeat) {
        const list = (flags[name] as string[] | undefined) ?? [];
        list.push(String(value));
        flags[name] = list;
      } else {
        if (flags[name] !== undefined) throw new UsageError(`flag --${name} is given twice`);
        flags[name] = value;
      }
      continue;
    }
    if (command === undefined) {
      if (!commands.includes(arg)) {
        throw new UsageError(`unknown command ${JSON.stringify(arg)}: accepted commands are ${commands.join(', ')}`);
      }
      command = arg;
      continue;
    }
    throw new UsageError(`unexpected argument ${JSON.stringify(arg)}: ${command} takes flags only`);
  }
  return { command, flags };
}
