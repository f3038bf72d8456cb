// Caracal's Redis streams as names: the key prefix, the streams, who produces, reads (one consumer group per
// reading service, named after it) and trims each, and the ACL users. Shared by the constructs (ACL file,
// connection ConfigMaps) and the runner's doctor. Imports nothing but ./names.
import { SERVICES, ServiceName } from './names';

/** Every Caracal key lives under this prefix (one Redis per environment, so no environment part). */
export const KEY_PREFIX = 'caracal:';

/** Caracal's streams (see docs/redis.md for what flows on each). */
export const STREAMS = {
  /** Product and authority state changes from the outbox dispatchers (event_outbox, caracal_outbox). */
  propagation: 'caracal:stream:propagation',
  /** Cache invalidation (policy, grants, bindings) for STS and Gateway caches. */
  invalidation: 'caracal:stream:invalidation',
  /** Session, grant, token and delegation revocations. */
  revocation: 'caracal:stream:revocation',
  /** Audit events emitted by every service, ingested into Postgres by the audit service. */
  audit: 'caracal:stream:audit',
} as const;
export type StreamName = keyof typeof STREAMS;

/** Who writes to a stream, which consumer groups read it, and who trims it. */
export interface StreamAccess {
  readonly producers: readonly ServiceName[];
  /** Each consumer reads through its own consumer group, named after the service. */
  readonly consumers: readonly ServiceName[];
  /**
   * Services allowed XTRIM. Notification streams are bounded by their producers (`XADD ... MAXLEN ~ n`,
   * the state itself is in Postgres); the audit stream must never be trimmed before ingestion, so only
   * the audit service trims it (`XTRIM MINID` below what its group has acknowledged).
   */
  readonly trimmers: readonly ServiceName[];
}

export const STREAM_ACCESS: Readonly<Record<StreamName, StreamAccess>> = {
  propagation: { producers: ['api', 'coordinator'], consumers: ['coordinator', 'sts', 'gateway'], trimmers: [] },
  invalidation: { producers: ['api', 'coordinator'], consumers: ['sts', 'gateway'], trimmers: [] },
  revocation: { producers: ['api', 'coordinator', 'sts'], consumers: ['sts', 'gateway'], trimmers: [] },
  audit: { producers: ['api', 'coordinator', 'sts', 'gateway'], consumers: ['audit'], trimmers: ['audit'] },
};

/** ACL users: one per service, a probe user, an operator user, the metrics exporter's and the backup's (replicate only). */
export const REDIS_USERS = [...SERVICES, 'healthcheck', 'ops', 'exporter', 'backup'] as const;
export type RedisUser = (typeof REDIS_USERS)[number];
