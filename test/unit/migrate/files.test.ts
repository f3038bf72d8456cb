// The migration filename grammar, checksum normalization, and directory discovery (ConfigMap mounts, refusals).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  beginDiscoveryForUp,
  checksumOf,
  ChecksumManifestError,
  classifyFilename,
  discoverMigrations,
  discoverMigrationsForUp,
  loadMigrationSql,
  MANIFEST_FILENAME,
  normalizeSql,
  renderManifest,
  UnsafeFilenameError,
} from '../../../src/migrate';
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
  test('GIVEN ASCII, non-ASCII and empty text WHEN checksummed THEN it is the SHA-256 hex of its UTF-8 bytes', () => {
    for (const text of ['SELECT 1;\n', "COMMENT ON TABLE t IS 'née 東京 🐆';", '']) {
      expect(checksumOf(text)).toBe(createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
    }
  });

  test('GIVEN CRLF versus LF and a leading BOM WHEN checksummed THEN they are ignored and every other byte counts', () => {
    const lf = 'CREATE TABLE t (id int);\nSELECT 1;\n';
    expect(checksumOf(normalizeSql(`\uFEFF${lf.replace(/\n/g, '\r\n')}`))).toBe(checksumOf(normalizeSql(lf)));
    expect(checksumOf(normalizeSql(`${lf} `))).not.toBe(checksumOf(normalizeSql(lf)));
    expect(checksumOf(normalizeSql(lf.replace('int', 'INT')))).not.toBe(checksumOf(normalizeSql(lf)));
    expect(checksumOf(normalizeSql(lf))).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('discoverMigrations', () => {
  // Plain UTF-8 with LF endings is read as text in one call; anything else goes through the strict decoder. Both
  // must give what the strict decoder and normalizeSql give, byte for byte: the history's and the manifest's
  // checksums were computed that way.
  const strict = (bytes: Buffer) => normalizeSql(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  test.each([
    ['plain ASCII with LF endings', Buffer.from('-- a table\nCREATE TABLE t (id int);\n')],
    ['non-ASCII text', Buffer.from("COMMENT ON TABLE t IS 'zone née 東京 🐆';\n")],
    ['CRLF endings', Buffer.from('CREATE TABLE t (id int);\r\nSELECT 1;\r\n')],
    ['lone CR endings', Buffer.from('CREATE TABLE t (id int);\rSELECT 1;\r')],
    ['a leading BOM', Buffer.from('\uFEFFCREATE TABLE t (id int);\n')],
    ['two leading BOMs', Buffer.from('\uFEFF\uFEFFCREATE TABLE t (id int);\n')],
    ['a BOM after the start', Buffer.from('SELECT 1;\n\uFEFFSELECT 2;\n')],
    ['a real U+FFFD character', Buffer.from("SELECT '\uFFFD';\n")],
  ])('GIVEN a file with %s WHEN discovered THEN its SQL and checksum are those of the strict decoder and normalizeSql', (_, bytes) => {
    const dir = migrationsDir({ '0001_x.up.sql': bytes });
    const [file] = discoverMigrations(dir);
    expect(file.sql).toBe(strict(bytes));
    expect(file.checksum).toBe(createHash('sha256').update(strict(bytes), 'utf8').digest('hex'));
  });

  test.each([
    ['a Latin-1 byte', Buffer.from([0x53, 0x45, 0x4c, 0x45, 0x43, 0x54, 0x20, 0x27, 0xe9, 0x27, 0x3b])],
    ['a truncated sequence at the end', Buffer.concat([Buffer.from('SELECT 1;\n'), Buffer.from([0xe6, 0x9d])])],
    ['an encoded surrogate', Buffer.concat([Buffer.from("SELECT '"), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from("';")])],
    ['an overlong encoding', Buffer.concat([Buffer.from("SELECT '"), Buffer.from([0xc0, 0xaf]), Buffer.from("';")])],
  ])('GIVEN a file with %s WHEN discovered THEN it is refused as not valid UTF-8', (_, bytes) => {
    const dir = migrationsDir({ '0001_x.up.sql': bytes });
    expect(() => discoverMigrations(dir)).toThrow(/0001_x\.up\.sql.*not valid UTF-8/);
  });

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

/** A migrations directory with these files and a checksum manifest of `listed` (default: all of them, as they are). */
function withManifest(files: Record<string, string>, listed: Record<string, string> = files): string {
  const dir = migrationsDir(files);
  const entries = Object.entries(listed).map(([filename, sql]) => ({ filename, checksum: checksumOf(normalizeSql(sql)) }));
  writeFileSync(path.join(dir, MANIFEST_FILENAME), renderManifest(entries, checksumOf));
  return dir;
}

describe('discoverMigrationsForUp (the checksum manifest)', () => {
  const FILES = { '0001_a.up.sql': 'SELECT 1;\r\n', '0002_b.up.sql': '\uFEFF-- caracal:no-transaction\nSELECT 2;\n' };

  test("GIVEN a manifest listing every file WHEN discovered THEN no file is read, and checksums are the manifest's, equal to those read without it", () => {
    const dir = withManifest(FILES);
    const d = discoverMigrationsForUp(dir);
    expect([d.read, d.manifest]).toEqual([0, path.join(dir, MANIFEST_FILENAME)]);
    expect(d.files.map((f) => [f.filename, f.checksum])).toEqual(discoverMigrations(dir).map((f) => [f.filename, f.checksum]));
  });

  test("GIVEN a manifest WHEN a listed file's SQL is used THEN it is read then, with the same content and marker as without the manifest", () => {
    const dir = withManifest(FILES);
    const [a, b] = discoverMigrationsForUp(dir).files;
    const [a0, b0] = discoverMigrations(dir);
    expect([a.sql, a.noTransaction, b.sql, b.noTransaction, b.statements.length]).toEqual([
      a0.sql,
      false,
      b0.sql,
      true,
      b0.statements.length,
    ]);
  });

  test('GIVEN a listed file edited after synth WHEN discovered THEN discovery passes (it is not read) AND WHEN its SQL is needed THEN ChecksumManifestError names it and both checksums', () => {
    const dir = withManifest(FILES);
    writeFileSync(path.join(dir, '0002_b.up.sql'), 'SELECT 22;\n');
    const d = discoverMigrationsForUp(dir);
    expect(d.files[1].checksum).toBe(checksumOf(normalizeSql(FILES['0002_b.up.sql'])));
    expect(() => d.files[1].sql).toThrow(ChecksumManifestError);
    expect(() => loadMigrationSql(d.files, d)).toThrow(
      /0002_b\.up\.sql has checksum [0-9a-f]{12}… but the manifest lists [0-9a-f]{12}…: the file was changed after synth/,
    );
  });

  test('GIVEN two listed files edited WHEN loaded THEN one error lists both', () => {
    const dir = withManifest(FILES);
    writeFileSync(path.join(dir, '0001_a.up.sql'), 'SELECT 11;\n');
    writeFileSync(path.join(dir, '0002_b.up.sql'), 'SELECT 22;\n');
    const d = discoverMigrationsForUp(dir);
    let error: ChecksumManifestError | undefined;
    try {
      loadMigrationSql(d.files, d);
    } catch (e) {
      error = e as ChecksumManifestError;
    }
    expect(error?.problems.map((p) => p.split(' ')[0])).toEqual(['0001_a.up.sql', '0002_b.up.sql']);
    expect(error?.exitCode).toBe(2);
  });

  test('GIVEN a file the manifest does not list WHEN discovered THEN that file alone is read', () => {
    const dir = withManifest({ ...FILES, '0003_c.up.sql': 'SELECT 3;\n' }, FILES);
    const d = discoverMigrationsForUp(dir);
    expect([d.read, d.files.map((f) => f.filename)]).toEqual([1, ['0001_a.up.sql', '0002_b.up.sql', '0003_c.up.sql']]);
  });

  test('GIVEN no manifest WHEN discovered THEN every file is read, as discoverMigrations does', () => {
    const d = discoverMigrationsForUp(migrationsDir(FILES));
    expect([d.read, d.manifest]).toEqual([2, undefined]);
  });

  test('GIVEN a manifest listing a file that is not in the directory WHEN discovered THEN it is refused (exit 2), naming the file', () => {
    const dir = withManifest({ '0001_a.up.sql': FILES['0001_a.up.sql'] }, FILES);
    expect(() => discoverMigrationsForUp(dir)).toThrow(ChecksumManifestError);
    expect(() => discoverMigrationsForUp(dir)).toThrow(/it lists 0002_b\.up\.sql, which is not in the directory/);
  });

  test('GIVEN a damaged manifest WHEN discovered THEN it is refused before anything else, with its problems', () => {
    const dir = withManifest(FILES);
    const manifest = path.join(dir, MANIFEST_FILENAME);
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(checksumOf(normalizeSql(FILES['0001_a.up.sql'])), checksumOf('x')));
    expect(() => discoverMigrationsForUp(dir)).toThrow(
      /checksum manifest .*\.caracal-migrate\.sum refused, nothing was applied:\n {2}- its sum .* does not match its entries/,
    );
  });

  test('GIVEN a manifest that is a directory WHEN discovered THEN it is refused as unreadable', () => {
    const dir = migrationsDir(FILES);
    mkdirSync(path.join(dir, MANIFEST_FILENAME));
    expect(() => discoverMigrationsForUp(dir)).toThrow(/it cannot be read \(EISDIR\)/);
  });

  test('GIVEN a manifest WHEN discoverMigrations (validate, status, verify) runs THEN it reads every file and sees an edit', () => {
    const dir = withManifest(FILES);
    writeFileSync(path.join(dir, '0001_a.up.sql'), 'SELECT 11;\n');
    expect(discoverMigrations(dir)[0].checksum).toBe(checksumOf('SELECT 11;\n'));
  });
});

describe('beginDiscoveryForUp (reading while up connects)', () => {
  const many = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`${String(i + 1).padStart(4, '0')}_t${i + 1}.up.sql`, `SELECT ${i + 1};\n`]));

  test.each([
    ['a refused name', { '0001_a.up.sql': 'SELECT 1;', '0002_B.up.sql': 'SELECT 2;', '0003_c.up.sql': '' }],
    ['two files with one version', { '0001_a.up.sql': 'SELECT 1;', '00001_b.up.sql': 'SELECT 2;' }],
  ])('GIVEN %s WHEN begun THEN it throws at once (before anything connects) what discoverMigrationsForUp throws', (_, files) => {
    const dir = migrationsDir(files);
    let expected = '';
    try {
      discoverMigrationsForUp(dir);
    } catch (e) {
      expected = (e as Error).message;
    }
    expect(expected).toMatch(/unsafe migration file/);
    expect(() => beginDiscoveryForUp(dir)).toThrow(expected);
  });

  test('GIVEN a manifest listing a file that is not there WHEN begun THEN it throws at once', () => {
    const dir = withManifest({ '0001_a.up.sql': 'SELECT 1;' }, { '0001_a.up.sql': 'SELECT 1;', '0002_b.up.sql': 'SELECT 2;' });
    expect(() => beginDiscoveryForUp(dir)).toThrow(/lists 0002_b\.up\.sql, which is not in the directory/);
  });

  test('GIVEN files refused only for their content WHEN begun THEN it returns, and the read rejects with what discoverMigrationsForUp throws', async () => {
    const dir = migrationsDir({ ...many(40), '0050_empty.up.sql': '', '0060_latin1.up.sql': Buffer.from([0x53, 0xe9, 0x3b]) });
    const read = beginDiscoveryForUp(dir);
    expect(() => discoverMigrationsForUp(dir)).toThrow(
      /0050_empty\.up\.sql.*is empty\n {2}also "0060_latin1\.up\.sql": is not valid UTF-8$/,
    );
    await expect(read()).rejects.toThrow(/0050_empty\.up\.sql.*is empty\n {2}also "0060_latin1\.up\.sql": is not valid UTF-8$/);
  });

  test('GIVEN 100 files WHEN read THEN the event loop runs between files (a connection being opened progresses) and the result is that of discoverMigrationsForUp', async () => {
    const dir = migrationsDir(many(100));
    const read = beginDiscoveryForUp(dir);
    let ranBeforeTheEnd = false;
    setImmediate(() => (ranBeforeTheEnd = true));
    const pending = read().then((d) => ({ d, ranBeforeTheEnd }));
    const { d, ranBeforeTheEnd: ran } = await pending;
    expect(ran).toBe(true);
    const sync = discoverMigrationsForUp(dir);
    expect(d.read).toBe(100);
    expect(d.files.map((f) => [f.version, f.filename, f.checksum, f.sql])).toEqual(
      sync.files.map((f) => [f.version, f.filename, f.checksum, f.sql]),
    );
  });
});
