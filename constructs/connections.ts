// Connections, the way cdk8s-plus has `connections.allowFrom`: a store admits one more client workload by its pod
// selector, and both sides are created: the store's ingress rule (a policy of its own: NetworkPolicies add up, so
// the defaults stay) and, where the client is ours, the client's egress rule to the store and DNS. The defaults
// (the services, the migration Job, the maintenance CronJob, the exporters: internal/default-clients.ts) are
// always admitted.
import type { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import type { Construct } from 'constructs';
import { Problems } from './errors';
import * as rules from './internal/rules';
import { clientEgressPolicy, storeAdmissionPolicy } from './internal/network-policy';

/** A client workload to admit (allowFrom). */
export interface ClientWorkload {
  /** Labels of the client's pods (at least one; an empty selector would admit every pod). */
  readonly podSelector: Readonly<Record<string, string>>;
  /** Namespace of the client's pods. @default the store's namespace */
  readonly namespace?: string;
  /**
   * Create the client's egress rule too (egress to the store's port, and DNS). NetworkPolicies add up, but the first
   * one selecting a pod for egress isolates it: set false for a client whose egress no policy restricts (it already
   * reaches the store), or that someone else's policies govern. @default true
   */
  readonly egress?: boolean;
  /** The cluster DNS pods the client's egress rule admits. @default kube-system pods labelled k8s-app=kube-dns */
  readonly dns?: { readonly namespace: string; readonly podLabels: Readonly<Record<string, string>> };
}

/** What allowFrom() created. */
export interface ClientAdmission {
  /** The store's ingress rule for the client; undefined for an external store (its firewall is not ours). */
  readonly ingress?: NetworkPolicyV1;
  /** The client's egress rule; undefined when `egress` is false. */
  readonly egress?: NetworkPolicyV1;
}

/** The store side of an admission, as the store knows it. */
export interface AdmittingStore {
  /** Name of the store's objects (`postgres`, `redis`): policies are `<name>-allow-<id>` and `<id>-to-<name>`. */
  readonly name: string;
  /** The store's namespace; undefined for a database outside the cluster (the client must then name its own). */
  readonly namespace?: string;
  readonly labels: Record<string, string>;
  /** The store's pods; undefined when it runs outside the cluster. */
  readonly pods?: Record<string, string>;
  readonly port: number;
}

/** Validates the client (every problem at once) and creates both sides under `scope`. */
export function admitClient(scope: Construct, id: string, store: AdmittingStore, client: ClientWorkload): ClientAdmission {
  const problems = new Problems(`${scope.node.path} allowFrom(${JSON.stringify(id)})`);
  rules.dnsLabel(problems, 'id', id, 'client id', 40, 'it names the policies <store>-allow-<id> and <id>-to-<store>');
  rules.knownKeys(problems, '', client, ['podSelector', 'namespace', 'egress', 'dns'], 'ClientWorkload prop');
  rules.podSelector(problems, 'podSelector', client?.podSelector, "the client's pod labels");
  if (client?.namespace !== undefined) rules.namespace(problems, 'namespace', client.namespace);
  if (client?.egress !== undefined && typeof client.egress !== 'boolean')
    problems.add('egress', client.egress, 'is not a boolean: expected true (create the egress rule) or false');
  if (client?.dns !== undefined) {
    rules.namespace(problems, 'dns.namespace', client.dns.namespace);
    rules.podSelector(problems, 'dns.podLabels', client.dns.podLabels, 'the DNS pods\' labels, e.g. { "k8s-app": "kube-dns" }');
  }
  const clientNamespace = client?.namespace ?? store.namespace;
  if (clientNamespace === undefined)
    problems.add(
      'namespace',
      undefined,
      "is required: the store runs outside the cluster, so the client's namespace cannot default to its",
    );
  problems.throwIfAny();

  const other = client.namespace !== undefined && client.namespace !== store.namespace;
  const ingress = store.pods
    ? storeAdmissionPolicy(scope, `allow-${id}`, {
        name: `${store.name}-allow-${id}`,
        namespace: store.namespace ?? clientNamespace!,
        labels: store.labels,
        podSelector: store.pods,
        port: store.port,
        client: client.podSelector,
        clientNamespace: other ? client.namespace : undefined,
      })
    : undefined;
  const egress =
    (client.egress ?? true)
      ? clientEgressPolicy(scope, `egress-${id}`, {
          name: `${id}-to-${store.name}`,
          namespace: clientNamespace!,
          labels: store.labels,
          podSelector: { ...client.podSelector },
          database: { port: store.port, pods: store.pods },
          storeNamespace: other && store.pods ? store.namespace : undefined,
          dns: client.dns ?? { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } },
        })
      : undefined;
  return { ingress, egress };
}
