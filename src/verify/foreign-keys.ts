// `verify` check that every foreign key of the schema is there and validated. A restore that failed to add
// some (a parallel pg_restore as a non-superuser hits "query would be affected by row-level security policy"
// while adding them) leaves a database that works but no longer keeps rows inside their zone.
import type { Client } from 'pg';
import { CheckResult, query, result } from './check-support';

/**
 * The foreign keys the migrations create, by table: `(columns) -> referenced (columns)[ ON DELETE action]`.
 * test/integration/verify/verify.test.ts keeps this equal to a migrated database: a migration that adds a
 * foreign key adds it here too.
 */
export const REQUIRED_FOREIGN_KEYS: Readonly<Record<string, readonly string[]>> = {
  admin_audit_events: ['(admin_token_id) -> admin_tokens (id)'],
  admin_tokens: ['(zone_id) -> zones (id)'],
  agent_invocations: [
    '(zone_id) -> zones (id)',
    '(zone_id, agent_service_id) -> agent_services (zone_id, id)',
    '(zone_id, caller_agent_session_id) -> agent_sessions (zone_id, id)',
  ],
  agent_services: ['(zone_id) -> zones (id)', '(zone_id, agent_session_id) -> agent_sessions (zone_id, id) ON DELETE CASCADE'],
  agent_sessions: ['(zone_id) -> zones (id)', '(zone_id, application_id) -> applications (zone_id, id)'],
  agent_topology: [
    '(zone_id) -> zones (id)',
    '(zone_id, child_agent_session_id) -> agent_sessions (zone_id, id) ON DELETE CASCADE',
    '(zone_id, parent_agent_session_id) -> agent_sessions (zone_id, id) ON DELETE CASCADE',
  ],
  application_dependencies: [
    '(zone_id) -> zones (id)',
    '(zone_id, application_id) -> applications (zone_id, id) ON DELETE CASCADE',
    '(zone_id, resource_id) -> resources (zone_id, id) ON DELETE CASCADE',
  ],
  applications: ['(zone_id) -> zones (id)'],
  caracal_outbox: ['(zone_id) -> zones (id)'],
  delegated_grants: [
    '(zone_id) -> zones (id)',
    '(zone_id, application_id) -> applications (zone_id, id)',
    '(zone_id, resource_id) -> resources (zone_id, id)',
    '(zone_id, session_id) -> sessions (zone_id, id) ON DELETE SET NULL',
  ],
  delegation_edges: [
    '(zone_id) -> zones (id)',
    '(zone_id, delegate_agent_session_id) -> agent_sessions (zone_id, id)',
    '(zone_id, delegator_agent_session_id) -> agent_sessions (zone_id, id)',
    '(zone_id, epoch) -> delegation_graph_epochs (zone_id, epoch)',
    '(zone_id, parent_edge_id) -> delegation_edges (zone_id, id)',
  ],
  delegation_graph_epochs: ['(zone_id) -> zones (id)'],
  event_outbox: ['(zone_id) -> zones (id)'],
  gateway_binding_revision: ['(zone_id) -> zones (id)'],
  gateway_resource_bindings: ['(zone_id) -> zones (id)', '(zone_id, resource_id) -> resources (zone_id, id)'],
  policies: ['(zone_id) -> zones (id)'],
  policy_set_bindings: [
    '(zone_id) -> zones (id)',
    '(zone_id, application_id) -> applications (zone_id, id) ON DELETE CASCADE',
    '(zone_id, policy_set_id, policy_set_version) -> policy_set_versions (zone_id, policy_set_id, version)',
    '(zone_id, resource_id) -> resources (zone_id, id) ON DELETE CASCADE',
  ],
  policy_set_versions: ['(zone_id) -> zones (id)', '(zone_id, policy_set_id) -> policy_sets (zone_id, id)'],
  policy_sets: ['(zone_id) -> zones (id)'],
  policy_versions: ['(zone_id) -> zones (id)', '(zone_id, policy_id) -> policies (zone_id, id)'],
  provider_grants: ['(zone_id) -> zones (id)', '(zone_id, provider_id) -> providers (zone_id, id)'],
  providers: ['(zone_id) -> zones (id)'],
  resource_rate_limits: [
    '(zone_id) -> zones (id)',
    '(zone_id, application_id) -> applications (zone_id, id) ON DELETE CASCADE',
    '(zone_id, resource_id) -> resources (zone_id, id) ON DELETE CASCADE',
  ],
  resources: ['(zone_id) -> zones (id)', '(zone_id, provider_id) -> providers (zone_id, id)'],
  sessions: ['(zone_id) -> zones (id)', '(zone_id, application_id) -> applications (zone_id, id)'],
  step_up_challenges: ['(zone_id) -> zones (id)', '(zone_id, session_id) -> sessions (zone_id, id) ON DELETE CASCADE'],
};

/** `(a, b) -> t (x, y) ON DELETE CASCADE` for each foreign key of public, with the table and whether it is validated. */
export const FOREIGN_KEYS_SQL = `SELECT (SELECT relname FROM pg_class WHERE oid = c.conrelid) AS table_name, c.conname AS name, c.convalidated AS validated,
         '(' || (SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum)
         || ') -> ' || (SELECT relname FROM pg_class WHERE oid = c.confrelid) || ' ('
         || (SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) || ')'
         || CASE c.confdeltype WHEN 'c' THEN ' ON DELETE CASCADE' WHEN 'n' THEN ' ON DELETE SET NULL'
                               WHEN 'd' THEN ' ON DELETE SET DEFAULT' WHEN 'r' THEN ' ON DELETE RESTRICT' ELSE '' END AS definition
    FROM pg_constraint c
   WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace`;

const FIRST =
  'restore: the foreign keys are added after the data; as a non-superuser owner restore serially (no -j for the post-data section) so RLS is not yet forced when they are validated, then ALTER TABLE ... VALIDATE CONSTRAINT any NOT VALID one';

export async function checkForeignKeys(client: Client): Promise<CheckResult> {
  const q = query(client);
  const rows = await q<{ table_name: string; name: string; validated: boolean; definition: string }>(`${FOREIGN_KEYS_SQL} ORDER BY 1, 4`);
  const problems: string[] = [];
  for (const [table, fks] of Object.entries(REQUIRED_FOREIGN_KEYS)) {
    for (const fk of fks) {
      if (!rows.some((r) => r.table_name === table && r.definition === fk)) problems.push(`public.${table}: foreign key ${fk} is missing`);
    }
  }
  for (const r of rows.filter((x) => !x.validated))
    problems.push(`public.${r.table_name}: foreign key ${r.name} ${r.definition} is NOT VALID (existing rows were never checked)`);
  const required = Object.values(REQUIRED_FOREIGN_KEYS).flat().length;
  return result(
    'foreign-keys',
    problems,
    `${required} required foreign keys present and every one of the ${rows.length} foreign key(s) in public validated`,
    '{n} foreign key problem(s)',
    FIRST,
  );
}
