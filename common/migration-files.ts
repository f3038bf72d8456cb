// The migration file contract the runner enforces and the migration Job's chart must respect: the
// `NNNN_name.up.sql` filename grammar, the `-- caracal:no-transaction` marker, and what a checksum covers. Imports nothing.

/** The grammar: 4 to 18 digit version, `_`, a lower-case name of letters, digits and single underscores, `.up.sql`. */
export const MIGRATION_FILENAME = /^([0-9]{4,18})_([a-z0-9]+(?:_[a-z0-9]+)*)\.up\.sql$/;

export type FilenameVerdict =
  { kind: 'migration'; version: bigint; name: string } | { kind: 'ignored'; reason: string } | { kind: 'refused'; reason: string };

/** Classify one directory entry name (no file system access): a migration, an entry to skip, or one the runner refuses. */
export function classifyFilename(filename: string): FilenameVerdict {
  // The grammar first: a name it accepts passes every check below (they only explain a refusal), so a directory
  // of valid files costs one match per name.
  const valid = MIGRATION_FILENAME.exec(filename);
  if (valid) return { kind: 'migration', version: BigInt(valid[1]), name: valid[2] };
  if (filename.startsWith('.')) return { kind: 'ignored', reason: 'dot entry (such as a ConfigMap ..data link)' };
  if (filename.includes('/') || filename.includes('\\')) return { kind: 'refused', reason: 'contains a path separator' };
  if (filename.includes('..')) return { kind: 'refused', reason: 'contains ".."' };
  if (/\.down\.sql$/i.test(filename)) {
    return {
      kind: 'refused',
      reason:
        'down migrations are not supported: production tooling is forward-only; undo a change with a new, later expand-only migration and remove this file',
    };
  }
  if (/\s/.test(filename)) return { kind: 'refused', reason: 'contains whitespace' };
  if (/[$`!&|;<>(){}[\]*?~#'"\\%^=,:@+]/.test(filename)) return { kind: 'refused', reason: 'contains a shell metacharacter' };
  if (/[^\x20-\x7e]/.test(filename)) return { kind: 'refused', reason: 'contains a non-ASCII or control character' };
  if (/[A-Z]/.test(filename)) return { kind: 'refused', reason: 'contains upper case (names are lower-case)' };
  return {
    kind: 'refused',
    reason: 'does not match NNNN_name.up.sql (4 to 18 digits, "_", lower-case letters, digits and single underscores, ".up.sql")',
  };
}

/** True when the file asks to run without a transaction: a `-- caracal:no-transaction` line comment of its own. */
export function hasNoTransactionMarker(sql: string): boolean {
  return /^[ \t]*--[ \t]*caracal:no-transaction[ \t]*$/m.test(sql);
}

/** What runs and what a checksum covers: the content with a leading BOM dropped and CRLF/CR line endings made LF. */
export function normalizeSql(raw: string): string {
  return raw.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}
