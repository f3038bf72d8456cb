// A small SQL statement splitter that follows psql's lexer (src/fe_utils/psqlscan.l): quotes, E'' strings,
// dollar quotes, nested comments, parentheses and CREATE FUNCTION ... BEGIN ATOMIC bodies. It stays tiny so
// the Job bundle needs no parser; test/unit/migrate/sql-scanner.test.ts checks it against libpg-query.

export interface SqlStatement {
  /** Offset (UTF-16 index) of the statement's first token. */
  readonly start: number;
  /** Offset of the terminating semicolon, or the end of the text. */
  readonly end: number;
  /** 1-based line of the first token. */
  readonly line: number;
  /** The statement's text, from its first token to (not including) its semicolon. */
  readonly text: string;
  /** Lower-cased leading keywords (up to 6), for classifying the statement. */
  readonly keywords: readonly string[];
}

// Character classes by code (a regex test per character was most of the Job's start-up CPU).
const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isDolqCont = (c: number) => isIdentStart(c) || isDigit(c);
const isIdentCont = (c: number) => isDolqCont(c) || c === 36;
const identStart = { test: (ch: string | undefined) => ch !== undefined && isIdentStart(ch.charCodeAt(0)) };
const identCont = { test: (ch: string | undefined) => ch !== undefined && isIdentCont(ch.charCodeAt(0)) };
const dolqCont = { test: (ch: string | undefined) => ch !== undefined && isDolqCont(ch.charCodeAt(0)) };
const digit = { test: (ch: string | undefined) => ch !== undefined && isDigit(ch.charCodeAt(0)) };

/** Something in a file that only psql can run: a meta-command, or a COPY whose rows psql would send. */
export interface PsqlOnlySyntax {
  readonly kind: 'meta-command' | 'copy-from-stdin';
  /** Offset of the backslash, or of the COPY statement. */
  readonly start: number;
  /** 1-based line. */
  readonly line: number;
  /** The meta-command (`\set`), or `COPY ... FROM STDIN`. */
  readonly text: string;
}

/**
 * Whether the SQL has at least one statement, as splitStatements would find it: anything but whitespace, comments
 * and semicolons. Cheap (it stops at the first token), so discovering 1,000 applied files does not split each one.
 */
export function hasStatement(sql: string): boolean {
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === ';') {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n' && sql[i] !== '\r') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      i = afterBlockComment(sql, i);
    } else {
      return true;
    }
  }
  return false;
}

/** Split SQL into top-level statements exactly where psql would send them. Empty statements are dropped. */
export function splitStatements(sql: string): SqlStatement[] {
  return scanSql(sql).statements;
}

/**
 * psql-only syntax outside strings, comments and dollar quotes: a backslash (psql reads the rest of the line as a
 * meta-command; in SQL a backslash is never valid there), and `COPY ... FROM STDIN` (psql sends the rows that follow).
 */
export function psqlOnlySyntax(sql: string): PsqlOnlySyntax[] {
  return scanSql(sql).psqlOnly;
}

function scanSql(sql: string): { statements: SqlStatement[]; psqlOnly: PsqlOnlySyntax[] } {
  const out: SqlStatement[] = [];
  const psqlOnly: PsqlOnlySyntax[] = [];
  let copyWords: string[] = []; // the words of a COPY statement, to find FROM STDIN
  const n = sql.length;
  let i = 0;
  let stmtStart = -1;
  let parenDepth = 0;
  let beginDepth = 0;
  let identifiers: string[] = []; // first identifiers of the statement (psql keeps 4 initials)
  let identifierCount = 0;
  let keywords: string[] = [];

  const startToken = (at: number) => {
    if (stmtStart < 0) stmtStart = at;
  };
  const finish = (end: number) => {
    if (stmtStart >= 0) {
      out.push({ start: stmtStart, end, line: lineAt(sql, stmtStart), text: sql.slice(stmtStart, end), keywords });
      if (keywords[0] === 'copy' && copyWords.some((w, k) => w === 'from' && copyWords[k + 1] === 'stdin')) {
        psqlOnly.push({ kind: 'copy-from-stdin', start: stmtStart, line: lineAt(sql, stmtStart), text: 'COPY ... FROM STDIN' });
      }
    }
    copyWords = [];
    stmtStart = -1;
    parenDepth = 0;
    beginDepth = 0;
    identifiers = [];
    identifierCount = 0;
    keywords = [];
  };

  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    // whitespace
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    // -- comment to end of line
    if (c === '-' && next === '-') {
      while (i < n && sql[i] !== '\n' && sql[i] !== '\r') i++;
      continue;
    }
    // /* nested */ comment
    if (c === '/' && next === '*') {
      i = afterBlockComment(sql, i);
      continue;
    }
    if (c === ';') {
      if (parenDepth === 0 && beginDepth === 0) {
        finish(i);
      }
      i++;
      continue;
    }
    startToken(i);
    // E'...' strings (backslash escapes)
    if ((c === 'e' || c === 'E') && next === "'") {
      i = skipQuoted(sql, i + 2, "'", true);
      continue;
    }
    // B'', X'', N'', U&'' and U&"": same quoting rules as their plain forms
    if ((c === 'b' || c === 'B' || c === 'x' || c === 'X' || c === 'n' || c === 'N') && next === "'") {
      i = skipQuoted(sql, i + 2, "'", false);
      continue;
    }
    if ((c === 'u' || c === 'U') && next === '&' && (sql[i + 2] === "'" || sql[i + 2] === '"')) {
      i = skipQuoted(sql, i + 3, sql[i + 2], false);
      continue;
    }
    if (c === "'") {
      i = skipQuoted(sql, i + 1, "'", false);
      continue;
    }
    if (c === '"') {
      i = skipQuoted(sql, i + 1, '"', false);
      continue;
    }
    // $tag$ ... $tag$ (a $1 parameter is not a dollar quote)
    if (c === '$') {
      let j = i + 1;
      if (j < n && identStart.test(sql[j])) {
        while (j < n && dolqCont.test(sql[j])) j++;
      }
      if (sql[j] === '$') {
        const tag = sql.slice(i, j + 1);
        const close = sql.indexOf(tag, j + 1);
        i = close < 0 ? n : close + tag.length;
        continue;
      }
      i++;
      while (i < n && digit.test(sql[i])) i++;
      continue;
    }
    if (c === '(') {
      parenDepth++;
      i++;
      continue;
    }
    if (c === ')') {
      if (parenDepth > 0) parenDepth--;
      i++;
      continue;
    }
    if (identStart.test(c)) {
      let j = i + 1;
      while (j < n && identCont.test(sql[j])) j++;
      const word = sql.slice(i, j).toLowerCase();
      if (keywords.length < 6) keywords.push(word);
      if (keywords[0] === 'copy') copyWords.push(word);
      trackBeginAtomic(word);
      i = j;
      continue;
    }
    if (digit.test(c) || (c === '.' && digit.test(next))) {
      // numbers (digits, '.', exponents, underscores, hex/octal/binary prefixes) never contain quotes or ';'
      let j = i + 1;
      while (j < n && (isDolqCont(sql.charCodeAt(j)) || sql[j] === '.')) {
        if (sql[j] === '.' && sql[j + 1] === '.') break;
        j++;
      }
      i = j;
      continue;
    }
    if (c === '\\') {
      // psql takes the backslash and the rest of its line as a meta-command (\set, \connect, \. ending COPY data).
      let j = i + 1;
      while (j < n && identCont.test(sql[j])) j++;
      psqlOnly.push({ kind: 'meta-command', start: i, line: lineAt(sql, i), text: sql.slice(i, Math.max(j, i + 2)) });
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    i++; // operators and other punctuation
  }
  finish(n);
  return { statements: out, psqlOnly };

  function trackBeginAtomic(word: string) {
    // psqlscan.l: inside CREATE [OR REPLACE] {FUNCTION|PROCEDURE}, BEGIN ... END (and CASE inside it) nest.
    if (identifierCount === 0) identifiers = [];
    if (['create', 'function', 'procedure', 'or', 'replace'].includes(word) && identifierCount < 4) {
      identifiers[identifierCount] = word[0];
    }
    identifierCount++;
    const inRoutine =
      identifiers[0] === 'c' &&
      (identifiers[1] === 'f' ||
        identifiers[1] === 'p' ||
        (identifiers[1] === 'o' && identifiers[2] === 'r' && (identifiers[3] === 'f' || identifiers[3] === 'p')));
    if (inRoutine && parenDepth === 0) {
      if (word === 'begin') beginDepth++;
      else if (word === 'case') {
        if (beginDepth >= 1) beginDepth++;
      } else if (word === 'end') {
        if (beginDepth > 0) beginDepth--;
      }
    }
  }
}

/** Index just past the closing quote (doubled quotes escape; in E'' strings backslashes escape too). */
function skipQuoted(sql: string, i: number, quote: string, backslash: boolean): number {
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (backslash && c === '\\') {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return n;
}

/** 1-based line number of an offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < text.length; k++) if (text[k] === '\n') line++;
  return line;
}

/** 1-based line and column of a 1-based character position (as Postgres reports `position`). */
export function lineAndColumn(text: string, position1: number): { line: number; column: number } {
  const offset = Math.max(0, Math.min(text.length, position1 - 1));
  const line = lineAt(text, offset);
  const lastNl = text.lastIndexOf('\n', offset - 1);
  return { line, column: offset - lastNl };
}

const TX_CONTROL = new Set(['begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release', 'prepare']);

/** Top-level statements that control transactions (BEGIN, COMMIT, ...), which a runner-managed file must not have. */
export function transactionControlStatements(statements: readonly SqlStatement[]): SqlStatement[] {
  return statements.filter((s) => {
    const [k0, k1] = s.keywords;
    if (!TX_CONTROL.has(k0)) return false;
    if (k0 === 'start') return k1 === 'transaction';
    if (k0 === 'prepare') return k1 === 'transaction';
    if (k0 === 'begin') return k1 !== 'atomic';
    return true;
  });
}

/** The command a transaction-control statement is, as SQL spells it: `START TRANSACTION`, `PREPARE TRANSACTION`, `ROLLBACK TO SAVEPOINT`. */
export function transactionControlCommand(stmt: SqlStatement): string {
  const [k0, k1, k2] = stmt.keywords;
  if (k0 === 'start' || k0 === 'prepare') return `${k0} transaction`.toUpperCase();
  if ((k0 === 'commit' || k0 === 'rollback') && k1 === 'prepared') return `${k0} prepared`.toUpperCase();
  if (k0 === 'rollback' && k1 === 'to') return 'ROLLBACK TO SAVEPOINT';
  if (k0 === 'rollback' && (k1 === 'work' || k1 === 'transaction') && k2 === 'to') return 'ROLLBACK TO SAVEPOINT';
  if (k0 === 'release') return 'RELEASE SAVEPOINT';
  return k0.toUpperCase();
}

/** The index after the block comment that opens at `start` (`/*`); comments nest, as in Postgres. */
function afterBlockComment(sql: string, start: number): number {
  const n = sql.length;
  let depth = 1;
  let i = start + 2;
  while (i < n && depth > 0) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
    } else i++;
  }
  return i;
}
