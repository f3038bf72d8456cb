// The public API is a boundary (issue 12 point 3): constructs/index.ts exports constructs, props, factories,
// interfaces and error types, and nothing it exports is declared in constructs/internal/ (re-exported directly or
// through a public module). Resolved with the TypeScript compiler, as a consumer's .d.ts would see it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import * as api from '../../../constructs';

const ROOT = path.resolve(__dirname, '../../..');
const INDEX = path.join(ROOT, 'constructs', 'index.ts');
const INTERNAL = path.join(ROOT, 'constructs', 'internal') + path.sep;

/** Each export of `entry` with the file that declares it (aliases followed to their declaration). */
function exportedDeclarations(program: ts.Program, entry: string): Array<{ name: string; file: string }> {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  const module = source && checker.getSymbolAtLocation(source);
  if (!module) throw new Error(`${entry} is not a module`);
  return checker.getExportsOfModule(module).map((s) => {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    const declaration = target.declarations?.[0];
    return { name: s.name, file: path.resolve(declaration?.getSourceFile().fileName ?? '') };
  });
}

const internalOnes = (exports: Array<{ name: string; file: string }>) =>
  exports.filter((e) => e.file.startsWith(INTERNAL)).map((e) => `${e.name} (${path.relative(ROOT, e.file)})`);

describe('public API (constructs/index.ts)', () => {
  // One program for the index and a bad probe index (one that leaks an internal helper), outside the repository.
  const dir = mkdtempSync(path.join(tmpdir(), 'caracal-api-probe-'));
  const probe = path.join(dir, 'index.ts');
  let program: ts.Program;
  beforeAll(() => {
    const posix = (p: string) => p.replace(/\\/g, '/').replace(/\.ts$/, '');
    writeFileSync(
      probe,
      `export { CaracalStores } from '${posix(INDEX)}';\nexport { serviceSelector } from '${posix(path.join(INTERNAL, 'labels.ts'))}';\n`,
    );
    program = ts.createProgram([INDEX, probe], { strict: true, skipLibCheck: true, noEmit: true, types: [] });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('GIVEN the index WHEN every export is resolved to its declaration THEN none is declared in constructs/internal/', () => {
    const exports = exportedDeclarations(program, INDEX);
    expect(exports.length).toBeGreaterThan(50);
    expect(internalOnes(exports)).toEqual([]);
  });

  test('GIVEN an index that re-exports an internal helper WHEN its exports are resolved THEN the check names the helper', () => {
    expect(internalOnes(exportedDeclarations(program, probe))).toEqual(['serviceSelector (constructs/internal/labels.ts)']);
  });

  test('GIVEN the index WHEN loaded THEN its runtime exports are the constructs, factories, errors and named constants', () => {
    expect(api.CaracalStores.prototype).toBeInstanceOf(Object);
    expect(new api.ValidationError('x', [{ field: 'f', message: 'm' }])).toBeInstanceOf(Error);
    // Helpers of the constructs' own rendering (labels, pod security, unit parsers, redis.conf) are not the API.
    for (const name of [
      'standardLabels',
      'serviceSelector',
      'restrictedPodSecurityContext',
      'parseSize',
      'renderRedisConf',
      'describeValue',
    ])
      expect(Object.keys(api)).not.toContain(name);
  });
});
