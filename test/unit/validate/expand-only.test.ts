// Unit tests of the static expand-only checker: SQL in, rule out (and the cases that must pass).
import { checkExpandOnly, ExpandOnlyInput, formatFinding } from '../../../src/validate/expand-only';

// A stand-in baseline: which tables exist and which are partitioned is all the checker needs from it.
const BASELINE = `
SET LOCAL ROLE caracal_owner;
CREATE TABLE public.zones (id uuid PRIMARY KEY, name text);
CREATE TABLE public.sessions (id uuid PRIMARY KEY, zone_id uuid NOT NULL, note text, status text);
CREATE TABLE public.audit_events (id uuid, ingested_at timestamptz NOT NULL, zone_id uuid) PARTITION BY RANGE (ingested_at);
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
      'a CHECK and FK added NOT VALID, then validated',
      'ALTER TABLE public.sessions ADD CONSTRAINT sessions_zone_fk FOREIGN KEY (zone_id) REFERENCES public.zones (id) NOT VALID;\n' +
        'ALTER TABLE public.sessions VALIDATE CONSTRAINT sessions_zone_fk;',
    ],
    [
      'SET NOT NULL after a validated CHECK (col IS NOT NULL)',
      'ALTER TABLE public.sessions ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;\n' +
        'ALTER TABLE public.sessions VALIDATE CONSTRAINT note_nn;\nALTER TABLE public.sessions ALTER COLUMN note SET NOT NULL;',
    ],
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
