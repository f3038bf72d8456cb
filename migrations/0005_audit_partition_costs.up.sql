-- 0005_audit_partition_costs: the audit partition functions cost the same at 365 daily partitions as at 30
-- where they can (issue 17 point 5). 0002's bodies printed and parsed every partition's bounds on each call
-- (two regular expressions per partition, about 15 us each): a no-op audit_partitions_ensure() cost 7x as much
-- at 365 partitions as at 30, audit_partition_health() 6x.
--   * audit_partition_bounds(): the same rows, the bounds cut out of pg_get_expr's text with split_part instead
--     of two regular expressions (about 5x cheaper per partition).
--   * audit_partitions_ensure(): the no-op run (the CronJob's usual case) looks up only the window's days, by the
--     name ensure gives each day's partition (one index probe per day), and checks that each one is a partition of
--     audit_events (its own pg_inherits entry) with exactly that day's bounds. Only when a day is not covered that way does it read every
--     bound, as before, to find the missing days. Linear in the window, not in the partitions.
--   * audit_partition_health(): future_partitions takes the same path; rls_forced, append_only_triggers and
--     no_partition_privileges are one pass over the partitions instead of three, and each distinct ACL is
--     expanded once instead of once per partition. Those checks, and no_gaps, must look at every partition, so
--     health stays linear in the partitions, at a smaller cost per partition.
--
-- Safe under the previous application version: the functions keep their signatures, results, owner, SECURITY
-- DEFINER, settings and grants (CREATE OR REPLACE keeps the owner and the ACL); no table is touched. Who may apply
-- it: the login that applied the baseline (a member of caracal_owner, which owns the functions).

-- Every name below is qualified; nothing is resolved through public.
SET LOCAL search_path = pg_catalog, pg_temp;
SET LOCAL ROLE caracal_owner;

-- pg_get_expr prints a range bound as `FOR VALUES FROM ('<lower>') TO ('<upper>')`, either side possibly MINVALUE
-- or MAXVALUE (unquoted), or `DEFAULT`. A timestamptz's text has no quote, so the quoted values are the pieces
-- between quotes: the lower one first when the lower bound is quoted.
CREATE OR REPLACE FUNCTION public.audit_partition_bounds()
  RETURNS TABLE (partition_name text, is_default boolean, lower_bound timestamptz, upper_bound timestamptz)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  RETURN QUERY
  SELECT c.relname::text, e.expr = 'DEFAULT',
         CASE WHEN e.quoted_lower THEN pg_catalog.split_part(e.expr, '''', 2)::timestamptz END,
         CASE WHEN pg_catalog."right"(e.expr, 2) = ''')'
              THEN pg_catalog.split_part(e.expr, '''', CASE WHEN e.quoted_lower THEN 4 ELSE 2 END)::timestamptz END
    FROM pg_catalog.pg_inherits i
    JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
    -- OFFSET 0: print each bound once, not once per use.
    CROSS JOIN LATERAL (SELECT x.expr, pg_catalog.starts_with(x.expr, 'FOR VALUES FROM (''') AS quoted_lower
                          FROM (SELECT pg_catalog.pg_get_expr(c.relpartbound, 0) AS expr OFFSET 0) x) e
   WHERE i.inhparent = 'public.audit_events'::regclass;
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
  -- OFFSET 0 keeps the per-day lookup a nested loop driven by the days: flattened, the planner may start from
  -- the parent's list of partitions instead and print every partition's bound.
  SELECT pg_catalog.count(*)::integer INTO covered
    FROM pg_catalog.generate_series(-days_back, days_ahead) AS g(i)
    CROSS JOIN LATERAL (
      SELECT 1
        FROM pg_catalog.pg_class c
       WHERE c.relname = 'audit_events_p' || pg_catalog.to_char((today + g.i)::timestamp, 'YYYYMMDD')
         AND c.relnamespace = 'public'::regnamespace
         -- A partition has one parent, found by its own index entry (not by reading the parent's list).
         AND CASE WHEN c.relispartition
                  THEN (SELECT h.inhparent FROM pg_catalog.pg_inherits h WHERE h.inhrelid = c.oid) = 'public.audit_events'::regclass
                  ELSE false END
         AND pg_catalog.pg_get_expr(c.relpartbound, 0)
             = pg_catalog.format('FOR VALUES FROM (%L) TO (%L)', (today + g.i)::timestamp AT TIME ZONE 'UTC', (today + g.i + 1)::timestamp AT TIME ZONE 'UTC')
      OFFSET 0) day_partition;
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

CREATE OR REPLACE FUNCTION public.audit_partition_health(days_ahead integer DEFAULT 7)
  RETURNS TABLE (check_name text, ok boolean, detail text)
  LANGUAGE plpgsql
  STABLE
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  today date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
  covered integer;
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
    RAISE EXCEPTION 'audit_partition_health: days_ahead must be from 0 to 1000 (got %)', coalesce(days_ahead::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- Today .. +days_ahead each have the partition audit_partitions_ensure makes for them (by name, attached, with
  -- exactly that day's bounds): one index probe per day, as in ensure.
  -- OFFSET 0 keeps the per-day lookup a nested loop driven by the days: flattened, the planner may start from
  -- the parent's list of partitions instead and print every partition's bound.
  SELECT pg_catalog.count(*)::integer INTO covered
    FROM pg_catalog.generate_series(0, days_ahead) AS g(i)
    CROSS JOIN LATERAL (
      SELECT 1
        FROM pg_catalog.pg_class c
       WHERE c.relname = 'audit_events_p' || pg_catalog.to_char((today + g.i)::timestamp, 'YYYYMMDD')
         AND c.relnamespace = 'public'::regnamespace
         -- A partition has one parent, found by its own index entry (not by reading the parent's list).
         AND CASE WHEN c.relispartition
                  THEN (SELECT h.inhparent FROM pg_catalog.pg_inherits h WHERE h.inhrelid = c.oid) = 'public.audit_events'::regclass
                  ELSE false END
         AND pg_catalog.pg_get_expr(c.relpartbound, 0)
             = pg_catalog.format('FOR VALUES FROM (%L) TO (%L)', (today + g.i)::timestamp AT TIME ZONE 'UTC', (today + g.i + 1)::timestamp AT TIME ZONE 'UTC')
      OFFSET 0) day_partition;

  -- One read of every bound, for no_gaps (and, when a day was not found above, for the days that lie wholly
  -- inside no partition: each partition, clipped to the window, names the days it covers; linear, not window x
  -- partitions). Day arithmetic is on UTC timestamps, whatever the session's TimeZone.
  WITH b AS MATERIALIZED (
    SELECT lower_bound, upper_bound FROM public.audit_partition_bounds() WHERE NOT is_default
  ), win AS (
    SELECT today::timestamp AS lo, (today + days_ahead + 1)::timestamp AS hi
  ), clipped AS (
    SELECT GREATEST(coalesce(b.lower_bound AT TIME ZONE 'UTC', w.lo), w.lo) AS lo,
           LEAST(coalesce(b.upper_bound AT TIME ZONE 'UTC', w.hi), w.hi) AS hi
      FROM b CROSS JOIN win w
  ), covered_days AS (
    SELECT (c.lo + interval '1 day' - interval '1 microsecond')::date + i AS day
      FROM clipped c,
           LATERAL pg_catalog.generate_series(0, c.hi::date - 1 - (c.lo + interval '1 day' - interval '1 microsecond')::date) AS i
     WHERE c.lo < c.hi
  )
  SELECT CASE WHEN covered = days_ahead + 1 THEN NULL
              ELSE (SELECT pg_catalog.string_agg(pg_catalog.to_char(w.day::timestamp, 'YYYY-MM-DD'), ', ' ORDER BY w.day)
                      FROM (SELECT today + i AS day FROM pg_catalog.generate_series(0, days_ahead) AS i
                            EXCEPT
                            SELECT day FROM covered_days) w) END,
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

  -- The parent and every partition in one pass: forced RLS with the zone policy, both append-only triggers
  -- ENABLE ALWAYS, and (partitions only) no privilege for PUBLIC or a service role. The partitions share a few
  -- distinct ACLs, so each distinct ACL is expanded once.
  WITH parts AS MATERIALIZED (
    SELECT c.oid, c.relname, c.relacl, c.relrowsecurity, c.relforcerowsecurity, true AS is_partition
      FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'public.audit_events'::regclass
    UNION ALL
    SELECT c.oid, c.relname, c.relacl, c.relrowsecurity, c.relforcerowsecurity, false
      FROM pg_catalog.pg_class c WHERE c.oid = 'public.audit_events'::regclass
  ), triggers AS (
    SELECT t.tgrelid, pg_catalog.count(*) AS n FROM pg_catalog.pg_trigger t
     WHERE t.tgenabled = 'A' AND t.tgname IN ('audit_events_append_only', 'audit_events_append_only_row')
     GROUP BY t.tgrelid
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
            FROM parts p LEFT JOIN pg_catalog.pg_policy pol ON pol.polrelid = p.oid AND pol.polname = 'zone_isolation'
           WHERE NOT (p.relrowsecurity AND p.relforcerowsecurity AND pol.oid IS NOT NULL)),
         (SELECT pg_catalog.string_agg(p.relname, ', ' ORDER BY p.relname)
            FROM parts p LEFT JOIN triggers t ON t.tgrelid = p.oid
           WHERE coalesce(t.n, 0) <> 2),
         (SELECT pg_catalog.string_agg(DISTINCT p.relname || ' (' || g.who || ')', ', ')
            FROM parts p JOIN grants g ON g.relacl = p.relacl
           WHERE p.is_partition)
    INTO no_rls, no_triggers, granted;

  check_name := 'rls_forced'; ok := no_rls IS NULL;
  detail := coalesce('without forced RLS and the zone policy: ' || no_rls, 'RLS enabled and forced with the zone policy on the parent and every partition');
  RETURN NEXT;

  check_name := 'append_only_triggers'; ok := no_triggers IS NULL;
  detail := coalesce('without both append-only triggers ENABLE ALWAYS: ' || no_triggers, 'append-only triggers ENABLE ALWAYS on the parent and every partition');
  RETURN NEXT;

  check_name := 'no_partition_privileges'; ok := granted IS NULL;
  detail := coalesce('service roles hold privileges on partitions: ' || granted, 'no service role holds privileges on any partition');
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

COMMENT ON FUNCTION public.audit_partitions_ensure(integer, integer) IS
  'Creates the missing daily (UTC) audit_events partitions from days_back before to days_ahead after today; returns how many it created. Idempotent; serialized by a transaction-level advisory lock; DDL under lock_timeout 5s; create + CHECK + ATTACH so the parent is never held ACCESS EXCLUSIVE; moves matching rows out of the default partition; a no-op run reads only the window''s partitions (linear in the window, not in the partitions). Run by the maintenance CronJob as caracal_maintenance (and by the migrations).';

RESET ROLE;
