// verify checks that need cluster-wide changes (roles), on a Postgres server of this file's own so the run's
// shared server (and other test files) never see them.
import { OwnCluster, startOwnCluster, urlForDatabase, withClient } from '../../support/postgres';
import { applySet, migrationSet } from '../../fixtures/validate/migration-sets';
import { settingsFor } from '../../fixtures/validate/migration-sets';
import { verifyDatabase } from '../../../src/verify';

let cluster: OwnCluster;

beforeAll(async () => {
  cluster = await startOwnCluster();
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

test('GIVEN a login role with BYPASSRLS inside caracal_api WHEN verified THEN no-bypassrls fails naming the role and its group', async () => {
  const set = migrationSet('bypassrls-member');
  try {
    await withClient(cluster.url, (c) => c.query('CREATE DATABASE caracal'));
    const url = urlForDatabase(cluster.url, 'caracal');
    await applySet(set.dir, url);
    const report = await verifyDatabase(settingsFor(url), { dir: set.dir });
    const check = report.checks.find((c) => c.id === 'no-bypassrls');
    expect(report.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['no-bypassrls']);
    expect(check?.details).toEqual(['caracal_api_break_glass (member of caracal_api) has BYPASSRLS']);
  } finally {
    set.remove();
  }
});

test('GIVEN caracal_backup without BYPASSRLS WHEN verified THEN backup-role-reads fails: the attribute, and reading a zone table as the role the way pg_dump does', async () => {
  const set = migrationSet();
  try {
    await withClient(cluster.url, (c) => c.query('CREATE DATABASE caracal_backup_check'));
    const url = urlForDatabase(cluster.url, 'caracal_backup_check');
    await applySet(set.dir, url);
    await withClient(cluster.url, (c) => c.query('ALTER ROLE caracal_backup NOBYPASSRLS'));
    const report = await verifyDatabase(settingsFor(url), { dir: set.dir });
    const check = report.checks.find((c) => c.id === 'backup-role-reads');
    expect(check?.ok).toBe(false);
    expect(check?.details[0]).toBe(
      'caracal_backup lacks BYPASSRLS: pg_dump --role=caracal_backup fails on every table with row-level security',
    );
    expect(check?.details).toContainEqual(
      'as caracal_backup (SET ROLE from postgres), reading public.sessions failed with 42501: query would be affected by row-level security policy for table "sessions"',
    );
  } finally {
    await withClient(cluster.url, (c) => c.query('ALTER ROLE caracal_backup BYPASSRLS'));
    set.remove();
  }
});
