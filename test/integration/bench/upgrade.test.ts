// A short version of bench/upgrade on a real Postgres of this file's own: the previous version's five services
// under load (a quarter of the bench's rate, a small baseline), one long transaction on sessions, and the real
// runner bundle applying the representative expand set with its defaults. No timing is asserted (that is the
// bench's job): only that no transaction of the running version fails and the set applies. Also: validate passes
// the expand set and refuses every example of bench/upgrade/unsafe.ts with the rule it stands for.
import { checkExpandOnly } from '../../../src/validate/expand-only';
import { RULE_IDS } from '../../../src/validate/rules';
import { SHORT_SCALE } from '../../../bench/upgrade/data';
import { UpgradeEnvironment } from '../../../bench/upgrade/harness';
import { expandSet, NEW_DEFAULTS, numbered, runExpand, withProjectFiles } from '../../../bench/upgrade/scenarios';
import { UNSAFE_EXAMPLES } from '../../../bench/upgrade/unsafe';
import { bundlePath } from '../../fixtures/migrate/cli';
import { OwnCluster, startOwnCluster } from '../../support/postgres';

const TEMPLATE = 'caracal_upgrade_test';
let cluster: OwnCluster;
let env: UpgradeEnvironment;

beforeAll(async () => {
  cluster = await startOwnCluster({ postgresFlags: ['-c', 'max_connections=500'] });
  env = await UpgradeEnvironment.create(
    { url: cluster.url, host: '127.0.0.1', port: cluster.port, major: cluster.major },
    bundlePath(),
    TEMPLATE,
  );
  await env.buildTemplate(TEMPLATE, SHORT_SCALE, () => undefined);
}, 300_000);

afterAll(async () => {
  env?.destroy();
  await cluster?.destroy();
});

describe('bench/upgrade', () => {
  test('GIVEN the old version under load and its long transaction on sessions WHEN the runner applies the expand set with its defaults THEN no transaction of the old version fails', async () => {
    const r = await runExpand(
      env,
      TEMPLATE,
      NEW_DEFAULTS,
      { rateScale: 0.15, pods: 1, warmupMs: 1500, beforeMs: 2000, afterMs: 1500, longTransactionSeconds: 3 },
      () => undefined,
    );
    // The runner's log is part of the comparison so that a failure shows what the runner said.
    expect({
      exit: r.exitCode,
      failures: r.failures,
      longTransactionError: r.longTransaction?.error,
      log: r.exitCode ? r.runnerLog : [],
    }).toEqual({
      exit: 0,
      failures: {},
      longTransactionError: undefined,
      log: [],
    });
    expect(r.files.map((f) => f.file.replace(/^\d+_/, ''))).toEqual([
      'sessions_client_hint.up.sql',
      'zones_region.up.sql',
      'session_notes.up.sql',
      'audit_events_actor_idx.up.sql',
      'audit_events_actor_idx_partitions.up.sql',
      'sessions_application_idx.up.sql',
      'grants_scopes_check.up.sql',
      'invocations_edge_fk.up.sql',
      'validate_constraints.up.sql',
      'rate_limits_policy.up.sql',
      'reject_mutation.up.sql',
    ]);
    expect(r.during.transactions).toBeGreaterThan(0);
  }, 240_000);

  test('GIVEN the representative expand set WHEN validated statically THEN it passes', async () => {
    const db = `${TEMPLATE}_static`;
    await env.copy(TEMPLATE, db);
    const files = numbered(await expandSet(env, db));
    await env.drop(db);
    expect((await checkExpandOnly(withProjectFiles(files))).violations).toEqual([]);
  });

  test('GIVEN the rules of validate WHEN the bench examples are listed THEN every rule has exactly one', () => {
    expect(UNSAFE_EXAMPLES.map((e) => e.rule).sort()).toEqual([...RULE_IDS].sort());
  });

  test.each(UNSAFE_EXAMPLES.map((e) => [e.rule, e] as const))(
    'GIVEN the bench example of %s WHEN validated statically THEN that rule refuses it',
    async (rule, example) => {
      const first = Number(Object.keys(numbered([['x', '']]))[0].slice(0, 4)) + (example.prelude?.length ?? 0);
      const report = await checkExpandOnly(withProjectFiles({ ...numbered(example.prelude ?? []), ...numbered(example.files, first) }));
      expect(report.violations.map((v) => v.rule)).toContain(rule);
    },
  );
});
