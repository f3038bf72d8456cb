// `caracal-migrate plan`: the table locks, scans, rewrites and duration class of every statement of the pending
// files (src/plan). Offline from the files alone, or against a database (pending files and table sizes). Exit 0
// whatever the plan says; 2 for usage, configuration or connection problems.
import { discoverMigrations } from '../../migrate/files';
import { ConfigError, ExitCode } from '../../migrate/errors';
import { describeConnection } from '../../migrate/connection';
import { formatPlan, planLocks } from '../../plan';
import { readDatabaseFacts } from '../../plan/database';
import { connectionFrom, Flags, migrationsDir, str } from '../flags';
import type { Output } from '../output';

/** Offline unless a database is named: --database-url, DATABASE_URL, PGHOST or PGDATABASE (and no --offline). */
export function plansOffline(flags: Flags, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flags.offline === true) return true;
  return str(flags, 'database-url') === undefined && !env.DATABASE_URL && !env.PGHOST && !env.PGDATABASE;
}

function fromVersion(flags: Flags): bigint | undefined {
  const v = str(flags, 'from');
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,18}$/.test(v))
    throw new ConfigError(`--from=${JSON.stringify(v)} is not valid: expected a migration version (1 to 18 digits, e.g. 0002)`);
  return BigInt(v);
}

export async function run(flags: Flags, out: Output): Promise<number> {
  const dir = migrationsDir(flags);
  const from = fromVersion(flags);
  const offline = plansOffline(flags);
  if (!offline && from !== undefined)
    throw new ConfigError(
      '--from plans offline; with a database the pending files come from public.schema_migrations: drop --from, or add --offline',
    );
  const files = discoverMigrations(dir);
  let header: string;
  let planned;
  if (offline) {
    // Without a database nothing is known to be applied: every file from --from on (by default, every file after
    // the baseline), in the context of the files before it.
    const first = from ?? 2n;
    planned = await planLocks({ files, pending: (f) => f.version >= first });
    header = `plan of ${planned.length} file(s) from version ${first} on, from the files alone (no database: duration classes without table sizes)`;
  } else {
    const connection = connectionFrom(flags, out);
    const facts = await readDatabaseFacts(connection, files);
    planned = await planLocks({ files, pending: (f) => facts.pending.has(f.version), sizes: facts.sizes });
    header = `plan of ${planned.length} pending file(s) for ${describeConnection(connection)} (${facts.applied} applied; table sizes from the database)`;
  }
  if (flags.json) {
    out.stdout(JSON.stringify({ files: planned }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
  } else {
    out.stdout(header);
    if (planned.length) out.stdout(formatPlan(planned));
  }
  return ExitCode.OK;
}
