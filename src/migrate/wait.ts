// `caracal-migrate wait` as a library: an init container's gate. It polls public.schema_migrations, as the service's
// own login, with growing jittered pauses, until the schema has the version the service needs (or every version of
// a directory of migration files), and gives up at a deadline. It never writes and never takes a lock.
import type { Client } from 'pg';
import { jitteredBackoff } from './backoff';
import { connect, ConnectionSettings, sleep } from './connection';
import { ConfigError } from './errors';
import { HISTORY_TABLE } from './history';

export type WaitTarget = { readonly version: bigint } | { readonly versions: readonly bigint[]; readonly dir: string };

export interface WaitOptions {
  readonly connection: ConnectionSettings;
  readonly target: WaitTarget;
  /** Give up after this long (ms). */
  readonly timeoutMs: number;
  /** First pause between polls, doubled each time up to `maxBackoffMs`, jittered. @default 250 */
  readonly backoffMs?: number;
  /** @default 5000 */
  readonly maxBackoffMs?: number;
  /** One line per change of what the gate sees (not per poll). */
  readonly onProgress?: (message: string) => void;
}

export interface WaitResult {
  readonly reached: boolean;
  /** The newest applied version at the last successful poll; null when the table was empty or missing; undefined when never read. */
  readonly newest?: bigint | null;
  /** Versions still missing (the target version, or the directory's versions not yet applied). */
  readonly missing: readonly bigint[];
  /** Why the last poll could not read the history, when it could not. */
  readonly lastError?: string;
  readonly polls: number;
  readonly waitedMs: number;
}

async function poll(client: Client, target: WaitTarget): Promise<{ newest: bigint | null; missing: bigint[] }> {
  // `substring(...)::bigint` also reads the older runner's text versions ("0001", "0001_baseline.up.sql").
  const versions = `SELECT substring(version::text FROM '^[0-9]+')::bigint AS v FROM ${HISTORY_TABLE}`;
  const r = await client.query<{ newest: string | null; present: string[] | null }>(
    `SELECT max(v)::text AS newest, array_agg(v::text) FILTER (WHERE v = ANY($1::bigint[])) AS present FROM (${versions}) h`,
    ['version' in target ? [target.version.toString()] : target.versions.map(String)],
  );
  const newest = r.rows[0].newest === null ? null : BigInt(r.rows[0].newest);
  const present = new Set((r.rows[0].present ?? []).map((v) => BigInt(v)));
  if ('version' in target) {
    // Applied in order and never out of order (the runner refuses that), so anything newer means it is there.
    return { newest, missing: newest !== null && newest >= target.version ? [] : [target.version] };
  }
  return { newest, missing: target.versions.filter((v) => !present.has(v)) };
}

function errorText(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const message = err.message ?? String(e);
  return err.code && /^[0-9A-Z]{5}$/.test(err.code) && !message.includes(err.code) ? `${message} (SQLSTATE ${err.code})` : message;
}

/** Wait until the target is applied or the deadline passes. Throws only for a bad local setting (ConfigError). */
export async function waitForSchema(o: WaitOptions): Promise<WaitResult> {
  const started = Date.now();
  const deadline = started + o.timeoutMs;
  let client: Client | undefined;
  let newest: bigint | null | undefined;
  let missing: bigint[] = 'version' in o.target ? [o.target.version] : [...o.target.versions];
  let lastError: string | undefined;
  let lastSaid = '';
  const say = (m: string) => {
    if (m !== lastSaid) o.onProgress?.(m);
    lastSaid = m;
  };
  let polls = 0;
  try {
    for (let attempt = 0; ; attempt++) {
      polls++;
      try {
        if (!client) {
          const c = await connect(o.connection);
          c.on('error', () => undefined);
          client = c;
          await c.query(`SET statement_timeout = '10s'`);
        }
      } catch (e) {
        // Late rather than wrong, as far as the gate can tell (the server starting, the login not provisioned
        // yet): keep waiting, and say at the deadline what the last attempt saw. A bad local setting ends it now.
        if (e instanceof ConfigError) throw e;
        lastError = errorText(e);
        say(`cannot connect yet: ${lastError}`);
        await client?.end().catch(() => undefined);
        client = undefined;
      }
      if (client) {
        try {
          const seen = await poll(client, o.target);
          newest = seen.newest;
          missing = seen.missing;
          lastError = undefined;
          if (missing.length === 0) return { reached: true, newest, missing, polls, waitedMs: Date.now() - started };
          say(
            `schema at version ${newest ?? 'none'}; waiting for ${missing.length === 1 ? `version ${missing[0]}` : `${missing.length} versions`}`,
          );
        } catch (e) {
          const code = (e as { code?: string }).code ?? '';
          lastError =
            code === '42P01'
              ? `${HISTORY_TABLE} does not exist yet (no migration has run)`
              : code === '42501'
                ? `${errorText(e)}: the login may not read ${HISTORY_TABLE} yet (docs/access-matrix.md: every service role reads it once 0003_schema_migrations_read is applied)`
                : errorText(e);
          say(`cannot read the schema version yet: ${lastError}`);
          await client.end().catch(() => undefined);
          client = undefined;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) return { reached: false, newest, missing, lastError, polls, waitedMs: Date.now() - started };
      await sleep(Math.min(jitteredBackoff(attempt, o.backoffMs ?? 250, o.maxBackoffMs ?? 5000), left));
    }
  } finally {
    await client?.end().catch(() => undefined);
  }
}
