// Names shared by every construct: the services that use Postgres, the group and login roles, and
// the Kubernetes and SQL identifier rules that names must follow.

/** The five Caracal services that hold Postgres connections. */
export const SERVICES = ['api', 'coordinator', 'audit', 'sts', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Every login the stores create: the five services plus the owner (migrator). */
export const LOGINS = ['owner', ...SERVICES] as const;
export type LoginName = (typeof LOGINS)[number];

/** Group roles created by the baseline migration (`migrations/0001_baseline.up.sql`). */
export const GROUP_ROLES = {
  owner: 'caracal_owner',
  api: 'caracal_api',
  coordinator: 'caracal_coordinator',
  audit: 'caracal_audit',
  sts: 'caracal_sts',
  gateway: 'caracal_gateway',
  backup: 'caracal_backup',
} as const;

/** Environment names become part of SQL role names and Kubernetes names: lower-case, short, safe. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z][a-z0-9]{0,15}$/;
export const ENVIRONMENT_NAME_ACCEPTED = 'lower-case letters and digits, starting with a letter, at most 16 characters';

/** The per-environment login role of a service or of the owner: `caracal_<env>_<login>`. */
export function loginRoleName(environment: string, login: LoginName): string {
  return `caracal_${environment}_${login}`;
}

/** The group role a login is a member of. */
export function groupRoleOf(login: LoginName): string {
  return GROUP_ROLES[login];
}

/** DNS-1123 label (Service, namespace names): at most 63 characters. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS_LABEL_ACCEPTED = 'a DNS-1123 label: lower-case letters, digits and "-", at most 63 characters';

/** DNS-1123 subdomain (Secret, ConfigMap names): at most 253 characters. */
export const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const DNS_SUBDOMAIN_ACCEPTED = 'a DNS-1123 subdomain: lower-case letters, digits, "-" and ".", at most 253 characters';

/** A Kubernetes Secret/ConfigMap data key. */
export const CONFIG_KEY = /^[-._a-zA-Z0-9]{1,253}$/;
export const CONFIG_KEY_ACCEPTED = 'letters, digits, "-", "_" and "." (a Kubernetes data key)';

/** An unquoted SQL identifier (database names). */
export const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
export const SQL_IDENTIFIER_ACCEPTED = 'a lower-case SQL identifier: letters, digits and "_", at most 63 characters';

/** Turns a construct id into a Terraform-safe logical id fragment. */
export function logicalIdFragment(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
}
