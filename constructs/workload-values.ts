// What the stores hand a service's own Helm chart so its pods can reach a store: the pod labels the store's
// NetworkPolicy admits, env from ConfigMaps, and Secret volumes with their mounts (the Kubernetes API shape).

/** A Secret volume, mounted whole, in the API (Helm values) shape. */
export interface HelmSecretVolume {
  readonly name: string;
  readonly secret: { readonly secretName: string; readonly defaultMode: number };
}

/** A ConfigMap volume in the API (Helm values) shape. */
export interface HelmConfigMapVolume {
  readonly name: string;
  readonly configMap: { readonly name: string; readonly defaultMode: number };
}

export interface HelmVolumeMount {
  readonly name: string;
  readonly mountPath: string;
  /** Secrets and ConfigMaps are read-only; only a replay volume is written. */
  readonly readOnly: boolean;
}

export interface WorkloadConnectionValues {
  /** Labels the pods must carry: the store's NetworkPolicy admits exactly these. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Pod annotations: a checksum of the credentials' versions (never their values), so a rotation rolls the pods. */
  readonly podAnnotations: Readonly<Record<string, string>>;
  readonly envFrom: ReadonlyArray<{ readonly configMapRef: { readonly name: string } }>;
  readonly volumes: readonly HelmSecretVolume[];
  readonly volumeMounts: readonly HelmVolumeMount[];
}

// The same values in the cdktf kubernetes provider's shape, for a platform stack that deploys a service with
// DeploymentV1 or StatefulSetV1 instead of a chart: the provider's field names (`volume`, `volumeMount`,
// `initContainer`), file modes as its octal strings ('0440'), replicas and surge as its strings. Arrays are fresh
// and mutable, as the provider's config types want them.

/** One file of a Secret or ConfigMap volume. */
export interface ProviderKeyToPath {
  key: string;
  path: string;
}

/** A Secret or ConfigMap volume (`spec.template.spec.volume`); exactly one of the two is set. */
export interface ProviderVolume {
  name: string;
  secret?: { secretName: string; defaultMode: string; items?: ProviderKeyToPath[] };
  configMap?: { name: string; defaultMode: string; items?: ProviderKeyToPath[] };
}

export interface ProviderVolumeMount {
  name: string;
  mountPath: string;
  readOnly: boolean;
}

export interface ProviderEnvFrom {
  configMapRef: { name: string };
}

/** Requests and limits as the provider takes them (quantity strings by resource name). */
export interface ProviderResources {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** The restricted container securityContext, ids as the provider's strings. */
export interface ProviderContainerSecurityContext {
  runAsNonRoot: boolean;
  runAsUser: string;
  runAsGroup: string;
  allowPrivilegeEscalation: boolean;
  readOnlyRootFilesystem: boolean;
  capabilities: { drop: string[] };
  seccompProfile: { type: string };
}

/** An init container (`spec.template.spec.initContainer`). */
export interface ProviderInitContainer {
  name: string;
  image: string;
  imagePullPolicy: string;
  command: string[];
  envFrom: ProviderEnvFrom[];
  volumeMount: ProviderVolumeMount[];
  resources: ProviderResources;
  securityContext: ProviderContainerSecurityContext;
}

/** A StatefulSetV1's claim template, as the provider takes it. */
export interface ProviderVolumeClaimTemplate {
  metadata: { name: string };
  spec: { accessModes: string[]; storageClassName?: string; resources: { requests: Record<string, string> } };
}

/**
 * The StatefulSetV1 parts of a service with replay volumes (sts, gateway): name the StatefulSet `name` and set
 * `spec.volumeClaimTemplate` and `spec.persistentVolumeClaimRetentionPolicy` from these, so its pods adopt the
 * protected claims the stores created.
 */
export interface ProviderStatefulSet {
  name: string;
  volumeClaimTemplate: ProviderVolumeClaimTemplate[];
  persistentVolumeClaimRetentionPolicy: Array<{ whenDeleted: string; whenScaled: string }>;
}

/**
 * What one service's DeploymentV1 (or StatefulSetV1) needs from the stores, in the provider's shape: the same
 * values as `helmValues()`, from the same source. Spread `podSpec` into `spec.template.spec` and `container` into
 * the service's container; label the pods with `labels`.
 */
export interface ServiceWorkload {
  /** Pod template labels (and a stable `selector.matchLabels`): the stores' NetworkPolicies admit exactly these. */
  labels: Record<string, string>;
  /** Pod template annotations (`spec.template.metadata.annotations`): the credentials' checksum, so a rotation rolls the pods. */
  annotations: Record<string, string>;
  /** `spec.replicas` (a string in the provider). */
  replicas: string;
  /** A Deployment's `spec.strategy`: rolling, never below `replicas`, surging as the connection budget counts. */
  strategy: { type: string; rollingUpdate: { maxSurge: string; maxUnavailable: string } };
  /** For a HorizontalPodAutoscalerV2 (numbers, as that resource takes them); `enabled` when maxReplicas > replicas. */
  autoscaling: { enabled: boolean; minReplicas: number; maxReplicas: number };
  /** Spread into `spec.template.spec`: no service-account token, the Secret/ConfigMap volumes, the init containers. */
  podSpec: { automountServiceAccountToken: boolean; volume: ProviderVolume[]; initContainer: ProviderInitContainer[] };
  /** Spread into the service's container: env from the ConfigMaps, the Secret mounts, the pool's resources. */
  container: { envFrom: ProviderEnvFrom[]; volumeMount: ProviderVolumeMount[]; resources: ProviderResources };
  /** sts and gateway (CaracalStores): they run as a StatefulSetV1 with these parts (the replay volumes). */
  statefulSet?: ProviderStatefulSet;
}
