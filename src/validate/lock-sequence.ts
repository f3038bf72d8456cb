// The lock rules that look at a whole transactional file rather than one statement: in one transaction every
// lock is held until COMMIT, so what comes after a heavy lock, and how many hot tables get one, decides how long
// and how badly the running version waits (and whether its transactions deadlock with the runner).
import { blocksWrites, LockMode, StatementEffect } from './locks';
import type { RuleId } from './rules';

export interface SequenceStatement {
  readonly line: number;
  readonly effect: StatementEffect;
  /** Tables the file created before this statement: nobody else uses them yet. */
  readonly newTables: ReadonlySet<string>;
  /** `table.constraint` validated by this statement, when it validates one added earlier in the same file. */
  readonly validatesOwnConstraint?: string;
}

export interface SequenceFinding {
  readonly line: number;
  readonly rule: RuleId;
  readonly what: string;
}

interface Held {
  readonly table: string;
  readonly lock: LockMode;
  readonly line: number;
  /** Which statement of the file took it. */
  readonly statement: number;
}

/** Findings of several-tables-locked, scan-under-lock and validate-in-same-file for one transactional file. */
export function checkLockSequence(statements: readonly SequenceStatement[]): SequenceFinding[] {
  const out: SequenceFinding[] = [];
  const held: Held[] = []; // traffic-blocking locks on existing tables, in the order taken
  const rowLocked = new Map<string, Held>(); // existing tables whose rows this file updates or deletes
  let reportedSeveral = false;
  statements.forEach((st, statement) => {
    const existing = st.effect.tables.filter((t) => !st.newTables.has(t.table) && !t.table.startsWith('('));
    // What runs while earlier statements' heavy locks are held: reading every row, rewriting, changing rows.
    const slow = existing.filter((t) => t.work === 'scan' || t.work === 'rewrite' || t.work === 'rows');
    if (st.validatesOwnConstraint) {
      out.push({
        line: st.line,
        rule: 'validate-in-same-file',
        what: `VALIDATE CONSTRAINT ${st.validatesOwnConstraint} in the file that adds it`,
      });
    } else if (held.length > 0 && slow.length > 0) {
      const h = held[0];
      const t = slow[0];
      out.push({
        line: st.line,
        rule: 'scan-under-lock',
        what: `${t.work === 'rows' ? 'changes rows of' : t.work === 'rewrite' ? 'rewrites' : 'reads every row of'} ${t.table}${t.reason ? ` (${t.reason})` : ''} while ${h.lock} on ${h.table} (line ${h.line}) is held`,
      });
    }
    for (const t of existing) {
      if (blocksWrites(t.lock) && !held.some((h) => h.table === t.table))
        held.push({ table: t.table, lock: t.lock, line: st.line, statement });
      if ((t.work === 'rows' || t.work === 'scan') && t.lock === 'ROW EXCLUSIVE' && !rowLocked.has(t.table))
        rowLocked.set(t.table, { table: t.table, lock: t.lock, line: st.line, statement });
    }
    // One statement locking two tables (a foreign key: both sides at once) cannot be split; two statements can.
    const locked = new Map<string, { text: string; statement: number }>();
    for (const h of held) locked.set(h.table, { text: `${h.lock} on ${h.table} (line ${h.line})`, statement: h.statement });
    for (const r of rowLocked.values())
      if (!locked.has(r.table)) locked.set(r.table, { text: `row locks on ${r.table} (line ${r.line})`, statement: r.statement });
    const statementsInvolved = new Set([...locked.values()].map((l) => l.statement));
    if (!reportedSeveral && locked.size >= 2 && statementsInvolved.size >= 2) {
      reportedSeveral = true;
      out.push({
        line: st.line,
        rule: 'several-tables-locked',
        what: `one transaction takes ${[...locked.values()].map((l) => l.text).join(' and ')}`,
      });
    }
  });
  return out;
}
