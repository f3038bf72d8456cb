// verify against a real Postgres: every check holds on the migrations as they are, and each migration set
// broken on purpose makes the check that guards it fail, by name.
import { writeFileSync, appendFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { freshDatabase, serverUrl, withClient } from '../../support/postgres';
import { applySet, migrationSet, settingsFor } from '../../fixtures/validate/migration-sets';
import { randomBytes } from 'node:crypto';
import { REQUIRED_INDEXES } from '../../../src/verify/checks';
import { FOREIGN_KEYS_SQL, REQUIRED_FOREIGN_KEYS } from '../../../src/verify/foreign-keys';
import { formatChecks, verifyDatabase, verifyWithClient, VerifyReport } from '../../../src/verify';

async function verifySet(fixture: string | undefined, opts: { behavioural?: boolean } = {}): Promise<VerifyReport> {
  const db = await freshDatabase();
  const set = migrationSet(fixture);
  try {
    await applySet(set.dir, db.url);
    return await verifyDatabase(settingsFor(db.url), { dir: set.dir, behavioural: opts.behavioural });
  } finally {
    set.remove();
    await db.drop();
  }
}

const failed = (r: VerifyReport) => r.checks.filter((c) => !c.ok).map((c) => c.id);

describe('caracal-migrate verify (library)', () => {
  test('GIVEN the migrations as they are WHEN verified with behavioural probes THEN every check passes', async () => {
    const report = await verifySet(undefined, { behavioural: true });
    expect(formatChecks(report.checks)).toMatch(/all 23 checks passed$/);
    expect(report.checks.map((c) => c.id)).toEqual([
      'expected-tables',
      'privileges',
      'append-only-triggers',
      'immutability-triggers',
      'rls-zone',
      'no-bypassrls',
      'partition-privileges',
      'audit-partition-window',
      'audit-retention',
      'indexes',
      'foreign-keys',
      'ownership',
      'function-execute',
      'definer-search-path',
      'schema-create',
      'large-objects',
      'backup-role-reads',
      'database-privileges',
      'migrations',
      'behaviour-privileges',
      'behaviour-append-only',
      'behaviour-immutability',
      'behaviour-rls',
    ]);
    expect(report.ok).toBe(true);
  });

  test.each([
    ['grant-update-audit-events', ['privileges']],
    ['dropped-trigger', ['append-only-triggers', 'audit-partition-window']],
    ['disabled-trigger', ['immutability-triggers']],
    ['rls-not-forced', ['rls-zone']],
    ['partition-without-rls', ['append-only-triggers', 'rls-zone', 'audit-partition-window']],
    ['missing-future-partition', ['audit-partition-window']],
    ['missing-table', ['expected-tables', 'rls-zone', 'foreign-keys']],
    ['unattached-partitioned-index', ['indexes']],
    ['table-not-owned', ['privileges', 'ownership', 'backup-role-reads']],
    ['expired-partition', ['audit-partition-window', 'audit-retention']],
    ['grant-on-partition', ['partition-privileges', 'audit-partition-window']],
    ['open-policy', ['rls-zone']],
    ['public-function', ['function-execute']],
    ['open-search-path', ['definer-search-path']],
    ['public-create', ['schema-create']],
    ['large-object', ['large-objects']],
    ['backup-cannot-read', ['privileges', 'backup-role-reads']],
    ['missing-foreign-key', ['foreign-keys']],
    ['database-open', ['database-privileges']],
  ])('GIVEN the broken set %s WHEN verified THEN exactly %j fail, named in the output', async (fixture, expected) => {
    const report = await verifySet(fixture);
    expect(failed(report).sort()).toEqual([...expected].sort());
    for (const id of expected) expect(formatChecks(report.checks)).toContain(`FAIL ${id}: `);
    expect(report.ok).toBe(false);
  });

  test.each([
    ['open-policy', 'behaviour-rls', /public\.sessions: INSERT as caracal_api without zone context was not refused by row-level security/],
    ['dropped-trigger', 'behaviour-append-only', /public\.audit_events: UPDATE as caracal_owner was NOT rejected/],
    ['disabled-trigger', 'behaviour-immutability', /public\.policy_versions: UPDATE as caracal_owner was NOT rejected/],
  ])('GIVEN the broken set %s WHEN verified behaviourally THEN %s fails naming the probe', async (fixture, id, detail) => {
    const report = await verifySet(fixture, { behavioural: true });
    const check = report.checks.find((c) => c.id === id);
    expect(check?.ok).toBe(false);
    expect(check?.details.join('\n')).toMatch(detail);
  });

  test('GIVEN UPDATE granted on audit_events WHEN verified behaviourally THEN the probe as caracal_audit names the table', async () => {
    const report = await verifySet('grant-update-audit-events', { behavioural: true });
    const probe = report.checks.find((c) => c.id === 'behaviour-privileges');
    expect(probe?.ok).toBe(false);
    expect(probe?.details.join('\n')).toMatch(/public\.audit_events UPDATE as caracal_audit: expected permission denied/);
  });

  test('GIVEN an applied file edited afterwards and a new file WHEN verified THEN migrations reports drift and pending', async () => {
    const db = await freshDatabase();
    const set = migrationSet();
    try {
      await applySet(set.dir, db.url);
      appendFileSync(path.join(set.dir, '0001_baseline.up.sql'), '\n-- edited after it was applied\n');
      writeFileSync(path.join(set.dir, '9000_later.up.sql'), 'ALTER TABLE public.zones ADD COLUMN note text;\n');
      const report = await verifyDatabase(settingsFor(db.url), { dir: set.dir });
      const check = report.checks.find((c) => c.id === 'migrations');
      expect(check?.ok).toBe(false);
      expect(check?.details).toEqual([
        'pending: 9000_later.up.sql is not applied',
        'drifted: 0001_baseline.up.sql changed after it was applied',
      ]);
    } finally {
      set.remove();
      await db.drop();
    }
  });

  test('GIVEN a database ahead of the files (an application rollback) WHEN verified THEN migrations holds and notes the version ahead', async () => {
    const db = await freshDatabase();
    const set = migrationSet();
    try {
      writeFileSync(
        path.join(set.dir, '9000_later.up.sql'),
        'SET LOCAL ROLE caracal_owner;\nALTER TABLE public.zones ADD COLUMN note text;\nRESET ROLE;\n',
      );
      await applySet(set.dir, db.url);
      rmSync(path.join(set.dir, '9000_later.up.sql'));
      const report = await verifyDatabase(settingsFor(db.url), { dir: set.dir });
      const check = report.checks.find((c) => c.id === 'migrations');
      expect(check?.ok).toBe(true);
      expect(check?.summary).toMatch(/1 ahead \(rollback\)/);
      expect(check?.details).toEqual(['ahead: version 9000 (later) is newer than every file (normal during an application rollback)']);
    } finally {
      set.remove();
      await db.drop();
    }
  });

  test('GIVEN an INVALID index left by a failed CREATE INDEX CONCURRENTLY WHEN verified THEN indexes fails naming it', async () => {
    const db = await freshDatabase();
    const set = migrationSet();
    try {
      await applySet(set.dir, db.url);
      await withClient(db.url, async (c) => {
        await c.query('CREATE TABLE public.duplicates (id int)');
        await c.query('INSERT INTO public.duplicates VALUES (1), (1)');
        await expect(c.query('CREATE UNIQUE INDEX CONCURRENTLY duplicates_id ON public.duplicates (id)')).rejects.toThrow(
          /could not create unique index/,
        );
      });
      const report = await verifyDatabase(settingsFor(db.url), { dir: set.dir });
      const check = report.checks.find((c) => c.id === 'indexes');
      expect(check?.ok).toBe(false);
      expect(check?.details).toContainEqual(
        expect.stringMatching(/^public\.duplicates_id on duplicates is INVALID \(a failed CREATE INDEX CONCURRENTLY\)/),
      );
    } finally {
      set.remove();
      await db.drop();
    }
  });

  test('GIVEN a verify session forced read-only (as on a replica) WHEN verified THEN the catalog checks still run and pass', async () => {
    const db = await freshDatabase();
    const set = migrationSet();
    try {
      await applySet(set.dir, db.url);
      const report = await withClient(db.url, (c) =>
        c.query('SET default_transaction_read_only = on').then(() => verifyWithClient(c, { dir: set.dir })),
      );
      expect(failed(report)).toEqual([]);
    } finally {
      set.remove();
      await db.drop();
    }
  });

  test('GIVEN the migrations applied WHEN their indexes are listed THEN REQUIRED_INDEXES names exactly those (not backing a constraint)', async () => {
    const db = await freshDatabase();
    const set = migrationSet();
    try {
      await applySet(set.dir, db.url);
      const rows = await withClient(db.url, (c) =>
        c.query<{ table: string; index: string }>(
          `SELECT tc.relname AS table, ic.relname AS index FROM pg_index x
           JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_class tc ON tc.oid = x.indrelid
          WHERE tc.relnamespace = 'public'::regnamespace AND NOT tc.relispartition
            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
          ORDER BY 1, 2`,
        ),
      );
      const actual: Record<string, string[]> = {};
      for (const r of rows.rows) (actual[r.table] ??= []).push(r.index);
      const expected = Object.fromEntries(Object.entries(REQUIRED_INDEXES).map(([t, ix]) => [t, [...ix].sort()]));
      expect(actual).toEqual(expected);
    } finally {
      set.remove();
      await db.drop();
    }
  });

  test('GIVEN a non-superuser operator login (member of caracal_owner, may read the history) WHEN verified THEN every catalog check passes', async () => {
    const db = await freshDatabase();
    const set = migrationSet();
    const role = `verify_operator_${process.pid}`;
    try {
      await applySet(set.dir, db.url);
      await withClient(db.url, async (c) => {
        await c.query(`CREATE ROLE ${role} LOGIN PASSWORD 'operator-pw' IN ROLE caracal_owner`);
        await c.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${role}`);
        await c.query(`GRANT SELECT ON public.schema_migrations TO ${role}`);
      });
      const url = new URL(db.url);
      url.username = role;
      url.password = 'operator-pw';
      const report = await verifyDatabase(settingsFor(url.toString()), { dir: set.dir });
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    } finally {
      set.remove();
      await db.drop();
      await withClient(serverUrl(), (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
    }
  });

  test('GIVEN an expired partition already exported WHEN verified THEN audit-retention says retention is not running', async () => {
    const db = await freshDatabase();
    const set = migrationSet('expired-partition');
    try {
      await applySet(set.dir, db.url);
      await withClient(db.url, (c) =>
        c.query(`INSERT INTO public.audit_export_watermark (sink, exported_through) VALUES ('siem', '2020-01-03 00:00:00+00')`),
      );
      const report = await verifyDatabase(settingsFor(db.url), { dir: set.dir });
      const check = report.checks.find((c) => c.id === 'audit-retention');
      expect(check?.ok).toBe(false);
      expect(check?.details).toEqual([
        'public.audit_events_p20200101 (ends 2020-01-02) is past 400 days and exported but not dropped: is public.audit_partitions_apply_retention(400) scheduled?',
      ]);
    } finally {
      set.remove();
      await db.drop();
    }
  });
  test('GIVEN the migrations applied WHEN their foreign keys are listed THEN REQUIRED_FOREIGN_KEYS names exactly those', async () => {
    const db = await freshDatabase();
    const set = migrationSet();
    try {
      await applySet(set.dir, db.url);
      const rows = await withClient(db.url, (c) =>
        c.query<{ table_name: string; definition: string }>(`${FOREIGN_KEYS_SQL} ORDER BY 1, 2`),
      );
      const actual: Record<string, string[]> = {};
      for (const r of rows.rows) (actual[r.table_name] ??= []).push(r.definition);
      const sorted = (o: Readonly<Record<string, readonly string[]>>) =>
        Object.fromEntries(Object.entries(o).map(([t, fks]) => [t, [...fks].sort()]));
      expect(sorted(actual)).toEqual(sorted(REQUIRED_FOREIGN_KEYS));
    } finally {
      set.remove();
      await db.drop();
    }
  });

  test("GIVEN an environment's logins WHEN one lacks CONNECT, or another environment's login has it THEN database-privileges fails naming each", async () => {
    const db = await freshDatabase();
    const set = migrationSet();
    const env = `v${randomBytes(3).toString('hex')}`;
    const other = `w${randomBytes(3).toString('hex')}`;
    const logins = [`caracal_${env}_api`, `caracal_${env}_audit`, `caracal_${other}_api`];
    try {
      await applySet(set.dir, db.url);
      await withClient(db.url, async (c) => {
        for (const l of logins) await c.query(`CREATE ROLE ${l} LOGIN IN ROLE caracal_${l.split('_')[2]}`);
        await c.query(`GRANT CONNECT ON DATABASE "${db.name}" TO caracal_${env}_api, caracal_${env}_audit`);
      });
      const check = async (environment?: string) =>
        (await verifyDatabase(settingsFor(db.url), { dir: set.dir, environment })).checks.find((c) => c.id === 'database-privileges');
      // GIVEN every login of the environment may connect THEN it holds, with the environment inferred from them
      expect((await check())?.summary).toBe(
        `PUBLIC has neither CONNECT nor TEMPORARY on ${db.name}; the logins of environment ${env} may connect`,
      );
      // WHEN one loses CONNECT (as a plain pg_restore leaves them) and another environment's login gains it
      await withClient(db.url, (c) =>
        c.query(
          `REVOKE CONNECT ON DATABASE "${db.name}" FROM caracal_${env}_audit; GRANT CONNECT ON DATABASE "${db.name}" TO caracal_${other}_api`,
        ),
      );
      const failed = await check(env);
      expect(failed?.ok).toBe(false);
      expect(failed?.details).toEqual([
        `caracal_${env}_audit may not CONNECT to ${db.name}: the migration Job grants it (a plain pg_restore drops it)`,
        `caracal_${other}_api (environment ${other}) holds CONNECT on ${db.name}, the database of environment ${env}`,
      ]);
    } finally {
      set.remove();
      await db.drop();
      await withClient(serverUrl(), async (c) => {
        for (const l of logins) await c.query(`DROP ROLE IF EXISTS ${l}`);
      });
    }
  });

  test('GIVEN a backup login (member of caracal_backup) WHEN it runs verify THEN backup-role-reads reads every zone-scoped table as caracal_backup', async () => {
    const db = await freshDatabase();
    const set = migrationSet();
    const login = `caracal_b${randomBytes(3).toString('hex')}_backup`;
    try {
      await applySet(set.dir, db.url);
      await withClient(db.url, async (c) => {
        await c.query(`CREATE ROLE ${login} LOGIN PASSWORD 'backup-pw' IN ROLE caracal_backup`);
        await c.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${login}`);
      });
      const url = new URL(db.url);
      url.username = login;
      url.password = 'backup-pw';
      const report = await verifyDatabase(settingsFor(url.toString()), { dir: set.dir });
      const check = report.checks.find((c) => c.id === 'backup-role-reads');
      expect(check?.ok).toBe(true);
      expect(check?.summary).toMatch(
        /^as caracal_backup \(SET ROLE, row_security off, as pg_dump does\) every one of \d+ zone-scoped tables and partitions is readable/,
      );
    } finally {
      set.remove();
      await db.drop();
      await withClient(serverUrl(), (c) => c.query(`DROP ROLE IF EXISTS ${login}`));
    }
  });
});
