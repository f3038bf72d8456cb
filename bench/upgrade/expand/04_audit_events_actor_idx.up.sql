-- A partitioned index starts ON ONLY the parent: nothing is built, it stays invalid until every partition's index
-- is attached (next file). SHARE on the parent for an instant.
SET LOCAL ROLE caracal_owner;
CREATE INDEX IF NOT EXISTS audit_events_actor_idx ON ONLY public.audit_events (zone_id, actor);
RESET ROLE;
