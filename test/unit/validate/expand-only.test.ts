// Unit tests of the static expand-only checker: SQL in, rule out (and the cases that must pass).
import { checkExpandOnly, ExpandOnlyInput, formatFinding } from '../../../src/validate/expand-only';

// A stand-in baseline: which tables exist and which are partitioned is all the checker needs from it.
const BASELINE = `
SET LOCAL ROLE caracal_owner;
CREATE DOMAIN public.slug AS text;
CREATE TABLE public.zones (id uuid PRIMARY KEY, name text, slug public.slug);
CREATE TABLE public.sessions (id uuid PRIMARY KEY, zone_id uuid NOT NULL, note text, status text, tags text[]);
CREATE TABLE public.audit_events (id uuid, ingested_at timestamptz NOT NULL, zone_id uuid) PARTITION BY RANGE (ingested_at);
CREATE FUNCTION public.zone_prefix() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'z' $$;
DROP TABLE IF EXISTS public.scratch;
RESET ROLE;
`;

/** Wrap a file body the way migrations create objects: as caracal_owner, role reset at the end. */
const asOwner = (sql: string) => `SET LOCAL ROLE caracal_owner;\n${sql}\nRESET ROLE;`;

function set(sql: string, opts: { name?: string } = {}): ExpandOnlyInput[] {
  return [
    { filename: '0001_baseline.up.sql', version: 1n, sql: BASELINE },
    { filename: opts.name ?? '0002_change.up.sql', version: 2n, sql },
  ];
}

async function rulesOf(sql: string): Promise<string[]> {
  const report = await checkExpandOnly(set(sql));
  return report.violations.map((v) => v.rule);
}

/** The baseline, then each body as its own file (0002, 0003, ...). */
async function rulesOfFiles(...bodies: string[]): Promise<string[]> {
  const files: ExpandOnlyInput[] = [{ filename: '0001_baseline.up.sql', version: 1n, sql: BASELINE }];
  bodies.forEach((sql, i) => files.push({ filename: `000${i + 2}_step.up.sql`, version: BigInt(i + 2), sql }));
  return (await checkExpandOnly(files)).violations.map((v) => `${v.file}: ${v.rule}`);
}

describe('expand-only checker', () => {
  test.each([
    ['DROP TABLE public.sessions;', 'drop-table'],
    ['DROP TABLE IF EXISTS sessions CASCADE;', 'drop-table'],
    ['ALTER TABLE public.sessions DROP COLUMN note;', 'drop-column'],
    ['ALTER TABLE public.sessions DROP CONSTRAINT sessions_pkey;', 'drop-constraint'],
    ['DROP INDEX public.sessions_zone_idx;', 'drop-index'],
    ['DROP SCHEMA legacy;', 'drop-object'],
    ['DROP TYPE public.session_status;', 'drop-object'],
    ['DROP TRIGGER audit_events_append_only ON public.audit_events;', 'drop-object'],
    ['DROP FUNCTION public.audit_partitions_ensure(integer, integer);', 'drop-object'],
    ['ALTER TABLE public.sessions RENAME TO user_sessions;', 'rename'],
    ['ALTER TABLE public.sessions RENAME COLUMN note TO notes;', 'rename'],
    ['ALTER TABLE public.sessions RENAME CONSTRAINT sessions_pkey TO sessions_pk;', 'rename'],
    ["ALTER TYPE public.session_status RENAME VALUE 'open' TO 'active';", 'rename'],
    ['ALTER TABLE public.sessions ALTER COLUMN note TYPE varchar(20);', 'alter-column-type'],
    ['ALTER TABLE public.sessions ALTER COLUMN note SET NOT NULL;', 'set-not-null'],
    [
      'ALTER TABLE public.sessions ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;\nALTER TABLE public.sessions ALTER COLUMN note SET NOT NULL;',
      'set-not-null',
    ],
    ['ALTER TABLE public.sessions ADD COLUMN token uuid DEFAULT gen_random_uuid();', 'volatile-default'],
    ['ALTER TABLE public.sessions ADD COLUMN r double precision DEFAULT random();', 'volatile-default'],
    ['ALTER TABLE public.sessions ADD COLUMN seen timestamptz DEFAULT clock_timestamp();', 'volatile-default'],
    ['ALTER TABLE public.sessions ADD COLUMN n bigserial;', 'volatile-default'],
    ['ALTER TABLE public.sessions ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;', 'volatile-default'],
    ["ALTER TABLE public.sessions ADD COLUMN n bigint DEFAULT nextval('public.s');", 'volatile-default'],
    ['ALTER TABLE public.sessions ADD COLUMN l int GENERATED ALWAYS AS (length(note)) STORED;', 'volatile-default'],
    ['ALTER TABLE public.sessions ADD COLUMN kind text NOT NULL;', 'add-column-not-null'],
    ['CREATE INDEX sessions_note_idx ON public.sessions (note);', 'index-not-concurrent'],
    ['CREATE UNIQUE INDEX IF NOT EXISTS sessions_note_key ON sessions (note);', 'index-not-concurrent'],
    ['CREATE INDEX audit_events_zone_idx ON public.audit_events (zone_id);', 'index-not-concurrent'],
    ['CREATE INDEX sessions_note_idx ON ONLY public.sessions (note);', 'index-not-concurrent'],
    [
      '-- caracal:no-transaction\nCREATE INDEX CONCURRENTLY audit_events_zone_idx ON public.audit_events (zone_id);',
      'concurrent-index-on-partitioned',
    ],
    ['CREATE INDEX CONCURRENTLY sessions_note_idx ON public.sessions (note);', 'concurrently-in-transaction'],
    [
      'ALTER TABLE public.sessions ADD CONSTRAINT sessions_zone_fk FOREIGN KEY (zone_id) REFERENCES public.zones (id);',
      'constraint-not-valid',
    ],
    ["ALTER TABLE public.sessions ADD CONSTRAINT sessions_status_ck CHECK (status IN ('open', 'closed'));", 'constraint-not-valid'],
    ['ALTER TABLE public.sessions ADD CONSTRAINT sessions_note_key UNIQUE (note);', 'add-unique-without-index'],
    ['ALTER TABLE public.zones ADD COLUMN slug text UNIQUE;', 'add-unique-without-index'],
    ['ALTER TABLE public.sessions SET UNLOGGED;', 'set-logged'],
    ['ALTER TABLE public.sessions SET LOGGED;', 'set-logged'],
    ['TRUNCATE public.sessions;', 'truncate'],
    ['DELETE FROM public.sessions;', 'delete-without-where'],
    ["UPDATE public.sessions SET status = 'open';", 'update-without-where'],
    ['REVOKE SELECT ON public.sessions FROM caracal_sts;', 'revoke'],
    ['REVOKE caracal_api FROM app_login;', 'revoke'],
    ['ALTER TABLE public.sessions ALTER COLUMN status DROP DEFAULT;', 'drop-default'],
    ['ALTER TABLE public.audit_events DISABLE TRIGGER audit_events_append_only;', 'weaken-control'],
    ['ALTER TABLE public.sessions NO FORCE ROW LEVEL SECURITY;', 'weaken-control'],
    ['ALTER TABLE public.sessions DISABLE ROW LEVEL SECURITY;', 'weaken-control'],
    ['ALTER ROLE caracal_api BYPASSRLS;', 'weaken-control'],
    ['VACUUM FULL public.sessions;', 'table-rewrite'],
    ['REINDEX TABLE public.sessions;', 'reindex-not-concurrent'],
    ['ALTER TABLE public.audit_events DETACH PARTITION public.audit_events_p20260101;', 'detach-partition'],
    ['SELECT FROM WHERE;', 'parse-error'],
    ['CREATE TABLE public.widgets (id uuid PRIMARY KEY);', 'owner-role'],
    [
      'ALTER TABLE public.sessions ADD CONSTRAINT sessions_zone_fk FOREIGN KEY (zone_id) REFERENCES public.zones (id) NOT VALID;\n' +
        'ALTER TABLE public.sessions VALIDATE CONSTRAINT sessions_zone_fk;',
      'validate-in-same-file',
    ],
    [
      'ALTER TABLE public.sessions ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;\n' +
        'ALTER TABLE public.sessions VALIDATE CONSTRAINT note_nn;\nALTER TABLE public.sessions ALTER COLUMN note SET NOT NULL;',
      'validate-in-same-file',
    ],
    [
      'ALTER TABLE public.zones ADD COLUMN label text;\nALTER TABLE public.sessions ADD COLUMN touched_at timestamptz;',
      'several-tables-locked',
    ],
    [
      "UPDATE public.zones SET name = 'x' WHERE id = '00000000-0000-0000-0000-000000000001';\nALTER TABLE public.sessions ADD COLUMN x text;",
      'several-tables-locked',
    ],
    ['ALTER TABLE public.sessions ADD COLUMN x text;\nALTER TABLE public.sessions VALIDATE CONSTRAINT old_ck;', 'scan-under-lock'],
    ["ALTER TABLE public.sessions ADD COLUMN x text;\nUPDATE public.sessions SET x = 'a' WHERE id < '8'::uuid;", 'scan-under-lock'],
    ['ALTER TABLE public.zones ADD COLUMN x text;\nINSERT INTO public.zones_copy SELECT id FROM public.sessions;', 'scan-under-lock'],
    ['ALTER TABLE public.sessions ADD COLUMN score int CHECK (score > 0);', 'add-column-constraint'],
    ['ALTER TABLE public.sessions ADD COLUMN other_zone uuid REFERENCES public.zones (id);', 'add-column-constraint'],
    ["UPDATE public.sessions SET status = 'open' WHERE status IS NULL;", 'unbatched-backfill'],
    ["UPDATE public.sessions SET status = 'open' WHERE note LIKE 'x%' OR id < '8'::uuid;", 'unbatched-backfill'],
    ['ALTER TABLE public.zones ADD COLUMN region text DEFAULT public.default_region();', 'volatile-default'],
    ['ALTER TABLE public.zones ADD COLUMN region text DEFAULT lower(public.default_region());', 'volatile-default'],
    ['SET LOCAL lock_timeout = 0;', 'timeout-override'],
    ["SET statement_timeout = '1h';", 'timeout-override'],
    ['RESET lock_timeout;', 'timeout-override'],
    ["SELECT set_config('lock_timeout', '0', true);", 'timeout-override'],
    ["DO $$ BEGIN PERFORM set_config('statement_timeout', '0', true); END $$;", 'timeout-override'],
    ['ALTER DOMAIN public.slug ADD CONSTRAINT slug_short CHECK (length(VALUE) < 64);', 'alter-domain-constraint'],
    ['ALTER DOMAIN public.slug VALIDATE CONSTRAINT slug_short;', 'alter-domain-constraint'],
    ['ALTER DOMAIN public.slug SET NOT NULL;', 'alter-domain-constraint'],
    ['-- caracal:no-transaction\nDROP DATABASE IF EXISTS caracal_staging;', 'drop-database'],
    ["UPDATE public.sessions SET status = 'a', status = 'b' WHERE id < '8'::uuid;", 'duplicate-assignment'],
    ["UPDATE public.sessions SET tags = '{}', tags[1] = 'a' WHERE id < '8'::uuid;", 'duplicate-assignment'],
    ['ALTER TABLE public.sessions SET (fillfactor = 70, fillfactor = 80);', 'duplicate-assignment'],
    ['ALTER TABLE public.sessions ADD COLUMN x text;\nCOMMIT;', 'transaction-control'],
    ['BEGIN;\nALTER TABLE public.sessions ADD COLUMN x text;', 'transaction-control'],
    ['-- caracal:no-transaction\nBEGIN;\nALTER TABLE public.sessions ADD COLUMN x text;', 'transaction-control'],
    ['CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;', 'owner-role'],
    ['SET LOCAL ROLE caracal_owner;\nCREATE VIEW public.v AS SELECT 1 AS one;', 'owner-role'],
  ])('GIVEN a later migration %j WHEN checked THEN it is reported as %s', async (sql, rule) => {
    expect(await rulesOf(sql)).toContain(rule);
  });

  test.each([
    ['a nullable column without default', 'ALTER TABLE public.sessions ADD COLUMN extra text;'],
    ['a column with a constant default and NOT NULL', "ALTER TABLE public.sessions ADD COLUMN kind text NOT NULL DEFAULT 'user';"],
    [
      'a column with the STABLE now() default (no rewrite)',
      'ALTER TABLE public.sessions ADD COLUMN seen_at timestamptz NOT NULL DEFAULT now();',
    ],
    ['a column with CURRENT_TIMESTAMP', 'ALTER TABLE public.sessions ADD COLUMN seen_at timestamptz DEFAULT CURRENT_TIMESTAMP;'],
    [
      'a new table, indexed and constrained in the same file',
      asOwner(
        'CREATE TABLE public.widgets (id uuid PRIMARY KEY, zone_id uuid NOT NULL, name text);\n' +
          'CREATE INDEX widgets_zone_idx ON public.widgets (zone_id);\n' +
          'ALTER TABLE public.widgets ADD CONSTRAINT widgets_zone_fk FOREIGN KEY (zone_id) REFERENCES public.zones (id);\n' +
          'ALTER TABLE public.widgets ALTER COLUMN name SET NOT NULL;\nREVOKE ALL ON public.widgets FROM PUBLIC;',
      ),
    ],
    [
      'a concurrent index in a no-transaction file',
      '-- caracal:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_note_idx ON public.sessions (note);',
    ],
    [
      'the ON ONLY + per-partition concurrent + ATTACH pattern',
      'CREATE INDEX IF NOT EXISTS audit_events_zone_idx ON ONLY public.audit_events (zone_id);\n' +
        'ALTER INDEX public.audit_events_zone_idx ATTACH PARTITION public.audit_events_p20260101_zone_idx;',
    ],
    [
      'a concurrent index on a partition in a no-transaction file',
      '-- caracal:no-transaction\nCREATE INDEX CONCURRENTLY audit_events_p20260101_zone_idx ON public.audit_events_p20260101 (zone_id);',
    ],
    [
      'a foreign key added NOT VALID (one statement locking both tables)',
      'ALTER TABLE public.sessions ADD CONSTRAINT sessions_zone_fk FOREIGN KEY (zone_id) REFERENCES public.zones (id) NOT VALID;',
    ],
    ['a VALIDATE CONSTRAINT on its own', 'ALTER TABLE public.sessions VALIDATE CONSTRAINT sessions_zone_fk;'],
    [
      'a new table with foreign keys to two hot tables in one statement',
      asOwner(
        'CREATE TABLE public.session_notes (id uuid PRIMARY KEY, zone_id uuid NOT NULL REFERENCES public.zones (id),\n' +
          '  session_id uuid REFERENCES public.sessions (id), body text);',
      ),
    ],
    [
      'a VALIDATE CONSTRAINT in a no-transaction file after its ADD (each statement commits on its own)',
      "-- caracal:no-transaction\nALTER TABLE public.sessions ADD CONSTRAINT s_ck CHECK (status <> '') NOT VALID;\n" +
        'ALTER TABLE public.sessions VALIDATE CONSTRAINT s_ck;',
    ],
    [
      'a batched backfill by a sub-select with LIMIT',
      "UPDATE public.sessions SET status = 'open' WHERE id IN (SELECT id FROM public.sessions WHERE status IS NULL LIMIT 1000);",
    ],
    [
      'a backfill of one row by its primary key',
      "UPDATE public.sessions SET status = 'open' WHERE id = '00000000-0000-0000-0000-000000000001';",
    ],
    [
      'a default from a function declared IMMUTABLE in the migrations',
      'ALTER TABLE public.zones ADD COLUMN prefix text DEFAULT public.zone_prefix();',
    ],
    ['a default from a STABLE built-in expression', "ALTER TABLE public.zones ADD COLUMN opened_on date DEFAULT date_trunc('day', now());"],
    [
      'ALTER DOMAIN ... ADD CONSTRAINT NOT VALID',
      'ALTER DOMAIN public.slug ADD CONSTRAINT slug_short CHECK (length(VALUE) < 64) NOT VALID;',
    ],
    ['two array elements of one column in one SET', "UPDATE public.sessions SET tags[1] = 'a', tags[2] = 'b' WHERE id < '8'::uuid;"],
    ['a SAVEPOINT-free no-transaction file that commits what it begins', '-- caracal:no-transaction\nBEGIN;\nSELECT 1;\nCOMMIT;'],
    ['set_config of another setting', "SELECT set_config('caracal.zone_id', '', true);"],
    ['SET of another setting', 'SET LOCAL search_path = public;'],
    [
      'a function whose own SET clause names lock_timeout',
      asOwner("CREATE FUNCTION public.g() RETURNS int LANGUAGE sql SET lock_timeout = '1s' AS $$ SELECT 1 $$;"),
    ],
    ['two ADD COLUMNs on one table', 'ALTER TABLE public.sessions ADD COLUMN a text;\nALTER TABLE public.sessions ADD COLUMN b text;'],
    ['a primary key added USING INDEX', 'ALTER TABLE public.zones ADD CONSTRAINT zones_name_key UNIQUE USING INDEX zones_name_idx;'],
    [
      'DROP INDEX CONCURRENTLY in a no-transaction file',
      '-- caracal:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS public.sessions_old_idx;',
    ],
    [
      'a trigger dropped and re-created in the same file',
      'DROP TRIGGER IF EXISTS sessions_touch ON public.sessions;\n' +
        'CREATE TRIGGER sessions_touch BEFORE UPDATE ON public.sessions FOR EACH ROW EXECUTE FUNCTION public.touch();',
    ],
    ['a bounded backfill', "UPDATE public.sessions SET status = 'open' WHERE status IS NULL AND id < '8'::uuid;"],
    ['grants and new policies', 'GRANT SELECT ON public.sessions TO caracal_sts;\nCREATE POLICY p ON public.sessions USING (true);'],
    [
      'CREATE OR REPLACE FUNCTION',
      asOwner('CREATE OR REPLACE FUNCTION public.f() RETURNS int LANGUAGE sql AS $$ SELECT 1; DROP TABLE x $$;'),
    ],
    ['ENABLE ALWAYS on a trigger', 'ALTER TABLE public.audit_events ENABLE ALWAYS TRIGGER audit_events_append_only;'],
    [
      'a function created, then revoked from PUBLIC and granted',
      asOwner(
        'CREATE FUNCTION public.zone_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM public.zones $$;\n' +
          'REVOKE ALL ON FUNCTION public.zone_count() FROM PUBLIC;\nGRANT EXECUTE ON FUNCTION public.zone_count() TO caracal_api;',
      ),
    ],
    [
      'a new partition, indexed in the same file',
      asOwner(
        "CREATE TABLE public.audit_events_p20990101 PARTITION OF public.audit_events FOR VALUES FROM ('2099-01-01') TO ('2099-01-02');\n" +
          'CREATE INDEX audit_events_p20990101_zone_idx ON public.audit_events_p20990101 (zone_id);',
      ),
    ],
    [
      'comments, views and new enum values',
      asOwner(
        "COMMENT ON TABLE public.sessions IS 'x';\nCREATE VIEW public.v AS SELECT id FROM public.sessions;\nALTER TYPE public.session_status ADD VALUE IF NOT EXISTS 'held';",
      ),
    ],
  ])('GIVEN %s WHEN checked THEN there is no violation', async (_name, sql) => {
    expect(await rulesOf(sql)).toEqual([]);
  });

  test.each([
    [
      'a CHECK added NOT VALID, then validated in the next file',
      [
        "ALTER TABLE public.sessions ADD CONSTRAINT s_ck CHECK (status <> '') NOT VALID;",
        'ALTER TABLE public.sessions VALIDATE CONSTRAINT s_ck;',
      ],
    ],
    [
      'the documented SET NOT NULL sequence, ending with the drop of the helper CHECK',
      [
        'ALTER TABLE public.sessions ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;',
        'ALTER TABLE public.sessions VALIDATE CONSTRAINT note_nn;',
        'ALTER TABLE public.sessions ALTER COLUMN note SET NOT NULL;\nALTER TABLE public.sessions DROP CONSTRAINT note_nn;',
      ],
    ],
    [
      'the same sequence with SET NOT NULL and the drop in one ALTER TABLE',
      [
        'ALTER TABLE public.sessions ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;',
        'ALTER TABLE public.sessions VALIDATE CONSTRAINT note_nn;',
        'ALTER TABLE public.sessions ALTER COLUMN note SET NOT NULL, DROP CONSTRAINT note_nn;',
      ],
    ],
    [
      'two tables changed in two files',
      ['ALTER TABLE public.zones ADD COLUMN label text;', 'ALTER TABLE public.sessions ADD COLUMN touched_at timestamptz;'],
    ],
    [
      'a column added, then backfilled in batches in the next file',
      ['ALTER TABLE public.sessions ADD COLUMN x text;', "UPDATE public.sessions SET x = 'a' WHERE id < '8'::uuid;"],
    ],
  ])('GIVEN %s WHEN checked THEN there is no violation', async (_name, bodies) => {
    expect(await rulesOfFiles(...bodies)).toEqual([]);
  });

  test('GIVEN a helper CHECK dropped before its column is NOT NULL WHEN checked THEN the drop is still reported', async () => {
    expect(
      await rulesOfFiles(
        'ALTER TABLE public.sessions ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;',
        'ALTER TABLE public.sessions DROP CONSTRAINT note_nn;',
      ),
    ).toEqual(['0003_step.up.sql: drop-constraint']);
  });

  test('GIVEN two tables altered in one file WHEN checked THEN the finding names both locks and their lines', async () => {
    const report = await checkExpandOnly(
      set('ALTER TABLE public.zones ADD COLUMN label text;\nALTER TABLE public.sessions ADD COLUMN t text;'),
    );
    expect(report.violations.map((v) => [v.line, v.what])).toEqual([
      [2, 'one transaction takes ACCESS EXCLUSIVE on public.zones (line 1) and ACCESS EXCLUSIVE on public.sessions (line 2)'],
    ]);
  });

  test('GIVEN the transaction and correctness rules WHEN checked in a contract-phase file THEN they are still violations', async () => {
    const report = await checkExpandOnly(
      set("-- caracal:phase contract\nUPDATE public.sessions SET status = 'a', status = 'b' WHERE id < '8'::uuid;\nCOMMIT;"),
    );
    expect(report.violations.map((f) => f.rule)).toEqual(['duplicate-assignment', 'transaction-control']);
  });

  test('GIVEN the baseline dropping and creating freely WHEN checked THEN the baseline is exempt', async () => {
    const report = await checkExpandOnly([
      { filename: '0001_baseline.up.sql', version: 1n, sql: BASELINE + 'CREATE INDEX x ON public.sessions (note);' },
    ]);
    expect(report.violations).toEqual([]);
  });

  test('GIVEN a file tagged -- caracal:phase contract WHEN checked THEN its findings are allowed, not violations', async () => {
    const report = await checkExpandOnly(set('-- caracal:phase contract\nALTER TABLE public.sessions DROP COLUMN note;'));
    expect(report.violations).toEqual([]);
    expect(report.allowedInContract.map((f) => f.rule)).toEqual(['drop-column']);
  });

  test('GIVEN a contract file with CONCURRENTLY inside a transaction WHEN checked THEN it is still a violation', async () => {
    const report = await checkExpandOnly(set('-- caracal:phase contract\nDROP INDEX CONCURRENTLY public.sessions_old_idx;'));
    expect(report.violations.map((f) => f.rule)).toEqual(['concurrently-in-transaction']);
  });

  test('GIVEN multi-byte UTF-8 before a violation WHEN checked THEN the line number counts lines, not bytes', async () => {
    const sql =
      '-- Zonen für Sitzungen: ünïcödé ✓ 🚀\n/* ähm\n ß */\nALTER TABLE public.sessions ADD COLUMN note2 text; -- ✓\n\n' +
      "COMMENT ON TABLE public.sessions IS 'Sitzungen — ✓';\nALTER TABLE public.sessions\n  DROP COLUMN note;\n";
    const report = await checkExpandOnly(set(sql));
    expect(report.violations.map((v) => [v.rule, v.line])).toEqual([['drop-column', 7]]);
  });

  test('GIVEN a violation WHEN formatted THEN it names file:line, the rule, why and instead', async () => {
    const report = await checkExpandOnly(set('SELECT 1;\nALTER TABLE public.sessions DROP COLUMN note;'));
    expect(formatFinding(report.violations[0])).toMatch(
      /^0002_change\.up\.sql:2: drop-column: ALTER TABLE public\.sessions DROP COLUMN note\n {4}why: .*previous application version.*\n {4}instead: .*caracal:phase contract/,
    );
  });

  test('GIVEN a syntax error on line 3 WHEN checked THEN the parse error names line 3', async () => {
    const report = await checkExpandOnly(set('SELECT 1;\n\nSELEC 2;'));
    expect(report.violations.map((v) => [v.rule, v.line])).toEqual([['parse-error', 3]]);
  });
});
