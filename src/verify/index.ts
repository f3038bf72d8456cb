// `verify` as a library: connect, run the catalog checks in one read-only snapshot (safe on a read replica),
// optionally the behavioural probes (always rolled back), and format the verdicts like the seed's script.
import type { Client } from 'pg';
import { connect, ConnectionSettings } from '../migrate/connection';
import { MatrixRow, readAccessMatrix } from './access-matrix';
import { ACCESS_MATRIX } from './access-matrix.data';
import { runBehaviouralChecks } from './behavioural';
import { CheckResult, runCatalogChecks } from './checks';

export type { CheckResult } from './checks';

export interface VerifyOptions {
  /** Migrations directory for the pending/drifted/ahead check; undefined skips that check. */
  readonly dir?: string;
  /** A docs/access-matrix.md to check against instead of the copy built into the CLI. */
  readonly accessMatrixFile?: string;
  readonly behavioural?: boolean;
  readonly partitionDaysAhead?: number;
  readonly retentionDays?: number;
  /** The environment whose logins must have CONNECT (`caracal_<environment>_*`); inferred when undefined. */
  readonly environment?: string;
  readonly lockTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
}

export function matrixFor(o: VerifyOptions): readonly MatrixRow[] {
  return o.accessMatrixFile ? readAccessMatrix(o.accessMatrixFile) : ACCESS_MATRIX;
}

/** Every check on an open connection. Catalog checks run in a READ ONLY repeatable-read snapshot. */
export async function verifyWithClient(client: Client, o: VerifyOptions = {}): Promise<VerifyReport> {
  const matrix = matrixFor(o);
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  let checks: CheckResult[];
  try {
    await client.query(`SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)`, [
      `${o.statementTimeoutMs ?? 30_000}ms`,
      `${o.lockTimeoutMs ?? 500}ms`,
    ]);
    checks = await runCatalogChecks(client, {
      matrix,
      dir: o.dir,
      partitionDaysAhead: o.partitionDaysAhead,
      retentionDays: o.retentionDays,
      environment: o.environment,
    });
  } finally {
    await client.query('ROLLBACK');
  }
  if (o.behavioural) {
    checks.push(
      ...(await runBehaviouralChecks(client, { matrix, lockTimeoutMs: o.lockTimeoutMs, statementTimeoutMs: o.statementTimeoutMs })),
    );
  }
  return { ok: checks.every((c) => c.ok), checks };
}

export async function verifyDatabase(connection: ConnectionSettings, o: VerifyOptions = {}): Promise<VerifyReport> {
  const client = await connect(connection);
  try {
    return await verifyWithClient(client, o);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One line per check (`ok   id: summary` / `FAIL id: summary`), details and the first check indented. */
export function formatChecks(checks: readonly CheckResult[], opts: { notes?: boolean } = {}): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.ok ? 'ok  ' : 'FAIL'} ${c.id}: ${c.summary}`);
    if (!c.ok || opts.notes)
      for (const d of c.details)
        lines.push(
          `       - ${d
            .split('\n')
            .map((l) => l.trim())
            .join('\n         ')}`,
        );
    if (!c.ok) lines.push(`       first check: ${c.firstCheck}`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(failed ? `${failed} of ${checks.length} checks failed` : `all ${checks.length} checks passed`);
  return lines.join('\n');
}
