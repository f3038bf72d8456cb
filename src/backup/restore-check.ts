// The restore check: restore a backup into a new database and prove that every domain the seed names came back
// whole, comparing the restored database with the manifest the backup wrote from its snapshot, then run verify.
// One verdict per domain (verify's CheckResult shape); never prints.
import path from 'node:path';
import type { Client } from 'pg';
import { connect } from '../migrate/connection';
import { result as check } from '../verify/check-support';
import { EXPECTED_TABLES } from '../verify/checks';
import { CheckResult, verifyWithClient } from '../verify';
import { BACKUP_LAYOUT } from '../../common/backup-script';
import { CatalogStats, compareFiles, DataStats, Manifest, TableStats } from './manifest';
import { ArchiveError, listArchive, restoreBackup, RestoreOptions } from './restore';
import { CATALOG_STATS_SQL, DATA_STATS_SQL, STATS_SESSION_SQL } from '../../common/backup-snapshot-stats';

/** The seed's restore list ("audit tables, admin audit tables, outboxes, agent/delegation state, gateway bindings, and key material references"). */
export const RESTORE_DOMAINS: ReadonlyArray<{ readonly id: string; readonly what: string; readonly tables: readonly string[] }> = [
  { id: 'admin-audit-events', what: 'admin audit table', tables: ['admin_audit_events'] },
  { id: 'outboxes', what: 'outboxes', tables: ['event_outbox', 'caracal_outbox'] },
  { id: 'agents-delegation', what: 'agent and delegation state', tables: EXPECTED_TABLES.Agents },
  { id: 'gateway-bindings', what: 'gateway bindings', tables: ['gateway_resource_bindings', 'gateway_binding_revision'] },
  { id: 'key-references', what: 'key material references', tables: ['zones', 'providers', 'provider_grants', 'admin_tokens'] },
];
/** Audit tables besides the partitions of audit_events. */
const AUDIT_TABLES = ['audit_export_watermark', 'audit_ingest_alerts'];

const FIRST = {
  files:
    'the backup files changed after the backup wrote them: copy the backup again from its source (the volume or the off-cluster copy), or use an older one',
  restore:
    'the pg_restore errors below (the first one is usually the cause): the restoring login, the roles, and the client major (--pg-bin) against the server',
  rows: 'the files line and the restore line first; a row count that differs from the manifest with intact files is a backup that was not taken from one snapshot',
  catalog:
    'the restore line first; then restore again as the owner login, in the documented order (docs/operations.md#1-postgres-and-runtime-secrets)',
  verify: 'the verify lines below name what is missing, in the words of the seed',
} as const;

export interface RestoreCheckOptions extends Omit<RestoreOptions, 'targetDatabase'> {
  /** Database to restore into. */
  readonly targetDatabase: string;
  /** Drop the target database after the check (a scratch database). @default false */
  readonly dropAfter?: boolean;
  /** Migrations directory for verify's history check (skipped without it). */
  readonly migrationsDir?: string;
  /** The access matrix file verify checks against (default: the built-in copy). */
  readonly accessMatrixFile?: string;
}

export interface RestoreCheckReport {
  readonly ok: boolean;
  readonly backup: string;
  readonly database: string;
  readonly restoreMs: number;
  readonly checks: readonly CheckResult[];
  readonly warnings: readonly string[];
}

/** Restores into `targetDatabase` and checks every domain. Throws only for a precondition (cannot connect or create). */
export async function restoreAndCheck(o: RestoreCheckOptions): Promise<RestoreCheckReport> {
  const say = o.onEvent ?? (() => undefined);
  const checks: CheckResult[] = [];
  checks.push(await checkFiles(o.backupDir, o.manifest, o.pgBin));
  try {
    await listArchive(path.join(o.backupDir, BACKUP_LAYOUT.dump), o.pgBin);
  } catch (e) {
    if (!(e instanceof ArchiveError)) throw e;
    checks.push(check('restore', [e.message], '', 'the archive cannot be read: nothing was restored', FIRST.restore));
    return { ok: false, backup: o.manifest.name, database: o.targetDatabase, restoreMs: 0, checks, warnings: [] };
  }
  try {
    return await restoreThenCompare(o, checks, say);
  } finally {
    if (o.dropAfter) {
      const admin = await connect(o.connection);
      try {
        say(`dropping the scratch database ${o.targetDatabase}`);
        await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(o.targetDatabase)} WITH (FORCE)`);
      } finally {
        await admin.end().catch(() => undefined);
      }
    }
  }
}

async function restoreThenCompare(o: RestoreCheckOptions, checks: CheckResult[], say: (m: string) => void): Promise<RestoreCheckReport> {
  const outcome = await restoreBackup({ ...o });
  checks.push(
    check(
      'restore',
      outcome.errors.slice(0, 20).concat(outcome.errors.length > 20 ? [`... ${outcome.errors.length - 20} more`] : []),
      `pg_restore restored every entry as ${o.connection.user}${outcome.superuser ? ' (superuser)' : ' (not a superuser)'} in ${(outcome.restoreMs / 1000).toFixed(1)} s`,
      'pg_restore reported {n} error(s)',
      FIRST.restore,
      [...outcome.warnings],
    ),
  );
  const target = { ...o.connection, database: o.targetDatabase };
  Object.defineProperty(target, 'password', { value: o.connection.password, enumerable: false });
  const client = await connect(target);
  try {
    say('reading the restored database (the same statements the backup ran on its snapshot)');
    const restored = await readStats(client, outcome.superuser);
    checks.push(...compareStats(o.manifest, restored));
    say('verify');
    const report = await verifyWithClient(client, { dir: o.migrationsDir, accessMatrixFile: o.accessMatrixFile });
    const line = (c: CheckResult) => `${c.id}: ${c.summary}${c.details.length ? ` (${c.details.slice(0, 3).join('; ')})` : ''}`;
    // A check that fails only until the admin's step named in a warning is not the restore's failure: it is listed.
    const failed = report.checks.filter((c) => !c.ok);
    const pending = failed.filter((c) => outcome.pendingChecks.includes(c.id));
    checks.push(
      check(
        'verify',
        failed.filter((c) => !pending.includes(c)).map(line),
        pending.length
          ? `${report.checks.length - pending.length} of ${report.checks.length} verify checks pass on the restored database; ${pending.map((c) => c.id).join(', ')} wait for the superuser step in the warnings`
          : `all ${report.checks.length} verify checks pass on the restored database`,
        '{n} verify check(s) fail on the restored database',
        FIRST.verify,
        pending.map((c) => `until the warning's step is done: ${line(c)}`),
      ),
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  return {
    ok: checks.every((c) => c.ok),
    backup: o.manifest.name,
    database: o.targetDatabase,
    restoreMs: outcome.restoreMs,
    checks,
    warnings: outcome.warnings,
  };
}

/** Checksums of every file, a damaged data file named by the table it holds. */
export async function checkFiles(backupDir: string, manifest: Manifest, pgBin?: string): Promise<CheckResult> {
  const problems = await compareFiles(backupDir, manifest.files);
  const details: string[] = [];
  if (problems.length > 0) {
    // Data files are <dumpId>.dat[.gz|.lz4|.zst]; the archive's list says which table each holds.
    let byId = new Map<number, string>();
    try {
      byId = new Map((await listArchive(path.join(backupDir, BACKUP_LAYOUT.dump), pgBin)).map((e) => [e.id, e.line]));
    } catch {
      // toc.dat itself is damaged: the file names are all there is.
    }
    for (const p of problems) {
      const id = /^db\/(\d+)\.dat/.exec(p.path)?.[1];
      const entry = id ? byId.get(Number(id)) : undefined;
      const table = entry ? /TABLE DATA \S+ (\S+)/.exec(entry)?.[1] : undefined;
      details.push(`${p.path}${table ? ` (rows of ${table})` : ''}: ${p.problem}`);
    }
  }
  return check(
    'files',
    details,
    `all ${manifest.files.length} files match the manifest's checksums (${manifest.bytes} bytes)`,
    '{n} file(s) differ from the manifest',
    FIRST.files,
  );
}

export interface RestoredStats {
  readonly catalog: CatalogStats;
  readonly data: DataStats;
}

/**
 * The backup's statements on the restored database. Counting needs every row: a superuser sees them; the owner
 * login is subject to its own forced RLS, so it drops FORCE in a transaction that is rolled back (nothing persists).
 */
export async function readStats(client: Client, superuser: boolean): Promise<RestoredStats> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  let catalog: CatalogStats;
  try {
    for (const s of STATS_SESSION_SQL) await client.query(s);
    catalog = (await client.query(CATALOG_STATS_SQL)).rows[0].stats;
  } finally {
    await client.query('ROLLBACK');
  }
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = '30s'`);
    if (!superuser) {
      for (const [name, r] of Object.entries(catalog.relations)) {
        if (r.forceRowSecurity) await client.query(`ALTER TABLE public.${client.escapeIdentifier(name)} NO FORCE ROW LEVEL SECURITY`);
      }
    }
    for (const s of STATS_SESSION_SQL) await client.query(s);
    const data: DataStats = (await client.query(DATA_STATS_SQL)).rows[0].stats;
    return { catalog, data };
  } finally {
    await client.query('ROLLBACK');
  }
}

/** Partitions of audit_events (recursively) in a catalog. */
function auditPartitions(catalog: CatalogStats): string[] {
  const out: string[] = [];
  const walk = (parent: string) => {
    for (const [name, r] of Object.entries(catalog.relations)) {
      if (r.parent === parent) {
        out.push(name);
        walk(name);
      }
    }
  };
  walk('audit_events');
  return out.sort();
}

function compareTables(
  tables: readonly string[],
  backup: DataStats,
  restored: DataStats,
): { problems: string[]; rows: number; clocks: Set<string> } {
  const problems: string[] = [];
  const clocks = new Set<string>();
  let rows = 0;
  for (const t of tables) {
    const b: TableStats | undefined = backup.tables[t];
    const r: TableStats | undefined = restored.tables[t];
    if (!b) continue; // a partitioned parent, or a table the backup did not have (reported by the catalog lines)
    rows += b.rows;
    if (b.clock) clocks.add(b.clock.column);
    if (!r) {
      problems.push(`public.${t}: missing after the restore (the backup has ${b.rows} rows)`);
      continue;
    }
    if (r.rows !== b.rows) problems.push(`public.${t}: ${r.rows} rows, the backup has ${b.rows}`);
    else if (r.fingerprint !== b.fingerprint) problems.push(`public.${t}: ${r.rows} rows as in the backup, but their contents differ`);
    if (b.clock && r.clock && (b.clock.min !== r.clock.min || b.clock.max !== r.clock.max || b.clock.sum !== r.clock.sum)) {
      problems.push(
        `public.${t}: ${b.clock.column} changed in the restore (backup ${b.clock.min} .. ${b.clock.max}, restored ${r.clock.min} .. ${r.clock.max}): restored rows were rewritten`,
      );
    }
  }
  return { problems, rows, clocks };
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** What differs between two values: for lists, the entries only one side has; otherwise both values. */
function describeDifference(a: unknown, b: unknown): string {
  if (Array.isArray(a) && Array.isArray(b)) {
    const lost = a.filter((x) => !b.includes(x));
    const gained = b.filter((x) => !a.includes(x));
    return (
      [lost.length ? `lost ${lost.join(', ')}` : '', gained.length ? `gained ${gained.join(', ')}` : ''].filter(Boolean).join('; ') ||
      'order differs'
    );
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
      (k) => JSON.stringify((a as Record<string, unknown>)[k]) !== JSON.stringify((b as Record<string, unknown>)[k]),
    );
    return keys.map((k) => `${k}: ${describeDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])}`).join('; ');
  }
  return `backup ${JSON.stringify(a)}, restored ${JSON.stringify(b)}`;
}

function diffRecords<T>(what: string, backup: Readonly<Record<string, T>>, restored: Readonly<Record<string, T>>): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(backup)) {
    if (!(k in restored)) problems.push(`${what} ${k}: missing after the restore`);
    else if (JSON.stringify(v) !== JSON.stringify(restored[k])) problems.push(`${what} ${k}: ${describeDifference(v, restored[k])}`);
  }
  for (const k of Object.keys(restored)) if (!(k in backup)) problems.push(`${what} ${k}: not in the backup`);
  return problems;
}

/** Every domain line after files and restore: the seed's domains, then the catalog, then the database's own settings. */
export function compareStats(manifest: Manifest, restored: RestoredStats): CheckResult[] {
  const b = manifest.data;
  const r = restored.data;
  const out: CheckResult[] = [];
  const covered = new Set<string>();

  const partitions = auditPartitions(manifest.catalog);
  const audit = compareTables([...partitions, ...AUDIT_TABLES], b, r);
  partitions.concat(AUDIT_TABLES).forEach((t) => covered.add(t));
  out.push(
    check(
      'audit-events',
      audit.problems,
      `audit_events: ${audit.rows} rows in ${partitions.length} partitions (and ${AUDIT_TABLES.join(', ')}) equal the backup, row by row; ingested_at unchanged`,
      '{n} audit table(s) differ from the backup',
      FIRST.rows,
    ),
  );

  const bParts = Object.fromEntries(partitions.map((p) => [p, manifest.catalog.relations[p].bound]));
  const restoredParts = auditPartitions(restored.catalog);
  const rParts = Object.fromEntries(restoredParts.map((p) => [p, restored.catalog.relations[p].bound]));
  const partProblems = diffRecords('partition', bParts, rParts);
  if (!restoredParts.some((p) => rParts[p] === 'DEFAULT')) partProblems.push('audit_events has no DEFAULT partition after the restore');
  out.push(
    check(
      'audit-partitions',
      partProblems,
      `${restoredParts.length} partitions of audit_events attached with the backup's bounds, the DEFAULT partition among them`,
      '{n} audit partition problem(s)',
      FIRST.catalog,
    ),
  );

  for (const d of RESTORE_DOMAINS) {
    const res = compareTables(d.tables, b, r);
    d.tables.forEach((t) => covered.add(t));
    const notes: string[] = [];
    if (d.id === 'key-references') {
      res.problems.push(...diffRecords('key reference', b.keyReferences ?? {}, r.keyReferences ?? {}));
      for (const [col, ids] of Object.entries(b.keyReferences ?? {}))
        for (const [id, n] of Object.entries(ids)) notes.push(`${col} = ${id} (${plural(n, 'row')})`);
    }
    const clock = [...res.clocks].map((c) => `; ${c} unchanged`).join('');
    out.push(
      check(
        d.id,
        res.problems,
        `${d.tables.join(', ')}: ${plural(res.rows, 'row')} equal the backup, row by row${clock}${d.id === 'key-references' ? `; ${notes.length} distinct key id(s)/reference(s) as in the backup` : ''}`,
        `{n} problem(s) in the ${d.what}`,
        FIRST.rows,
        notes,
      ),
    );
  }

  const rest = Object.keys(b.tables)
    .filter((t) => !covered.has(t))
    .sort();
  const other = compareTables(rest, b, r);
  for (const t of Object.keys(r.tables)) if (!(t in b.tables)) other.problems.push(`public.${t}: not in the backup`);
  out.push(
    check(
      'other-tables',
      other.problems,
      `${plural(rest.length, 'other table')} (product model, authority, policy, rate limits, schema_migrations): ${plural(other.rows, 'row')} equal the backup`,
      '{n} other table(s) differ from the backup',
      FIRST.rows,
    ),
  );

  const migrations =
    JSON.stringify(b.schemaMigrations) === JSON.stringify(r.schemaMigrations)
      ? []
      : [
          `backup: ${(b.schemaMigrations ?? []).map((m) => `${m.version}:${m.name}`).join(', ') || 'none'}; restored: ${(r.schemaMigrations ?? []).map((m) => `${m.version}:${m.name}`).join(', ') || 'none'}`,
        ];
  out.push(
    check(
      'schema-migrations',
      migrations,
      `schema_migrations equal the backup (${(b.schemaMigrations ?? []).map((m) => m.version).join(', ')})`,
      'schema_migrations differ from the backup',
      FIRST.rows,
    ),
  );

  const seqProblems: string[] = [];
  for (const [name, s] of Object.entries(b.sequences)) {
    const now = r.sequences[name];
    if (!now) {
      seqProblems.push(`sequence ${name}: missing after the restore`);
      continue;
    }
    const max = now.maxValue === null ? null : BigInt(now.maxValue);
    const last = now.lastValue === null ? null : BigInt(now.lastValue);
    if (max !== null && (last === null || last < max))
      seqProblems.push(
        `sequence ${name} of ${s.table}.${s.column}: at ${now.lastValue ?? 'its start'}, below max(${s.column}) = ${now.maxValue}: the next insert would collide`,
      );
    if (s.lastValue !== null && (last === null || last < BigInt(s.lastValue)))
      seqProblems.push(`sequence ${name}: at ${now.lastValue ?? 'its start'}, the backup had ${s.lastValue}`);
  }
  out.push(
    check(
      'sequences',
      seqProblems,
      `${plural(Object.keys(b.sequences).length, 'identity sequence')} at or above max(id), as in the backup`,
      '{n} sequence problem(s)',
      FIRST.catalog,
    ),
  );

  const bc = manifest.catalog;
  const rc = restored.catalog;
  const rls = (c: CatalogStats) =>
    Object.fromEntries(
      Object.entries(c.relations).map(([n, x]) => [n, `${x.rowSecurity ? 'enabled' : 'disabled'}${x.forceRowSecurity ? '+forced' : ''}`]),
    );
  const integrity = [
    ...diffRecords('trigger', bc.triggers, rc.triggers),
    ...diffRecords('row security of', rls(bc), rls(rc)),
    ...diffRecords('policy', bc.policies, rc.policies),
  ];
  const always = Object.values(bc.triggers).filter((t) => t.enabled === 'A').length;
  const forced = Object.values(bc.relations).filter((x) => x.forceRowSecurity).length;
  out.push(
    check(
      'integrity-controls',
      integrity,
      `${plural(Object.keys(bc.triggers).length, 'trigger')} (${always} ENABLE ALWAYS), forced RLS on ${plural(forced, 'table')} and ${`${Object.keys(bc.policies).length} policies`} as in the backup`,
      '{n} trigger, row-security or policy difference(s)',
      FIRST.catalog,
    ),
  );

  const grants = (c: CatalogStats) =>
    Object.fromEntries(Object.entries(c.relations).map(([n, x]) => [n, { owner: x.owner, grants: x.grants }]));
  out.push(
    check(
      'grants-ownership',
      [...diffRecords('relation', grants(bc), grants(rc)), ...diffRecords('function', bc.functions, rc.functions)],
      `owners and grants (the access matrix, column grants included) of ${plural(Object.keys(bc.relations).length, 'relation')} and ${plural(Object.keys(bc.functions).length, 'function')} as in the backup`,
      '{n} owner or grant difference(s)',
      FIRST.catalog,
    ),
  );

  const fk = diffRecords('foreign key', bc.foreignKeys, rc.foreignKeys);
  for (const [k, v] of Object.entries(rc.foreignKeys)) if (!v.validated) fk.push(`foreign key ${k}: not validated`);
  out.push(
    check(
      'foreign-keys',
      [...new Set(fk)],
      `all ${Object.keys(bc.foreignKeys).length} foreign keys present and validated`,
      '{n} foreign key problem(s)',
      FIRST.catalog,
    ),
  );

  const dbProblems = [
    ...diffRecords('database grants', { grants: [...bc.database.grants].sort() }, { grants: [...rc.database.grants].sort() }),
    ...diffRecords('per-role setting of', bc.database.roleSettings, rc.database.roleSettings),
  ];
  out.push(
    check(
      'database-privileges',
      dbProblems,
      `database privileges as in the backup: ${bc.database.grants.join(', ') || 'none besides the owner'}; PUBLIC ${bc.database.grants.some((g) => g.startsWith('PUBLIC=')) ? 'as recorded' : 'has neither CONNECT nor TEMPORARY'}`,
      '{n} database privilege difference(s)',
      FIRST.catalog,
    ),
  );
  return out;
}
