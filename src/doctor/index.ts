// `doctor` as a library: one verdict per row of the seed's troubleshooting table, each first check a sub-verdict,
// from a live Postgres (read-only: one READ ONLY transaction; the RLS probes in one that is rolled back, primary
// only) and a live Redis (read-only commands). Never prints, never exits: the CLI shows the report.
import type { Client } from 'pg';
import type { TroubleshootingRowId } from '../../common/troubleshooting';
import type { MatrixRow } from '../verify/access-matrix';
import { ACCESS_MATRIX } from '../verify/access-matrix.data';
import { checkMemberships, checkRlsForced, checkRlsProbes } from './access';
import { checkAuditIndexes, checkPartitions, checkQueryPlan, checkRetention } from './audit';
import { checkHistory, checkLock } from './bootstrap';
import { CHECK_IDS, CHECKS, type CheckId } from './catalog';
import { checkDns, checkLogin, checkTcp, checkTls } from './connectivity';
import { checkOutboxDead, checkOutboxPending, checkPool } from './outbox';
import { assembleReport, type DoctorReport, type Outcome, unchecked } from './report';
import { failedQuery, inSavepoint } from './sql';
import {
  auditDeliveryOutcome,
  collectRedis,
  deliveryOutcome,
  openAuditAlerts,
  outboxStreamsOutcome,
  outboxStreamState,
  pendingEntriesOutcome,
  redisAuthOutcome,
  redisMemoryOutcome,
  streamGroupsOutcome,
  type AuditAlertRow,
  type OutboxStreamState,
  type RedisSnapshot,
} from './streams';
import type { PoolLimit, PostgresTarget, RedisTarget } from './targets';
import { describeConnection } from '../migrate/connection';

export { CHECKS, CHECK_IDS } from './catalog';
export type { CheckId, CheckDefinition } from './catalog';
export { assembleReport, formatReport, worst } from './report';
export type { CheckVerdict, DoctorReport, Outcome, RowVerdict, Status } from './report';
export { DOCTOR_APPLICATION_NAME, readPoolLimits, resolvePostgresTarget, resolveRedisTarget, SettingsError } from './targets';
export type { PoolLimit, PostgresTarget, RedisTarget, RedisUserTarget } from './targets';

export interface DoctorOptions {
  readonly postgres: PostgresTarget;
  /** Redis and the ACL users to authenticate as; undefined: the Redis checks are reported as not checked. */
  readonly redis?: RedisTarget;
  /** The services' DB_POOL_MAX per application_name. */
  readonly pools?: readonly PoolLimit[];
  /** The migration files of the release (for pending/drifted versions). */
  readonly dir?: string;
  /** The access matrix (zone-scoped tables). @default the one built in from docs/access-matrix.md */
  readonly matrix?: readonly MatrixRow[];
  /** The environment whose logins must exist (caracal_<env>_<login>). */
  readonly environment?: string;
  /** An outbox row or stream entry pending (or undelivered) longer than this is a finding. @default 5 min */
  readonly staleAfterMs?: number;
  /** Audit partitions that must exist ahead of today. @default 7 */
  readonly partitionDaysAhead?: number;
  /** Audit retention in days. @default 400 */
  readonly retentionDays?: number;
  /** statement_timeout of every doctor query. @default 10 s */
  readonly statementTimeoutMs?: number;
  /** Only these troubleshooting rows (the others are neither run nor reported). @default every row */
  readonly rows?: readonly TroubleshootingRowId[];
}

export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;

const NOT_WANTED = unchecked('not asked for', 'include its row');

type Outcomes = Partial<Record<CheckId, Outcome>>;

/** What the stream checks need from Postgres (or why it could not be read). */
interface StreamData {
  readonly invalidation: OutboxStreamState | Outcome;
  readonly revocation: OutboxStreamState | Outcome;
  readonly alerts: AuditAlertRow[] | Outcome;
}

const REDIS_CHECKS: readonly CheckId[] = [
  'redis-auth',
  'redis-memory',
  'streams',
  'stream-groups',
  'pending-entries',
  'invalidation',
  'revocation',
  'audit-delivery',
];
const SQL_CHECKS: readonly CheckId[] = CHECK_IDS.filter((id) =>
  [
    'lock',
    'migrations',
    'outbox-pending',
    'outbox-dead',
    'pool',
    'partitions',
    'indexes',
    'retention',
    'query-plan',
    'memberships',
    'rls-forced',
    'rls-probe',
  ].includes(id),
);

/** Every check, rolled up per troubleshooting row. */
export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const staleAfterS = (o.staleAfterMs ?? DEFAULT_STALE_AFTER_MS) / 1000;
  const out: Outcomes = { secret: o.postgres.secret };
  const s = o.postgres.settings;
  const wanted = (id: CheckId) => !o.rows || o.rows.includes(CHECKS[id].row);
  const redisTimeout = s?.connectTimeoutMs ?? 10_000;
  const needsRedis = REDIS_CHECKS.some(wanted);
  const redis: Promise<RedisSnapshot | undefined> =
    o.redis && needsRedis ? collectRedis(o.redis, redisTimeout) : Promise.resolve(undefined);
  let serverRole: DoctorReport['serverRole'] = 'unknown';
  let pgData: StreamData | undefined;

  if (!s) {
    const why = unchecked('the connection settings do not resolve (see the TLS check)', 'fix the PG* settings first');
    for (const id of ['dns', 'tcp', 'auth', 'database'] as const) out[id] = why;
    out.tls = o.postgres.tlsConfig;
  } else {
    out.dns = await checkDns(s);
    out.tcp = out.dns.status === 'ok' ? await checkTcp(s) : unchecked('the host name does not resolve', 'fix the host name first');
    out.tls =
      o.postgres.tlsConfig ??
      (out.tcp.status === 'ok' ? await checkTls(s) : unchecked('no TCP connection to try TLS on', 'fix the TCP connect first'));
    const transportOk = out.tcp.status === 'ok' && out.tls.status === 'ok';
    const login = await checkLogin(s, o.postgres.hasPassword, transportOk);
    out.auth = login.auth;
    out.database = login.database;
    if (login.client) {
      try {
        const r = await sqlChecks(login.client, o, staleAfterS, wanted);
        Object.assign(out, r.outcomes);
        serverRole = r.serverRole;
        pgData = r.data;
      } finally {
        await login.client.end().catch(() => undefined);
      }
    }
  }
  const cause = (['secret', 'dns', 'tcp', 'tls', 'auth', 'database'] as const).map((id) => out[id]).find((x) => x && x.status !== 'ok');
  const noDb = unchecked(
    `no database connection${cause ? `: ${cause.summary}` : ''}`,
    'fix the first failing check of the Migration Job row (doctor --row migration-job-fails)',
  );
  for (const id of SQL_CHECKS) out[id] ??= noDb;

  const snapshot = await redis;
  out['redis-auth'] = redisAuthOutcome(snapshot);
  out['redis-memory'] = redisMemoryOutcome(snapshot);
  out.streams = outboxStreamsOutcome(snapshot, staleAfterS);
  out['stream-groups'] = streamGroupsOutcome(snapshot);
  out['pending-entries'] = pendingEntriesOutcome(snapshot, staleAfterS);
  out.invalidation = deliveryOutcome(snapshot, 'invalidation', pgData?.invalidation ?? noDb, staleAfterS);
  out.revocation = deliveryOutcome(snapshot, 'revocation', pgData?.revocation ?? noDb, staleAfterS);
  out['audit-delivery'] = auditDeliveryOutcome(snapshot, pgData?.alerts ?? noDb, staleAfterS);

  return assembleReport(
    out,
    { postgres: s ? describeConnection(s) : 'unresolved', serverRole, redis: o.redis ? `${o.redis.host}:${o.redis.port}` : null },
    o.rows,
  );
}

async function sqlChecks(client: Client, o: DoctorOptions, staleAfterS: number, wanted: (id: CheckId) => boolean) {
  const outcomes: Outcomes = {};
  const matrix = o.matrix ?? ACCESS_MATRIX;
  const recovery = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
  const replica = recovery.rows[0].r;
  const onReplica = (id: CheckId) =>
    unchecked(
      `skipped: the server is a read replica, and this check needs the primary`,
      `run doctor against the primary for ${CHECKS[id].title}`,
    );

  await client.query('BEGIN READ ONLY');
  let data: StreamData;
  try {
    await client.query(`SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', '500ms', true)`, [
      `${o.statementTimeoutMs ?? 10_000}ms`,
    ]);
    const checks: Array<[CheckId, () => Promise<Outcome>]> = [
      ['lock', () => (replica ? Promise.resolve(onReplica('lock')) : checkLock(client))],
      ['migrations', () => checkHistory(client, o.dir)],
      ['outbox-pending', () => checkOutboxPending(client, staleAfterS)],
      ['outbox-dead', () => checkOutboxDead(client)],
      ['pool', () => checkPool(client, o.pools ?? [])],
      ['partitions', () => checkPartitions(client, o.partitionDaysAhead ?? 7)],
      ['indexes', () => checkAuditIndexes(client)],
      ['retention', () => checkRetention(client, o.retentionDays ?? 400)],
      ['query-plan', () => checkQueryPlan(client)],
      ['memberships', () => checkMemberships(client, o.environment)],
      ['rls-forced', () => checkRlsForced(client, matrix)],
    ];
    for (const [id, run] of checks) if (wanted(id)) outcomes[id] = (await inSavepoint(client, run)) as Outcome;
    const streamsWanted = wanted('invalidation');
    data = {
      invalidation: streamsWanted ? await inSavepoint(client, () => outboxStreamState(client, 'invalidation')) : NOT_WANTED,
      revocation: streamsWanted ? await inSavepoint(client, () => outboxStreamState(client, 'revocation')) : NOT_WANTED,
      alerts: streamsWanted ? await inSavepoint(client, () => openAuditAlerts(client)) : NOT_WANTED,
    };
  } finally {
    await client.query('ROLLBACK');
  }
  if (!wanted('rls-probe')) {
    // not asked for
  } else if (replica) outcomes['rls-probe'] = onReplica('rls-probe');
  else {
    try {
      outcomes['rls-probe'] = await checkRlsProbes(client, matrix);
    } catch (e) {
      outcomes['rls-probe'] = failedQuery(e);
    }
  }
  return { outcomes, serverRole: replica ? ('replica' as const) : ('primary' as const), data };
}
