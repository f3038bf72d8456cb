// The default-deny NetworkPolicy of a store (Postgres, Redis): no egress at all, ingress only from the given
// pod selectors (Caracal's services, the migration Job, the maintenance CronJob) on the store's one port.
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { Construct } from 'constructs';

export interface StoreNetworkPolicyProps {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** Labels of the store's own pods. */
  readonly podSelector: Record<string, string>;
  /** One label set per admitted client. */
  readonly allowedClients: readonly Readonly<Record<string, string>>[];
  readonly port: number;
}

export function storeNetworkPolicy(scope: Construct, id: string, props: StoreNetworkPolicyProps): NetworkPolicyV1 {
  return new NetworkPolicyV1(scope, id, {
    metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
    spec: {
      podSelector: { matchLabels: props.podSelector },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: props.allowedClients.map((sel) => ({ podSelector: { matchLabels: { ...sel } } })),
          ports: [{ port: String(props.port), protocol: 'TCP' }],
        },
      ],
    },
  });
}
