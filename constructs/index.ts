// Public API of the Caracal stores construct library: constructs, their props, factories, interfaces and error
// types. Nothing is declared in internal/ (test/unit/constructs/public-api.test.ts); the app in src/ imports the
// library only through this file (eslint.config.mjs).
export { ValidationError, Problems } from './errors';
export type { Problem } from './errors';
export { PostgresCapacity, deriveMaxConnections, WORKLOADS, STORAGE_TYPES, SHARED_BUFFERS_MAX_SHARE } from './postgres-capacity';
export type {
  Size,
  Duration,
  PostgresWorkload,
  StorageType,
  HugePages,
  PostgresSettings,
  ComposeCapacityEnv,
  PostgresResources,
  CapacityContext,
  ResolvedCapacity,
} from './postgres-capacity';
export { PostgresInstance, SSL_MODES, DEFAULT_POSTGRES_MAJOR, DEFAULT_POSTGRES_IMAGE, POSTGRES_UID } from './postgres-instance';
export { ExternalPostgres } from './external-postgres';
export { CloudNativePgCluster } from './cloudnative-pg-cluster';
export {
  CNPG_OPERATOR_VERSION,
  CNPG_CHART_VERSION,
  BARMAN_CLOUD_PLUGIN_CHART_VERSION,
  BARMAN_CLOUD_PLUGIN_VERSION,
  DEFAULT_CNPG_IMAGE,
} from './cnpg-versions';
export type { CloudNativePgClusterProps, CnpgBackupOptions, CnpgOperatorOptions } from './cloudnative-pg-cluster';
export type { IPostgresDatabase } from './postgres-database';
export type {
  PostgresInstanceProps,
  ExternalPostgresProps,
  PostgresEndpoint,
  SslMode,
  CaCertSecretRef,
  ResourceRequirements,
} from './postgres-instance';
export { DatabaseSecrets, DatabaseCredentials } from './database-secrets';
export type { DatabaseSecretsProps, LoginSecretRef, GeneratedCredentialsOptions, ExistingCredentialsOptions } from './database-secrets';
export { KeyMaterial, KeyMaterialSecret } from './key-material';
export type { KeyMaterialSecretProps, GeneratedKeyMaterialOptions, KeyRingOptions, KeyRing } from './key-material';
export { ServicePools } from './service-pools';
export type {
  ServicePoolsProps,
  ServicePoolSettings,
  OtherConnections,
  ResolvedPool,
  RoleSettings,
  ServiceHelmValues,
  HelmSecretVolume,
  HelmConfigMapVolume,
  HelmVolumeMount,
} from './service-pools';
export type {
  ServiceWorkload,
  ProviderVolume,
  ProviderVolumeMount,
  ProviderEnvFrom,
  ProviderResources,
  ProviderInitContainer,
  ProviderContainerSecurityContext,
  ProviderKeyToPath,
  ProviderStatefulSet,
  ProviderVolumeClaimTemplate,
} from './workload-values';
export { SERVICES, LOGINS, GROUP_ROLES, loginRoleName, groupRoleOf } from '../common/names';
export type { ServiceName, LoginName } from '../common/names';
export type { AlternatingRotation, RotationSlot } from '../common/rotation';
export { MigrationJob, MigrationRunnerImage, DEFAULT_NODE_IMAGE, SCHEMA_WAIT_CONTAINER } from './migration-job';
export type { SchemaWaitInitContainer } from './migration-job';
export type { MigrationJobProps } from './migration-job';
export { ExternalRedis } from './external-redis';
export type { IRedisStreams } from './redis-store';
export { RedisStreams, RedisPasswords, DEFAULT_REDIS_IMAGE, REDIS_UID, REDIS_PORT, probeCommand } from './redis-streams';
export type {
  RedisStreamsProps,
  ExternalRedisProps,
  RedisEndpoint,
  RedisUserSecretRef,
  RedisServiceHelmValues,
  GeneratedRedisPasswordsOptions,
  ExistingRedisPasswordsOptions,
} from './redis-streams';
export { STREAMS, STREAM_ACCESS, REDIS_USERS, KEY_PREFIX } from '../common/redis-streams';
export type { StreamName, StreamAccess, RedisUser } from '../common/redis-streams';
export { AuditPartitionMaintenance, MAINTENANCE_SCRIPT } from './audit-partition-maintenance';
export type { AuditPartitionMaintenanceProps } from './audit-partition-maintenance';
export { StoresMonitoring, EXPORTER_UID } from './stores-monitoring';
export type { StoresMonitoringProps, ScrapeSource, MonitoringThresholds } from './stores-monitoring';
export { PostgresBackup, RCLONE_IMAGE, BACKUP_MOUNT } from './postgres-backup';
export type { PostgresBackupProps, OffClusterCopyProps, BackupRedisSource } from './postgres-backup';
export { ReplayVolumes, REPLAY_VOLUME } from './replay-volumes';
export type {
  ReplayVolumesProps,
  ReplayVolumeSettings,
  ReplaySnapshotProps,
  ReplayStatefulSetValues,
  ReplayWorkloadValues,
} from './replay-volumes';
export { REPLAY_SERVICES } from '../common/names';
export type { ReplayService } from '../common/names';
export { CaracalStores, StoresPostgres, StoresRedis } from './caracal-stores';
export type {
  CaracalStoresProps,
  InClusterPostgresOptions,
  ExternalPostgresOptions,
  CloudNativePgOptions,
  StoresRedisOptions,
  ExternalRedisOptions,
  StoresAuditMaintenanceOptions,
  StoresBackupOptions,
  StoresReplayOptions,
  StoresServiceValues,
} from './caracal-stores';
export type { StoresMigrationJobOptions, StoresMonitoringOptions } from './caracal-stores';
