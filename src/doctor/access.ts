// The "RLS errors" checks: which group roles each login belongs to (one, the right one, with CONNECT), that
// every zone table forces RLS with the zone policy (verify's check), and a probe as each role with and without a
// zone context (verify's behavioural RLS probe, in a transaction that is always rolled back).
import type { Client } from 'pg';
import { GROUP_ROLES, LOGINS, loginRoleName } from '../../common/names';
import { probeRls } from '../verify/behavioural';
import { checkBypassRls, checkRls } from '../verify/checks';
import { MATRIX_ROLES, type MatrixRow, roleName } from '../verify/access-matrix';
import { finding, ok, type Outcome, unchecked } from './report';
import { fromVerify } from './sql';

interface LoginRow {
  rolname: string;
  rolinherit: boolean;
  rolsuper: boolean;
  rolbypassrls: boolean;
  member_of: string[];
  can_connect: boolean;
}

/** Group roles the stores create; a login is expected in exactly one of them. */
const CARACAL_GROUPS: readonly string[] = [...new Set([...Object.values(GROUP_ROLES), 'caracal_maintenance', 'caracal_monitoring'])];

/**
 * The logins that belong to a Caracal group role (with `environment`: that environment's only, since roles are
 * shared by every database on the server): in one group only, inheriting it, with CONNECT on this database,
 * none with SUPERUSER or BYPASSRLS; and no service group role with BYPASSRLS (verify's check, for the groups).
 */
export async function checkMemberships(client: Client, environment: string | undefined): Promise<Outcome> {
  const r = await client.query<LoginRow>(
    `SELECT r.rolname, r.rolinherit, r.rolsuper, r.rolbypassrls,
            ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                   WHERE m.member = r.oid AND g.rolname = ANY($1::text[]) ORDER BY 1) AS member_of,
            has_database_privilege(r.oid, current_database(), 'CONNECT') AS can_connect
       FROM pg_roles r
      WHERE r.rolcanlogin AND ($2::text IS NULL OR starts_with(r.rolname, 'caracal_' || $2 || '_'))
        AND EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                     WHERE m.member = r.oid AND g.rolname = ANY($1::text[]))
      ORDER BY 1`,
    [CARACAL_GROUPS, environment ?? null],
  );
  const problems: string[] = [];
  const details = r.rows.map(
    (l) =>
      `${l.rolname}: member of ${l.member_of.join(', ')}${l.can_connect ? ', CONNECT' : ', no CONNECT'}${l.rolinherit ? '' : ', NOINHERIT'}`,
  );
  for (const l of r.rows) {
    // The owner login administers the group roles (it provisions the logins), so it may hold them all.
    if (l.member_of.length > 1 && !l.member_of.includes(GROUP_ROLES.owner))
      problems.push(`${l.rolname} is a member of ${l.member_of.join(' and ')}: a login holds one group role (permissions were widened)`);
    if (!l.rolinherit) problems.push(`${l.rolname} is NOINHERIT: it does not use ${l.member_of.join(', ')}'s privileges without SET ROLE`);
    if (l.rolsuper || l.rolbypassrls)
      problems.push(`${l.rolname} has ${l.rolsuper ? 'SUPERUSER' : 'BYPASSRLS'}: it bypasses row-level security in every zone`);
    if (environment && !l.can_connect) problems.push(`${l.rolname} lacks CONNECT on this database`);
    const m = /^caracal_[a-z][a-z0-9]*_([a-z]+)$/.exec(l.rolname);
    const login = m?.[1] as (typeof LOGINS)[number] | undefined;
    if (login && (LOGINS as readonly string[]).includes(login) && !l.member_of.includes(GROUP_ROLES[login]))
      problems.push(`${l.rolname} is not a member of ${GROUP_ROLES[login]}, the group its name says`);
  }
  if (environment) {
    for (const login of LOGINS) {
      const name = loginRoleName(environment, login);
      if (!r.rows.some((l) => l.rolname === name)) problems.push(`${name} does not exist or belongs to no Caracal group role`);
    }
  }
  // The group roles themselves (shared by every environment): verify's check, keeping its lines about them.
  const bypass = await checkBypassRls(client);
  const groups = bypass.details.filter((d) => /^caracal_[a-z]+ (has|is)/.test(d) && CARACAL_GROUPS.includes(d.split(' ')[0]));
  if (!bypass.ok) problems.push(...groups);
  if (problems.length)
    return finding(
      `${problems.length} login problem(s)`,
      'never widen a login: give it back exactly its group role (docs/access-matrix.md); the migration Job provisions logins (up --provision)',
      [...problems, ...details],
    );
  return ok(
    `${r.rows.length} login(s)${environment ? ` of ${environment}` : ''}, each in exactly one Caracal group role, none bypassing RLS`,
    details,
  );
}

export async function checkRlsForced(client: Client, matrix: readonly MatrixRow[]): Promise<Outcome> {
  return fromVerify(
    await checkRls(client, matrix),
    'restore RLS in a new migration: ALTER TABLE ... ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY, and the zone_isolation policy; never widen a role instead',
  );
}

/**
 * verify's RLS probes as each role (no context sees and writes nothing, another zone is refused, its own zone
 * passes), in a transaction that is always rolled back. Needs a primary and a login that may SET ROLE to them.
 */
export async function checkRlsProbes(client: Client, matrix: readonly MatrixRow[]): Promise<Outcome> {
  const roles = MATRIX_ROLES.filter((r) => r !== 'backup').map(roleName);
  const can = await client.query<{ role: string; ok: boolean }>(
    `SELECT r AS role, pg_has_role(current_user, r, 'MEMBER') AS ok FROM unnest($1::text[]) AS r`,
    [roles],
  );
  const cannot = can.rows.filter((x) => !x.ok).map((x) => x.role);
  if (cannot.length)
    return unchecked(
      `this login may not SET ROLE to ${cannot.join(', ')}, so it cannot probe as them`,
      'run the probes as a superuser (or a login that is a member of every group role) against the primary; nothing is ever committed',
    );
  await client.query('BEGIN');
  try {
    await client.query(`SELECT set_config('lock_timeout', '500ms', true), set_config('statement_timeout', '5s', true)`);
    const r = await probeRls(client, matrix);
    return r.ok
      ? ok(r.summary)
      : finding(
          r.summary,
          'a role saw or wrote rows without the right zone context: restore forced RLS and the zone policy (see the check above) before anything else; the service must SET caracal.zone_id per transaction',
          r.details,
        );
  } finally {
    await client.query('ROLLBACK');
  }
}
