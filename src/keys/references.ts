// Which rows still reference a key of the key rings, before the key leaves the ring: HMAC key ids
// (audit_events.hmac_key_id, admin_tokens.hmac_key_id) and encryption key ids (provider_grants.encryption_key_id),
// the referencing columns of migrations/0001_baseline.up.sql. Rows are counted as a role that row-level security does
// not filter (a superuser, or caracal_backup with BYPASSRLS, which the backup login is a member of): counting
// through the zone policies would see no row and call a referenced key unreferenced.
import type { Client } from 'pg';
import { BACKUP_ROLE } from '../../common/names';
import { ConfigError } from '../migrate/errors';
import type { KeyKind } from '../../common/key-ring';

/** The columns that hold key ids, by kind of key. */
export const KEY_REFERENCE_COLUMNS: Readonly<Record<KeyKind, ReadonlyArray<{ readonly table: string; readonly column: string }>>> = {
  hmac: [
    { table: 'audit_events', column: 'hmac_key_id' },
    { table: 'admin_tokens', column: 'hmac_key_id' },
  ],
  encryption: [{ table: 'provider_grants', column: 'encryption_key_id' }],
};

/** A key id's row count in one referencing column. */
export interface KeyReferenceCount {
  readonly kind: KeyKind;
  readonly keyId: string;
  readonly table: string;
  readonly column: string;
  readonly rows: number;
}

/**
 * Becomes the backup role when the session is not already free of row-level security; refuses (ConfigError) when
 * it cannot, naming what to connect as. Returns the role the rows are counted as.
 */
async function rowSecurityFreeRole(client: Client): Promise<string> {
  const free = async () =>
    (
      await client.query<{ free: boolean; role: string }>(
        `SELECT (r.rolsuper OR r.rolbypassrls) AS free, r.rolname AS role FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`,
      )
    ).rows[0];
  const first = await free();
  if (first?.free) return first.role;
  const member = await client.query(`SELECT pg_catalog.pg_has_role(session_user, $1, 'MEMBER') AS m`, [BACKUP_ROLE]);
  if (member.rows[0]?.m) {
    await client.query(`SET ROLE ${BACKUP_ROLE}`);
    const again = await free();
    if (again?.free) return again.role;
  }
  throw new ConfigError(
    `cannot count key references as ${first?.role ?? 'this login'}: row-level security would hide rows of other zones, so a ` +
      `referenced key could look unreferenced; connect as the backup login (a member of ${BACKUP_ROLE}, which has BYPASSRLS) or a superuser`,
  );
}

/** Counts the rows referencing each given key id, in every referencing column of its kind (0 rows included). */
export async function countKeyReferences(
  client: Client,
  ids: Readonly<Record<KeyKind, readonly string[]>>,
): Promise<{ readonly countedAs: string; readonly counts: readonly KeyReferenceCount[] }> {
  const countedAs = await rowSecurityFreeRole(client);
  const counts: KeyReferenceCount[] = [];
  for (const kind of ['hmac', 'encryption'] as const) {
    if (ids[kind].length === 0) continue;
    for (const { table, column } of KEY_REFERENCE_COLUMNS[kind]) {
      const res = await client.query<{ key_id: string; rows: string }>(
        `SELECT ${column} AS key_id, count(*) AS rows FROM public.${table} WHERE ${column} = ANY($1::text[]) GROUP BY 1`,
        [ids[kind]],
      );
      const found = new Map(res.rows.map((r) => [r.key_id, Number(r.rows)]));
      for (const keyId of ids[kind]) counts.push({ kind, keyId, table, column, rows: found.get(keyId) ?? 0 });
    }
  }
  return { countedAs, counts };
}
