-- A new table with foreign keys to two hot tables, in one statement (SHARE ROW EXCLUSIVE on zones and sessions,
-- which only waits for writers in flight). Zone-scoped like every table the services share.
SET LOCAL ROLE caracal_owner;
CREATE TABLE public.session_notes (
  id          uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id     uuid        NOT NULL REFERENCES public.zones (id),
  session_id  uuid        NOT NULL,
  body        text        NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
  created_at  timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (zone_id, session_id) REFERENCES public.sessions (zone_id, id) ON DELETE CASCADE
);
ALTER TABLE public.session_notes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY zone_isolation ON public.session_notes AS PERMISSIVE FOR ALL TO PUBLIC
  USING (zone_id = NULLIF(current_setting('caracal.zone_id', true), '')::uuid)
  WITH CHECK (zone_id = NULLIF(current_setting('caracal.zone_id', true), '')::uuid);
GRANT SELECT, INSERT ON public.session_notes TO caracal_api;
RESET ROLE;
