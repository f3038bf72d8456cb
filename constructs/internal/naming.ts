// The Kubernetes and SQL identifier rules that construct names must follow. The names the runner shares
// (services, logins, group roles, sslmodes) are in common/names.ts.

/** Environment names become part of SQL role names and Kubernetes names: lower-case, short, safe. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z][a-z0-9]{0,15}$/;
export const ENVIRONMENT_NAME_ACCEPTED = 'lower-case letters and digits, starting with a letter, at most 16 characters';

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
