// What `plan` reads from a database when it has one: which files are pending (the runner's own plan of the history)
// and the size of every table, read-only, in one short session.
import { connect, ConnectionSettings } from '../migrate/connection';
import { historyColumns, readHistory } from '../migrate/history';
import type { MigrationFile } from '../migrate/files';
import { planMigrations } from '../migrate/plan';
import type { TableSize } from './index';

export interface DatabaseFacts {
  /** Files the runner would apply (none for a database at or ahead of the files). */
  readonly pending: ReadonlySet<bigint>;
  readonly applied: number;
  readonly sizes: ReadonlyMap<string, TableSize>;
}

/** Rows (planner estimate) and bytes of every table; a partitioned table sums its partitions. */
const SIZES = `
  SELECT n.nspname || '.' || c.relname AS name,
         sum(greatest(p.reltuples, 0))::float8 AS rows,
         sum(pg_total_relation_size(p.oid))::float8 AS bytes
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN LATERAL (SELECT t.relid FROM pg_partition_tree(c.oid) t UNION SELECT c.oid) tree ON true
    JOIN pg_class p ON p.oid = tree.relid
   WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
   GROUP BY 1`;

export async function readDatabaseFacts(connection: ConnectionSettings, files: readonly MigrationFile[]): Promise<DatabaseFacts> {
  const client = await connect(connection);
  try {
    await client.query(`SET statement_timeout = '30s'`);
    const rows = (await historyColumns(client)) ? await readHistory(client) : [];
    const plan = planMigrations(files, rows);
    const sizes = new Map<string, TableSize>();
    for (const r of (await client.query<{ name: string; rows: number; bytes: number }>(SIZES)).rows)
      sizes.set(r.name, { rows: Math.round(r.rows), bytes: r.bytes });
    return { pending: new Set(plan.pending.map((f) => f.version)), applied: plan.applied.length + plan.adoptable.length, sizes };
  } finally {
    await client.end().catch(() => undefined);
  }
}
