// The environment stack as it was before it built its stores through CaracalStores (the constructs
// directly under the stack): the reference the address-stability test compares against.
import { Construct } from 'constructs';
import { TerraformStack } from 'cdktf';
import { PostgresCapacity } from '../../../constructs/postgres-capacity';
import { PostgresInstance } from '../../../constructs/postgres-instance';
import { DatabaseCredentials, DatabaseSecrets } from '../../../constructs/database-secrets';
import { KeyMaterial, KeyMaterialSecret } from '../../../constructs/key-material';
import { ServicePools } from '../../../constructs/service-pools';
import { MigrationJob } from '../../../constructs/migration-job';
import type { EnvironmentSpec } from '../../../src/environments/schema';

/** Only what the address test needs: in-cluster Postgres with `fromResources` capacity (dev), no providers or outputs. */
export class PreCompositeStack extends TerraformStack {
  constructor(scope: Construct, id: string, env: EnvironmentSpec) {
    super(scope, id);
    const p = env.postgres;
    if (p.mode !== 'in-cluster' || p.capacity.kind !== 'resources' || env.credentials.kind !== 'generated')
      throw new Error('PreCompositeStack: expected dev-like data');
    const secrets = new DatabaseSecrets(this, 'secrets', {
      environment: env.name,
      namespace: env.namespace,
      credentials: DatabaseCredentials.generated({ length: env.credentials.length, rotation: env.credentials.rotation }),
    });
    // Key material was under the secrets here; its logical ids are fixed, so where it lives does not move it.
    new KeyMaterialSecret(this, 'keys', { environment: env.name, namespace: env.namespace, keyMaterial: KeyMaterial.generated() });
    const postgres = new PostgresInstance(this, 'postgres', {
      environment: env.name,
      namespace: env.namespace,
      owner: secrets.login('owner'),
      major: p.major,
      dataVolumeMajor: p.dataVolumeMajor,
      storageSize: p.storageSize,
      resources: p.resources,
      requiredConnections: ServicePools.requiredConnections(env.pools, env.otherConnections),
      capacity: PostgresCapacity.fromResources({
        memory: p.resources.limits!.memory!,
        cpus: 1,
        storage: p.capacity.storage,
        workload: p.capacity.workload,
      }),
    });
    const pools = new ServicePools(this, 'pools', {
      environment: env.name,
      namespace: env.namespace,
      endpoint: postgres.endpoint,
      maxConnections: postgres.maxConnections,
      reservedConnections: postgres.reservedConnections,
      secrets,
      services: env.pools,
      otherConnections: env.otherConnections,
    });
    new MigrationJob(this, 'migration-job', { environment: env.name, namespace: env.namespace, database: postgres, secrets, pools });
  }
}
