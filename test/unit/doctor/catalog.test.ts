// The doctor's checks against the seed's table and the runbook: every row of the table has a verdict, every
// first check of the issue has a sub-verdict, and every link the doctor prints lands on a runbook heading.
import { CHECKS, CHECK_IDS } from '../../../src/doctor';
import { TROUBLESHOOTING_ROWS } from '../../../common/troubleshooting';
import { anchors } from '../../support/runbook';

describe('doctor catalog', () => {
  test('GIVEN the seed troubleshooting table WHEN the doctor catalog is read THEN each row has its sub-verdicts, in the order of its first checks', () => {
    const byRow = Object.fromEntries(TROUBLESHOOTING_ROWS.map((r) => [r.id, CHECK_IDS.filter((id) => CHECKS[id].row === r.id)]));
    expect(byRow).toEqual({
      'migration-job-fails': ['secret', 'dns', 'tcp', 'tls', 'auth', 'database', 'lock', 'migrations'],
      'api-outbox-grows': ['redis-auth', 'redis-memory', 'streams', 'outbox-pending', 'outbox-dead', 'pool'],
      'audit-queries-slow': ['partitions', 'indexes', 'retention', 'query-plan'],
      'rls-errors': ['memberships', 'rls-forced', 'rls-probe'],
      streams: ['stream-groups', 'pending-entries', 'invalidation', 'revocation', 'audit-delivery'],
    });
  });

  test('GIVEN every check and row WHEN their runbook anchors are looked up THEN each is a heading of docs/operations.md', () => {
    const headings = anchors();
    const wanted = [...TROUBLESHOOTING_ROWS.map((r) => r.anchor), ...CHECK_IDS.map((id) => CHECKS[id].anchor)];
    expect(wanted.filter((a) => !headings.includes(a))).toEqual([]);
    expect(new Set(wanted).size).toBe(wanted.length);
  });

  test('GIVEN the checks WHEN replica safety is read THEN only the advisory lock and the RLS probes need the primary', () => {
    expect(CHECK_IDS.filter((id) => !CHECKS[id].replicaSafe)).toEqual(['lock', 'rls-probe']);
  });

  test('GIVEN the seed table rows WHEN compared with the seed words THEN phase, symptom and first check are verbatim', () => {
    expect(TROUBLESHOOTING_ROWS.slice(0, 4).map((r) => `| ${r.phase} | ${r.symptom} | ${r.firstCheck} |`)).toEqual([
      '| Bootstrap | Migration Job fails | Database secret, host, port, user, database, SSL mode, and advisory-lock connectivity. |',
      '| Operations | API outbox grows | Redis reachability, outbox dispatcher logs, DB pool saturation, and event_outbox dead rows. |',
      '| Performance | Audit queries slow | Partition health, indexes, retention, and query time windows. |',
      '| Access control | RLS errors | Confirm service role and zone context handling before widening permissions. |',
    ]);
  });
});
