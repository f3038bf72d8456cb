// The server arguments PostgresCapacity renders are accepted by a real Postgres, which then reports them.
import { loadEnvironments } from '../../../src/environments';
import { CaracalStoresStack } from '../../../src/stacks/caracal-stores-stack';
import { PostgresCapacity } from '../../../constructs';
import { Problems } from '../../../constructs/errors';
import { parseDuration, parseSize } from '../../../common/units';
import { OwnCluster, startOwnCluster, withClient } from '../../support/postgres';
import { Testing } from 'cdktf';

/** Compares a rendered value with what SHOW returns, in the setting's own units. */
function normalize(value: string): string {
  if (/^-?\d+(\.\d+)?$/.test(value)) return String(Number(value));
  const size = /^\d+(kB|MB|GB|TB)$/.test(value) ? parseSize(value) : undefined;
  if (size !== undefined) return `bytes:${size}`;
  const ms = parseDuration(value);
  if (ms !== undefined) return String(ms);
  return value;
}

async function showAll(cluster: OwnCluster, names: string[]): Promise<Record<string, string>> {
  return withClient(cluster.url, async (c) => {
    const out: Record<string, string> = {};
    for (const name of names) out[name] = (await c.query(`SHOW ${name}`)).rows[0][name];
    return out;
  });
}

describe('rendered server arguments on a real Postgres', () => {
  test("GIVEN the dev environment's in-cluster arguments WHEN a real server starts with them THEN SHOW returns each setting", async () => {
    // GIVEN the arguments the dev stack gives its StatefulSet
    const dev = loadEnvironments().find((e) => e.name === 'dev')!;
    const stack = new CaracalStoresStack(Testing.app(), 'dev', dev);
    const args = [...stack.postgres.capacity.serverArgs];
    expect(args.length).toBeGreaterThan(10);
    // WHEN a real server starts with them
    const cluster = await startOwnCluster({ postgresFlags: args });
    try {
      const settings = stack.postgres.parameters;
      const shown = await showAll(cluster, Object.keys(settings));
      // THEN every setting is in effect, as rendered
      for (const [name, value] of Object.entries(settings)) {
        expect({ name, value: normalize(shown[name]) }).toEqual({ name, value: normalize(value) });
      }
    } finally {
      await cluster.destroy();
    }
  });

  test('GIVEN a PGTune-derived set with parallel workers and a Compose carry-over WHEN a server starts with them THEN it accepts them', async () => {
    // GIVEN two more capacity sources rendered to arguments (modest sizes, so the test machine can start them)
    const problems = new Problems('test');
    const tuned = PostgresCapacity.fromResources({ memory: '2Gi', cpus: 4, workload: 'mixed', storage: 'hdd' }).resolve(
      { requiredConnections: 60 },
      problems,
    );
    const compose = PostgresCapacity.fromComposeEnv({
      POSTGRES_WORK_MEM: '6MB',
      POSTGRES_LOG_MIN_DURATION_MS: '250',
      POSTGRES_EFFECTIVE_CACHE_SIZE: '1GB',
    }).resolve({}, problems);
    problems.throwIfAny();
    for (const resolved of [tuned, compose]) {
      // WHEN a server starts with them THEN SHOW reports them
      const cluster = await startOwnCluster({ postgresFlags: [...resolved.serverArgs] });
      try {
        const shown = await showAll(cluster, Object.keys(resolved.settings));
        for (const [name, value] of Object.entries(resolved.settings)) {
          expect({ name, value: normalize(shown[name]) }).toEqual({ name, value: normalize(value) });
        }
      } finally {
        await cluster.destroy();
      }
    }
  });
});
