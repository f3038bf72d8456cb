// Pod and container security defaults that satisfy Kubernetes Pod Security "restricted", plus the
// project's hardening (read-only root filesystem, no service-account token). Reused by every pod.

/** Volume types the "restricted" profile allows. */
export const RESTRICTED_VOLUME_TYPES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
] as const;

export interface PodSecurityOptions {
  /** Numeric user id the containers run as (never 0). */
  readonly runAsUser: number;
  /** Numeric group id. @default runAsUser */
  readonly runAsGroup?: number;
  /** Group that owns mounted volumes. @default runAsGroup */
  readonly fsGroup?: number;
}

/** Pod-level securityContext (provider-kubernetes shape). */
export function restrictedPodSecurityContext(o: PodSecurityOptions) {
  const group = o.runAsGroup ?? o.runAsUser;
  return {
    runAsNonRoot: true,
    runAsUser: String(o.runAsUser),
    runAsGroup: String(group),
    fsGroup: String(o.fsGroup ?? group),
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level securityContext (provider-kubernetes shape). */
export function restrictedContainerSecurityContext(o: PodSecurityOptions & { readOnlyRootFilesystem?: boolean }) {
  return {
    runAsNonRoot: true,
    runAsUser: String(o.runAsUser),
    runAsGroup: String(o.runAsGroup ?? o.runAsUser),
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: o.readOnlyRootFilesystem ?? true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Pod-spec fields every Caracal pod sets: no API token, no service links injected as env. */
export const HARDENED_POD_SPEC = {
  automountServiceAccountToken: false,
  enableServiceLinks: false,
} as const;

/** The same defaults in Kubernetes API (Helm values) shape, for charts that render pods themselves. */
export function restrictedPodSecurityContextManifest(o: PodSecurityOptions) {
  const group = o.runAsGroup ?? o.runAsUser;
  return {
    runAsNonRoot: true,
    runAsUser: o.runAsUser,
    runAsGroup: group,
    fsGroup: o.fsGroup ?? group,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function restrictedContainerSecurityContextManifest(o: PodSecurityOptions & { readOnlyRootFilesystem?: boolean }) {
  return {
    runAsNonRoot: true,
    runAsUser: o.runAsUser,
    runAsGroup: o.runAsGroup ?? o.runAsUser,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: o.readOnlyRootFilesystem ?? true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
