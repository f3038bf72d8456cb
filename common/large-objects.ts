// The large-object functions of pg_catalog and the statement that closes them to PUBLIC. Only a superuser may run it
// (the functions belong to the bootstrap superuser): `verify` names it when they are open, and a CloudNativePG
// cluster runs it once at bootstrap (postInitApplicationSQL), where the superuser exists for that moment.

/** The large-object functions of pg_catalog (creating, writing, reading, unlinking), as a condition on pg_proc p. */
export const LARGE_OBJECT_FUNCTIONS_SQL = `p.pronamespace = 'pg_catalog'::regnamespace AND (p.proname LIKE 'lo\\_%' OR p.proname IN ('loread', 'lowrite'))`;

/** What a superuser runs in the database to close the large-object functions (0002 does it when it can; docs/schema.md). */
export const REVOKE_LARGE_OBJECTS_SQL = `DO $$DECLARE f regprocedure; BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p WHERE ${LARGE_OBJECT_FUNCTIONS_SQL} LOOP
    EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END$$`;
