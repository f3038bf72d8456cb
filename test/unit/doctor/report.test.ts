// How doctor verdicts roll up and print: the worst check decides a row and the run, and the table shows, under
// each finding, its details, what to do next and its runbook heading (the same advice only once in a row).
import { assembleReport, formatReport, worst } from '../../../src/doctor';
import type { Outcome } from '../../../src/doctor';

const target = {
  postgres: 'caracal_prod_monitoring@db:5432/caracal (sslmode=verify-full)',
  serverRole: 'primary' as const,
  redis: 'redis:6379',
};
const ok: Outcome = { status: 'ok', summary: 'fine' };

describe('doctor report', () => {
  test.each([
    [['ok', 'ok'], 'ok'],
    [['ok', 'unchecked'], 'unchecked'],
    [['unchecked', 'finding', 'ok'], 'finding'],
    [[], 'ok'],
  ] as const)('GIVEN checks %j WHEN rolled up THEN the verdict is %s', (statuses, expected) => {
    expect(worst(statuses)).toBe(expected);
  });

  test('GIVEN one finding and one check without an outcome WHEN the report is assembled THEN its row is a finding, the missing one is not checked, and counts add up', () => {
    const report = assembleReport(
      { secret: ok, dns: { status: 'finding', summary: 'host name "db" does not resolve (ENOTFOUND)', next: 'the host: PGHOST' } },
      target,
      ['migration-job-fails'],
    );
    expect(report.rows).toHaveLength(1);
    expect(report.rows[0].status).toBe('finding');
    expect(report.rows[0].checks.find((c) => c.id === 'tcp')?.status).toBe('unchecked');
    expect(report.counts).toEqual({ ok: 1, finding: 1, unchecked: 6 });
    expect(report.status).toBe('finding');
  });

  test('GIVEN a finding and two checks with the same advice WHEN the table is printed THEN each shows its details, next and runbook, and repeated advice says so', () => {
    const same = 'set REDIS_HOST';
    const report = assembleReport(
      {
        'redis-auth': { status: 'unchecked', summary: 'no Redis given', next: same },
        'redis-memory': { status: 'unchecked', summary: 'no Redis given', next: same },
        streams: ok,
        'outbox-pending': ok,
        'outbox-dead': { status: 'finding', summary: '2 dead row(s)', next: 'requeue them', details: ['event_outbox: 2 dead'] },
        pool: ok,
      },
      target,
      ['api-outbox-grows'],
    );
    expect(formatReport(report).split('\n')).toEqual([
      'caracal-migrate doctor: postgres caracal_prod_monitoring@db:5432/caracal (sslmode=verify-full), primary; redis redis:6379',
      '',
      `${'Operations: API outbox grows'.padEnd(88)} FINDING`, // the verdict ends at column 96
      '  first check (seed): Redis reachability, outbox dispatcher logs, DB pool saturation, and event_outbox dead rows.',
      '  NOT CHECKED Redis users           no Redis given',
      '              next: set REDIS_HOST',
      '              runbook: docs/operations.md#redis-reachability',
      '  NOT CHECKED Redis memory          no Redis given',
      '              next: (as above)',
      '              runbook: docs/operations.md#redis-memory',
      '  ok          outbox streams        fine',
      '  ok          outbox backlog        fine',
      '  FINDING     outbox dead rows      2 dead row(s)',
      '              - event_outbox: 2 dead',
      '              next: requeue them',
      '              runbook: docs/operations.md#outbox-dead-rows',
      '  ok          pool saturation       fine',
      '',
      '3 ok, 1 finding(s), 2 not checked: act on the findings above (exit 4)',
    ]);
  });
});
