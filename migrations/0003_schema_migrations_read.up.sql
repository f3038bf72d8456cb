-- 0003_schema_migrations_read: every service role may read public.schema_migrations, so each service's own login
-- can run `caracal-migrate wait` as its pods' init container (wait until the schema has the version the image
-- needs). docs/access-matrix.md has the row.
--
-- Safe to apply under the previous application version: a grant of SELECT on the runner's history, nothing else.
-- The runner's login owns the table (it creates it before the first file) and runs this file before any SET ROLE,
-- so it may grant; nobody but the runner writes it.
GRANT SELECT ON public.schema_migrations TO caracal_api, caracal_coordinator, caracal_audit, caracal_sts, caracal_gateway;
