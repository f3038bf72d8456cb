// `verify` checks on functions: who may EXECUTE each function in public (docs/access-matrix.md "Functions"),
// SECURITY DEFINER functions pinned to a search_path nobody else can write to, and the large-object
// functions closed to PUBLIC (a write outside the access matrix).
import type { Client } from 'pg';
import { MATRIX_ROLES, OWNER_ROLE, roleName, type MatrixRole } from './access-matrix';
import { CheckResult, query, result } from './check-support';
import { LARGE_OBJECT_FUNCTIONS_SQL } from '../../common/large-objects';
export { REVOKE_LARGE_OBJECTS_SQL } from '../../common/large-objects';

/**
 * Who besides caracal_owner may EXECUTE each function of public, by matrix column: docs/access-matrix.md
 * "Functions" (test/unit/verify/function-access.test.ts keeps the two equal). A function not listed here
 * may be executed by the owner only.
 */
export const FUNCTION_ACCESS: Readonly<Record<string, readonly MatrixRole[]>> = {
  'reject_mutation()': [],
  'audit_partition_bounds()': [],
  'audit_partition_secure(regclass)': [],
  'audit_partitions_ensure(integer, integer)': ['maintenance'],
  'audit_partition_days(integer, integer)': [],
  'audit_partition_checks(integer, boolean)': [],
  'audit_partition_health(integer)': ['audit', 'maintenance'],
  'audit_partition_health_all(integer)': ['maintenance'],
  'audit_partitions_apply_retention(integer)': ['maintenance'],
};

/** Functions of public that PUBLIC may execute on purpose. None: every function is granted by name. */
export const PUBLIC_EXECUTE_ALLOWED: readonly string[] = [];

/** The only search_path a SECURITY DEFINER function may pin: nothing a login can create objects in comes first. */
export const DEFINER_SEARCH_PATH = 'pg_catalog, pg_temp';

const FIRST = {
  execute:
    'RLS errors: Confirm service role and zone context handling before widening permissions; a SECURITY DEFINER function runs with its owner rights: REVOKE EXECUTE ... FROM PUBLIC and GRANT it to the roles of docs/access-matrix.md "Functions", in a migration',
  searchPath:
    'a SECURITY DEFINER function resolves unqualified names through its search_path as caracal_owner: replace it with SET search_path = pg_catalog, pg_temp and every name schema-qualified, in a migration',
  largeObjects:
    'as a superuser, in this database: REVOKE EXECUTE ON FUNCTION pg_catalog.lo_* (and loread, lowrite) FROM PUBLIC (0002_harden_privileges does it when the migrator is a superuser); find who created large objects with SELECT lomowner::regrole, count(*) FROM pg_largeobject_metadata GROUP BY 1',
} as const;

/** `name(type, type)` of a function, the form FUNCTION_ACCESS uses. */
const SIGNATURE_SQL = `p.proname || '(' || array_to_string(ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, n) ORDER BY n), ', ') || ')'`;

export async function checkFunctionExecute(client: Client): Promise<CheckResult> {
  const q = query(client);
  const roles = MATRIX_ROLES.map(roleName);
  const rows = await q<{ signature: string; public_executes: boolean; executors: string[] }>(
    `SELECT ${SIGNATURE_SQL} AS signature,
            EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                     WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_executes,
            ARRAY(SELECT r.rolname::text FROM pg_roles r
                   WHERE r.rolname = ANY($1::text[]) AND has_function_privilege(r.oid, p.oid, 'EXECUTE') ORDER BY r.rolname) AS executors
       FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1`,
    [roles],
  );
  const problems: string[] = [];
  for (const f of rows) {
    if (f.public_executes && !PUBLIC_EXECUTE_ALLOWED.includes(f.signature))
      problems.push(`public.${f.signature}: PUBLIC may execute it (every login with CONNECT); revoke it and grant the roles that need it`);
    const listed = FUNCTION_ACCESS[f.signature];
    const expected = (listed ?? []).map(roleName);
    const extra = f.executors.filter((r) => !expected.includes(r));
    const lacking = expected.filter((r) => !f.executors.includes(r));
    if (extra.length)
      problems.push(
        `public.${f.signature}: ${extra.join(', ')} may execute it; docs/access-matrix.md says ${expected.length ? expected.join(', ') : `${OWNER_ROLE} only`}${listed ? '' : ' (function not in the matrix)'}`,
      );
    if (lacking.length) problems.push(`public.${f.signature}: ${lacking.join(', ')} may not execute it; docs/access-matrix.md grants it`);
  }
  for (const signature of Object.keys(FUNCTION_ACCESS))
    if (!rows.some((f) => f.signature === signature)) problems.push(`public.${signature} does not exist`);
  return result(
    'function-execute',
    problems,
    `EXECUTE on the ${rows.length} function(s) in public matches docs/access-matrix.md; PUBLIC may execute none`,
    '{n} function privilege problem(s)',
    FIRST.execute,
  );
}

/** `pg_catalog, pg_temp` from a proconfig entry `search_path=pg_catalog, pg_temp` (quotes and spacing normalized). */
export function normalizeSearchPath(value: string): string {
  return value
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'))
    .join(', ');
}

export async function checkDefinerSearchPath(client: Client): Promise<CheckResult> {
  const q = query(client);
  const rows = await q<{ signature: string; search_path: string | null }>(
    `SELECT ${SIGNATURE_SQL} AS signature,
            (SELECT substr(c, length('search_path=') + 1) FROM unnest(p.proconfig) AS c WHERE c LIKE 'search\\_path=%') AS search_path
       FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef ORDER BY 1`,
  );
  const problems: string[] = [];
  for (const f of rows) {
    if (f.search_path === null)
      problems.push(
        `public.${f.signature} is SECURITY DEFINER without SET search_path: it resolves names through the caller's search_path`,
      );
    else if (normalizeSearchPath(f.search_path) !== DEFINER_SEARCH_PATH)
      problems.push(
        `public.${f.signature} is SECURITY DEFINER with search_path = ${f.search_path}: names pg_catalog lacks resolve through the schemas after it`,
      );
  }
  return result(
    'definer-search-path',
    problems,
    `${rows.length} SECURITY DEFINER function(s) in public pin search_path = ${DEFINER_SEARCH_PATH}`,
    '{n} SECURITY DEFINER function(s) with an open search_path',
    FIRST.searchPath,
  );
}

/** The large-object functions PUBLIC may execute in the connected database (only a superuser may revoke them). */
export async function publicLargeObjectFunctions(client: Client): Promise<Array<{ fn: string }>> {
  return query(client)<{ fn: string }>(
    `SELECT p.oid::regprocedure::text AS fn FROM pg_proc p
      WHERE ${LARGE_OBJECT_FUNCTIONS_SQL}
        AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                     WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
      ORDER BY 1`,
  );
}

export async function checkLargeObjects(client: Client): Promise<CheckResult> {
  const q = query(client);
  const open = await publicLargeObjectFunctions(client);
  const granted = await q<{ fn: string; role: string }>(
    `SELECT p.oid::regprocedure::text AS fn, r.rolname AS role FROM pg_proc p CROSS JOIN pg_roles r
      WHERE ${LARGE_OBJECT_FUNCTIONS_SQL} AND r.rolname = ANY($1::text[]) AND has_function_privilege(r.oid, p.oid, 'EXECUTE')
      ORDER BY 2, 1`,
    [[...MATRIX_ROLES.map(roleName), OWNER_ROLE]],
  );
  const existing = await q<{ owner: string; n: number }>(
    `SELECT pg_get_userbyid(lomowner) AS owner, count(*)::int AS n FROM pg_largeobject_metadata GROUP BY 1 ORDER BY 1`,
  );
  const problems: string[] = [];
  if (open.length) problems.push(`PUBLIC may execute ${open.map((f) => f.fn).join(', ')}: every login can write large objects`);
  const viaGrant = granted.filter((g) => !open.some((f) => f.fn === g.fn));
  for (const role of new Set(viaGrant.map((g) => g.role)))
    problems.push(
      `${role} may execute ${viaGrant
        .filter((g) => g.role === role)
        .map((g) => g.fn)
        .join(', ')}`,
    );
  for (const e of existing) problems.push(`${e.n} large object(s) owned by ${e.owner} exist: nothing in the access matrix writes them`);
  return result(
    'large-objects',
    problems,
    'no role of the matrix, the owner or PUBLIC may execute the large-object functions, and no large object exists',
    '{n} large-object problem(s)',
    FIRST.largeObjects,
  );
}
