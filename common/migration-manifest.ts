// The checksum manifest the migration Job's chart ships beside the migration files (like Atlas's atlas.sum): the
// SHA-256 of each file's normalized SQL (normalizeSql), then a SHA-256 of that list, so a damaged or hand-edited
// manifest is refused rather than trusted. `caracal-migrate up` compares an applied file's recorded checksum with the
// manifest's instead of reading the file, and reads only the files it applies (checking each against the manifest).
// Generated at synth by the MigrationJob construct from the bytes it ships; the hash function is passed in, since
// this folder imports nothing.
import { MIGRATION_FILENAME } from './migration-files';

/** The manifest's key in the migrations ConfigMap (a dot entry: runners that predate it skip it like `..data`). */
export const MANIFEST_FILENAME = '.caracal-migrate.sum';

const HEADER = 'caracal-migrate checksums v1';
const HEX64 = /^[0-9a-f]{64}$/;

/** SHA-256 of a UTF-8 string, as lower-case hex. */
export type Sha256Hex = (text: string) => string;

export interface ManifestEntry {
  readonly filename: string;
  /** SHA-256 hex of the file's normalized SQL: the checksum the runner records in public.schema_migrations. */
  readonly checksum: string;
}

function entryLines(entries: readonly ManifestEntry[]): string {
  return entries.map((e) => `${e.checksum}  ${e.filename}\n`).join('');
}

/** The manifest's text. Entries sorted by file name, so the same files give byte-identical output. */
export function renderManifest(entries: readonly ManifestEntry[], sha256: Sha256Hex): string {
  const sorted = [...entries].sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  const body = entryLines(sorted);
  return `${HEADER}\nsum ${sha256(body)}\n${body}`;
}

export type ParsedManifest = { readonly entries: ReadonlyMap<string, string> } | { readonly problems: readonly string[] };

/** Parse and check a manifest: its header, every line, and its own sum. Every problem is listed. */
export function parseManifest(text: string, sha256: Sha256Hex): ParsedManifest {
  const problems: string[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== HEADER) problems.push(`line 1 is ${JSON.stringify(lines[0] ?? '')}, expected ${JSON.stringify(HEADER)}`);
  const sum = /^sum ([0-9a-f]{64})$/.exec(lines[1] ?? '');
  if (!sum) problems.push(`line 2 is ${JSON.stringify(lines[1] ?? '')}, expected "sum <64 hex digits>"`);
  const entries = new Map<string, string>();
  for (let i = 2; i < lines.length; i++) {
    const [checksum, filename, ...rest] = lines[i].split('  ');
    if (rest.length > 0 || filename === undefined || !HEX64.test(checksum) || !MIGRATION_FILENAME.test(filename)) {
      problems.push(`line ${i + 1} is ${JSON.stringify(lines[i])}, expected "<64 hex digits>  NNNN_name.up.sql"`);
    } else if (entries.has(filename)) {
      problems.push(`line ${i + 1} lists ${filename} a second time`);
    } else {
      entries.set(filename, checksum);
    }
  }
  if (sum && problems.length === 0 && sha256(`${lines.slice(2).join('\n')}${lines.length > 2 ? '\n' : ''}`) !== sum[1]) {
    problems.push(`its sum ${sum[1].slice(0, 12)}… does not match its entries: the manifest was edited or damaged after synth`);
  }
  return problems.length > 0 ? { problems } : { entries };
}
