// `verify` checks on the database and its schemas: nobody but caracal_owner may create in public (a function
// planted there hijacks every SECURITY DEFINER function whose search_path reaches it), and CONNECT/TEMPORARY on
// the database are as the baseline and the migration Job set them (PUBLIC neither; the environment's logins
// CONNECT). A plain pg_restore into a new database loses both.
import type { Client } from 'pg';
import { ENVIRONMENT_NAME_PATTERN } from '../../common/names';
import { MATRIX_ROLES, OWNER_ROLE, roleName } from './access-matrix';
import { CheckResult, query, result } from './check-support';

const FIRST = {
  schemaCreate:
    'RLS errors: Confirm service role and zone context handling before widening permissions; as the schema owner: GRANT CREATE ON SCHEMA public TO caracal_owner; REVOKE CREATE ON SCHEMA public FROM PUBLIC (0002_harden_privileges)',
  database:
    'Migration Job fails: Database secret, host, port, user, database, SSL mode, and advisory-lock connectivity; a plain pg_restore resets the database ACL: restore with --create, or rerun the migration Job (the baseline revokes CONNECT, TEMPORARY from PUBLIC, provisioning grants the logins CONNECT)',
} as const;

export async function checkSchemaCreate(client: Client): Promise<CheckResult> {
  const q = query(client);
  const open = await q<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_namespace n, LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
      WHERE a.grantee = 0 AND a.privilege_type = 'CREATE' AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
      ORDER BY 1`,
  );
  const roles = await q<{ role: string; can_create: boolean }>(
    `SELECT r.rolname AS role, has_schema_privilege(r.oid, 'public', 'CREATE') AS can_create FROM pg_roles r
      WHERE r.rolname = ANY($1::text[]) ORDER BY 1`,
    [[...MATRIX_ROLES.map(roleName), OWNER_ROLE]],
  );
  const problems = open.map(
    (o) => `PUBLIC may CREATE in schema ${o.schema}: any login can plant functions and operators there (the pre-15 default)`,
  );
  const viaMembership = roles.filter((r) => r.role !== OWNER_ROLE && r.can_create).map((r) => r.role);
  if (viaMembership.length && !open.some((o) => o.schema === 'public'))
    problems.push(`${viaMembership.join(', ')} may CREATE in schema public; only ${OWNER_ROLE} may`);
  if (roles.some((r) => r.role === OWNER_ROLE && !r.can_create))
    problems.push(`${OWNER_ROLE} may not CREATE in schema public: the next migration that creates an object fails`);
  return result(
    'schema-create',
    problems,
    `only ${OWNER_ROLE} may CREATE in public, and PUBLIC may CREATE in no schema`,
    '{n} schema CREATE problem(s)',
    FIRST.schemaCreate,
  );
}

/** The environment part of a login `caracal_<environment>_<login>` (common/names.ts loginRoleName), without anchors. */
const ENVIRONMENT = ENVIRONMENT_NAME_PATTERN.source.replace(/^\^|\$$/g, '');

export interface DatabasePrivilegeOptions {
  /** The environment whose logins (`caracal_<environment>_*`) must have CONNECT; inferred when undefined. */
  readonly environment?: string;
}

export async function checkDatabasePrivileges(client: Client, o: DatabasePrivilegeOptions = {}): Promise<CheckResult> {
  const q = query(client);
  const [db] = await q<{ name: string; owner: string; public_privileges: string[] }>(
    `SELECT d.datname AS name, pg_get_userbyid(d.datdba) AS owner,
            ARRAY(SELECT a.privilege_type::text FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
                   WHERE a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY') ORDER BY 1) AS public_privileges
       FROM pg_database d WHERE d.datname = current_database()`,
  );
  // Logins made by the migration Job: caracal_<environment>_<login>, members of a caracal group role.
  const logins = await q<{
    login: string;
    environment: string;
    suffix: string;
    can_connect: boolean;
    can_temp: boolean;
    explicit_connect: boolean;
  }>(
    `SELECT r.rolname AS login, m[1] AS environment, m[2] AS suffix,
            has_database_privilege(r.oid, current_database(), 'CONNECT') AS can_connect,
            has_database_privilege(r.oid, current_database(), 'TEMPORARY') AS can_temp,
            EXISTS (SELECT 1 FROM pg_database d, aclexplode(d.datacl) a
                     WHERE d.datname = current_database() AND a.grantee = r.oid AND a.privilege_type = 'CONNECT') AS explicit_connect
       FROM pg_roles r, LATERAL regexp_match(r.rolname, '^caracal_(' || $2 || ')_([a-z]+)$') AS m
      WHERE r.rolcanlogin AND m IS NOT NULL
        AND EXISTS (SELECT 1 FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid
                     WHERE am.member = r.oid AND g.rolname = ANY($1::text[]))
      ORDER BY 1`,
    [[...MATRIX_ROLES.map(roleName), OWNER_ROLE], ENVIRONMENT],
  );
  const problems = db.public_privileges.map(
    (p) =>
      `PUBLIC holds ${p} on database ${db.name}: every login of the server (other environments too) ${p === 'CONNECT' ? 'may connect' : 'may create temporary objects'}`,
  );
  const notes: string[] = [];
  // Whose database is it? --environment, else the owner login's environment (the Job's migrator owns it),
  // else the one environment whose logins hold CONNECT here.
  const ofOwner = new RegExp(`^caracal_(${ENVIRONMENT})_owner$`).exec(db.owner)?.[1];
  const connected = [...new Set(logins.filter((l) => l.explicit_connect).map((l) => l.environment))];
  const environment = o.environment ?? ofOwner ?? (connected.length === 1 ? connected[0] : undefined);
  if (environment === undefined) {
    notes.push(
      connected.length > 1
        ? `logins of several environments (${connected.join(', ')}) hold CONNECT: pass --environment to say whose database this is`
        : `the environment's logins were not checked: no caracal_<environment>_* login holds CONNECT and the owner ${db.owner} names no environment (pass --environment)`,
    );
  } else {
    const own = logins.filter((l) => l.environment === environment);
    if (own.length === 0) notes.push(`no login caracal_${environment}_* exists yet (the migration Job creates them)`);
    for (const l of own) {
      if (!l.can_connect)
        problems.push(`${l.login} may not CONNECT to ${db.name}: the migration Job grants it (a plain pg_restore drops it)`);
      if (l.can_temp && l.suffix !== 'owner' && !db.public_privileges.includes('TEMPORARY'))
        problems.push(`${l.login} may create TEMPORARY objects in ${db.name}: no service login is granted TEMPORARY`);
    }
    for (const l of logins.filter((x) => x.environment !== environment && x.explicit_connect))
      problems.push(`${l.login} (environment ${l.environment}) holds CONNECT on ${db.name}, the database of environment ${environment}`);
  }
  return result(
    'database-privileges',
    problems,
    `PUBLIC has neither CONNECT nor TEMPORARY on ${db.name}${environment ? `; the logins of environment ${environment} may connect` : ''}`,
    '{n} database privilege problem(s)',
    FIRST.database,
    notes,
  );
}
