// Generated from docs/access-matrix.md by `npx tsx src/verify/access-matrix.ts --write`: do not edit.
// Built into the CLI so `verify` needs no docs at run time; test/unit/verify/access-matrix.test.ts keeps it equal.
import type { MatrixRow } from './access-matrix';

export const ACCESS_MATRIX: readonly MatrixRow[] = [
  { table: 'zones', rls: 'none', cells: { api: 'SIU', coordinator: 'S', audit: '', sts: 'S', gateway: 'S', backup: 'S' } },
  { table: 'providers', rls: 'zone', cells: { api: 'SIUD', coordinator: '', audit: '', sts: 'S', gateway: '', backup: 'S' } },
  { table: 'applications', rls: 'zone', cells: { api: 'SIUD', coordinator: 'S', audit: '', sts: 'S', gateway: '', backup: 'S' } },
  { table: 'resources', rls: 'zone', cells: { api: 'SIUD', coordinator: 'S', audit: '', sts: 'S', gateway: 'S', backup: 'S' } },
  {
    table: 'application_dependencies',
    rls: 'zone',
    cells: { api: 'SIUD', coordinator: '', audit: '', sts: 'S', gateway: '', backup: 'S' },
  },
  { table: 'sessions', rls: 'zone', cells: { api: 'SIUD', coordinator: '', audit: '', sts: 'S', gateway: 'S', backup: 'S' } },
  { table: 'delegated_grants', rls: 'zone', cells: { api: 'SIU', coordinator: '', audit: '', sts: 'S', gateway: 'S', backup: 'S' } },
  { table: 'provider_grants', rls: 'zone', cells: { api: 'SIUD', coordinator: '', audit: '', sts: 'S', gateway: '', backup: 'S' } },
  { table: 'step_up_challenges', rls: 'zone', cells: { api: 'SUD', coordinator: '', audit: '', sts: 'SIU', gateway: '', backup: 'S' } },
  { table: 'policies', rls: 'zone', cells: { api: 'SIU', coordinator: '', audit: '', sts: 'S', gateway: '', backup: 'S' } },
  { table: 'policy_versions', rls: 'zone', cells: { api: 'SI', coordinator: '', audit: '', sts: 'S', gateway: '', backup: 'S' } },
  { table: 'policy_sets', rls: 'zone', cells: { api: 'SIU', coordinator: '', audit: '', sts: 'S', gateway: '', backup: 'S' } },
  { table: 'policy_set_versions', rls: 'zone', cells: { api: 'SI', coordinator: '', audit: '', sts: 'S', gateway: '', backup: 'S' } },
  { table: 'policy_set_bindings', rls: 'zone', cells: { api: 'SIUD', coordinator: '', audit: '', sts: 'S', gateway: '', backup: 'S' } },
  { table: 'audit_events', rls: 'zone', cells: { api: '', coordinator: '', audit: 'SI', sts: '', gateway: '', backup: 'S' } },
  { table: 'audit_export_watermark', rls: 'none', cells: { api: '', coordinator: '', audit: 'SIU', sts: '', gateway: '', backup: 'S' } },
  { table: 'audit_ingest_alerts', rls: 'none', cells: { api: 'S', coordinator: '', audit: 'SIU', sts: '', gateway: '', backup: 'S' } },
  { table: 'admin_audit_events', rls: 'none', cells: { api: 'SI', coordinator: '', audit: 'S', sts: '', gateway: '', backup: 'S' } },
  { table: 'agent_sessions', rls: 'zone', cells: { api: 'S', coordinator: 'SIUD', audit: '', sts: 'S', gateway: '', backup: 'S' } },
  { table: 'agent_topology', rls: 'zone', cells: { api: 'S', coordinator: 'SIUD', audit: '', sts: '', gateway: '', backup: 'S' } },
  { table: 'agent_services', rls: 'zone', cells: { api: 'S', coordinator: 'SIUD', audit: '', sts: '', gateway: '', backup: 'S' } },
  { table: 'agent_invocations', rls: 'zone', cells: { api: 'S', coordinator: 'SIU', audit: '', sts: '', gateway: '', backup: 'S' } },
  { table: 'delegation_edges', rls: 'zone', cells: { api: 'S', coordinator: 'SIU', audit: '', sts: 'S', gateway: '', backup: 'S' } },
  { table: 'delegation_graph_epochs', rls: 'zone', cells: { api: 'S', coordinator: 'SI', audit: '', sts: 'S', gateway: '', backup: 'S' } },
  { table: 'event_outbox', rls: 'none', cells: { api: 'SIU', coordinator: '', audit: '', sts: '', gateway: '', backup: 'S' } },
  { table: 'caracal_outbox', rls: 'none', cells: { api: 'SIU', coordinator: 'I', audit: '', sts: '', gateway: '', backup: 'S' } },
  { table: 'admin_tokens', rls: 'none', cells: { api: 'SIU', coordinator: '', audit: '', sts: '', gateway: '', backup: 'S' } },
  {
    table: 'gateway_resource_bindings',
    rls: 'zone',
    cells: { api: 'SIUD', coordinator: '', audit: '', sts: '', gateway: 'S', backup: 'S' },
  },
  { table: 'gateway_binding_revision', rls: 'zone', cells: { api: 'SIU', coordinator: '', audit: '', sts: '', gateway: 'S', backup: 'S' } },
  { table: 'resource_rate_limits', rls: 'zone', cells: { api: 'SIUD', coordinator: '', audit: '', sts: '', gateway: 'S', backup: 'S' } },
];
