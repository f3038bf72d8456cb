// The Kubernetes recommended labels every Caracal store resource carries, and the selectors derived
// from them (NetworkPolicy peers, pod selectors). The rules a selector must follow are in rules.ts.

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

/** The pod selector of one component of an environment's instance (a service, a job, the exporters). */
export function componentSelector(instance: string, component: string): Record<string, string> {
  return { 'app.kubernetes.io/instance': instance, 'app.kubernetes.io/component': component, 'app.kubernetes.io/part-of': PART_OF };
}

/** The pod selector of one Caracal service's pods (what their chart is expected to label them with). */
export function serviceSelector(instance: string, service: string): Record<string, string> {
  return componentSelector(instance, service);
}

/** The pod selector of the migration Job (MigrationJob labels its pods with it). */
export function migrationJobSelector(instance: string): Record<string, string> {
  return componentSelector(instance, 'migration');
}
