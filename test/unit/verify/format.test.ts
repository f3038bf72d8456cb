// Pure parts of verify/validate: the zone predicate as Postgres prints it, the verdict lines, and settings copies.
import { ZONE_PREDICATE } from '../../../src/verify/checks';
import { formatChecks } from '../../../src/verify';
import { withDatabase } from '../../../src/validate';
import { resolveConnection } from '../../../src/migrate/connection';

describe('verify formatting and predicates', () => {
  test.each([
    ["(zone_id = (NULLIF(current_setting('caracal.zone_id'::text, true), ''::text))::uuid)", true],
    ["(zone_id = NULLIF(current_setting('caracal.zone_id', true), '')::uuid)", true],
    ["(zone_id = (current_setting('caracal.zone_id'::text))::uuid)", false],
    ['true', false],
    ["(tenant_id = (NULLIF(current_setting('caracal.zone_id'::text, true), ''::text))::uuid)", false],
  ])('GIVEN the policy expression %s WHEN matched THEN zone predicate is %s', (expr, expected) => {
    expect(ZONE_PREDICATE.test(expr)).toBe(expected);
  });

  test('GIVEN a passing and a failing check WHEN formatted THEN one verdict line each, details and first check under the failure, then the tally', () => {
    const text = formatChecks([
      { id: 'rls-zone', ok: true, summary: 'fine', details: ['a note'], firstCheck: 'x' },
      {
        id: 'indexes',
        ok: false,
        summary: '1 index problem(s)',
        details: ['public.i is INVALID\nsecond line'],
        firstCheck: 'Audit queries slow',
      },
    ]);
    expect(text.split('\n')).toEqual([
      'ok   rls-zone: fine',
      'FAIL indexes: 1 index problem(s)',
      '       - public.i is INVALID',
      '         second line',
      '       first check: Audit queries slow',
      '1 of 2 checks failed',
    ]);
  });

  test('GIVEN settings with a password WHEN copied to another database THEN the password stays and stays out of JSON', () => {
    const s = resolveConnection({}, { databaseUrl: 'postgres://u:secret-pw@db.example:5432/postgres?sslmode=disable' });
    const copy = withDatabase(s, 'scratch');
    expect([copy.database, copy.password, s.database]).toEqual(['scratch', 'secret-pw', 'postgres']);
    expect(JSON.stringify(copy)).not.toContain('secret-pw');
  });
});
