// Lazy access to Postgres's own parser (libpg-query, WebAssembly). Only `caracal-migrate validate` loads it,
// so the Job's bundle never carries it. Locations from the parser are UTF-8 byte offsets: converted here.

export interface ParsedStatement {
  /** The statement's parse tree: `{ AlterTableStmt: {...} }`. */
  readonly node: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** 1-based line of the statement's first token. */
  readonly line: number;
  /** The statement's text, from its first token to its end (without the semicolon). */
  readonly text: string;
}

export type ParseResult = { statements: ParsedStatement[] } | { error: { line: number; message: string } };

interface LibPgQuery {
  loadModule(): Promise<void>;
  parseSync(sql: string): { stmts?: Array<{ stmt: Record<string, unknown>; stmt_location?: number; stmt_len?: number }> };
}

import { ConfigError } from '../migrate/errors';

let loaded: Promise<LibPgQuery> | undefined;

function parser(): Promise<LibPgQuery> {
  if (!loaded) {
    loaded = (async () => {
      let lib: LibPgQuery;
      try {
        lib = require('libpg-query') as LibPgQuery;
      } catch (e) {
        loaded = undefined;
        throw new ConfigError(
          `validate needs the SQL parser package libpg-query, which is not installed here (${(e as Error).message.split('\n')[0]})`,
          "run `caracal-migrate validate` from a checkout after `npm ci` (the migration Job's bundle does not carry the parser)",
        );
      }
      await lib.loadModule();
      return lib;
    })();
  }
  return loaded;
}

/** Parse one file; a syntax error comes back with its line instead of throwing. */
export async function parseSqlFile(sql: string): Promise<ParseResult> {
  const lib = await parser();
  const bytes = Buffer.from(sql, 'utf8');
  try {
    const tree = lib.parseSync(sql);
    return {
      statements: (tree.stmts ?? []).map((s) => {
        const start = s.stmt_location ?? 0;
        const first = firstTokenByte(bytes, start);
        // stmt_len 0 means "to the end of the string" (the last statement without a semicolon).
        const end = s.stmt_len ? start + s.stmt_len : bytes.length;
        return {
          node: s.stmt as Record<string, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
          line: lineOfByte(bytes, first),
          text: bytes.subarray(first, Math.max(first, end)).toString('utf8').trim(),
        };
      }),
    };
  } catch (e) {
    const details = (e as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const line = details?.cursorPosition !== undefined ? lineOfByte(bytes, details.cursorPosition) : 1;
    return { error: { line, message: `does not parse: ${(e as Error).message}` } };
  }
}

/** 1-based line number of a UTF-8 byte offset. */
export function lineOfByte(bytes: Buffer, offset: number): number {
  let line = 1;
  const end = Math.min(offset, bytes.length);
  for (let i = 0; i < end; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/**
 * The statement location may point at whitespace or comments before the first token (it starts right after
 * the previous semicolon in some Postgres versions): skip them, so the line is the statement's own.
 */
export function firstTokenByte(bytes: Buffer, offset: number): number {
  let i = offset;
  const n = bytes.length;
  while (i < n) {
    const c = bytes[i];
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x0b) {
      i++;
    } else if (c === 0x2d && bytes[i + 1] === 0x2d) {
      while (i < n && bytes[i] !== 0x0a) i++;
    } else if (c === 0x2f && bytes[i + 1] === 0x2a) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (bytes[i] === 0x2f && bytes[i + 1] === 0x2a) {
          depth++;
          i += 2;
        } else if (bytes[i] === 0x2a && bytes[i + 1] === 0x2f) {
          depth--;
          i += 2;
        } else i++;
      }
    } else {
      break;
    }
  }
  return i;
}
