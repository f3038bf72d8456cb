// The docs/access-matrix.md parser (test/support/schema.ts), which `caracal-migrate verify` mirrors:
// it reads the table between the markers and rejects malformed rows naming the line.
import { parseAccessMatrix } from '../../support/schema';

const header =
  '| table | rls | api | coordinator | audit | sts | gateway | backup | maintenance | why |\n|---|---|---|---|---|---|---|---|---|---|';
const doc = (rows: string) => `# title\n\n<!-- access-matrix:begin -->\n${header}\n${rows}\n<!-- access-matrix:end -->\n`;

describe('parseAccessMatrix', () => {
  test('GIVEN a matrix document WHEN parsed THEN cells are SIUD letters, "-" is none, and the zone-scoped tables are listed', () => {
    const m = parseAccessMatrix(
      doc('| zones | none | SIU | S | - | S | S | S | - | root |\n| providers | zone | SIUD | - | - | S | - | S | - | product |'),
    );
    expect(m.rows.map((r) => r.table)).toEqual(['zones', 'providers']);
    expect(m.row('zones').cells).toEqual({ api: 'SIU', coordinator: 'S', audit: '', sts: 'S', gateway: 'S', backup: 'S', maintenance: '' });
    expect(m.zoneScopedTables).toEqual(['providers']);
    expect(m.row('providers').line).toBe(7);
  });

  test.each([
    ['no markers', '| zones | none | S | S | S | S | S | S | - | x |', /markers/],
    ['a cell out of SIUD order', doc('| zones | none | IS | - | - | - | - | S | - | x |'), /line 6: zones\/api cell "IS"/],
    ['an unknown letter', doc('| zones | none | SX | - | - | - | - | S | - | x |'), /line 6: zones\/api cell "SX"/],
    ['a bad rls value', doc('| zones | maybe | S | - | - | - | - | S | - | x |'), /line 6: rls must be zone or none/],
    ['a missing column', doc('| zones | none | S | - | - | - | S | - | x |'), /line 6: 9 columns, expected 10/],
    [
      'a duplicated table',
      doc('| zones | none | S | - | - | - | - | S | - | x |\n| zones | none | S | - | - | - | - | S | - | x |'),
      /line 7: table zones listed twice/,
    ],
    ['a wrong header', doc('').replace('| backup |', '| owner |'), /header must be/],
  ])('GIVEN %s WHEN parsed THEN it is rejected naming the problem', (_name, markdown, error) => {
    expect(() => parseAccessMatrix(markdown as string)).toThrow(error as RegExp);
  });
});
