// The data volume of a stateful store (Postgres, Redis): its own PVC resource with a fixed Terraform address
// and prevent_destroy, so the StatefulSet can be replaced (immutable fields) without touching the data.
import { PersistentVolumeClaimV1 } from '@cdktf/provider-kubernetes/lib/persistent-volume-claim-v1';
import { Construct } from 'constructs';

export interface ProtectedDataVolumeProps {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly storageClassName?: string;
  /** Initial size: later changes are ignored (grow the claim in place, docs/constructs.md). */
  readonly storageSize: string;
  /** Terraform logical ID that must never change (moving code must not move the data). */
  readonly logicalId: string;
}

export function protectedDataVolume(scope: Construct, id: string, props: ProtectedDataVolumeProps): PersistentVolumeClaimV1 {
  const volume = new PersistentVolumeClaimV1(scope, id, {
    metadata: { name: props.name, namespace: props.namespace, labels: props.labels, annotations: props.annotations },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: props.storageClassName,
      resources: { requests: { storage: props.storageSize } },
    },
    waitUntilBound: false,
    lifecycle: { preventDestroy: true, ignoreChanges: ['spec[0].resources[0].requests'] },
  });
  volume.overrideLogicalId(props.logicalId);
  return volume;
}
