// manifest.json, written by the backup script beside each backup: its shape, read and checked field by field, and
// the files' checksums compared with what is on disk. Names only, never a secret (the backup has no password).
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../migrate/errors';
import { readJsonFile } from '../migrate/json-file';
import { BACKUP_LAYOUT, MANIFEST_FORMAT } from '../../common/backup-script';

export interface RelationStats {
  readonly kind: string;
  readonly owner: string;
  readonly parent: string | null;
  readonly bound: string | null;
  readonly rowSecurity: boolean;
  readonly forceRowSecurity: boolean;
  readonly grants: readonly string[];
}

export interface CatalogStats {
  readonly relations: Readonly<Record<string, RelationStats>>;
  readonly triggers: Readonly<Record<string, { readonly enabled: string; readonly definition: string }>>;
  readonly policies: Readonly<Record<string, Record<string, unknown>>>;
  readonly foreignKeys: Readonly<Record<string, { readonly definition: string; readonly validated: boolean }>>;
  readonly functions: Readonly<Record<string, { readonly owner: string; readonly grants: readonly string[] }>>;
  readonly database: {
    readonly name: string;
    readonly owner: string;
    readonly encoding: string;
    readonly grants: readonly string[];
    readonly roleSettings: Readonly<Record<string, readonly string[]>>;
  };
  readonly roles: Readonly<
    Record<
      string,
      { readonly login: boolean; readonly inherit: boolean; readonly bypassRls: boolean; readonly memberOf: readonly string[] }
    >
  >;
}

export interface TableStats {
  readonly rows: number;
  readonly fingerprint: string;
  readonly clock?: { readonly column: string; readonly min: string | null; readonly max: string | null; readonly sum: string };
}

export interface DataStats {
  readonly tables: Readonly<Record<string, TableStats>>;
  /** `table.column` -> distinct key id / reference -> rows. */
  readonly keyReferences: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly sequences: Readonly<
    Record<string, { readonly table: string; readonly column: string; readonly lastValue: string | null; readonly maxValue: string | null }>
  >;
  readonly schemaMigrations: ReadonlyArray<{ readonly version: string; readonly name: string; readonly checksum: string | null }> | null;
}

export interface ManifestFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly name: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly database: string;
  readonly role: string;
  readonly pgDump: string;
  readonly jobs: number;
  readonly compress: string;
  readonly dumpMs: number;
  readonly bytes: number;
  readonly redis: { readonly copied: boolean; readonly file?: string } | null;
  readonly catalog: CatalogStats;
  readonly data: DataStats;
  readonly files: readonly ManifestFile[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads `<dir>/manifest.json`; a missing, unreadable or malformed manifest is a ConfigError naming every problem. */
export function readManifest(dir: string): Manifest {
  const file = path.join(dir, BACKUP_LAYOUT.manifest);
  const parsed = readJsonFile(
    file,
    'backup manifest',
    'the backup directory: each finished backup is <root>/<YYYYMMDDTHHMMSSZ>/ with manifest.json, db/ and globals.sql (docs/operations.md#restore)',
  );
  const problems: string[] = [];
  const m = parsed as Record<string, unknown>;
  if (!isObject(m)) problems.push('is not a JSON object');
  else {
    if (m.format !== MANIFEST_FORMAT) problems.push(`format is ${JSON.stringify(m.format)}, expected "${MANIFEST_FORMAT}"`);
    for (const key of ['name', 'database', 'role', 'startedAt', 'finishedAt'])
      if (typeof m[key] !== 'string' || m[key] === '') problems.push(`${key} must be a non-empty string`);
    if (!isObject(m.catalog) || !isObject(m.catalog.relations) || !isObject(m.catalog.database))
      problems.push('catalog must hold relations and database');
    if (!isObject(m.data) || !isObject(m.data.tables)) problems.push('data must hold tables');
    if (!Array.isArray(m.files) || m.files.length === 0) problems.push('files must list the backup files');
    else
      m.files.forEach((f: unknown, i: number) => {
        const e = f as Record<string, unknown>;
        if (
          !isObject(e) ||
          typeof e.path !== 'string' ||
          e.path.startsWith('/') ||
          e.path.split('/').includes('..') ||
          typeof e.sha256 !== 'string' ||
          !/^[0-9a-f]{64}$/.test(e.sha256) ||
          typeof e.bytes !== 'number'
        )
          problems.push(`files[${i}] must be {path (relative), bytes, sha256 (64 hex)}`);
      });
  }
  if (problems.length > 0) {
    throw new ConfigError(
      `backup manifest ${file}: ${problems.length} problem(s): ${problems.join('; ')}`,
      `a manifest written by this version's backup CronJob ("${MANIFEST_FORMAT}")`,
    );
  }
  return parsed as Manifest;
}

/** SHA-256 of a file, streamed. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('error', reject)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** One problem per file whose size or checksum differs from the manifest, or that is missing. */
export async function compareFiles(dir: string, files: readonly ManifestFile[]): Promise<Array<{ path: string; problem: string }>> {
  const problems: Array<{ path: string; problem: string }> = [];
  for (const f of files) {
    const full = path.join(dir, f.path);
    let bytes: number;
    try {
      bytes = statSync(full).size;
    } catch {
      problems.push({ path: f.path, problem: 'missing' });
      continue;
    }
    if (bytes !== f.bytes) problems.push({ path: f.path, problem: `${bytes} bytes, the manifest says ${f.bytes}` });
    else if ((await sha256File(full)) !== f.sha256) problems.push({ path: f.path, problem: 'checksum differs from the manifest' });
  }
  return problems;
}
