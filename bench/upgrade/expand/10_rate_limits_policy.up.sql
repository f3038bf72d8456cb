-- A new version of a row-level security policy: dropped and re-created in one transaction (ACCESS EXCLUSIVE on the
-- table for an instant), so no moment exists without a policy.
SET LOCAL ROLE caracal_owner;
DROP POLICY zone_isolation ON public.resource_rate_limits;
CREATE POLICY zone_isolation ON public.resource_rate_limits AS PERMISSIVE FOR ALL TO PUBLIC
  USING (zone_id = NULLIF(current_setting('caracal.zone_id', true), '')::uuid)
  WITH CHECK (zone_id = NULLIF(current_setting('caracal.zone_id', true), '')::uuid);
RESET ROLE;
