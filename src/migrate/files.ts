// Discovers migration files: the filename grammar (common/migration-files.ts), ConfigMap-mount tolerance, content
// checks and checksums, and for `up` the checksum manifest (common/migration-manifest.ts) that spares it reading
// applied files.
import * as crypto from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { classifyFilename, hasNoTransactionMarker, normalizeSql } from '../../common/migration-files';
import { MANIFEST_FILENAME, parseManifest } from '../../common/migration-manifest';
import { ChecksumManifestError, ConfigError, UnsafeFilenameError } from './errors';
import { hasStatement, splitStatements, SqlStatement } from './sql-scanner';

export { normalizeSql };

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
  /** SHA-256 hex of `sql` (with a manifest, the manifest's entry until the file is read and checked against it). */
  readonly checksum: string;
  /** `-- caracal:no-transaction`: statements run one by one outside a transaction. */
  readonly noTransaction: boolean;
  /** Split on first use: a run reads every file (checksums) but only splits the ones it applies. */
  readonly statements: readonly SqlStatement[];
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

// crypto.hash (Node 20.12+) hashes in one call; the Job runs on the user's Node 20, which may be older.
const oneShot = (crypto as { hash?: typeof crypto.hash }).hash;

export function checksumOf(normalizedSql: string): string {
  return oneShot ? oneShot('sha256', normalizedSql, 'hex') : crypto.createHash('sha256').update(normalizedSql, 'utf8').digest('hex');
}

/** What discovery found: the files, and whether their checksums came from the directory's manifest. */
export interface Discovery {
  readonly files: MigrationFile[];
  /** The manifest's path when it was used (`up` with a manifest in the directory). */
  readonly manifest?: string;
  /** How many files were read (with a manifest: those not in it; the rest are read when applied). */
  readonly read: number;
}

/**
 * Read and check every migration in `dir`, sorted by version. Throws UnsafeFilenameError for the first
 * refused entry (all refusals are listed in its message) and ConfigError when the directory is unusable.
 * `validate`, `verify`, `status` and the other readers use this: every file is read and its checksum computed.
 */
export function discoverMigrations(dir: string): MigrationFile[] {
  return discover(dir, false).files;
}

/**
 * `up`'s discovery. With a checksum manifest in `dir` (the Job's migrations ConfigMap has one), a file listed in it is
 * not read: its checksum is the manifest's, and its SQL is read on first use (a file `up` applies), when a file whose
 * bytes differ from the manifest is refused (ChecksumManifestError). A damaged manifest, or one that disagrees with the
 * directory, is refused before anything connects. Without a manifest, every file is read as discoverMigrations does.
 */
export function discoverMigrationsForUp(dir: string): Discovery {
  return discover(dir, true);
}

/**
 * Read the files `up` is about to apply (or adopt), so a file that differs from the manifest or is unreadable stops
 * the run before anything changes, with every problem listed. A no-op for files already read.
 */
export function loadMigrationSql(files: readonly MigrationFile[], discovery: Discovery): void {
  const problems: string[] = [];
  let first: unknown;
  for (const f of files) {
    try {
      void f.sql;
    } catch (e) {
      first ??= e;
      problems.push(...(e instanceof ChecksumManifestError ? e.problems : [(e as Error).message]));
    }
  }
  if (problems.length === 1) throw first;
  if (problems.length > 1) throw new ChecksumManifestError(discovery.manifest ?? MANIFEST_FILENAME, problems);
}

type Entry = { readonly dirent: Dirent; readonly version: bigint; readonly name: string };
type Problem = { readonly file: string; readonly reason: string };
type Content = { sql: string; path: string } | { reason: string };

/** How many files `up` reads between two yields to the event loop, while its connection is being opened. */
const FILES_PER_YIELD = 32;

function discover(dir: string, useManifest: boolean): Discovery {
  return finish(discovering(dir, useManifest));
}

/** Run a discovery's remaining steps at once. */
function finish(steps: Generator<Step, Discovery>): Discovery {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * discoverMigrationsForUp in two steps, so that reading the files overlaps opening the connection (a no-op run with
 * 1,000 files reads them while the server starts its backend and authenticates). The names and the manifest are
 * checked before this returns: when any is refused, or two files share a version, the whole discovery runs now and
 * its error is thrown here, before anything connects. Otherwise the returned function reads the files, yielding to the
 * event loop every FILES_PER_YIELD files, and resolves or rejects exactly as discoverMigrationsForUp would.
 */
export function beginDiscoveryForUp(dir: string): () => Promise<Discovery> {
  const steps = discovering(dir, true);
  if (steps.next().value !== 'names-accepted') {
    const discovery = finish(steps);
    return () => Promise.resolve(discovery);
  }
  return async () => {
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
}

/**
 * 'names-accepted' or 'names-refused' once every name and the manifest are checked (nothing is read yet), then
 * 'read' every FILES_PER_YIELD files read.
 */
type Step = 'names-accepted' | 'names-refused' | 'read';

/** The discovery as steps (see Step): it returns the Discovery or throws its errors at the end, as one run would. */
function* discovering(dir: string, useManifest: boolean): Generator<Step, Discovery> {
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
  const manifestPath = path.join(dir, MANIFEST_FILENAME);
  const manifest = useManifest ? readManifest(manifestPath) : undefined;
  // Every entry in name order: a migration file, or a name refused as it is.
  const entries: Array<Entry | Problem> = [];
  for (const dirent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const verdict = classifyFilename(dirent.name);
    if (verdict.kind === 'refused') entries.push({ file: dirent.name, reason: verdict.reason });
    else if (verdict.kind === 'migration') entries.push({ dirent, version: verdict.version, name: verdict.name });
  }
  // The files the manifest lists that are not in the directory (each entry ends among the files or the problems).
  const names = new Set(entries.map((e) => ('reason' in e ? e.file : e.dirent.name)));
  const absent = manifest ? [...manifest.keys()].filter((f) => !names.has(f)) : [];
  yield namesAccepted(entries) && absent.length === 0 ? 'names-accepted' : 'names-refused';
  const problems: Problem[] = [];
  const files: MigrationFile[] = [];
  let read = 0;
  // path.join(dir, name) for a valid file name (no separator, no dot segment), without normalizing each path.
  const prefix = path.join(dir, '_').slice(0, -1);
  for (const entry of entries) {
    if ('reason' in entry) {
      problems.push(entry);
      continue;
    }
    const listed = manifest?.get(entry.dirent.name);
    if (listed !== undefined) {
      files.push(manifestFile(prefix, realDir, entry, listed, manifestPath));
      continue;
    }
    read++;
    const content = readContent(prefix, realDir, entry.dirent);
    if ('reason' in content) problems.push({ file: entry.dirent.name, reason: content.reason });
    else files.push(readFile(entry, content));
    if (read % FILES_PER_YIELD === 0) yield 'read';
  }
  if (absent.length > 0) {
    throw new ChecksumManifestError(
      manifestPath,
      absent.map((f) => `it lists ${f}, which is not in the directory: the manifest belongs to another set of files`),
    );
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
  return { files, read, ...(manifest ? { manifest: manifestPath } : {}) };
}

/** No refused name and no two files with one version. */
function namesAccepted(entries: ReadonlyArray<Entry | Problem>): boolean {
  const versions = new Set<bigint>();
  for (const entry of entries) {
    if ('reason' in entry || versions.has(entry.version)) return false;
    versions.add(entry.version);
  }
  return true;
}

/** The manifest's checksums by file name; undefined when the directory has none. */
function readManifest(manifestPath: string): ReadonlyMap<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ChecksumManifestError(manifestPath, [`it cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
  }
  const parsed = parseManifest(text, checksumOf);
  if ('problems' in parsed) throw new ChecksumManifestError(manifestPath, parsed.problems);
  return parsed.entries;
}

/**
 * Read one directory entry, following an in-directory symlink (a ConfigMap mount), and check its content. `prefix`
 * is the directory's path with a trailing separator.
 */
function readContent(prefix: string, realDir: string, dirent: Dirent): Content {
  const full = prefix + dirent.name;
  let target = full;
  if (dirent.isSymbolicLink()) {
    // A ConfigMap mount: key -> ..data/key -> ..<timestamp>/key. Follow only while it stays inside.
    try {
      target = realpathSync.native(full);
    } catch {
      return { reason: 'is a dangling symlink' };
    }
    const rel = path.relative(realDir, target);
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
      return { reason: `is a symlink leading outside the directory (to ${target})` };
    }
    if (!statSync(target).isFile()) return { reason: 'is not a regular file' };
  } else if (!dirent.isFile()) {
    return { reason: 'is not a regular file' };
  }
  const sql = readSql(target);
  if (sql === undefined) return { reason: 'is not valid UTF-8' };
  if (!hasStatement(sql)) return { reason: sql.trim() === '' ? 'is empty' : 'has only comments (no SQL statement)' };
  return { sql, path: target };
}

/**
 * The file's SQL as it runs: its strict UTF-8 decoding, normalized (normalizeSql); undefined when it is not valid
 * UTF-8 or cannot be read. Most files are UTF-8 with LF line endings and no BOM: for them one native call reads the
 * text, and normalizing would change nothing. The decoder of that call replaces invalid bytes with U+FFFD, so a file
 * with U+FFFD, a CR or a leading BOM takes the strict decoder's path.
 */
function readSql(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    if (text.charCodeAt(0) !== 0xfeff && !text.includes('\r') && !text.includes('\ufffd')) return text;
    return normalizeSql(UTF8.decode(readFileSync(file)));
  } catch {
    return undefined;
  }
}

function readFile(entry: Entry, content: { sql: string; path: string }): MigrationFile {
  let statements: SqlStatement[] | undefined;
  let noTransaction: boolean | undefined;
  const { sql } = content;
  return {
    version: entry.version,
    name: entry.name,
    filename: entry.dirent.name,
    path: content.path,
    sql,
    checksum: checksumOf(sql),
    get noTransaction() {
      return (noTransaction ??= hasNoTransactionMarker(sql));
    },
    get statements() {
      return (statements ??= splitStatements(sql));
    },
  };
}

/** A file listed in the manifest: its checksum is the manifest's; the file is read, and checked against it, on first use. */
function manifestFile(prefix: string, realDir: string, entry: Entry, checksum: string, manifestPath: string): MigrationFile {
  let file: MigrationFile | undefined;
  const load = (): MigrationFile => {
    if (file) return file;
    const content = readContent(prefix, realDir, entry.dirent);
    if ('reason' in content) throw new UnsafeFilenameError(entry.dirent.name, content.reason);
    const read = readFile(entry, content);
    if (read.checksum !== checksum) {
      throw new ChecksumManifestError(manifestPath, [
        `${entry.dirent.name} has checksum ${read.checksum.slice(0, 12)}… but the manifest lists ${checksum.slice(0, 12)}…: the file was changed after synth`,
      ]);
    }
    return (file = read);
  };
  return {
    version: entry.version,
    name: entry.name,
    filename: entry.dirent.name,
    checksum,
    get path() {
      return load().path;
    },
    get sql() {
      return load().sql;
    },
    get noTransaction() {
      return load().noTransaction;
    },
    get statements() {
      return load().statements;
    },
  };
}
