// `verify` check that a backup can read every zone: caracal_backup has BYPASSRLS and SELECT everywhere, each
// login in it may SET ROLE to it (BYPASSRLS is a role attribute, never inherited through membership, so
// pg_dump must run with --role=caracal_backup), and, when the verifying login may itself SET ROLE
// caracal_backup, it does so and reads every zone-scoped table and partition with row_security = off, as
// pg_dump does. Read-only: SET LOCAL ROLE and SET LOCAL work in a read-only transaction and on a hot standby.
import type { Client } from 'pg';
import { BACKUP_ROLE, MatrixRow } from './access-matrix';
import { CheckResult, query, result, TREE_SQL } from './check-support';

const FIRST =
  'backup fails ("query would be affected by row-level security policy"): as a superuser ALTER ROLE caracal_backup BYPASSRLS; pg_dump --role=caracal_backup (BYPASSRLS is not inherited through membership); grants come from the migrations (default privileges give caracal_backup SELECT on every new table)';

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function checkBackupRoleReads(client: Client, matrix: readonly MatrixRow[]): Promise<CheckResult> {
  const q = query(client);
  const [role] = await q<{ exists: boolean; bypass: boolean | null }>(
    `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists, (SELECT rolbypassrls FROM pg_roles WHERE rolname = $1) AS bypass`,
    [BACKUP_ROLE],
  );
  if (!role.exists) return result('backup-role-reads', [`role ${BACKUP_ROLE} does not exist`], '', '{n} backup role problem(s)', FIRST);
  const problems: string[] = [];
  const notes: string[] = [];
  if (!role.bypass)
    problems.push(`${BACKUP_ROLE} lacks BYPASSRLS: pg_dump --role=${BACKUP_ROLE} fails on every table with row-level security`);
  const unreadable = await q<{ name: string; kind: string }>(
    `SELECT c.relname AS name, CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'S')
        AND NOT has_table_privilege($1, c.oid, 'SELECT') ORDER BY 1`,
    [BACKUP_ROLE],
  );
  for (const u of unreadable) problems.push(`${BACKUP_ROLE} may not SELECT ${u.kind} public.${u.name}: pg_dump stops there`);
  // Members (the environment's backup logins) must be able to become the role; on 16+ a membership can deny SET.
  // A 16+ membership with neither INHERIT nor SET is a grantor's (ADMIN only: the CREATEROLE login that created
  // the role gets one), not a backup login: it is left out.
  const [{ v }] = await q<{ v: number }>(`SELECT current_setting('server_version_num')::int AS v`);
  const members = await q<{ member: string; can_set: boolean }>(
    v >= 160000
      ? `SELECT DISTINCT r.rolname AS member, pg_has_role(r.oid, $1, 'SET') AS can_set
           FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
          WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1) AND r.rolcanlogin
            AND (m.inherit_option OR m.set_option) ORDER BY 1`
      : `SELECT r.rolname AS member, pg_has_role(r.oid, $1, 'MEMBER') AS can_set
           FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
          WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1) AND r.rolcanlogin ORDER BY 1`,
    [BACKUP_ROLE],
  );
  for (const m of members.filter((x) => !x.can_set))
    problems.push(`${m.member} is a member of ${BACKUP_ROLE} without SET: pg_dump --role=${BACKUP_ROLE} fails for it`);

  // Read as the backup role, the way pg_dump does: row_security off makes any policy that would filter a row an error.
  const [me] = await q<{ user: string; can_set: boolean }>(
    `SELECT current_user AS user,
            CASE WHEN current_setting('server_version_num')::int >= 160000 THEN pg_has_role(current_user, $1, 'SET')
                 ELSE pg_has_role(current_user, $1, 'MEMBER') END AS can_set`,
    [BACKUP_ROLE],
  );
  const zone = matrix.filter((r) => r.rls === 'zone').map((r) => r.table);
  let read = 0;
  if (me.can_set) {
    const rels = await q<{ name: string }>(
      `${TREE_SQL} SELECT c.relname AS name FROM tree JOIN pg_class c ON c.oid = tree.oid ORDER BY 1`,
      [zone],
    );
    const readAs = async (names: readonly string[]) => {
      await client.query('SAVEPOINT caracal_backup_read');
      try {
        await client.query(
          `SET LOCAL ROLE ${ident(BACKUP_ROLE)}; SET LOCAL row_security = off; ` +
            names.map((n) => `SELECT 1 FROM public.${ident(n)} WHERE false`).join(' UNION ALL '),
        );
        return null;
      } catch (e) {
        return e as Error & { code?: string };
      } finally {
        await client.query('ROLLBACK TO SAVEPOINT caracal_backup_read; RELEASE SAVEPOINT caracal_backup_read');
      }
    };
    // One statement for all of them; only when it fails, one per table to name each that does.
    const all = rels.length ? await readAs(rels.map((r) => r.name)) : null;
    if (all) {
      for (const rel of rels) {
        const err = await readAs([rel.name]);
        if (err)
          problems.push(`as ${BACKUP_ROLE} (SET ROLE from ${me.user}), reading public.${rel.name} failed with ${err.code}: ${err.message}`);
      }
    }
    read = rels.length;
  } else {
    notes.push(
      `${me.user} may not SET ROLE ${BACKUP_ROLE}, so no table was read as it: run verify as a member of ${BACKUP_ROLE} (the backup login, or a superuser) to read every zone-scoped table the way pg_dump --role=${BACKUP_ROLE} does`,
    );
  }
  return result(
    'backup-role-reads',
    problems,
    me.can_set
      ? `as ${BACKUP_ROLE} (SET ROLE, row_security off, as pg_dump does) every one of ${read} zone-scoped tables and partitions is readable; BYPASSRLS and SELECT on every table and sequence`
      : `${BACKUP_ROLE} has BYPASSRLS and SELECT on every table and sequence, and its ${members.length} login member(s) may SET ROLE to it (not read as it: see the note)`,
    '{n} backup role problem(s)',
    FIRST,
    notes,
  );
}
