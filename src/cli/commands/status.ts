// `caracal-migrate status [--json]`: applied, pending, drifted, missing and ahead versions.
import { migrationStatus, StatusResult } from '../../migrate/runner';
import { ExitCode } from '../../migrate/errors';
import { describeConnection } from '../../migrate/connection';
import { appliedFilename, isRenamed } from '../../migrate/plan';
import { Flags, runnerOptions } from '../flags';
import type { Output } from '../output';

type State = 'applied' | 'pending' | 'drifted' | 'missing' | 'ahead' | 'out-of-order' | 'adoptable';

interface Row {
  version: string;
  name: string | null;
  filename: string | null;
  /** The name the history records for this version (differs from `name` when the file was renamed or replaced). */
  appliedName: string | null;
  /** That name as a file name, when it differs from `filename`. */
  appliedAs: string | null;
  state: State;
  checksum: string | null;
  fileChecksum: string | null;
  appliedAt: string | null;
  executionMs: number | null;
  appliedBy: string | null;
}

export function statusRows(s: StatusResult): Row[] {
  const rows: Row[] = [];
  const add = (state: State, file?: StatusResult['files'][number], row?: StatusResult['rows'][number]) =>
    rows.push({
      version: String(file?.version ?? row!.version),
      name: file?.name ?? row?.name ?? null,
      filename: file?.filename ?? null,
      appliedName: row?.name ?? null,
      appliedAs: file && row && isRenamed(file, row) ? appliedFilename(file, row) : null,
      state,
      checksum: row?.checksum ?? null,
      fileChecksum: file?.checksum ?? null,
      appliedAt: row?.appliedAt ? new Date(row.appliedAt).toISOString() : null,
      executionMs: row?.executionMs ?? null,
      appliedBy: row?.appliedBy ?? null,
    });
  const p = s.plan;
  p.applied.forEach((a) => add('applied', a.file, a.row));
  p.adoptable.forEach((a) => add('adoptable', a.file, a.row));
  p.drifted.forEach((a) => add('drifted', a.file, a.row));
  p.pending.forEach((f) => add('pending', f));
  p.outOfOrder.forEach((f) => add('out-of-order', f));
  p.missing.forEach((r) => add('missing', undefined, r));
  p.ahead.forEach((r) => add('ahead', undefined, r));
  return rows.sort((a, b) => (BigInt(a.version) < BigInt(b.version) ? -1 : BigInt(a.version) > BigInt(b.version) ? 1 : 0));
}

export async function run(flags: Flags, out: Output): Promise<number> {
  const options = runnerOptions(flags, out);
  const status = await migrationStatus(options);
  const rows = statusRows(status);
  const count = (st: State) => rows.filter((r) => r.state === st).length;
  const summary = {
    applied: count('applied') + count('adoptable'),
    pending: count('pending'),
    drifted: count('drifted'),
    missing: count('missing'),
    ahead: count('ahead'),
    outOfOrder: count('out-of-order'),
  };
  const problems = summary.drifted + summary.missing + summary.outOfOrder > 0;
  if (flags.json) {
    out.json({
      directory: options.dir,
      database: describeConnection(options.connection),
      historyTable: status.historyTableExists,
      ok: !problems,
      summary,
      migrations: rows,
    });
  } else {
    const width = Math.max(4, ...rows.map((r) => r.version.length));
    for (const r of rows) {
      const when = r.appliedAt ? `  ${r.appliedAt}${r.executionMs !== null ? ` (${r.executionMs} ms)` : ''}` : '';
      const renamed = r.appliedAs ? ` (applied as ${r.appliedAs})` : '';
      out.stdout(`${r.state.padEnd(12)} ${r.version.padStart(width, '0')}  ${r.filename ?? r.name ?? ''}${renamed}${when}`);
    }
    out.stdout(
      `${summary.applied} applied, ${summary.pending} pending, ${summary.drifted} drifted, ${summary.missing} missing, ` +
        `${summary.ahead} ahead, ${summary.outOfOrder} out of order${summary.ahead > 0 ? ' (ahead: database newer than the files, normal during an application rollback)' : ''}`,
    );
  }
  return problems ? ExitCode.CHECK_FAILED : ExitCode.OK;
}
