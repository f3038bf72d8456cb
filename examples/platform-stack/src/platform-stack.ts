// A platform team's stack for its own environment ("qa"): providers, the namespace, the Caracal stores from plain
// props, and the api service deployed with the kubernetes provider's DeploymentV1, wired by the stores.
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { HelmProvider } from '@cdktf/provider-helm/lib/provider';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { CaracalStores, StoresPostgres } from '@caracal/stores';

export interface PlatformStackProps {
  /** The environment's name: part of role names, labels and selectors. */
  readonly environment: string;
  /** The namespace of the stores and the services. */
  readonly namespace: string;
  /** The kubeconfig context of the cluster. */
  readonly kubeContext: string;
  /** The api service's image. */
  readonly apiImage: string;
}

export class PlatformStack extends TerraformStack {
  readonly stores: CaracalStores;
  readonly api: DeploymentV1;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id);
    const cluster = { configPath: '~/.kube/config', configContext: props.kubeContext };
    new KubernetesProvider(this, 'kubernetes', cluster);
    new HelmProvider(this, 'helm', { kubernetes: cluster });
    new RandomProvider(this, 'random', {});
    new NamespaceV1(this, 'namespace', {
      metadata: { name: props.namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });

    this.stores = new CaracalStores(this, 'stores', {
      environment: props.environment,
      namespace: props.namespace,
      postgres: StoresPostgres.inCluster({
        storageSize: '20Gi',
        resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '2Gi' } },
      }),
      pools: { api: { replicas: 2, maxReplicas: 4, poolMax: 10 } },
    });

    // Everything the api's pods need from the stores, in the provider's shape: the labels both NetworkPolicies
    // admit, env from the database and Redis ConfigMaps, its own Secrets as files, the schema wait.
    const api = this.stores.serviceWorkload('api');
    this.api = new DeploymentV1(this, 'api', {
      metadata: { name: 'caracal-api', namespace: props.namespace, labels: api.labels },
      spec: {
        replicas: api.replicas,
        strategy: api.strategy,
        selector: { matchLabels: api.labels },
        template: {
          // The credentials' checksum: a rotated password or key rolls the pods.
          metadata: { labels: api.labels, annotations: api.annotations },
          spec: {
            ...api.podSpec,
            // The image's user; fsGroup lets it read the 0440 password files.
            securityContext: {
              runAsNonRoot: true,
              runAsUser: '10001',
              runAsGroup: '10001',
              fsGroup: '10001',
              seccompProfile: { type: 'RuntimeDefault' },
            },
            container: [
              {
                name: 'api',
                image: props.apiImage,
                ...api.container,
                port: [{ name: 'http', containerPort: 8080 }],
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
          },
        },
      },
      // Starts on a migrated schema, with Redis and both NetworkPolicies in place.
      dependsOn: this.stores.servicesDependOn,
    });
  }
}
