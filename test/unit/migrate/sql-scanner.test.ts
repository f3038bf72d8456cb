// The runner's small statement splitter (psqlscan.l rules) checked against the real Postgres parser
// (libpg-query, a dev dependency only) over a corpus of tricky SQL.
import { parse } from 'libpg-query';
import { hasNoTransactionMarker, psqlOnlySyntax, splitStatements, transactionControlStatements } from '../../../src/migrate';
import { hasStatement } from '../../../src/migrate/sql-scanner';

const CORPUS: Array<[string, string]> = [
  ['plain statements', 'CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nSELECT * FROM a'],
  ['semicolons in a string', "INSERT INTO t VALUES ('a;b'); SELECT ';'"],
  ['doubled quotes', "SELECT 'it''s; fine'; SELECT 2"],
  ['E strings with backslash escapes', "SELECT E'a\\'; still in string'; SELECT e'\\\\'; SELECT 3"],
  ['a plain string ending in a backslash', "SELECT 'C:\\'; SELECT 2"],
  ['dollar quotes', 'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$; SELECT f()'],
  ['tagged dollar quotes with nested dollars', "DO $body$ BEGIN PERFORM $$;$$; RAISE NOTICE 'x;'; END $body$; SELECT 1"],
  ['dollar tag with underscore and digits', 'SELECT $fn_1$ ; $fn_1$; SELECT 2'],
  ['parameters are not dollar quotes', 'PREPARE p(int, int) AS SELECT $1 + $2; EXECUTE p(1, 2)'],
  ['identifiers containing dollars', 'CREATE TABLE a$b$ (c$ int); SELECT c$ FROM a$b$'],
  ['line comments', '-- first; not a statement\nSELECT 1; -- trailing; comment\nSELECT 2 -- ;\n;'],
  ['nested block comments', 'SELECT 1 /* outer /* inner; */ still; */ ; /* ; */ SELECT 2'],
  ['double-quoted identifiers', 'CREATE TABLE "we;ird""name" (id int); SELECT * FROM "we;ird""name"'],
  ['unicode escapes', 'SELECT U&\'d\\0061t;a\'; SELECT U&"d;" FROM t'],
  ['bit and hex strings', "SELECT B'1010', X'1F;'; SELECT 2"],
  ['parenthesized expressions', 'SELECT (1); SELECT ((2)), f((3))'],
  ['BEGIN ATOMIC function bodies', 'CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT g()'],
  [
    'CREATE OR REPLACE PROCEDURE with CASE in BEGIN ATOMIC',
    'CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t SELECT CASE WHEN true THEN 1 END; END;\nCALL p()',
  ],
  ['transaction control', 'BEGIN; CREATE TABLE t (id int); COMMIT; START TRANSACTION; ROLLBACK'],
  ['empty statements', ';;SELECT 1;; ;SELECT 2;'],
  ['numbers and operators', 'SELECT 1.5e-3, .5, 1_000, 0x1F, 2::int, 3 <> 4, 5 !=6; SELECT -1--2\n;SELECT 1/2'],
  ['strings across lines and continuation', "SELECT 'a'\n'b'; SELECT 'multi\nline;'"],
  ['non-ASCII text', "INSERT INTO t VALUES ('zoné; ünïcode 🦁'); SELECT 'ok'"],
  [
    'a trigger function with quotes inside the body',
    "CREATE FUNCTION trg() RETURNS trigger AS $f$ BEGIN IF NEW.a = 'x;y' THEN RETURN NULL; END IF; RETURN NEW; END $f$ LANGUAGE plpgsql;\nCREATE TABLE t (a text)",
  ],
  ['a comment between statements at the end', 'SELECT 1;\n/* done */\n-- really\n'],
  [
    'COPY-free DDL with defaults',
    "CREATE TABLE t (a text DEFAULT ';', b text DEFAULT $$;$$, c int CHECK (c > 0)); COMMENT ON TABLE t IS 'x;y'",
  ],
  [
    'a CREATE INDEX CONCURRENTLY file',
    '-- caracal:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON public.t (a);\nCREATE UNIQUE INDEX CONCURRENTLY "T b" ON t (b)',
  ],
];

function byteOffset(text: string, charOffset: number): number {
  return Buffer.byteLength(text.slice(0, charOffset), 'utf8');
}

describe('splitStatements agrees with the Postgres parser', () => {
  test.each(CORPUS)('GIVEN %s WHEN split THEN the statements agree with the Postgres parser', async (_title, sql) => {
    // GIVEN valid SQL
    const real = await parse(sql);
    // WHEN split by the runner
    const mine = splitStatements(sql);
    // THEN each statement starts at the parser's stmt_location and ends where its length says
    const theirs = (real.stmts ?? []).map((s) => {
      const start = s.stmt_location ?? 0;
      return { start, end: s.stmt_len ? start + s.stmt_len : Buffer.byteLength(sql, 'utf8') };
    });
    const ours = mine.map((s) => ({ start: byteOffset(sql, s.start), end: byteOffset(sql, s.end) }));
    // The parser's last statement runs to the end of the text (trailing comments included); compare trimmed ends.
    const trimEnd = (x: { start: number; end: number }) => ({
      start: x.start,
      end:
        x.start +
        Buffer.from(sql, 'utf8')
          .subarray(x.start, x.end)
          .toString('utf8')
          .replace(/(\s|--[^\n]*|\/\*[\s\S]*?\*\/)*$/, '').length,
    });
    expect(ours.map(trimEnd)).toEqual(theirs.map(trimEnd));
  });

  test('GIVEN several statements WHEN split THEN each has its 1-based line', () => {
    const s = splitStatements('-- header\n\nSELECT 1;\nSELECT\n  2;\n\n\nSELECT 3');
    expect(s.map((x) => x.line)).toEqual([3, 4, 8]);
  });
});

describe('markers and transaction control', () => {
  test.each([
    ['-- caracal:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);', true],
    ['SELECT 1;\n  --  caracal:no-transaction  \n', true],
    ["SELECT '-- caracal:no-transaction';", false],
    ['-- caracal:no-transactions\nSELECT 1;', false],
  ])('GIVEN %j WHEN checked for the no-transaction marker THEN the answer is %s', (sql, expected) => {
    expect(hasNoTransactionMarker(sql)).toBe(expected);
  });

  test.each([
    ['BEGIN; SELECT 1; COMMIT;', ['begin', 'commit']],
    ['START TRANSACTION; SELECT 1; END;', ['start', 'end']],
    ['DO $$ BEGIN PERFORM 1; END $$;', []],
    ['CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;', []],
    ['SAVEPOINT a; RELEASE a; ROLLBACK;', ['savepoint', 'release', 'rollback']],
  ])('GIVEN %j WHEN split THEN the transaction control statements are found', (sql, expected) => {
    expect(transactionControlStatements(splitStatements(sql)).map((s) => s.keywords[0])).toEqual(expected);
  });
});

describe('psqlOnlySyntax', () => {
  test.each([
    ['\\set x 1\nSELECT :x;', [['meta-command', 1, '\\set']]],
    ['SELECT 1;\n  \\echo done\n', [['meta-command', 2, '\\echo']]],
    ['SELECT 1 \\gset\n', [['meta-command', 1, '\\gset']]],
    [
      'COPY public.t (a, b) FROM STDIN;\n1\t2\n\\.\n',
      [
        ['copy-from-stdin', 1, 'COPY ... FROM STDIN'],
        ['meta-command', 3, '\\.'],
      ],
    ],
    ['copy t from stdin with (format csv);', [['copy-from-stdin', 1, 'COPY ... FROM STDIN']]],
  ])('GIVEN %j WHEN scanned THEN the psql-only syntax is found with its line', (sql, expected) => {
    expect(psqlOnlySyntax(sql).map((p) => [p.kind, p.line, p.text])).toEqual(expected);
  });

  test.each([
    ["SELECT E'a\\\\b', 'c\\d';"],
    ['-- \\set in a comment\n/* \\x /* \\q */ */ SELECT 1;'],
    ["DO $$ BEGIN PERFORM '\\\\'; END $$;"],
    ['SELECT "we\\ird" FROM t;'],
    ["COPY t TO STDOUT; INSERT INTO t VALUES ('COPY x FROM STDIN');"],
    ["COPY t FROM '/srv/data.csv';"],
  ])('GIVEN %j WHEN scanned THEN nothing is psql-only', (sql) => {
    expect(psqlOnlySyntax(sql)).toEqual([]);
  });
});

describe('hasStatement', () => {
  test.each<[string, string]>([
    ...CORPUS,
    ['only a line comment', '-- nothing here\n'],
    ['only nested block comments and semicolons', '/* a /* b */ c */ ;\n; -- x'],
    ['only whitespace', ' \n\t\r\f\v'],
    ['a statement after comments', '/* x */ -- y\n\n  SELECT 1'],
    ['an unterminated block comment', '/* never ends SELECT 1'],
  ])('GIVEN %s WHEN asked whether it has a statement THEN it agrees with splitStatements', (_title, sql) => {
    expect(hasStatement(sql)).toBe(splitStatements(sql).length > 0);
  });
});
