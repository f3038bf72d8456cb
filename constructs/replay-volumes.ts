// ReplayVolumes: the STS and Gateway replay volumes, the services' "temporary audit emission buffer" (seed, "Store
// State"): audit events a pod emitted that Redis has not acknowledged yet. Each pod has its own buffer, so each is a
// StatefulSet pod with its own claim: the claims `replay-caracal-<service>-<ordinal>` are created here, one per
// ordinal up to the autoscaling maximum, as protected PVCs (fixed Terraform addresses, prevent_destroy), and the
// service's StatefulSet names the same claim template (`replay`), so the StatefulSet controller adopts them instead
// of creating claims Terraform cannot protect. Optionally one VolumeSnapshot per claim (kubernetes_manifest).
import { Construct } from 'constructs';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { PersistentVolumeClaimV1 } from '@cdktf/provider-kubernetes/lib/persistent-volume-claim-v1';
import { Problems } from './errors';
import * as rules from './internal/rules';
import { protectedDataVolume } from './internal/data-volume';
import { standardLabels } from './internal/labels';
import { REPLAY_SERVICES, ReplayService } from '../common/names';
import type { HelmVolumeMount } from './workload-values';
import { checkStackIdentity } from './internal/stack-identity';

/** One service's replay volume. */
export interface ReplayVolumeSettings {
  /** Each pod's volume: a Kubernetes quantity of at least 1Gi (initial size; grow a claim in place). @default '5Gi' */
  readonly storageSize?: string;
  /** Storage class of the claims. @default the cluster's default class */
  readonly storageClassName?: string;
  /** Where the service's container mounts its volume (read-write). @default '/var/lib/caracal/replay' */
  readonly mountPath?: string;
}

/** A VolumeSnapshot of every replay claim, taken when Terraform creates it. */
export interface ReplaySnapshotProps {
  /** The VolumeSnapshotClass (its driver must be the claims' CSI driver). */
  readonly className: string;
  /**
   * Each snapshot is `<claim>-<suffix>`. A new suffix takes new snapshots (Terraform replaces the old ones; the
   * class's deletionPolicy decides whether their content stays). @default 'snapshot'
   */
  readonly suffix?: string;
}

export interface ReplayVolumesProps {
  /** Environment name (labels, the instance). */
  readonly environment: string;
  /** Namespace of the claims (the services' namespace). */
  readonly namespace: string;
  /**
   * Pods per service that get a claim (ordinals 0 .. n-1): the service's autoscaling maximum. A service left out
   * gets none.
   */
  readonly pods: Readonly<Partial<Record<ReplayService, number>>>;
  /** STS's replay volume. @default ReplayVolumeSettings defaults */
  readonly sts?: ReplayVolumeSettings;
  /** Gateway's replay volume. @default ReplayVolumeSettings defaults */
  readonly gateway?: ReplayVolumeSettings;
  /** Take a VolumeSnapshot of every claim. @default none */
  readonly snapshot?: ReplaySnapshotProps;
  /** Prefix of the claims' fixed Terraform logical ids (`<prefix>_replay_<service>_<ordinal>`). @default 'caracal' */
  readonly logicalIdPrefix?: string;
}

/** What a service's StatefulSet needs so its pods mount the claims created here (API shape, for a chart). */
export interface ReplayStatefulSetValues {
  /** The StatefulSet's name: the claims are `<template>-<name>-<ordinal>`. */
  readonly name: string;
  /** `spec.volumeClaimTemplates`: the one template, `replay`, as the claims are. */
  readonly volumeClaimTemplates: ReadonlyArray<{
    readonly metadata: { readonly name: string };
    readonly spec: {
      readonly accessModes: readonly string[];
      readonly storageClassName?: string;
      readonly resources: { readonly requests: { readonly storage: string } };
    };
  }>;
  /** Claims stay when the StatefulSet is deleted or scaled down (the Kubernetes default, stated). */
  readonly persistentVolumeClaimRetentionPolicy: { readonly whenDeleted: 'Retain'; readonly whenScaled: 'Retain' };
}

/** A service's replay values: the StatefulSet's part and the container's mount. */
export interface ReplayWorkloadValues {
  readonly statefulSet: ReplayStatefulSetValues;
  readonly volumeMount: HelmVolumeMount;
}

/** The claim template's name and the pod volume's: claims are `replay-<statefulset>-<ordinal>`. */
export const REPLAY_VOLUME = 'replay';
const DEFAULTS = { storageSize: '5Gi', mountPath: '/var/lib/caracal/replay', suffix: 'snapshot' };

const PROPS = rules.keysOf<ReplayVolumesProps>({
  environment: true,
  namespace: true,
  pods: true,
  sts: true,
  gateway: true,
  snapshot: true,
  logicalIdPrefix: true,
});
const SETTINGS = rules.keysOf<ReplayVolumeSettings>({ storageSize: true, storageClassName: true, mountPath: true });
const SNAPSHOT = rules.keysOf<ReplaySnapshotProps>({ className: true, suffix: true });

export class ReplayVolumes extends Construct {
  /** The protected claims per service, by ordinal. */
  readonly claims: Readonly<Partial<Record<ReplayService, readonly PersistentVolumeClaimV1[]>>>;
  /** The VolumeSnapshots (kubernetes_manifest), when `snapshot` is set. */
  readonly snapshots: readonly Manifest[];
  private readonly values: Partial<Record<ReplayService, ReplayWorkloadValues>> = {};
  private readonly claimNameList: Partial<Record<ReplayService, readonly string[]>> = {};

  constructor(scope: Construct, id: string, props: ReplayVolumesProps) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'ReplayVolumes prop');
    rules.environmentName(problems, 'environment', props.environment);
    rules.namespace(problems, 'namespace', props.namespace);
    rules.knownKeys(problems, 'pods', props.pods, REPLAY_SERVICES, 'service with a replay volume');
    const idPrefix = rules.logicalIdPrefix(problems, 'logicalIdPrefix', props.logicalIdPrefix);
    const services = REPLAY_SERVICES.filter((s) => props.pods?.[s] !== undefined);
    for (const s of services) rules.integer(problems, `pods.${s}`, props.pods[s], 1, 200);
    for (const s of REPLAY_SERVICES) {
      const v = props[s];
      if (v === undefined) continue;
      rules.knownKeys(problems, s, v, SETTINGS, 'replay volume setting');
      if (v.storageSize !== undefined) rules.volumeSize(problems, `${s}.storageSize`, v.storageSize, DEFAULTS.storageSize);
      rules.storageClassName(problems, `${s}.storageClassName`, v.storageClassName);
      if (v.mountPath !== undefined)
        rules.absolutePath(problems, `${s}.mountPath`, v.mountPath, DEFAULTS.mountPath, ' (a directory of its own, read-write)');
    }
    const snapshot = props.snapshot;
    if (snapshot !== undefined) {
      rules.knownKeys(problems, 'snapshot', snapshot, SNAPSHOT, 'snapshot setting');
      rules.dnsSubdomain(problems, 'snapshot.className', snapshot.className, 'VolumeSnapshotClass name');
      if (snapshot.suffix !== undefined)
        rules.dnsLabel(problems, 'snapshot.suffix', snapshot.suffix, 'snapshot name suffix', 40, 'snapshots are <claim>-<suffix>');
    }
    problems.throwIfAny();

    const instance = `caracal-${props.environment}`;
    const claims: Partial<Record<ReplayService, PersistentVolumeClaimV1[]>> = {};
    const snapshots: Manifest[] = [];
    for (const s of services) {
      const settings = { ...DEFAULTS, ...props[s] };
      const statefulSet = `caracal-${s}`;
      const labels = standardLabels({ name: statefulSet, instance, component: `${s}-replay` });
      const names = Array.from({ length: props.pods[s]! }, (_, ordinal) => `${REPLAY_VOLUME}-${statefulSet}-${ordinal}`);
      claims[s] = names.map((name, ordinal) =>
        protectedDataVolume(this, `${s}-${ordinal}`, {
          name,
          namespace: props.namespace,
          labels,
          storageClassName: settings.storageClassName,
          storageSize: settings.storageSize,
          logicalId: `${idPrefix}_replay_${s}_${ordinal}`,
        }),
      );
      if (snapshot) {
        names.forEach((name, ordinal) =>
          snapshots.push(
            new Manifest(this, `${s}-${ordinal}-snapshot`, {
              manifest: {
                apiVersion: 'snapshot.storage.k8s.io/v1',
                kind: 'VolumeSnapshot',
                metadata: { name: `${name}-${snapshot.suffix ?? DEFAULTS.suffix}`, namespace: props.namespace, labels },
                spec: { volumeSnapshotClassName: snapshot.className, source: { persistentVolumeClaimName: name } },
              },
              dependsOn: [claims[s]![ordinal]],
            }),
          ),
        );
      }
      this.claimNameList[s] = names;
      this.values[s] = {
        statefulSet: {
          name: statefulSet,
          volumeClaimTemplates: [
            {
              metadata: { name: REPLAY_VOLUME },
              spec: {
                accessModes: ['ReadWriteOnce'],
                ...(settings.storageClassName !== undefined ? { storageClassName: settings.storageClassName } : {}),
                resources: { requests: { storage: settings.storageSize } },
              },
            },
          ],
          persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        },
        volumeMount: { name: REPLAY_VOLUME, mountPath: settings.mountPath, readOnly: false },
      };
    }
    this.claims = claims;
    this.snapshots = snapshots;
  }

  /** The claim names of a service (`replay-caracal-<service>-<ordinal>`), none for a service without replay volumes. */
  claimNames(service: string): readonly string[] {
    return [...(this.claimNameList[service as ReplayService] ?? [])];
  }

  /** A service's StatefulSet part and mount, or undefined for a service without replay volumes. */
  workloadValues(service: string): ReplayWorkloadValues | undefined {
    return this.values[service as ReplayService];
  }
}
