// What every `verify` check shares: its result shape, the first checks in the seed's words, and the query and
// verdict helpers. Checks live in checks.ts (tables, grants, triggers, RLS, partitions) and beside it by concern.
import type { Client } from 'pg';

export interface CheckResult {
  readonly id: string;
  readonly ok: boolean;
  /** One line: what holds, or what does not. */
  readonly summary: string;
  /** The offending objects (or notes, when ok). */
  readonly details: readonly string[];
  /** First thing to check when it fails (the seed's troubleshooting words). */
  readonly firstCheck: string;
}

export const FIRST_CHECK = {
  migrations:
    'Migration Job fails: Database secret, host, port, user, database, SSL mode, and advisory-lock connectivity; then `caracal-migrate status`',
  rls: 'RLS errors: Confirm service role and zone context handling before widening permissions',
  audit: 'Audit queries slow: Partition health, indexes, retention, and query time windows',
  grants:
    'RLS errors: Confirm service role and zone context handling before widening permissions; grants change only with docs/access-matrix.md, in a migration',
  ownership:
    'the migration that created it ran as its login: migrations run `SET LOCAL ROLE caracal_owner` before creating objects (and `RESET ROLE` at the end); fix with ALTER ... OWNER TO caracal_owner in a new migration',
  integrity:
    'a migration or a manual change dropped or disabled the trigger: re-create it ENABLE ALWAYS in a new migration (never ALTER TABLE ... DISABLE TRIGGER on these tables)',
} as const;

/** The named public tables ($1) and, recursively, their table partitions (never index partitions). */
export const TREE_SQL = `WITH RECURSIVE tree(oid, root, level) AS (
       SELECT c.oid, c.relname::text, 0 FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1::text[]) AND c.relkind IN ('r', 'p')
       UNION ALL
       SELECT i.inhrelid, tree.root, tree.level + 1 FROM pg_inherits i JOIN tree ON i.inhparent = tree.oid
         JOIN pg_class c ON c.oid = i.inhrelid AND c.relkind IN ('r', 'p'))`;

export type Q = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

export function query(client: Client): Q {
  return async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[];
}

export function result(
  id: string,
  problems: string[],
  okSummary: string,
  failSummary: string,
  firstCheck: string,
  notes: string[] = [],
): CheckResult {
  return problems.length === 0
    ? { id, ok: true, summary: okSummary, details: notes, firstCheck }
    : { id, ok: false, summary: failSummary.replace('{n}', String(problems.length)), details: problems, firstCheck };
}
