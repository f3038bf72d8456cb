// Role provisioning run by the migration Job after migrating: creates or updates each per-environment
// login role from its mounted Secret, makes it a member of its group role, grants CONNECT on this
// database and applies its pool's per-role settings. Idempotent; passwords travel as SCRAM verifiers.
import { readFileSync } from 'node:fs';
import type { Client } from 'pg';
import { ConfigError, ExitCode, MigrateError, PreconditionError } from '../migrate/errors';
import { DEFAULT_SCRAM_ITERATIONS, scramSha256Verifier } from './scram';

/** One login to provision. */
export interface LoginSpec {
  /** The per-environment login role, e.g. `caracal_prod_api`. */
  readonly loginRole: string;
  /** The group role (created by the baseline) whose privileges the login inherits, e.g. `caracal_api`. */
  readonly groupRole: string;
  /** File holding the login's password (a mounted Secret key); one trailing newline is ignored. */
  readonly passwordFile: string;
  /** Per-role settings for this database (`statement_timeout`, ...): exactly these, others are reset. */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * The login is being retired (the inactive slot of an alternating rotation, docs/operations.md#postgres-logins):
   * the first run sets `VALID UNTIL now() + retireAfterSeconds` (sessions already open keep running, new logins
   * with its password fail after that), a run after that moment sets `NOLOGIN`. Its password is never set again.
   * Absent, a login with a VALID UNTIL or NOLOGIN left by a retirement gets `LOGIN VALID UNTIL 'infinity'` back.
   */
  readonly retireAfterSeconds?: number;
}

export interface ProvisionOptions {
  /**
   * Whether `password` already authenticates `loginRole` (a fresh connection as that login). When it
   * does, the password is left alone, so an unchanged Secret changes nothing. Without it every
   * existing login's password is set again (same password, new salt).
   */
  readonly canAuthenticate?: (loginRole: string, password: string) => Promise<boolean>;
  /** PBKDF2 iterations of the verifiers. @default 4096 (Postgres' scram_iterations default) */
  readonly iterations?: number;
  /** How long to wait for another provisioning run's lock. @default 30000 ms */
  readonly lockWaitMs?: number;
  /** What checkLoginSpecs(logins) returned, when the caller already ran it: the password files are not read again. */
  readonly passwords?: ReadonlyMap<string, string>;
}

/** What provisioning did to one login; `actions` is empty when the login was already as specified. */
export interface LoginResult {
  readonly loginRole: string;
  readonly actions: readonly string[];
}

/** A provisioning step failed; names the login, the statement's purpose, SQLSTATE and what to check. */
export class ProvisionError extends MigrateError {
  readonly loginRole: string;
  readonly sqlState?: string;
  constructor(loginRole: string, step: string, detail: string, sqlState: string | undefined, firstCheck: string) {
    super(
      `provisioning login ${loginRole} failed at ${step}${sqlState ? ` (SQLSTATE ${sqlState})` : ''}: ${detail}`,
      ExitCode.MIGRATION_FAILED,
      firstCheck,
    );
    this.loginRole = loginRole;
    this.sqlState = sqlState;
  }
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const SETTING_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
/** Advisory lock key of provisioning (distinct from the runner's migration lock): hashtext('caracal-provision-roles'). */
const LOCK_KEY_TEXT = 'caracal-provision-roles';

interface ExistingLogin {
  readonly canLogin: boolean;
  /** rolvaliduntil: null (never expires), 'infinity', or when its password stops working. */
  readonly validUntil: string | null;
  /** rolvaliduntil has passed (by the server's clock). */
  readonly expired: boolean;
  readonly inherit: boolean;
  readonly superuser: boolean;
  readonly bypassRls: boolean;
  readonly memberOfGroup: boolean;
  readonly canConnect: boolean;
  readonly settings: Map<string, string>;
}

/** Reads every password file and checks names before anything touches the database. */
export function checkLoginSpecs(logins: readonly LoginSpec[]): Map<string, string> {
  const passwords = new Map<string, string>();
  const seen = new Set<string>();
  for (const spec of logins) {
    if (!ROLE_NAME.test(spec.loginRole))
      throw new ConfigError(
        `provisioning: login role ${JSON.stringify(spec.loginRole)} is not a lower-case SQL identifier (at most 63 characters)`,
        'the provisioning config the chart mounts (provision.json)',
      );
    if (!ROLE_NAME.test(spec.groupRole))
      throw new ConfigError(
        `provisioning: group role ${JSON.stringify(spec.groupRole)} of ${spec.loginRole} is not a lower-case SQL identifier`,
        'the provisioning config the chart mounts (provision.json)',
      );
    if (seen.has(spec.loginRole))
      throw new ConfigError(
        `provisioning: login role ${spec.loginRole} is listed twice`,
        'the provisioning config the chart mounts (provision.json)',
      );
    seen.add(spec.loginRole);
    const retire = spec.retireAfterSeconds;
    if (retire !== undefined && (typeof retire !== 'number' || !Number.isInteger(retire) || retire < 0 || retire > 31_536_000))
      throw new ConfigError(
        `provisioning: retireAfterSeconds of ${spec.loginRole} is ${JSON.stringify(retire)}: expected whole seconds from 0 to 31536000 (a year)`,
        'the provisioning config the chart mounts (provision.json): regenerate the chart (DatabaseCredentials retireGrace)',
      );
    for (const [name, value] of Object.entries(spec.settings ?? {})) {
      if (!SETTING_NAME.test(name))
        throw new ConfigError(
          `provisioning: setting ${JSON.stringify(name)} of ${spec.loginRole} is not a setting name`,
          'the pool settings (ServicePools roleSettings)',
        );
      if (typeof value !== 'string' || /[\u0000\n\r]/.test(value))
        throw new ConfigError(
          `provisioning: setting ${name} of ${spec.loginRole} must be a one-line string`,
          'the pool settings (ServicePools roleSettings)',
        );
    }
    let text: string;
    try {
      text = readFileSync(spec.passwordFile, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ConfigError(
        `provisioning: password file ${spec.passwordFile} of ${spec.loginRole} cannot be read (${code})`,
        `the database secret of ${spec.loginRole}: the Job mounts each login's Secret; check that the Secret exists and has the password key`,
      );
    }
    const password = text.replace(/\r?\n$/, '');
    if (password === '')
      throw new ConfigError(
        `provisioning: password file ${spec.passwordFile} of ${spec.loginRole} is empty`,
        `the database secret of ${spec.loginRole}: its password key has no value`,
      );
    passwords.set(spec.loginRole, password);
  }
  return passwords;
}

/**
 * Brings every login to its spec. `client` is connected as the migrator (a login with CREATEROLE that
 * may grant the group roles: on Postgres 16+ it needs ADMIN OPTION on them, which the login that ran
 * the baseline has). Roles, memberships, CONNECT and settings change in one transaction under an
 * advisory lock; passwords are then checked and set only where they do not authenticate.
 */
export async function provisionRoles(client: Client, logins: readonly LoginSpec[], options: ProvisionOptions = {}): Promise<LoginResult[]> {
  const passwords = options.passwords ?? checkLoginSpecs(logins);
  const iterations = options.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  const actions = new Map<string, string[]>(logins.map((l) => [l.loginRole, []]));
  const passwordSet = new Set<string>();
  const id = (name: string) => client.escapeIdentifier(name);

  await client.query('BEGIN');
  try {
    await takeLock(client, options.lockWaitMs ?? 30_000);
    const { db, groups, existing } = await readLogins(client, logins);
    for (const spec of logins) {
      const done = actions.get(spec.loginRole)!;
      const run = async (step: string, sql: string) => {
        try {
          await client.query(sql);
        } catch (e) {
          throw toProvisionError(spec, step, e);
        }
        done.push(step);
      };
      if (!groups.has(spec.groupRole)) {
        throw new ProvisionError(
          spec.loginRole,
          `grant ${spec.groupRole}`,
          `group role ${spec.groupRole} does not exist`,
          '42704',
          'the baseline migration creates the group roles: did `up` apply 0001_baseline to this database?',
        );
      }
      const cur = existing.get(spec.loginRole);
      if (!cur) {
        const verifier = scramSha256Verifier(passwords.get(spec.loginRole)!, { iterations });
        await run('create', `CREATE ROLE ${id(spec.loginRole)} WITH LOGIN INHERIT PASSWORD '${verifier}'`);
        passwordSet.add(spec.loginRole);
      } else {
        if (cur.superuser || cur.bypassRls) {
          throw new ProvisionError(
            spec.loginRole,
            'check attributes',
            `${spec.loginRole} exists with ${cur.superuser ? 'SUPERUSER' : 'BYPASSRLS'}; a service login must not bypass row-level security`,
            undefined,
            `remove it as a superuser: ALTER ROLE ${spec.loginRole} NOSUPERUSER NOBYPASSRLS`,
          );
        }
        if (spec.retireAfterSeconds !== undefined) {
          // Retiring: first a deadline for new logins, then (on a run after it) no login at all.
          if (cur.canLogin && (cur.validUntil === null || cur.validUntil === 'infinity')) {
            const {
              rows: [{ until }],
            } = await client.query<{ until: string }>(`SELECT (now() + make_interval(secs => $1))::text AS until`, [
              spec.retireAfterSeconds,
            ]);
            await run('valid until', `ALTER ROLE ${id(spec.loginRole)} WITH VALID UNTIL ${client.escapeLiteral(until)}`);
          } else if (cur.canLogin && cur.expired) await run('nologin', `ALTER ROLE ${id(spec.loginRole)} WITH NOLOGIN`);
          if (!cur.inherit) await run('inherit', `ALTER ROLE ${id(spec.loginRole)} WITH INHERIT`);
        } else {
          if (!cur.canLogin || !cur.inherit) await run('login inherit', `ALTER ROLE ${id(spec.loginRole)} WITH LOGIN INHERIT`);
          if (cur.validUntil !== null && cur.validUntil !== 'infinity')
            await run('valid until infinity', `ALTER ROLE ${id(spec.loginRole)} WITH VALID UNTIL 'infinity'`);
        }
      }
      if (!cur?.memberOfGroup) await run(`grant ${spec.groupRole}`, `GRANT ${id(spec.groupRole)} TO ${id(spec.loginRole)}`);
      if (!cur?.canConnect) await run('grant connect', `GRANT CONNECT ON DATABASE ${id(db)} TO ${id(spec.loginRole)}`);
      const want = spec.settings ?? {};
      const have = cur?.settings ?? new Map<string, string>();
      for (const name of Object.keys(want).sort()) {
        if (have.get(name) !== want[name]) {
          await run(
            `set ${name}`,
            `ALTER ROLE ${id(spec.loginRole)} IN DATABASE ${id(db)} SET ${name} = ${client.escapeLiteral(want[name])}`,
          );
        }
      }
      for (const name of [...have.keys()].sort()) {
        if (!(name in want)) await run(`reset ${name}`, `ALTER ROLE ${id(spec.loginRole)} IN DATABASE ${id(db)} RESET ${name}`);
      }
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }

  // Passwords: a login that authenticates with its Secret's password keeps its verifier; a retiring one is left alone.
  const toCheck = logins.filter((l) => !passwordSet.has(l.loginRole) && l.retireAfterSeconds === undefined);
  const stale = await Promise.all(
    toCheck.map(async (l) =>
      options.canAuthenticate ? !(await options.canAuthenticate(l.loginRole, passwords.get(l.loginRole)!).catch(() => false)) : true,
    ),
  );
  for (const [i, spec] of toCheck.entries()) {
    if (!stale[i]) continue;
    const verifier = scramSha256Verifier(passwords.get(spec.loginRole)!, { iterations });
    try {
      await client.query(`ALTER ROLE ${id(spec.loginRole)} WITH PASSWORD '${verifier}'`);
    } catch (e) {
      throw toProvisionError(spec, 'password', e);
    }
    actions.get(spec.loginRole)!.push('password');
  }
  return logins.map((l) => ({ loginRole: l.loginRole, actions: actions.get(l.loginRole)! }));
}

/** One line per login for the Job's log: what changed, or that nothing did. Never a password. */
export function describeResults(results: readonly LoginResult[]): string[] {
  return results.map((r) => `${r.loginRole}: ${r.actions.length === 0 ? 'up to date' : r.actions.join(', ')}`);
}

async function takeLock(client: Client, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const {
      rows: [{ ok }],
    } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [LOCK_KEY_TEXT]);
    if (ok) return;
    if (Date.now() >= deadline) {
      // Any login with CONNECT can take an advisory lock: say who holds it, so a stuck Job and a squatter look different.
      const {
        rows: [holder],
      } = await client.query<{ pid: number; usename: string | null; application_name: string | null }>(
        `SELECT a.pid, a.usename, a.application_name FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
            AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
            AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtext($1)::bigint
          LIMIT 1`,
        [LOCK_KEY_TEXT],
      );
      const who = holder
        ? `pid ${holder.pid} (user ${holder.usename ?? '?'}, application_name ${JSON.stringify(holder.application_name ?? '')})`
        : 'another session';
      throw new MigrateError(
        `provisioning: the provisioning advisory lock (hashtext('${LOCK_KEY_TEXT}')) was held for ${Math.round(waitMs / 1000)} s by ${who}`,
        ExitCode.LOCK_TIMEOUT,
        "advisory-lock connectivity: is another migration Job of this environment still running? If the holder is not this environment's owner login, it is not a Job: end it with SELECT pg_terminate_backend(pid) (docs/operations.md, Advisory locks)",
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** In one round trip: the database's name, which group roles exist, and the logins that already exist. */
async function readLogins(
  client: Client,
  logins: readonly LoginSpec[],
): Promise<{ db: string; groups: Set<string>; existing: Map<string, ExistingLogin> }> {
  const { rows } = await client.query<{
    db: string;
    groups: string[];
    rolname: string | null;
    rolcanlogin: boolean;
    valid_until: string | null;
    expired: boolean;
    rolinherit: boolean;
    rolsuper: boolean;
    rolbypassrls: boolean;
    member: boolean;
    can_connect: boolean;
    setconfig: string[] | null;
  }>(
    `WITH s AS (SELECT * FROM unnest($1::text[], $2::text[]) AS s(login_role, group_role))
     SELECT current_database() AS db,
            ARRAY(SELECT g.rolname::text FROM pg_catalog.pg_roles g WHERE g.rolname IN (SELECT group_role FROM s)) AS groups,
            r.rolname, r.rolcanlogin, r.rolvaliduntil::text AS valid_until, coalesce(r.rolvaliduntil <= now(), false) AS expired, r.rolinherit, r.rolsuper, r.rolbypassrls,
            EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                     WHERE m.member = r.oid AND g.rolname = s.group_role) AS member,
            has_database_privilege(r.oid, current_database(), 'CONNECT') AS can_connect,
            (SELECT setconfig FROM pg_catalog.pg_db_role_setting d
              WHERE d.setrole = r.oid AND d.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())) AS setconfig
       FROM (SELECT 1) AS one
       LEFT JOIN (s JOIN pg_catalog.pg_roles r ON r.rolname = s.login_role) ON true`,
    [logins.map((l) => l.loginRole), logins.map((l) => l.groupRole)],
  );
  const existing = new Map<string, ExistingLogin>();
  for (const r of rows) {
    if (r.rolname === null) continue;
    const settings = new Map<string, string>();
    for (const entry of r.setconfig ?? []) {
      const eq = entry.indexOf('=');
      settings.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    existing.set(r.rolname, {
      canLogin: r.rolcanlogin,
      validUntil: r.valid_until,
      expired: r.expired,
      inherit: r.rolinherit,
      superuser: r.rolsuper,
      bypassRls: r.rolbypassrls,
      memberOfGroup: r.member,
      canConnect: r.can_connect,
      settings,
    });
  }
  return { db: rows[0].db, groups: new Set(rows[0].groups), existing };
}

function toProvisionError(spec: LoginSpec, step: string, e: unknown): MigrateError {
  const err = e as { code?: string; message?: string };
  // The statement is never quoted: a password step's statement carries the verifier.
  const detail = String(err.message ?? e).replace(/SCRAM-SHA-256\$[^'\s]+/g, '<verifier>');
  if (err.code === '42501') {
    return new PreconditionError(
      `provisioning login ${spec.loginRole} failed at ${step} (SQLSTATE 42501): ${detail}`,
      `the migrator login (PGUSER) needs CREATEROLE, and on Postgres 16+ ADMIN OPTION on ${spec.groupRole} and on ${spec.loginRole} ` +
        `(the login that created them has it; otherwise a superuser runs GRANT ${spec.groupRole} TO <migrator> WITH ADMIN OPTION)`,
    );
  }
  return new ProvisionError(
    spec.loginRole,
    step,
    detail,
    err.code,
    'database secret, host, port, user, database, SSL mode, and advisory-lock connectivity',
  );
}
