// The function table of docs/access-matrix.md ("Functions") equals FUNCTION_ACCESS, what `verify` checks against.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MATRIX_ROLES } from '../../../src/verify/access-matrix';
import { FUNCTION_ACCESS, normalizeSearchPath } from '../../../src/verify/function-checks';

const DOC = path.resolve(__dirname, '..', '..', '..', 'docs', 'access-matrix.md');

function documentedFunctions(markdown: string): Record<string, string[]> {
  const lines = markdown.split('\n');
  const begin = lines.findIndex((l) => l.includes('<!-- functions:begin -->'));
  const end = lines.findIndex((l) => l.includes('<!-- functions:end -->'));
  const rows = lines.slice(begin + 3, end).map((l) =>
    l
      .replace(/^\|/, '')
      .split('|')
      .map((c) => c.trim()),
  );
  return Object.fromEntries(rows.map(([fn, roles]) => [fn.replace(/`/g, ''), roles === '-' ? [] : roles.split(',').map((r) => r.trim())]));
}

describe('docs/access-matrix.md "Functions"', () => {
  test('GIVEN the documented function table WHEN parsed THEN it equals FUNCTION_ACCESS (src/verify/function-checks.ts)', () => {
    const documented = documentedFunctions(readFileSync(DOC, 'utf8'));
    expect(documented).toEqual(Object.fromEntries(Object.entries(FUNCTION_ACCESS).map(([f, r]) => [f, [...r]])));
  });

  test('GIVEN FUNCTION_ACCESS WHEN its roles are read THEN each is a column of the access matrix', () => {
    for (const roles of Object.values(FUNCTION_ACCESS)) for (const r of roles) expect(MATRIX_ROLES).toContain(r);
  });
});

describe('normalizeSearchPath', () => {
  test.each([
    ['pg_catalog, pg_temp', 'pg_catalog, pg_temp'],
    ['pg_catalog,pg_temp', 'pg_catalog, pg_temp'],
    ['"pg_catalog", "pg_temp"', 'pg_catalog, pg_temp'],
    ['pg_catalog, public, pg_temp', 'pg_catalog, public, pg_temp'],
  ])('GIVEN proconfig search_path %s WHEN normalized THEN it reads %s', (raw, normalized) => {
    expect(normalizeSearchPath(raw)).toBe(normalized);
  });
});
