-- 0004_monitoring_role: the monitoring group role, caracal_monitoring (NOLOGIN), for postgres_exporter and
-- `caracal-migrate doctor`: pg_monitor (server statistics, every session's state in pg_stat_activity,
-- pg_stat_replication) and exactly the reads docs/access-matrix.md ("Monitoring") lists: the outboxes'
-- delivery columns (never a payload), the migration history, the export watermarks, the ingest alerts' kind and
-- severity (never their detail), and the two read-only partition functions. The environment's login
-- (caracal_<env>_monitoring) is created by the migration Job's provisioning, like the service logins.
--
-- Safe under the previous application version: it only adds a role and grants to it; no service uses them,
-- and nothing any service holds changes. Idempotent (created if missing, GRANT repeats nothing).
-- Who may apply it: the login that applied the baseline. Granting pg_monitor needs ADMIN on it, which on
-- Postgres 16+ only a superuser has by default (on 15, CREATEROLE suffices): without it the role is created
-- without pg_monitor and a WARNING says how to add it; doctor's pool check and the exporter's pool and
-- replication metrics then see only their own sessions.

-- The role is cluster-wide like the baseline's, so created idempotently (two migrators at once: a duplicate).
DO $monitoring_role$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'caracal_monitoring') THEN
    BEGIN
      CREATE ROLE caracal_monitoring NOLOGIN NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- created concurrently by another migrator
    END;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'caracal_monitoring' AND rolbypassrls) THEN
    ALTER ROLE caracal_monitoring NOBYPASSRLS;
  END IF;
  BEGIN
    GRANT pg_monitor TO caracal_monitoring;
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'caracal_monitoring was not granted pg_monitor: % may not grant it', current_user
      USING HINT = 'As a superuser: GRANT pg_monitor TO caracal_monitoring; until then the exporter and doctor see only their own sessions in pg_stat_activity.';
  END;
END
$monitoring_role$;

GRANT USAGE ON SCHEMA public TO caracal_monitoring;
-- public.schema_migrations belongs to the runner's login, which runs this part; the runner creates it before
-- any file (a file applied by hand, without the runner, has none to grant).
DO $history$
BEGIN
  IF to_regclass('public.schema_migrations') IS NOT NULL THEN
    GRANT SELECT ON public.schema_migrations TO caracal_monitoring;
  END IF;
END
$history$;

SET LOCAL ROLE caracal_owner;

-- Outbox backlog and dead rows: the delivery columns only (the payload and message keys stay unreadable).
GRANT SELECT (status, created_at, next_attempt_at, attempts, last_error, dead_at) ON public.event_outbox TO caracal_monitoring;
GRANT SELECT (stream, status, created_at, next_attempt_at, attempts, last_error, dead_at) ON public.caracal_outbox TO caracal_monitoring;
-- Audit retention (how far each sink exported) and open ingest alerts (kind and severity, not their detail).
GRANT SELECT (exported_through) ON public.audit_export_watermark TO caracal_monitoring;
GRANT SELECT (source, kind, severity, occurrences, last_seen_at, resolved_at) ON public.audit_ingest_alerts TO caracal_monitoring;
-- The partition window: the read-only report and the bounds (catalog reads).
GRANT EXECUTE ON FUNCTION public.audit_partition_health(integer), public.audit_partition_bounds() TO caracal_monitoring;

RESET ROLE;
