// Jest globalTeardown: stop the run's Postgres and remove its data directory.
export default async function globalTeardown() {
  await globalThis.__CARACAL_PG__?.destroy();
}
