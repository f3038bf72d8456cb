// How an environment's data becomes CaracalStores props, and back: where a construct's problem is in the data
// file (a construct checks `services.api.poolMax`, the file has `pools.api.poolMax`).
import { CaracalStoresProps, DatabaseCredentials, KeyMaterial, PostgresCapacity, RedisPasswords, StoresPostgres } from '../../constructs';
import { parseCpu } from '../../common/units';
import type { CapacitySpec, EnvironmentSpec } from '../environments/schema';

/** The CaracalStores props of an environment whose data has the schema's shape. */
export function storesPropsOf(env: EnvironmentSpec): CaracalStoresProps {
  const p = env.postgres;
  const limits = p.mode === 'external' ? undefined : p.resources.limits;
  const cpu = p.mode === 'external' ? 0 : (parseCpu(limits?.cpu ?? p.resources.requests?.cpu ?? '1') ?? 1000);
  const r = env.redis;
  const a = env.auditMaintenance;
  return {
    environment: env.name,
    namespace: env.namespace,
    credentials:
      env.credentials.kind === 'generated'
        ? DatabaseCredentials.generated({
            length: env.credentials.length,
            rotation: env.credentials.rotation,
            retireGrace: env.credentials.retireGrace,
          })
        : DatabaseCredentials.fromExistingSecret(env.credentials.secretPrefix, {
            rotation: env.credentials.rotation,
            retireGrace: env.credentials.retireGrace,
          }),
    keyMaterial:
      env.keyMaterial.kind === 'generated'
        ? KeyMaterial.generated({ hmacRing: env.keyMaterial.hmacRing, encryptionRing: env.keyMaterial.encryptionRing })
        : KeyMaterial.fromExistingSecret(env.keyMaterial.secretName, { version: env.keyMaterial.version }),
    postgres:
      p.mode === 'in-cluster'
        ? StoresPostgres.inCluster({
            major: p.major,
            dataVolumeMajor: p.dataVolumeMajor,
            image: p.image,
            storageSize: p.storageSize,
            storageClassName: p.storageClassName,
            resources: p.resources,
            capacity: capacityOf(p.capacity, limits?.memory, Math.max(1, Math.ceil(cpu / 1000))),
          })
        : p.mode === 'cloudnative-pg'
          ? StoresPostgres.cloudNativePg({
              instances: p.instances,
              imageName: p.imageName,
              storageSize: p.storageSize,
              walStorageSize: p.walStorageSize,
              storageClassName: p.storageClassName,
              resources: p.resources,
              capacity: capacityOf(p.capacity, limits?.memory, Math.max(1, Math.ceil(cpu / 1000))),
              parameters: p.parameters,
              podAntiAffinity: p.podAntiAffinity,
              backup: p.backup,
              operator: p.operator,
            })
          : StoresPostgres.external({
              host: p.host,
              port: p.port,
              database: p.database,
              sslMode: p.sslMode,
              caCertSecret: p.caCertSecret,
              instanceMemory: p.instanceMemory,
              capacity: capacityOf(p.capacity, p.instanceMemory, p.cpus ?? 2),
            }),
    pools: env.pools,
    otherConnections: env.otherConnections,
    redis: {
      image: r.image,
      resources: r.resources,
      maxmemory: r.maxmemory,
      storageSize: r.storageSize,
      storageClassName: r.storageClassName,
      passwords:
        r.passwords.kind === 'generated'
          ? RedisPasswords.generated({
              length: r.passwords.length,
              rotation: r.passwords.rotation,
              reloaderRotation: r.passwords.reloaderRotation,
            })
          : RedisPasswords.fromExistingSecrets(r.passwords.secretPrefix, {
              aclSecretName: r.passwords.aclSecretName,
              rotation: r.passwords.rotation,
            }),
    },
    auditMaintenance: {
      schedule: a.schedule,
      timeZone: a.timeZone,
      retentionDays: a.retentionDays,
      daysBack: a.daysBack,
      daysAhead: a.daysAhead,
      healthDaysAhead: a.healthDaysAhead,
    },
  };
}

function capacityOf(spec: CapacitySpec, memory: string | undefined, cpus: number): PostgresCapacity {
  if (spec.kind === 'explicit') return PostgresCapacity.of(spec.settings);
  if (spec.kind === 'compose') return PostgresCapacity.fromComposeEnv(spec.env);
  return PostgresCapacity.fromResources({
    memory: spec.memory ?? memory ?? '',
    cpus: spec.cpus ?? cpus,
    storage: spec.storage,
    workload: spec.workload,
    maxConnections: spec.maxConnections,
  });
}

/** Props every child of the stores takes, and where they come from in the data. */
const SHARED: Readonly<Record<string, string>> = { environment: 'name', namespace: 'namespace' };

/** Where a child's prop is in the data, by the child's id under CaracalStores. */
const DATA_PATH_OF: Readonly<Record<string, (field: string) => string>> = {
  secrets: (f) => (f === 'credentials.secretName' ? 'credentials.secretPrefix' : f),
  postgres: (f) => `postgres.${f}`,
  pools: (f) => (f === 'services' ? 'pools' : f.startsWith('services.') ? `pools.${f.slice('services.'.length)}` : f),
  redis: (f) => `redis.${f === 'passwords.prefix' ? 'passwords.secretPrefix' : f}`,
  'audit-partition-maintenance': (f) => `auditMaintenance.${f}`,
};

/**
 * The field of the data file a construct problem is about, or undefined when the data does not set it (the
 * migration Job's props, for one): `storesPath` is the CaracalStores construct's path, `where` the child's.
 */
export function dataFieldOf(storesPath: string, where: string, field: string): string | undefined {
  if (where === storesPath) return field; // the composite's own props are named as in the data (postgres, pools.<service>)
  if (!where.startsWith(`${storesPath}/`)) return undefined;
  const child = where.slice(storesPath.length + 1).split('/')[0];
  const toData = DATA_PATH_OF[child];
  if (toData === undefined) return undefined;
  return SHARED[field] ?? toData(field);
}
