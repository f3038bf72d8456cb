-- caracal:no-transaction
-- CREATE INDEX CONCURRENTLY on a hot zone table: reads and writes continue; it waits for older transactions.
CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_zone_application_idx ON public.sessions (zone_id, application_id);
