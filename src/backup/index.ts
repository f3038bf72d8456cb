// Backup and restore as a library: the backup CronJob's script, its manifest, the restore in the order that works
// for a non-superuser owner, and the restore check. Never prints; the CLI (restore, restore-check) does.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../migrate/errors';
import { BACKUP_LAYOUT, BACKUP_NAME } from '../../common/backup-script';

export { BACKUP_ENV, BACKUP_LAYOUT, BACKUP_NAME, BACKUP_SCRIPT, MANIFEST_FORMAT } from '../../common/backup-script';
export { compareFiles, readManifest, sha256File } from './manifest';
export type { CatalogStats, DataStats, Manifest, ManifestFile, TableStats } from './manifest';
export { ArchiveError, listArchive, restoreBackup, runPgTool } from './restore';
export type { RestoreOptions, RestoreOutcome } from './restore';
export { compareStats, readStats, restoreAndCheck, RESTORE_DOMAINS } from './restore-check';
export type { RestoreCheckOptions, RestoreCheckReport } from './restore-check';

/**
 * A backup directory from what the operator names: a backup (`<root>/<name>`, holding manifest.json) or the
 * backup root, whose LATEST file names the newest finished backup.
 */
export function resolveBackupDir(given: string): string {
  const dir = path.resolve(given);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new ConfigError(
      `--backup ${given}: no such directory`,
      'a backup directory (<root>/<YYYYMMDDTHHMMSSZ>, copied from the backup volume or the off-cluster copy) or the backup root',
    );
  if (existsSync(path.join(dir, BACKUP_LAYOUT.manifest))) return dir;
  const latest = path.join(dir, 'LATEST');
  if (existsSync(latest)) {
    const name = readFileSync(latest, 'utf8').trim();
    if (BACKUP_NAME.test(name) && existsSync(path.join(dir, name, BACKUP_LAYOUT.manifest))) return path.join(dir, name);
    throw new ConfigError(`--backup ${given}: LATEST names ${JSON.stringify(name)}, which is not a finished backup here`);
  }
  throw new ConfigError(
    `--backup ${given}: holds neither ${BACKUP_LAYOUT.manifest} (a backup) nor LATEST (the backup root)`,
    'a backup directory (<root>/<YYYYMMDDTHHMMSSZ>) or the backup root',
  );
}
