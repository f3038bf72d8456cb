-- Both constraints validated in a later file: SHARE UPDATE EXCLUSIVE (and ROW SHARE on delegation_edges), so the
-- previous version reads and writes during the scans.
ALTER TABLE public.delegated_grants VALIDATE CONSTRAINT delegated_grants_scopes_bounded;
ALTER TABLE public.agent_invocations VALIDATE CONSTRAINT agent_invocations_edge_fk;
