// The NetworkPolicies of the stores and their clients: a store (Postgres, Redis) is default-deny with ingress only from
// the given pod selectors on its one port, plus one ingress policy per client admitted later (policies add up); a job
// (migration, maintenance) has no ingress and egress to the database and DNS only; an admitted client of ours gets an
// egress rule to the store and DNS.
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

export interface StoreAdmissionPolicyProps extends Omit<StoreNetworkPolicyProps, 'allowedClients'> {
  /** The client's pods. */
  readonly client: Readonly<Record<string, string>>;
  /** The client's namespace, when it is not the store's. @default the store's */
  readonly clientNamespace?: string;
}

/** One more client a store admits, beside its defaults: an ingress-only policy (policies add up). */
export function storeAdmissionPolicy(scope: Construct, id: string, props: StoreAdmissionPolicyProps): NetworkPolicyV1 {
  const namespace = props.clientNamespace
    ? { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': props.clientNamespace } } }
    : {};
  return new NetworkPolicyV1(scope, id, {
    metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
    spec: {
      podSelector: { matchLabels: props.podSelector },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { ...props.client } }, ...namespace }],
          ports: [{ port: String(props.port), protocol: 'TCP' }],
        },
      ],
    },
  });
}

export interface EgressOnlyPolicyProps {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** Labels of the job's own pods. */
  readonly podSelector: Record<string, string>;
  /** The database, on its port only: its pods, or address blocks, or (neither) any address. */
  readonly database: { readonly port: number; readonly pods?: Record<string, string>; readonly cidrs?: readonly string[] };
  /** The cluster DNS pods; undefined: DNS (UDP and TCP 53) on any address. */
  readonly dns?: { readonly namespace: string; readonly podLabels: Readonly<Record<string, string>> };
  /** More peers the job dials (another store's pods, or any address on a port), after the database and DNS. */
  readonly alsoTo?: ReadonlyArray<{ readonly port: number; readonly pods?: Readonly<Record<string, string>> }>;
}

/** The NetworkPolicy of a job: no ingress, egress to the database and DNS (and the peers in `alsoTo`) only. */
export function egressOnlyPolicy(scope: Construct, id: string, props: EgressOnlyPolicyProps): NetworkPolicyV1 {
  return new NetworkPolicyV1(scope, id, {
    metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
    spec: {
      podSelector: { matchLabels: { ...props.podSelector } },
      // Nothing may reach the job; it may reach the database and DNS only.
      policyTypes: ['Ingress', 'Egress'],
      egress: egressRules(props),
    },
  });
}

export interface ClientEgressPolicyProps extends EgressOnlyPolicyProps {
  /** The store's namespace, when the client runs in another one. @default the client's own */
  readonly storeNamespace?: string;
}

/**
 * A client workload's egress rule to a store (and DNS), for a client whose pods are isolated for egress: it adds to
 * the client's other policies and leaves its ingress alone.
 */
export function clientEgressPolicy(scope: Construct, id: string, props: ClientEgressPolicyProps): NetworkPolicyV1 {
  return new NetworkPolicyV1(scope, id, {
    metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
    spec: {
      podSelector: { matchLabels: { ...props.podSelector } },
      policyTypes: ['Egress'],
      egress: egressRules(props),
    },
  });
}

/** Egress to the database (its pods, address blocks, or any address; always its port only) and to DNS. */
function egressRules(props: ClientEgressPolicyProps) {
  const db = props.database;
  const dbPorts = [{ port: String(db.port), protocol: 'TCP' }];
  const inNamespace = props.storeNamespace
    ? { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': props.storeNamespace } } }
    : {};
  const toDatabase = db.pods
    ? { to: [{ podSelector: { matchLabels: { ...db.pods } }, ...inNamespace }], ports: dbPorts }
    : db.cidrs
      ? { to: db.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: dbPorts }
      : { ports: dbPorts };
  const dnsPorts = [
    { port: '53', protocol: 'UDP' },
    { port: '53', protocol: 'TCP' },
  ];
  const toDns = props.dns
    ? {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': props.dns.namespace } },
            podSelector: { matchLabels: { ...props.dns.podLabels } },
          },
        ],
        ports: dnsPorts,
      }
    : { ports: dnsPorts };
  return [
    toDatabase,
    toDns,
    ...(props.alsoTo ?? []).map((peer) => ({
      ...(peer.pods ? { to: [{ podSelector: { matchLabels: { ...peer.pods } } }] } : {}),
      ports: [{ port: String(peer.port), protocol: 'TCP' }],
    })),
  ];
}
