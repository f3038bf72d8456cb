// The runner: connect, check preconditions, lock, create/upgrade the history table, plan, apply, record.
// It returns results or throws typed errors (src/migrate/errors.ts); it never prints and never exits.
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { jitteredBackoff } from './backoff';
import { connect, ConnectionSettings, describeConnection, sleep, transactionStatus } from './connection';
import { ConfigError, ConnectionError, MigrateError, MigrationFailedError, PreconditionError } from './errors';
import { beginDiscoveryForUp, discoverMigrations, Discovery, loadMigrationSql, MigrationFile } from './files';
import {
  acquireLock,
  AppliedMigration,
  appliedByExpression,
  ensureHistoryTable,
  columnsFrom,
  filesDigest,
  historyColumns,
  HISTORY_COLUMNS_SQL,
  HISTORY_DIGEST_SQL,
  HISTORY_TABLE,
  isCurrentLayout,
  LockHolder,
  readHistory,
  releaseLock,
} from './history';
import { maskConnectionStrings, maskServerText } from './redact';
import { appliedFilename, assertPlanIsSafe, isRenamed, MigrationPlan, planMigrations } from './plan';
import { assertRunnable } from './runnable';
import { lineAndColumn, SqlStatement, transactionControlCommand, transactionControlStatements } from './sql-scanner';

export type MigrateEventType =
  | 'wait-db'
  | 'reconnect'
  | 'connected'
  | 'lock-wait'
  | 'lock-acquired'
  | 'history-table'
  | 'adopted'
  | 'applying'
  | 'applied'
  | 'retry'
  | 'invalid-index'
  | 'warning'
  | 'nothing-to-do'
  | 'ahead'
  | 'repaired'
  | 'notice'
  | 'manifest';

/** A WARNING, NOTICE or INFO the server sent while a migration file's statement ran (secrets masked). */
export interface ServerNotice {
  readonly severity: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly sqlState?: string;
  /** The file and line of the statement that raised it. */
  readonly file: string;
  readonly line: number;
}

export interface MigrateEvent {
  readonly type: MigrateEventType;
  readonly message: string;
  readonly file?: string;
  /** With type 'notice': what the server said. The operator must see these (they are not progress). */
  readonly notice?: ServerNotice;
}

export interface RunnerOptions {
  /** The migrations directory (may be a ConfigMap mount). */
  readonly dir: string;
  readonly connection: ConnectionSettings;
  /** Retry connecting for this long (a Job that starts before its database). Default 0. */
  readonly waitForDbMs?: number;
  /** Deadline for taking the advisory lock. Default 5 minutes. */
  readonly lockWaitMs?: number;
  /** lock_timeout for migration statements. Default 300 ms (bench/upgrade, docs/runner.md). */
  readonly lockTimeoutMs?: number;
  /** Retries of a file (or a no-transaction statement) that hit lock_timeout or a deadlock. Default 10. */
  readonly lockRetries?: number;
  /** First backoff between those retries, doubled each time (capped at LOCK_RETRY_BACKOFF_CAP_MS), jittered. */
  readonly lockRetryBackoffMs?: number;
  /**
   * deadlock_timeout of the runner's session, lower than the services' so that in a deadlock the runner's check
   * fires first and the runner (which retries) is the transaction Postgres cancels. 0 keeps the server's. Needs a
   * superuser or `GRANT SET ON PARAMETER deadlock_timeout` (Postgres 15+); without it the runner says so and goes on.
   */
  readonly deadlockTimeoutMs?: number;
  /** Session statement_timeout. Default 15 minutes; 0 disables. */
  readonly statementTimeoutMs?: number;
  /** statement_timeout for CONCURRENTLY statements of no-transaction files (they wait for old snapshots). Default 0 (none). */
  readonly concurrentStatementTimeoutMs?: number;
  /** client_connection_check_interval (Postgres 14+), so a killed runner's backend stops soon. Default 2 s. */
  readonly connectionCheckIntervalMs?: number;
  readonly onEvent?: (event: MigrateEvent) => void;
}

export interface AppliedResult {
  readonly version: bigint;
  readonly name: string;
  readonly filename: string;
  readonly executionMs: number;
}

export interface MigrateResult {
  readonly applied: readonly AppliedResult[];
  /** Files already applied before this run. */
  readonly alreadyApplied: number;
  /** Versions in the database newer than every file (application rollback). */
  readonly ahead: readonly AppliedMigration[];
  /** Rows adopted from the older runner whose checksum was recorded in this run. */
  readonly adopted: readonly bigint[];
  readonly historyTable: 'created' | 'upgraded' | 'current';
}

// lock_timeout, retries and backoff were chosen from bench/upgrade (docs/runner.md has the figures): a short wait
// bounds what the running version queues behind DDL, enough retries with growing, jittered pauses outlast its
// longest transactions (statement_timeout 30-60 s), and a deadlock_timeout below the services' 1 s makes the
// runner, which retries, the loser of any deadlock.
const DEFAULTS = {
  lockWaitMs: 300_000,
  lockTimeoutMs: 300,
  lockRetries: 10,
  lockRetryBackoffMs: 500,
  deadlockTimeoutMs: 100,
  statementTimeoutMs: 900_000,
  concurrentStatementTimeoutMs: 0,
  connectionCheckIntervalMs: 2_000,
};

type Resolved = Required<Omit<RunnerOptions, 'onEvent' | 'waitForDbMs'>> & Pick<RunnerOptions, 'onEvent' | 'waitForDbMs'>;

function resolveOptions(o: RunnerOptions): Resolved {
  return { ...DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as Resolved;
}

interface Session {
  readonly client: Client;
  readonly pid: number;
  readonly serverVersion: number;
  /** With `history`: the history table's columns (undefined when it does not exist). */
  readonly historyColumns?: Map<string, string>;
  /** With `history` and a table of the current layout: HISTORY_DIGEST_SQL's value. */
  readonly historyDigest?: string;
}

/**
 * Connect and check that the endpoint is a direct session (not a transaction-mode pooler), then set timeouts. A
 * session that writes (`primary`) must not land on a standby; reading (status, verify) may.
 */
export async function openSession(o: RunnerOptions, primary = false, history = false): Promise<Session> {
  const opts = resolveOptions(o);
  const client = await connect(opts.connection, {
    waitForDbMs: opts.waitForDbMs,
    onWait: (message) => opts.onEvent?.({ type: 'wait-db', message }),
  });
  try {
    const token = randomBytes(8).toString('hex');
    // `history` (up): the history table's columns ride on the first statement and, for a table of the current
    // layout, its digest on the second, so a no-op run needs no statement of its own.
    const first = await client.query<{ pid: number; v: string; cols?: Record<string, string> | null }>(
      `SELECT pg_backend_pid() AS pid, current_setting('server_version_num') AS v, set_config('caracal_migrate.session_probe', '${token}', false)${history ? `, ${HISTORY_COLUMNS_SQL} AS cols` : ''}`,
    );
    const historyColumns = history ? columnsFrom(first.rows[0].cols ?? null) : undefined;
    const digest = historyColumns && isCurrentLayout(historyColumns);
    // The second statement checks the session survived (same backend, same setting) and sets the session's
    // timeouts in the same round trip; client_connection_check_interval exists from Postgres 14 on.
    const checkInterval = opts.connectionCheckIntervalMs > 0 ? String(opts.connectionCheckIntervalMs) : '0';
    const second = await client.query<{ pid: number; probe: string | null; recovery: boolean; digest?: string }>(
      `SELECT pg_backend_pid() AS pid, current_setting('caracal_migrate.session_probe', true) AS probe,
         set_config('statement_timeout', '${opts.statementTimeoutMs}', false),
         set_config('idle_in_transaction_session_timeout', '0', false),
         (SELECT set_config('client_connection_check_interval', '${checkInterval}', false)
           WHERE current_setting('server_version_num')::int >= 140000),
         pg_is_in_recovery() AS recovery${digest ? `, ${HISTORY_DIGEST_SQL} AS digest` : ''}`,
    );
    const pid = first.rows[0].pid;
    if (second.rows[0].pid !== pid || second.rows[0].probe !== token) {
      throw new PreconditionError(
        `${describeConnection(opts.connection)} is behind a transaction-mode pooler: the backend changed between two statements (pid ${pid} then ${second.rows[0].pid}), so session advisory locks and settings do not hold`,
        'host and port: point the migration Job at the database directly (or a session-mode pool), not at a transaction-mode PgBouncer',
      );
    }
    const serverVersion = Number(first.rows[0].v);
    if (primary && second.rows[0].recovery) {
      // A standby: every write and the advisory lock would fail. Mid-failover the old primary's address may still
      // lead here for a moment; otherwise PGHOST names a replica.
      throw new ConnectionError(
        `${describeConnection(opts.connection)} is a standby in recovery (read-only): a failover or switchover is under way, or PGHOST names a replica`,
        'host',
        'host and port: point the migration Job at the primary (CloudNativePG: the <cluster>-rw Service, never -ro or -r)',
        STANDBY,
      );
    }
    opts.onEvent?.({ type: 'connected', message: `connected to ${describeConnection(opts.connection)} as pid ${pid}` });
    return {
      client,
      pid,
      serverVersion,
      ...(history ? { historyColumns } : {}),
      ...(second.rows[0].digest !== undefined ? { historyDigest: second.rows[0].digest } : {}),
    };
  } catch (e) {
    await client.end().catch(() => undefined);
    throw wrapLost(e, opts.connection);
  }
}

/** A connection lost outside a migration file becomes a ConnectionError; typed errors pass through. */
function wrapLost(e: unknown, s: ConnectionSettings): unknown {
  if (e instanceof MigrateError) return e;
  if (isConnectionLoss(e)) {
    return new ConnectionError(
      `lost the connection to ${describeConnection(s)}: ${maskConnectionStrings((e as Error).message)}`,
      'connection',
      'advisory-lock connectivity: the server restarted or the network dropped; rerun (the runner is safe to rerun)',
      (e as { code?: string }).code,
    );
  }
  return e;
}

function isConnectionLoss(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (
    ['57P01', '57P02', '57P03', 'ECONNRESET', 'EPIPE', '08006', '08003', '08000'].includes(err.code ?? '') ||
    /Connection terminated|connection is closed|Client has encountered a connection error|not queryable/i.test(err.message ?? '')
  );
}

/** Takes the migration advisory lock, telling the caller whom it waits for while another session holds it. */
async function waitForMigrationLock(client: Client, opts: Resolved): Promise<void> {
  await acquireLock(client, opts.lockWaitMs, (holder?: LockHolder) =>
    opts.onEvent?.({
      type: 'lock-wait',
      message: `waiting for the migration advisory lock held by ${holder ? `pid ${holder.pid} (application_name ${JSON.stringify(holder.applicationName)})` : 'another session'}, up to ${Math.round(opts.lockWaitMs / 1000)} s (--lock-wait)`,
    }),
  );
}

async function withLockedSession<T>(o: RunnerOptions, fn: (s: Session, opts: Resolved) => Promise<T>): Promise<T> {
  const opts = resolveOptions(o);
  const session = await openSession(opts, true);
  const { client } = session;
  let locked = false;
  try {
    await waitForMigrationLock(client, opts);
    locked = true;
    opts.onEvent?.({ type: 'lock-acquired', message: 'holding the migration advisory lock' });
    return await fn(session, opts);
  } catch (e) {
    throw wrapLost(e, opts.connection);
  } finally {
    if (locked) await releaseLock(client).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** Check the user may create what this run needs, before anything runs. */
async function checkCreatePrivileges(client: Client, needTable: boolean, needSchema: boolean): Promise<void> {
  const r = await client.query<{ usr: string; schema: string | null; in_public: boolean; in_current: boolean | null }>(
    `SELECT current_user AS usr, current_schema() AS schema,
       has_schema_privilege(current_user, 'public', 'CREATE') AS in_public,
       CASE WHEN current_schema() IS NULL THEN NULL ELSE has_schema_privilege(current_user, current_schema(), 'CREATE') END AS in_current`,
  );
  const { usr, schema, in_public: inPublic, in_current: inCurrent } = r.rows[0];
  const pg15 = 'since PostgreSQL 15 only the database owner (or a role granted CREATE) may create in schema public';
  if (needTable && !inPublic) {
    throw new PreconditionError(
      `user ${JSON.stringify(usr)} cannot CREATE in schema public, where ${HISTORY_TABLE} must be created (${pg15})`,
      `the user: run the Job as the database owner role, or GRANT CREATE ON SCHEMA public TO "${usr}"`,
    );
  }
  if (needSchema) {
    if (schema === null) {
      throw new PreconditionError(
        `user ${JSON.stringify(usr)} has no existing schema in its search_path to create in`,
        'the user: its search_path (ALTER ROLE ... SET search_path) names schemas that do not exist',
      );
    }
    if (!inCurrent) {
      throw new PreconditionError(
        `user ${JSON.stringify(usr)} cannot CREATE in schema ${JSON.stringify(schema)}, the target of the pending migrations${schema === 'public' ? ` (${pg15})` : ''}`,
        `the user: run the Job as the database owner role, or GRANT CREATE ON SCHEMA "${schema}" TO "${usr}"`,
      );
    }
  }
}

/**
 * Apply every pending migration. The core of `caracal-migrate up` and of the migration Job.
 * A run with nothing to do reads the history without taking the lock (applied rows never go away, so the
 * answer cannot change under it); otherwise the same session takes the advisory lock, reads again, and writes.
 */
export async function migrateUp(
  o: RunnerOptions,
  after?: (result: MigrateResult, client: Client) => Promise<void>,
): Promise<MigrateResult> {
  // A refused name, a shared version or a bad manifest stops the run here, before any connection. The files are read
  // while the connection is opened: a file refused for its content stops the run before any statement of its own.
  const reading = beginDiscoveryForUp(o.dir);
  const opts = resolveOptions(o);
  const opening = openSession(opts, true, true);
  opening.catch(() => undefined); // awaited once the files are read (or closed, if one is refused)
  let discovery: Discovery;
  try {
    discovery = await reading();
  } catch (e) {
    void opening.then(
      (s) => s.client.end(),
      () => undefined,
    );
    throw e;
  }
  if (discovery.manifest) {
    opts.onEvent?.({
      type: 'manifest',
      message: `checksums of the ${discovery.files.length - discovery.read} files listed in ${discovery.manifest} taken from it; a file is read (and checked against it) only when applied`,
    });
  }
  // A connection lost mid-run (a restart, or a failover/switchover that moved the primary behind the same address,
  // as CloudNativePG's -rw Service does) is retried within --wait-for-db: the next session reconnects, takes the lock
  // and continues from the history (a transactional file was applied and recorded whole, or not at all).
  // The files' digest (what a no-op compares with the history's) is also computed while the connection is opened.
  const digest = filesDigest(discovery.files);
  let deadline: number | undefined;
  for (let lost = 1; ; lost++) {
    try {
      return await migrateUpOnce(discovery, digest, opts, after, lost === 1 ? opening : undefined);
    } catch (e) {
      if (!opts.waitForDbMs || !isLostMidRun(e)) throw e;
      deadline ??= Date.now() + opts.waitForDbMs;
      if (Date.now() >= deadline) throw e;
      opts.onEvent?.({
        type: 'reconnect',
        message: `the connection to ${describeConnection(opts.connection)} was lost (${(e as Error).message.split('\n')[0]}): the server restarted, or a failover or switchover moved the primary; reconnecting until ${Math.round(opts.waitForDbMs / 1000)} s after the first loss (--wait-for-db), then continuing from the history (attempt ${lost})`,
      });
      await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
    }
  }
}

/** Code of the ConnectionError for a session that landed on a standby. */
const STANDBY = 'STANDBY';

function isLostMidRun(e: unknown): boolean {
  if (e instanceof MigrationFailedError) return e.connectionLost;
  if (e instanceof ConnectionError) return e.field === 'connection' || e.code === STANDBY;
  return isConnectionLoss(e);
}

async function migrateUpOnce(
  discovery: Discovery,
  digest: string,
  opts: Resolved,
  after?: (result: MigrateResult, client: Client) => Promise<void>,
  opening?: Promise<Session>,
): Promise<MigrateResult> {
  const { files } = discovery;
  const { client, historyColumns: firstCols, historyDigest } = await (opening ?? openSession(opts, true, true));
  let locked = false;
  try {
    const result = await (async (): Promise<MigrateResult> => {
      if (firstCols && isCurrentLayout(firstCols)) {
        // Every file applied as it is, nothing else: one digest compares the whole history, no row comes back.
        if (historyDigest === digest) {
          opts.onEvent?.({ type: 'nothing-to-do', message: `nothing to do: ${migrations(files.length)} applied` });
          return { applied: [], alreadyApplied: files.length, ahead: [], adopted: [], historyTable: 'current' };
        }
        const plan = planMigrations(files, await readHistory(client, { columns: firstCols, planOnly: true }));
        assertPlanIsSafe(plan);
        if (plan.pending.length === 0 && plan.adoptable.length === 0) {
          if (plan.ahead.length > 0) opts.onEvent?.({ type: 'ahead', message: aheadMessage(plan) });
          opts.onEvent?.({ type: 'nothing-to-do', message: `nothing to do: ${migrations(plan.applied.length)} applied` });
          return { applied: [], alreadyApplied: plan.applied.length, ahead: plan.ahead, adopted: [], historyTable: 'current' };
        }
      }
      await waitForMigrationLock(client, opts);
      locked = true;
      opts.onEvent?.({ type: 'lock-acquired', message: 'holding the migration advisory lock' });
      return await migrateLocked(client, discovery, opts);
    })();
    if (locked) {
      await releaseLock(client);
      locked = false;
    }
    // The Job's provisioning runs on the same session: one connection (TLS, authentication) fewer.
    if (after) await after(result, client);
    return result;
  } catch (e) {
    throw wrapLost(e, opts.connection);
  } finally {
    if (locked) await releaseLock(client).catch(() => undefined);
    // Terminate goes out now. Waiting for the server to close the socket (its backend's exit: 3-4 ms of every run)
    // would hold nothing more: the lock is released and each file was committed or rolled back.
    void client.end().catch(() => undefined);
  }
}

async function migrateLocked(client: Client, discovery: Discovery, opts: Resolved): Promise<MigrateResult> {
  const { files } = discovery;
  const cols = await historyColumns(client);
  const earlyRows = cols ? await readHistory(client) : [];
  const earlyPlan = planMigrations(files, earlyRows);
  assertPlanIsSafe(earlyPlan);
  // With a manifest, the files to apply or adopt are read now: one that differs from it stops the run here.
  loadMigrationSql([...earlyPlan.pending, ...earlyPlan.adoptable.map((a) => a.file)], discovery);
  assertRunnable(earlyPlan.pending);
  await checkCreatePrivileges(client, cols === undefined, earlyPlan.pending.length > 0);

  const historyTable = await ensureHistoryTable(client);
  if (historyTable !== 'current') {
    opts.onEvent?.({ type: 'history-table', message: `${HISTORY_TABLE} ${historyTable}` });
  }
  const rows = historyTable === 'current' ? earlyRows : await readHistory(client);
  const plan = planMigrations(files, rows);
  assertPlanIsSafe(plan);
  loadMigrationSql([...plan.pending, ...plan.adoptable.map((a) => a.file)], discovery);

  const adopted = await adopt(client, plan, opts);
  if (plan.pending.length > 0) await lowerDeadlockTimeout(client, opts);
  const applied: AppliedResult[] = [];
  for (const file of plan.pending) {
    applied.push(await applyFile(client, file, opts));
  }
  if (plan.ahead.length > 0) {
    opts.onEvent?.({ type: 'ahead', message: aheadMessage(plan) });
  }
  if (applied.length === 0) {
    opts.onEvent?.({ type: 'nothing-to-do', message: `nothing to do: ${migrations(plan.applied.length + adopted.length)} applied` });
  }
  return { applied, alreadyApplied: plan.applied.length + plan.adoptable.length, ahead: plan.ahead, adopted, historyTable };
}

/** `1 migration`, `3 migrations`. */
function migrations(n: number): string {
  return `${n} migration${n === 1 ? '' : 's'}`;
}

export function aheadMessage(plan: MigrationPlan): string {
  const versions = plan.ahead.map((r) => `${r.version}${r.name ? ` (${r.name})` : ''}`).join(', ');
  return `the database is ahead of the migration files: ${versions} applied by a newer release; this is normal during an application rollback (migrations are expand-only), nothing to do`;
}

async function adopt(client: Client, plan: MigrationPlan, opts: Resolved): Promise<bigint[]> {
  const done: bigint[] = [];
  for (const { file } of plan.adoptable) {
    await client.query(
      `UPDATE ${HISTORY_TABLE} SET checksum = $2, name = coalesce(name, $3), adopted_at = now(), applied_by = coalesce(applied_by, 'older runner (adopted by ' || ${appliedByExpression()} || ')')
       WHERE version = $1 AND checksum IS NULL`,
      [file.version.toString(), file.checksum, file.name],
    );
    done.push(file.version);
  }
  if (done.length > 0) {
    opts.onEvent?.({
      type: 'adopted',
      message: `adopted ${migrations(done.length)} applied by the older runner: recorded their current checksums`,
    });
  }
  return done;
}

const RETRYABLE_LOCK_STATES = new Set(['55P03', '40P01']); // lock_not_available (lock_timeout), deadlock_detected

/** The one-line form of a notice, with its DETAIL and HINT on indented lines. */
export function formatNotice(n: ServerNotice): string {
  return [
    `${n.severity} from ${n.file}:${n.line}: ${n.message}`,
    ...(n.detail ? [`  DETAIL: ${n.detail}`] : []),
    ...(n.hint ? [`  HINT: ${n.hint}`] : []),
  ].join('\n');
}

/**
 * Run one statement of `file`, passing on what the server says while it runs (a WARNING from the baseline, a
 * NOTICE from a DO block) as 'notice' events. The runner's own statements (ROLLBACK, SET ...) are not attributed.
 */
async function runStatement(client: Client, sql: string, file: MigrationFile, stmt: SqlStatement, opts: Resolved): Promise<void> {
  const onNotice = (n: { severity?: string; message?: string; detail?: string; hint?: string; code?: string }) => {
    const mask = (text: string) => maskServerText(text, stmt.text, [opts.connection.password]);
    const notice: ServerNotice = {
      severity: n.severity ?? 'NOTICE',
      message: mask(String(n.message ?? '')),
      ...(n.detail ? { detail: mask(n.detail) } : {}),
      ...(n.hint ? { hint: mask(n.hint) } : {}),
      ...(n.code ? { sqlState: n.code } : {}),
      file: file.filename,
      line: stmt.line,
    };
    opts.onEvent?.({ type: 'notice', file: file.filename, message: formatNotice(notice), notice });
  };
  client.on('notice', onNotice);
  try {
    await client.query(sql);
  } finally {
    client.off('notice', onNotice);
  }
}

/** The longest pause between lock retries. */
export const LOCK_RETRY_BACKOFF_CAP_MS = 10_000;

/** The pause before lock retry `attempt` (0-based): src/migrate/backoff.ts, capped at LOCK_RETRY_BACKOFF_CAP_MS. */
export function lockRetryPause(attempt: number, firstMs: number, random: () => number = Math.random): number {
  return jitteredBackoff(attempt, firstMs, LOCK_RETRY_BACKOFF_CAP_MS, random);
}

/** Lower deadlock_timeout for the runner's session (see RunnerOptions.deadlockTimeoutMs); a missing privilege is a warning. */
async function lowerDeadlockTimeout(client: Client, opts: Resolved): Promise<void> {
  if (opts.deadlockTimeoutMs <= 0) return;
  try {
    await client.query(`SET deadlock_timeout = ${Math.round(opts.deadlockTimeoutMs)}`);
  } catch (e) {
    if ((e as { code?: string }).code !== '42501') throw e;
    opts.onEvent?.({
      type: 'warning',
      message: `cannot lower deadlock_timeout to ${opts.deadlockTimeoutMs} ms for the runner's session (${(e as Error).message}): in a deadlock with the running application Postgres may cancel the application's transaction instead of the runner's; once, as a superuser: GRANT SET ON PARAMETER deadlock_timeout TO ${describeUser(opts)} (Postgres 15+), see docs/runner.md`,
    });
  }
}

function describeUser(opts: Resolved): string {
  return /^[a-z_][a-z0-9_]*$/.test(opts.connection.user) ? opts.connection.user : JSON.stringify(opts.connection.user);
}

async function applyFile(client: Client, file: MigrationFile, opts: Resolved): Promise<AppliedResult> {
  opts.onEvent?.({
    type: 'applying',
    message: `applying ${file.filename}${file.noTransaction ? ' (no transaction)' : ''}`,
    file: file.filename,
  });
  const started = Date.now();
  if (file.noTransaction) {
    await applyWithoutTransaction(client, file, opts);
    const executionMs = Date.now() - started;
    await client.query(recordSql(file, executionMs));
    opts.onEvent?.({ type: 'applied', message: `applied ${file.filename} in ${executionMs} ms`, file: file.filename });
    return { version: file.version, name: file.name, filename: file.filename, executionMs };
  }
  // One transaction per file. BEGIN rides with the first statement and the history row with the last, so a
  // file costs one round trip per statement; statements still go one by one so a failure names its line.
  const prefix = `BEGIN; SET LOCAL lock_timeout = ${opts.lockTimeoutMs};\n`;
  const suffix = `\n;${recordSql(file)}; COMMIT`;
  for (let attempt = 0; ; attempt++) {
    const attemptStart = Date.now();
    let current: SqlStatement | undefined;
    let offset = 0;
    try {
      const stmts = file.statements;
      for (let i = 0; i < stmts.length; i++) {
        current = stmts[i];
        offset = i === 0 ? prefix.length : 0;
        await runStatement(client, `${i === 0 ? prefix : ''}${stmts[i].text}${i === stmts.length - 1 ? suffix : ''}`, file, stmts[i], opts);
      }
      const executionMs = Date.now() - attemptStart;
      opts.onEvent?.({ type: 'applied', message: `applied ${file.filename} in ${executionMs} ms`, file: file.filename });
      return { version: file.version, name: file.name, filename: file.filename, executionMs };
    } catch (e) {
      const lost = isConnectionLoss(e);
      if (!lost) await client.query('ROLLBACK').catch(() => undefined);
      const code = (e as { code?: string }).code;
      if (!lost && code && RETRYABLE_LOCK_STATES.has(code) && attempt < opts.lockRetries) {
        const wait = lockRetryPause(attempt, opts.lockRetryBackoffMs);
        opts.onEvent?.({
          type: 'retry',
          file: file.filename,
          message: `${file.filename}${current ? `:${current.line}` : ''} ${code === '55P03' ? 'hit lock_timeout' : 'hit a deadlock'} (SQLSTATE ${code}): another session holds a conflicting lock; rolled back, retry ${attempt + 1}/${opts.lockRetries} in ${(wait / 1000).toFixed(1)} s`,
        });
        await sleep(wait);
        continue;
      }
      throw failure(e, file, current, true, opts, offset);
    }
  }
}

async function applyWithoutTransaction(client: Client, file: MigrationFile, opts: Resolved): Promise<void> {
  // The statement that opened the transaction the server says is open now (its own BEGIN), if one is.
  let openedBy: SqlStatement | undefined;
  for (const stmt of file.statements) {
    const concurrent = isConcurrentStatement(stmt);
    // A concurrent build waits for old snapshots but blocks no traffic: no lock_timeout, its own statement_timeout.
    await client.query(
      concurrent
        ? `SET statement_timeout = ${opts.concurrentStatementTimeoutMs}; SET lock_timeout = 0`
        : `SET statement_timeout = ${opts.statementTimeoutMs}; SET lock_timeout = ${opts.lockTimeoutMs}`,
    );
    // Inside the file's own transaction a retry would rerun this statement alone, without the ones before it.
    const insideOwnTransaction = transactionStatus(client) !== 'idle';
    for (let attempt = 0; ; attempt++) {
      await dropInvalidIndex(client, file, stmt, opts);
      try {
        await runStatement(client, stmt.text, file, stmt, opts);
        break;
      } catch (e) {
        const lost = isConnectionLoss(e);
        // A statement that failed inside the file's own BEGIN leaves an aborted transaction: end it.
        if (!lost) await client.query('ROLLBACK').catch(() => undefined);
        const code = (e as { code?: string }).code;
        if (!lost && code && RETRYABLE_LOCK_STATES.has(code) && attempt < opts.lockRetries && !insideOwnTransaction) {
          const wait = lockRetryPause(attempt, opts.lockRetryBackoffMs);
          opts.onEvent?.({
            type: 'retry',
            file: file.filename,
            message: `${file.filename}:${stmt.line} hit ${code === '55P03' ? 'lock_timeout' : 'a deadlock'} (SQLSTATE ${code}); retry ${attempt + 1}/${opts.lockRetries} in ${(wait / 1000).toFixed(1)} s`,
          });
          await sleep(wait);
          continue;
        }
        throw failure(e, file, stmt, false, opts);
      }
    }
    openedBy = transactionStatus(client) === 'idle' ? undefined : (openedBy ?? stmt);
  }
  if (openedBy) {
    // Committing for the file would guess its intent; recording it would claim what the server has not kept.
    await client.query('ROLLBACK').catch(() => undefined);
    const last = file.statements[file.statements.length - 1];
    const opener = transactionControlStatements([openedBy]).length > 0 ? transactionControlCommand(openedBy) : 'the statement';
    throw new MigrationFailedError({
      file: file.filename,
      line: openedBy.line,
      transactional: false,
      detail:
        `the file leaves a transaction open: ${opener} at line ${openedBy.line} has no COMMIT before the end of the file, ` +
        `so the runner rolled back lines ${openedBy.line} to ${last.line} and did not record the file`,
      firstCheck:
        'the migration file: end the transaction it opens with COMMIT (a no-transaction file runs statement by statement; the runner never commits for it)',
    });
  }
  await client.query(`SET statement_timeout = ${opts.statementTimeoutMs}; SET lock_timeout = 0`);
}

export function isConcurrentStatement(stmt: SqlStatement): boolean {
  const k = stmt.keywords;
  return k.includes('concurrently') && (k[0] === 'create' || k[0] === 'reindex' || k[0] === 'drop' || k[0] === 'refresh');
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const CIC = new RegExp(
  String.raw`^create\s+(?:unique\s+)?index\s+concurrently\s+(?:if\s+not\s+exists\s+)?(${IDENT}(?:\s*\.\s*${IDENT})?)\s+on\b`,
  'i',
);

/** The index a CREATE INDEX CONCURRENTLY statement names, if it names one. */
export function concurrentIndexName(stmt: SqlStatement): string | undefined {
  return CIC.exec(stmt.text)?.[1].replace(/\s+/g, '');
}

/**
 * A failed CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would skip forever.
 * Before (re)running such a statement, drop an invalid index of that name.
 */
async function dropInvalidIndex(client: Client, file: MigrationFile, stmt: SqlStatement, opts: Resolved): Promise<void> {
  const name = concurrentIndexName(stmt);
  if (!name) return;
  const r = await client.query<{ valid: boolean; qualified: string }>(
    `SELECT i.indisvalid AS valid, format('%I.%I', n.nspname, c.relname) AS qualified
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE i.indexrelid = to_regclass($1)`,
    [name],
  );
  if (r.rows.length === 0 || r.rows[0].valid) return;
  opts.onEvent?.({
    type: 'invalid-index',
    file: file.filename,
    message: `${file.filename}:${stmt.line}: index ${r.rows[0].qualified} is INVALID (a concurrent build failed earlier): dropping it to build it again`,
  });
  await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${r.rows[0].qualified}`);
}

/** The history row. Without a measured time, the time since the transaction began (the file's BEGIN). */
function recordSql(file: MigrationFile, executionMs?: number): string {
  // Every value is of a checked shape (digits, [a-z0-9_], hex), so literals are safe here.
  const ms = executionMs === undefined ? '(extract(epoch FROM clock_timestamp() - now()) * 1000)::int' : String(Math.round(executionMs));
  return `INSERT INTO ${HISTORY_TABLE} (version, name, checksum, applied_at, execution_ms, applied_by)
    VALUES (${file.version}, '${file.name}', '${file.checksum}', now(), ${ms}, ${appliedByExpression()})`;
}

const FIRST_CHECKS: Record<string, string> = {
  '42501': "the user's privileges: the migration Job runs as the database owner role",
  '25001':
    'this statement cannot run inside a transaction: put the line `-- caracal:no-transaction` in the file (and make its statements idempotent)',
  '55P03':
    'advisory-lock connectivity and live traffic: a long transaction holds a lock on this table; raise --lock-timeout/--lock-retries or rerun when it ends',
  '40P01': 'live traffic: a deadlock with another session; rerun',
  '57014':
    'the statement ran past statement_timeout: raise --statement-timeout (or --concurrent-statement-timeout for CONCURRENTLY statements)',
};

function failure(
  e: unknown,
  file: MigrationFile,
  stmt: SqlStatement | undefined,
  transactional: boolean,
  opts: Resolved,
  offset = 0,
): MigrateError {
  if (e instanceof MigrateError) return e;
  const err = e as { code?: string; message?: string; position?: string; detail?: string; hint?: string; where?: string };
  if (isConnectionLoss(e)) {
    return new MigrationFailedError({
      file: file.filename,
      line: stmt?.line,
      sqlState: err.code?.match(/^[0-9A-Z]{5}$/) ? err.code : undefined,
      transactional,
      detail: `the connection to ${describeConnection(opts.connection)} was lost while applying it (${maskConnectionStrings(String(err.message))})`,
      firstCheck:
        'advisory-lock connectivity: the server restarted, failed over, or the network dropped; rerun once it is reachable (reruns are safe)',
      connectionLost: true,
    });
  }
  let line = stmt?.line;
  let column: number | undefined;
  const position = err.position ? Number(err.position) - offset : 0;
  if (stmt && position > 0 && position <= stmt.text.length + 1) {
    const lc = lineAndColumn(stmt.text, position);
    line = stmt.line + lc.line - 1;
    column = lc.line === 1 ? columnOf(file.sql, stmt.start) + lc.column - 1 : lc.column;
  }
  const extra = [err.detail && `DETAIL: ${err.detail}`, err.hint && `HINT: ${err.hint}`, err.where && `CONTEXT: ${err.where}`]
    .filter(Boolean)
    .join('\n');
  return new MigrationFailedError({
    file: file.filename,
    line,
    column,
    sqlState: err.code,
    transactional,
    detail: maskServerText(`${err.message}${extra ? `\n${extra}` : ''}`, stmt?.text ?? '', [opts.connection.password]),
    firstCheck: (err.code && FIRST_CHECKS[err.code]) ?? 'the SQL at that line',
  });
}

function columnOf(text: string, offset: number): number {
  return offset - text.lastIndexOf('\n', offset - 1);
}

export interface StatusResult {
  readonly files: readonly MigrationFile[];
  readonly rows: readonly AppliedMigration[];
  readonly plan: MigrationPlan;
  /** False when public.schema_migrations does not exist yet. */
  readonly historyTableExists: boolean;
}

/** Read-only comparison of the files with the database (no lock, no writes). The core of `status` and `verify`. */
export async function migrationStatus(o: RunnerOptions): Promise<StatusResult> {
  const files = discoverMigrations(o.dir);
  const { client } = await openSession(o);
  try {
    const exists = (await historyColumns(client)) !== undefined;
    const rows = exists ? await readHistory(client) : [];
    return { files, rows, plan: planMigrations(files, rows), historyTableExists: exists };
  } catch (e) {
    throw wrapLost(e, o.connection);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface RepairOptions extends RunnerOptions {
  /** Versions whose recorded checksum is replaced by the file's current one, after review. */
  readonly versions: readonly bigint[];
  /** Why (recorded with who and when). */
  readonly reason?: string;
  /** A changed file name of these versions is a rename of the same change: record the new name. Refused otherwise. */
  readonly rename?: boolean;
}

/** One version as repair compared it: the file in the directory against the history row. */
export interface RepairComparison {
  readonly version: bigint;
  readonly filename: string;
  readonly fileChecksum: string;
  /** The file name the history records (spelled with the file's version digits). */
  readonly appliedAs: string;
  readonly appliedChecksum: string | null;
}

export interface RepairResult {
  /** The migrations directory compared, absolute. */
  readonly directory: string;
  readonly compared: readonly RepairComparison[];
  readonly repaired: ReadonlyArray<{
    version: bigint;
    filename: string;
    previousChecksum: string | null;
    checksum: string;
    /** The recorded file name before a --rename, when it changed. */
    renamedFrom?: string;
  }>;
  readonly unchanged: readonly bigint[];
}

/** Accept deliberate, reviewed edits of applied files: record the new checksum (and a reviewed rename), who, when and why. */
export async function repairMigrations(o: RepairOptions): Promise<RepairResult> {
  const files = discoverMigrations(o.dir);
  if (o.versions.length === 0) throw new ConfigError('repair needs --version N (one or more): the versions whose edit was reviewed');
  return withLockedSession(o, async ({ client }, opts) => {
    await ensureHistoryTable(client);
    const rows = new Map((await readHistory(client)).map((r) => [r.version, r]));
    const byVersion = new Map(files.map((f) => [f.version, f]));
    const problems: string[] = [];
    for (const v of o.versions) {
      const row = rows.get(v);
      const file = byVersion.get(v);
      if (!row) problems.push(`--version ${v}: not applied in this database, nothing to repair`);
      else if (!file) problems.push(`--version ${v}: no migration file with this version in ${o.dir}`);
      else if (isRenamed(file, row) && !o.rename)
        problems.push(
          `version ${v}: the file is ${file.filename} but ${appliedFilename(file, row)} was applied (directory ${o.dir}): ` +
            'a different file under an applied version is a new change, not an edit; give it a new version, or if it is a rename of the same change, repair with --rename',
        );
    }
    if (problems.length > 0) {
      throw new ConfigError(
        problems.length === 1 ? problems[0] : `repair refused ${problems.length} versions:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
        `the migrations directory ${o.dir} and public.schema_migrations: repair only versions whose applied file was edited (or renamed, with --rename) after review`,
      );
    }
    const compared: RepairComparison[] = o.versions.map((v) => {
      const file = byVersion.get(v)!;
      const row = rows.get(v)!;
      return {
        version: v,
        filename: file.filename,
        fileChecksum: file.checksum,
        appliedAs: appliedFilename(file, row),
        appliedChecksum: row.checksum,
      };
    });
    const result: { repaired: Array<RepairResult['repaired'][number]>; unchanged: bigint[] } = { repaired: [], unchanged: [] };
    await client.query('BEGIN');
    try {
      for (const v of o.versions) {
        const row = rows.get(v)!;
        const file = byVersion.get(v)!;
        const renamedFrom = isRenamed(file, row) ? appliedFilename(file, row) : undefined;
        if (row.checksum === file.checksum && !renamedFrom) {
          result.unchanged.push(v);
          continue;
        }
        // The history keeps one reason per version: a rename is recorded in it, next to the operator's words.
        const reason = renamedFrom ? [o.reason, `renamed from ${renamedFrom}`].filter(Boolean).join('; ') : (o.reason ?? null);
        await client.query(
          `UPDATE ${HISTORY_TABLE} SET previous_checksum = checksum, checksum = $2, name = $4, repaired_at = now(), repaired_by = ${appliedByExpression()}, repair_reason = $3
           WHERE version = $1`,
          [v.toString(), file.checksum, reason, file.name],
        );
        result.repaired.push({ version: v, filename: file.filename, previousChecksum: row.checksum, checksum: file.checksum, renamedFrom });
        opts.onEvent?.({
          type: 'repaired',
          file: file.filename,
          message: `repaired ${file.filename}: recorded checksum ${file.checksum.slice(0, 12)}… (was ${row.checksum?.slice(0, 12) ?? 'none'}…)${renamedFrom ? ` and the name (was ${renamedFrom})` : ''}`,
        });
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
    return { directory: o.dir, compared, ...result };
  });
}
