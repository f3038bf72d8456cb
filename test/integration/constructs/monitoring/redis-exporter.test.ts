// The real redis_exporter (Debian's prometheus-redis-exporter, the pinned image's version) run with exactly the
// arguments StoresMonitoring synthesizes, as the exporter ACL user of the rendered ACL file on a real redis-server,
// scraped over HTTP on loopback: memory, streams and groups, then unacknowledged entries and a missing group. One
// exporter process in this file (postgres_exporter has its own).
import { STREAMS, STREAM_ACCESS, type StreamName } from '../../../../common/redis-streams';
import { alertRules } from '../../../../constructs/internal/monitoring/alert-rules';
import { dashboard } from '../../../../constructs/internal/monitoring/dashboard';
import { RunningExporter, renderedExporters, startExporter, valueOf, withArg } from '../../../support/exporters';
import { CaracalRedis, startCaracalRedis } from '../../../support/redis';

let redis: CaracalRedis;
let exporter: RunningExporter;

beforeAll(async () => {
  redis = await startCaracalRedis({ maxmemoryBytes: 64 * 1024 * 1024 });
  const rendered = renderedExporters({
    environment: 'test',
    namespace: 'caracal-test',
    postgres: { host: 'postgres.invalid', port: 5432, database: 'caracal', sslMode: 'disable' },
    monitoringLogin: {
      login: 'monitoring',
      username: 'caracal_test_monitoring',
      groupRole: 'caracal_monitoring',
      secretName: 'caracal-db-monitoring',
      usernameKey: 'username',
      passwordKey: 'password',
      version: '0',
    },
    redis: { host: '127.0.0.1', port: redis.server.port },
    redisExporterSecret: { user: 'exporter', secretName: 'caracal-redis-exporter', passwordKey: 'password', version: '0' },
    redisPodSelector: { 'app.kubernetes.io/name': 'redis' },
    pools: [],
    schemaVersion: 4,
  });
  // The kubelet fills the env var from the exporter user's Secret (secretKeyRef).
  exporter = await startExporter(
    'prometheus-redis-exporter',
    (port) => withArg(rendered.redisArgs, '--web.listen-address', `127.0.0.1:${port}`),
    { [rendered.redisPasswordEnv]: redis.passwords.exporter },
  );
}, 60_000);

afterAll(async () => {
  await exporter?.stop();
  await redis?.destroy();
});

/** Every stream, empty, with one consumer group per reader (what the services create when they start). */
async function resetStreams(): Promise<void> {
  const ops = await redis.as('ops');
  for (const stream of Object.keys(STREAMS) as StreamName[]) {
    await ops.command('DEL', STREAMS[stream]);
    for (const group of STREAM_ACCESS[stream].consumers) await ops.command('XGROUP', 'CREATE', STREAMS[stream], group, '$', 'MKSTREAM');
  }
  await redis.closeAll();
}

describe('redis_exporter with what StoresMonitoring synthesizes', () => {
  test('GIVEN every stream with its readers groups WHEN scraped THEN memory, streams and groups are there and no command was refused', async () => {
    await resetStreams();
    const { samples } = await exporter.scrape();
    expect(valueOf(samples, 'redis_up')).toBe(1);
    expect(valueOf(samples, 'redis_memory_max_bytes')).toBe(64 * 1024 * 1024);
    expect(valueOf(samples, 'redis_stream_groups', { stream: STREAMS.propagation })).toBe(3);
    expect(valueOf(samples, 'redis_stream_groups', { stream: STREAMS.audit })).toBe(1);
    expect(exporter.log()).not.toMatch(/NOPERM[^\n]*(xinfo|select|info)/i);
  });

  test('GIVEN an entry read and never acknowledged and a group missing WHEN scraped THEN pending entries and the group count show them', async () => {
    await resetStreams();
    const ops = await redis.as('ops');
    await ops.command('XADD', STREAMS.revocation, '*', 'kind', 'session.revoked');
    await ops.command('XGROUP', 'DESTROY', STREAMS.invalidation, 'gateway');
    const sts = await redis.as('sts');
    await sts.command('XREADGROUP', 'GROUP', 'sts', 'sts-0', 'COUNT', 1, 'STREAMS', STREAMS.revocation, '>');
    await redis.closeAll();
    const { samples } = await exporter.scrape();
    expect(valueOf(samples, 'redis_stream_group_messages_pending', { stream: STREAMS.revocation, group: 'sts' })).toBe(1);
    expect(valueOf(samples, 'redis_stream_group_messages_pending', { stream: STREAMS.revocation, group: 'gateway' })).toBe(0);
    expect(valueOf(samples, 'redis_stream_groups', { stream: STREAMS.invalidation })).toBe(1);
    const delivered = valueOf(samples, 'redis_stream_group_last_delivered_id', { stream: STREAMS.revocation, group: 'gateway' })!;
    const generated = valueOf(samples, 'redis_stream_last_generated_id', { stream: STREAMS.revocation })!;
    expect(delivered).toBeLessThan(generated);
  });

  test('GIVEN the rules and the dashboard WHEN their Redis metric names are compared with a real scrape THEN every one is exported', async () => {
    await resetStreams();
    const ops = await redis.as('ops');
    await ops.command('XADD', STREAMS.audit, '*', 'event', 'x');
    const audit = await redis.as('audit');
    await audit.command('XREADGROUP', 'GROUP', 'audit', 'audit-0', 'COUNT', 1, 'STREAMS', STREAMS.audit, '>');
    await redis.closeAll();
    const exported = new Set((await exporter.scrape()).samples.map((x) => x.name));
    const options = { environment: 'prod', namespace: 'caracal-prod', schemaVersion: 4 };
    const exprs = [
      ...alertRules(options)[0].rules.map((r) => r.expr),
      ...(dashboard(options).panels as Array<{ targets?: Array<{ expr: string }> }>).flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ];
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(redis_[a-z_]+)\b(?=\{|\s|\)|$)/g)].map((m) => m[1])));
    expect([...used].filter((m) => !exported.has(m))).toEqual([]);
    expect(used.size).toBeGreaterThan(8);
  });

  test("GIVEN the exporter scraped WHEN its log and metrics are scanned THEN the exporter user's password appears in neither", async () => {
    const texts = [(await exporter.scrape()).text, exporter.log()];
    expect(texts.filter((t) => t.includes(redis.passwords.exporter))).toEqual([]);
    expect(texts[0].length).toBeGreaterThan(5_000);
  });
});
