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
  readonly readOnly: true;
}

export interface WorkloadConnectionValues {
  /** Labels the pods must carry: the store's NetworkPolicy admits exactly these. */
  readonly podLabels: Readonly<Record<string, string>>;
  readonly envFrom: ReadonlyArray<{ readonly configMapRef: { readonly name: string } }>;
  readonly volumes: readonly HelmSecretVolume[];
  readonly volumeMounts: readonly HelmVolumeMount[];
}
