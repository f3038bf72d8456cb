// The doctor's results: a verdict per sub-check (ok, finding, or not checked), rolled up into one verdict per row
// of the seed's troubleshooting table, and the two ways to show them (a table for people, JSON for machines).
import { runbookLink, TROUBLESHOOTING_ROWS, type TroubleshootingRowId } from '../../common/troubleshooting';
import { CHECK_IDS, CHECKS, type CheckId } from './catalog';

/** `finding`: something is wrong (exit 4); `unchecked`: the check could not run (exit 2, unless a finding). */
export type Status = 'ok' | 'finding' | 'unchecked';

/** What a check function returns. */
export interface Outcome {
  readonly status: Status;
  /** One line: what holds, what is wrong, or why it could not be checked. */
  readonly summary: string;
  /** Numbers and objects behind the summary (one per line). */
  readonly details?: readonly string[];
  /** What to do next (findings and unchecked): the first thing to look at or change. */
  readonly next?: string;
}

export const ok = (summary: string, details: readonly string[] = []): Outcome => ({ status: 'ok', summary, details });
export const finding = (summary: string, next: string, details: readonly string[] = []): Outcome => ({
  status: 'finding',
  summary,
  next,
  details,
});
export const unchecked = (summary: string, next: string, details: readonly string[] = []): Outcome => ({
  status: 'unchecked',
  summary,
  next,
  details,
});

export interface CheckVerdict {
  readonly id: CheckId;
  readonly title: string;
  readonly status: Status;
  readonly summary: string;
  readonly details: readonly string[];
  readonly next?: string;
  /** The runbook heading that explains this check: `docs/operations.md#anchor`. */
  readonly runbook: string;
  readonly replicaSafe: boolean;
}

export interface RowVerdict {
  readonly id: TroubleshootingRowId;
  readonly phase: string;
  readonly symptom: string;
  /** The seed's first check, word for word. */
  readonly firstCheck: string;
  /** The worst of its checks: finding, then unchecked, then ok. */
  readonly status: Status;
  readonly runbook: string;
  readonly checks: readonly CheckVerdict[];
}

export interface DoctorReport {
  readonly status: Status;
  /** `user@host:port/db (sslmode=...)`, never a password. */
  readonly postgres: string;
  /** The Postgres server's role: primary, replica, or unknown (not connected). */
  readonly serverRole: 'primary' | 'replica' | 'unknown';
  /** `host:port` of Redis, when given. */
  readonly redis: string | null;
  readonly rows: readonly RowVerdict[];
  /** Counts over every check. */
  readonly counts: Readonly<Record<Status, number>>;
}

export function worst(statuses: readonly Status[]): Status {
  return statuses.includes('finding') ? 'finding' : statuses.includes('unchecked') ? 'unchecked' : 'ok';
}

/** Every check in catalog order, grouped by row (only the rows asked for); a check without an outcome is reported as not checked. */
export function assembleReport(
  outcomes: Partial<Record<CheckId, Outcome>>,
  target: Pick<DoctorReport, 'postgres' | 'serverRole' | 'redis'>,
  only?: readonly TroubleshootingRowId[],
): DoctorReport {
  const rows = TROUBLESHOOTING_ROWS.filter((row) => !only || only.includes(row.id)).map((row): RowVerdict => {
    const checks = CHECK_IDS.filter((id) => CHECKS[id].row === row.id).map((id): CheckVerdict => {
      const def = CHECKS[id];
      const o = outcomes[id] ?? unchecked('not run', 'a doctor bug: every check should report; rerun with --json and report it');
      return {
        id,
        title: def.title,
        status: o.status,
        summary: o.summary,
        details: o.details ?? [],
        ...(o.next !== undefined && o.status !== 'ok' ? { next: o.next } : {}),
        runbook: runbookLink(def.anchor),
        replicaSafe: def.replicaSafe,
      };
    });
    return {
      id: row.id,
      phase: row.phase,
      symptom: row.symptom,
      firstCheck: row.firstCheck,
      status: worst(checks.map((c) => c.status)),
      runbook: runbookLink(row.anchor),
      checks,
    };
  });
  const all = rows.flatMap((r) => r.checks);
  const counts = { ok: 0, finding: 0, unchecked: 0 };
  for (const c of all) counts[c.status]++;
  return { ...target, status: worst(all.map((c) => c.status)), rows, counts };
}

const LABEL: Record<Status, string> = { ok: 'ok', finding: 'FINDING', unchecked: 'NOT CHECKED' };

/**
 * The table for people: one block per troubleshooting row (its verdict on the right), one line per check, and
 * under every finding or unchecked check its details, what to do next and the runbook heading. `verbose` also
 * prints the details of passing checks.
 */
export function formatReport(report: DoctorReport, opts: { verbose?: boolean } = {}): string {
  const width = 96;
  const titleWidth = Math.max(...Object.values(CHECKS).map((c) => c.title.length)) + 2;
  const lines: string[] = [
    `caracal-migrate doctor: postgres ${report.postgres}, ${report.serverRole === 'unknown' ? 'not connected' : report.serverRole}; redis ${report.redis ?? 'not given'}`,
  ];
  for (const row of report.rows) {
    lines.push('');
    const head = `${row.phase}: ${row.symptom}`;
    lines.push(`${head.padEnd(width - LABEL[row.status].length - 1)} ${LABEL[row.status]}`);
    lines.push(`  first check (seed): ${row.firstCheck}`);
    let previousNext: string | undefined;
    for (const c of row.checks) {
      lines.push(`  ${LABEL[c.status].padEnd(12)}${c.title.padEnd(titleWidth)}${c.summary}`);
      const indent = ' '.repeat(14);
      if (c.status !== 'ok' || opts.verbose) for (const d of c.details) lines.push(`${indent}- ${d}`);
      if (c.status !== 'ok') {
        // The same advice for several checks in a row (no Redis given, no connection) is printed once.
        if (c.next) lines.push(`${indent}next: ${c.next === previousNext ? '(as above)' : c.next}`);
        lines.push(`${indent}runbook: ${c.runbook}`);
        previousNext = c.next;
      }
    }
  }
  const n = report.counts;
  lines.push('');
  lines.push(
    `${n.ok} ok, ${n.finding} finding(s), ${n.unchecked} not checked: ` +
      (report.status === 'ok'
        ? 'all well'
        : report.status === 'finding'
          ? 'act on the findings above (exit 4)'
          : 'some checks could not run; see why above (exit 2)'),
  );
  return lines.join('\n');
}
