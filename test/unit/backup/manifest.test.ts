// manifest.json as the restore reads it: every malformed field named at once, and the backup directory resolved
// from a backup or from the backup root's LATEST.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compareFiles, readManifest, resolveBackupDir } from '../../../src/backup';
import { ConfigError } from '../../../src/migrate/errors';

const good = {
  format: 'caracal-backup/1',
  name: '20261130T081500Z',
  startedAt: '2026-11-30T08:15:00Z',
  finishedAt: '2026-11-30T08:15:04Z',
  database: 'caracal',
  role: 'caracal_backup',
  catalog: { relations: {}, database: {} },
  data: { tables: {} },
  files: [{ path: 'globals.sql', bytes: 3, sha256: 'a'.repeat(64) }],
};

function backupWith(manifest: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'caracal-manifest-'));
  writeFileSync(path.join(dir, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  return dir;
}

describe('readManifest', () => {
  test('GIVEN a well-formed manifest WHEN read THEN it is returned', () => {
    expect(readManifest(backupWith(good)).name).toBe('20261130T081500Z');
  });

  test.each([
    ['not JSON', '{"format":', /is not valid JSON/],
    ['another format', { ...good, format: 'caracal-backup/2' }, /format is "caracal-backup\/2", expected "caracal-backup\/1"/],
    ['no name', { ...good, name: '' }, /name must be a non-empty string/],
    ['no catalog', { ...good, catalog: undefined }, /catalog must hold relations and database/],
    ['no data', { ...good, data: [] }, /data must hold tables/],
    ['no files', { ...good, files: [] }, /files must list the backup files/],
    ['a file outside the backup', { ...good, files: [{ path: '../etc/passwd', bytes: 1, sha256: 'a'.repeat(64) }] }, /files\[0\] must be/],
    ['a short checksum', { ...good, files: [{ path: 'db/toc.dat', bytes: 1, sha256: 'abc' }] }, /files\[0\] must be/],
  ])('GIVEN %s WHEN read THEN a ConfigError names it', (_what, manifest, message) => {
    expect(() => readManifest(backupWith(manifest))).toThrow(message);
    expect(() => readManifest(backupWith(manifest))).toThrow(ConfigError);
  });

  test('GIVEN several bad fields WHEN read THEN every problem is named at once', () => {
    expect(() => readManifest(backupWith({ ...good, name: 1, database: '', files: [] }))).toThrow(
      /3 problem\(s\): name must be a non-empty string; database must be a non-empty string; files must list the backup files/,
    );
  });

  test('GIVEN no manifest WHEN read THEN the error names the file and the expected layout', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'caracal-manifest-'));
    expect(() => readManifest(dir)).toThrow(/manifest\.json cannot be read \(ENOENT\)/);
  });
});

describe('compareFiles', () => {
  test('GIVEN a changed, a resized and a missing file WHEN compared THEN each is named', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'caracal-files-'));
    writeFileSync(path.join(dir, 'a'), 'abc');
    writeFileSync(path.join(dir, 'b'), 'abcd');
    const sha = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'; // sha256("abc")
    const problems = await compareFiles(dir, [
      { path: 'a', bytes: 3, sha256: sha.replace('b', 'c') },
      { path: 'b', bytes: 3, sha256: sha },
      { path: 'c', bytes: 3, sha256: sha },
    ]);
    expect(problems).toEqual([
      { path: 'a', problem: 'checksum differs from the manifest' },
      { path: 'b', problem: '4 bytes, the manifest says 3' },
      { path: 'c', problem: 'missing' },
    ]);
  });
});

describe('resolveBackupDir', () => {
  test('GIVEN the backup root WHEN resolved THEN LATEST names the backup', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'caracal-root-'));
    mkdirSync(path.join(root, '20261130T081500Z'));
    writeFileSync(path.join(root, '20261130T081500Z', 'manifest.json'), '{}');
    writeFileSync(path.join(root, 'LATEST'), '20261130T081500Z\n');
    expect(resolveBackupDir(root)).toBe(path.join(root, '20261130T081500Z'));
  });

  test.each([
    ['a missing directory', () => path.join(tmpdir(), 'caracal-none-here'), /no such directory/],
    [
      'an empty directory',
      () => mkdtempSync(path.join(tmpdir(), 'caracal-empty-')),
      /holds neither manifest\.json \(a backup\) nor LATEST/,
    ],
    [
      'a LATEST naming nothing',
      () => {
        const root = mkdtempSync(path.join(tmpdir(), 'caracal-root-'));
        writeFileSync(path.join(root, 'LATEST'), '../../etc');
        return root;
      },
      /LATEST names "..\/..\/etc", which is not a finished backup here/,
    ],
  ])('GIVEN %s WHEN resolved THEN a ConfigError says what was expected', (_what, dir, message) => {
    expect(() => resolveBackupDir(dir())).toThrow(message);
  });
});
