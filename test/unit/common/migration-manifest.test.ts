// The checksum manifest the Job's chart ships beside the migration files (common/migration-manifest.ts).
import { createHash } from 'node:crypto';
import { MANIFEST_FILENAME, parseManifest, renderManifest } from '../../../common/migration-manifest';
import { classifyFilename } from '../../../common/migration-files';

const sha = (t: string) => createHash('sha256').update(t, 'utf8').digest('hex');
const A = { filename: '0001_baseline.up.sql', checksum: sha('a') };
const B = { filename: '0002_zones.up.sql', checksum: sha('b') };

describe('renderManifest / parseManifest', () => {
  test('GIVEN entries in any order WHEN rendered THEN the text is byte-identical, sorted by file name, and parses back to the same checksums', () => {
    const text = renderManifest([B, A], sha);
    expect(text).toBe(renderManifest([A, B], sha));
    expect(text.split('\n').slice(2)).toEqual([`${A.checksum}  ${A.filename}`, `${B.checksum}  ${B.filename}`, '']);
    expect(parseManifest(text, sha)).toEqual({
      entries: new Map([
        [A.filename, A.checksum],
        [B.filename, B.checksum],
      ]),
    });
  });

  test('GIVEN no entries WHEN rendered and parsed THEN the manifest is valid and empty', () => {
    expect(parseManifest(renderManifest([], sha), sha)).toEqual({ entries: new Map() });
  });

  test('GIVEN a manifest whose checksum line was edited WHEN parsed THEN its own sum refuses it', () => {
    const text = renderManifest([A, B], sha).replace(B.checksum, sha('edited'));
    expect(parseManifest(text, sha)).toEqual({
      problems: [expect.stringMatching(/its sum [0-9a-f]{12}… does not match its entries: the manifest was edited or damaged after synth/)],
    });
  });

  test('GIVEN a manifest with a line removed WHEN parsed THEN its own sum refuses it', () => {
    const lines = renderManifest([A, B], sha).split('\n');
    expect(parseManifest([...lines.slice(0, 3), ...lines.slice(4)].join('\n'), sha)).toMatchObject({
      problems: [expect.stringMatching(/does not match its entries/)],
    });
  });

  test('GIVEN a damaged manifest WHEN parsed THEN every problem is listed: header, sum line, malformed line, refused name, duplicate', () => {
    const text = [
      'caracal-migrate checksums v2',
      'sum xyz',
      `${A.checksum}  ${A.filename}`,
      `${A.checksum} ${B.filename}`,
      `${B.checksum}  0002_Zones.up.sql`,
      `${A.checksum}  ${A.filename}`,
      '',
    ].join('\n');
    expect(parseManifest(text, sha)).toEqual({
      problems: [
        'line 1 is "caracal-migrate checksums v2", expected "caracal-migrate checksums v1"',
        'line 2 is "sum xyz", expected "sum <64 hex digits>"',
        `line 4 is ${JSON.stringify(`${A.checksum} ${B.filename}`)}, expected "<64 hex digits>  NNNN_name.up.sql"`,
        `line 5 is ${JSON.stringify(`${B.checksum}  0002_Zones.up.sql`)}, expected "<64 hex digits>  NNNN_name.up.sql"`,
        `line 6 lists ${A.filename} a second time`,
      ],
    });
  });

  test('GIVEN an empty file WHEN parsed THEN it is refused naming the header and sum line it expected', () => {
    expect(parseManifest('', sha)).toEqual({
      problems: ['line 1 is "", expected "caracal-migrate checksums v1"', 'line 2 is "", expected "sum <64 hex digits>"'],
    });
  });

  test('GIVEN the manifest file name THEN the runner skips it as a dot entry, never as a migration or a refused file', () => {
    expect(classifyFilename(MANIFEST_FILENAME).kind).toBe('ignored');
  });
});
