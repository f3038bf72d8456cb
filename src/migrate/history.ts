// public.schema_migrations: creation and in-place upgrade (adoption of the older shell runner's table), reads,
// and the advisory lock that serializes runners. Everything that writes here runs while holding the lock.
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { Client } from 'pg';
import { LockTimeoutError, PreconditionError } from './errors';
import { sleep } from './connection';

/** The fixed advisory lock key of caracal-migrate: the bytes of "caracal1" as a bigint (0x63617261_63616c31). */
export const ADVISORY_LOCK_KEY = '7161130645100522545';
const LOCK_CLASSID = 0x63617261;
const LOCK_OBJID = 0x63616c31;

export const HISTORY_TABLE = 'public.schema_migrations';

export interface AppliedMigration {
  readonly version: bigint;
  readonly name: string | null;
  /** Null for rows adopted from the older runner until their checksum is recorded. */
  readonly checksum: string | null;
  readonly appliedAt: Date | null;
  readonly executionMs: number | null;
  readonly appliedBy: string | null;
  readonly repairedAt: Date | null;
  readonly repairedBy: string | null;
}

const COLUMNS: Array<[string, string]> = [
  ['name', 'text'],
  ['checksum', 'text'],
  ['applied_at', 'timestamptz NOT NULL DEFAULT now()'],
  ['execution_ms', 'integer'],
  ['applied_by', 'text'],
  ['adopted_at', 'timestamptz'],
  ['repaired_at', 'timestamptz'],
  ['repaired_by', 'text'],
  ['repair_reason', 'text'],
  ['previous_checksum', 'text'],
];

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (
  version bigint PRIMARY KEY,
  name text NOT NULL,
  checksum text,
  applied_at timestamptz NOT NULL DEFAULT now(),
  execution_ms integer,
  applied_by text,
  adopted_at timestamptz,
  repaired_at timestamptz,
  repaired_by text,
  repair_reason text,
  previous_checksum text
)`;

/** Who applies: the role, the program and the host (the pod name in Kubernetes). */
export function appliedByExpression(): string {
  const host = os
    .hostname()
    .replace(/[^A-Za-z0-9._-]/g, '')
    .slice(0, 100);
  return `current_user || ' (' || current_setting('application_name') || ' on ${host})'`;
}

/** A SQL expression: the table's columns as a JSON object (name -> SQL type), NULL when the table does not exist. */
export const HISTORY_COLUMNS_SQL = `(SELECT json_object_agg(a.attname, format_type(a.atttypid, a.atttypmod)) FROM pg_attribute a
     WHERE a.attrelid = to_regclass('${HISTORY_TABLE}') AND a.attnum > 0 AND NOT a.attisdropped)`;

/** HISTORY_COLUMNS_SQL's value as a map; undefined when the table does not exist. */
export function columnsFrom(json: Record<string, string> | null): Map<string, string> | undefined {
  return json ? new Map(Object.entries(json)) : undefined;
}

/** Column name -> SQL type of the existing table, or undefined when it does not exist. */
export async function historyColumns(client: Client): Promise<Map<string, string> | undefined> {
  const r = await client.query<{ cols: Record<string, string> | null }>(`SELECT ${HISTORY_COLUMNS_SQL} AS cols`);
  return columnsFrom(r.rows[0].cols);
}

/**
 * Create the table, or upgrade an older one in place (a text `version` such as "0001" or "0001_baseline.up.sql",
 * missing columns, no checksums). Idempotent; call only while holding the advisory lock.
 * Returns what was done, for the log.
 */
export async function ensureHistoryTable(client: Client): Promise<'created' | 'upgraded' | 'current'> {
  const cols = await historyColumns(client);
  if (!cols) {
    await client.query(CREATE_TABLE);
    return 'created';
  }
  const missing = COLUMNS.filter(([n]) => !cols.has(n));
  const versionType = cols.get('version');
  if (!versionType) {
    throw new PreconditionError(
      `${HISTORY_TABLE} exists but has no "version" column: it was not written by a Caracal runner`,
      'the database: is this the Caracal database? rename the foreign table, or point PGDATABASE at the right database',
    );
  }
  const textVersion = versionType !== 'bigint';
  const hasUniqueVersion =
    (
      await client.query(
        `SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
     WHERE i.indrelid = to_regclass('${HISTORY_TABLE}') AND i.indisunique AND i.indnatts = 1 AND a.attname = 'version'`,
      )
    ).rowCount! > 0;
  if (missing.length === 0 && !textVersion && hasUniqueVersion) return 'current';

  await client.query('BEGIN');
  try {
    for (const [name, type] of missing) {
      await client.query(`ALTER TABLE ${HISTORY_TABLE} ADD COLUMN IF NOT EXISTS ${name} ${type}`);
    }
    if (textVersion) {
      const bad = await client.query<{ version: string }>(
        `SELECT version::text AS version FROM ${HISTORY_TABLE} WHERE version::text !~ '^[0-9]{1,18}' LIMIT 5`,
      );
      if (bad.rows.length > 0) {
        throw new PreconditionError(
          `cannot adopt ${HISTORY_TABLE}: versions ${bad.rows.map((r) => JSON.stringify(r.version)).join(', ')} do not start with a number`,
          'the database: fix those rows by hand (version must start with the migration number), then rerun',
        );
      }
      await client.query(`UPDATE ${HISTORY_TABLE}
        SET name = coalesce(name, nullif(regexp_replace(regexp_replace(version::text, '^[0-9]+_?', ''), '\\.up\\.sql$|\\.sql$', ''), ''))`);
      await client.query(
        `ALTER TABLE ${HISTORY_TABLE} ALTER COLUMN version TYPE bigint USING (substring(version::text FROM '^[0-9]+'))::bigint`,
      );
    }
    if (!hasUniqueVersion) {
      await client.query(`ALTER TABLE ${HISTORY_TABLE} ADD PRIMARY KEY (version)`);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
  return 'upgraded';
}

/** True when the table has the current layout (no upgrade needed). */
export function isCurrentLayout(cols: Map<string, string>): boolean {
  return cols.get('version') === 'bigint' && COLUMNS.every(([n]) => cols.has(n));
}

/** Applied rows, oldest first. Tolerates the older table layout (missing columns read as null). */
export async function readHistory(
  client: Client,
  opts: {
    /** The table's columns when the caller just read them (saves a round trip). */
    readonly columns?: Map<string, string>;
    /** Only what planning needs (version, name, checksum): the no-op path of 1,000 applied files parses no dates. */
    readonly planOnly?: boolean;
  } = {},
): Promise<AppliedMigration[]> {
  const cols = opts.columns ?? (await historyColumns(client));
  if (!cols) return [];
  const col = (n: string, cast = '') => (cols.has(n) && !(opts.planOnly && !PLAN_COLUMNS.has(n)) ? `${n}${cast}` : `NULL${cast}`);
  const r = await client.query(
    `SELECT substring(version::text FROM '^[0-9]+') AS version, ${col('name', '::text')} AS name, ${col('checksum', '::text')} AS checksum,
       ${col('applied_at', '::timestamptz')} AS applied_at, ${col('execution_ms', '::int')} AS execution_ms,
       ${col('applied_by', '::text')} AS applied_by, ${col('repaired_at', '::timestamptz')} AS repaired_at, ${col('repaired_by', '::text')} AS repaired_by
     FROM ${HISTORY_TABLE}`,
  );
  return r.rows
    .filter((row) => row.version !== null)
    .map((row) => ({
      version: BigInt(row.version),
      name: row.name,
      checksum: row.checksum,
      appliedAt: row.applied_at,
      executionMs: row.execution_ms,
      appliedBy: row.applied_by,
      repairedAt: row.repaired_at,
      repairedBy: row.repaired_by,
    }))
    .sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

const PLAN_COLUMNS = new Set(['name', 'checksum']);

/**
 * A SQL expression (for a table of the current layout): one SHA-256 over every row's version, name and checksum in
 * version order. It equals filesDigest(files) exactly when the history holds these files, each under its name with
 * its checksum, and no other row, so a no-op run compares the whole history without a row coming back. format()
 * turns a NULL name or checksum (rows of the older runner) into '', which no file's line has.
 */
export const HISTORY_DIGEST_SQL = `(SELECT encode(sha256(convert_to(coalesce(string_agg(format('%s %s %s', version, name, checksum), E'\\n' ORDER BY version), ''), 'UTF8')), 'hex') FROM ${HISTORY_TABLE})`;

/** The digest HISTORY_DIGEST_SQL returns when the history holds exactly `files`. */
export function filesDigest(files: ReadonlyArray<{ readonly version: bigint; readonly name: string; readonly checksum: string }>): string {
  return createHash('sha256')
    .update(files.map((f) => `${f.version} ${f.name} ${f.checksum}`).join('\n'), 'utf8')
    .digest('hex');
}

export interface LockHolder {
  readonly pid: number;
  readonly applicationName: string;
  /** The holder's login, when this session may see it. */
  readonly user?: string;
  /** When the holder connected (a runner takes the lock right after connecting). */
  readonly since?: Date;
  /** The holder's state (`active`, `idle`, ...) and since when, when this session may see them (pg_read_all_stats). */
  readonly state?: string;
  readonly stateSince?: Date;
}

/** The session holding caracal-migrate's advisory lock in this database, if any. */
export async function lockHolder(client: Client): Promise<LockHolder | undefined> {
  const r = await client.query<{
    pid: number;
    app: string;
    usename: string | null;
    since: Date | null;
    state: string | null;
    state_change: Date | null;
  }>(
    `SELECT l.pid, coalesce(a.application_name, '') AS app, a.usename, a.backend_start AS since, a.state, a.state_change
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${LOCK_CLASSID}::oid AND l.objid = ${LOCK_OBJID}::oid AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.pid <> pg_backend_pid()
     LIMIT 1`,
  );
  const h = r.rows[0];
  if (!h) return undefined;
  return {
    pid: h.pid,
    applicationName: h.app,
    ...(h.usename ? { user: h.usename } : {}),
    ...(h.since ? { since: h.since } : {}),
    ...(h.state ? { state: h.state } : {}),
    ...(h.state_change ? { stateSince: h.state_change } : {}),
  };
}

/**
 * Take the session advisory lock with pg_try_advisory_lock in a retry loop until `waitMs` passes.
 * Never a blocking pg_advisory_lock: such a waiter holds a snapshot, and CREATE INDEX CONCURRENTLY in the
 * holder's session waits for it, which deadlocks.
 */
export async function acquireLock(client: Client, waitMs: number, onWait?: (holder: LockHolder | undefined) => void): Promise<void> {
  const started = Date.now();
  let announced = false;
  for (let attempt = 0; ; attempt++) {
    const r = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${ADVISORY_LOCK_KEY}) AS ok`);
    if (r.rows[0].ok) return;
    const elapsed = Date.now() - started;
    if (elapsed >= waitMs) {
      throw new LockTimeoutError(waitMs, await lockHolder(client));
    }
    if (!announced) {
      announced = true;
      onWait?.(await lockHolder(client));
    }
    const pause = Math.min(50 * 2 ** Math.min(attempt, 3), 250) * (0.5 + Math.random());
    await sleep(Math.min(pause, waitMs - elapsed));
  }
}

export async function releaseLock(client: Client): Promise<void> {
  await client.query(`SELECT pg_advisory_unlock(${ADVISORY_LOCK_KEY})`);
}
