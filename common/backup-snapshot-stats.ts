// What a backup records about its database, in the snapshot it dumps, and what the restore check reads back from
// the restored copy: the same SQL on both sides, so the two are comparable line for line. Plain SQL, no temp
// objects (the backup login has no TEMPORARY privilege), runnable by psql in the backup CronJob and by pg here.
// Every statement returns one row with one jsonb column `stats`.

/**
 * Session settings both sides run first (SET LOCAL, inside the snapshot's transaction): row text, timestamps and
 * partition bounds print the same way whatever the server's or the login's defaults, and a row that row-level
 * security would hide fails the statement instead of being left out of a count.
 */
export const STATS_SESSION_SQL = [
  `SET LOCAL TimeZone = 'UTC'`,
  `SET LOCAL DateStyle = 'ISO, YMD'`,
  `SET LOCAL IntervalStyle = 'postgres'`,
  `SET LOCAL extra_float_digits = 3`,
  `SET LOCAL bytea_output = 'hex'`,
  `SET LOCAL row_security = off`,
  `SET LOCAL search_path = pg_catalog, pg_temp`,
];

/** `grantee=PRIVILEGE[*][(column)]`, PUBLIC for grantee 0: one entry of an ACL, comparable as text. */
const ACL_ENTRY = (x: string, column = 'NULL') =>
  `CASE WHEN ${x}.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(${x}.grantee)::text END || '=' || ${x}.privilege_type
   || CASE WHEN ${x}.is_grantable THEN '*' ELSE '' END || coalesce('(' || ${column} || ')', '')`;

/**
 * The structure: relations (kind, owner, partition parent and bound, row security, grants incl. column grants;
 * the owner's own privileges are implicit and differ between majors, MAINTAIN since 17, so they are left out),
 * triggers (enabled state), policies, foreign keys (validated or not), functions (owner, grants), the database
 * (owner, grants other than the owner's, per-role settings) and the caracal roles (attributes, memberships).
 */
export const CATALOG_STATS_SQL = `
WITH rel AS (
  SELECT c.oid, c.relname::text AS name, c.relkind::text AS kind, c.relrowsecurity, c.relforcerowsecurity,
         pg_get_userbyid(c.relowner)::text AS owner,
         (SELECT p.relname::text FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid) AS parent,
         CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS bound
    FROM pg_class c
   WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v', 'm', 'f')
), acl AS (
  SELECT r.name, array_agg(a.entry ORDER BY a.entry) AS entries
    FROM rel r
    CROSS JOIN LATERAL (
      SELECT ${ACL_ENTRY('x')} AS entry FROM pg_class c, aclexplode(c.relacl) x WHERE c.oid = r.oid AND x.grantee <> c.relowner
      UNION ALL
      SELECT ${ACL_ENTRY('x', 'att.attname::text')}
        FROM pg_attribute att, aclexplode(att.attacl) x, pg_class c
       WHERE att.attrelid = r.oid AND c.oid = r.oid AND att.attnum > 0 AND NOT att.attisdropped AND x.grantee <> c.relowner
    ) a
   GROUP BY r.name
)
SELECT jsonb_build_object(
  'relations', (SELECT coalesce(jsonb_object_agg(r.name, jsonb_build_object(
                   'kind', r.kind, 'owner', r.owner, 'parent', r.parent, 'bound', r.bound,
                   'rowSecurity', r.relrowsecurity, 'forceRowSecurity', r.relforcerowsecurity,
                   'grants', coalesce(to_jsonb(a.entries), '[]'))), '{}') FROM rel r LEFT JOIN acl a USING (name)),
  'triggers', (SELECT coalesce(jsonb_object_agg(c.relname || '.' || t.tgname, jsonb_build_object(
                   'enabled', t.tgenabled::text, 'definition', pg_get_triggerdef(t.oid))), '{}')
                 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal),
  'policies', (SELECT coalesce(jsonb_object_agg(p.tablename || '.' || p.policyname, jsonb_build_object(
                   'command', p.cmd, 'permissive', p.permissive, 'roles', p.roles, 'using', p.qual, 'check', p.with_check)), '{}')
                 FROM pg_policies p WHERE p.schemaname = 'public'),
  'foreignKeys', (SELECT coalesce(jsonb_object_agg(c.relname || '.' || k.conname, jsonb_build_object(
                   'definition', pg_get_constraintdef(k.oid), 'validated', k.convalidated)), '{}')
                 FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace AND k.conparentid = 0),
  'functions', (SELECT coalesce(jsonb_object_agg(p.oid::regprocedure::text, jsonb_build_object(
                   'owner', pg_get_userbyid(p.proowner)::text,
                   'grants', (SELECT coalesce(jsonb_agg(e ORDER BY e), '[]') FROM (SELECT ${ACL_ENTRY('x')} AS e FROM aclexplode(p.proacl) x WHERE x.grantee <> p.proowner) g))), '{}')
                 FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace),
  'database', (SELECT jsonb_build_object(
                   'name', d.datname::text, 'owner', pg_get_userbyid(d.datdba)::text,
                   'encoding', pg_encoding_to_char(d.encoding)::text,
                   'grants', (SELECT coalesce(jsonb_agg(e ORDER BY e), '[]') FROM (SELECT ${ACL_ENTRY('x')} AS e
                                FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) x WHERE x.grantee <> d.datdba) g),
                   'roleSettings', (SELECT coalesce(jsonb_object_agg(pg_get_userbyid(s.setrole)::text, to_jsonb(s.setconfig)), '{}')
                                FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole <> 0))
                 FROM pg_database d WHERE d.datname = current_database()),
  'roles', (SELECT coalesce(jsonb_object_agg(r.rolname::text, jsonb_build_object(
                   'login', r.rolcanlogin, 'inherit', r.rolinherit, 'bypassRls', r.rolbypassrls,
                   'memberOf', (SELECT coalesce(jsonb_agg(g.rolname::text ORDER BY g.rolname), '[]')
                                  FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                                 WHERE m.member = r.oid AND g.rolname LIKE 'caracal\\_%'))), '{}')
                 FROM pg_roles r WHERE r.rolname LIKE 'caracal\\_%')
) AS stats`;

/** Columns the server clock sets (never the client), whose restored values must be the dumped ones. */
export const CLOCK_COLUMNS = ['ingested_at', 'recorded_at'] as const;

/**
 * The data, per table and partition: rows, a fingerprint of every row's text (an order-independent sum of
 * 64-bit hashes, so no sort), the clock column's min/max/sum; the distinct key ids and key/secret references
 * with their counts (names of keys, never key material); every column-owned sequence with its last value and
 * its column's max; and public.schema_migrations. Dynamic per-table SQL runs through query_to_xml: a plain
 * statement, no function of our own, so it needs no privilege beyond SELECT.
 */
export const DATA_STATS_SQL = `
WITH rel AS (
  SELECT c.oid, c.relname::text AS name,
         (SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             AND a.attname IN (${CLOCK_COLUMNS.map((c) => `'${c}'`).join(', ')}) ORDER BY a.attnum LIMIT 1) AS clock
    FROM pg_class c
   WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
), counted AS (
  SELECT r.name, jsonb_build_object(
           'rows', (xpath('/row/n/text()', q))[1]::text::bigint,
           'fingerprint', (xpath('/row/f/text()', q))[1]::text)
         || CASE WHEN r.clock IS NULL THEN '{}' ELSE jsonb_build_object('clock', jsonb_build_object(
              'column', r.clock, 'min', (xpath('/row/lo/text()', q))[1]::text, 'max', (xpath('/row/hi/text()', q))[1]::text,
              'sum', (xpath('/row/s/text()', q))[1]::text)) END AS doc
    FROM rel r,
         query_to_xml(format(
           'SELECT count(*) AS n, coalesce(sum(pg_catalog.hashtextextended(t::text, 0)::numeric), 0) AS f%s FROM %s t',
           CASE WHEN r.clock IS NULL THEN '' ELSE format(
             ', min(%1$I)::text AS lo, max(%1$I)::text AS hi, coalesce(sum(extract(epoch FROM %1$I)), 0) AS s', r.clock) END,
           r.oid::regclass), false, true, '') q
), refs AS (
  SELECT c.relname || '.' || a.attname AS name,
         convert_from(decode((xpath('/row/v/text()', query_to_xml(format(
           'SELECT pg_catalog.encode(pg_catalog.convert_to(coalesce(pg_catalog.jsonb_object_agg(v, n), ''{}'')::text, ''UTF8''), ''base64'') AS v
              FROM (SELECT %1$I::text AS v, count(*) AS n FROM %2$s WHERE %1$I IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT 1000) s',
           a.attname, c.oid::regclass), false, true, '')))[1]::text, 'base64'), 'UTF8')::jsonb AS doc
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     AND (a.attname LIKE '%key\\_id' OR a.attname LIKE '%key\\_ref' OR a.attname LIKE '%secret\\_ref')
), seqs AS (
  SELECT s.relname::text AS name, t.relname::text AS tbl, a.attname::text AS col,
         pg_sequence_last_value(s.oid) AS last_value,
         (xpath('/row/m/text()', query_to_xml(format('SELECT max(%I) AS m FROM %s', a.attname, t.oid::regclass), false, true, '')))[1]::text AS max_value
    FROM pg_class s
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
   WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace
)
SELECT jsonb_build_object(
  'tables', (SELECT coalesce(jsonb_object_agg(name, doc), '{}') FROM counted),
  'keyReferences', (SELECT coalesce(jsonb_object_agg(name, doc), '{}') FROM refs),
  'sequences', (SELECT coalesce(jsonb_object_agg(name, jsonb_build_object('table', tbl, 'column', col,
                   'lastValue', last_value::text, 'maxValue', max_value)), '{}') FROM seqs),
  'schemaMigrations', CASE WHEN to_regclass('public.schema_migrations') IS NULL THEN NULL ELSE
                   convert_from(decode((xpath('/row/v/text()', query_to_xml(
                     'SELECT pg_catalog.encode(pg_catalog.convert_to(coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                        ''version'', version::text, ''name'', name, ''checksum'', checksum) ORDER BY version), ''[]'')::text, ''UTF8''), ''base64'') AS v
                        FROM public.schema_migrations',
                     false, true, '')))[1]::text, 'base64'), 'UTF8')::jsonb END
) AS stats`;
