// The baseline's realistic data for bench/upgrade: every domain of the schema filled per zone (thousands of rows)
// and audit events over the last 30 days of partitions. Ids are derived (md5 of kind, zone and ordinal) so rows can
// reference each other without lookups. Run as a superuser: it sets ingested_at, which the audit role may not.

export interface DataScale {
  readonly zones: number;
  /** Per zone. */
  readonly sessions: number;
  readonly applications: number;
  readonly delegatedGrants: number;
  readonly agentSessions: number;
  readonly outboxRows: number;
  /** In all, spread over `auditDays` daily partitions ending today. */
  readonly auditEvents: number;
  readonly auditDays: number;
}

/** The figure: at least 1M audit events over 30 partitions, thousands of rows in the other domains. */
export const FULL_SCALE: DataScale = {
  zones: 50,
  sessions: 4000,
  applications: 40,
  delegatedGrants: 2000,
  agentSessions: 400,
  outboxRows: 2000,
  auditEvents: 1_000_000,
  auditDays: 30,
};

/** The integration test's short version: the same shape, small enough for seconds. */
export const SHORT_SCALE: DataScale = {
  zones: 5,
  sessions: 300,
  applications: 8,
  delegatedGrants: 100,
  agentSessions: 40,
  outboxRows: 100,
  auditEvents: 20_000,
  auditDays: 30,
};

/** `md5(kind:zone:n)::uuid`: the id of the n-th row of a kind in zone z (SQL expression). */
export const idOf = (kind: string, zone: string, n: string) => `md5('${kind}:' || ${zone} || ':' || ${n})::uuid`;

/** Statements that fill an empty, migrated database. Each is one INSERT ... SELECT. */
export function dataStatements(s: DataScale): string[] {
  const zones = `generate_series(1, ${s.zones}) AS z`;
  const zone = idOf('zone', 'z', '0');
  const per = (n: number, name = 'g') => `generate_series(1, ${n}) AS ${name}`;
  const app = (n: string) => idOf('app', 'z', n);
  const res = (n: string) => idOf('res', 'z', n);
  const mod = (expr: string, n: number) => `(((${expr}) - 1) % ${n} + 1)`;
  return [
    `INSERT INTO public.zones (id, slug, display_name, signing_key_ref)
       SELECT ${zone}, 'zone-' || z, 'Zone ' || z, 'kms:alias/caracal-signing-' || z FROM ${zones}`,
    `INSERT INTO public.providers (id, zone_id, name, kind, issuer_url, client_secret_ref)
       SELECT ${idOf('prov', 'z', 'g')}, ${zone}, 'idp-' || g, 'oidc', 'https://idp.example/' || z, 'vault:kv/caracal/idp-' || g
       FROM ${zones}, ${per(4)}`,
    `INSERT INTO public.applications (id, zone_id, name, kind)
       SELECT ${app('g')}, ${zone}, 'app-' || g, (ARRAY['web','service','agent','cli'])[g % 4 + 1] FROM ${zones}, ${per(s.applications)}`,
    `INSERT INTO public.resources (id, zone_id, provider_id, name, uri, kind)
       SELECT ${res('g')}, ${zone}, ${idOf('prov', 'z', mod('g', 4))}, 'res-' || g, 'https://api.example/' || z || '/' || g, 'api'
       FROM ${zones}, ${per(s.applications)}`,
    `INSERT INTO public.application_dependencies (zone_id, application_id, resource_id, scopes)
       SELECT ${zone}, ${app('g')}, ${res('g')}, '{read,write}' FROM ${zones}, ${per(s.applications)}`,
    `INSERT INTO public.sessions (id, zone_id, subject, application_id, token_hash, created_at, last_seen_at, expires_at, revoked_at, revoked_reason)
       SELECT ${idOf('sess', 'z', 'g')}, ${zone}, 'user-' || (g % 500), ${app(mod('g', s.applications))},
              sha256(('token:' || z || ':' || g)::bytea), now() - interval '2 days', now() - (g % 600) * interval '1 second',
              now() + interval '7 days', CASE WHEN g % 20 = 0 THEN now() - interval '1 hour' END,
              CASE WHEN g % 20 = 0 THEN 'logout' END
       FROM ${zones}, ${per(s.sessions)}`,
    `INSERT INTO public.delegated_grants (id, zone_id, subject, application_id, resource_id, session_id, scopes)
       SELECT ${idOf('grant', 'z', 'g')}, ${zone}, 'user-' || (g % 500), ${app(mod('g', s.applications))}, ${res(mod('g', s.applications))},
              ${idOf('sess', 'z', mod('g', s.sessions))}, '{read}'
       FROM ${zones}, ${per(s.delegatedGrants)}`,
    `INSERT INTO public.provider_grants (zone_id, provider_id, subject, scopes, encryption_key_id, access_token_ciphertext)
       SELECT ${zone}, ${idOf('prov', 'z', mod('g', 4))}, 'user-' || g, '{openid}', 'kms:key/1', sha256(g::text::bytea) || sha256(z::text::bytea)
       FROM ${zones}, ${per(Math.min(500, s.sessions))}`,
    `INSERT INTO public.step_up_challenges (zone_id, session_id, method, challenge_hash, status, created_at, expires_at)
       SELECT ${zone}, ${idOf('sess', 'z', 'g')}, 'totp', sha256(('ch:' || z || ':' || g)::bytea), 'expired',
              now() - interval '1 day', now() - interval '1 day' + interval '5 minutes'
       FROM ${zones}, ${per(Math.min(50, s.sessions))}`,
    `INSERT INTO public.policies (id, zone_id, name) SELECT ${idOf('pol', 'z', 'g')}, ${zone}, 'policy-' || g FROM ${zones}, ${per(20)}`,
    `INSERT INTO public.policy_versions (zone_id, policy_id, version, document, document_sha256, created_by)
       SELECT ${zone}, ${idOf('pol', 'z', 'g')}, v, jsonb_build_object('allow', ARRAY['read'], 'v', v), sha256((z || ':' || g || ':' || v)::bytea), 'seed'
       FROM ${zones}, ${per(20)}, generate_series(1, 3) AS v`,
    `INSERT INTO public.policy_sets (id, zone_id, name) SELECT ${idOf('pset', 'z', 'g')}, ${zone}, 'set-' || g FROM ${zones}, ${per(10)}`,
    `INSERT INTO public.policy_set_versions (zone_id, policy_set_id, version, members, document_sha256, created_by)
       SELECT ${zone}, ${idOf('pset', 'z', 'g')}, v, '[]', sha256((z || ':s' || g || ':' || v)::bytea), 'seed'
       FROM ${zones}, ${per(10)}, generate_series(1, 2) AS v`,
    `INSERT INTO public.policy_set_bindings (zone_id, policy_set_id, policy_set_version, application_id)
       SELECT ${zone}, ${idOf('pset', 'z', mod('g', 10))}, 2, ${app('g')} FROM ${zones}, ${per(s.applications)}`,
    `INSERT INTO public.agent_sessions (id, zone_id, application_id, agent_name, principal_subject, expires_at)
       SELECT ${idOf('agent', 'z', 'g')}, ${zone}, ${app(mod('g', s.applications))}, 'agent-' || g, 'user-' || (g % 500), now() + interval '1 day'
       FROM ${zones}, ${per(s.agentSessions)}`,
    `INSERT INTO public.agent_services (id, zone_id, agent_session_id, name, protocol, endpoint_uri)
       SELECT ${idOf('asvc', 'z', 'g')}, ${zone}, ${idOf('agent', 'z', 'g')}, 'svc', 'mcp', 'https://agent.example/' || g
       FROM ${zones}, ${per(s.agentSessions)}`,
    `INSERT INTO public.agent_topology (zone_id, parent_agent_session_id, child_agent_session_id)
       SELECT ${zone}, ${idOf('agent', 'z', 'g')}, ${idOf('agent', 'z', 'g + 1')} FROM ${zones}, ${per(Math.max(1, s.agentSessions - 1))}`,
    `INSERT INTO public.agent_invocations (zone_id, caller_agent_session_id, agent_service_id, status, started_at, ended_at)
       SELECT ${zone}, ${idOf('agent', 'z', mod('g', s.agentSessions))}, ${idOf('asvc', 'z', mod('g + 1', s.agentSessions))}, 'succeeded',
              now() - interval '1 hour', now() - interval '59 minutes'
       FROM ${zones}, ${per(s.agentSessions * 3)}`,
    `INSERT INTO public.delegation_graph_epochs (zone_id, epoch, reason) SELECT ${zone}, e, 'seed' FROM ${zones}, generate_series(1, 10) AS e`,
    `INSERT INTO public.delegation_edges (zone_id, delegator_agent_session_id, delegate_agent_session_id, principal_subject, scopes, epoch, expires_at)
       SELECT ${zone}, NULL, ${idOf('agent', 'z', 'g')}, 'user-' || (g % 500), '{read}', 10, now() + interval '1 day'
       FROM ${zones}, ${per(s.agentSessions)}`,
    `INSERT INTO public.gateway_binding_revision (zone_id, revision) SELECT ${zone}, 1 FROM ${zones}`,
    `INSERT INTO public.gateway_resource_bindings (zone_id, resource_id, route, upstream_uri, revision)
       SELECT ${zone}, ${res('g')}, '/r/' || g, 'https://upstream.example/' || g, 1 FROM ${zones}, ${per(s.applications)}`,
    `INSERT INTO public.resource_rate_limits (zone_id, resource_id, requests, window_seconds)
       SELECT ${zone}, ${res('g')}, 100, 60 FROM ${zones}, ${per(s.applications)}`,
    `INSERT INTO public.event_outbox (zone_id, topic, aggregate_type, aggregate_id, payload, status, dispatched_at, stream_entry_id)
       SELECT ${zone}, 'session.created', 'session', g::text, '{}', 'dispatched', now() - interval '1 hour', g || '-0'
       FROM ${zones}, ${per(s.outboxRows)}`,
    `INSERT INTO public.caracal_outbox (zone_id, stream, message_key, payload, status, dispatched_at, stream_entry_id)
       SELECT ${zone}, 'propagation', 'k' || g, '{}', 'dispatched', now() - interval '1 hour', g || '-0' FROM ${zones}, ${per(s.outboxRows)}`,
    `INSERT INTO public.admin_tokens (name, token_prefix, token_hash, hmac_key_id, scopes, created_by, expires_at)
       SELECT 'token-' || g, 'cara' || lpad(g::text, 4, '0'), sha256(('admin:' || g)::bytea), 'kms:hmac/1', '{admin}', 'seed', now() + interval '90 days'
       FROM ${per(20)}`,
    `INSERT INTO public.admin_audit_events (actor, action, zone_id, target_type, target_id, detail)
       SELECT 'admin-' || (g % 5), 'zone.update', md5('zone:' || (g % ${s.zones} + 1) || ':0')::uuid, 'zone', g::text, '{}' FROM ${per(5000)}`,
    // Audit events: ingested over the `auditDays` UTC days before today (one partition each; today's partition is
    // the load's), events of every zone. The partitions exist: audit_partitions_ensure(auditDays + 1, ...) ran first.
    `INSERT INTO public.audit_events (zone_id, event_id, ingested_at, occurred_at, source, event_type, actor, subject, decision, request_id, payload)
       SELECT md5('zone:' || (g % ${s.zones} + 1) || ':0')::uuid, md5('ev:' || g)::uuid, t, t - interval '2 seconds',
              (ARRAY['api','coordinator','sts','gateway','audit'])[g % 5 + 1], 'request.authorized', 'agent:' || (g % 50),
              'resource:' || (g % 200), CASE WHEN g % 10 = 0 THEN 'deny' ELSE 'allow' END, 'req-' || g,
              jsonb_build_object('method', 'GET', 'status', 200, 'latency_ms', g % 97)
       FROM generate_series(1, ${s.auditEvents}) AS g,
            LATERAL (SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                            - ((g / ${s.zones}) % ${s.auditDays} + 1) * interval '1 day' + (g % 86000) * interval '1 second' AS t) x`,
  ];
}
