// Names the runner (src/migrate, src/validate, src/verify, src/provision, src/doctor) and the constructs share:
// the services, their logins, the group roles the baseline creates, environment names, and libpq's sslmodes.
// Imports nothing.

/** The five Caracal services that hold Postgres connections. */
export const SERVICES = ['api', 'coordinator', 'audit', 'sts', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The services with a replay volume, their "temporary audit emission buffer" (seed, "Store State"). */
export const REPLAY_SERVICES = ['sts', 'gateway'] as const satisfies readonly ServiceName[];
export type ReplayService = (typeof REPLAY_SERVICES)[number];

/**
 * Every login the stores create per environment: the owner (migrator), the five services, the audit partition
 * CronJob's, the metrics exporter's and the backup CronJob's.
 */
export const LOGINS = ['owner', ...SERVICES, 'maintenance', 'monitoring', 'backup'] as const;
export type LoginName = (typeof LOGINS)[number];
/** The logins the migration Job creates and keeps (every one but the owner, which the Job runs as). */
export const PROVISIONED_LOGINS = [...SERVICES, 'maintenance', 'monitoring', 'backup'] as const satisfies readonly LoginName[];

/** Group roles created by the migrations (0001_baseline, 0002_harden_privileges, 0004_monitoring_role), shared by every environment. */
export const GROUP_ROLES = {
  owner: 'caracal_owner',
  api: 'caracal_api',
  coordinator: 'caracal_coordinator',
  audit: 'caracal_audit',
  sts: 'caracal_sts',
  gateway: 'caracal_gateway',
  backup: 'caracal_backup',
  maintenance: 'caracal_maintenance',
  /** pg_monitor and the reads docs/access-matrix.md lists ("Monitoring"): postgres_exporter and doctor (0004). */
  monitoring: 'caracal_monitoring',
} as const;
export type GroupRoleKey = keyof typeof GROUP_ROLES;

/** Owns every object; the migrator becomes it (SET ROLE) to migrate. */
export const OWNER_ROLE = GROUP_ROLES.owner;
/** The only role with BYPASSRLS: what `pg_dump --role` uses. */
export const BACKUP_ROLE = GROUP_ROLES.backup;
/** May execute the audit partition functions and nothing else (0002_harden_privileges): the CronJob's role. */
export const MAINTENANCE_ROLE = GROUP_ROLES.maintenance;

/** The group role a login (or the backup role) is a member of: `caracal_<key>`. */
export function groupRoleOf(key: GroupRoleKey): string {
  return GROUP_ROLES[key];
}

/** The per-environment login role of a service, the owner or the maintenance CronJob: `caracal_<env>_<login>`. */
export function loginRoleName(environment: string, login: LoginName): string {
  return `caracal_${environment}_${login}`;
}

/** Environment names become part of SQL role names and Kubernetes names: lower-case, short, safe. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z][a-z0-9]{0,15}$/;
export const ENVIRONMENT_NAME_ACCEPTED = 'lower-case letters and digits, starting with a letter, at most 16 characters';

/** libpq's sslmode values, weakest first. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];
