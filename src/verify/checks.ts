// `verify` catalog checks: read-only queries (safe on a read replica, no temp objects) that say whether the
// live database holds the seed's integrity controls. Each check returns one verdict line, details, and the
// first thing to check in the words of the seed's troubleshooting table.
import type { Client } from 'pg';
import { discoverMigrations } from '../migrate/files';
import { readHistory } from '../migrate/history';
import { planMigrations } from '../migrate/plan';
import {
  BACKUP_ROLE,
  MAINTENANCE_ROLE,
  MatrixRow,
  MATRIX_ROLES,
  OWNER_ROLE,
  PRIVILEGE_NAMES,
  PRIVILEGES,
  roleName,
  SERVICE_ROLES,
} from './access-matrix';
import { checkBackupRoleReads } from './backup-check';
import { CheckResult, FIRST_CHECK, query, result, TREE_SQL, type Q } from './check-support';
import { checkDatabasePrivileges, checkSchemaCreate } from './database-checks';
import { checkForeignKeys } from './foreign-keys';
import { checkDefinerSearchPath, checkFunctionExecute, checkLargeObjects } from './function-checks';

export { FIRST_CHECK } from './check-support';
export type { CheckResult } from './check-support';

/** The seed's "Postgres Ownership" table (store-state page), domain by domain. */
export const EXPECTED_TABLES: Readonly<Record<string, readonly string[]>> = {
  'Product model': ['zones', 'providers', 'applications', 'resources', 'application_dependencies'],
  Authority: ['sessions', 'delegated_grants', 'provider_grants', 'step_up_challenges'],
  Policy: ['policies', 'policy_versions', 'policy_sets', 'policy_set_versions', 'policy_set_bindings'],
  Audit: ['audit_events', 'audit_export_watermark', 'audit_ingest_alerts', 'admin_audit_events'],
  Agents: ['agent_sessions', 'agent_topology', 'agent_services', 'agent_invocations', 'delegation_edges', 'delegation_graph_epochs'],
  Operations: [
    'event_outbox',
    'caracal_outbox',
    'admin_tokens',
    'gateway_resource_bindings',
    'gateway_binding_revision',
    'resource_rate_limits',
  ],
};

/** Append-only tables (seed: "Audit role cannot update or delete audit_events"; the matrix adds the others). */
export const APPEND_ONLY_TABLES = ['audit_events', 'admin_audit_events', 'delegation_graph_epochs'] as const;
/** Immutable tables (seed: "Policy versions are immutable"). */
export const IMMUTABLE_TABLES = ['policy_versions', 'policy_set_versions'] as const;

/**
 * Indexes the schema relies on (lookups, purges, the outbox dispatchers' polls, audit time windows), by
 * table. Primary keys are checked separately (every table has one). test/integration/verify keeps this list
 * equal to what the migrations create.
 */
export const REQUIRED_INDEXES: Readonly<Record<string, readonly string[]>> = {
  resources: ['resources_provider_idx'],
  application_dependencies: ['application_dependencies_resource_idx'],
  sessions: ['sessions_expires_idx', 'sessions_subject_idx', 'sessions_revoked_idx'],
  delegated_grants: ['delegated_grants_subject_idx', 'delegated_grants_revoked_idx'],
  step_up_challenges: ['step_up_challenges_expires_idx', 'step_up_challenges_session_idx'],
  audit_events: ['audit_events_zone_occurred_idx'],
  audit_ingest_alerts: ['audit_ingest_alerts_open_idx'],
  admin_tokens: ['admin_tokens_expires_idx'],
  admin_audit_events: ['admin_audit_events_recorded_idx', 'admin_audit_events_zone_idx'],
  agent_sessions: ['agent_sessions_active_expires_idx', 'agent_sessions_application_idx'],
  agent_topology: ['agent_topology_child_idx'],
  agent_invocations: ['agent_invocations_started_idx', 'agent_invocations_caller_idx'],
  delegation_edges: ['delegation_edges_delegate_idx', 'delegation_edges_parent_idx'],
  event_outbox: ['event_outbox_pending_idx', 'event_outbox_dead_idx', 'event_outbox_dispatched_idx'],
  caracal_outbox: ['caracal_outbox_pending_idx', 'caracal_outbox_dead_idx', 'caracal_outbox_dispatched_idx'],
  gateway_resource_bindings: ['gateway_resource_bindings_revision_idx'],
};

export interface CatalogCheckOptions {
  readonly matrix: readonly MatrixRow[];
  /** Migrations directory for the pending/drifted/ahead check; undefined skips it (reported). */
  readonly dir?: string;
  /** Days after today that must have an audit partition (default 7, like audit_partition_health). */
  readonly partitionDaysAhead?: number;
  /** Audit retention in days (default 400, like audit_partitions_apply_retention). */
  readonly retentionDays?: number;
  /** The environment whose logins (`caracal_<environment>_*`) must have CONNECT; inferred when undefined. */
  readonly environment?: string;
}

/** Zone-scoped tables of the matrix that exist, with every partition (recursively). */
async function zoneScopedRelations(q: Q, matrix: readonly MatrixRow[]): Promise<Array<{ name: string; parent: string | null }>> {
  const zone = matrix.filter((r) => r.rls === 'zone').map((r) => r.table);
  return q<{ name: string; parent: string | null }>(
    `${TREE_SQL}
     SELECT c.relname AS name, CASE WHEN tree.level > 0 THEN tree.root END AS parent
       FROM tree JOIN pg_class c ON c.oid = tree.oid ORDER BY tree.root, tree.level, c.relname`,
    [zone],
  );
}

export async function checkExpectedTables(client: Client): Promise<CheckResult> {
  const q = query(client);
  const expected = Object.values(EXPECTED_TABLES).flat();
  const rows = await q<{ relname: string; relkind: string; partitions: number }>(
    `SELECT c.relname, c.relkind, (SELECT count(*)::int FROM pg_inherits i WHERE i.inhparent = c.oid) AS partitions
       FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1::text[]) AND c.relkind IN ('r', 'p')`,
    [[...expected, 'schema_migrations']],
  );
  const found = new Map(rows.map((r) => [r.relname, r]));
  const problems: string[] = [];
  for (const [domain, tables] of Object.entries(EXPECTED_TABLES)) {
    for (const t of tables) if (!found.has(t)) problems.push(`missing table public.${t} (${domain})`);
  }
  if (!found.has('schema_migrations')) problems.push('missing table public.schema_migrations (migration history)');
  const audit = found.get('audit_events');
  if (audit && audit.relkind !== 'p') problems.push('public.audit_events is not partitioned');
  if (audit && audit.relkind === 'p' && audit.partitions === 0) problems.push('public.audit_events has no partitions');
  return result(
    'expected-tables',
    problems,
    `all ${expected.length} tables of the seed exist (audit_events partitioned, ${audit?.partitions ?? 0} partitions) and public.schema_migrations`,
    '{n} expected table problem(s)',
    FIRST_CHECK.migrations,
  );
}

export async function checkPrivileges(client: Client, matrix: readonly MatrixRow[]): Promise<CheckResult> {
  const q = query(client);
  const roles = MATRIX_ROLES.map(roleName);
  const rows = await q<{ table_name: string; role: string; s: boolean; i: boolean; u: boolean; d: boolean; other: boolean }>(
    `SELECT c.relname AS table_name, r.rolname AS role,
            has_any_column_privilege(r.oid, c.oid, 'SELECT') AS s, has_any_column_privilege(r.oid, c.oid, 'INSERT') AS i,
            has_any_column_privilege(r.oid, c.oid, 'UPDATE') AS u, has_table_privilege(r.oid, c.oid, 'DELETE') AS d,
            has_table_privilege(r.oid, c.oid, 'TRUNCATE, REFERENCES, TRIGGER') AS other
       FROM pg_class c CROSS JOIN pg_roles r
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
        AND r.rolname = ANY($1::text[])`,
    [roles],
  );
  const problems: string[] = [];
  const missingRoles = roles.filter((r) => !rows.some((row) => row.role === r));
  const existingRoles = (await q<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])`, [roles])).map(
    (r) => r.rolname,
  );
  for (const r of roles) if (!existingRoles.includes(r)) problems.push(`group role ${r} does not exist`);
  void missingRoles;
  const byTable = new Map(matrix.map((r) => [r.table, r]));
  for (const row of rows) {
    const role = row.role.replace(/^caracal_/, '') as (typeof MATRIX_ROLES)[number];
    const held = PRIVILEGES.filter((p) => row[p.toLowerCase() as 's' | 'i' | 'u' | 'd']).join('');
    const spec = byTable.get(row.table_name);
    const expected = spec ? spec.cells[role] : role === 'backup' ? 'S' : '';
    if (held !== expected) {
      const extra = PRIVILEGES.filter((p) => held.includes(p) && !expected.includes(p)).map((p) => PRIVILEGE_NAMES[p]);
      const lacking = PRIVILEGES.filter((p) => expected.includes(p) && !held.includes(p)).map((p) => PRIVILEGE_NAMES[p]);
      problems.push(
        `public.${row.table_name} ${row.role}: holds ${held || '-'}, the matrix says ${expected || '-'}${spec ? '' : ' (table not in the matrix)'}` +
          `${extra.length ? `; extra ${extra.join(', ')}` : ''}${lacking.length ? `; lacking ${lacking.join(', ')}` : ''}`,
      );
    }
    if (row.other) problems.push(`public.${row.table_name} ${row.role}: holds TRUNCATE, REFERENCES or TRIGGER (owner only)`);
  }
  return result(
    'privileges',
    problems,
    `grants of ${roles.length} roles on ${new Set(rows.map((r) => r.table_name)).size} tables match docs/access-matrix.md`,
    '{n} privilege(s) differ from docs/access-matrix.md',
    FIRST_CHECK.grants,
  );
}

// pg_trigger.tgtype bits (src/include/catalog/pg_trigger.h)
const TRIGGER_TYPE = { BEFORE: 2, DELETE: 8, UPDATE: 16, TRUNCATE: 32 } as const;

async function checkRejectTriggers(client: Client, id: string, tables: readonly string[], what: string): Promise<CheckResult> {
  const q = query(client);
  const rels = await q<{ name: string; root: string; oid: number }>(
    `${TREE_SQL}
     SELECT c.relname AS name, tree.root, c.oid::int AS oid
       FROM tree JOIN pg_class c ON c.oid = tree.oid ORDER BY tree.root, tree.level, c.relname`,
    [tables],
  );
  const triggers = await q<{ oid: number; tgname: string; tgtype: number; tgenabled: string }>(
    `SELECT t.tgrelid::int AS oid, t.tgname, t.tgtype::int AS tgtype, t.tgenabled
       FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgrelid = ANY($1::oid[])`,
    [rels.map((r) => r.oid)],
  );
  const problems: string[] = [];
  for (const t of tables) if (!rels.some((r) => r.root === t)) problems.push(`public.${t} does not exist`);
  for (const rel of rels) {
    const own = triggers.filter((t) => t.oid === rel.oid);
    for (const t of own) {
      if (t.tgenabled !== 'A') {
        const state =
          { D: 'DISABLED', O: 'ENABLE (origin only: skipped when session_replication_role = replica)', R: 'ENABLE REPLICA' }[t.tgenabled] ??
          t.tgenabled;
        problems.push(`public.${rel.name}: trigger ${t.tgname} is ${state}, not ENABLE ALWAYS`);
      }
    }
    const covered = (bit: number) =>
      own.some((t) => t.tgenabled === 'A' && (t.tgtype & TRIGGER_TYPE.BEFORE) !== 0 && (t.tgtype & bit) !== 0);
    const lacking = (['UPDATE', 'DELETE', 'TRUNCATE'] as const).filter((ev) => !covered(TRIGGER_TYPE[ev]));
    if (lacking.length) problems.push(`public.${rel.name}: no BEFORE trigger ENABLE ALWAYS rejects ${lacking.join(', ')}`);
  }
  const partitions = rels.length - tables.filter((t) => rels.some((r) => r.root === t)).length;
  return result(
    id,
    problems,
    `${what} triggers ENABLE ALWAYS reject UPDATE, DELETE, TRUNCATE on ${tables.join(', ')}${partitions ? ` and ${partitions} partition(s)` : ''}`,
    `{n} ${what} trigger problem(s)`,
    FIRST_CHECK.integrity,
  );
}

export function checkAppendOnlyTriggers(client: Client): Promise<CheckResult> {
  return checkRejectTriggers(client, 'append-only-triggers', APPEND_ONLY_TABLES, 'append-only');
}

export function checkImmutabilityTriggers(client: Client): Promise<CheckResult> {
  return checkRejectTriggers(client, 'immutability-triggers', IMMUTABLE_TABLES, 'immutability');
}

/** `zone_id = NULLIF(current_setting('caracal.zone_id', true), '')::uuid` as pg_get_expr prints it. */
export const ZONE_PREDICATE = /zone_id = \(?NULLIF\(current_setting\('caracal\.zone_id'(::text)?, true\), ''(::text)?\)\)?::uuid/;

export async function checkRls(client: Client, matrix: readonly MatrixRow[]): Promise<CheckResult> {
  const q = query(client);
  const rels = await zoneScopedRelations(q, matrix);
  const flags = await q<{ name: string; enabled: boolean; forced: boolean }>(
    `SELECT relname AS name, relrowsecurity AS enabled, relforcerowsecurity AS forced
       FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = ANY($1::text[])`,
    [rels.map((r) => r.name)],
  );
  const policies = await q<{
    name: string;
    polname: string;
    permissive: boolean;
    roles: string[];
    qual: string | null;
    check: string | null;
  }>(
    `SELECT c.relname AS name, p.polname, p.polpermissive AS permissive,
            ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE r::regrole::text END FROM unnest(p.polroles) AS r) AS roles,
            pg_get_expr(p.polqual, p.polrelid) AS qual, pg_get_expr(p.polwithcheck, p.polrelid) AS check
       FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
      WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1::text[])`,
    [rels.map((r) => r.name)],
  );
  const problems: string[] = [];
  const zone = matrix.filter((r) => r.rls === 'zone').map((r) => r.table);
  for (const t of zone) if (!rels.some((r) => r.name === t)) problems.push(`public.${t} does not exist`);
  const notes: string[] = [];
  for (const rel of rels) {
    const label = `public.${rel.name}${rel.parent ? ` (partition of ${rel.parent})` : ''}`;
    const f = flags.find((x) => x.name === rel.name);
    if (!f?.enabled) problems.push(`${label}: row-level security is not enabled`);
    if (f && !f.forced) problems.push(`${label}: row-level security is not forced (the owner bypasses it)`);
    const own = policies.filter((p) => p.name === rel.name && p.permissive);
    const zonePolicies = own.filter(
      (p) => p.qual !== null && ZONE_PREDICATE.test(p.qual) && (p.check === null || ZONE_PREDICATE.test(p.check)),
    );
    if (zonePolicies.length === 0) problems.push(`${label}: no permissive policy with the zone predicate on caracal.zone_id`);
    for (const p of own) {
      if (zonePolicies.includes(p)) continue;
      // Permissive policies are OR-ed: one without the zone predicate opens the table to the roles it names.
      if (p.roles.length > 0 && p.roles.every((r) => r === OWNER_ROLE)) {
        notes.push(`${label}: policy ${p.polname} for ${OWNER_ROLE} only (maintenance)`);
      } else {
        problems.push(
          `${label}: permissive policy ${p.polname} (to ${p.roles.join(', ')}) does not restrict to the zone context: USING ${p.qual ?? '-'} WITH CHECK ${p.check ?? '-'}`,
        );
      }
    }
  }
  const partitions = rels.filter((r) => r.parent).length;
  return result(
    'rls-zone',
    problems,
    `RLS enabled and forced with the zone predicate on ${rels.length - partitions} zone-scoped tables and ${partitions} partition(s)`,
    '{n} row-level security problem(s) on zone-scoped tables',
    FIRST_CHECK.rls,
    notes,
  );
}

export async function checkBypassRls(client: Client): Promise<CheckResult> {
  const q = query(client);
  const service = [...SERVICE_ROLES.map(roleName), MAINTENANCE_ROLE, OWNER_ROLE];
  // Group roles themselves, and every role that is (transitively) a member of a service role: a login
  // role with BYPASSRLS or SUPERUSER inside caracal_api would read every zone.
  const rows = await q<{ rolname: string; via: string | null; rolsuper: boolean; rolbypassrls: boolean }>(
    `WITH RECURSIVE members(member, via) AS (
        SELECT m.member, g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
         WHERE g.rolname = ANY($1::text[]) AND g.rolname <> $2
        UNION
        SELECT m.member, members.via FROM pg_auth_members m JOIN members ON m.roleid = members.member)
     SELECT r.rolname, NULL::text AS via, r.rolsuper, r.rolbypassrls FROM pg_roles r WHERE r.rolname = ANY($1::text[])
     UNION ALL
     SELECT r.rolname, m.via, r.rolsuper, r.rolbypassrls FROM members m JOIN pg_roles r ON r.oid = m.member`,
    [service, OWNER_ROLE],
  );
  const problems: string[] = [];
  for (const r of rows) {
    const who = r.via ? `${r.rolname} (member of ${r.via})` : r.rolname;
    if (r.rolbypassrls) problems.push(`${who} has BYPASSRLS`);
    if (r.rolsuper && r.via) problems.push(`${who} is a SUPERUSER (bypasses RLS)`);
    if (r.rolsuper && !r.via) problems.push(`${who} is a SUPERUSER`);
  }
  const notes: string[] = [];
  const backup = await q<{ rolbypassrls: boolean }>(`SELECT rolbypassrls FROM pg_roles WHERE rolname = $1`, [BACKUP_ROLE]);
  if (backup.length && !backup[0].rolbypassrls)
    notes.push(
      `${BACKUP_ROLE} lacks BYPASSRLS: pg_dump as the backup role fails on RLS tables (as a superuser: ALTER ROLE ${BACKUP_ROLE} BYPASSRLS)`,
    );
  return result(
    'no-bypassrls',
    problems,
    `no service, maintenance or owner role (${service.join(', ')}) or member of one has BYPASSRLS or SUPERUSER; only ${BACKUP_ROLE} may`,
    '{n} role(s) bypass row-level security',
    FIRST_CHECK.rls,
    notes,
  );
}

export async function checkPartitionPrivileges(client: Client): Promise<CheckResult> {
  const q = query(client);
  const roles = [...SERVICE_ROLES.map(roleName), MAINTENANCE_ROLE];
  const rows = await q<{ part: string; parent: string; role: string }>(
    `SELECT c.relname AS part, p.relname AS parent, r.rolname AS role
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       CROSS JOIN pg_roles r
      WHERE p.relnamespace = 'public'::regnamespace AND c.relispartition AND c.relkind IN ('r', 'p') AND r.rolname = ANY($1::text[])
        AND has_table_privilege(r.oid, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
      ORDER BY 1, 3`,
    [roles],
  );
  const count = await q<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE c.relnamespace = 'public'::regnamespace AND c.relispartition AND c.relkind IN ('r', 'p')`,
  );
  const problems = rows.map(
    (r) => `public.${r.part} (partition of ${r.parent}): ${r.role} holds privileges directly (directly or through PUBLIC)`,
  );
  return result(
    'partition-privileges',
    problems,
    `no service or maintenance role holds privileges on any of ${count[0]?.n ?? 0} partition(s)`,
    "{n} direct partition privilege(s): partitions bypass the parent's policy",
    FIRST_CHECK.rls,
  );
}

export async function checkAuditPartitions(client: Client, daysAhead: number): Promise<CheckResult> {
  const q = query(client);
  const problems: string[] = [];
  const notes: string[] = [];
  const parent = await q<{ exists: boolean }>(`SELECT to_regclass('public.audit_events') IS NOT NULL AS exists`);
  if (!parent[0].exists) {
    return result(
      'audit-partition-window',
      ['public.audit_events does not exist'],
      '',
      '{n} audit partition problem(s)',
      FIRST_CHECK.audit,
    );
  }
  // Our own reading of the bounds: today (UTC) .. +daysAhead must each lie in a day (or wider) partition.
  const missing = await q<{ day: string }>(
    `WITH bounds AS (
       SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz AS lo,
              (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS hi
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'public.audit_events'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'),
     days AS (
       SELECT to_char((now() AT TIME ZONE 'UTC')::date + n, 'YYYY-MM-DD') AS day FROM generate_series(0, $1::int) AS n)
     SELECT day FROM days
      WHERE NOT EXISTS (SELECT 1 FROM bounds b WHERE b.lo <= (day || ' 00:00:00+00')::timestamptz
                                                AND b.hi >= (day || ' 00:00:00+00')::timestamptz + interval '1 day')
      ORDER BY day`,
    [daysAhead],
  );
  if (missing.length)
    problems.push(
      `no partition for ${missing.map((m) => m.day).join(', ')} (today .. +${daysAhead} days, UTC): events land in the default partition; run SELECT public.audit_partitions_ensure()`,
    );
  // Every partition (0006's audit_partition_health_all); a schema before 0006 has only the window's health.
  const health = await q<{ fn: string | null }>(
    `SELECT coalesce(to_regprocedure('public.audit_partition_health_all(integer)'), to_regprocedure('public.audit_partition_health(integer)'))::regproc::text AS fn`,
  );
  const fn = health[0].fn?.replace(/^public\./, '');
  if (!fn) {
    problems.push('public.audit_partition_health(integer) does not exist');
  } else {
    const rows = await q<{ check_name: string; ok: boolean; detail: string }>(`SELECT check_name, ok, detail FROM public.${fn}($1::int)`, [
      daysAhead,
    ]);
    for (const r of rows) (r.ok ? notes : problems).push(`${fn} ${r.check_name}: ${r.detail}`);
  }
  const count = await q<{ n: number }>(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'public.audit_events'::regclass`);
  return result(
    'audit-partition-window',
    problems,
    `audit_events has ${count[0].n} partitions covering today .. +${daysAhead} days, and ${fn ?? 'audit_partition_health'}() is all ok`,
    '{n} audit partition problem(s)',
    FIRST_CHECK.audit,
    notes,
  );
}

/**
 * Retention (seed: "Audit queries slow: ... retention"): partitions past the retention period should be gone.
 * Those already exported and still there mean audit_partitions_apply_retention() is not running; those not
 * exported mean the exporter lags (retention refuses to drop them).
 */
export async function checkAuditRetention(client: Client, retentionDays: number): Promise<CheckResult> {
  const q = query(client);
  const exists = await q<{ e: boolean }>(
    `SELECT to_regclass('public.audit_events') IS NOT NULL AND to_regclass('public.audit_export_watermark') IS NOT NULL AS e`,
  );
  if (!exists[0].e)
    return result(
      'audit-retention',
      ['public.audit_events or public.audit_export_watermark does not exist'],
      '',
      '{n} retention problem(s)',
      FIRST_CHECK.audit,
    );
  const rows = await q<{ part: string; upper: string; exported: boolean }>(
    `WITH bounds AS (
       SELECT c.relname AS part,
              (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS upper
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'public.audit_events'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'),
     watermark AS (SELECT min(exported_through) AS through FROM public.audit_export_watermark)
     SELECT b.part, to_char(b.upper AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS upper, coalesce(w.through >= b.upper, false) AS exported
       FROM bounds b CROSS JOIN watermark w
      WHERE b.upper <= ((now() AT TIME ZONE 'UTC')::date - $1::int)::timestamp AT TIME ZONE 'UTC'
      ORDER BY b.upper`,
    [retentionDays],
  );
  const problems = rows.map((r) =>
    r.exported
      ? `public.${r.part} (ends ${r.upper}) is past ${retentionDays} days and exported but not dropped: is public.audit_partitions_apply_retention(${retentionDays}) scheduled?`
      : `public.${r.part} (ends ${r.upper}) is past ${retentionDays} days but not exported (audit_export_watermark): the exporter lags, retention keeps it`,
  );
  return result(
    'audit-retention',
    problems,
    `no audit partition older than ${retentionDays} days`,
    '{n} audit partition(s) past retention',
    FIRST_CHECK.audit,
  );
}

export async function checkIndexes(client: Client): Promise<CheckResult> {
  const q = query(client);
  const invalid = await q<{ index: string; table: string; partitioned: boolean }>(
    `SELECT ic.relname AS index, tc.relname AS table, ic.relkind = 'I' AS partitioned
       FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_class tc ON tc.oid = x.indrelid
      WHERE tc.relnamespace = 'public'::regnamespace AND NOT (x.indisvalid AND x.indisready AND x.indislive)
      ORDER BY 2, 1`,
  );
  const problems = invalid.map((i) =>
    i.partitioned
      ? `public.${i.index} on ${i.table} is INVALID: a partition has no attached index (CREATE INDEX CONCURRENTLY on it, then ALTER INDEX ${i.index} ATTACH PARTITION ...)`
      : `public.${i.index} on ${i.table} is INVALID (a failed CREATE INDEX CONCURRENTLY): DROP INDEX CONCURRENTLY and build it again`,
  );
  const present = await q<{ table: string; index: string }>(
    `SELECT tc.relname AS table, ic.relname AS index FROM pg_index x
       JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_class tc ON tc.oid = x.indrelid
      WHERE tc.relnamespace = 'public'::regnamespace`,
  );
  for (const [table, indexes] of Object.entries(REQUIRED_INDEXES)) {
    for (const index of indexes) {
      if (!present.some((p) => p.table === table && p.index === index))
        problems.push(`public.${table}: required index ${index} is missing`);
    }
  }
  const noPk = await q<{ table: string }>(
    `SELECT c.relname AS table FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p') ORDER BY 1`,
  );
  for (const t of noPk) problems.push(`public.${t.table} has no primary key`);
  const required = Object.values(REQUIRED_INDEXES).flat().length;
  return result(
    'indexes',
    problems,
    `${required} required indexes present, every index valid, every table has a primary key`,
    '{n} index problem(s)',
    FIRST_CHECK.audit,
  );
}

/** Relations (not indexes) and functions in public that caracal_owner does not own; the runner's table is the exception. */
export async function checkOwnership(client: Client): Promise<CheckResult> {
  const q = query(client);
  const rows = await q<{ kind: string; name: string; owner: string }>(
    `SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                           WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE c.relkind::text END AS kind,
            c.relname AS name, pg_get_userbyid(c.relowner) AS owner
       FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        AND c.relname <> 'schema_migrations' AND pg_get_userbyid(c.relowner) <> $1
     UNION ALL
     SELECT 'function', p.oid::regprocedure::text, pg_get_userbyid(p.proowner)
       FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND pg_get_userbyid(p.proowner) <> $1
     ORDER BY 1, 2`,
    [OWNER_ROLE],
  );
  const count = await q<{ n: number }>(
    `SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v', 'm', 'S', 'f'))::int
          + (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace)::int AS n`,
  );
  const problems = rows.map((r) => `${r.kind} public.${r.name.replace(/^public\./, '')} is owned by ${r.owner}, not ${OWNER_ROLE}`);
  return result(
    'ownership',
    problems,
    `${count[0].n - 1} relations and functions in public are owned by ${OWNER_ROLE} (public.schema_migrations by the runner's login)`,
    `{n} object(s) not owned by ${OWNER_ROLE}`,
    FIRST_CHECK.ownership,
  );
}

export async function checkMigrations(client: Client, dir: string | undefined): Promise<CheckResult> {
  const id = 'migrations';
  if (dir === undefined) {
    return { id, ok: true, summary: 'skipped: no migrations directory given (--dir)', details: [], firstCheck: FIRST_CHECK.migrations };
  }
  const files = discoverMigrations(dir);
  const rows = await readHistory(client);
  const plan = planMigrations(files, rows);
  const problems: string[] = [];
  if (rows.length === 0) problems.push('public.schema_migrations is missing or empty: the database was never migrated');
  for (const f of plan.pending) problems.push(`pending: ${f.filename} is not applied`);
  for (const { file } of plan.drifted) problems.push(`drifted: ${file.filename} changed after it was applied`);
  for (const r of plan.missing) problems.push(`gap: version ${r.version}${r.name ? ` (${r.name})` : ''} is applied but its file is gone`);
  for (const f of plan.outOfOrder) problems.push(`out of order: ${f.filename} sorts before the newest applied version`);
  const notes = plan.ahead.map(
    (r) => `ahead: version ${r.version}${r.name ? ` (${r.name})` : ''} is newer than every file (normal during an application rollback)`,
  );
  return result(
    id,
    problems,
    `${plan.applied.length + plan.adoptable.length} of ${files.length} migration(s) applied, none pending or drifted${notes.length ? `, ${notes.length} ahead (rollback)` : ''}`,
    '{n} migration history problem(s)',
    FIRST_CHECK.migrations,
    notes,
  );
}

/** Every catalog check, in the order they print. */
export async function runCatalogChecks(client: Client, o: CatalogCheckOptions): Promise<CheckResult[]> {
  const checks: Array<[string, () => Promise<CheckResult>]> = [
    ['expected-tables', () => checkExpectedTables(client)],
    ['privileges', () => checkPrivileges(client, o.matrix)],
    ['append-only-triggers', () => checkAppendOnlyTriggers(client)],
    ['immutability-triggers', () => checkImmutabilityTriggers(client)],
    ['rls-zone', () => checkRls(client, o.matrix)],
    ['no-bypassrls', () => checkBypassRls(client)],
    ['partition-privileges', () => checkPartitionPrivileges(client)],
    ['audit-partition-window', () => checkAuditPartitions(client, o.partitionDaysAhead ?? 7)],
    ['audit-retention', () => checkAuditRetention(client, o.retentionDays ?? 400)],
    ['indexes', () => checkIndexes(client)],
    ['foreign-keys', () => checkForeignKeys(client)],
    ['ownership', () => checkOwnership(client)],
    ['function-execute', () => checkFunctionExecute(client)],
    ['definer-search-path', () => checkDefinerSearchPath(client)],
    ['schema-create', () => checkSchemaCreate(client)],
    ['large-objects', () => checkLargeObjects(client)],
    ['backup-role-reads', () => checkBackupRoleReads(client, o.matrix)],
    ['database-privileges', () => checkDatabasePrivileges(client, { environment: o.environment })],
    ['migrations', () => checkMigrations(client, o.dir)],
  ];
  const out: CheckResult[] = [];
  for (const [id, run] of checks) {
    // Each check runs in its own savepoint, so one that errors (a missing function, a dropped role) is a
    // failed check and the others still run.
    await client.query('SAVEPOINT caracal_verify_check');
    try {
      out.push(await run());
      await client.query('RELEASE SAVEPOINT caracal_verify_check');
    } catch (e) {
      await client.query('ROLLBACK TO SAVEPOINT caracal_verify_check');
      const err = e as Error & { code?: string };
      out.push({
        id,
        ok: false,
        summary: `could not run: ${err.message}${err.code ? ` (SQLSTATE ${err.code})` : ''}`,
        details: [],
        firstCheck: FIRST_CHECK.migrations,
      });
    }
  }
  return out;
}
