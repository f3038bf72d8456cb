// The real-Postgres harness itself: a fresh database per test on the run's server, and a file's own server.
import { freshDatabase, startOwnCluster, withClient } from '../support/postgres';

describe('test harness', () => {
  test('GIVEN the harness WHEN a test asks for a database THEN it gets a fresh, empty one on a real Postgres server', async () => {
    // GIVEN two fresh databases
    const a = await freshDatabase();
    const b = await freshDatabase();
    try {
      // WHEN a table is created in one
      await withClient(a.url, (c) => c.query('CREATE TABLE public.only_in_a (id int)'));
      // THEN the other does not see it, and the server is a real Postgres
      const rows = await withClient(b.url, (c) => c.query("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'only_in_a'"));
      expect(rows.rows[0].n).toBe(0);
      const version = await withClient(a.url, (c) => c.query('SHOW server_version_num'));
      expect(Number(version.rows[0].server_version_num)).toBeGreaterThanOrEqual(150000);
    } finally {
      await a.drop();
      await b.drop();
    }
  });

  test('GIVEN a test file WHEN it starts a Postgres 15 server of its own and restarts it THEN the server survives the restart', async () => {
    const own = await startOwnCluster({ major: 15 });
    try {
      const before = await withClient(own.url, (c) => c.query('SHOW server_version_num'));
      expect(Number(before.rows[0].server_version_num)).toBeGreaterThanOrEqual(150000);
      expect(Number(before.rows[0].server_version_num)).toBeLessThan(160000);
      await own.restart();
      const after = await withClient(own.url, (c) => c.query('SELECT 1 AS one'));
      expect(after.rows[0].one).toBe(1);
    } finally {
      await own.destroy();
    }
  });
});
