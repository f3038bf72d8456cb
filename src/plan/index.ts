// `caracal-migrate plan` as a library: for the pending migration files, each statement with the table locks it
// takes (src/validate/locks.ts, the analysis validate's lock rules use), whether it scans or rewrites a table, how
// long it holds what it takes (a duration class), and the validate rules that refuse it. From the files alone, or
// with the database's table sizes for the duration class.
import type { MigrationFile } from '../migrate/files';
import { hasNoTransactionMarker } from '../../common/migration-files';
import { checkExpandOnly } from '../validate/expand-only';
import { blocksWrites, durationClass, lockStrength, statementEffect, TableEffect } from '../validate/locks';
import { parseSqlFile } from '../validate/parser';
import type { RuleId } from '../validate/rules';
import { SchemaState } from '../validate/schema-state';

/** Rows and bytes (table, indexes and TOAST; for a partitioned table, every partition) of a table in the database. */
export interface TableSize {
  readonly rows: number;
  readonly bytes: number;
}

export interface PlannedTable extends TableEffect {
  /** False when an earlier statement of the set creates it (nobody uses it yet). */
  readonly existing: boolean;
  readonly size?: TableSize;
}

export interface PlannedStatement {
  readonly line: number;
  /** The statement, on one line, shortened. */
  readonly sql: string;
  readonly tables: readonly PlannedTable[];
  /** CONCURRENTLY: blocks no traffic but waits for every older transaction. */
  readonly concurrent: boolean;
  /** A DO block or function call: what it locks is not known from the statement. */
  readonly opaque: boolean;
  /** From the work alone: instant, rows touched, table size, waits for older transactions, unknown. */
  readonly duration: string;
  /** With the database's sizes: the class of the heaviest read or rewrite (under a second .. hours). */
  readonly estimate?: string;
  /** Validate rules that refuse this statement. */
  readonly refusedBy: readonly RuleId[];
}

export interface PlannedFile {
  readonly filename: string;
  readonly version: bigint;
  /** One transaction for the whole file: every lock is held until it commits. */
  readonly transactional: boolean;
  readonly statements: readonly PlannedStatement[];
  readonly parseError?: string;
  /** The strongest lock the file holds until it commits (transactional files), per table. */
  readonly heldUntilCommit: ReadonlyArray<{ readonly table: string; readonly lock: string }>;
}

export interface LockPlanOptions {
  /** Every migration file, in version order (earlier ones give the schema context). */
  readonly files: readonly MigrationFile[];
  /** Which files to plan. */
  readonly pending: (f: MigrationFile) => boolean;
  /** Table sizes from the database, by `schema.table`. */
  readonly sizes?: ReadonlyMap<string, TableSize>;
}

/** Assumed read throughput for the estimate: a scan reads about this many bytes per second, a rewrite a quarter. */
export const SCAN_BYTES_PER_SECOND = 200 * 1024 * 1024;

function estimate(tables: readonly PlannedTable[]): string | undefined {
  let seconds = 0;
  let known = false;
  for (const t of tables) {
    if (!t.existing || (t.work !== 'scan' && t.work !== 'rewrite')) continue;
    if (!t.size) return undefined;
    known = true;
    seconds += (t.size.bytes / SCAN_BYTES_PER_SECOND) * (t.work === 'rewrite' ? 4 : 1);
  }
  if (!known) return undefined;
  return seconds < 1 ? 'under a second' : seconds < 60 ? 'seconds' : seconds < 3600 ? 'minutes' : 'hours';
}

function oneLine(sql: string): string {
  const flat = sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > 110 ? `${flat.slice(0, 107)}...` : flat;
}

/** Plans the pending files. Never touches a database; sizes come from the caller. */
export async function planLocks(o: LockPlanOptions): Promise<PlannedFile[]> {
  const state = new SchemaState();
  const report = await checkExpandOnly(
    o.files.map((f) => ({ filename: f.filename, version: f.version, sql: f.sql, noTransaction: f.noTransaction })),
  );
  const refusals = new Map<string, RuleId[]>();
  for (const v of [...report.violations, ...report.allowedInContract]) {
    const key = `${v.file}:${v.line}`;
    refusals.set(key, [...(refusals.get(key) ?? []), v.rule]);
  }
  const out: PlannedFile[] = [];
  for (const file of o.files) {
    const parsed = await parseSqlFile(file.sql);
    const planned = o.pending(file);
    if ('error' in parsed) {
      if (planned)
        out.push({
          filename: file.filename,
          version: file.version,
          transactional: !file.noTransaction,
          statements: [],
          parseError: parsed.error.message,
          heldUntilCommit: [],
        });
      continue;
    }
    const transactional = !(file.noTransaction ?? hasNoTransactionMarker(file.sql));
    const created = new Set<string>();
    const statements: PlannedStatement[] = [];
    const held = new Map<string, string>();
    for (const st of parsed.statements) {
      const [kind] = Object.keys(st.node);
      const s = st.node[kind];
      const effect = statementEffect(st.node, state);
      const createdHere =
        kind === 'CreateStmt'
          ? `${s.relation?.schemaname ?? 'public'}.${s.relation?.relname}`
          : kind === 'CreateTableAsStmt'
            ? `${s.into?.rel?.schemaname ?? 'public'}.${s.into?.rel?.relname}`
            : undefined;
      if (planned) {
        const tables: PlannedTable[] = effect.tables.map((t) => {
          const existing = !created.has(t.table) && t.table !== createdHere;
          const size = existing ? o.sizes?.get(t.table) : undefined;
          return { ...t, existing, ...(size ? { size } : {}) };
        });
        for (const t of tables) {
          if (!t.existing || !blocksWrites(t.lock)) continue;
          const prev = held.get(t.table);
          if (!prev || lockStrength(t.lock) > lockStrength(prev as never)) held.set(t.table, t.lock);
        }
        statements.push({
          line: st.line,
          sql: oneLine(st.text),
          tables,
          concurrent: effect.concurrent,
          opaque: effect.opaque,
          duration: durationClass(effect),
          ...(o.sizes ? { estimate: estimate(tables) } : {}),
          refusedBy: refusals.get(`${file.filename}:${st.line}`) ?? [],
        });
      }
      if (createdHere) created.add(createdHere);
      state.learn(st.node);
    }
    if (planned)
      out.push({
        filename: file.filename,
        version: file.version,
        transactional,
        statements,
        heldUntilCommit: transactional && statements.length > 1 ? [...held].map(([table, lock]) => ({ table, lock })) : [],
      });
  }
  return out;
}

const LOCK_EFFECT: Record<string, string> = {
  'ACCESS SHARE': 'conflicts only with ACCESS EXCLUSIVE',
  'ROW SHARE': 'conflicts only with EXCLUSIVE and ACCESS EXCLUSIVE',
  'ROW EXCLUSIVE': 'like any write',
  'SHARE UPDATE EXCLUSIVE': 'reads and writes continue',
  SHARE: 'blocks writes',
  'SHARE ROW EXCLUSIVE': 'blocks writes',
  EXCLUSIVE: 'blocks writes and row locks',
  'ACCESS EXCLUSIVE': 'blocks reads and writes',
};

function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

const WORK: Record<string, string> = { none: 'no scan, no rewrite', rows: 'touches the rows it names', scan: 'scans', rewrite: 'rewrites' };

/** The text `plan` prints: per file, per statement, its locks, work and duration class. */
export function formatPlan(files: readonly PlannedFile[]): string {
  const lines: string[] = [];
  for (const f of files) {
    lines.push(`${f.filename} (${f.transactional ? 'one transaction' : 'no transaction: each statement commits on its own'})`);
    if (f.parseError) lines.push(`  does not parse: ${f.parseError}`);
    for (const st of f.statements) {
      lines.push(`  ${String(st.line).padStart(4)}  ${st.sql}`);
      if (st.tables.length === 0 && !st.opaque && !st.refusedBy.length) {
        lines.push('        no table lock');
        continue;
      }
      for (const t of st.tables) {
        const size = t.size ? `, ${t.size.rows.toLocaleString('en')} rows, ${formatBytes(t.size.bytes)}` : '';
        const work = t.work === 'none' ? WORK.none : `${WORK[t.work]}${t.reason ? ` (${t.reason})` : ''}`;
        lines.push(`        ${t.lock} on ${t.table}${t.existing ? '' : ' (new)'}: ${LOCK_EFFECT[t.lock]}; ${work}${size}`);
      }
      if (st.opaque) lines.push('        a DO block or function call: its locks are not known from the statement');
      lines.push(`        duration: ${st.duration}${st.estimate ? ` (estimate from the table sizes: ${st.estimate})` : ''}`);
      if (st.refusedBy.length) lines.push(`        validate refuses it: ${st.refusedBy.join(', ')}`);
    }
    if (f.heldUntilCommit.length)
      lines.push(`  held until the file commits: ${f.heldUntilCommit.map((h) => `${h.lock} on ${h.table}`).join(', ')}`);
  }
  return lines.join('\n');
}
