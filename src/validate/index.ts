// `validate` as a library: the seed's validateMigrations. Static checks on the files (grammar, expand-only),
// then on scratch databases of the given server: apply, apply again (no-op), concurrent migrators, and the
// `verify` checks. Scratch databases are always dropped.
import { createHash, randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { connect, ConnectionSettings } from '../migrate/connection';
import { MigrateError, PreconditionError } from '../migrate/errors';
import { discoverMigrations, MigrationFile } from '../migrate/files';
import { readHistory } from '../migrate/history';
import { runnabilityProblems } from '../migrate/runnable';
import { migrateUp, RunnerOptions, ServerNotice } from '../migrate/runner';
import { FIRST_CHECK } from '../verify/checks';
import type { CheckResult } from '../verify/checks';
import { verifyWithClient } from '../verify';
import { checkExpandOnly, formatFinding } from './expand-only';

export interface ValidateOptions {
  readonly dir: string;
  /** A server where the user may CREATE DATABASE (its database is only used to create and drop scratch ones); not needed with staticOnly. */
  readonly server?: ConnectionSettings;
  /** Concurrent migrators on the second scratch database (default 4). */
  readonly concurrency?: number;
  /** Static checks only (no database). */
  readonly staticOnly?: boolean;
  readonly accessMatrixFile?: string;
  /** Runner options passed through (lock wait, timeouts). */
  readonly runner?: Partial<Omit<RunnerOptions, 'dir' | 'connection'>>;
  /** Called with each check as soon as it is known (the CLI prints one line per check). */
  readonly onCheck?: (check: CheckResult) => void;
  readonly onProgress?: (message: string) => void;
  /** Called with each WARNING/NOTICE the server sends while the files are applied to the empty database. */
  readonly onNotice?: (notice: ServerNotice) => void;
  /** Called with the scratch database names as soon as they are chosen (before they exist), for cleanup on a signal. */
  readonly onScratchDatabases?: (names: readonly string[]) => void;
}

/** Drop scratch databases from a fresh connection (for a CLI interrupted by SIGINT/SIGTERM mid-run). */
export async function dropScratchDatabases(server: ConnectionSettings, names: readonly string[]): Promise<void> {
  const admin = await connect(server);
  try {
    for (const db of names) await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

export interface ValidateReport {
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
  /** What the server said while the files were applied to the empty database (the first apply only). */
  readonly notices: readonly ServerNotice[];
}

const FIRST_CHECK_FILES = 'the migration files: run `caracal-migrate validate --static` locally; expand-only rules are in docs/verify.md';

/** The same settings, another database (the password stays non-enumerable). */
export function withDatabase(s: ConnectionSettings, database: string): ConnectionSettings {
  const copy = Object.create(Object.getPrototypeOf(s), Object.getOwnPropertyDescriptors(s)) as ConnectionSettings;
  Object.defineProperty(copy, 'database', { value: database, enumerable: true });
  return copy;
}

/**
 * A fingerprint of the schema objects migrations create (columns, constraints, indexes, triggers, policies,
 * grants, RLS flags, functions), so "applied twice" and "applied concurrently" can be compared with "applied once".
 */
export async function schemaFingerprint(client: Client): Promise<string> {
  const r = await client.query<{ line: string }>(`
    SELECT format('rel %s %s rls=%s/%s acl=%s', c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity, c.relacl::text) AS line
      FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
    UNION ALL
    SELECT format('col %s.%s %s notnull=%s default=%s acl=%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(d.adbin, d.adrelid), a.attacl::text)
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('con %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid)) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
     WHERE c.relnamespace = 'public'::regnamespace
    UNION ALL
    SELECT format('idx %s valid=%s', pg_get_indexdef(x.indexrelid), x.indisvalid) FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
     WHERE c.relnamespace = 'public'::regnamespace
    UNION ALL
    SELECT format('trg %s.%s %s enabled=%s', c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT format('pol %s.%s %s %s %s', c.relname, p.polname, p.polcmd, pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
      FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = 'public'::regnamespace
    UNION ALL
    SELECT format('fn %s %s acl=%s', p.oid::regprocedure, md5(p.prosrc), p.proacl::text) FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
    ORDER BY 1`);
  return createHash('sha256')
    .update(r.rows.map((x) => x.line).join('\n'))
    .digest('hex');
}

function ok(id: string, summary: string, details: string[] = []): CheckResult {
  return { id, ok: true, summary, details, firstCheck: '' };
}

function fail(id: string, summary: string, details: string[], firstCheck: string): CheckResult {
  return { id, ok: false, summary, details, firstCheck };
}

function errorText(e: unknown): string {
  const err = e as Error & { firstCheck?: string };
  return (err instanceof MigrateError ? err.message : `${err.message ?? String(e)}`).replace(/\n+/g, '; ');
}

/** Run every validation step; never throws for a failed check (only for a server it cannot use). */
export async function validateMigrations(o: ValidateOptions): Promise<ValidateReport> {
  const checks: CheckResult[] = [];
  const push = (c: CheckResult) => {
    checks.push(c);
    o.onCheck?.(c);
  };
  const notices: ServerNotice[] = [];
  const done = () => ({ ok: checks.every((c) => c.ok), checks, notices });

  // 1. The filename grammar (the runner's own discovery: the Job would refuse the same files).
  // Then what the runner would refuse in them (own transaction control, psql-only syntax), for every file.
  let files: MigrationFile[];
  try {
    files = discoverMigrations(o.dir);
  } catch (e) {
    push(fail('filenames', errorText(e), [], (e as MigrateError).firstCheck ?? FIRST_CHECK_FILES));
    return done();
  }
  const unrunnable = files.flatMap(runnabilityProblems);
  if (unrunnable.length > 0) {
    push(
      fail(
        'filenames',
        `${new Set(unrunnable.map((p) => p.file)).size} migration file(s) hold what the runner cannot run`,
        unrunnable.map((p) => `${p.message}; instead: ${p.instead}`),
        FIRST_CHECK_FILES,
      ),
    );
    return done();
  }
  push(ok('filenames', `${files.length} migration file(s) follow NNNN_name.up.sql, no unsafe entries`));

  // 2. Expand-only discipline.
  const expand = await checkExpandOnly(
    files.map((f) => ({ filename: f.filename, version: f.version, sql: f.sql, noTransaction: f.noTransaction })),
  );
  const allowed = expand.allowedInContract.map((f) => `allowed (contract phase): ${f.file}:${f.line}: ${f.rule}: ${f.what}`);
  push(
    expand.violations.length
      ? fail(
          'expand-only',
          `${expand.violations.length} statement(s) break expand-only discipline (the previous application version still serves traffic)`,
          [...expand.violations.map(formatFinding), ...allowed],
          'make the change expand-only (see "instead"), or move it to a later file tagged `-- caracal:phase contract`',
        )
      : ok(
          'expand-only',
          `${expand.filesChecked} file(s) are expand-only (baseline exempt${allowed.length ? `, ${allowed.length} contract-phase statement(s) allowed` : ''})`,
          allowed,
        ),
  );
  if (o.staticOnly) return done();
  if (!o.server) throw new Error('validateMigrations: a server is needed unless staticOnly');
  const server = o.server;

  // 3. Scratch databases on the server.
  const admin = await connect(server);
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const scratch = [`caracal_validate_${suffix}_a`, `caracal_validate_${suffix}_b`];
  o.onScratchDatabases?.(scratch);
  const runner = (database: string): RunnerOptions => ({
    lockWaitMs: 120_000,
    ...o.runner,
    dir: o.dir,
    connection: withDatabase(server, database),
  });
  try {
    for (const db of scratch) {
      try {
        await admin.query(`CREATE DATABASE "${db}"`);
      } catch (e) {
        throw new PreconditionError(
          `cannot create the scratch database ${db} on ${server.host}:${server.port} as ${server.user}: ${(e as Error).message}`,
          'validate needs a server where its user may CREATE DATABASE (a local or CI Postgres, never production); --static checks the files without one',
        );
      }
    }
    o.onProgress?.(`scratch databases ${scratch.join(', ')} created on ${server.host}:${server.port}`);

    let first;
    try {
      first = await migrateUp({
        ...runner(scratch[0]),
        onEvent: (e) => {
          if (!e.notice) return;
          notices.push(e.notice);
          o.onNotice?.(e.notice);
        },
      });
      push(ok('apply', `${first.applied.length} migration(s) applied to an empty database`));
    } catch (e) {
      push(
        fail(
          'apply',
          `applying to an empty database failed: ${errorText(e)}`,
          [],
          (e as MigrateError).firstCheck ?? FIRST_CHECK.migrations,
        ),
      );
      return done();
    }

    const a = await connect(withDatabase(server, scratch[0]));
    try {
      const before = await schemaFingerprint(a);
      try {
        const second = await migrateUp(runner(scratch[0]));
        const after = await schemaFingerprint(a);
        const problems = [
          ...(second.applied.length ? [`the second run applied ${second.applied.map((x) => x.filename).join(', ')}`] : []),
          ...(before !== after ? ['the schema changed between the first and the second run'] : []),
        ];
        push(
          problems.length
            ? fail('idempotent', 'applying again was not a no-op', problems, FIRST_CHECK.migrations)
            : ok('idempotent', 'applying again is a no-op (nothing applied, schema unchanged)'),
        );
      } catch (e) {
        push(fail('idempotent', `applying again failed: ${errorText(e)}`, [], FIRST_CHECK.migrations));
      }

      // 4. Concurrent migrators on the second scratch database: all succeed, each version recorded once,
      // and the result equals the serial one.
      const n = o.concurrency ?? 4;
      const results = await Promise.allSettled(Array.from({ length: n }, () => migrateUp(runner(scratch[1]))));
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => errorText(r.reason));
      const b = await connect(withDatabase(server, scratch[1]));
      try {
        const rows = await readHistory(b);
        const appliedTotal = results.reduce((sum, r) => sum + (r.status === 'fulfilled' ? r.value.applied.length : 0), 0);
        const problems = [...failures.map((f) => `a migrator failed: ${f}`)];
        if (rows.length !== files.length) problems.push(`${rows.length} version(s) recorded, expected ${files.length}`);
        if (appliedTotal !== files.length)
          problems.push(`${appliedTotal} file application(s) across ${n} migrators, expected ${files.length} (each file exactly once)`);
        if ((await schemaFingerprint(b)) !== before) problems.push('the schema differs from the one a single migrator produced');
        push(
          problems.length
            ? fail('concurrent-migrators', `${n} concurrent migrators did not converge`, problems, FIRST_CHECK.migrations)
            : ok(
                'concurrent-migrators',
                `${n} concurrent migrators: all exited cleanly, each file applied once, same schema as a single run`,
              ),
        );
      } finally {
        await b.end().catch(() => undefined);
      }

      // 5. The database checks of `verify`, behavioural probes included (a scratch database).
      const report = await verifyWithClient(a, { dir: o.dir, behavioural: true, accessMatrixFile: o.accessMatrixFile });
      for (const c of report.checks) push(c);
    } finally {
      await a.end().catch(() => undefined);
    }
    return done();
  } finally {
    for (const db of scratch) {
      await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
    }
    await admin.end().catch(() => undefined);
  }
}
