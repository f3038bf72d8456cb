// The workloads a store admits by default, besides the services: every built-in client of this library, one row
// each. A store (PostgresInstance, RedisStreams) always admits them; `allowedClients` and allowFrom() only add to
// them. A new built-in client (a backup CronJob, say) registers itself by adding its row here: its pods then carry
// `componentSelector(instance, component)` and every store it names admits them.
import { SERVICES, ServiceName } from '../../common/names';
import { componentSelector } from './labels';

export type StoreKind = 'postgres' | 'redis';

export interface BuiltInClient {
  /** `app.kubernetes.io/component` of the client's pods. */
  readonly component: string;
  /** The stores it connects to. */
  readonly stores: readonly StoreKind[];
}

/** In NetworkPolicy order, after the services. */
export const BUILT_IN_CLIENTS: readonly BuiltInClient[] = [
  { component: 'migration', stores: ['postgres'] }, // MigrationJob
  { component: 'audit-partition-maintenance', stores: ['postgres'] }, // AuditPartitionMaintenance
  { component: 'metrics', stores: ['postgres', 'redis'] }, // StoresMonitoring's exporters
];

/** What a store admits by default: the given services' pods, then every built-in client of that store. */
export function defaultClients(
  store: StoreKind,
  environment: string,
  services: readonly ServiceName[] = SERVICES,
): Record<string, string>[] {
  const instance = `caracal-${environment}`;
  return [
    ...services.map((s) => componentSelector(instance, s)),
    ...BUILT_IN_CLIENTS.filter((c) => c.stores.includes(store)).map((c) => componentSelector(instance, c.component)),
  ];
}
