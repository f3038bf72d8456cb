// How the doctor runs SQL checks: each in its own savepoint inside one read-only transaction, so a check that
// errors (a missing privilege, a dropped function) is reported as not checked and the others still run; and how a
// verify check's result reads as a doctor verdict.
import type { Client } from 'pg';
import type { CheckResult } from '../verify/checks';
import { finding, ok, type Outcome, unchecked } from './report';

/** What to do when the doctor's login lacks a privilege a check needs. */
export const LOGIN_HINT =
  "run doctor as the environment's monitoring login (pg_monitor and the reads in docs/access-matrix.md), or as the owner login for the checks that read as caracal_owner";

/** Runs `run` in a savepoint; a query error becomes a not-checked verdict (and the transaction goes on). */
export async function inSavepoint<T>(client: Client, run: () => Promise<T>): Promise<T | Outcome> {
  await client.query('SAVEPOINT caracal_doctor');
  try {
    const o = await run();
    await client.query('RELEASE SAVEPOINT caracal_doctor');
    return o;
  } catch (e) {
    await client.query('ROLLBACK TO SAVEPOINT caracal_doctor');
    return failedQuery(e);
  }
}

/** A query that failed: a missing privilege names the login to use; anything else is reported as it came. */
export function failedQuery(e: unknown): Outcome {
  const err = e as Error & { code?: string };
  const what = `${err.message}${err.code ? ` (SQLSTATE ${err.code})` : ''}`;
  if (err.code === '42501') return unchecked(`this login may not read what the check needs: ${what}`, LOGIN_HINT);
  if (err.code === '57014')
    return unchecked(`the check's query was cancelled by statement_timeout: ${what}`, 'rerun when the server is less busy');
  return unchecked(
    `the check's query failed: ${what}`,
    'the database is not migrated as this release expects: run `caracal-migrate status`',
  );
}

/** A verify check as a doctor verdict (verify's failure is a finding here; its details are kept). */
export function fromVerify(r: CheckResult, next: string): Outcome {
  return r.ok ? ok(r.summary, r.details) : finding(r.summary, next, r.details);
}

/** A duration in words: 42 s, 7 min, 3.5 h, 2 d. */
export function age(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}
