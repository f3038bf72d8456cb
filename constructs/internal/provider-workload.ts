// A service's workload values (the Kubernetes API shape that `helmValues()` hands a chart) in the cdktf kubernetes
// provider's shape, for DeploymentV1/StatefulSetV1: derived from those values, never assembled a second time, so the
// chart and the provider wiring cannot drift. Volumes go through pg-connection's one translation (octal modes).
import type { ResourceRequirements } from '../postgres-instance';
import type { SchemaWaitInitContainer } from '../migration-job';
import type {
  HelmConfigMapVolume,
  HelmSecretVolume,
  HelmVolumeMount,
  ProviderContainerSecurityContext,
  ProviderEnvFrom,
  ProviderInitContainer,
  ProviderResources,
  ProviderStatefulSet,
  ProviderVolumeMount,
  ServiceWorkload,
} from '../workload-values';
import type { ReplayStatefulSetValues } from '../replay-volumes';
import { providerVolume } from './pg-connection';
import * as rules from './rules';
import { SERVICES, type ServiceName } from '../../common/names';

/** The API-shape values of one service: ServicePools' (database only) or CaracalStores' (with Redis and the wait). */
export interface WorkloadApiValues {
  readonly replicaCount: number;
  readonly autoscaling: { readonly enabled: boolean; readonly minReplicas: number; readonly maxReplicas: number };
  readonly strategy: { readonly type: string; readonly rollingUpdate: { readonly maxSurge: number; readonly maxUnavailable: number } };
  readonly resources: ResourceRequirements;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly podAnnotations: Readonly<Record<string, string>>;
  readonly envFrom: ReadonlyArray<{ readonly configMapRef: { readonly name: string } }>;
  readonly volumes: ReadonlyArray<HelmSecretVolume | HelmConfigMapVolume>;
  readonly volumeMounts: readonly HelmVolumeMount[];
  readonly automountServiceAccountToken: boolean;
  readonly initContainers?: readonly SchemaWaitInitContainer[];
  readonly statefulSet?: ReplayStatefulSetValues;
}

/**
 * `service`'s values of `values` (a construct's `helmValues()`) in the provider's shape, or one ValidationError
 * naming the service and the ones there are (a JavaScript caller's typo, a service the stores do not serve).
 */
export function serviceWorkloadOf(
  where: string,
  values: Readonly<Partial<Record<ServiceName, WorkloadApiValues>>>,
  service: ServiceName,
): ServiceWorkload {
  const deployed = SERVICES.filter((s) => values[s] !== undefined);
  const v = values[rules.deployedService(where, deployed, service)];
  if (!v) throw new Error(`${where}: no values for ${service}`);
  return providerWorkload(v);
}

function providerWorkload(v: WorkloadApiValues): ServiceWorkload {
  return {
    labels: { ...v.podLabels },
    annotations: { ...v.podAnnotations },
    replicas: String(v.replicaCount),
    strategy: {
      type: v.strategy.type,
      rollingUpdate: {
        maxSurge: String(v.strategy.rollingUpdate.maxSurge),
        maxUnavailable: String(v.strategy.rollingUpdate.maxUnavailable),
      },
    },
    autoscaling: { ...v.autoscaling },
    podSpec: {
      automountServiceAccountToken: v.automountServiceAccountToken,
      volume: v.volumes.map(providerVolume),
      initContainer: (v.initContainers ?? []).map(providerInitContainer),
    },
    container: { envFrom: envFrom(v.envFrom), volumeMount: volumeMounts(v.volumeMounts), resources: providerResources(v.resources) },
    ...(v.statefulSet ? { statefulSet: providerStatefulSet(v.statefulSet) } : {}),
  };
}

function providerStatefulSet(s: ReplayStatefulSetValues): ProviderStatefulSet {
  return {
    name: s.name,
    volumeClaimTemplate: s.volumeClaimTemplates.map((t) => ({
      metadata: { name: t.metadata.name },
      spec: {
        accessModes: [...t.spec.accessModes],
        ...(t.spec.storageClassName !== undefined ? { storageClassName: t.spec.storageClassName } : {}),
        resources: { requests: { ...t.spec.resources.requests } },
      },
    })),
    persistentVolumeClaimRetentionPolicy: [{ ...s.persistentVolumeClaimRetentionPolicy }],
  };
}

function providerInitContainer(c: SchemaWaitInitContainer): ProviderInitContainer {
  const s = c.securityContext;
  const securityContext: ProviderContainerSecurityContext = {
    runAsNonRoot: s.runAsNonRoot,
    runAsUser: String(s.runAsUser),
    runAsGroup: String(s.runAsGroup),
    allowPrivilegeEscalation: s.allowPrivilegeEscalation,
    readOnlyRootFilesystem: s.readOnlyRootFilesystem,
    capabilities: { drop: [...s.capabilities.drop] },
    seccompProfile: { type: s.seccompProfile.type },
  };
  return {
    name: c.name,
    image: c.image,
    imagePullPolicy: c.imagePullPolicy,
    command: [...c.command],
    envFrom: envFrom(c.envFrom),
    volumeMount: volumeMounts(c.volumeMounts),
    resources: providerResources(c.resources),
    securityContext,
  };
}

function envFrom(list: ReadonlyArray<{ readonly configMapRef: { readonly name: string } }>): ProviderEnvFrom[] {
  return list.map((e) => ({ configMapRef: { name: e.configMapRef.name } }));
}

function volumeMounts(list: readonly HelmVolumeMount[]): ProviderVolumeMount[] {
  return list.map((m) => ({ name: m.name, mountPath: m.mountPath, readOnly: m.readOnly }));
}

/** Requests and limits without the unset entries (the provider's maps hold strings only). */
function providerResources(r: ResourceRequirements): ProviderResources {
  const map = (q?: { readonly cpu?: string; readonly memory?: string }) =>
    Object.fromEntries(Object.entries(q ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { ...(r.requests ? { requests: map(r.requests) } : {}), ...(r.limits ? { limits: map(r.limits) } : {}) };
}
