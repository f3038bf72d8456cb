-- A function replaced: the append-only/immutable trigger function gets a clearer message. Running transactions keep
-- working; the next call uses the new body.
SET LOCAL ROLE caracal_owner;
CREATE OR REPLACE FUNCTION public.reject_mutation() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  RAISE EXCEPTION '%.% is % (rows are never changed or removed): % is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[0], TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = CASE TG_ARGV[0]
                   WHEN 'append-only' THEN 'Audit rows are only removed by dropping expired, exported partitions: public.audit_partitions_apply_retention().'
                   ELSE 'Versions never change: insert a new version instead.'
                 END;
END
$fn$;
RESET ROLE;
