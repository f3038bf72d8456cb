// Every check `caracal-migrate doctor` runs: the seed's troubleshooting row it belongs to, what it asks, where
// the runbook answers it (a heading under that row in docs/operations.md), and whether it is safe on a replica.
import type { TroubleshootingRowId } from '../../common/troubleshooting';

export interface CheckDefinition {
  readonly row: TroubleshootingRowId;
  /** What the check asks, in a few words (the table's second column). */
  readonly title: string;
  /** Anchor of its heading in docs/operations.md (a `####` under the row's section). */
  readonly anchor: string;
  /** Read-only and meaningful on a hot standby; false: run against the primary only (skipped on a replica). */
  readonly replicaSafe: boolean;
}

export const CHECKS = {
  // Bootstrap: Migration Job fails
  secret: { row: 'migration-job-fails', title: 'password file', anchor: 'password-file', replicaSafe: true },
  dns: { row: 'migration-job-fails', title: 'host name', anchor: 'host-name-resolution', replicaSafe: true },
  tcp: { row: 'migration-job-fails', title: 'TCP connect', anchor: 'tcp-connect', replicaSafe: true },
  tls: { row: 'migration-job-fails', title: 'TLS (sslmode)', anchor: 'tls-and-sslmode', replicaSafe: true },
  auth: { row: 'migration-job-fails', title: 'authentication', anchor: 'authentication', replicaSafe: true },
  database: { row: 'migration-job-fails', title: 'database, CONNECT', anchor: 'database-and-connect', replicaSafe: true },
  lock: { row: 'migration-job-fails', title: 'advisory lock', anchor: 'migration-advisory-lock', replicaSafe: false },
  migrations: { row: 'migration-job-fails', title: 'pending, drifted', anchor: 'pending-or-drifted-versions', replicaSafe: true },
  // Operations: API outbox grows
  'redis-auth': { row: 'api-outbox-grows', title: 'Redis users', anchor: 'redis-reachability', replicaSafe: true },
  'redis-memory': { row: 'api-outbox-grows', title: 'Redis memory', anchor: 'redis-memory', replicaSafe: true },
  streams: { row: 'api-outbox-grows', title: 'outbox streams', anchor: 'streams-and-consumer-groups', replicaSafe: true },
  'outbox-pending': { row: 'api-outbox-grows', title: 'outbox backlog', anchor: 'outbox-backlog', replicaSafe: true },
  'outbox-dead': { row: 'api-outbox-grows', title: 'outbox dead rows', anchor: 'outbox-dead-rows', replicaSafe: true },
  pool: { row: 'api-outbox-grows', title: 'pool saturation', anchor: 'pool-saturation', replicaSafe: true },
  // Performance: Audit queries slow
  partitions: { row: 'audit-queries-slow', title: 'partition health', anchor: 'audit-partition-health', replicaSafe: true },
  indexes: { row: 'audit-queries-slow', title: 'indexes', anchor: 'invalid-indexes', replicaSafe: true },
  retention: { row: 'audit-queries-slow', title: 'retention', anchor: 'audit-retention', replicaSafe: true },
  'query-plan': { row: 'audit-queries-slow', title: 'one-day query plan', anchor: 'one-day-query-plan', replicaSafe: true },
  // Access control: RLS errors
  memberships: { row: 'rls-errors', title: 'login memberships', anchor: 'login-role-memberships', replicaSafe: true },
  'rls-forced': { row: 'rls-errors', title: 'RLS forced, policies', anchor: 'rls-forced-and-policies', replicaSafe: true },
  'rls-probe': { row: 'rls-errors', title: 'RLS probes', anchor: 'rls-probes', replicaSafe: false },
  // Next step: the Redis streams
  'stream-groups': { row: 'streams', title: 'stream groups', anchor: 'stream-groups', replicaSafe: true },
  'pending-entries': { row: 'streams', title: 'pending entries', anchor: 'pending-entries', replicaSafe: true },
  invalidation: { row: 'streams', title: 'invalidation', anchor: 'invalidation-stream', replicaSafe: true },
  revocation: { row: 'streams', title: 'revocation', anchor: 'revocation-stream', replicaSafe: true },
  'audit-delivery': { row: 'streams', title: 'audit delivery', anchor: 'audit-delivery', replicaSafe: true },
} as const satisfies Record<string, CheckDefinition>;

export type CheckId = keyof typeof CHECKS;
export const CHECK_IDS = Object.keys(CHECKS) as CheckId[];
