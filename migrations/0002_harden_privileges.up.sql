-- 0002_harden_privileges: closes the privilege gaps an outside review found in the baseline (issue 14
-- items 1-5, issue 17 item 5), without editing 0001 (its checksum is recorded in every database):
--   * schema public: caracal_owner gets CREATE explicitly, then PUBLIC loses CREATE (a database made the
--     pre-15 way, or upgraded from one, let every login create functions there and hijack the owner's
--     SECURITY DEFINER functions through their search_path);
--   * the SECURITY DEFINER partition functions (and audit_partition_secure, which they call) are replaced
--     with search_path = pg_catalog, pg_temp and every function and relation schema-qualified; ensure and
--     health read the partition bounds once (linear in the window, not window x partitions); health
--     refuses a negative or huge days_ahead; retention refuses more than 36500 days;
--   * functions caracal_owner creates later are not executable by PUBLIC (ALTER DEFAULT PRIVILEGES without
--     IN SCHEMA: a per-schema default can only add privileges), and PUBLIC loses EXECUTE on any function
--     in public that still has it;
--   * PUBLIC loses EXECUTE on the large-object functions (lo_from_bytea, lo_create, lowrite, ...): no login
--     may write outside the access matrix (needs a superuser; otherwise a WARNING, and verify fails);
--   * a NOLOGIN group role caracal_maintenance with EXECUTE on ensure, health and retention only, for the
--     audit partition CronJob's own login (created by the migration Job), instead of the owner login.
--
-- Safe under the previous application version: no service uses what is revoked (the access matrix grants
-- no CREATE on public, no function but audit_partition_health to caracal_audit, which keeps it, and no
-- large objects); the replaced functions keep their signatures, results and grants; the new role is
-- unused until the CronJob of this version runs as its login. Idempotent (CREATE OR REPLACE, IF NOT
-- EXISTS, GRANT/REVOKE), like every file. Who may apply it: the login that applied the baseline (the
-- database owner with CREATEROLE, or a superuser); the large-object revoke needs a superuser.

-- This file itself must not resolve a name through public, which it is closing: every name below is
-- qualified, and nothing else is searched.
SET LOCAL search_path = pg_catalog, pg_temp;

-- ---------------------------------------------------------------------------------------------
-- As the login (the schema's owner, pg_database_owner, or a superuser): schema public. The grant to
-- caracal_owner comes first: where PUBLIC had CREATE, the baseline did not grant it to the owner.
-- ---------------------------------------------------------------------------------------------
GRANT USAGE, CREATE ON SCHEMA public TO caracal_owner;
DO $public_schema$
BEGIN
  REVOKE CREATE ON SCHEMA public FROM PUBLIC;
  IF EXISTS (
    SELECT 1 FROM pg_catalog.pg_namespace n, LATERAL pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a
    WHERE n.nspname = 'public' AND a.grantee = 0 AND a.privilege_type = 'CREATE'
  ) THEN
    RAISE EXCEPTION 'could not revoke CREATE on schema public from PUBLIC: % is not its owner (%)', current_user,
      (SELECT pg_catalog.pg_get_userbyid(nspowner) FROM pg_catalog.pg_namespace WHERE nspname = 'public')
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'As the owner of schema public or a superuser: REVOKE CREATE ON SCHEMA public FROM PUBLIC; then rerun.';
  END IF;
END
$public_schema$;

-- Large objects: every login with CONNECT could create them (a write outside the access matrix). The
-- functions belong to the bootstrap superuser, so only a superuser can revoke; otherwise say so.
DO $large_objects$
DECLARE
  f regprocedure;
BEGIN
  IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RAISE WARNING 'PUBLIC keeps EXECUTE on the large-object functions: % is not a superuser', current_user
      USING HINT = 'As a superuser, in this database: REVOKE EXECUTE ON FUNCTION every pg_catalog.lo_* function, loread and lowrite FROM PUBLIC (docs/schema.md, "Large objects"); caracal-migrate verify fails (large-objects) until then.';
    RETURN;
  END IF;
  FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
           WHERE p.pronamespace = 'pg_catalog'::regnamespace
             AND (p.proname LIKE 'lo\_%' OR p.proname IN ('loread', 'lowrite')) LOOP
    EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END
$large_objects$;

-- The maintenance group role (cluster-wide like the baseline's roles, so created idempotently).
DO $maintenance_role$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'caracal_maintenance') THEN
    BEGIN
      CREATE ROLE caracal_maintenance NOLOGIN NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- created concurrently by another migrator
    END;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'caracal_maintenance' AND rolbypassrls) THEN
    ALTER ROLE caracal_maintenance NOBYPASSRLS;
  END IF;
END
$maintenance_role$;
GRANT USAGE ON SCHEMA public TO caracal_maintenance;

SET LOCAL ROLE caracal_owner;

-- Functions the owner creates from now on, in any schema, are not executable by PUBLIC.
ALTER DEFAULT PRIVILEGES FOR ROLE caracal_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- The partition functions, pinned to pg_catalog, pg_temp.
-- ---------------------------------------------------------------------------------------------
-- One call reads every bound at once: as a PL/pgSQL set-returning function its result is materialized,
-- so its SET search_path applies once per call (the baseline's SQL function with SET re-applied it for
-- every row: 35 ms at 365 partitions). Bounds are constants, so they are printed without opening each
-- partition (relid 0: no lock and no relcache entry per partition).
CREATE OR REPLACE FUNCTION public.audit_partition_bounds()
  RETURNS TABLE (partition_name text, is_default boolean, lower_bound timestamptz, upper_bound timestamptz)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  RETURN QUERY
  SELECT c.relname::text, e.expr = 'DEFAULT',
         (pg_catalog.regexp_match(e.expr, 'FROM \(''([^'']+)''\)'))[1]::timestamptz,
         (pg_catalog.regexp_match(e.expr, 'TO \(''([^'']+)''\)'))[1]::timestamptz
    FROM pg_catalog.pg_inherits i
    JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
    -- OFFSET 0: print each bound once, not once per use.
    CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_expr(c.relpartbound, 0) AS expr OFFSET 0) e
   WHERE i.inhparent = 'public.audit_events'::regclass;
END
$fn$;

CREATE OR REPLACE FUNCTION public.audit_partition_secure(part regclass)
  RETURNS void
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', part);
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = part AND polname = 'zone_isolation') THEN
    EXECUTE pg_catalog.format($p$CREATE POLICY zone_isolation ON %s AS PERMISSIVE FOR ALL TO PUBLIC
      USING (zone_id = NULLIF(current_setting('caracal.zone_id', true), '')::uuid)
      WITH CHECK (zone_id = NULLIF(current_setting('caracal.zone_id', true), '')::uuid)$p$, part);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = part AND tgname = 'audit_events_append_only') THEN
    EXECUTE pg_catalog.format('CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON %s
      FOR EACH STATEMENT EXECUTE FUNCTION public.reject_mutation(%L)', part, 'append-only');
  END IF;
  EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER audit_events_append_only', part);
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = part AND tgname = 'audit_events_append_only_row') THEN
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER audit_events_append_only_row', part);
  END IF;
  EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC, caracal_api, caracal_coordinator, caracal_audit, caracal_sts, caracal_gateway, caracal_maintenance', part);
  EXECUTE pg_catalog.format('GRANT SELECT ON %s TO caracal_backup', part);
END
$fn$;

CREATE OR REPLACE FUNCTION public.audit_partitions_ensure(days_back integer DEFAULT 7, days_ahead integer DEFAULT 14)
  RETURNS integer
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET lock_timeout = '5s'
AS $fn$
DECLARE
  today date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
  missing date[];
  d date;
  lo timestamptz;
  hi timestamptz;
  lo_txt text;
  hi_txt text;
  part text;
  moved bigint;
  created integer := 0;
BEGIN
  IF days_back IS NULL OR days_ahead IS NULL OR days_back < 0 OR days_ahead < 0 OR days_back + days_ahead > 1000 THEN
    RAISE EXCEPTION 'audit_partitions_ensure: days_back (%) and days_ahead (%) must be >= 0 and span at most 1000 days', days_back, days_ahead
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- One maintainer at a time (ensure and retention share the key). Waiting for the other one may
  -- take longer than a DDL lock wait should.
  PERFORM pg_catalog.set_config('lock_timeout', '60s', true);
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('caracal.audit_partitions'));
  PERFORM pg_catalog.set_config('lock_timeout', '5s', true);

  -- The window's days that no partition overlaps, from one read of the bounds: each partition, clipped
  -- to the window, names the days it overlaps (partitions never overlap, so this is linear in the
  -- window plus the partitions). Day arithmetic is on UTC timestamps, whatever the session's TimeZone.
  WITH win AS (
    SELECT (today - days_back)::timestamp AS lo, (today + days_ahead + 1)::timestamp AS hi
  ), clipped AS (
    SELECT GREATEST(coalesce(b.lower_bound AT TIME ZONE 'UTC', w.lo), w.lo) AS lo,
           LEAST(coalesce(b.upper_bound AT TIME ZONE 'UTC', w.hi), w.hi) AS hi
      FROM public.audit_partition_bounds() b CROSS JOIN win w
     WHERE NOT b.is_default
  ), overlapped AS (
    SELECT c.lo::date + i AS day
      FROM clipped c, LATERAL pg_catalog.generate_series(0, (c.hi - interval '1 microsecond')::date - c.lo::date) AS i
     WHERE c.lo < c.hi
  )
  SELECT coalesce(pg_catalog.array_agg(w.day ORDER BY w.day), '{}') INTO missing
    FROM (SELECT today + i AS day FROM pg_catalog.generate_series(-days_back, days_ahead) AS i
          EXCEPT
          SELECT day FROM overlapped) w;

  FOREACH d IN ARRAY missing LOOP
    lo_txt := pg_catalog.to_char(d::timestamp, 'YYYY-MM-DD') || ' 00:00:00+00';
    hi_txt := pg_catalog.to_char((d + 1)::timestamp, 'YYYY-MM-DD') || ' 00:00:00+00';
    lo := lo_txt::timestamptz;
    hi := hi_txt::timestamptz;
    part := 'audit_events_p' || pg_catalog.to_char(d::timestamp, 'YYYYMMDD');
    -- A standalone table first, with a CHECK matching the bounds, so ATTACH skips the validation
    -- scan and holds its lock (SHARE UPDATE EXCLUSIVE on the parent) only briefly.
    EXECUTE pg_catalog.format('CREATE TABLE public.%I (LIKE public.audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', part);
    EXECUTE pg_catalog.format('ALTER TABLE public.%I ADD CONSTRAINT %I CHECK (ingested_at >= %L AND ingested_at < %L)',
                              part, part || '_bounds', lo_txt, hi_txt);

    -- Events that arrived while this day had no partition sit in the default partition and would
    -- make ATTACH fail: move them here first, in this locked transaction. The append-only triggers
    -- of the default partition are disabled only inside this transaction (nobody else sees it).
    IF pg_catalog.to_regclass('public.audit_events_default') IS NOT NULL
       AND EXISTS (SELECT 1 FROM public.audit_events_default WHERE ingested_at >= lo AND ingested_at < hi) THEN
      ALTER TABLE public.audit_events_default DISABLE TRIGGER audit_events_append_only;
      ALTER TABLE public.audit_events_default DISABLE TRIGGER audit_events_append_only_row;
      EXECUTE pg_catalog.format('WITH moved AS (DELETE FROM public.audit_events_default WHERE ingested_at >= $1 AND ingested_at < $2 RETURNING *)
                                 INSERT INTO public.%I SELECT * FROM moved', part) USING lo, hi;
      GET DIAGNOSTICS moved = ROW_COUNT;
      ALTER TABLE public.audit_events_default ENABLE ALWAYS TRIGGER audit_events_append_only;
      ALTER TABLE public.audit_events_default ENABLE ALWAYS TRIGGER audit_events_append_only_row;
      RAISE NOTICE 'audit_partitions_ensure: moved % event(s) from audit_events_default into %', moved, part;
    END IF;

    PERFORM public.audit_partition_secure(pg_catalog.format('public.%I', part)::regclass);
    EXECUTE pg_catalog.format('COMMENT ON TABLE public.%I IS %L', part,
                              pg_catalog.format('audit_events partition for ingest day %s (UTC). Created by audit_partitions_ensure.', pg_catalog.to_char(d::timestamp, 'YYYY-MM-DD')));
    EXECUTE pg_catalog.format('ALTER TABLE public.audit_events ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)', part, lo_txt, hi_txt);
    -- The row trigger was cloned by ATTACH; make sure it fires ALWAYS too. The CHECK is now redundant.
    PERFORM public.audit_partition_secure(pg_catalog.format('public.%I', part)::regclass);
    EXECUTE pg_catalog.format('ALTER TABLE public.%I DROP CONSTRAINT %I', part, part || '_bounds');
    created := created + 1;
  END LOOP;
  RETURN created;
END
$fn$;

CREATE OR REPLACE FUNCTION public.audit_partition_health(days_ahead integer DEFAULT 7)
  RETURNS TABLE (check_name text, ok boolean, detail text)
  LANGUAGE plpgsql
  STABLE
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  today date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
  missing text;
  gaps text;
  offenders text;
  n bigint;
  first_at timestamptz;
  last_at timestamptz;
BEGIN
  -- Runs as the owner: a caller must not make it work for long (2000000000 days) or report nothing (-5).
  IF days_ahead IS NULL OR days_ahead < 0 OR days_ahead > 1000 THEN
    RAISE EXCEPTION 'audit_partition_health: days_ahead must be from 0 to 1000 (got %)', coalesce(days_ahead::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- One read of the bounds for two checks. Days of today .. +days_ahead that lie wholly inside one
  -- partition: each partition, clipped to the window, names the days it covers (linear, not window x
  -- partitions). Day arithmetic is on UTC timestamps, whatever the session's TimeZone.
  WITH b AS MATERIALIZED (
    SELECT lower_bound, upper_bound FROM public.audit_partition_bounds() WHERE NOT is_default
  ), win AS (
    SELECT today::timestamp AS lo, (today + days_ahead + 1)::timestamp AS hi
  ), clipped AS (
    SELECT GREATEST(coalesce(b.lower_bound AT TIME ZONE 'UTC', w.lo), w.lo) AS lo,
           LEAST(coalesce(b.upper_bound AT TIME ZONE 'UTC', w.hi), w.hi) AS hi
      FROM b CROSS JOIN win w
  ), covered AS (
    SELECT (c.lo + interval '1 day' - interval '1 microsecond')::date + i AS day
      FROM clipped c,
           LATERAL pg_catalog.generate_series(0, c.hi::date - 1 - (c.lo + interval '1 day' - interval '1 microsecond')::date) AS i
     WHERE c.lo < c.hi
  )
  SELECT (SELECT pg_catalog.string_agg(pg_catalog.to_char(w.day::timestamp, 'YYYY-MM-DD'), ', ' ORDER BY w.day)
            FROM (SELECT today + i AS day FROM pg_catalog.generate_series(0, days_ahead) AS i
                  EXCEPT
                  SELECT day FROM covered) w),
         (SELECT pg_catalog.string_agg(pg_catalog.format('%s .. %s', s.prev_upper, s.lower_bound), ', ')
            FROM (SELECT b.lower_bound, pg_catalog.lag(b.upper_bound) OVER (ORDER BY b.lower_bound) AS prev_upper FROM b) s
           WHERE s.prev_upper IS NOT NULL AND s.prev_upper <> s.lower_bound)
    INTO missing, gaps;
  check_name := 'future_partitions'; ok := missing IS NULL;
  detail := CASE WHEN missing IS NULL THEN pg_catalog.format('today and the next %s day(s) have partitions', days_ahead)
                 ELSE 'missing day partitions: ' || missing || '; run public.audit_partitions_ensure()' END;
  RETURN NEXT;

  check_name := 'no_gaps'; ok := gaps IS NULL;
  detail := coalesce('gaps between partitions: ' || gaps, 'partitions are contiguous');
  RETURN NEXT;

  -- The parent and every partition, each checked by a join (one pass over the partitions).
  SELECT pg_catalog.string_agg(c.relname, ', ' ORDER BY c.relname) INTO offenders
    FROM pg_catalog.pg_class c
    LEFT JOIN pg_catalog.pg_policy p ON p.polrelid = c.oid AND p.polname = 'zone_isolation'
   WHERE c.oid IN (SELECT 'public.audit_events'::regclass::oid
                   UNION ALL
                   SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent = 'public.audit_events'::regclass)
     AND NOT (c.relrowsecurity AND c.relforcerowsecurity AND p.oid IS NOT NULL);
  check_name := 'rls_forced'; ok := offenders IS NULL;
  detail := coalesce('without forced RLS and the zone policy: ' || offenders, 'RLS enabled and forced with the zone policy on the parent and every partition');
  RETURN NEXT;

  SELECT pg_catalog.string_agg(c.relname, ', ' ORDER BY c.relname) INTO offenders
    FROM pg_catalog.pg_class c
    LEFT JOIN (SELECT t.tgrelid, pg_catalog.count(*) AS n FROM pg_catalog.pg_trigger t
                WHERE t.tgenabled = 'A' AND t.tgname IN ('audit_events_append_only', 'audit_events_append_only_row')
                GROUP BY t.tgrelid) t ON t.tgrelid = c.oid
   WHERE c.oid IN (SELECT 'public.audit_events'::regclass::oid
                   UNION ALL
                   SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent = 'public.audit_events'::regclass)
     AND coalesce(t.n, 0) <> 2;
  check_name := 'append_only_triggers'; ok := offenders IS NULL;
  detail := coalesce('without both append-only triggers ENABLE ALWAYS: ' || offenders, 'append-only triggers ENABLE ALWAYS on the parent and every partition');
  RETURN NEXT;

  SELECT pg_catalog.string_agg(DISTINCT c.relname || ' (' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE r.rolname END || ')', ', ') INTO offenders
    FROM pg_catalog.pg_inherits i
    JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
    CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a
    LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
   WHERE i.inhparent = 'public.audit_events'::regclass
     AND (a.grantee = 0 OR r.rolname IN ('caracal_api', 'caracal_coordinator', 'caracal_audit', 'caracal_sts', 'caracal_gateway', 'caracal_maintenance'));
  check_name := 'no_partition_privileges'; ok := offenders IS NULL;
  detail := coalesce('service roles hold privileges on partitions: ' || offenders, 'no service role holds privileges on any partition');
  RETURN NEXT;

  check_name := 'default_partition_empty';
  IF pg_catalog.to_regclass('public.audit_events_default') IS NULL THEN
    ok := false;
    detail := 'audit_events has no DEFAULT partition: an event for a day without a partition would be rejected';
  ELSE
    SELECT pg_catalog.count(*), pg_catalog.min(ingested_at), pg_catalog.max(ingested_at) INTO n, first_at, last_at FROM public.audit_events_default;
    ok := n = 0;
    detail := CASE WHEN n = 0 THEN 'the default partition is empty'
                   ELSE pg_catalog.format('%s event(s) in audit_events_default, ingested %s .. %s: run public.audit_partitions_ensure(days_back => ...) covering those days to move them', n, first_at, last_at) END;
  END IF;
  RETURN NEXT;
END
$fn$;

CREATE OR REPLACE FUNCTION public.audit_partitions_apply_retention(retention_days integer DEFAULT 400)
  RETURNS integer
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET lock_timeout = '5s'
AS $fn$
DECLARE
  cutoff timestamptz;
  exported timestamptz;
  sinks integer;
  r record;
  dropped integer := 0;
  refused integer := 0;
BEGIN
  IF retention_days IS NULL OR retention_days < 1 OR retention_days > 36500 THEN
    RAISE EXCEPTION 'audit_partitions_apply_retention: retention_days must be from 1 to 36500 (got %)', coalesce(retention_days::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM pg_catalog.set_config('lock_timeout', '60s', true);
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('caracal.audit_partitions'));
  PERFORM pg_catalog.set_config('lock_timeout', '5s', true);

  cutoff := ((pg_catalog.now() AT TIME ZONE 'UTC')::date - retention_days)::timestamp AT TIME ZONE 'UTC';
  SELECT pg_catalog.count(*), pg_catalog.min(exported_through) INTO sinks, exported FROM public.audit_export_watermark;

  FOR r IN SELECT b.partition_name, b.lower_bound, b.upper_bound
           FROM public.audit_partition_bounds() b
           WHERE NOT b.is_default AND b.upper_bound <= cutoff
           ORDER BY b.lower_bound LOOP
    IF exported IS NULL OR r.upper_bound > exported THEN
      refused := refused + 1;
      RAISE WARNING 'audit retention: refusing to drop % (% .. %): not exported yet (lowest audit_export_watermark.exported_through: %, sinks: %)',
        r.partition_name, r.lower_bound, r.upper_bound, coalesce(exported::text, 'none'), sinks
        USING HINT = 'Export the partition and advance public.audit_export_watermark for every sink first.';
      CONTINUE;
    END IF;
    -- Dropping an expired, exported partition is the one sanctioned removal of audit rows. DROP
    -- fires no row or TRUNCATE trigger, so the append-only triggers stay enabled everywhere.
    EXECUTE pg_catalog.format('DROP TABLE public.%I', r.partition_name);
    dropped := dropped + 1;
  END LOOP;
  IF refused > 0 THEN
    RAISE WARNING 'audit retention: % partition(s) past % days kept because they are not exported; % dropped', refused, retention_days, dropped;
    -- Also visible where operators look for audit problems: one open export_lag alert, refreshed.
    UPDATE public.audit_ingest_alerts
       SET occurrences = occurrences + 1, last_seen_at = pg_catalog.now(), severity = 'warning',
           detail = pg_catalog.format('retention kept %s expired partition(s) that are not exported (lowest watermark: %s)', refused, coalesce(exported::text, 'none'))
     WHERE kind = 'export_lag' AND source = 'audit' AND zone_id IS NULL AND resolved_at IS NULL;
    IF NOT FOUND THEN
      INSERT INTO public.audit_ingest_alerts (source, kind, severity, detail)
      VALUES ('audit', 'export_lag', 'warning',
              pg_catalog.format('retention kept %s expired partition(s) that are not exported (lowest watermark: %s)', refused, coalesce(exported::text, 'none')));
    END IF;
  END IF;
  RETURN dropped;
END
$fn$;

COMMENT ON FUNCTION public.audit_partitions_ensure(integer, integer) IS
  'Creates the missing daily (UTC) audit_events partitions from days_back before to days_ahead after today; returns how many it created. Idempotent; serialized by a transaction-level advisory lock; DDL under lock_timeout 5s; create + CHECK + ATTACH so the parent is never held ACCESS EXCLUSIVE; moves matching rows out of the default partition; reads the bounds once (linear in the window). Run by the maintenance CronJob as caracal_maintenance (and by the migrations).';
COMMENT ON FUNCTION public.audit_partition_health(integer) IS
  'One row per audit partition check: future_partitions (today..+days_ahead, 0 to 1000), no_gaps, rls_forced, append_only_triggers, no_partition_privileges, default_partition_empty. ok=false rows say what to do.';

-- Exactly docs/access-matrix.md "Functions": the owner, plus caracal_maintenance on the three the CronJob
-- runs and caracal_audit on health (kept from the baseline). Nothing for PUBLIC.
REVOKE ALL ON FUNCTION public.audit_partition_bounds(), public.audit_partition_secure(regclass), public.audit_partitions_ensure(integer, integer),
  public.audit_partition_health(integer), public.audit_partitions_apply_retention(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.audit_partitions_ensure(integer, integer), public.audit_partition_health(integer),
  public.audit_partitions_apply_retention(integer) TO caracal_maintenance;

-- Any other function of the owner in public that PUBLIC may still execute (created by a later file
-- before this one ran, under the old default privileges) loses it.
DO $public_execute$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
           WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = 'caracal_owner'::regrole
             AND EXISTS (SELECT 1 FROM pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                         WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') LOOP
    EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    RAISE NOTICE 'revoked EXECUTE on % from PUBLIC', f;
  END LOOP;
END
$public_execute$;

RESET ROLE;
