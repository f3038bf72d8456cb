// The real exporters (Debian's prometheus-postgres-exporter and prometheus-redis-exporter) with exactly what the
// library renders (the query file, the arguments, the exporter ACL user), scraped over HTTP on loopback: a healthy
// store first, then a backlog, dead rows, a missing partition, a saturated pool, pending entries and a missing
// group, which the metrics must show. postgres_exporter logs in as the environment's monitoring login (the
// caracal_monitoring group role), so every query also proves its grant.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { STREAMS } from '../../../../common/redis-streams';
import { renderPostgresQueries } from '../../../../constructs/internal/monitoring/postgres-queries';
import {
  postgresExporterArgs,
  postgresExporterEnv,
  redisExporterArgs,
  REDIS_EXPORTER_PASSWORD_ENV,
} from '../../../../constructs/internal/monitoring/exporters';
import { alertRules } from '../../../../constructs/internal/monitoring/alert-rules';
import { dashboard } from '../../../../constructs/internal/monitoring/dashboard';
import { provisionLogins } from '../../../../src/provision';
import { RunningExporter, startExporter, valueOf } from '../../../support/exporters';
import { FreshDatabase, serverUrl, withClient } from '../../../support/postgres';
import { settingsFor } from '../../../fixtures/validate/migration-sets';
import { DoctorWorld, startDoctorWorld, superuser, zone } from '../../doctor/world';

const POOL_MAX = 4;
let world: DoctorWorld;
let db: FreshDatabase;
let pg: RunningExporter;
let redis: RunningExporter;
let pgPassword: string;
const monitoringLogin = () => `caracal_${world.environment}_monitoring`;

beforeAll(async () => {
  world = await startDoctorWorld();
  db = await world.database();
  const passwordFile = path.join(world.files, 'pg-monitoring');
  pgPassword = randomBytes(18).toString('base64url');
  writeFileSync(passwordFile, pgPassword);
  await provisionLogins([{ loginRole: monitoringLogin(), groupRole: 'caracal_monitoring', passwordFile }], settingsFor(db.url));
  const queryFile = path.join(world.files, 'queries.yaml');
  writeFileSync(queryFile, renderPostgresQueries({ pools: [{ applicationName: 'caracal-api', poolMax: POOL_MAX, maxPods: 3 }] }));
  pg = await startExporter(
    'prometheus-postgres-exporter',
    (port) => postgresExporterArgs({ queryFile, listenAddress: `127.0.0.1:${port}` }),
    postgresExporterEnv({
      host: db.host,
      port: db.port,
      database: db.name,
      sslMode: 'disable',
      user: monitoringLogin(),
      passwordFile,
      queryFile,
    }),
  );
  const uri = `redis://127.0.0.1:${world.redis.server.port}`;
  redis = await startExporter(
    'prometheus-redis-exporter',
    (port) => redisExporterArgs({ redisUri: uri, listenAddress: `127.0.0.1:${port}` }),
    { [REDIS_EXPORTER_PASSWORD_ENV]: world.redis.passwords.exporter },
  );
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  await redis?.stop();
  await world?.destroy();
  // The monitoring login is cluster-wide: dropped once the world's databases (its CONNECT) are gone.
  await withClient(serverUrl(), (c) => c.query(`DROP ROLE IF EXISTS "${monitoringLogin()}"`));
});

describe('postgres_exporter with the rendered query file', () => {
  test('GIVEN a healthy migrated database WHEN scraped as the monitoring login THEN every caracal metric is there and no query failed', async () => {
    const { samples } = await pg.scrape();
    expect(valueOf(samples, 'pg_up')).toBe(1);
    expect(valueOf(samples, 'caracal_outbox_pending', { outbox: 'event_outbox' })).toBe(0);
    expect(valueOf(samples, 'caracal_outbox_dead', { outbox: 'caracal_outbox', stream: 'revocation' })).toBe(0);
    expect(valueOf(samples, 'caracal_audit_partition_ok', { check: 'future_partitions' })).toBe(1);
    expect(valueOf(samples, 'caracal_audit_window_days_ahead')).toBeGreaterThan(7);
    expect(valueOf(samples, 'caracal_pool_max_per_pod', { application_name: 'caracal-api' })).toBe(POOL_MAX);
    expect(valueOf(samples, 'caracal_pool_max_connections', { application_name: 'caracal-api' })).toBe(POOL_MAX * 3);
    expect(valueOf(samples, 'caracal_rls_not_forced')).toBe(0);
    expect(valueOf(samples, 'caracal_rls_zone_tables')).toBeGreaterThan(23);
    expect(valueOf(samples, 'caracal_rls_bypass_roles')).toBe(0);
    expect(valueOf(samples, 'caracal_schema_version')).toBe(4);
    expect(valueOf(samples, 'caracal_connections_max')).toBe(300);
    expect(pg.log()).not.toMatch(/level=(error|warn)/);
  });

  test('GIVEN a backlog, dead rows, a missing partition and a saturated pool WHEN scraped THEN the metrics show each of them', async () => {
    const c = await superuser(db);
    const z = await zone(c);
    await c.query(
      `INSERT INTO public.event_outbox (zone_id, topic, aggregate_type, aggregate_id, payload, created_at) VALUES
         ($1, 'zone.updated', 'zone', 'a', '{}', now() - interval '10 minutes'), ($1, 'zone.updated', 'zone', 'b', '{}', now())`,
      [z],
    );
    await c.query(
      `INSERT INTO public.caracal_outbox (zone_id, stream, message_key, payload, status, attempts, last_error, dead_at)
       VALUES ($1, 'revocation', 'k', '{}', 'dead', 9, 'NOPERM', now())`,
      [z],
    );
    const tomorrow = (
      await c.query<{ p: string }>(`SELECT 'audit_events_p' || to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYYMMDD') AS p`)
    ).rows[0].p;
    await c.query(`DROP TABLE public.${tomorrow}`);
    await c.end();
    const sessions = await Promise.all(Array.from({ length: POOL_MAX }, () => superuser(db, 'caracal-api')));
    try {
      for (const s of sessions) await s.query('BEGIN; SELECT 1');
      const { samples } = await pg.scrape();
      expect(valueOf(samples, 'caracal_outbox_pending', { outbox: 'event_outbox' })).toBe(2);
      expect(valueOf(samples, 'caracal_outbox_oldest_pending_age_seconds', { outbox: 'event_outbox' })).toBeGreaterThanOrEqual(600);
      expect(valueOf(samples, 'caracal_outbox_dead', { outbox: 'caracal_outbox', stream: 'revocation' })).toBe(1);
      expect(valueOf(samples, 'caracal_audit_partition_ok', { check: 'future_partitions' })).toBe(0);
      expect(valueOf(samples, 'caracal_pool_busiest_pod_busy', { application_name: 'caracal-api' })).toBe(POOL_MAX);
      expect(valueOf(samples, 'caracal_pool_idle_in_transaction', { application_name: 'caracal-api' })).toBe(POOL_MAX);
      expect(valueOf(samples, 'caracal_pool_pods', { application_name: 'caracal-api' })).toBe(1);
      expect(pg.log()).not.toMatch(/level=(error|warn)/);
    } finally {
      await Promise.all(sessions.map((s) => s.end()));
    }
  });
});

describe('redis_exporter with the rendered arguments and the exporter ACL user', () => {
  test('GIVEN every stream with its readers groups WHEN scraped THEN memory, streams and groups are there and no command was refused', async () => {
    await world.resetStreams();
    const { samples } = await redis.scrape();
    expect(valueOf(samples, 'redis_up')).toBe(1);
    expect(valueOf(samples, 'redis_memory_max_bytes')).toBe(64 * 1024 * 1024);
    expect(valueOf(samples, 'redis_stream_groups', { stream: STREAMS.propagation })).toBe(3);
    expect(valueOf(samples, 'redis_stream_groups', { stream: STREAMS.audit })).toBe(1);
    expect(redis.log()).not.toMatch(/NOPERM[^\n]*(xinfo|select|info)/i);
  });

  test('GIVEN an entry read and never acknowledged and a group missing WHEN scraped THEN pending entries and the group count show them', async () => {
    await world.resetStreams();
    const ops = await world.redis.as('ops');
    await ops.command('XADD', STREAMS.revocation, '*', 'kind', 'session.revoked');
    await ops.command('XGROUP', 'DESTROY', STREAMS.invalidation, 'gateway');
    const sts = await world.redis.as('sts');
    await sts.command('XREADGROUP', 'GROUP', 'sts', 'sts-0', 'COUNT', 1, 'STREAMS', STREAMS.revocation, '>');
    await world.redis.closeAll();
    const { samples } = await redis.scrape();
    expect(valueOf(samples, 'redis_stream_group_messages_pending', { stream: STREAMS.revocation, group: 'sts' })).toBe(1);
    expect(valueOf(samples, 'redis_stream_group_messages_pending', { stream: STREAMS.revocation, group: 'gateway' })).toBe(0);
    expect(valueOf(samples, 'redis_stream_groups', { stream: STREAMS.invalidation })).toBe(1);
    const delivered = valueOf(samples, 'redis_stream_group_last_delivered_id', { stream: STREAMS.revocation, group: 'gateway' })!;
    const generated = valueOf(samples, 'redis_stream_last_generated_id', { stream: STREAMS.revocation })!;
    expect(delivered).toBeLessThan(generated);
  });
});

describe('what the alert rules and the dashboard read', () => {
  test('GIVEN the rules and the dashboard WHEN their metric names are compared with real scrapes of both exporters THEN every one is exported', async () => {
    await world.resetStreams();
    const ops = await world.redis.as('ops');
    await ops.command('XADD', STREAMS.audit, '*', 'event', 'x');
    const audit = await world.redis.as('audit');
    await audit.command('XREADGROUP', 'GROUP', 'audit', 'audit-0', 'COUNT', 1, 'STREAMS', STREAMS.audit, '>');
    await world.redis.closeAll();
    const exported = new Set([...(await pg.scrape()).samples, ...(await redis.scrape()).samples].map((x) => x.name));
    const exprs = [
      ...alertRules({ environment: 'prod', namespace: 'caracal-prod', schemaVersion: 4 })[0].rules.map((r) => r.expr),
      ...(
        dashboard({ environment: 'prod', namespace: 'caracal-prod', schemaVersion: 4 }).panels as Array<{
          targets?: Array<{ expr: string }>;
        }>
      ).flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ];
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:caracal|pg|redis)_[a-z_]+)\b(?=\{|\s|\)|$)/g)].map((m) => m[1])));
    // The backup metric comes from the backup's own query (an extension point) or kube-state-metrics.
    const elsewhere = ['caracal_backup_last_success_timestamp_seconds', 'caracal_replication_replay_lag_seconds'];
    expect([...used].filter((m) => !exported.has(m) && !elsewhere.includes(m))).toEqual([]);
  });
});

describe('the exporters and their passwords', () => {
  test('GIVEN both exporters scraped WHEN their logs and metrics are scanned THEN neither password appears', async () => {
    const texts = [(await pg.scrape()).text, (await redis.scrape()).text, pg.log(), redis.log()];
    const secrets = [pgPassword, world.redis.passwords.exporter];
    expect(texts.flatMap((t, i) => secrets.filter((p) => t.includes(p)).map(() => i))).toEqual([]);
    expect(texts[0].length + texts[1].length).toBeGreaterThan(10_000);
  });
});
