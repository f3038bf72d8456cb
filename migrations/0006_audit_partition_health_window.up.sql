-- 0006_audit_partition_health_window: audit_partition_health() costs the same at 400 daily partitions as at 30
-- (issue 17 point 5), and every partition is still checked, once a day.
--   * audit_partition_days(days_back, days_ahead): one row per UTC day of a window with the partition
--     audit_partitions_ensure makes for that day (its name, attached to audit_events, exactly that day's bounds), or
--     NULL. One index probe per day. 0005 wrote this lookup twice, in ensure and in health; both use it now.
--   * audit_partition_checks(days_ahead, every_partition): the six checks, for the partitions new events can reach
--     (today .. +days_ahead and the default partition: ingested_at is always the server clock) or for every
--     partition. The per-partition checks (no_gaps, rls_forced, append_only_triggers, no_partition_privileges)
--     read only the partitions in scope, each by its own index entries.
--   * audit_partition_health(days_ahead): the frequent check (postgres_exporter on every scrape, the audit
--     service, doctor): the window, linear in the window, not in the partitions. Same signature, columns, check
--     names, owner, SECURITY DEFINER and grants.
--   * audit_partition_health_all(days_ahead): the same checks over every partition (linear in the partitions),
--     for the daily maintenance CronJob and `caracal-migrate verify`. Partitions behind the window receive no new
--     events; their controls change only by DDL of the owner or a superuser, which the daily run reports.
--
-- Safe under the previous application version: audit_partition_health keeps its signature, results and grants;
-- ensure keeps its signature, results and behaviour; the new functions are new names; no table is touched. Who
-- may apply it: the login that applied the baseline (a member of caracal_owner, which owns the functions).

-- Every name below is qualified; nothing is resolved through public.
SET LOCAL search_path = pg_catalog, pg_temp;
SET LOCAL ROLE caracal_owner;

CREATE FUNCTION public.audit_partition_days(days_back integer, days_ahead integer)
  RETURNS TABLE (day date, partition regclass)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  -- plpgsql, not sql: the query's plan is kept for the session instead of made on every call.
  RETURN QUERY
  SELECT d.day, p.oid::regclass
    FROM (SELECT (pg_catalog.now() AT TIME ZONE 'UTC')::date + g.i AS day
            FROM pg_catalog.generate_series(-days_back, days_ahead) AS g(i)) d
    -- OFFSET 0 keeps the lookup a nested loop driven by the days: flattened, the planner may start from the
    -- parent's list of partitions instead and print every partition's bound.
    LEFT JOIN LATERAL (
      SELECT c.oid
        FROM pg_catalog.pg_class c
       WHERE c.relname = 'audit_events_p' || pg_catalog.to_char(d.day::timestamp, 'YYYYMMDD')
         AND c.relnamespace = 'public'::regnamespace
         -- A partition has one parent, found by its own index entry (not by reading the parent's list).
         AND CASE WHEN c.relispartition
                  THEN (SELECT h.inhparent FROM pg_catalog.pg_inherits h WHERE h.inhrelid = c.oid) = 'public.audit_events'::regclass
                  ELSE false END
         AND pg_catalog.pg_get_expr(c.relpartbound, 0)
             = pg_catalog.format('FOR VALUES FROM (%L) TO (%L)', d.day::timestamp AT TIME ZONE 'UTC', (d.day + 1)::timestamp AT TIME ZONE 'UTC')
      OFFSET 0) p ON true
   ORDER BY d.day;
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
  covered integer;
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

  -- The no-op run: every day of the window has the partition this function makes for it (its name, attached
  -- to audit_events, bounded by exactly that UTC day). One index probe per day; no other partition is read.
  SELECT pg_catalog.count(d.partition)::integer INTO covered FROM public.audit_partition_days(days_back, days_ahead) d;
  IF covered = days_back + days_ahead + 1 THEN
    RETURN 0;
  END IF;

  -- Otherwise the window's days that no partition overlaps, from one read of every bound: each partition,
  -- clipped to the window, names the days it overlaps (partitions never overlap, so this is linear in the
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

CREATE FUNCTION public.audit_partition_checks(days_ahead integer, every_partition boolean)
  RETURNS TABLE (check_name text, ok boolean, detail text)
  LANGUAGE plpgsql
  STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  caller text := CASE WHEN every_partition THEN 'audit_partition_health_all' ELSE 'audit_partition_health' END;
  today date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
  win_lo timestamptz;
  win_hi timestamptz;
  covered integer;
  scope oid[];
  scope_text text;
  missing text;
  gaps text;
  no_rls text;
  no_triggers text;
  granted text;
  n bigint;
  first_at timestamptz;
  last_at timestamptz;
BEGIN
  -- Runs as the owner: a caller must not make it work for long (2000000000 days) or report nothing (-5).
  IF days_ahead IS NULL OR days_ahead < 0 OR days_ahead > 1000 THEN
    RAISE EXCEPTION '%: days_ahead must be from 0 to 1000 (got %)', caller, coalesce(days_ahead::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  win_lo := today::timestamp AT TIME ZONE 'UTC';
  win_hi := (today + days_ahead + 1)::timestamp AT TIME ZONE 'UTC';

  -- Today .. +days_ahead each have the partition audit_partitions_ensure makes for them: one index probe per day.
  -- When they all do, no other partition overlaps the window (partitions never overlap), so they are the window's.
  SELECT pg_catalog.count(d.partition)::integer, pg_catalog.array_agg(d.partition::oid) FILTER (WHERE d.partition IS NOT NULL)
    INTO covered, scope
    FROM public.audit_partition_days(0, days_ahead) d;

  IF every_partition OR covered < days_ahead + 1 THEN
    -- One read of every bound: the window's days that lie wholly inside no partition, the gaps between partitions
    -- (all of them, or those that reach into the window), and the partitions in scope. Each partition, clipped to
    -- the window, names the days it covers: linear, not window x partitions. Day arithmetic is on UTC timestamps,
    -- whatever the session's TimeZone.
    WITH b AS MATERIALIZED (
      SELECT c.oid, x.lower_bound, x.upper_bound
        FROM public.audit_partition_bounds() x
        JOIN pg_catalog.pg_class c ON c.relname = x.partition_name AND c.relnamespace = 'public'::regnamespace
       WHERE NOT x.is_default
    ), clipped AS (
      SELECT GREATEST(coalesce(b.lower_bound, win_lo), win_lo) AT TIME ZONE 'UTC' AS lo,
             LEAST(coalesce(b.upper_bound, win_hi), win_hi) AT TIME ZONE 'UTC' AS hi
        FROM b
    ), covered_days AS (
      SELECT (c.lo + interval '1 day' - interval '1 microsecond')::date + i AS day
        FROM clipped c,
             LATERAL pg_catalog.generate_series(0, c.hi::date - 1 - (c.lo + interval '1 day' - interval '1 microsecond')::date) AS i
       WHERE c.lo < c.hi
    ), holes AS (
      SELECT s.prev_upper, s.lower_bound
        FROM (SELECT b.lower_bound, pg_catalog.lag(b.upper_bound) OVER (ORDER BY b.lower_bound NULLS FIRST) AS prev_upper FROM b) s
       WHERE s.prev_upper <> s.lower_bound
    )
    SELECT CASE WHEN covered = days_ahead + 1 THEN NULL
                ELSE (SELECT pg_catalog.string_agg(pg_catalog.to_char(w.day::timestamp, 'YYYY-MM-DD'), ', ' ORDER BY w.day)
                        FROM (SELECT today + i AS day FROM pg_catalog.generate_series(0, days_ahead) AS i
                              EXCEPT
                              SELECT day FROM covered_days) w) END,
           (SELECT pg_catalog.string_agg(pg_catalog.format('%s .. %s', h.prev_upper, h.lower_bound), ', ' ORDER BY h.lower_bound)
              FROM holes h WHERE every_partition OR (h.prev_upper < win_hi AND h.lower_bound > win_lo)),
           (SELECT pg_catalog.array_agg(b.oid) FROM b
             WHERE every_partition OR (coalesce(b.lower_bound < win_hi, true) AND coalesce(b.upper_bound > win_lo, true)))
      INTO missing, gaps, scope;
  END IF;

  check_name := 'future_partitions'; ok := missing IS NULL;
  detail := CASE WHEN missing IS NULL THEN pg_catalog.format('today and the next %s day(s) have partitions', days_ahead)
                 ELSE 'missing day partitions: ' || missing || '; run public.audit_partitions_ensure()' END;
  RETURN NEXT;

  scope_text := CASE WHEN every_partition THEN 'every partition'
                     ELSE pg_catalog.format('the default partition and the partitions of today .. +%s days (audit_partition_health_all() checks every partition)', days_ahead) END;

  check_name := 'no_gaps'; ok := gaps IS NULL;
  detail := coalesce('gaps between partitions: ' || gaps,
                     CASE WHEN every_partition THEN 'partitions are contiguous'
                          ELSE pg_catalog.format('partitions are contiguous from today to +%s days', days_ahead) END);
  RETURN NEXT;

  -- The parent, the default partition and the partitions in scope: forced RLS with the zone policy, both
  -- append-only triggers ENABLE ALWAYS, and (partitions only) no privilege for PUBLIC or a service role. Each is
  -- read by its own index entries; the partitions share a few distinct ACLs, so each distinct ACL is expanded once.
  WITH parts AS MATERIALIZED (
    SELECT c.oid, c.relname, c.relacl, c.relrowsecurity, c.relforcerowsecurity, c.oid <> 'public.audit_events'::regclass AS is_partition
      FROM pg_catalog.pg_class c
     WHERE c.oid = ANY (coalesce(scope, '{}') || 'public.audit_events'::regclass::oid
                        || (SELECT pt.partdefid FROM pg_catalog.pg_partitioned_table pt WHERE pt.partrelid = 'public.audit_events'::regclass))
  ), acls AS MATERIALIZED (
    SELECT DISTINCT p.relacl FROM parts p WHERE p.is_partition
  ), grants AS MATERIALIZED (
    SELECT a.relacl, CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE r.rolname::text END AS who
      FROM acls a
      CROSS JOIN LATERAL pg_catalog.aclexplode(a.relacl) x
      LEFT JOIN pg_catalog.pg_roles r ON r.oid = x.grantee
     WHERE x.grantee = 0 OR r.rolname IN ('caracal_api', 'caracal_coordinator', 'caracal_audit', 'caracal_sts', 'caracal_gateway', 'caracal_maintenance')
  )
  SELECT (SELECT pg_catalog.string_agg(p.relname, ', ' ORDER BY p.relname)
            FROM parts p
           WHERE NOT (p.relrowsecurity AND p.relforcerowsecurity
                      AND EXISTS (SELECT 1 FROM pg_catalog.pg_policy pol WHERE pol.polrelid = p.oid AND pol.polname = 'zone_isolation'))),
         (SELECT pg_catalog.string_agg(p.relname, ', ' ORDER BY p.relname)
            FROM parts p
           WHERE (SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger t
                   WHERE t.tgrelid = p.oid AND t.tgname IN ('audit_events_append_only', 'audit_events_append_only_row') AND t.tgenabled = 'A') <> 2),
         (SELECT pg_catalog.string_agg(DISTINCT p.relname || ' (' || g.who || ')', ', ')
            FROM parts p JOIN grants g ON g.relacl = p.relacl
           WHERE p.is_partition)
    INTO no_rls, no_triggers, granted;

  check_name := 'rls_forced'; ok := no_rls IS NULL;
  detail := coalesce('without forced RLS and the zone policy: ' || no_rls, 'RLS enabled and forced with the zone policy on the parent and ' || scope_text);
  RETURN NEXT;

  check_name := 'append_only_triggers'; ok := no_triggers IS NULL;
  detail := coalesce('without both append-only triggers ENABLE ALWAYS: ' || no_triggers, 'append-only triggers ENABLE ALWAYS on the parent and ' || scope_text);
  RETURN NEXT;

  check_name := 'no_partition_privileges'; ok := granted IS NULL;
  detail := coalesce('service roles hold privileges on partitions: ' || granted, 'no service role holds privileges on ' || scope_text);
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

CREATE OR REPLACE FUNCTION public.audit_partition_health(days_ahead integer DEFAULT 7)
  RETURNS TABLE (check_name text, ok boolean, detail text)
  LANGUAGE plpgsql
  STABLE
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  RETURN QUERY SELECT c.check_name, c.ok, c.detail FROM public.audit_partition_checks(days_ahead, false) c;
END
$fn$;

CREATE FUNCTION public.audit_partition_health_all(days_ahead integer DEFAULT 7)
  RETURNS TABLE (check_name text, ok boolean, detail text)
  LANGUAGE plpgsql
  STABLE
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  RETURN QUERY SELECT c.check_name, c.ok, c.detail FROM public.audit_partition_checks(days_ahead, true) c;
END
$fn$;

COMMENT ON FUNCTION public.audit_partition_days(integer, integer) IS
  'One row per UTC day from days_back before to days_ahead after today: the partition audit_partitions_ensure makes for that day (its name, attached to audit_events, exactly that day''s bounds), or NULL. One index probe per day.';
COMMENT ON FUNCTION public.audit_partitions_ensure(integer, integer) IS
  'Creates the missing daily (UTC) audit_events partitions from days_back before to days_ahead after today; returns how many it created. Idempotent; serialized by a transaction-level advisory lock; DDL under lock_timeout 5s; create + CHECK + ATTACH so the parent is never held ACCESS EXCLUSIVE; moves matching rows out of the default partition; a no-op run reads only the window''s partitions (audit_partition_days: linear in the window, not in the partitions). Run by the maintenance CronJob as caracal_maintenance (and by the migrations).';
COMMENT ON FUNCTION public.audit_partition_checks(integer, boolean) IS
  'The audit partition checks behind audit_partition_health (every_partition false: the parent, the default partition and today..+days_ahead) and audit_partition_health_all (every partition). Owner only.';
COMMENT ON FUNCTION public.audit_partition_health(integer) IS
  'One row per audit partition check, for the partitions new events can reach (the parent, the default partition, today..+days_ahead; 0 to 1000): future_partitions, no_gaps, rls_forced, append_only_triggers, no_partition_privileges, default_partition_empty. Linear in the window, not in the partitions: for every scrape. ok=false rows say what to do. audit_partition_health_all checks every partition.';
COMMENT ON FUNCTION public.audit_partition_health_all(integer) IS
  'The checks of audit_partition_health over every partition (linear in the partitions): run daily by the maintenance CronJob and by caracal-migrate verify.';

-- docs/access-matrix.md "Functions" and "Monitoring": the two helpers are the owner's only; the full check is the
-- maintenance CronJob's and monitoring's (doctor and verify), like health. Nothing for PUBLIC.
REVOKE ALL ON FUNCTION public.audit_partition_days(integer, integer), public.audit_partition_checks(integer, boolean),
  public.audit_partition_health_all(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.audit_partition_health_all(integer) TO caracal_maintenance, caracal_monitoring;

RESET ROLE;
