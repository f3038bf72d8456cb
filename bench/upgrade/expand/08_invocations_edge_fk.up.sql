-- A foreign key added NOT VALID: SHARE ROW EXCLUSIVE on both tables for an instant, no scan.
ALTER TABLE public.agent_invocations
  ADD CONSTRAINT agent_invocations_edge_fk FOREIGN KEY (zone_id, delegation_edge_id) REFERENCES public.delegation_edges (zone_id, id) NOT VALID;
