// The access matrix built into the CLI equals docs/access-matrix.md, and the parser refuses malformed tables.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAccessMatrix, readAccessMatrix, renderDataModule } from '../../../src/verify/access-matrix';
import { ACCESS_MATRIX } from '../../../src/verify/access-matrix.data';

const root = path.resolve(__dirname, '..', '..', '..');
const DOC = path.join(root, 'docs', 'access-matrix.md');

describe('access matrix', () => {
  test('GIVEN docs/access-matrix.md WHEN parsed THEN it equals the copy built into verify (regenerate: npx tsx src/verify/access-matrix.ts --write)', () => {
    expect(ACCESS_MATRIX).toEqual(readAccessMatrix(DOC));
  });

  test('GIVEN docs/access-matrix.md WHEN rendered THEN the generated module is byte-identical to the checked-in one', () => {
    expect(renderDataModule(readAccessMatrix(DOC))).toBe(readFileSync(path.join(root, 'src', 'verify', 'access-matrix.data.ts'), 'utf8'));
  });

  const header =
    '<!-- access-matrix:begin -->\n| table | rls | api | coordinator | audit | sts | gateway | backup | maintenance | why |\n|---|---|---|---|---|---|---|---|---|---|\n';
  test.each([
    ['no markers', '| table | rls |', /markers/],
    [
      'a wrong header',
      '<!-- access-matrix:begin -->\n| table | rls | api |\n|---|\n| zones | none | S |\n<!-- access-matrix:end -->',
      /header/,
    ],
    [
      'a bad rls value',
      `${header}| zones | maybe | S | - | - | - | - | S | - | x |\n<!-- access-matrix:end -->`,
      /rls must be zone or none/,
    ],
    [
      'letters out of order',
      `${header}| zones | none | IS | - | - | - | - | S | - | x |\n<!-- access-matrix:end -->`,
      /zones\/api cell "IS"/,
    ],
  ])('GIVEN a matrix with %s WHEN parsed THEN it is refused', (_name, text, message) => {
    expect(() => parseAccessMatrix(text)).toThrow(message);
  });
});
