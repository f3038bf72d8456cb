// A database of its own for a reporting worker, built from the lower-level constructs: its logins, an in-cluster
// Postgres sized from its resources, and the pools of the services that use it; and the stack that deploys it.
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import {
  DatabaseCredentials,
  DatabaseSecrets,
  PostgresCapacity,
  PostgresInstance,
  ServicePools,
  ServicePoolSettings,
  ServiceName,
} from '@caracal/stores';

export interface ReportingDatabaseProps {
  readonly environment: string;
  readonly namespace: string;
}

export class ReportingDatabase extends Construct {
  readonly postgres: PostgresInstance;
  readonly pools: ServicePools;

  constructor(scope: Construct, id: string, props: ReportingDatabaseProps) {
    super(scope, id);
    const { environment, namespace } = props;
    const secrets = new DatabaseSecrets(this, 'secrets', {
      environment,
      namespace,
      credentials: DatabaseCredentials.generated({ length: 40 }),
      logicalIdPrefix: 'reporting',
    });
    const services: Partial<Record<ServiceName, ServicePoolSettings>> = { audit: { replicas: 1, poolMax: 5 } };
    this.postgres = new PostgresInstance(this, 'postgres', {
      environment,
      namespace,
      owner: secrets.login('owner'),
      capacity: PostgresCapacity.fromResources({ memory: '2Gi', cpus: 1 }),
      requiredConnections: ServicePools.requiredConnections(services),
      resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '2Gi' } },
      storageSize: '5Gi',
      logicalIdPrefix: 'reporting',
    });
    this.pools = new ServicePools(this, 'pools', {
      environment,
      namespace,
      endpoint: this.postgres.endpoint,
      maxConnections: this.postgres.maxConnections,
      reservedConnections: this.postgres.reservedConnections,
      secrets,
      services,
    });
  }
}

export class ReportingDatabaseStack extends TerraformStack {
  readonly database: ReportingDatabase;

  constructor(scope: Construct, id: string, props: ReportingDatabaseProps & { readonly kubeContext: string }) {
    super(scope, id);
    new KubernetesProvider(this, 'kubernetes', { configPath: '~/.kube/config', configContext: props.kubeContext });
    new RandomProvider(this, 'random', {});
    this.database = new ReportingDatabase(this, 'reporting', { environment: props.environment, namespace: props.namespace });
  }
}
