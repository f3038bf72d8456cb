// Restoring a backup into a new database, in an order that works for the non-superuser owner login of a managed
// database as well as for a superuser (docs/operations.md#1-postgres-and-runtime-secrets says why each step is
// there). Runs the real pg_restore; never prints (progress goes to onEvent).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { OWNER_ROLE } from '../../common/names';
import { connect, ConnectionSettings } from '../migrate/connection';
import { publicLargeObjectFunctions } from '../verify/function-checks';
import { ConfigError, PreconditionError } from '../migrate/errors';
import { BACKUP_LAYOUT } from '../../common/backup-script';
import type { Manifest } from './manifest';

/** The group role every Caracal object belongs to. */
const OWNER_GROUP = OWNER_ROLE;
/** Archive entries restored last, one by one: enabling RLS before every foreign key is validated breaks them. */
const LAST_ENTRY_KINDS = ['ROW SECURITY', 'POLICY'] as const;

export interface RestoreOptions {
  /** The backup directory (`<root>/<name>`, holding manifest.json and db/). */
  readonly backupDir: string;
  readonly manifest: Manifest;
  /** The restoring login, connected to any database of the target server (the new database is created). */
  readonly connection: ConnectionSettings;
  /** Name of the database to create and restore into; it must not exist, or be empty. */
  readonly targetDatabase: string;
  /** Directory holding pg_restore (the client of the server's major or newer). @default found on PATH */
  readonly pgBin?: string;
  /** pg_restore parallel jobs for data, indexes and constraints. @default 2 */
  readonly jobs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly onEvent?: (message: string) => void;
}

export interface RestoreOutcome {
  /** The pg_restore error lines (empty when it restored everything). */
  readonly errors: readonly string[];
  /** What the restore could not do as this login and the operator must do (e.g. BYPASSRLS needs a superuser). */
  readonly warnings: readonly string[];
  readonly superuser: boolean;
  readonly restoreMs: number;
  /**
   * The `verify` checks that fail until the operator does what a warning says (a superuser's step this login
   * could not take): `backup-role-reads` without BYPASSRLS, `large-objects` while PUBLIC may execute lo_*.
   */
  readonly pendingChecks: readonly string[];
}

/** pg_restore's TOC lines: `dumpId; tableoid oid KIND schema name owner`. */
export interface TocEntry {
  readonly id: number;
  readonly line: string;
  readonly kind: string;
}

/** Runs a client program with the connection in libpq's environment (the password never on a command line). */
export function runPgTool(
  program: string,
  args: readonly string[],
  o: { pgBin?: string; connection?: ConnectionSettings; database?: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...(o.env ?? process.env) };
  if (o.connection) {
    Object.assign(env, {
      PGHOST: o.connection.host,
      PGPORT: String(o.connection.port),
      PGUSER: o.connection.user,
      PGDATABASE: o.database ?? o.connection.database,
      PGSSLMODE: o.connection.sslMode,
      PGAPPNAME: 'caracal-restore',
      PGCONNECT_TIMEOUT: String(Math.max(1, Math.round(o.connection.connectTimeoutMs / 1000))),
    });
    delete env.PGPASSWORD_FILE;
    delete env.DATABASE_URL;
    if (o.connection.password !== undefined) env.PGPASSWORD = o.connection.password;
  }
  const bin = o.pgBin ? path.join(o.pgBin, program) : program;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', (e) =>
      reject(
        new ConfigError(
          `cannot run ${bin}: ${(e as NodeJS.ErrnoException).code ?? e.message}`,
          `the Postgres client tools of the server's major: --pg-bin DIR (e.g. /usr/lib/postgresql/18/bin) or on PATH`,
        ),
      ),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The archive cannot be read (a damaged or missing toc.dat): nothing can be restored from it. */
export class ArchiveError extends ConfigError {}

/** The archive's table of contents (`pg_restore --list`). */
export async function listArchive(dumpDir: string, pgBin?: string): Promise<TocEntry[]> {
  const r = await runPgTool('pg_restore', ['--list', dumpDir], { pgBin });
  if (r.code !== 0)
    throw new ArchiveError(`pg_restore --list ${dumpDir} failed: ${r.stderr.trim()}`, 'the backup files (see the files line)');
  return r.stdout
    .split('\n')
    .filter((l) => /^\d+;/.test(l))
    .map((line) => {
      const id = Number(line.split(';')[0]);
      const rest = line.replace(/^\d+;\s*\d+\s+\d+\s+/, '');
      const kind = LAST_ENTRY_KINDS.find((k) => rest.startsWith(`${k} `)) ?? rest.split(' ')[0];
      return { id, line, kind };
    });
}

/** `pg_restore: error: ...` lines, with the statement that failed when pg_restore printed it. */
export function restoreErrors(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => /^pg_restore: (error|fatal):/.test(l) || /^pg_restore: warning: errors ignored/.test(l))
    .map((l) => l.replace(/^pg_restore: /, ''));
}

const quote = (c: Client, name: string) => c.escapeIdentifier(name);

/**
 * Creates the target database, the roles the backup references, the owner's grants, runs pg_restore in two
 * passes (everything but row security in parallel, then row security and policies one by one), re-applies the
 * database's own privileges and per-role settings from the manifest, and analyzes. Throws for a precondition
 * (target not empty, cannot create the database); pg_restore errors are returned, for the check to report.
 */
export async function restoreBackup(o: RestoreOptions): Promise<RestoreOutcome> {
  const say = o.onEvent ?? (() => undefined);
  const warnings: string[] = [];
  const pendingChecks: string[] = [];
  const t0 = Date.now();
  const admin = await connect(o.connection);
  const superuser = await (async () => {
    try {
      const me = await admin.query<{ rolsuper: boolean; v: number }>(
        `SELECT rolsuper, current_setting('server_version_num')::int AS v FROM pg_roles WHERE rolname = current_user`,
      );
      await createTarget(admin, o, say);
      await createRoles(admin, o.manifest, me.rows[0].v, me.rows[0].rolsuper, warnings, pendingChecks, say);
      return me.rows[0].rolsuper;
    } finally {
      await admin.end().catch(() => undefined);
    }
  })();

  const target = { ...o.connection, database: o.targetDatabase };
  Object.defineProperty(target, 'password', { value: o.connection.password, enumerable: false });
  const db = await connect(target);
  try {
    // ALTER ... OWNER TO caracal_owner needs caracal_owner to hold CREATE on the schema; the dump grants it only
    // in its final ACL pass, after the owners are set. A superuser has it anyway; the owner login does not.
    await db.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${OWNER_GROUP}`);
  } finally {
    await db.end().catch(() => undefined);
  }

  const dumpDir = path.join(o.backupDir, BACKUP_LAYOUT.dump);
  const toc = await listArchive(dumpDir, o.pgBin);
  const lists = mkdtempSync(path.join(os.tmpdir(), 'caracal-restore-'));
  const errors: string[] = [];
  try {
    const last = toc.filter((e) => (LAST_ENTRY_KINDS as readonly string[]).includes(e.kind));
    const first = toc.filter((e) => !last.includes(e));
    writeFileSync(path.join(lists, 'first.list'), first.map((e) => e.line).join('\n') + '\n');
    writeFileSync(path.join(lists, 'last.list'), last.map((e) => e.line).join('\n') + '\n');
    const jobs = o.jobs ?? 2;
    say(`pg_restore: ${first.length} entries with ${jobs} job(s), then ${last.length} row-security and policy entries one by one`);
    for (const [list, j] of [
      ['first.list', jobs],
      ['last.list', 1],
    ] as const) {
      const r = await runPgTool(
        'pg_restore',
        [`--dbname=${o.targetDatabase}`, `--jobs=${j}`, `--use-list=${path.join(lists, list)}`, '--no-password', dumpDir],
        { pgBin: o.pgBin, connection: o.connection, database: o.targetDatabase, env: o.env },
      );
      errors.push(...restoreErrors(r.stderr));
      if (r.code !== 0 && restoreErrors(r.stderr).length === 0)
        errors.push(`pg_restore exited with ${r.code}: ${r.stderr.trim().slice(-500)}`);
    }
  } finally {
    rmSync(lists, { recursive: true, force: true });
  }

  const db2 = await connect(target);
  try {
    await applyDatabaseSettings(db2, o.manifest, o.targetDatabase, warnings, say);
    // The dump's REVOKE on the large-object functions (pg_catalog, owned by the bootstrap superuser) is only a
    // WARNING for any other login, so a new database keeps them open to PUBLIC.
    const open = superuser ? [] : await publicLargeObjectFunctions(db2);
    if (open.length) {
      warnings.push(
        `PUBLIC may execute the large-object functions in ${o.targetDatabase} (${open.length}, e.g. ${open[0].fn}; only a superuser may revoke them): as a superuser, in that database, REVOKE EXECUTE ON FUNCTION pg_catalog.lo_* (and loread, lowrite) FROM PUBLIC (docs/schema.md); until then verify's large-objects check fails`,
      );
      pendingChecks.push('large-objects');
    }
    say('ANALYZE (pg_restore leaves the planner without statistics)');
    await db2.query('ANALYZE');
  } finally {
    await db2.end().catch(() => undefined);
  }
  return { errors, warnings, superuser, restoreMs: Date.now() - t0, pendingChecks };
}

async function createTarget(admin: Client, o: RestoreOptions, say: (m: string) => void): Promise<void> {
  const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [o.targetDatabase]);
  if (exists.rowCount === 0) {
    say(`creating database ${o.targetDatabase}`);
    try {
      await admin.query(
        `CREATE DATABASE ${quote(admin, o.targetDatabase)} TEMPLATE template0 ENCODING ${admin.escapeLiteral(o.manifest.catalog.database.encoding)}`,
      );
    } catch (e) {
      throw new PreconditionError(
        `cannot create database ${o.targetDatabase} as ${o.connection.user}: ${(e as Error).message}`,
        'the restoring login needs CREATEDB (the managed database owner login has it), or create the database for it first: CREATE DATABASE <name> OWNER <login>',
      );
    }
  } else {
    const target = { ...o.connection, database: o.targetDatabase };
    Object.defineProperty(target, 'password', { value: o.connection.password, enumerable: false });
    const c = await connect(target);
    try {
      const n = await c.query(
        `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace) AND relkind IN ('r', 'p', 'S', 'v', 'm', 'f')`,
      );
      if (n.rows[0].n > 0)
        throw new PreconditionError(
          `database ${o.targetDatabase} already holds ${n.rows[0].n} relation(s): a restore goes into a new, empty database`,
          'pick a new --target-database, or drop that database first if it is a failed restore (never the live one)',
        );
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  // A new database lets PUBLIC connect and create temporary tables; the backup's database did not. Close it
  // before anything is in it; the grants the backup recorded come back after the restore.
  await admin.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${quote(admin, o.targetDatabase)} FROM PUBLIC`);
}

/**
 * Roles are cluster-wide and not in a database dump: create the Caracal roles the manifest lists that this
 * server lacks (logins without a password: the migration Job's provisioning sets them from the restored
 * Secrets), with their memberships; and let the restoring login act as caracal_owner (ALTER ... OWNER TO).
 */
async function createRoles(
  admin: Client,
  manifest: Manifest,
  serverVersion: number,
  superuser: boolean,
  warnings: string[],
  pendingChecks: string[],
  say: (m: string) => void,
): Promise<void> {
  const roles = manifest.catalog.roles ?? {};
  const present = (await admin.query<{ rolname: string; rolbypassrls: boolean }>(`SELECT rolname, rolbypassrls FROM pg_roles`)).rows;
  const existing = new Set(present.map((r) => r.rolname));
  // A role this server already has keeps its attributes, except the BYPASSRLS the backup's role had (pg_dump
  // --role needs it): a superuser adds it, any other login names it for the admin.
  for (const r of present.filter((p) => roles[p.rolname]?.bypassRls && !p.rolbypassrls)) {
    say(`role ${r.rolname} exists without BYPASSRLS: adding it, as in the backup`);
    try {
      await admin.query(`ALTER ROLE ${quote(admin, r.rolname)} BYPASSRLS`);
    } catch (e) {
      if ((e as { code?: string }).code !== '42501') throw e;
      warnings.push(
        `${r.rolname} exists here without BYPASSRLS (this login may not grant it): as a superuser, ALTER ROLE ${r.rolname} BYPASSRLS; until then backups of this database fail`,
      );
      pendingChecks.push('backup-role-reads');
    }
  }
  // Group roles (NOLOGIN) first, so memberships can be granted when the logins are created.
  const names = Object.keys(roles).sort((a, b) => Number(roles[a].login) - Number(roles[b].login) || a.localeCompare(b));
  for (const name of names) {
    if (existing.has(name)) continue;
    const r = roles[name];
    const attrs = `${r.login ? 'LOGIN' : 'NOLOGIN'} ${r.inherit ? 'INHERIT' : 'NOINHERIT'}`;
    say(`creating role ${name} (${attrs}${r.bypassRls ? ' BYPASSRLS' : ''})`);
    try {
      await admin.query(`CREATE ROLE ${quote(admin, name)} ${attrs}${r.bypassRls ? ' BYPASSRLS' : ''}`);
    } catch (e) {
      if ((e as { code?: string }).code !== '42501' || !r.bypassRls) throw e;
      await admin.query(`CREATE ROLE ${quote(admin, name)} ${attrs}`);
      warnings.push(
        `${name} was created without BYPASSRLS (this login may not grant it): as a superuser, ALTER ROLE ${name} BYPASSRLS; until then backups of this database fail`,
      );
      pendingChecks.push('backup-role-reads');
    }
    existing.add(name);
  }
  for (const name of names) {
    for (const group of roles[name].memberOf) {
      if (!existing.has(group)) continue;
      const member = await admin.query(
        `SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = $1 AND u.rolname = $2`,
        [group, name],
      );
      if (member.rowCount === 0) await admin.query(`GRANT ${quote(admin, group)} TO ${quote(admin, name)}`);
    }
  }
  if (!superuser) {
    const can = await admin.query<{ ok: boolean }>(
      serverVersion >= 160000
        ? `SELECT pg_has_role(current_user, $1, 'SET') AS ok`
        : `SELECT pg_has_role(current_user, $1, 'MEMBER') AS ok`,
      [OWNER_GROUP],
    );
    if (!can.rows[0].ok) {
      say(`granting ${OWNER_GROUP} to the restoring login (objects are restored owned by it)`);
      try {
        await admin.query(
          serverVersion >= 160000
            ? `GRANT ${OWNER_GROUP} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE`
            : `GRANT ${OWNER_GROUP} TO CURRENT_USER`,
        );
      } catch (e) {
        throw new PreconditionError(
          `the restoring login cannot act as ${OWNER_GROUP} and may not grant it to itself: ${(e as Error).message}`,
          `restore as the environment's owner login (the migrator), or as a superuser: GRANT ${OWNER_GROUP} TO <login>`,
        );
      }
    }
  }
}

/** The database's grants other than its owner's (CONNECT for the logins, none for PUBLIC) and per-role settings. */
async function applyDatabaseSettings(db: Client, manifest: Manifest, name: string, warnings: string[], say: (m: string) => void) {
  const recorded = manifest.catalog.database;
  const dbq = quote(db, name);
  const roles = new Set((await db.query<{ rolname: string }>(`SELECT rolname FROM pg_roles`)).rows.map((r) => r.rolname));
  const owner = await db.query<{ owner: string; su: boolean }>(
    `SELECT pg_get_userbyid(datdba) AS owner, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su FROM pg_database WHERE datname = $1`,
    [name],
  );
  if (owner.rows[0].owner !== recorded.owner && roles.has(recorded.owner) && owner.rows[0].su) {
    say(`database owner: ${recorded.owner}, as in the backup`);
    await db.query(`ALTER DATABASE ${dbq} OWNER TO ${quote(db, recorded.owner)}`);
  }
  say(
    `database privileges: ${recorded.grants.length} grant(s) and ${Object.keys(recorded.roleSettings).length} role setting(s) from the manifest`,
  );
  for (const entry of recorded.grants) {
    const m = /^(.+)=([A-Z]+)(\*?)$/.exec(entry);
    if (!m) continue;
    const [, grantee, privilege, grantable] = m;
    if (!['CONNECT', 'TEMPORARY', 'CREATE'].includes(privilege)) continue;
    if (grantee !== 'PUBLIC' && !roles.has(grantee)) {
      warnings.push(`database grant ${entry} skipped: role ${grantee} does not exist here`);
      continue;
    }
    await db.query(
      `GRANT ${privilege} ON DATABASE ${dbq} TO ${grantee === 'PUBLIC' ? 'PUBLIC' : quote(db, grantee)}${grantable ? ' WITH GRANT OPTION' : ''}`,
    );
  }
  for (const [role, settings] of Object.entries(recorded.roleSettings)) {
    if (!roles.has(role)) continue;
    for (const setting of settings) {
      const eq = setting.indexOf('=');
      const key = setting.slice(0, eq);
      if (!/^[a-z_][a-z0-9_.]*$/.test(key)) continue;
      try {
        await db.query(`ALTER ROLE ${quote(db, role)} IN DATABASE ${dbq} SET ${key} = ${db.escapeLiteral(setting.slice(eq + 1))}`);
      } catch (e) {
        warnings.push(`setting ${key} of ${role} not restored: ${(e as Error).message}`);
      }
    }
  }
}
