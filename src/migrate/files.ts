// Discovers migration files: the filename grammar (common/migration-files.ts), ConfigMap-mount tolerance, content
// checks and checksums.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { classifyFilename, hasNoTransactionMarker } from '../../common/migration-files';
import { ConfigError, UnsafeFilenameError } from './errors';
import { hasStatement, splitStatements, SqlStatement } from './sql-scanner';

export interface MigrationFile {
  /** Numeric version (leading zeros do not count: 0002 and 00002 are the same version). */
  readonly version: bigint;
  /** The name part after the version: `baseline` for `0001_baseline.up.sql`. */
  readonly name: string;
  /** The file name as found in the directory. */
  readonly filename: string;
  /** Absolute path of the file as read (after following an in-directory symlink). */
  readonly path: string;
  /** Content after normalizing line endings and a leading BOM (this is what runs). */
  readonly sql: string;
  /** SHA-256 hex of `sql`. */
  readonly checksum: string;
  /** `-- caracal:no-transaction`: statements run one by one outside a transaction. */
  readonly noTransaction: boolean;
  /** Split on first use: a run reads every file (checksums) but only splits the ones it applies. */
  readonly statements: readonly SqlStatement[];
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** SHA-256 of the content after normalizing CRLF/CR to LF and dropping a leading BOM. */
export function normalizeSql(raw: string): string {
  return raw.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

export function checksumOf(normalizedSql: string): string {
  return createHash('sha256').update(normalizedSql, 'utf8').digest('hex');
}

/**
 * Read and check every migration in `dir`, sorted by version. Throws UnsafeFilenameError for the first
 * refused entry (all refusals are listed in its message) and ConfigError when the directory is unusable.
 */
export function discoverMigrations(dir: string): MigrationFile[] {
  let realDir: string;
  try {
    realDir = realpathSync.native(dir);
    if (!statSync(realDir).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw new ConfigError(
      `--dir ${JSON.stringify(dir)}: not a readable directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      'the migrations directory: pass --dir, or run from the project root where migrations/ is',
    );
  }
  const problems: Array<{ file: string; reason: string }> = [];
  const files: MigrationFile[] = [];
  for (const dirent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const entry = dirent.name;
    const verdict = classifyFilename(entry);
    if (verdict.kind === 'ignored') continue;
    if (verdict.kind === 'refused') {
      problems.push({ file: entry, reason: verdict.reason });
      continue;
    }
    const full = path.join(dir, entry);
    let target = full;
    if (dirent.isSymbolicLink()) {
      // A ConfigMap mount: key -> ..data/key -> ..<timestamp>/key. Follow only while it stays inside.
      try {
        target = realpathSync.native(full);
      } catch {
        problems.push({ file: entry, reason: 'is a dangling symlink' });
        continue;
      }
      const rel = path.relative(realDir, target);
      if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
        problems.push({ file: entry, reason: `is a symlink leading outside the directory (to ${target})` });
        continue;
      }
      if (!statSync(target).isFile()) {
        problems.push({ file: entry, reason: 'is not a regular file' });
        continue;
      }
    } else if (!dirent.isFile()) {
      problems.push({ file: entry, reason: 'is not a regular file' });
      continue;
    }
    const bytes = readFileSync(target);
    let raw: string;
    try {
      raw = UTF8.decode(bytes);
    } catch {
      problems.push({ file: entry, reason: 'is not valid UTF-8' });
      continue;
    }
    const sql = normalizeSql(raw);
    if (!hasStatement(sql)) {
      problems.push({ file: entry, reason: sql.trim() === '' ? 'is empty' : 'has only comments (no SQL statement)' });
      continue;
    }
    let statements: SqlStatement[] | undefined;
    files.push({
      version: verdict.version,
      name: verdict.name,
      filename: entry,
      path: target,
      sql,
      checksum: checksumOf(sql),
      noTransaction: hasNoTransactionMarker(sql),
      get statements() {
        return (statements ??= splitStatements(sql));
      },
    });
  }
  files.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  for (let k = 1; k < files.length; k++) {
    if (files[k].version === files[k - 1].version) {
      problems.push({ file: files[k].filename, reason: `has the same version ${files[k].version} as ${files[k - 1].filename}` });
    }
  }
  if (problems.length > 0) {
    const first = problems[0];
    const err = new UnsafeFilenameError(first.file, first.reason);
    if (problems.length > 1) {
      err.message += `\n${problems
        .slice(1)
        .map((p) => `  also ${JSON.stringify(p.file)}: ${p.reason}`)
        .join('\n')}`;
    }
    throw err;
  }
  return files;
}
