// The migration filename grammar, checksum normalization, and directory discovery (ConfigMap mounts, refusals).
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checksumOf, classifyFilename, discoverMigrations, normalizeSql, UnsafeFilenameError } from '../../../src/migrate';
import { migrationsDir, tempDir } from '../../fixtures/migrate/cli';

describe('classifyFilename', () => {
  test.each([
    ['0001_baseline.up.sql', 1n, 'baseline'],
    ['0002_add_zone_labels.up.sql', 2n, 'add_zone_labels'],
    ['00002_b.up.sql', 2n, 'b'],
    ['20261123180000_timestamped.up.sql', 20261123180000n, 'timestamped'],
    ['0003_v2_table.up.sql', 3n, 'v2_table'],
  ])('GIVEN %s WHEN classified THEN it is version %s named %s', (name, version, label) => {
    expect(classifyFilename(name)).toEqual({ kind: 'migration', version, name: label });
  });

  test.each([['..data'], ['..2026_11_23_18_00_00.123456789'], ['.gitkeep'], ['.0001_hidden.up.sql']])(
    'GIVEN the dot entry %s WHEN classified THEN it is ignored',
    (name) => {
      expect(classifyFilename(name).kind).toBe('ignored');
    },
  );

  test.each([
    ['001_short.up.sql', /does not match NNNN_name\.up\.sql/],
    ['0001_baseline.sql', /does not match/],
    ['0001_baseline.up.SQL', /upper case/],
    ['0001_Baseline.up.sql', /upper case/],
    ['0001-baseline.up.sql', /does not match/],
    ['0001_base-line.up.sql', /does not match/],
    ['0001__double.up.sql', /does not match/],
    ['0001_trailing_.up.sql', /does not match/],
    ['0001_.up.sql', /does not match/],
    ['0001_baseline.down.sql', /forward-only/],
    ['0001_baseline.DOWN.sql', /forward-only/],
    ['0001_a b.up.sql', /whitespace/],
    ['0001_a\tb.up.sql', /whitespace/],
    ['0001_a$(id).up.sql', /shell metacharacter/],
    ['0001_a;b.up.sql', /shell metacharacter/],
    ['0001_a`b`.up.sql', /shell metacharacter/],
    ['0001_a|b.up.sql', /shell metacharacter/],
    ['0001_a&b.up.sql', /shell metacharacter/],
    ['0001_a*.up.sql', /shell metacharacter/],
    ["0001_a'b.up.sql", /shell metacharacter/],
    ['0001_a\\b.up.sql', /path separator/],
    ['0001_a/b.up.sql', /path separator/],
    ['0001_x..up.sql', /contains "\.\."/],
    ['0001_zoné.up.sql', /non-ASCII/],
    ['notes.txt', /does not match/],
    ['0001234567890123456789_too_long.up.sql', /does not match/],
  ])('GIVEN %s WHEN classified THEN it is refused', (name, reason) => {
    const verdict = classifyFilename(name);
    expect(verdict.kind).toBe('refused');
    expect(verdict.kind === 'refused' && verdict.reason).toMatch(reason);
  });
});

describe('checksum', () => {
  test('GIVEN CRLF versus LF and a leading BOM WHEN checksummed THEN they are ignored and every other byte counts', () => {
    const lf = 'CREATE TABLE t (id int);\nSELECT 1;\n';
    expect(checksumOf(normalizeSql(`\uFEFF${lf.replace(/\n/g, '\r\n')}`))).toBe(checksumOf(normalizeSql(lf)));
    expect(checksumOf(normalizeSql(`${lf} `))).not.toBe(checksumOf(normalizeSql(lf)));
    expect(checksumOf(normalizeSql(lf.replace('int', 'INT')))).not.toBe(checksumOf(normalizeSql(lf)));
    expect(checksumOf(normalizeSql(lf))).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('discoverMigrations', () => {
  test('GIVEN a ConfigMap mount WHEN discovered THEN files are sorted by numeric version, with the no-transaction marker', () => {
    // GIVEN kubelet's layout: files under ..<timestamp>, ..data -> it, one symlink per key
    const dir = tempDir();
    mkdirSync(path.join(dir, '..2026_01_01'));
    const files = {
      '0010_ten.up.sql': 'SELECT 10;',
      '0002_two.up.sql': 'SELECT 2;',
      '0003_index.up.sql': '-- caracal:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);',
    };
    for (const [n, c] of Object.entries(files)) {
      writeFileSync(path.join(dir, '..2026_01_01', n), c);
      symlinkSync(path.join('..data', n), path.join(dir, n));
    }
    symlinkSync('..2026_01_01', path.join(dir, '..data'));
    // WHEN discovered
    const found = discoverMigrations(dir);
    // THEN versions are in numeric order and the marker is seen
    expect(found.map((f) => [f.version, f.noTransaction])).toEqual([
      [2n, false],
      [3n, true],
      [10n, false],
    ]);
  });

  test('GIVEN several refused entries WHEN discovered THEN one error lists every one', () => {
    const dir = migrationsDir({ '0001_ok.up.sql': 'SELECT 1;', '0002_Bad.up.sql': 'SELECT 1;', '0003_x.down.sql': 'SELECT 1;' });
    expect(() => discoverMigrations(dir)).toThrow(UnsafeFilenameError);
    expect(() => discoverMigrations(dir)).toThrow(/0002_Bad\.up\.sql[\s\S]*also "0003_x\.down\.sql"/);
  });

  test('GIVEN a symlink whose target leaves the directory, even through ..data WHEN discovered THEN it is refused', () => {
    const dir = tempDir();
    const outside = tempDir();
    writeFileSync(path.join(outside, '0001_x.up.sql'), 'SELECT 1;');
    symlinkSync(outside, path.join(dir, '..data'));
    symlinkSync(path.join('..data', '0001_x.up.sql'), path.join(dir, '0001_x.up.sql'));
    expect(() => discoverMigrations(dir)).toThrow(/0001_x\.up\.sql.*symlink leading outside the directory/);
  });

  test('GIVEN a directory named like a migration WHEN discovered THEN it is refused', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, '0001_dir.up.sql'));
    expect(() => discoverMigrations(dir)).toThrow(/0001_dir\.up\.sql.*not a regular file/);
  });
});
