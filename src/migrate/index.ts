// Public API of the migration runner core, shared by the CLI, the migration Job (same CLI, bundled) and tests.
export * from './errors';
export { parseDurationSetting, parseInteger } from './config';
export {
  APPLICATION_NAME,
  SSL_MODES,
  resolveConnection,
  connect,
  describeConnection,
  defaultPasswordFile,
  classifyConnectError,
} from './connection';
export type { SslMode, ConnectionFlags, ConnectionSettings, ConnectOptions } from './connection';
export { MIGRATION_FILENAME, classifyFilename, hasNoTransactionMarker } from '../../common/migration-files';
export type { FilenameVerdict } from '../../common/migration-files';
export { beginDiscoveryForUp, discoverMigrations, discoverMigrationsForUp, loadMigrationSql, normalizeSql, checksumOf } from './files';
export type { Discovery, MigrationFile } from './files';
export { MANIFEST_FILENAME, renderManifest, parseManifest } from '../../common/migration-manifest';
export { ADVISORY_LOCK_KEY, HISTORY_TABLE, acquireLock, releaseLock, lockHolder, ensureHistoryTable, readHistory } from './history';
export type { AppliedMigration, LockHolder } from './history';
export { planMigrations, assertPlanIsSafe } from './plan';
export type { MigrationPlan } from './plan';
export {
  migrateUp,
  migrationStatus,
  repairMigrations,
  openSession,
  aheadMessage,
  isConcurrentStatement,
  concurrentIndexName,
  formatNotice,
} from './runner';
export type {
  RunnerOptions,
  MigrateEvent,
  MigrateEventType,
  MigrateResult,
  AppliedResult,
  StatusResult,
  RepairOptions,
  RepairResult,
  RepairComparison,
  ServerNotice,
} from './runner';
export { splitStatements, transactionControlStatements, transactionControlCommand, psqlOnlySyntax, lineAndColumn } from './sql-scanner';
export type { SqlStatement, PsqlOnlySyntax } from './sql-scanner';
export { runnabilityProblems, assertRunnable } from './runnable';
export type { RunnabilityProblem } from './runnable';
export { MASK, maskConnectionStrings, maskServerText } from './redact';
