// The Kubernetes recommended labels every Caracal store resource carries, and the selectors derived
// from them (NetworkPolicy peers, pod selectors).
import type { Problems } from './validation';

export const PART_OF = 'caracal';
export const MANAGED_BY = 'cdktf';

export interface StandardLabelsProps {
  /** `app.kubernetes.io/name`, e.g. `postgres`, `caracal-api`. */
  readonly name: string;
  /** `app.kubernetes.io/instance`, e.g. `caracal-prod`. */
  readonly instance: string;
  /** `app.kubernetes.io/component`, e.g. `database`, `api`, `migration`. */
  readonly component: string;
}

/** The full label set for a resource's metadata. */
export function standardLabels(p: StandardLabelsProps): Record<string, string> {
  return {
    'app.kubernetes.io/name': p.name,
    'app.kubernetes.io/instance': p.instance,
    'app.kubernetes.io/component': p.component,
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': MANAGED_BY,
  };
}

/** The stable subset used in selectors (never `managed-by`, which may change with tooling). */
export function selectorLabels(p: StandardLabelsProps): Record<string, string> {
  return {
    'app.kubernetes.io/name': p.name,
    'app.kubernetes.io/instance': p.instance,
    'app.kubernetes.io/component': p.component,
  };
}

/** The pod selector of one Caracal service's pods (what their chart is expected to label them with). */
export function serviceSelector(instance: string, service: string): Record<string, string> {
  return { 'app.kubernetes.io/instance': instance, 'app.kubernetes.io/component': service, 'app.kubernetes.io/part-of': PART_OF };
}

/** The pod selector of the migration Job (MigrationJob labels its pods with it). */
export function migrationJobSelector(instance: string): Record<string, string> {
  return { 'app.kubernetes.io/instance': instance, 'app.kubernetes.io/component': 'migration', 'app.kubernetes.io/part-of': PART_OF };
}

/** Kubernetes label value rule: at most 63 characters, alphanumeric at both ends. */
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Kubernetes label key rule: an optional DNS-subdomain prefix and a name of at most 63 characters. */
export const LABEL_KEY = /^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Reports every entry of a label selector whose key or value Kubernetes would refuse, as `field.key`. */
export function checkSelectorEntries(problems: Problems, field: string, selector: Readonly<Record<string, string>> | undefined): void {
  for (const [k, v] of Object.entries(selector ?? {})) {
    if (!LABEL_KEY.test(k) || typeof v !== 'string' || !LABEL_VALUE.test(v)) {
      problems.add(`${field}.${k}`, v, 'is not a valid label selector entry: expected a label key and a value of at most 63 characters');
    }
  }
}

/** The clients a store's NetworkPolicy admits: at least one selector, none empty (that would admit every pod). */
export function checkAllowedClients(problems: Problems, allowed: readonly Readonly<Record<string, string>>[]): void {
  if (allowed.length === 0) problems.add('allowedClients', allowed, 'is empty: nothing could connect; expected at least one pod selector');
  allowed.forEach((sel, i) => {
    if (Object.keys(sel ?? {}).length === 0)
      problems.add(
        `allowedClients[${i}]`,
        sel,
        'is an empty selector, which admits every pod in the namespace: expected at least one label',
      );
    checkSelectorEntries(problems, `allowedClients[${i}]`, sel);
  });
}
