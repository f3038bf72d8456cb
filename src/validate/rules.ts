// The expand-only rules: for each id, why it breaks the previous application version while it still serves
// traffic, and how to expand instead. docs/verify.md lists the same table for migration authors.

export interface Rule {
  /** Why the statement breaks, blocks or rewrites under the previous application version. */
  readonly why: string;
  /** How to get the same end state expand-only. */
  readonly instead: string;
  /** Correctness rules hold in every file, the baseline and contract-phase files included. */
  readonly always?: boolean;
}

export const RULES = {
  'parse-error': {
    why: 'the file is not valid Postgres SQL, so the migration Job would fail on it',
    instead: 'fix the syntax; run `caracal-migrate validate` locally before pushing',
    always: true,
  },
  'concurrently-in-transaction': {
    why: 'CONCURRENTLY cannot run inside a transaction block, and the runner wraps each file in one: the Job would fail',
    instead: 'put the statement in its own file whose first line is `-- caracal:no-transaction`',
    always: true,
  },
  'owner-role': {
    why: "an object created as the migrator login is owned by that login, not caracal_owner: default privileges (backup SELECT) do not apply, access-matrix grants made as the owner fail, and the owner's maintenance cannot alter it",
    instead:
      'put `SET LOCAL ROLE caracal_owner;` before the first CREATE and `RESET ROLE;` as the last statement (the runner records the file as its login), as the baseline does',
    always: true,
  },
  'drop-table': {
    why: 'the previous application version still reads and writes this table until every pod is replaced',
    instead: 'stop using the table in release N, then drop it in a later file tagged `-- caracal:phase contract`',
  },
  'drop-column': {
    why: 'the previous application version still selects or inserts this column; its queries fail with "column does not exist"',
    instead:
      'stop reading and writing the column in release N (make it nullable or give it a default if needed), drop it in a later file tagged `-- caracal:phase contract`',
  },
  'drop-constraint': {
    why: 'the previous application version may rely on it (ON CONFLICT targets, referential integrity it does not check itself)',
    instead: 'keep the constraint until no running version relies on it, then drop it in a file tagged `-- caracal:phase contract`',
  },
  'drop-index': {
    why: 'DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table and blocks every query of the running version; the index may also back its queries or ON CONFLICT',
    instead: 'DROP INDEX CONCURRENTLY in a `-- caracal:no-transaction` file, once no running version needs the index',
  },
  'drop-object': {
    why: 'the previous application version (or an integrity control it depends on) may still use the object',
    instead:
      'leave it in place in the expand phase; drop it in a later file tagged `-- caracal:phase contract` (dropping and re-creating a trigger, policy, view or function in the same file is accepted)',
  },
  rename: {
    why: 'the previous application version still uses the old name; every query naming it fails at once',
    instead:
      'add the new object (column, table or view) beside the old one, write both, backfill, move readers, and drop the old name in a contract-phase file',
  },
  'alter-column-type': {
    why: "changing a column type rewrites the table (and its indexes) under ACCESS EXCLUSIVE and may break the running version's casts and bindings",
    instead:
      'add a new column of the new type, dual-write and backfill in batches, switch readers, drop the old column in a contract-phase file',
  },
  'set-not-null': {
    why: "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) exists, and fails the running version's inserts that leave the column out",
    instead:
      'ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT (weaker lock), then SET NOT NULL, once every running version writes the column',
  },
  'volatile-default': {
    why: 'a default that calls a function not known to be IMMUTABLE or STABLE (random(), gen_random_uuid(), clock_timestamp(), nextval() via serial/identity, or a user-defined function, VOLATILE unless declared otherwise), or a STORED generated column, rewrites the whole table under ACCESS EXCLUSIVE; now() and other STABLE built-ins do not and are accepted',
    instead:
      'add the column nullable without a default (or with a constant/now() default), SET DEFAULT for new rows afterwards, and backfill existing rows in batches (or declare the function IMMUTABLE/STABLE in the migrations, if it is)',
  },
  'add-column-constraint': {
    why: 'a CHECK or REFERENCES written inline in ADD COLUMN is validated by reading every row while ACCESS EXCLUSIVE is held: every query of the running version on the table waits for the scan',
    instead: 'add the column plain, then ADD CONSTRAINT ... NOT VALID, and VALIDATE CONSTRAINT in a later file',
  },
  'add-column-not-null': {
    why: "a NOT NULL column without a default fails on any non-empty table, and the running version's inserts do not set it",
    instead: 'add it with a constant DEFAULT, or nullable, backfill, then the CHECK NOT VALID / VALIDATE / SET NOT NULL sequence',
  },
  'index-not-concurrent': {
    why: 'CREATE INDEX without CONCURRENTLY holds a SHARE lock for the whole build: every INSERT/UPDATE/DELETE of the running version waits',
    instead:
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS in a `-- caracal:no-transaction` file; for a partitioned table: CREATE INDEX ... ON ONLY parent, CREATE INDEX CONCURRENTLY on each partition, ALTER INDEX parent_idx ATTACH PARTITION partition_idx',
  },
  'concurrent-index-on-partitioned': {
    why: 'Postgres cannot build an index CONCURRENTLY on a partitioned table: the statement fails',
    instead:
      'CREATE INDEX ... ON ONLY parent (instant, invalid until attached), CREATE INDEX CONCURRENTLY on each partition, ALTER INDEX parent_idx ATTACH PARTITION partition_idx',
  },
  'constraint-not-valid': {
    why: "adding a CHECK or FOREIGN KEY validates every row while holding a lock that blocks the running version's writes",
    instead:
      'ADD CONSTRAINT ... NOT VALID (new rows are checked at once), then ALTER TABLE ... VALIDATE CONSTRAINT (SHARE UPDATE EXCLUSIVE, writes continue)',
  },
  'add-unique-without-index': {
    why: 'ADD PRIMARY KEY / UNIQUE builds its index under ACCESS EXCLUSIVE: the running version is blocked for the whole build',
    instead:
      'CREATE UNIQUE INDEX CONCURRENTLY in a `-- caracal:no-transaction` file, then ADD CONSTRAINT ... PRIMARY KEY / UNIQUE USING INDEX',
  },
  'set-logged': {
    why: 'SET LOGGED / UNLOGGED rewrites the whole table under ACCESS EXCLUSIVE',
    instead: 'create the table with the right persistence from the start, or create a new table and move rows in batches',
  },
  'table-rewrite': {
    why: 'VACUUM FULL, CLUSTER and SET TABLESPACE rewrite the table under ACCESS EXCLUSIVE: the running version is blocked for the whole rewrite',
    instead: 'do maintenance outside migrations (pg_repack, or a scheduled window); migrations change schema only',
  },
  'reindex-not-concurrent': {
    why: 'REINDEX without CONCURRENTLY blocks writes (and reads using the index) for the whole rebuild',
    instead: 'REINDEX ... CONCURRENTLY in a `-- caracal:no-transaction` file',
  },
  truncate: {
    why: 'TRUNCATE removes every row under ACCESS EXCLUSIVE: the running version loses its data (and audit tables are append-only)',
    instead: 'migrations do not remove data; expired audit partitions are removed only by public.audit_partitions_apply_retention()',
  },
  'delete-without-where': {
    why: 'an unbounded DELETE removes rows the running version still serves and locks every row until commit',
    instead: 'delete only what the change needs, with a WHERE clause, in bounded batches, or in a contract-phase file',
  },
  'unbatched-backfill': {
    why: "an UPDATE whose WHERE does not bound the rows by key (a range or list on the primary key, or a sub-select with LIMIT) touches every matching row in one transaction: it reads the table and row-locks all of it, so the running version's writes to those rows wait until the file commits",
    instead:
      'backfill in batches bounded by the primary key (WHERE id >= $lo AND id < $hi, or id IN (SELECT id ... LIMIT n)), each batch its own file or run from the application',
  },
  'update-without-where': {
    why: "an unbounded UPDATE row-locks the whole table for the migration's transaction: the running version's writes to any row wait",
    instead: 'backfill with a WHERE clause in bounded batches (for example by primary-key ranges), or from the application',
  },
  'detach-partition': {
    why: 'DETACH PARTITION makes those rows disappear from the parent the running version queries (and takes ACCESS EXCLUSIVE without CONCURRENTLY)',
    instead: 'let public.audit_partitions_apply_retention() remove exported partitions; other detaches belong in a contract-phase file',
  },
  revoke: {
    why: 'the previous application version may still need the privilege; its queries fail with "permission denied"',
    instead: 'keep the grant until no running version uses it, revoke it in a contract-phase file, and update docs/access-matrix.md',
  },
  'drop-default': {
    why: "the running version's inserts that leave the column out rely on the default; without it they store NULL or fail NOT NULL",
    instead: 'keep the default until no running version omits the column, drop it in a contract-phase file',
  },
  'several-tables-locked': {
    why: "the runner holds every lock of a file until it commits: with write-blocking locks (or row locks) on two existing tables, the running version's transactions that touch them in the other order deadlock with it, and Postgres kills whichever started waiting first, often the application's",
    instead:
      'one existing table per transactional file: split the file so each file changes one existing table (one statement that locks two, such as a foreign key or a CREATE TABLE referencing hot tables, is accepted: the runner loses any deadlock it meets, see docs/runner.md)',
  },
  'scan-under-lock': {
    why: 'a statement that reads every row, rewrites, or changes rows runs after an earlier statement of the same transaction took a write-blocking lock on an existing table: that lock is held for the whole scan, and the running version waits for it',
    instead:
      'move the scan or backfill into its own file (it commits, and releases nothing it does not need), after the file with the heavy lock',
  },
  'validate-in-same-file': {
    why: 'VALIDATE CONSTRAINT reads every row; in the file that added the constraint the ADD CONSTRAINT lock (ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key) is still held, so the running version waits for the whole scan',
    instead:
      'ADD CONSTRAINT ... NOT VALID in one file, VALIDATE CONSTRAINT in a later one (SHARE UPDATE EXCLUSIVE: reads and writes continue)',
  },
  'timeout-override': {
    why: "lock_timeout and statement_timeout are the runner's protection of the running version (DDL gives up instead of queuing traffic behind it); a file that sets or resets them (SET, SET LOCAL, RESET, set_config) switches that off",
    instead:
      'use the runner flags (--lock-timeout, --lock-retries, --statement-timeout, --concurrent-statement-timeout) in the Job instead of changing them in a file',
  },
  'alter-domain-constraint': {
    why: 'ALTER DOMAIN ... ADD CONSTRAINT (without NOT VALID), VALIDATE CONSTRAINT and SET NOT NULL check every value of every table that uses the domain while holding SHARE on each: the running version cannot write any of them',
    instead:
      'put the CHECK on the columns instead (ADD CONSTRAINT ... NOT VALID, VALIDATE in a later file), or ADD CONSTRAINT ... NOT VALID on the domain and leave old values unvalidated',
  },
  'drop-database': {
    why: 'a migration runs inside its own database: DROP DATABASE can only remove another one, such as another environment sharing the server, and its sessions with it',
    instead: 'databases are created and removed by the platform (Terraform, the operator), never by a migration',
    always: true,
  },
  'duplicate-assignment': {
    why: 'the same column (or storage option) assigned twice in one SET makes Postgres refuse the statement ("multiple assignments to same column"): the migration Job would fail',
    instead: 'assign each column once per SET (array elements and fields of one column may be assigned separately)',
    always: true,
  },
  'transaction-control': {
    why: 'the runner wraps each file in one transaction with its history row and refuses a file with its own BEGIN/COMMIT/SAVEPOINT (the migration Job fails before applying anything); in a no-transaction file a BEGIN without COMMIT keeps its locks, takes the history row into that transaction, and both are rolled back when the session ends',
    instead:
      'remove BEGIN/COMMIT (the runner commits the file), or mark the file `-- caracal:no-transaction` and end every transaction it begins',
    always: true,
  },
  'weaken-control': {
    why: 'disabling a trigger, row-level security or granting BYPASSRLS switches off an integrity control (append-only audit, immutable policy versions, fail-closed zones) for every version',
    instead:
      'integrity controls are never switched off by a migration; change them only with a reviewed contract-phase file, and run `caracal-migrate verify` afterwards',
  },
} as const satisfies Record<string, Rule>;

export type RuleId = keyof typeof RULES;

export const RULE_IDS = Object.keys(RULES) as RuleId[];
