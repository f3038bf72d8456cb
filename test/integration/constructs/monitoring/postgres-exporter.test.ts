// The real postgres_exporter (Debian's prometheus-postgres-exporter, the pinned image's version) run with exactly
// what StoresMonitoring synthesizes (its arguments, its DATA_SOURCE_* and the query file's bytes from the ConfigMap),
// logged in as the environment's monitoring login, scraped over HTTP on loopback: a healthy store first, then a
// backlog, dead rows, a missing partition and a saturated pool, which the metrics must show. Every query also proves
// caracal_monitoring's grants. One exporter process in this file (redis_exporter has its own).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { alertRules } from '../../../../constructs/internal/monitoring/alert-rules';
import { dashboard } from '../../../../constructs/internal/monitoring/dashboard';
import { RunningExporter, renderedExporters, startExporter, valueOf, withArg } from '../../../support/exporters';
import { FreshDatabase } from '../../../support/postgres';
import { readMigrations } from '../../../support/schema';
import { DoctorWorld, startDoctorWorld, superuser, zone } from '../../doctor/world';

const POOL_MAX = 4;
let world: DoctorWorld;
let db: FreshDatabase;
let pg: RunningExporter;
let password: string;

beforeAll(async () => {
  world = await startDoctorWorld();
  db = await world.database();
  const passwordFile = world.loginPasswordFile('monitoring');
  password = readFileSync(passwordFile, 'utf8');
  const rendered = renderedExporters({
    environment: world.environment,
    namespace: 'caracal-test',
    postgres: { host: db.host, port: db.port, database: db.name, sslMode: 'disable' },
    monitoringLogin: {
      login: 'monitoring',
      username: `caracal_${world.environment}_monitoring`,
      groupRole: 'caracal_monitoring',
      secretName: 'caracal-db-monitoring',
      usernameKey: 'username',
      passwordKey: 'password',
      version: '0',
    },
    redis: { host: '127.0.0.1', port: world.redis.server.port },
    redisExporterSecret: { user: 'exporter', secretName: 'caracal-redis-exporter', passwordKey: 'password', version: '0' },
    redisPodSelector: { 'app.kubernetes.io/name': 'redis' },
    pools: [{ applicationName: 'caracal-api', poolMax: POOL_MAX, maxPods: 3 }],
    schemaVersion: 4,
  });
  // The kubelet mounts the ConfigMap and the login's Secret; here they are files at this machine's paths.
  const queryFile = path.join(world.files, 'queries.yaml');
  writeFileSync(queryFile, rendered.queries);
  pg = await startExporter(
    'prometheus-postgres-exporter',
    (port) => withArg(withArg(rendered.postgresArgs, '--extend.query-path', queryFile), '--web.listen-address', `127.0.0.1:${port}`),
    { ...rendered.postgresEnv, DATA_SOURCE_PASS_FILE: passwordFile },
  );
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  await world?.destroy();
});

describe('postgres_exporter with what StoresMonitoring synthesizes', () => {
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
    // The newest file of migrations/: the database was migrated by the runner's `up`.
    expect(valueOf(samples, 'caracal_schema_version')).toBe(Number(readMigrations().at(-1)!.file.slice(0, 4)));
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

  test('GIVEN the rules and the dashboard WHEN their Postgres metric names are compared with a real scrape THEN every one is exported', async () => {
    const exported = new Set((await pg.scrape()).samples.map((x) => x.name));
    const options = { environment: 'prod', namespace: 'caracal-prod', schemaVersion: 4 };
    const exprs = [
      ...alertRules(options)[0].rules.map((r) => r.expr),
      ...(dashboard(options).panels as Array<{ targets?: Array<{ expr: string }> }>).flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ];
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:caracal|pg)_[a-z_]+)\b(?=\{|\s|\)|$)/g)].map((m) => m[1])));
    // The backup metric comes from the backup's own query (the extension point); replication lag needs a standby.
    const elsewhere = ['caracal_backup_last_success_timestamp_seconds', 'caracal_replication_replay_lag_seconds'];
    expect([...used].filter((m) => !exported.has(m) && !elsewhere.includes(m))).toEqual([]);
    expect(used.size).toBeGreaterThan(15);
  });

  test("GIVEN the exporter scraped WHEN its log and metrics are scanned THEN the monitoring login's password appears in neither", async () => {
    const texts = [(await pg.scrape()).text, pg.log()];
    expect(texts.filter((t) => t.includes(password))).toEqual([]);
    expect(texts[0].length).toBeGreaterThan(10_000);
  });
});
